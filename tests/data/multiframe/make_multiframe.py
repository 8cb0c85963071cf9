"""Writes the two-frame files in this folder (run from the repository root with Pillow >= 9.3):
the astronaut (examples/data/astronaut.png) at 64x64 as the first frame and page, the same
picture mirrored as the second, as animated GIF, animated WebP (lossless), two-page TIFF and
MPO (a multi-picture JPEG). Every decoder reads the first frame only; the library says so with
`more_frames`."""
from pathlib import Path

from PIL import Image, ImageOps

here = Path(__file__).parent
first = Image.open("examples/data/astronaut.png").convert("RGB").resize((64, 64), Image.LANCZOS)
second = ImageOps.mirror(first)
first.save(here / "two-frames.gif", save_all=True, append_images=[second], duration=100, loop=0)
first.save(here / "two-frames.webp", save_all=True, append_images=[second], duration=100, loop=0, lossless=True)
first.save(here / "two-pages.tiff", save_all=True, append_images=[second])
first.save(here / "two-pictures.mpo", save_all=True, append_images=[second], quality=90)
