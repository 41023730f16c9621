"""A box-drawing canvas over an image (streamlit-drawable-canvas, `labeled_rect`), starting from given boxes.

Boxes come in and go out in image fractions; the canvas works in its own pixels with the image fitted
("contain"), so the starting boxes are mapped through the same fit the canvas applies.
"""
from __future__ import annotations

import streamlit as st
from streamlit_drawable_canvas import boxes_to_drawing, st_canvas

from core.domain import BoundingBox

FILL = "rgba(255, 140, 0, 0.18)"
STROKE = "#ff8c00"


def _fit(image_size: tuple[int, int], canvas: tuple[int, int]) -> tuple[float, float, float]:
    (w, h), (cw, ch) = image_size, canvas
    scale = min(cw / w, ch / h)
    return scale, (cw - w * scale) / 2, (ch - h * scale) / 2


def box_canvas(image_bytes: bytes, image_size: tuple[int, int], start: list[tuple[str, BoundingBox]], *,
               label: str, key: str, width_px: int = 640, height_px: int = 460) -> list[dict]:
    """Draw, move (edit toggle) and delete boxes; returns boxes in source-image pixels (the starting boxes until
    the canvas has reported its fit)."""
    w, h = image_size
    scale, off_x, off_y = _fit(image_size, (width_px, height_px))
    initial = boxes_to_drawing(
        [{"label": name, "left": off_x + b.left * w * scale, "top": off_y + b.top * h * scale,
          "width": b.width * w * scale, "height": b.height * h * scale} for name, b in start],
        stroke_color=STROKE, stroke_width=2, fill_color=FILL)
    result = st_canvas(fill_color=FILL, stroke_width=2, stroke_color=STROKE, background_image=image_bytes,
                       background_image_fit="contain", drawing_mode="labeled_rect", label=label,
                       initial_drawing=initial, width=width_px, height=height_px, key=key, font_size=14)
    st.caption("Drag on the image to draw a box with the chosen label. Turn on the toolbar's edit toggle to move, "
               "resize, relabel or delete a box.")
    if result.boxes_in_image_space is None:  # the canvas has not reported yet: what it shows is the start
        return [{"label": name, "left": b.left * w, "top": b.top * h, "width": b.width * w, "height": b.height * h}
                for name, b in start]
    return result.boxes_in_image_space
