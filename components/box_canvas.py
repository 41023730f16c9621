"""A box-drawing canvas over an image (streamlit-drawable-canvas, `labeled_rect`), starting from given boxes, sized
to fit its column.

The canvas takes a fixed size in pixels, so the page measures its column in the browser (components/column_size.py)
and the canvas gets that width and the image's aspect ratio, no taller than the window leaves room for. Boxes come in
as image fractions and go out in source-image pixels; the canvas works in its own pixels with the image fitted
("contain"), so starting boxes are mapped through the same fit the canvas applies. When the column's width changes
(a window resize), a canvas of the new size starts from the boxes the old one last reported, so no box is lost.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from components.column_size import ColumnSize
from core.domain import BoundingBox

FILL = "rgba(255, 140, 0, 0.18)"
STROKE = "#ff8c00"
MIN_HEIGHT_PX = 240
ROOM_BELOW_PX = 330  # the window height above and below the canvas: title, captions, the box-label picker


@dataclass(frozen=True)
class CanvasSize:
    width_px: int
    height_px: int


def canvas_size(image_size: tuple[int, int], room: ColumnSize) -> CanvasSize:
    """The canvas for this image in this column: the column's width, the image's aspect ratio, and no taller than
    the window leaves room for (then narrower, so no width is wasted on margins)."""
    w, h = max(1, image_size[0]), max(1, image_size[1])
    width = room.width_px
    max_height = max(MIN_HEIGHT_PX, room.window_height_px - ROOM_BELOW_PX)
    height = round(width * h / w)
    if height > max_height:
        height = max_height
        width = min(width, round(height * w / h))
    return CanvasSize(max(1, int(width)), max(1, int(height)))


def _fit(image_size: tuple[int, int], canvas: CanvasSize) -> tuple[float, float, float]:
    (w, h) = image_size
    scale = min(canvas.width_px / w, canvas.height_px / h)
    return scale, (canvas.width_px - w * scale) / 2, (canvas.height_px - h * scale) / 2


def box_canvas(image_bytes: bytes, image_size: tuple[int, int], start: list[tuple[str, BoundingBox]], *,
               label: str, key: str, room: ColumnSize | None) -> list[dict]:
    """Draw, move (edit toggle) and delete boxes in a canvas that fits `room` (None: not measured yet, so no canvas
    this run); returns boxes in source-image pixels (the starting boxes until the canvas has reported its fit)."""
    w, h = max(1, image_size[0]), max(1, image_size[1])
    last_key = f"{key}.last_boxes"  # source-image pixels, as the canvas last reported them
    if last_key not in st.session_state:
        st.session_state[last_key] = [{"label": name, "left": b.left * w, "top": b.top * h, "width": b.width * w,
                                       "height": b.height * h} for name, b in start]
    if room is None:  # the browser reports the column's size on its first run; a canvas drawn now would be redrawn
        st.caption("Fitting the image to this column…")
        return st.session_state[last_key]
    from streamlit_drawable_canvas import st_canvas  # registers its component on import: only in a running app

    size = canvas_size((w, h), room)
    canvas_key = f"{key}.{size.width_px}x{size.height_px}"
    initial = st.session_state.setdefault(f"{canvas_key}.initial", _drawing(st.session_state[last_key], (w, h), size))
    result = st_canvas(fill_color=FILL, stroke_width=2, stroke_color=STROKE, background_image=image_bytes,
                       background_image_fit="contain", drawing_mode="labeled_rect", label=label,
                       initial_drawing=initial, width=size.width_px, height=size.height_px, key=canvas_key,
                       font_size=14)
    if result.boxes_in_image_space is not None:  # None: the canvas has not reported yet, so it shows the start
        st.session_state[last_key] = result.boxes_in_image_space
    return st.session_state[last_key]


def _drawing(boxes: list[dict], image_size: tuple[int, int], size: CanvasSize) -> dict:
    from streamlit_drawable_canvas import boxes_to_drawing

    scale, off_x, off_y = _fit(image_size, size)
    return boxes_to_drawing(
        [{"label": b["label"], "left": off_x + b["left"] * scale, "top": off_y + b["top"] * scale,
          "width": b["width"] * scale, "height": b["height"] * scale} for b in boxes],
        stroke_color=STROKE, stroke_width=2, fill_color=FILL)
