"""An image with its labels' boxes drawn on it (Rekognition instances, in fractions of the image)."""
from __future__ import annotations

import io
from collections.abc import Iterable

import streamlit as st
from PIL import Image, ImageDraw, ImageOps

from components.markup import plain
from core.domain import Label

COLOURS = ("#ff4b4b", "#1c83e1", "#21c354", "#ffa421", "#803df5", "#00c0f2")
MAX_SIDE_PX = 1024


def draw_boxes(image: Image.Image, labels: Iterable[Label]) -> Image.Image:
    """A copy of the image with one outlined, captioned box per instance (the caption is drawn, never HTML)."""
    out = image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    w, h = out.size
    stroke = max(2, round(min(w, h) / 200))
    for n, label in enumerate(lb for lb in labels if lb.instances):
        colour = COLOURS[n % len(COLOURS)]
        for inst in label.instances:
            b = inst.box
            x0, y0 = b.left * w, b.top * h
            x1, y1 = (b.left + b.width) * w, (b.top + b.height) * h
            draw.rectangle([x0, y0, x1, y1], outline=colour, width=stroke)
            caption = f"{inst.label or label.name} {inst.confidence * 100:.1f}%"
            tw = draw.textlength(caption)
            draw.rectangle([x0, max(0, y0 - 14), x0 + tw + 6, max(14, y0)], fill=colour)
            draw.text((x0 + 3, max(0, y0 - 14)), caption, fill="white")
    return out


def image_with_boxes(data: bytes, labels: Iterable[Label], *, caption: str = "", key: str = "") -> None:
    try:
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    except Exception as exc:  # a broken file must not break the page
        st.error(f"The image could not be shown: {plain(exc)}")
        return
    image.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
    st.image(draw_boxes(image, labels), caption=caption or None, width="stretch")
