"""The query guard reads a query as the parser does: its decisions (a dataset clause, SERVICE
endpoints, LOAD, the query form) are held to a reference SPARQL parser on generated valid queries
full of keyword-like names, tags, strings and comments; each case of the failures that made it
a tokenizer is a regression test through `/sparql`; and the nesting limit holds to the level.
"""
from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import rdflib
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.errors import QueryRefused
from server.sparql.guard import check_query, check_update, plain_query, scan
from server.sparql.projection import star_order

from .conftest import ROOT

# -- generated queries ---------------------------------------------------------------------------
# Compact queries (one or two patterns a group, two levels deep), written by a plain generator from
# a seed Hypothesis draws: composite strategies (or a Random whose every choice is a Hypothesis
# draw) cost 15-20 ms an example here, too much for 10,000. A failure names its seed and its text;
# `Writer(random.Random(seed)).query()` writes it again. Every keyword the guard looks for appears
# where it is no keyword: in local names, language tags, strings, comments, variables, blank node
# labels and IRIs.
LOCAL = ["from", "FROM", "From", "service", "Service", "SERVICE", "load", "LOAD", "select", "ask", "construct",
         "describe", "named", "silent", "where", "a", "from.load", "service:from", "load-from", "_from", "1from",
         r"select\(x\)", r"from\.", "from%20x", "x.service", "FROM_NAMED"]
PREFIXES = {"": "http://e.example/", "ex": "http://e.example/x#", "select.x": "http://e.example/select/",
            "describe": "http://e.example/d/"}
TAGS = ["en", "from", "en-from", "service", "SELECT", "load-x1", "fr-BE"]
STRINGS = ['"FROM <g>"', "'SERVICE <http://x.example/> {'", '"""LOAD <x>\n SELECT * FROM <g>"""',
           "'''# FROM'''", r'"a\"FROM"', "'{ SERVICE ?s {'", '"ask"', '"from named <g> } }"']
COMMENTS = ["# FROM <http://g.example/>", "#SERVICE <http://x.example/> {", "# LOAD <x> ; SELECT", "#from named"]
VARS = ["?from", "$service", "?load", "?select", "?ASK", "?x", "?o"]
IRIS = ["<http://e.example/FROM>", "<http://e.example/service?x=load>", "<from>", "<http://e.example/#select>"]
ENDPOINTS = ["<http://s.example/sparql>", "<service>", ":service", "ex:from", r"ex:from\.load", "?svc", "describe:load"]
SEPARATORS = [" ", " ", "\n", "\t", "  "]
BASE = "http://localhost/sparql"   # the base a request to the endpoint gives (as in Flask's test client)


