"""Writes astronaut-grid.png: four copies of the head in examples/data/astronaut.png (public
domain, NASA) at different scales, one mirrored, on a flat gray background, so the tests have a
multi-face image whose licence is known. Deterministic; rerun from the repository root with
`python tests/data/make_astronaut_grid.py` (needs Pillow)."""
from pathlib import Path

from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[1] / "examples" / "data" / "astronaut.png"
HEAD = (120, 20, 380, 310)  # left, top, right, bottom: hair to chin, shoulders cut off
# (scale, mirrored) of each copy, left to right.
COPIES = [(1.0, False), (0.7, True), (0.5, False), (0.4, True)]
MARGIN = 20

head = Image.open(SOURCE).convert("RGB").crop(HEAD)
tiles = []
for scale, mirrored in COPIES:
    tile = head.resize((round(head.width * scale), round(head.height * scale)), Image.Resampling.LANCZOS)
    tiles.append(ImageOps.mirror(tile) if mirrored else tile)
width = sum(t.width for t in tiles) + MARGIN * (len(tiles) + 1)
height = max(t.height for t in tiles) + 2 * MARGIN
canvas = Image.new("RGB", (width, height), (128, 128, 128))
x = MARGIN
for t in tiles:
    canvas.paste(t, (x, height - MARGIN - t.height))  # bottom-aligned, like people in a row
    x += t.width + MARGIN
canvas.save(HERE / "astronaut-grid.png", optimize=True)
print(f"astronaut-grid.png: {width}x{height}, {len(tiles)} faces")
