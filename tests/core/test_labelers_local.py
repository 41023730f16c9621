"""The bundled labeler on real photos: the ONNX graph against its reference, labels, people, moderation."""
from __future__ import annotations

import json
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.errors import LoupeError
from core.labelers import ImageRef, LabelingFailed, efficientnet, imagenet_hierarchy, moderation
from core.labelers.local import LocalLabeler
from core.labelers.torch_legacy import read_state_dict
from tests.core.labeling_fixtures import ASTRONAUT, CAT, COFFEE, MOTORCYCLE, PHOTOS

REFERENCE = Path(__file__).parent / "fixtures" / "efficientnet_lite0_reference.json"
TAXONOMY_6_1 = {
    "Explicit Nudity": {"Nudity", "Graphic Male Nudity", "Graphic Female Nudity", "Sexual Activity",
                        "Illustrated Explicit Nudity", "Adult Toys"},
    "Suggestive": {"Female Swimwear Or Underwear", "Male Swimwear Or Underwear", "Partial Nudity", "Barechested Male",
                   "Revealing Clothes", "Sexual Situations"},
    "Violence": {"Graphic Violence Or Gore", "Physical Violence", "Weapon Violence", "Weapons", "Self Injury"},
    "Drugs": {"Drug Products", "Drug Use", "Pills", "Drug Paraphernalia"},
    "Alcohol": {"Drinking", "Alcoholic Beverages"},
}


