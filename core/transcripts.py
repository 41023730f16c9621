"""Stored transcripts: every save is a new, immutable version, with review state, tweaks and the model's WER.

Record kinds:
- "transcript", key "{media_id}|v{n:05d}", parent media_id: version n, created once and never changed. Two
  saves of the same next number collide on the create; the later one is kept as its own newer version, so
  nothing is lost, and the caller is told whose version it raced (`SaveOutcome.conflict_with`).
- "transcript_head", key media_id: the newest number known and the review state (a hint; readers probe past it).
- "transcript_tweaks", key project: find-and-replace rules such as `A.W.S.=AWS`, edited with version checks.
The model's transcript is version 1. Because versions never change, parsed versions are cached freely.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

from core import changes
from core.access import OPEN, Access, Actor, may_take
from core.domain import Transcript, as_dict, from_dict, utc_now
from core.errors import AlreadyExists, LoupeError, NotFound, VersionConflict
from core.stores.base import RecordStore
from core.task_types import transcript_review
from core.task_types.transcript_review import review_answer_content
from core.transcript_text import Tweak, word_error_rate

log = logging.getLogger(__name__)

KIND = "transcript"
HEAD_KIND = "transcript_head"
TWEAKS_KIND = "transcript_tweaks"
MODEL_NOTE = "model"


@dataclass(frozen=True)
class TranscriptVersion:
    media_id: str
    number: int
    transcript: Transcript
    saved_by: str
    saved_at: str
    note: str = ""  # "model", "edit", "restored v2", "conflict copy"
    base_number: int = 0  # the version this one was edited from (0 for the model's)


@dataclass(frozen=True)
class SaveOutcome:
    version: TranscriptVersion
    conflict_with: TranscriptVersion | None = None  # someone else's version that won the race; both are kept


@dataclass(frozen=True)
class ReviewState:
    media_id: str
    latest: int = 0
    reviewed_number: int = 0
    reviewed_by: str = ""
    reviewed_at: str = ""

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed_number > 0


def version_key(media_id: str, number: int) -> str:
    return f"{media_id}|v{number:05d}"


class Transcripts:
    access: Access = OPEN  # the service sets its own
    def __init__(self, records: RecordStore, catalog=None, loops=None, workflows=None, cache_size: int = 64,
                 review=None):
        self.records = records
        self.catalog = catalog
        self.loops = loops
        self.workflows = workflows
        self.review = review  # core.review.Review: records a marked review as each open loop's answer
        self.generation = 0  # bumped on every review here, so cached results know to refresh
        self._cache: OrderedDict[tuple[str, int], TranscriptVersion] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._wer_cache: dict[tuple[str, int, int], float | None] = {}

    # ---- reading ------------------------------------------------------------------------------------
    def get_version(self, media_id: str, number: int) -> TranscriptVersion:
        with self._lock:
            cached = self._cache.get((media_id, number))
            if cached:
                self._cache.move_to_end((media_id, number))
                return cached
        rec = self.records.get(KIND, version_key(media_id, number))
        if rec is None:
            raise NotFound("transcript version", version_key(media_id, number))
        version = _version_from_body(rec.body)
        with self._lock:
            self._cache[(media_id, number)] = version
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return version

    def latest_number(self, media_id: str) -> int:
        """The newest version number (0 if none): the head's hint, then a probe past it for newer saves."""
        number = self.review_state(media_id).latest
        while self.records.get(KIND, version_key(media_id, number + 1)) is not None:
            number += 1
        return number

    def latest(self, media_id: str) -> TranscriptVersion | None:
        number = self.latest_number(media_id)
        return self.get_version(media_id, number) if number else None

    def versions(self, media_id: str) -> list[TranscriptVersion]:
        """All versions, newest first."""
        return [self.get_version(media_id, n) for n in range(self.latest_number(media_id), 0, -1)]

    def model_version_of(self, media_id: str, before: int | None = None) -> TranscriptVersion | None:
        """The newest model-made version (at or before `before`)."""
        top = before or self.latest_number(media_id)
        for n in range(top, 0, -1):
            version = self.get_version(media_id, n)
            if version.note == MODEL_NOTE:
                return version
        return None

    def head_count(self) -> int:
        """How many items have a transcript head: changes whenever an item gets its first transcript."""
        return self.records.count(HEAD_KIND)

    def reviewed_ids(self) -> set[str]:
        """Items whose transcript a person marked reviewed."""
        return {rec.key for rec in self.records.query(HEAD_KIND) if rec.body.get("reviewed_number", 0) > 0}

    def transcribed_ids(self) -> set[str]:
        return {rec.key for rec in self.records.query(HEAD_KIND) if rec.body.get("latest", 0) > 0}

    # ---- writing ------------------------------------------------------------------------------------
    def save_model_transcript(self, media_id: str, transcript: Transcript) -> TranscriptVersion:
        """Store what a model said as the next version (version 1 for a new item)."""
        transcript = replace(transcript, media_id=media_id, created_at=transcript.created_at or utc_now(),
                             created_by=transcript.created_by or transcript.model_version)
        return self._create_next(media_id, transcript, saved_by=transcript.created_by, note=MODEL_NOTE,
                                 base_number=0, first_try=self.latest_number(media_id) + 1)

    def save_model_transcript_once(self, media_id: str, transcript: Transcript, *, since: str) -> TranscriptVersion:
        """Store what a model said as the next version, unless the newest is a model version saved since `since`
        (when the run started): that one is this run's own, saved by a worker that finished at the same moment, or
        before a retry. So a run saves one version however many processes, or times, it saves."""
        transcript = replace(transcript, media_id=media_id, created_at=transcript.created_at or utc_now(),
                             created_by=transcript.created_by or transcript.model_version)
        for _ in range(1000):
            number = self.latest_number(media_id)
            if number:
                latest = self.get_version(media_id, number)
                if latest.note == MODEL_NOTE and latest.saved_at >= since:
                    return latest
            try:
                return self._create(media_id, number + 1, transcript, saved_by=transcript.created_by, note=MODEL_NOTE,
                                    base_number=0)
            except AlreadyExists:  # someone saved that number first: theirs may be this run's own
                continue
        raise LoupeError(f"Could not save a new transcript version for {media_id[:12]}: too many concurrent saves.")

    def save(self, media_id: str, transcript: Transcript, *, base_number: int, saved_by: str = "",
             note: str = "edit", actor: Actor | None = None) -> SaveOutcome:
        """Save an edit of version `base_number` as the next version.

        If someone saved that number first, this edit is still kept, as a later version noted
        "conflict copy", and the outcome names the version it raced so the page can show both.
        """
        current = self.access.require(actor, "review")
        saved_by = self.access.reviewer_id(current, saved_by)
        if not saved_by.strip():
            raise LoupeError("Say who you are (the reviewer's name) before saving a transcript.")
        transcript = replace(transcript, media_id=media_id, created_at=utc_now(), created_by=saved_by)
        wanted = base_number + 1
        try:
            version = self._create(media_id, wanted, transcript, saved_by=saved_by, note=note, base_number=base_number)
            return SaveOutcome(version)
        except AlreadyExists:
            theirs = self.get_version(media_id, wanted)
            log.info("transcript %s: v%d was saved by %s first; keeping %s's edit as a conflict copy",
                     media_id[:12], wanted, theirs.saved_by, saved_by)
            mine = self._create_next(media_id, transcript, saved_by=saved_by, note="conflict copy",
                                     base_number=base_number, first_try=wanted + 1)
            return SaveOutcome(mine, conflict_with=theirs)

    def restore(self, media_id: str, number: int, *, base_number: int, saved_by: str = "",
                actor: Actor | None = None) -> SaveOutcome:
        """Restoring is saving the old content again as a new version; history is never rewritten."""
        old = self.get_version(media_id, number).transcript
        return self.save(media_id, old, base_number=base_number, saved_by=saved_by, note=f"restored v{number}",
                         actor=actor)

    def _create_next(self, media_id: str, transcript: Transcript, *, saved_by: str, note: str, base_number: int,
                     first_try: int) -> TranscriptVersion:
        number = max(1, first_try)
        for _ in range(1000):
            try:
                return self._create(media_id, number, transcript, saved_by=saved_by, note=note, base_number=base_number)
            except AlreadyExists:
                number += 1
        raise LoupeError(f"Could not save a new transcript version for {media_id[:12]}: too many concurrent saves.")

    def _create(self, media_id: str, number: int, transcript: Transcript, *, saved_by: str, note: str,
                base_number: int) -> TranscriptVersion:
        version = TranscriptVersion(media_id, number, transcript, saved_by, transcript.created_at, note, base_number)
        self.records.create(KIND, version_key(media_id, number), _version_body(version), parent=media_id)
        self._update_head(media_id, lambda head: replace(head, latest=max(head.latest, number)))
        return version

    # ---- review -------------------------------------------------------------------------------------
    def review_state(self, media_id: str) -> ReviewState:
        rec = self.records.get(HEAD_KIND, media_id)
        return from_dict(ReviewState, rec.body) if rec else ReviewState(media_id)

    def mark_reviewed(self, media_id: str, *, reviewer: str = "", accepted_at_s: float | None = None,
                      actor: Actor | None = None) -> ReviewState:
        """Record that `reviewer` approved the newest version, set the media to reviewed, and answer its open
        transcript_review loops of workflows whose work team has them (see `review_answer_content`);
        `accepted_at_s` is when they opened the item."""
        current = self.access.require(actor, "review")
        reviewer = self.access.reviewer_id(current, reviewer)
        if not reviewer.strip():
            raise LoupeError("Say who you are (the reviewer's name) before marking a transcript reviewed.")
        number = self.latest_number(media_id)
        if number == 0:
            raise LoupeError("This item has no transcript yet; transcribe it first.")
        state = self._update_head(media_id, lambda head: replace(
            head, latest=max(head.latest, number), reviewed_number=number, reviewed_by=reviewer, reviewed_at=utc_now()))
        self.generation += 1
        if self.catalog is not None:
            self.catalog.set_status(media_id, "reviewed")
        self._answer_loops(media_id, reviewer.strip(), number, accepted_at_s, current)
        return state

    def _answer_loops(self, media_id: str, reviewer: str, number: int, accepted_at_s: float | None,
                      actor: Actor) -> None:
        """Each open transcript_review loop of the item gets the reviewer's answer, through the review queue's
        path (once per loop and reviewer; the loop completes when its task_count answers are in)."""
        if self.loops is None:
            return
        loops = [lp for lp in self.loops.for_media(media_id)
                 if lp.status == "InProgress" and self._is_transcript_workflow(lp.workflow)
                 and may_take(actor, self.workflows.get(lp.workflow))]
        if not loops:
            return
        content = review_answer_content(number, self.get_version(media_id, number).transcript.text,
                                        self.word_error_rate(media_id))
        for loop in loops:
            if self.review is None:  # no queue wired (bare core use): close the loop as before
                self.loops.set_status(loop.loop_id, "Completed")
                continue
            outcome = self.review.record_answer(loop, reviewer, content, accepted_at_s=accepted_at_s, actor=actor)
            log.info("transcript %s: %s's review of v%d on loop %s: %s", media_id[:12], reviewer, number,
                     loop.loop_id, outcome.message)

    def _is_transcript_workflow(self, name: str) -> bool:
        if self.workflows is None:
            return False
        try:
            return self.workflows.get(name).task_type == transcript_review.SPEC.name
        except NotFound:
            return False

    def word_error_rate(self, media_id: str) -> float | None:
        """WER of the model's transcript against the reviewed one (or the newest, before review); None if
        there is nothing to compare. This is the measured accuracy of the model on this file."""
        state = self.review_state(media_id)
        reference_number = state.reviewed_number or self.latest_number(media_id)
        if not reference_number:
            return None
        model = self.model_version_of(media_id, before=reference_number)
        if model is None:
            return None
        cache_key = (media_id, reference_number, model.number)
        if cache_key not in self._wer_cache:  # versions never change, so neither does the WER between two
            self._wer_cache[cache_key] = word_error_rate(
                self.get_version(media_id, reference_number).transcript.text, model.transcript.text)
        return self._wer_cache[cache_key]

    def _update_head(self, media_id: str, change) -> ReviewState:
        for _ in range(10):
            rec = self.records.get(HEAD_KIND, media_id)
            head = change(from_dict(ReviewState, rec.body) if rec else ReviewState(media_id))
            try:
                if rec is None:
                    self.records.create(HEAD_KIND, media_id, as_dict(head))
                else:
                    self.records.put(HEAD_KIND, media_id, as_dict(head), expected_version=rec.version)
                changes.stamp(self.records, changes.TRANSCRIPTS, media=[media_id])
                return head
            except (AlreadyExists, VersionConflict):
                continue
        raise LoupeError(f"Could not update the transcript state of {media_id[:12]}: it kept changing. Try again.")

    # ---- tweaks -------------------------------------------------------------------------------------
    def tweaks(self, project: str = "default") -> tuple[list[Tweak], int | None]:
        """The project's find-and-replace rules and the record version to pass back when saving them."""
        rec = self.records.get(TWEAKS_KIND, project)
        if rec is None:
            return [], None
        return [Tweak(t["find"], t["replace"]) for t in rec.body.get("tweaks", [])], rec.version

    def save_tweaks(self, tweaks: list[Tweak], *, expected_version: int | None, project: str = "default",
                    actor: Actor | None = None) -> int:
        self.access.require(actor, "review")
        body = {"tweaks": [{"find": t.find, "replace": t.replace} for t in tweaks], "updated_at": utc_now()}
        if expected_version is None:
            try:
                return self.records.create(TWEAKS_KIND, project, body).version
            except AlreadyExists:
                current = self.records.get(TWEAKS_KIND, project)
                raise VersionConflict(TWEAKS_KIND, project, None, current.version if current else None,
                                      current.body if current else None) from None
        return self.records.put(TWEAKS_KIND, project, body, expected_version=expected_version).version


def _version_body(version: TranscriptVersion) -> dict:
    return {"media_id": version.media_id, "number": version.number, "saved_by": version.saved_by,
            "saved_at": version.saved_at, "note": version.note, "base_number": version.base_number,
            "transcript": as_dict(version.transcript)}


def _version_from_body(body: dict) -> TranscriptVersion:
    return TranscriptVersion(body["media_id"], int(body["number"]), from_dict(Transcript, body["transcript"]),
                             body.get("saved_by", ""), body.get("saved_at", ""), body.get("note", ""),
                             int(body.get("base_number", 0)))
