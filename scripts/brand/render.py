"""Render the brand PNGs from mark.svg and wordmark.svg (run it through scripts/brand/render).

icon: the mark, 256x256 and 512x512. logo: the mark, a gap and the wordmark, landscape, its
shortest side 256 (512 for @2x), the largest the HA brands rules allow. dark_*: the same
shapes with the dark-theme palette. Output is deterministic for pinned cairosvg/Pillow.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
import re
import sys

import cairosvg  # type: ignore[import-untyped]
from PIL import Image

HERE = Path(__file__).parent
BRAND = HERE.parent.parent / "custom_components" / "oauth2_rest" / "brand"
SIZE = 256  # the mark's viewBox and the shortest side of icon.png / logo.png
GAP = 48  # between the mark and the wordmark in the logo
# Light-theme colours in the sources -> dark-theme colours.
DARK = {
    "#1e40af": "#3b82f6",  # key gradient
    "#2563eb": "#60a5fa",  # key gradient, "REST"
    "#f59e0b": "#fbbf24",  # the arrow
    "#1f2937": "#f3f4f6",  # "OAUTH2"
}


def _source(name: str) -> str:
    text = (HERE / name).read_text(encoding="utf-8")
    return re.sub(r"<\?xml[^>]*\?>\s*", "", text)


def _width(svg: str) -> int:
    match = re.search(r'<svg[^>]*\swidth="(\d+)"', svg)
    assert match, "an SVG source without a width"
    return int(match.group(1))


def _place(svg: str, x: int) -> str:
    """The SVG as a nested <svg> element at x (its own width, height and viewBox)."""
    return svg.replace("<svg ", f'<svg x="{x}" y="0" ', 1)


def _logo(mark: str, wordmark: str) -> str:
    width = SIZE + GAP + _width(wordmark)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{SIZE}"'
        f' viewBox="0 0 {width} {SIZE}">'
        f"{_place(mark, 0)}{_place(wordmark, SIZE + GAP)}</svg>"
    )


def _dark(svg: str) -> str:
    for light, dark in DARK.items():
        svg = svg.replace(light, dark)
    return svg


def _png(svg: str, height: int) -> bytes:
    width = _width(svg) * height // SIZE
    raw = cairosvg.svg2png(
        bytestring=svg.encode(), output_width=width, output_height=height
    )
    image = Image.open(io.BytesIO(raw))
    image.load()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def render() -> dict[str, bytes]:
    """Every brand image by file name."""
    mark, wordmark = _source("mark.svg"), _source("wordmark.svg")
    logo = _logo(mark, wordmark)
    images: dict[str, bytes] = {}
    for prefix, convert in (("", str), ("dark_", _dark)):
        for kind, svg in (("icon", mark), ("logo", logo)):
            images[f"{prefix}{kind}.png"] = _png(convert(svg), SIZE)
            images[f"{prefix}{kind}@2x.png"] = _png(convert(svg), 2 * SIZE)
    return images


def main() -> int:
    """Write the PNGs, or with --check compare them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true")
    check = parser.parse_args().check
    stale = []
    BRAND.mkdir(exist_ok=True)
    for name, data in render().items():
        path = BRAND / name
        if check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(name)
            continue
        path.write_bytes(data)
        print(f"{path.relative_to(HERE.parent.parent)}: {len(data)} bytes")
    if stale:
        print(f"out of date (run scripts/brand/render): {stale}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