class Writer:
    """Writes one random valid query (or update) from the choices of `rng`."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.bound = 0

    def pick(self, options: list[str]) -> str:
        return options[self.rng.randrange(len(options))]

    def name(self) -> str:
        return f"{self.pick(list(PREFIXES))}:{self.pick(LOCAL)}"

    def term(self, position: str = "object") -> str:
        """A term for a triple's subject or object; in an expression or VALUES no blank nodes (and
        in VALUES no variables)."""
        kind = self.pick({"subject": ["name", "name", "var", "iri", "bnode", "anon"],
                          "object": ["name", "name", "var", "iri", "bnode", "anon", "string", "tagged", "typed",
                                     "number"],
                          "expression": ["name", "var", "iri", "string", "tagged", "typed", "number"],
                          "value": ["name", "iri", "string", "tagged", "typed", "number"]}[position])
        if kind == "name":
            return self.name()
        if kind == "var":
            return self.pick(VARS)
        if kind == "iri":
            return self.pick(IRIS)
        if kind == "bnode":
            return "_:" + self.pick(["from", "service", "b1", "load.x"])
        if kind == "string":
            return self.pick(STRINGS)
        if kind == "tagged":
            return self.pick(['"x"', "'y'"]) + "@" + self.pick(TAGS)
        if kind == "typed":
            return '"1"^^' + self.pick([self.name(), "<http://e.example/load>"])
        if kind == "number":
            return self.pick(["1", "-2", "2.5", "1e3", "0.5E-1"])
        return f"[ {self.name()} {self.pick(VARS)} ]"

    def verb(self, paths: bool = True) -> str:
        kind = self.pick(["name", "name", "a", "var", "seq", "inverse", "star"] if paths else ["name", "a", "var"])
        if kind == "a":
            return "a"
        if kind == "var":
            return self.pick(VARS)
        if kind == "seq":
            return f"{self.name()}/{self.name()}"
        if kind == "inverse":
            return f"^{self.name()}"
        return self.name() + ("*" if kind == "star" else "")

    def triple(self, paths: bool = True) -> str:
        return f"{self.term('subject')} {self.verb(paths)} {self.term()}"

    def expression(self, depth: int) -> str:
        kind = self.pick(["compare", "regex", "lang", "in", "exists"] if depth else ["compare", "regex", "in"])
        var = self.pick(VARS)
        if kind == "compare":
            return f"{var} = {self.term('expression')}"
        if kind == "regex":
            return f"regex(str({var}), {self.pick(STRINGS)})"
        if kind == "lang":
            return f'langMatches(lang({var}), "{self.pick(TAGS)}")'
        if kind == "in":
            return f"{var} IN ({self.name()}, {self.pick(STRINGS)})"
        return f"{self.pick(['EXISTS', 'NOT EXISTS'])} {self.group(depth - 1)}"

    def element(self, depth: int) -> str:
        kinds = ["triple", "triple", "filter", "bind", "values"]
        if depth:
            kinds += ["optional", "union", "minus", "graph", "service", "subquery"]
        kind = self.pick(kinds)
        if kind == "triple":
            return self.triple() + " ."
        if kind == "filter":
            return f"FILTER ({self.expression(depth)})"
        if kind == "bind":   # a variable nothing else uses: one already in scope may not be bound (§18.2.1)
            self.bound += 1
            return f"BIND ({self.term('expression')} AS ?from{self.bound})"
        if kind == "values":
            return f"VALUES {self.pick(VARS)} {{ {self.term('value')} UNDEF }}"
        if kind == "optional":
            return "OPTIONAL " + self.group(depth - 1)
        if kind == "union":
            return f"{self.group(depth - 1)} UNION {self.group(depth - 1)}"
        if kind == "minus":
            return "MINUS " + self.group(depth - 1)
        if kind == "graph":
            return f"GRAPH {self.pick([self.name(), '?g', '<from>'])} {self.group(depth - 1)}"
        if kind == "service":
            return (f"{self.pick(['SERVICE', 'service', 'Service'])} {self.pick(['', 'SILENT ', 'silent '])}"
                    f"{self.pick(ENDPOINTS)} {self.group(depth - 1)}")
        return f"{{ SELECT {self.pick(VARS)} WHERE {self.group(depth - 1)} }}"

    def group(self, depth: int) -> str:
        return "{ " + " ".join(self.element(depth) for _ in range(self.rng.randint(1, 2))) + " }"

    def prologue(self) -> list[str]:
        parts = ["BASE <http://b.example/base/>"] if self.rng.random() < 0.5 else []
        return parts + [f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items()]

    def query(self) -> str:
        parts = self.prologue()
        form = self.pick(["SELECT", "select", "ASK", "ask", "CONSTRUCT", "construct", "DESCRIBE", "Describe"])
        upper = form.upper()
        modifiers = ["", "ORDER BY ?from", "LIMIT 5", "ORDER BY DESC(?load) LIMIT 1 OFFSET 2"]
        if upper == "SELECT":
            projection = self.pick(["*", "?from ?load", "DISTINCT ?select", "(COUNT(*) AS ?n)", "?service"])
            parts.append(f"{form} {projection}")
            if projection == "?from ?load":
                modifiers.append("GROUP BY ?from ?load")
        elif upper == "CONSTRUCT":
            parts.append(f"{form} {{ {self.triple(paths=False)} }}")
        elif upper == "DESCRIBE":
            parts.append(f"{form} {self.pick(['*', '?from ' + self.name()])}")
        else:
            parts.append(form)
        for _ in range(self.rng.randint(0, 2)):
            keyword = self.pick(["FROM", "from", "FROM NAMED", "from named", "From Named"])
            parts.append(f"{keyword} {self.pick([self.name(), *IRIS])}")
        where = self.pick(["WHERE ", "where ", ""]) if upper != "ASK" else ""
        parts.append(where + self.group(2))
        if upper != "ASK":
            parts.append(self.pick(modifiers))
        return self.spaced(parts)

    def update(self) -> str:
        operations = []
        for _ in range(self.rng.randint(1, 2)):
            kind = self.pick(["load", "insert data", "delete where", "modify"])
            if kind == "load":
                into = self.pick(["", f" INTO GRAPH {self.name()}"])
                operations.append(f"{self.pick(['LOAD', 'load', 'LOAD SILENT'])} {self.pick(IRIS)}{into}")
            elif kind == "insert data":
                operations.append(f"INSERT DATA {{ {self.name()} {self.name()} {self.pick(STRINGS)} }}")
            elif kind == "delete where":
                operations.append(f"DELETE WHERE {{ ?s {self.name()} ?load }}")
            else:
                operations.append(f"DELETE {{ ?s ?p ?o }} INSERT {{ ?s {self.name()} ?o }} WHERE {self.group(1)}")
        return self.spaced(self.prologue() + [" ; ".join(operations)])

    def spaced(self, parts: list[str]) -> str:
        """The parts joined by spaces, newlines and comments (a comment always ends its line)."""
        text = parts[0]
        for part in parts[1:]:
            gap = self.pick(SEPARATORS)
            if self.rng.random() < 0.25:
                gap = " " + self.pick(COMMENTS) + "\n"
            text += gap + part
        return text


# -- the reference: sparqljs, a complete SPARQL 1.1 parser ---------------------------------------

class ReferenceParser:
    """`tests/sparql_reference.js` in one Node process: one text in, what it holds out.

    Why not rdflib's parser: it costs 5-50 ms a query here (10,000 queries would take minutes),
    and it misreads valid queries the generator writes (a subquery followed by MINUS, a negative
    decimal in VALUES)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(["node", str(ROOT / "tests" / "sparql_reference.js")], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")

    def read(self, text: str, *, is_update: bool = False) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"text": text, "update": is_update, "base": BASE}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        assert answer.pop("ok"), f"the generator wrote a text sparqljs refuses: {answer['error']}\n{text}"
        # A local name's escapes are removed (§4.1.1); sparqljs keeps them (and an IRI holds no `\`).
        answer["services"] = Counter(None if s is None else re.sub(r"\\(.)", r"\1", s) for s in answer["services"])
        return answer

    def close(self) -> None:
        """The reference ends when its input does."""
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture(scope="module")
def reference() -> Iterator[ReferenceParser]:
    if shutil.which("node") is None or not (ROOT / "node_modules" / "sparqljs").is_dir():
        pytest.fail("the reference parser needs Node.js and sparqljs: run `scripts/setup.sh test`")
    parser = ReferenceParser()
    yield parser
    parser.close()


