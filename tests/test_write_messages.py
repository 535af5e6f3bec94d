"""What a curator reads after a write: counts in plain English, a 422 that ends cleanly."""
from __future__ import annotations

from typing import Any

import pytest

from server import namespaces as ns

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Accept": "text/plain"}
PFX = f"PREFIX kgo: <{ns.KGO}> PREFIX kg: <{ns.ID}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
G = ns.GRAPH + "curated"


@pytest.fixture(scope="module")
def wclient(make_app: Any, private_store: Any) -> Any:
    return make_app(store=str(private_store), write_token=TOKEN).test_client()


def test_one_triple_is_one_triple(wclient: Any) -> None:
    r = wclient.post("/sparql", data={"update": PFX + f'INSERT DATA {{ GRAPH <{G}> {{ kg:gyumri rdfs:comment "A city."@en }} }}'},
                     headers=AUTH)
    assert r.status_code == 200, r.text
    assert ": 1 triple added, 0 removed, in " in r.text and "1 triples" not in r.text
    r = wclient.post("/sparql", data={"update": PFX + f'INSERT DATA {{ GRAPH <{G}> {{ kg:kars rdfs:comment "A town."@en . '
                                                       f'kg:akyaka rdfs:comment "A town."@en }} }}'}, headers=AUTH)
    assert ": 2 triples added, 0 removed, in " in r.text


def test_a_rejected_write_says_so_in_one_clean_sentence(wclient: Any) -> None:
    r = wclient.post("/sparql", data={"update": PFX + f"INSERT DATA {{ GRAPH <{G}> {{ kg:nameless a kgo:City }} }}"},
                     headers=AUTH)
    assert r.status_code == 422
    first = r.text.splitlines()[0]
    assert first.endswith("0 Infos; the store is unchanged.") and ".;" not in first