@pytest.fixture(scope="session")
def labeler(tmp_path_factory) -> LocalLabeler:
    return LocalLabeler(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def labeled(labeler) -> dict[str, dict]:
    """Each photo's labels by name, labeled once for the whole session."""
    out = {}
    for path in (ASTRONAUT, CAT, COFFEE, MOTORCYCLE):
        (prediction,) = labeler.predict([ImageRef(path.name, path=path)])
        out[path.name] = {lb.name: lb for lb in prediction.labels}
        out[path.name]["__prediction__"] = prediction
    return out


@pytest.mark.parametrize("case", json.loads(REFERENCE.read_text())["cases"], ids=lambda c: c["image"])
def test_the_onnx_graph_gives_the_reference_top5_classes_and_probabilities(labeler, case):
    image = Image.open(PHOTOS / case["image"].split("/")[-1])
    probs = labeler.classify(image)
    top = np.argsort(-probs)[:5]
    assert [int(i) for i in top] == case["top5_ids"]
    np.testing.assert_allclose(probs[top], case["top5_probabilities"], atol=2e-4)
    assert probs.sum() == pytest.approx(1.0, abs=1e-4)


def test_the_onnx_graph_is_built_once_and_cached_in_the_given_folder(tmp_path):
    first = efficientnet.ensure_onnx(tmp_path)
    stamp = first.stat().st_mtime_ns
    again = efficientnet.ensure_onnx(tmp_path)
    assert again == first and again.stat().st_mtime_ns == stamp
    assert first.parent == tmp_path and first.suffix == ".onnx"


def test_the_legacy_weights_reader_refuses_anything_but_a_state_dict(tmp_path):
    evil = tmp_path / "evil.pth"
    with open(evil, "wb") as fh:
        for obj in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
            pickle.dump(obj, fh, protocol=2)
        fh.write(b"cos\nsystem\n(S'echo pwned'\ntR.")
    with pytest.raises(LoupeError, match="os.system"):
        read_state_dict(evil)


def test_the_packaged_weights_read_as_efficientnet_lite0():
    state = read_state_dict(efficientnet.weights_path())
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert [s.kernel for s in efficientnet.block_specs(state)] == [3, 3, 3, 5, 5, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 3]


def test_the_astronaut_is_a_person_with_a_face_boxed_inside_the_image(labeled):
    labels = labeled["astronaut.png"]
    assert labels["Person"].confidence > 0.7 and labels["Face"].confidence > 0.7
    assert labels["Face"].parents == ("Person",)
    (face,) = labels["Face"].instances
    assert 0.25 < face.box.left < 0.45 and 0.05 < face.box.top < 0.25  # her face, upper middle of the photo
    for inst in labels["Person"].instances + labels["Face"].instances:
        b = inst.box
        assert 0 <= b.left <= 1 and 0 <= b.top <= 1 and b.left + b.width <= 1.0001 and b.top + b.height <= 1.0001


def test_the_cat_is_a_cat_and_an_animal_with_parents(labeled):
    labels = labeled["chelsea.png"]
    assert labels["Cat"].confidence > 0.8 and labels["Animal"].confidence > 0.8
    assert labels["Cat"].parents[:2] == ("Mammal", "Animal")
    assert "Person" not in labels and "Face" not in labels


def test_the_coffee_is_a_cup_or_coffee(labeled):
    labels = labeled["coffee.png"]
    assert max(labels[n].confidence for n in ("Cup", "Coffee", "Espresso") if n in labels) > 0.5
    assert "Person" not in labels and "Face" not in labels


def test_the_motorcycle_is_a_motorcycle_and_a_vehicle(labeled):
    labels = labeled["motorcycle_left.png"]
    assert labels["Motorcycle"].confidence > 0.3 and labels["Vehicle"].confidence > 0.5
    assert "Vehicle" in labels["Motorcycle"].parents
    assert "Person" not in labels and "Face" not in labels


def test_every_prediction_carries_the_model_version_and_no_moderation_labels_on_ordinary_photos(labeled):
    for name, labels in labeled.items():
        prediction = labels["__prediction__"]
        assert prediction.model_version.startswith("loupe-local-1/efficientnet-lite0-")
        assert not [lb for lb in prediction.labels if lb.category == "moderation"], name
        assert all(0.0 <= lb.confidence <= 1.0 for lb in prediction.labels)


def test_a_broken_image_fails_alone_in_plain_words(labeler):
    results = labeler.predict([ImageRef("bad", data=b"not an image"), ImageRef("cat", path=CAT)])
    assert isinstance(results[0], LabelingFailed) and "not an image Loupe can read" in str(results[0])
    assert results[1].media_id == "cat"


def test_job_threads_share_one_labeler_safely(labeler):
    results: list = []

    def work():
        results.extend(labeler.predict([ImageRef("cat", path=CAT)]))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tops = {max(p.labels, key=lambda lb: lb.confidence).name for p in results}
    assert len(results) == 4 and len(tops) == 1


@pytest.mark.parametrize("class_id, name, parent", [
    (413, "Weapons", "Violence"), (440, "Alcoholic Beverages", "Alcohol"), (720, "Pills", "Drugs"),
    (445, "Female Swimwear Or Underwear", "Suggestive"), (842, "Male Swimwear Or Underwear", "Suggestive")])
def test_imagenet_classes_map_to_moderation_labels_with_their_top_level(class_id, name, parent):
    probs = np.zeros(1000)
    probs[class_id] = 0.9
    found = {lb.name: lb for lb in moderation.load().labels(probs, 0.01)}
    assert found[name].parent_name == parent and found[name].taxonomy_level == 2
    assert found[name].confidence == pytest.approx(0.9)
    assert found[parent].taxonomy_level == 1 and found[parent].parent_name == ""
    assert name in TAXONOMY_6_1[parent]


@pytest.mark.parametrize("score, expected", [(0.95, {"Explicit Nudity", "Nudity"}), (0.5, {"Suggestive"}),
                                             (0.1, set())])
def test_the_nsfw_score_maps_to_explicit_nudity_or_suggestive(score, expected):
    found = {lb.name for lb in moderation.load().labels(None, score)}
    assert found == expected


def test_label_tables_say_where_they_came_from_and_parents_are_labels_themselves():
    data = json.loads(imagenet_hierarchy.DATA.read_text())
    assert "WordNet" in data["about"] and "imagenet-classes" in data["about"]
    assert "6.1" in json.loads(moderation.DATA.read_text())["about"]
    tax = imagenet_hierarchy.load()
    for parents in tax.parents.values():
        assert all(p in tax.parents for p in parents)
    assert not {"Entity", "Object", "Artifact", "Whole"} & set(tax.label_names)


def test_the_labeling_core_never_imports_streamlit():
    import subprocess
    import sys

    code = ("import sys, core.labeling, core.labelers.local, core.labelers.rekognition, core.formats.rekognition, "
            "core.formats.label_table, core.cli.labeling; print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False"


def test_a_damaged_cached_graph_is_rebuilt(tmp_path):
    path = efficientnet.ensure_onnx(tmp_path)
    path.write_bytes(b"truncated")
    rebuilt = LocalLabeler(tmp_path)
    assert rebuilt.classify(Image.open(CAT)).argmax() in (281, 282, 285)
    assert path.stat().st_size > 10_000_000


def test_the_registry_names_both_labelers_and_each_answers_the_labeler_protocol(labeler, tmp_path):
    from core.config import Config
    from core.labelers import Labeler, available, create
    from core.labelers.rekognition import RekognitionLabeler

    assert available() == ("local", "rekognition")
    assert isinstance(labeler, Labeler) and isinstance(RekognitionLabeler(client=object()), Labeler)
    with pytest.raises(LoupeError, match="Unknown labeler 'nope': choose one of local, rekognition"):
        create("nope", Config(data_dir=tmp_path))
