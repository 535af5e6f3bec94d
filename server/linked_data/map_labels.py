"""Where the names of the points of a map go, so that no name covers another name or a point.

Places of the article lie close together (Kars, Akyaka and Gyumri are 60 km apart): a name
always drawn to the right of its point ran over its neighbour's. Names are placed one by one,
at the first free spot of a ring of candidates around the point (right, left, above, below, the
corners), then further out with a leader line; a name with no free spot is left to the point's
tooltip. The query UI's map view (static/sparql-ui.js) places its names the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

CHAR_WIDTH = 7.2   # px per character at the map's 12-13 px font: an estimate, rounded up
LINE_HEIGHT = 14
RINGS = 4


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: "Box") -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1


@dataclass(frozen=True)
class Placed:
    x: float          # where the text starts (its baseline's left end)
    y: float
    leader: tuple[float, float, float, float] | None   # a line from the point to a name set apart


def _candidates(x: float, y: float, w: float, h: float) -> list[tuple[float, float]]:
    out = []
    for ring in range(RINGS):
        d = 8 + ring * 16
        out += [(x + d, y - h / 2), (x - d - w, y - h / 2), (x - w / 2, y - d - h), (x - w / 2, y + d),
                (x + d, y - d - h), (x + d, y + d), (x - d - w, y - d - h), (x - d - w, y + d)]
    return out


def place_labels(points: list[tuple[float, float, str]], width: float, height: float,
                 first: int | None = None) -> list[Placed | None]:
    """For each (x, y, name), where its name goes, or None when nowhere is free. The point at
    index `first` (the page's own place) chooses first; the others from the top down."""
    taken = [Box(x - 5, y - 5, x + 5, y + 5) for x, y, _ in points]
    placed: list[Placed | None] = [None] * len(points)
    for i in sorted(range(len(points)), key=lambda i: (i != first, points[i][1], points[i][0])):
        x, y, name = points[i]
        w, h = len(name) * CHAR_WIDTH + 4, LINE_HEIGHT
        for n, (bx, by) in enumerate(_candidates(x, y, w, h)):
            box = Box(bx, by, bx + w, by + h)
            if box.x0 < 0 or box.y0 < 0 or box.x1 > width or box.y1 > height or any(box.overlaps(t) for t in taken):
                continue
            taken.append(box)
            leader = None
            if n >= 8:
                tx = box.x0 if box.x0 > x else box.x1 if box.x1 < x else (box.x0 + box.x1) / 2
                ty = box.y0 if box.y0 > y else box.y1 if box.y1 < y else (box.y0 + box.y1) / 2
                leader = (x, y, round(tx, 1), round(ty, 1))
            placed[i] = Placed(round(box.x0 + 2, 1), round(box.y1 - 3, 1), leader)
            break
    return placed
