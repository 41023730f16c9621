"""Task types: one spec per type, found through the registry; answers of every type read the same way."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import LoupeError
from core.task_types import REGISTRY, answer_labels, for_label_category, routing_mismatch, task_type_of
from core.task_types.label_review import label_review_content
from core.task_types.moderation import moderation_content
from core.task_types.transcript_review import is_transcript_answer, review_answer_content

ROOT = Path(__file__).resolve().parents[2]


def test_the_registry_names_each_type_once_with_a_page_that_exists():
    assert list(REGISTRY) == ["moderation", "label_review", "transcript_review"]
    for name, spec in REGISTRY.items():
        assert spec.name == name and (ROOT / spec.page).is_file()


def test_an_unknown_task_type_is_refused_in_words():
    with pytest.raises(LoupeError, match="Task type must be one of moderation, label_review, transcript_review"):
        task_type_of("captioning")


def test_each_label_category_has_the_one_task_type_that_reviews_it():
    assert for_label_category("moderation").name == "moderation"
    assert for_label_category("general").name == "label_review"


@pytest.mark.parametrize("content,labels", [
    (moderation_content([("Weapons", "Violence")]), {"Weapons": "Violence"}),
    ({"AWS/Rekognition/DetectModerationLabels/Image/V3": {
        "ModerationLabels": [{"Name": "Pills", "ParentName": "Drugs"}]}},
     {"Pills": "Drugs"}),
    (label_review_content([("Cat", 0.91)], ["Polo shirt"], [], (10, 10), is_blind=False),
     {"Cat": "", "Polo shirt": ""}),
    (review_answer_content(2, "hello", 0.1), {}),
])
def test_answer_labels_reads_the_answer_of_every_task_type(content, labels):
    assert answer_labels(content) == labels


def test_only_a_transcript_review_answer_is_a_transcript_answer():
    assert is_transcript_answer(review_answer_content(1, "hi", None))
    assert not is_transcript_answer(moderation_content([]))


def test_a_task_type_that_does_not_review_the_routed_labels_is_named_with_the_one_that_does():
    assert routing_mismatch("moderation", "moderation") is None
    assert routing_mismatch("label_review", "general") is None
    assert routing_mismatch("transcript_review", "general") is None  # routes by its words' confidence
    assert "task type Label review" in routing_mismatch("moderation", "general")
    assert "task type Moderation" in routing_mismatch("label_review", "moderation")


def test_a_task_type_is_named_in_words_from_its_spec():
    from core.task_types import title_of

    assert title_of("label_review") == "Label review" and title_of("transcript_review") == "Transcript review"
    assert title_of("retired_type") == "retired_type"


def test_unticking_a_label_takes_its_boxes_out_of_the_answer():
    from core.task_types.label_review import orphan_box_labels

    boxes = [{"label": "Person", "left": 10, "top": 10, "width": 50, "height": 80},
             {"label": "Launch pad", "left": 5, "top": 60, "width": 40, "height": 30}]
    content = label_review_content([("Rocket", 0.88)], ["Launch pad"], boxes, (100, 100), is_blind=False)
    assert [b["label"] for b in content["boxes"]] == ["Launch pad"]
    assert orphan_box_labels([("Rocket", 0.88)], ["Launch pad"], boxes) == ["Person"]
    assert orphan_box_labels([("Person", 0.9)], ["Launch pad"], boxes) == []