GENERATED = settings(max_examples=10_000, deadline=None, derandomize=True, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


SEEDS = st.integers(0, 2**32 - 1)


@GENERATED
@given(seed=SEEDS)
def test_guard_reads_generated_queries_as_the_parser_does(reference: ReferenceParser, seed: int) -> None:
    """10,000 valid queries with keyword-like names, tags, strings and comments in every position:
    the guard sees FROM exactly when there is a dataset clause, the SERVICE endpoints the parser
    resolves, the query's form, no LOAD, and nothing ambiguous."""
    text = Writer(random.Random(seed)).query()
    expected = reference.read(text)
    shape = scan(text, BASE)
    assert {"form": shape.form, "has_dataset_clause": shape.has_dataset_clause,
            "services": Counter(shape.services)} == expected, text
    assert shape.loads == 0 and shape.ambiguous is None, text
    if shape.form == "SELECT":   # the star is looked for after the SELECT the guard found
        assert star_order(text, shape.form_end) == star_order(text), text


@pytest.mark.parametrize("text", [
    "SELECT * { ?s ?p ?o }", "select*{?s ?p ?o}", "SELECT DISTINCT * { ?b ?a ?c }", "SELECT reduced *{}",
    "# SELECT * ?b\nPREFIX select: <http://x.example/> SELECT ?b ?a { ?a select:x ?b }",
    "PREFIX select: <http://x.example/> SELECT * { ?z select:SELECT ?y }",
    "BASE <http://x.example/> PREFIX : <s#> SELECT\n# a comment with *\n * { ?q :p ?r }",
    "SELECT (1 AS ?x) * {}", "SELECT ?x { { SELECT * { ?x ?y ?z } } }",
])
def test_the_star_is_found_after_the_guards_select_as_in_the_whole_text(text: str) -> None:
    """`SELECT *` is looked for right after the SELECT the guard found, not in the whole text again:
    the same star and the same variables either way."""
    shape = scan(text)
    assert shape.form == "SELECT"
    assert star_order(text, shape.form_end) == star_order(text)


@settings(GENERATED, max_examples=1_000)
@given(seed=SEEDS)
def test_guard_reads_generated_updates_as_the_parser_does(reference: ReferenceParser, seed: int) -> None:
    """The same for updates: LOAD exactly when there is a LOAD operation, SERVICE where there is one."""
    text = Writer(random.Random(seed)).update()
    expected = reference.read(text, is_update=True)
    shape = scan(text, BASE)
    assert {"loads": shape.loads, "services": Counter(shape.services)} == expected, text
    assert shape.ambiguous is None and not shape.has_dataset_clause, text


# -- words Oxigraph's parser reads in two --------------------------------------------------------

@pytest.mark.parametrize("text,word", [
    ("PREFIX : <http://127.0.0.1:9/> SELECT * WHERE { SERVICE:x { ?a ?b ?c } }", "SERVICE:x"),
    ("PREFIX x: <http://127.0.0.1:9/> SELECT * WHERE { SERVICEx:y { ?a ?b ?c } }", "SERVICEx:y"),
    ("SELECT * WHERE { SERVICESILENT<http://127.0.0.1:9/> { ?a ?b ?c } }", "SERVICESILENT"),
    ("SELECT * WHERE { ?s ?p falseSERVICE <http://127.0.0.1:9/> { } }", "falseSERVICE"),
    ("SELECT (COUNT(*) AS ?n) FROMNAMED <http://e.example/g> WHERE { ?s ?p ?o }", "FROMNAMED"),
    ("PREFIX : <http://e.example/> SELECT (COUNT(*) AS ?n) FROM:g WHERE { ?s ?p ?o }", "FROM:g"),
    ("PREFIX age: <http://e.example/> SELECT * FROMage:g WHERE { ?s ?p ?o }", "FROMage:g"),
    ("PREFIX agefrom: <http://e.example/> SELECT * agefrom:g WHERE { ?s ?p ?o }", "agefrom:g"),
])
def test_words_the_engine_reads_as_two_are_refused(text: str, word: str) -> None:
    """Oxigraph's parser matches a keyword wherever one may stand, even at the start (or after the
    literal `false`) of what the grammar calls one name: `SERVICE:x` calls `:x`, `FROM:g` is a
    dataset clause. The guard cannot know which reading the parser will take, so it refuses."""
    assert scan(text).ambiguous == word
    with pytest.raises(QueryRefused, match="put spaces around"):
        check_query(text, max_depth=64, allowed_services=frozenset({"http://127.0.0.1:9/x"}))


@pytest.mark.parametrize("query", [
    "PREFIX download: <http://e.example/> SELECT * WHERE { ?s download:x ?o }",
    "PREFIX loader: <http://e.example/> SELECT * WHERE { ?s ?p ?o FILTER(?p != loader:x) }",
    "PREFIX fromage: <http://e.example/> SELECT * WHERE { ?s fromage:x ?o }",
    "PREFIX fromage: <http://e.example/> CONSTRUCT { ?s fromage:x ?o } WHERE { ?s ?p ?o } LIMIT 3",
    "PREFIX fromage: <http://e.example/> SELECT ?s WHERE { ?s ?p ?o } ORDER BY (?p = fromage:x) LIMIT 1",
])
def test_words_holding_a_keyword_where_the_engine_cannot_read_it_are_answered(app: Flask, query: str) -> None:
    """LOAD has no place in a query, and FROM none inside brackets: a name that holds one there is
    read by Oxigraph as the name it is, and the endpoint answers it (before, 400 "may be read as LOAD")."""
    assert scan(query).ambiguous is not None   # the fast scan notices the word; the check then lets it through
    resp = app.test_client().post("/sparql", data={"query": query}, headers={"Accept": "application/n-triples"
                                                                            if "CONSTRUCT" in query else
                                                                            "application/sparql-results+json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    if "CONSTRUCT" in query:
        assert len(rdflib.Graph().parse(data=resp.get_data(as_text=True), format="nt")) == 3
    else:
        assert isinstance(json.loads(resp.data)["results"]["bindings"], list)


@pytest.mark.parametrize("update", [
    "PREFIX fromage: <http://e.example/> INSERT DATA { GRAPH <http://e.example/g> { <http://e.example/a> fromage:x 1 } }",
    "PREFIX download: <http://e.example/> DELETE WHERE { ?s download:x ?o }",
])
def test_words_holding_a_keyword_an_update_cannot_read_pass_the_update_guard(update: str) -> None:
    check_update(update, max_depth=64)


def test_a_keyword_after_an_exponent_is_a_keyword() -> None:
    """`1.5e3SERVICE` is the number 1.5e3 and SERVICE, to the grammar and to Oxigraph alike."""
    shape = scan("SELECT * WHERE { ?s ?p 1.5e3SERVICE <http://127.0.0.1:9/> { } }")
    assert shape.services == ["http://127.0.0.1:9/"] and shape.ambiguous is None


@pytest.mark.parametrize("text", [
    "LOADSILENT <http://127.0.0.1:9/>", "LOAD:x", "PREFIX : <http://e.example/> INSERT DATA { :a :b :c } ; LOADx:y",
    "PREFIX x: <http://e.example/> INSERT DATA { <http://e.example/a> <http://e.example/b> SERVICEx:y }",
    "PREFIX loader: <http://e.example/> WITH loader:g DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"])
def test_joined_load_is_refused_in_updates(text: str) -> None:
    with pytest.raises(QueryRefused):
        check_update(text, max_depth=64)


def test_brackets_inside_an_iri_count_for_the_depth() -> None:
    """`?a<((…))>0` is an IRI to the grammar but a comparison to Oxigraph's parser, which recurses
    into the brackets: they count."""
    nested = "(" * 70 + "1" + ")" * 70
    assert scan(f"SELECT * WHERE {{ FILTER(?a<{nested}>0) }}").depth == 72
    assert scan("SELECT * WHERE { ?s <http://e.example/a(b)> ?o }").depth == 2


# -- queries cleared without reading all of them -----------------------------------------------

PLAIN_PIECES = ["SELECT", "select", "ASK", "Construct", "DESCRIBE", "SELECTx", "ASK:", "Selected", "x1SELECT",
                "PREFIX", "prefix ", "BASE", "ex:a", "select:x", "?v", "$w", "<http://x/>", "<a(b)>", "<<", ">>",
                "'", '"', "'''", '"""', "#", "\n", " ", "{", "}", "(", ")", "[", "]", "<", ">", ":", "*", "\u212a",
                "\u017f", "é", "_:b", "@en", "1.5e3", "FROM", "service", "Load", "fromage", "xſervice:"]


@settings(max_examples=3000, deadline=None, derandomize=True, database=None)
@given(pieces=st.lists(st.one_of(st.sampled_from(PLAIN_PIECES), st.text(max_size=12)), max_size=30),
       max_depth=st.integers(0, 8))
def test_a_query_cleared_by_its_brackets_and_words_reads_as_the_whole_scan(pieces: list[str], max_depth: int) -> None:
    """A text with no more opening brackets than the limit and no SERVICE, LOAD or FROM in it is
    cleared without the whole scan: for every such text the whole scan finds it no deeper than the
    limit, with the same form (and where its keyword ends), and no dataset clause, SERVICE, LOAD or
    ambiguous word; so `check_query` decides and answers alike either way."""
    text = "".join(pieces)
    plain = plain_query(text, max_depth)
    if plain is None:
        return
    whole = scan(text)
    assert whole.depth <= max_depth, repr(text)
    assert (plain.form, plain.form_end) == (whole.form, whole.form_end), repr(text)
    assert not whole.has_dataset_clause and whole.services == [] and whole.loads == 0, repr(text)
    assert whole.ambiguous is None, repr(text)


def test_which_queries_are_cleared_without_the_whole_scan() -> None:
    """Most queries are (like the benchmark's); one with a dataset clause, a SERVICE, a word
    holding one of the three keywords, or more opening brackets than the limit is not."""
    query = ("PREFIX kgo: <https://kars-gyumri.example.org/ontology#>\n"
             "SELECT ?e ?d WHERE { ?e kgo:date ?d FILTER(YEAR(?d) > 2020) } ORDER BY ?d")
    shape = plain_query(query, 64)
    assert shape is not None and shape.form == "SELECT" and query[:shape.form_end].endswith("SELECT")
    shape = plain_query("# SELECT in a comment\nASK {}", 64)
    assert shape is not None and shape.form == "ASK"
    for text in ("SELECT * FROM <g> { ?s ?p ?o }", "SELECT * { SERVICE <http://x.example/> { } }",
                 "SELECT * { ?s <http://x.example/fromage> ?o }", "SELECT * { ?s ?p ?o } # to download"):
        assert plain_query(text, 64) is None, text
    assert plain_query("SELECT * { " + "{ " * 9 + "}" * 9 + " }", 10) is not None
    assert plain_query("SELECT * { " + "{ " * 10 + "}" * 10 + " }", 10) is None
    deep = "SELECT * { " + "{ " * 10 + "}" * 10 + " }"   # 11 levels
    with pytest.raises(QueryRefused):
        check_query(deep, max_depth=10, allowed_services=frozenset())   # read whole, and refused
    assert check_query(deep, max_depth=11, allowed_services=frozenset()).form == "SELECT"


# -- through /sparql: the cases that were answered wrongly --------------------------------------

COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o %s}"


def count(client: Any, query: str) -> int:
    resp = client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return int(resp.get_json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("extra", ["OPTIONAL { ?s :from ?z } ", 'OPTIONAL { ?s ?p "x"@from } ',
                                   "OPTIONAL { ?s ex:FROM ?z } ", "# FROM <x>\n"])
def test_regression_a_from_that_is_no_dataset_clause_keeps_the_whole_graph(app: Flask, extra: str) -> None:
    """`:from`, `"x"@from`, `ex:FROM` and a comment made the guard believe the query had FROM: the
    union default graph was switched off and COUNT(*) answered 0."""
    client = app.test_client()
    prefixes = "PREFIX : <http://e.example/> PREFIX ex: <http://e.example/x#> "
    whole = count(client, prefixes + COUNT_ALL % "")
    assert whole > 1000
    assert count(client, prefixes + COUNT_ALL % extra) == whole


@pytest.mark.parametrize("pattern", ["?s :service ?o", "?s :load ?o", "?x a :Service ; ?p ?o", "?s :select ?o",
                                     "?s ex:SERVICE ?o", "?service ?load ?from"])
def test_regression_keyword_like_names_are_answered(app: Flask, pattern: str) -> None:
    """These were refused with 400 (SERVICE or LOAD seen in a name)."""
    query = f"PREFIX : <http://e.example/> PREFIX ex: <http://e.example/x#> SELECT * WHERE {{ {pattern} }} LIMIT 1"
    resp = app.test_client().get("/sparql", query_string={"query": query},
                                 headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/sparql-results+json"
    assert "results" in json.loads(resp.data)


# -- the nesting limit, to the level ------------------------------------------------------------

def nested(levels: int) -> str:
    """A query whose brackets nest exactly `levels` deep (the outer WHERE group is one)."""
    return "SELECT * WHERE " + "{ " * levels + "?s ?p ?o" + " }" * levels


@pytest.fixture(scope="module")
def shallow_app(make_app: Any) -> Flask:
    return make_app(max_query_depth=8)


def test_the_nesting_limit_is_exact_for_queries(shallow_app: Flask) -> None:
    client = shallow_app.test_client()
    accepted = client.post("/sparql", data={"query": nested(8)}, headers={"Accept": "application/json"})
    refused = client.post("/sparql", data={"query": nested(9)}, headers={"Accept": "application/json"})
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "Query refused"
    assert refused.get_json()["message"] == "the query nests 9 levels of brackets; at most 8 are accepted"


def test_the_nesting_limit_is_exact_for_updates(make_app: Any, private_store: Any) -> None:
    """The same limit before the writer sees an update: at 8 levels it is applied (it matches
    nothing: 200, nothing changed), at 9 refused."""
    token = "nesting-token"
    client = make_app(store=str(private_store), write_token=token, max_query_depth=8).test_client()

    def update(levels: int) -> Any:
        nothing = "?s <urn:x-kg-test:nothing> ?o"
        text = f"DELETE {{ {nothing} }} WHERE " + "{ " * levels + nothing + " }" * levels
        return client.post("/sparql", data={"update": text},
                           headers={"Authorization": f"Bearer {token}", "Accept": "text/plain"})

    accepted, refused = update(8), update(9)
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert accepted.get_data(as_text=True).startswith("Nothing changed")
    assert refused.status_code == 400
    assert refused.get_data(as_text=True) == ("400 Query refused: the update nests 9 levels of brackets; "
                                              "at most 8 are accepted\nlimit: 8\n")
