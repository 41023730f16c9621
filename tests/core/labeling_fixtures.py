"""Shared, expensive things for the labeling tests: the real local labeler (built once) and real photos."""
from __future__ import annotations

from pathlib import Path

import skimage.data

PHOTOS = Path(skimage.data.__file__).parent
ASTRONAUT, CAT, COFFEE, MOTORCYCLE = (PHOTOS / n for n in ("astronaut.png", "chelsea.png", "coffee.png",
                                                            "motorcycle_left.png"))
