"""The label review canvas's size: the column's width, the image's shape, and no taller than the window allows."""
from __future__ import annotations

import pytest

from components.box_canvas import MIN_HEIGHT_PX, ROOM_BELOW_PX, CanvasSize, canvas_size
from components.column_size import ColumnSize


@pytest.mark.parametrize("column_px", [499, 560, 680, 900, 1400])
def test_a_landscape_image_takes_the_whole_column_width_at_its_own_aspect_ratio(column_px):
    size = canvas_size((640, 427), ColumnSize(column_px, 2000))
    assert size.width_px == column_px and size.height_px == round(column_px * 427 / 640)


def test_a_tall_image_is_capped_by_the_window_and_narrowed_to_keep_its_shape():
    size = canvas_size((400, 1200), ColumnSize(500, 800))
    assert size == CanvasSize(round((800 - ROOM_BELOW_PX) * 400 / 1200), 800 - ROOM_BELOW_PX)


def test_a_very_short_window_still_gets_a_usable_canvas():
    assert canvas_size((1000, 1000), ColumnSize(600, 300)).height_px == MIN_HEIGHT_PX
