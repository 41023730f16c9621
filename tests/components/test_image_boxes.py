"""Boxes drawn onto an image for the Images page."""
from __future__ import annotations

from PIL import Image

from components.image_boxes import draw_boxes
from core.domain import BoundingBox, Instance, Label


def test_boxes_are_drawn_onto_a_copy_of_the_image():
    image = Image.new("RGB", (200, 100), "white")
    drawn = draw_boxes(image, [Label("Face", 0.9, instances=(Instance(BoundingBox(0.25, 0.5, 0.5, 0.4), 0.9),))])
    assert image.getpixel((50, 60)) == (255, 255, 255)
    assert drawn.getpixel((50, 70)) != (255, 255, 255)  # the box's left edge at x = 0.25 * 200
