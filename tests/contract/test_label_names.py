"""Known label names are records of their own, on every store: written as predictions and answers are saved, listed a
page at a time, kept right across processes, and listed once from the records of a store that predates them."""
from __future__ import annotations

import time

from core import changes
from core.answers import Answers
from core.domain import Answer, Label, Prediction
from core.label_names import KIND, LISTED_KEY, LISTED_KIND, LabelNames, label_name_records
from core.predictions import Predictions
from core.stores.base import Record
from tests.contract.test_paging_and_counters import _open_again
from tests.processes import run_together


def _prediction(media_id: str, *names: str) -> Prediction:
    return Prediction(media_id, "test-1", tuple(Label(n, 0.9) for n in names))


def _later() -> float:
    return time.time() + 60  # a reader whose stamps are all settled (DynamoDB's indexes have caught up)


def test_saved_predictions_and_answers_list_their_label_names_once_each(records):
    names = LabelNames(records)
    Predictions(records, names).save_many([_prediction("a" * 64, "Cat", "Mammal"), _prediction("b" * 64, "Cat")])
    Answers(records, names).submit(Answer("loop-1", "ana", {"labels": [{"name": "Polo shirt"}, {"name": "Cat"}]}))
    Answers(records).submit(Answer("loop-2", "ben", {"moderation": {"categories": ["Weapons"]}}))  # names no label
    assert names.names() == ["Cat", "Mammal", "Polo shirt"]
    assert sorted(r.key for r in records.query(KIND)) == ["Cat", "Mammal", "Polo shirt"]
    Predictions(records).save(_prediction("c" * 64, "Cat", "  Dog ", "x" * 201, ""))  # another process's handle
    assert LabelNames(records).names() == ["Cat", "Dog", "Mammal", "Polo shirt"]  # trimmed; too long or empty: left out


def test_a_cached_list_follows_names_another_process_adds(records, reopen_records):
    reader = LabelNames(reopen_records(records), clock=_later)
    Predictions(records).save(_prediction("a" * 64, "Cat"))
    assert reader.names() == ["Cat"]
    assert reader.names() == ["Cat"]  # unchanged: from the cache (see tests/core/test_label_names.py)
    Predictions(records).save(_prediction("b" * 64, "Dog"))
    assert reader.names() == ["Cat", "Dog"]


def test_names_are_read_a_page_at_a_time(records):
    many = [f"label {i:04d}" for i in range(1203)]
    records.put_many(label_name_records(many))
    changes.stamp(records, changes.LABEL_NAMES)
    assert LabelNames(records).names() == many


def test_a_store_from_before_the_list_is_listed_once(records):
    records.put_many([Record("prediction", "a" * 64, {"media_id": "a" * 64, "model_version": "old",
                                                      "labels": [{"name": "Cat", "confidence": 0.9}]}),
                      Record("answer", "loop-1|ana", {"loop_id": "loop-1", "worker_id": "ana",
                                                      "content": {"labels": [{"name": "Polo shirt"}]}})])
    listing = LabelNames(records).ensure_listed()
    assert (listing.names, listing.added, listing.predictions, listing.answers) == (2, 2, 1, 1)
    assert "2 were missing from the list and are listed now" in listing.summary()
    assert records.get(LISTED_KIND, LISTED_KEY) is not None
    assert LabelNames(records).ensure_listed() is None  # done once: the marker says so
    assert LabelNames(records, clock=_later).names() == ["Cat", "Polo shirt"]


def save_labels(backend: str, where: str, prefix: str, rounds: int) -> None:
    """One app process saving predictions with names of its own and names the other process saves too."""
    records = _open_again(backend, where)
    predictions = Predictions(records)
    for i in range(rounds):
        predictions.save(_prediction(f"{prefix}{i:063x}", f"{prefix} only {i}", f"shared {i}", "Cat"))
    Answers(records).submit(Answer(f"loop-{prefix}", prefix, {"labels": [{"name": f"added by {prefix}"}]}))
    records.close()


def test_two_processes_writing_labels_at_once_leave_every_name_listed(records, backend):
    rounds = 12 if backend == "local" else 6
    where = str(records.path) if backend == "local" else records.table
    run_together(f"{__name__}:save_labels", [[backend, where, p, rounds] for p in ("a", "b")], timeout_s=300)
    expected = {"Cat", "added by a", "added by b"} | {f"shared {i}" for i in range(rounds)} | \
        {f"{p} only {i}" for p in "ab" for i in range(rounds)}
    assert LabelNames(records, clock=_later).names() == sorted(expected)
