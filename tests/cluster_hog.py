"""A Dask worker preload for the memory-limit test: the "hog" labeler labels every image at once, except a 99x99
one, for which it allocates memory until the worker's nanny stops the process."""
from __future__ import annotations

import time

import numpy as np
from PIL import Image

from core import labelers
from core.domain import Label, Prediction

HOG_SIZE = (99, 99)


class HogLabeler:
    name = "hog"
    model_version = "hog-1"

    def predict(self, images):
        out = []
        for ref in images:
            with Image.open(ref.path) as image:
                if image.size == HOG_SIZE:
                    _eat_memory()
            out.append(Prediction(media_id=ref.media_id, model_version=self.model_version,
                                  labels=(Label(name="Thing", confidence=0.9),), source="hog"))
        return out


def _eat_memory() -> None:
    held = []
    while True:  # 50 MB every 20 ms, each page touched: the nanny checks the worker's memory every 100 ms
        held.append(np.ones(50 * 2 ** 20, dtype=np.uint8))
        time.sleep(0.02)


labelers.LABELERS["hog"] = lambda config: HogLabeler()
