"""SHACL validation: core constraints and SHACL-SPARQL on Oxigraph, reports, coverage, and
the validation service."""
