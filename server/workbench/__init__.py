"""The curator's workbench: suggestions for a new article, and the page that turns them into facts.

Suggestions are deterministic and explainable: a gazetteer of the names the graph already
has (`gazetteer`), date expressions resolved against the publication date (`date_expressions`),
and attributed statements and meetings found by patterns over sentences (`events`).
`suggestions.propose` runs the three; `trig` writes them as RDF; `scoring` measures them
against hand-made answer keys. Nothing here writes to the store: the page sends what the
curator accepts through the same endpoints as every other write.
"""
