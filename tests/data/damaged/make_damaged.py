"""Writes the damaged image files in this folder (run from the repository root with Pillow):

- short-rows.jpg: the astronaut (examples/data/astronaut.png) at 64x64, baseline JPEG, whose
  frame header (SOF0) then declares 64x128: the entropy-coded data holds 64 rows and ends with a
  proper EOI marker.
"""
import io
from pathlib import Path

from PIL import Image

here = Path(__file__).parent
img = Image.open("examples/data/astronaut.png").convert("RGB").resize((64, 64), Image.LANCZOS)
buf = io.BytesIO()
img.save(buf, "JPEG", quality=90, subsampling=2, progressive=False, optimize=False)
b = bytearray(buf.getvalue())
sof = b.index(b"\xff\xc0")
assert b[sof + 5 : sof + 9] == (64).to_bytes(2, "big") * 2
b[sof + 5 : sof + 7] = (128).to_bytes(2, "big")
assert b.endswith(b"\xff\xd9")
(here / "short-rows.jpg").write_bytes(bytes(b))
