"""Parts of the pages for people that are computed, not just rendered: where map names go, and
the description a thing gets when the data gives none."""
from __future__ import annotations

from typing import Any

from server.linked_data.map_labels import CHAR_WIDTH, LINE_HEIGHT, Box
from server.linked_data.pages import Point, map_frame


def label_boxes(frame: dict[str, Any]) -> list[Box]:
    boxes = []
    for spot in frame["points"]:
        placed = spot["label"]
        if placed is not None:
            w = len(spot["point"].label) * CHAR_WIDTH + 4
            boxes.append(Box(placed.x - 2, placed.y + 3 - LINE_HEIGHT, placed.x - 2 + w, placed.y + 3))
    return boxes


def test_names_of_close_places_do_not_cover_each_other() -> None:
    """Kars, Akyaka and Gyumri (the article's places, 60 km apart): every name is drawn, none
    over another name or over another place's point (Akyaka's name once lay over Gyumri)."""
    points = [Point("Kars", 43.0958, 40.6078, "/doc/kars"), Point("Akyaka", 43.614, 40.741, "/doc/akyaka"),
              Point("Gyumri", 43.8416, 40.7852, "/doc/gyumri", current=True),
              Point("Akhurik", 43.75, 40.75, "/doc/akhurik")]
    frame = map_frame(points)
    boxes = label_boxes(frame)
    assert len(boxes) == len(points)
    for i, a in enumerate(boxes):
        assert 0 <= a.x0 and a.x1 <= frame["width"] and 0 <= a.y0 and a.y1 <= frame["height"]
        assert not any(a.overlaps(b) for b in boxes[i + 1:])
    dots = [Box(s["x"] - 4, s["y"] - 4, s["x"] + 4, s["y"] + 4) for s in frame["points"]]
    for i, box in enumerate(boxes):
        assert not any(box.overlaps(d) for j, d in enumerate(dots) if j != i)


def test_a_thing_without_a_description_is_described_by_its_type(client: Any) -> None:
    """Worded like a Wikidata description: no "a technical talks"."""
    html = client.get("/doc/second-round-technical-talks", headers={"Accept": "text/html"}).text
    assert "a technical talks" not in html
    place = client.get("/doc/kars", headers={"Accept": "text/html"}).text
    assert '<p class="summary">place in the Kars–Gyumri knowledge graph</p>' in place
