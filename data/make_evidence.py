"""Write the generated blocks of data/article.ttl from data/article.txt.

Two blocks are (re)written between their marker comments:

* "full text": the article's kgo:fullText literal, byte-exact copy of article.txt;
* "evidence": for every node listed in QUOTES, `kgo:evidence` links to
  kgo:EvidenceQuote / oa:SpecificResource nodes with an oa:TextQuoteSelector
  (exact, prefix and suffix of up to 32 characters) and an oa:TextPositionSelector
  (0-based start inclusive, end exclusive, counted in Unicode code points).

A quote is located at its first occurrence in the region it names: "any" searches
from the start of the page (captions and headline come first), "body" from the first
body paragraph on. Run from the repository root or anywhere:

    python data/make_evidence.py          # rewrite the blocks
    python data/make_evidence.py --check  # exit 1 if the blocks are out of date

Only the standard library is needed; rdflib, if installed, is used to check that the
result parses and that the stored text equals the file.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TXT = HERE / "article.txt"
TTL = HERE / "article.ttl"
ARTICLE = "kg:article-kars-gyumri-second-round"
BODY_ANCHOR = "Türkiye said Thursday"
AFFIX = 32

# node slug (under kg:) -> list of (quote, region)
CAP1 = ("President Recep Tayyip Erdogan (R) meets with Armenian Prime Minister Nikol "
        "Pashinyan (L) in Tianjin, China on Sept. 1, 2025. (Photo via Turkish Presidency)")
CAP2 = ("Turkish President Recep Tayyip Erdogan (R), who is in New York for the 79th session "
        "of the U.N. General Assembly, receives Armenian PM Nikol Pashinyan (L) at the Turkish "
        "House in New York, U.S. on Sept. 24, 2024. (AA Photo)")
CAP3 = ("President Recep Tayyip Erdogan (R) receives Armanian Prime Minister Nikol Pashinyan "
        "at Dolmabahce Presidential Office in Istanbul, Türkiye on June 20, 2025. "
        "(Photo via Turkish Presidency)")
TALKS = ("held a second round of technical talks on rehabilitating and reopening the "
         "long-closed Kars–Gyumri railway")
CLOSURE = ("Borders have been closed since 1993 following Armenia’s occupation of the "
           "Azerbaijani territory of Karabakh")
HISTORY = ("The two countries share a complex history, with longstanding disputes over "
           "events involving Armenians during World War I")
ENVOYS = "the special envoys appointed for the Türkiye–Armenia normalization process"
THAW = "Relations began to thaw after the 2020 Karabakh war"
LIMITED = "limited agreements allowing third-country citizens and diplomats to cross the border"
MARGARA = "the Margara border crossing has been used twice for humanitarian purposes"
T2023 = ("first in February 2023 to send Armenian aid trucks after the earthquake in "
         "southeastern Türkiye")
T2024 = "again in March 2024 for humanitarian shipments to Syria through Türkiye"
UPGRADE = "Armenia has upgraded the crossing in preparation for potential future use"
DETERMINATION = ("Both Türkiye and Armenia have expressed determination to pursue "
                 "normalization without preconditions")
ACCELERATE = "agreed to accelerate efforts to open border crossings"
MET = "representatives of the relevant institutions met on Nov. 28 at the Akyaka–Akhurik border crossing"
FRAMEWORK = ("The ministry said the discussions were held within the framework of "
             "understandings reached by the special envoys")
PHASE = ("According to the ministry, the meeting marked the second phase of efforts to "
         "advance connectivity and build confidence between the two countries")
WORK = "Delegations continued technical work aimed at restoring and reactivating the Kars–Gyumri railway"
RAILWAY_CLOSED = "the Kars–Gyumri railway, which has remained closed for decades"
HEADLINE = "Türkiye, Armenia hold second round of talks on reopening Kars–Gyumri railway"

QUOTES: dict[str, list[tuple[str, str]]] = {
    # source
    "article-kars-gyumri-second-round": [(HEADLINE, "any"),
                                         ("November 29, 2025 11:18 AM GMT+03:00", "any")],
    "turkiye-today": [("More From Türkiye Today", "any")],
    # actors
    "turkiye": [("Türkiye said Thursday", "body")],
    "armenia": [("the Armenian city of Gyumri", "body")],
    "azerbaijan": [("the Azerbaijani territory of Karabakh", "body")],
    "syria": [("humanitarian shipments to Syria", "body")],
    "united-states": [("New York, U.S.", "any")],
    "china": [("Tianjin, China", "any")],
    "recep-tayyip-erdogan": [("President Recep Tayyip Erdogan", "any")],
    "nikol-pashinyan": [("Armenian Prime Minister Nikol Pashinyan", "any")],
    "president-of-turkiye": [("Turkish President Recep Tayyip Erdogan", "any")],
    "prime-minister-of-armenia": [("Armenian Prime Minister Nikol Pashinyan", "any"),
                                  ("Armenian PM Nikol Pashinyan", "any"),
                                  ("Armanian Prime Minister Nikol Pashinyan", "any")],
    "turkish-foreign-ministry": [("According to the Foreign Ministry", "body")],
    "un-general-assembly": [("the U.N. General Assembly", "any")],
    "delegation-ankara": [("officials from Ankara and Yerevan", "body"), (WORK, "body")],
    "delegation-yerevan": [("officials from Ankara and Yerevan", "body"), (WORK, "body")],
    "special-envoys": [(ENVOYS, "body")],
    # places
    "ankara": [("officials from Ankara", "body")],
    "yerevan": [("Ankara and Yerevan", "body")],
    "gyumri": [("the Armenian city of Gyumri", "body")],
    "kars": [("Kars–Gyumri railway", "any")],
    "akyaka": [("the Akyaka–Akhurik border crossing", "body")],
    "akhurik": [("the Akyaka–Akhurik border crossing", "body")],
    "tianjin": [("in Tianjin, China", "any")],
    "new-york": [("Turkish House in New York, U.S.", "any")],
    "turkish-house": [("at the Turkish House in New York", "any")],
    "istanbul": [("in Istanbul, Türkiye", "any")],
    "dolmabahce-presidential-office": [("at Dolmabahce Presidential Office in Istanbul", "any")],
    "southeastern-turkiye": [("the earthquake in southeastern Türkiye", "body")],
    "karabakh": [("the Azerbaijani territory of Karabakh", "body")],
    # infrastructure and status
    "kars-gyumri-railway": [("the long-closed Kars–Gyumri railway", "body")],
    "status-kars-gyumri-railway-closed": [("the long-closed Kars–Gyumri railway", "body"),
                                          (RAILWAY_CLOSED, "body")],
    "turkiye-armenia-border": [("diplomats to cross the border", "body")],
    "status-turkiye-armenia-border-closed": [("Borders have been closed since 1993 following", "body")],
    "akyaka-akhurik-border-crossing": [("the Akyaka–Akhurik border crossing", "body")],
    "margara-border-crossing": [(MARGARA, "body")],
    "status-margara-border-crossing-upgraded": [(UPGRADE, "body")],
    # process, agreements, declarations
    "turkiye-armenia-normalization-process": [
        ("the ongoing normalization process between the two neighbors", "body"),
        ("the Türkiye–Armenia normalization process", "body")],
    "connectivity-and-confidence-efforts": [
        ("efforts to advance connectivity and build confidence between the two countries", "body")],
    "special-envoys-understandings": [("understandings reached by the special envoys", "body")],
    "limited-agreements-third-country-crossing": [(LIMITED, "body")],
    "agreement-accelerate-opening-border-crossings": [(ACCELERATE, "body")],
    "declaration-normalization-without-preconditions": [(DETERMINATION, "body")],
    # the talks
    "second-round-technical-talks": [(TALKS, "body"), (WORK, "body")],
    "second-round-meeting-akyaka-akhurik": [(MET, "body")],
    "second-round-meeting-gyumri": [("and later in the Armenian city of Gyumri", "body")],
    # history
    "world-war-i": [("during World War I", "body")],
    "disputes-over-wwi-events": [
        ("longstanding disputes over events involving Armenians during World War I", "body")],
    "border-closure": [("Borders have been closed since 1993 following", "body")],
    "occupation-of-karabakh": [("Armenia’s occupation of the Azerbaijani territory of Karabakh", "body")],
    "karabakh-war-2020": [("the 2020 Karabakh war", "body")],
    "thaw-in-relations": [(THAW, "body")],
    "appointment-of-special-envoys": [("leading to the appointment of special envoys", "body")],
    "earthquake-southeastern-turkiye": [("the earthquake in southeastern Türkiye", "body")],
    "humanitarian-transit-2023-02": [(T2023, "body")],
    "humanitarian-transit-2024-03": [(T2024, "body")],
    "margara-crossing-upgrade": [(UPGRADE, "body")],
    # captions: meetings, photos, depictions
    "meeting-tianjin-2025-09-01": [(CAP1, "any")],
    "meeting-new-york-2024-09-24": [(CAP2, "any")],
    "erdogan-new-york-visit-unga-79": [
        ("who is in New York for the 79th session of the U.N. General Assembly", "any")],
    "unga-79th-session": [("the 79th session of the U.N. General Assembly", "any")],
    "meeting-istanbul-2025-06-20": [(CAP3, "any")],
    "photo-tianjin-2025-09-01": [(CAP1, "any")],
    "photo-new-york-2024-09-24": [(CAP2, "any")],
    "photo-istanbul-2025-06-20": [(CAP3, "any")],
    "photo-tianjin-2025-09-01-erdogan": [("President Recep Tayyip Erdogan (R) meets", "any")],
    "photo-tianjin-2025-09-01-pashinyan": [("Armenian Prime Minister Nikol Pashinyan (L)", "any")],
    "photo-new-york-2024-09-24-erdogan": [("Turkish President Recep Tayyip Erdogan (R)", "any")],
    "photo-new-york-2024-09-24-pashinyan": [("Armenian PM Nikol Pashinyan (L)", "any")],
    "photo-istanbul-2025-06-20-erdogan": [("President Recep Tayyip Erdogan (R) receives", "any")],
    "photo-istanbul-2025-06-20-pashinyan": [("Armanian Prime Minister Nikol Pashinyan", "any")],
    # claims and reified statements
    "claim-turkiye-second-round-held": [
        ("Türkiye said Thursday that officials from Ankara and Yerevan held a second round "
         "of technical talks", "body")],
    "claim-ministry-meeting-places": [
        ("According to the Foreign Ministry, representatives of the relevant institutions "
         "met on Nov. 28 at the Akyaka–Akhurik border crossing and later in the Armenian "
         "city of Gyumri", "body")],
    "claim-ministry-framework": [(FRAMEWORK, "body")],
    "claim-ministry-second-phase": [(PHASE, "body")],
    "claim-complex-history": [(HISTORY, "body")],
    "claim-border-closure-reason": [(CLOSURE, "body")],
    "statement-closure-follows-occupation": [(CLOSURE, "body")],
    "statement-karabakh-azerbaijani-territory": [("the Azerbaijani territory of Karabakh", "body")],
}


def lit(s: str) -> str:
    """A one-line Turtle string literal."""
    s = s.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + s.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


def long_lit(s: str) -> str:
    """A triple-quoted Turtle literal keeping line breaks; quotes and backslashes escaped."""
    return '"""' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r") + '"""'


def locate(text: str, quote: str, region: str) -> int:
    start = text.index(BODY_ANCHOR) if region == "body" else 0
    pos = text.find(quote, start)
    if pos < 0:
        raise SystemExit(f"quote not found in region {region!r}: {quote!r}")
    return pos


def evidence_block(text: str) -> str:
    out = []
    for node, quotes in QUOTES.items():
        evs = [f"kg:ev-{node}-{i}" for i in range(1, len(quotes) + 1)]
        out.append(f"kg:{node} kgo:evidence {' , '.join(evs)} .\n")
        for ev, (quote, region) in zip(evs, quotes):
            s = locate(text, quote, region)
            e = s + len(quote)
            prefix, suffix = text[max(0, s - AFFIX):s], text[e:e + AFFIX]
            out.append(
                f"{ev} a kgo:EvidenceQuote , oa:SpecificResource ;\n"
                f"    oa:hasSource {ARTICLE} ;\n"
                f"    oa:hasSelector {ev}-quote , {ev}-position .\n"
                f"{ev}-quote a oa:TextQuoteSelector ;\n"
                f"    oa:exact {lit(quote)} ;\n"
                f"    oa:prefix {lit(prefix)} ;\n"
                f"    oa:suffix {lit(suffix)} .\n"
                f"{ev}-position a oa:TextPositionSelector ;\n"
                f'    oa:start "{s}"^^xsd:nonNegativeInteger ;\n'
                f'    oa:end "{e}"^^xsd:nonNegativeInteger .\n')
        out.append("\n")
    return "".join(out).rstrip("\n") + "\n"


def fulltext_block(text: str) -> str:
    return f"{ARTICLE} kgo:fullText {long_lit(text)} .\n"


def replace_block(ttl: str, name: str, body: str) -> str:
    pat = re.compile(rf"(# >>> generated: {name}\n).*?(# <<< generated: {name}\n)", re.S)
    if not pat.search(ttl):
        raise SystemExit(f"marker block {name!r} not found in {TTL.name}")
    return pat.sub(lambda m: m.group(1) + body + m.group(2), ttl, count=1)


def main() -> int:
    text = TXT.read_text(encoding="utf-8")
    old = TTL.read_text(encoding="utf-8")
    new = replace_block(old, "full text", fulltext_block(text))
    new = replace_block(new, "evidence", evidence_block(text))
    if "--check" in sys.argv:
        if new != old:
            print(f"{TTL.name} is out of date; run data/make_evidence.py")
            return 1
    else:
        TTL.write_text(new, encoding="utf-8")
    try:
        import rdflib
    except ImportError:
        return 0
    g = rdflib.Graph().parse(data=new, format="turtle")
    kgo = rdflib.Namespace("https://kars-gyumri.example.org/ontology#")
    stored = [str(o) for o in g.objects(None, kgo.fullText)]
    assert stored == [text], "stored full text differs from article.txt"
    print(f"{TTL.name}: {len(g)} triples, full text verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
