"""Writes the two PNG files whose headers declare more pixels than the library accepts
(`declared-100000x100000.png`, `declared-200000000x1.png`): a valid IHDR, then an IDAT holding one
stored zero byte (decoders want an IDAT before they report), then IEND. Each is under 80 bytes.
The tests of the core, the CLI and the server expect `image too large` naming the size.

    python3 tests/data/oversized/make_declared_size_pngs.py
"""
import struct
import zlib
from pathlib import Path


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def declared_png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = bytes([0x78, 0x01, 0x01, 0x01, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x01])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


if __name__ == "__main__":
    here = Path(__file__).parent
    for w, h in [(100_000, 100_000), (200_000_000, 1)]:
        (here / f"declared-{w}x{h}.png").write_bytes(declared_png(w, h))
