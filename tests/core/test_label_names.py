"""The "add a label" box's names come from their own records: listing them never reads a prediction or an answer, and
an unchanged list costs one key read."""
from __future__ import annotations

import time
from collections import Counter

from core.config import Config
from core.domain import Answer, Label, Prediction
from core.label_names import KIND, LISTED_KEY, LISTED_KIND
from core.service import Service
from core.stores.base import Record
from core.stores.local import LocalBlobStore, SQLiteRecordStore


class CountingStore:
    """A record store that counts the records it reads, by kind (bulk reads and key reads alike)."""

    def __init__(self, inner: SQLiteRecordStore):
        self.inner = inner
        self.read: Counter[str] = Counter()

    def query(self, kind, **kwargs):
        for rec in self.inner.query(kind, **kwargs):
            self.read[kind] += 1
            yield rec

    def page(self, kind, **kwargs):
        page = self.inner.page(kind, **kwargs)
        self.read[kind] += max(1, len(page.records))
        return page

    def get(self, kind, key):
        self.read[kind] += 1
        return self.inner.get(kind, key)

    def get_many(self, kind, keys, **kwargs):
        keys = list(keys)
        self.read[kind] += len(keys)
        return self.inner.get_many(kind, keys, **kwargs)

    def scan(self):
        for rec in self.inner.scan():
            self.read[rec.kind] += 1
            yield rec

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _service(tmp_path, records) -> Service:
    return Service(Config(data_dir=tmp_path), stores=(records, LocalBlobStore(tmp_path / "media")), start_jobs=False,
                   local_admin=True)


def test_label_suggestions_never_read_predictions_or_answers(tmp_path):
    records = CountingStore(SQLiteRecordStore(tmp_path / "records.sqlite3"))
    svc = _service(tmp_path, records)
    svc.predictions.save_many(Prediction(f"{i:064x}", "m-1", (Label("Cat", 0.9), Label(f"Thing {i % 7}", 0.4)))
                              for i in range(200))
    svc.answers.submit(Answer("loop-1", "ana", {"labels": [{"name": "Polo shirt"}]}))
    svc.label_names.clock = lambda: time.time() + 60  # past the settling time a fresh stamp is read again within
    records.read.clear()
    assert svc.label_names.names() == ["Cat", "Polo shirt"] + [f"Thing {i}" for i in range(7)]
    assert records.read["prediction"] == 0 and records.read["answer"] == 0
    first = sum(records.read.values())
    assert records.read[KIND] == 9  # one page of names

    records.read.clear()
    svc.label_names.names()
    svc.label_names.names()
    assert records.read[KIND] == 0 and sum(records.read.values()) == 2 < first  # a stamp read each, nothing else
    svc.close()


def test_a_store_from_before_is_listed_when_the_service_starts_and_never_again(tmp_path):
    inner = SQLiteRecordStore(tmp_path / "records.sqlite3")
    inner.put_many([Record("prediction", "a" * 64, {"media_id": "a" * 64, "model_version": "old",
                                                    "labels": [{"name": "Cat", "confidence": 0.9}]})])
    svc = _service(tmp_path, CountingStore(inner))
    assert svc.label_names_listing is not None and svc.label_names_listing.added == 1
    svc.close()

    records = CountingStore(SQLiteRecordStore(tmp_path / "records.sqlite3"))
    again = _service(tmp_path, records)
    assert again.label_names_listing is None and records.read["prediction"] == 0
    records.read.clear()
    assert again.label_names.names() == ["Cat"] and records.read["prediction"] == 0
    again.close()


def test_an_empty_store_stays_empty_at_start_and_its_first_name_marks_it_listed(tmp_path):
    svc = _service(tmp_path, SQLiteRecordStore(tmp_path / "records.sqlite3"))
    assert svc.label_names_listing is None and list(svc.records.scan()) == []
    svc.predictions.save(Prediction("a" * 64, "m-1", (Label("Cat", 0.9),)))
    assert svc.records.get(LISTED_KIND, LISTED_KEY) is not None  # the next start reads no prediction
    svc.close()
