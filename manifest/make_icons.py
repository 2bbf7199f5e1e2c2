"""Draws the Teams app icons: color.png (192×192) and outline.png (32×32).

Run once, after changing the drawing, and commit the PNGs:

    .venv/bin/python manifest/make_icons.py

The symbol is three rising bars on a base line with a coin above them: money
that grows into competence. Shapes are drawn at eight times the size and scaled
down by averaging (no ringing), so the edges are smooth.

- color.png: the symbol in white on the accent colour (the manifest's
  accentColor), a full-bleed square as Teams asks for; the symbol stays within
  the middle 96×96 pixels.
- outline.png: the same symbol as white strokes, on the 32-pixel grid so they
  stay sharp, on a transparent background: every pixel is white and only its
  alpha varies (0 where there is no symbol).

Needs Pillow (a development tool only: the bot does not use it).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
ACCENT = (0x1E, 0x5C, 0x8C)
"""#1E5C8C, the manifest's accentColor."""
SCALE = 8

Box = tuple[float, float, float, float]


def _symbol(unit: float, ox: float, oy: float) -> tuple[list[Box], Box, Box]:
    """The symbol on a 24×24 grid of `unit`-sized cells placed at (ox, oy):
    three bars, the base line and the coin."""

    def box(x0: float, y0: float, x1: float, y1: float) -> Box:
        return (ox + x0 * unit, oy + y0 * unit, ox + x1 * unit, oy + y1 * unit)

    bars = [box(3, 14, 8, 21), box(9.5, 10, 14.5, 21), box(16, 6, 21, 21)]
    base = box(1.5, 21, 22.5, 22.5)
    coin = box(3, 3, 10, 10)
    return bars, base, coin


def mask(size: int, *, outline: bool) -> Image.Image:
    """An 'L' mask of the symbol at `size` pixels: filled shapes, or strokes."""
    big = size * SCALE
    image = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(image)
    if outline:
        # On the 32-pixel grid itself, so the strokes stay sharp: two pixels wide.
        def px(x0: int, y0: int, x1: int, y1: int) -> Box:
            return (x0 * SCALE, y0 * SCALE, x1 * SCALE - 1, y1 * SCALE - 1)

        stroke = 2 * SCALE
        for bar in (px(4, 19, 10, 28), px(13, 14, 19, 28), px(22, 8, 28, 28)):
            draw.rectangle(bar, outline=255, width=stroke)
        draw.rectangle(px(2, 28, 30, 30), fill=255)
        draw.ellipse(px(3, 3, 12, 12), outline=255, width=stroke)
    else:
        # The symbol fills the middle 96×96 of 192×192.
        unit = big / 2 / 24
        bars, base, coin = _symbol(unit, big / 4, big / 4)
        radius = unit * 0.8
        for bar in bars:
            draw.rounded_rectangle(bar, radius=radius, fill=255)
        draw.rounded_rectangle(base, radius=radius / 2, fill=255)
        draw.ellipse(coin, fill=255)
    return image.resize((size, size), Image.Resampling.BOX)


def color_icon() -> Image.Image:
    symbol = mask(192, outline=False)
    image = Image.new("RGB", (192, 192), ACCENT)
    image.paste(Image.new("RGB", (192, 192), (255, 255, 255)), (0, 0), symbol)
    return image


def outline_icon() -> Image.Image:
    image = Image.new("RGBA", (32, 32), (255, 255, 255, 0))
    image.putalpha(mask(32, outline=True))
    return image


def main() -> None:
    color_icon().save(HERE / "color.png", optimize=True)
    outline_icon().save(HERE / "outline.png", optimize=True)


if __name__ == "__main__":
    main()
