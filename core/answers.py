"""Reviewers' answers: one per (human loop, worker), create-only so a double submit is recorded once."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

from core import changes
from core.domain import Answer, as_dict, from_dict, utc_now
from core.errors import AlreadyExists
from core.label_names import LabelNames, answer_label_names
from core.stores.base import RecordStore
from core.task_types.transcript_review import is_transcript_answer

KIND = "answer"
SET_ASIDE_KIND = "answer_set_aside"  # a second, different answer under a name that had already answered


def answer_key(loop_id: str, worker_id: str) -> str:
    return f"{loop_id}|{worker_id}"


class Answers:
    def __init__(self, records: RecordStore, label_names: LabelNames | None = None):
        self.records = records
        self.label_names = label_names or LabelNames(records)

    def submit(self, answer: Answer) -> bool:
        """Record an answer; False if this worker already answered this loop (the first answer stands)."""
        if not answer.submission_time:
            answer = replace(answer, submission_time=utc_now())
        try:
            self.records.create(KIND, answer_key(answer.loop_id, answer.worker_id), as_dict(answer),
                                parent=answer.loop_id)
        except AlreadyExists:
            return False
        changes.stamp(self.records, changes.ANSWERS, loops=[answer.loop_id])
        self.label_names.note(answer_label_names(answer.content))  # labels people added become suggestions
        return True

    def set_aside(self, answer: Answer) -> None:
        """Keep an answer that did not count (its reviewer's name had already answered this loop), so nothing a
        person submitted is ever lost; it is not consolidated or exported."""
        key = f"{answer.loop_id}|{answer.worker_id}|{uuid.uuid4().hex[:12]}"
        self.records.create(SET_ASIDE_KIND, key, as_dict(answer), parent=answer.loop_id)

    def set_aside_for(self, loop_id: str) -> list[Answer]:
        return [from_dict(Answer, r.body) for r in self.records.query(SET_ASIDE_KIND, parent=loop_id)]

    def for_loop(self, loop_id: str) -> list[Answer]:
        return [from_dict(Answer, r.body) for r in self.records.query(KIND, parent=loop_id)]

    def all(self) -> Iterator[Answer]:
        for rec in self.records.query(KIND):
            yield from_dict(Answer, rec.body)

    def label_task_seconds(self) -> list[float]:
        """Time spent on each answer to a labeling task (transcript reviews left out: they cost differently)."""
        return [a.time_spent_s for a in self.all() if not is_transcript_answer(a.content)]

    def count(self) -> int:
        return self.records.count(KIND)
