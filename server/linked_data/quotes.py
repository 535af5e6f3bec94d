"""A source's words on a page: the quoted span, widened to the sentence (or caption line) that holds it.

No Flask here. Quotes come from `kgo:evidence` links (a node's, or a statement record's) and are read
against the text of the source they quote, through the same `select` the pages use.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .describe import OA, Select

_ABBREVIATIONS = {"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
                  "u.s", "u.n", "u.k", "mr", "mrs", "ms", "dr", "st", "no", "gen", "gov", "sen", "rep"}


@dataclass
class Quote:
    exact: str
    sentence: str
    start: int | None
    about: str = ""
    source: str = ""      # the source document quoted
    graph: str = ""       # the named graph that cites it
    by: str = ""          # the source, for people (publisher, day)

    @property
    def parts(self) -> tuple[str, str, str]:
        """The sentence split around the quoted span, to highlight it."""
        i = self.sentence.find(self.exact)
        if i < 0:
            return "", self.exact, ""
        return self.sentence[:i], self.exact, self.sentence[i + len(self.exact):]


def rows(results: dict[str, Any]) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in b.items()} for b in results["results"]["bindings"]]


def _sentence_ends(text: str) -> list[int]:
    """Offsets just past each sentence end: a newline, or . ? ! before a space and a capital or digit,
    unless the word before the period is an abbreviation ("Nov. 28", "U.S. on").
    """
    ends = []
    for i, ch in enumerate(text):
        if ch == "\n":
            ends.append(i)
        elif ch in ".?!" and text[i + 1:i + 2] == " ":
            word = text[:i].rsplit(None, 1)[-1].lower() if text[:i].strip() else ""
            if ch == "." and word.strip("(") in _ABBREVIATIONS:
                continue
            ends.append(i + 1)
    return ends


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence (or caption line) of `text` that holds the span [start, end)."""
    ends = _sentence_ends(text)
    left = max((e for e in ends if e <= start), default=0)
    right = min((e for e in ends if e >= end), default=len(text))
    return text[left:right].strip()


def source_texts(select: Select, sources: Iterable[str], kgo: str) -> dict[str, str]:
    """The full text of each source document, by its IRI."""
    wanted = sorted(set(sources))
    if not wanted:
        return {}
    values = " ".join(f"<{s}>" for s in wanted)
    return {r["source"]: r["text"] for r in rows(select(
        f"SELECT ?source ?text WHERE {{ VALUES ?source {{ {values} }} ?source <{kgo}fullText> ?text }}"))}


def quote_of(texts: dict[str, str], source: str, exact: str, start: str | None, end: str | None,
             graph: str = "") -> Quote:
    """A quote, widened to its sentence when the source's text holds it at its offsets."""
    text, sentence = texts.get(source), exact
    if text is not None and start is not None and end is not None:
        s, e = int(start), int(end)
        if text[s:e] == exact:
            sentence = sentence_around(text, s, e)
    return Quote(exact, sentence, int(start) if start is not None else None, source=source, graph=graph)


def evidence_query(iris: list[str], kgo: str) -> str:
    values = " ".join(f"<{i}>" for i in iris)
    return f"""PREFIX oa: <{OA}> PREFIX kgo: <{kgo}>
SELECT ?node ?g ?exact ?start ?end ?source WHERE {{
  VALUES ?node {{ {values} }}
  GRAPH ?g {{ ?node kgo:evidence ?ev }} ?ev oa:hasSource ?source ; oa:hasSelector ?q .
  ?q oa:exact ?exact .
  OPTIONAL {{ ?ev oa:hasSelector ?pos . ?pos oa:start ?start ; oa:end ?end }}
}} ORDER BY ?node ?start"""


def quotes_for(select: Select, iris: list[str], kgo: str) -> dict[str, list[Quote]]:
    """The places where the sources name these nodes, each widened to the sentence that holds it."""
    if not iris:
        return {}
    found = rows(select(evidence_query(iris, kgo)))
    texts = source_texts(select, (r["source"] for r in found), kgo)
    out: dict[str, list[Quote]] = {}
    seen: set[tuple[str, str, str, str]] = set()
    for r in found:
        key = (r["node"], r["g"], r["exact"], r.get("start", ""))
        if key not in seen:
            seen.add(key)
            out.setdefault(r["node"], []).append(
                quote_of(texts, r["source"], r["exact"], r.get("start"), r.get("end"), r["g"]))
    return out
