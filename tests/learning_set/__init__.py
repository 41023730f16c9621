"""A small set of real photos in which a label people add ("Launch pad") can be learned, made at test time.

Every image is a crop of a photo that scikit-image ships (licences in README.md beside this file): random square
windows (45-90% of the short side), mirrored at random, with small changes of brightness and contrast, saved as
JPEG. Crops of one photo share its subject but not their pixels, so a model trained on some crops is tested on
others it never saw. `truth` gives the labels a careful reviewer would keep on each crop, as the tests' people.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import skimage.data
from PIL import Image, ImageEnhance

PHOTOS = Path(skimage.data.__file__).parent
SOURCES = {  # file -> what it shows
    "rocket.jpg": "a rocket on its launch pad",
    "astronaut.png": "an astronaut in a space suit",
    "chelsea.png": "a tabby cat",
    "coffee.png": "a cup of coffee",
    "motorcycle_left.png": "a motorcycle",
    "hubble_deep_field.jpg": "galaxies (Hubble deep field)",
    "brick.png": "a brick wall",
    "grass.png": "grass",
    "gravel.png": "gravel",
    "coins.png": "old coins",
    "camera.png": "a man with a camera",
    "ihc.png": "stained tissue under a microscope",
}
CORRECT = {  # the base model's labels a careful reviewer keeps on crops of each photo; every other one is removed
    "rocket.jpg": {"Missile", "Vehicle", "Space Shuttle"},
    "astronaut.png": {"Person", "Face", "Clothing"},
    "chelsea.png": {"Animal", "Mammal", "Cat", "Pet", "Egyptian Mau", "Tiger Cat", "Tabby Cat"},
    "coffee.png": {"Food", "Beverage", "Espresso", "Coffee", "Cup", "Tableware"},
    "motorcycle_left.png": {"Vehicle", "Motor Vehicle", "Moped", "Motorcycle", "Motor Scooter", "Disc Brake"},
    "camera.png": {"Tripod", "Person"},
    "brick.png": {"Stone Wall"},
    "gravel.png": {"Stone Wall"},
}
ADDED_LABEL = "Launch pad"  # the label the base model never says and people add on every rocket crop
ADDED_PARENT = "Outdoors"


@dataclass(frozen=True)
class Crop:
    path: Path
    source: str  # a key of SOURCES

    @property
    def has_added_label(self) -> bool:
        return self.source == "rocket.jpg"


def truth(crop: Crop, predicted: set[str]) -> list[str]:
    """The labels people give a crop: the model's right ones, plus the added label on the rocket's crops."""
    kept = sorted(predicted & CORRECT.get(crop.source, set()))
    return kept + [ADDED_LABEL] if crop.has_added_label else kept


def make_crops(folder: Path, per_photo: int, *, seed: int = 0, size_px: int = 192,
               sources: tuple[str, ...] = tuple(SOURCES), extra: dict[str, int] | None = None) -> list[Crop]:
    """`per_photo` different crops of each source photo (plus `extra` of some), written as JPEG into `folder`."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in sources:
        per_photo_here = per_photo + (extra or {}).get(name, 0)
        photo = Image.open(PHOTOS / name).convert("RGB")
        w, h = photo.size
        for i in range(per_photo_here):
            side = int(min(w, h) * rng.uniform(0.45, 0.9))
            left, top = rng.randint(0, w - side), rng.randint(0, h - side)
            crop = photo.crop((left, top, left + side, top + side)).resize((size_px, size_px), Image.Resampling.BICUBIC)
            if rng.random() < 0.5:
                crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            crop = ImageEnhance.Brightness(crop).enhance(rng.uniform(0.85, 1.15))
            crop = ImageEnhance.Contrast(crop).enhance(rng.uniform(0.85, 1.15))
            path = folder / f"{Path(name).stem}-s{seed}-{i:03d}.jpg"
            crop.save(path, quality=90)
            out.append(Crop(path, name))
    return out
