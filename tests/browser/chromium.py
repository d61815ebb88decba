"""Headless Chromium helpers for checking HTML reports as an offline reader would see them.

Chromium runs with a fresh profile, no background networking and, where ``unshare -n`` works,
inside a network namespace with no interfaces at all, so anything the page tries to fetch from
the internet fails exactly as it would on an offline laptop.
"""

from __future__ import annotations

import functools
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--hide-scrollbars",
    "--virtual-time-budget=10000",
)
TIMEOUT_S = 90


def chromium_path() -> str | None:
    """Return the Chromium executable on PATH, or None when there is none."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@functools.lru_cache(maxsize=1)
def offline_prefix() -> tuple[str, ...]:
    """``("unshare", "-n")`` when this process may create a network namespace, else ``()``."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, check=False)
    return (unshare, "-n") if probe.returncode == 0 else ()


def _run(html_path: str | Path, *extra: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on a local file with a throwaway profile."""
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("chromium is not on PATH")
    url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="persona-chromium-") as profile:
        command = [*offline_prefix(), exe, *FLAGS, f"--user-data-dir={profile}", *extra, url]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )


def screenshot(
    html_path: str | Path, png_path: str | Path, width: int = 1200, height: int = 1600
) -> Path:
    """Render `html_path` offline and save a PNG screenshot of the top of the page."""
    png_path = Path(png_path).resolve()
    result = _run(html_path, f"--window-size={width},{height}", f"--screenshot={png_path}")
    if not png_path.exists():
        raise RuntimeError(
            f"chromium wrote no screenshot (rc={result.returncode}):\n{result.stderr[-2000:]}"
        )
    return png_path


def dump_dom(html_path: str | Path) -> str:
    """Render `html_path` offline, let scripts run, and return the serialized DOM."""
    result = _run(html_path, "--dump-dom")
    if result.returncode != 0 or not result.stdout:
        raise RuntimeError(
            f"chromium --dump-dom failed (rc={result.returncode}):\n{result.stderr[-2000:]}"
        )
    return result.stdout


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> list[bytearray]:
    """Undo PNG scanline filters (types 0-4) and return one bytearray per row."""
    stride = width * bpp
    rows, previous, pos = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, up_left = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        previous = line
    return rows


def read_png(png_path: str | Path) -> tuple[int, int, int, list[bytearray]]:
    """Decode an 8-bit RGB or RGBA PNG: ``(width, height, bytes_per_pixel, rows)``."""
    data = Path(png_path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{png_path} is not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth={depth}, color={color}, interlace={interlace})")
    bpp = 3 if color == 2 else 4
    return width, height, bpp, _unfilter(zlib.decompress(idat), width, height, bpp)


def non_blank_fraction(
    png_path: str | Path, box: tuple[int, int, int, int] | None = None, threshold: int = 245
) -> float:
    """Fraction of pixels in `box` (left, top, right, bottom; default all) that are not white.

    A pixel counts as non-blank when any of its colour channels is below `threshold`.
    """
    width, height, bpp, rows = read_png(png_path)
    left, top, right, bottom = box or (0, 0, width, height)
    right, bottom = min(right, width), min(bottom, height)
    total = max((right - left) * (bottom - top), 1)
    inked = 0
    for row in rows[top:bottom]:
        for x in range(left, right):
            pixel = row[x * bpp : x * bpp + 3]
            inked += min(pixel) < threshold
    return inked / total
