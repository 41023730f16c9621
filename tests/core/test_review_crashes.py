"""A crash at any step of a review submit loses no answer and leaves no item stuck: the answer is written first,
and the claim's mark and the loop's completion are derived from it (repaired on the next read or by Re-consolidate).

The crash is injected in-process by a store wrapper that raises at one chosen write, as a killed process would stop
there; a fresh service over the same folder then plays the restarted app.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from core.config import Config
from core.service import Service
from core.stores.base import Record
from core.stores.local import LocalBlobStore, SQLiteRecordStore
from core.task_types.moderation import moderation_content
from tests.review_seed import seed_moderation


class SimulatedCrash(BaseException):
    """The process died here (a BaseException, so no `except Exception` in core can swallow it)."""


class CrashingRecords:
    """A record store that dies at the first write matching (operation, kind), once armed."""

    def __init__(self, inner: SQLiteRecordStore):
        self.inner = inner
        self.trap: tuple[str, str] | None = None

    def _maybe_crash(self, op: str, kind: str) -> None:
        if self.trap == (op, kind):
            self.trap = None
            raise SimulatedCrash(f"{op} {kind}")

    def create(self, kind: str, key: str, body: dict[str, Any], **kw: Any) -> Record:
        self._maybe_crash("create", kind)
        return self.inner.create(kind, key, body, **kw)

    def put(self, kind: str, key: str, body: dict[str, Any], *, expected_version: int, **kw: Any) -> Record:
        self._maybe_crash("put", kind)
        return self.inner.put(kind, key, body, expected_version=expected_version, **kw)

    def put_many(self, records: Iterable[Record]) -> int:
        records = list(records)
        for kind in {r.kind for r in records}:
            self._maybe_crash("put_many", kind)
        return self.inner.put_many(records)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


# Every write a submit makes, in the order today's code makes them.
SUBMIT_STEPS = [("create", "answer"), ("put", "loop"), ("put_many", "consolidated"), ("put", "media"),
                ("put", "claim")]


@pytest.mark.parametrize("step", SUBMIT_STEPS, ids=lambda s: f"{s[0]}-{s[1]}")
def test_a_crash_at_any_step_of_a_submit_loses_nothing_and_leaves_nothing_stuck(tmp_path, step):
    config = Config(data_dir=tmp_path / "data")
    records = CrashingRecords(SQLiteRecordStore(config.data_dir / "loupe.sqlite3"))
    service = Service(config, stores=(records, LocalBlobStore(config.data_dir / "media")))
    (loop,) = seed_moderation(service, task_count=1)
    task = service.review.next_task("ana")
    records.trap = step
    with pytest.raises(SimulatedCrash):
        service.review.submit(task, moderation_content([("Weapons", "Violence")]))
    service.close()

    restarted = Service(config)  # the app after the crash
    try:
        answers = restarted.answers.for_loop(loop.loop_id)
        if not answers:  # the crash came before the answer was written: ana can take the task again at once
            again = restarted.review.next_task("ana")
            assert again is not None and again.loop.loop_id == loop.loop_id
            restarted.review.submit(again, moderation_content([("Weapons", "Violence")]))
        else:  # the answer is in: nobody else is handed a slot that is already answered
            assert restarted.review.next_task("ben") is None
        restarted.review.repair_loops()
        restarted.consolidation.reconsolidate_all()
        assert [a.worker_id for a in restarted.answers.for_loop(loop.loop_id)] == ["ana"]
        assert restarted.loops.get(loop.loop_id).status == "Completed"
        assert restarted.consolidation.get(loop.media_id).accepted == {"Weapons"}
        assert restarted.review.summary("ben")[0].open_loops == 0
    finally:
        restarted.close()


def test_a_slot_marked_submitted_without_its_answer_goes_back_to_the_queue(service):
    """What a crash left behind with the order before this fix: the claim says submitted, no answer exists."""
    from core.domain import as_dict
    from core.review import CLAIM_KIND, Claim, claim_key

    (loop,) = seed_moderation(service, task_count=1)
    task = service.review.next_task("ana")
    key = claim_key(loop.loop_id, task.slot)
    rec = service.records.get(CLAIM_KIND, key)
    service.records.put(CLAIM_KIND, key, {**rec.body, "is_submitted": True}, expected_version=rec.version,
                        parent=loop.loop_id)
    again = service.review.next_task("ana")
    assert again is not None and again.loop.loop_id == loop.loop_id
    outcome = service.review.submit(again, moderation_content([]))
    assert outcome.is_recorded and outcome.is_completed
    assert as_dict(Claim(loop.loop_id, 0, "x", 0, 0))  # the claim shape is unchanged


def test_re_consolidate_completes_a_loop_whose_answers_are_all_in(service):
    from core.answers import answer_key
    from core.domain import Answer, as_dict

    (loop,) = seed_moderation(service, task_count=1)
    service.records.create("answer", answer_key(loop.loop_id, "ana"),
                           as_dict(Answer(loop.loop_id, "ana", moderation_content([("Weapons", "Violence")]),
                                          submission_time="2026-01-01T00:00:00.000Z")), parent=loop.loop_id)
    assert service.loops.get(loop.loop_id).status == "InProgress"
    assert service.review.repair_loops() == 1
    assert service.loops.get(loop.loop_id).status == "Completed"
    assert service.consolidation.get(loop.media_id).accepted == {"Weapons"}
    assert service.review.repair_loops() == 0
