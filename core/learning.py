"""Learning from people: team models trained from final human answers, their versions, and applying them.

People's consolidated answers are the truth: a label kept, added or drawn on a reviewed item is a positive; a label
removed, or absent from a reviewed item's answer, is a negative for that item (per label category: a label review
says nothing about moderation labels). `core.team_model` trains one calibrated classifier per label on the image
embeddings (`core.embeddings`). Each training run that sees new answers makes a version (`local-1+team-3`) with
held-out figures per label; training the same answers again returns the version they made.

Records: "team_model" (one per version, key its zero-padded number), "team_model_label" (one per trained label of a
version, key `<number>|<label>`, parent the number: weights as base64 float32, never pickle), "team_model_state"
(key "current": the version labeling uses, so a revert is one write), "learning_settings" (key "project").
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core import automation, team_model
from core.access import OPEN, Access, Actor
from core.domain import Job, Label, Prediction, utc_now
from core.embeddings import Embedding, Embeddings
from core.errors import AlreadyExists, LoupeError, NotFound
from core.stores.base import Record, RecordStore
from core.task_types import REGISTRY
from core.task_types.spec import LABELS
from core.team_model import LabelModel, LabelReport, LabelTarget, TrainingSet

log = logging.getLogger(__name__)

JOB_KIND = "learn"
KIND, LABEL_KIND, STATE_KIND, SETTINGS_KIND = "team_model", "team_model_label", "team_model_state", "learning_settings"
TEAM_MARK = "+team-"


@dataclass(frozen=True)
class LearningSettings:
    min_positives: int = team_model.DEFAULT_MIN_EXAMPLES
    min_negatives: int = team_model.DEFAULT_MIN_EXAMPLES
    target_precision: float = team_model.DEFAULT_TARGET_PRECISION  # per-label thresholds aim at this
    retrain_after_answers: int = 0  # retrain automatically after this many new reviewed items; 0 = on demand only

    def __post_init__(self) -> None:
        if self.min_positives < 2 or self.min_negatives < 2:
            raise LoupeError("A label needs at least 2 positive and 2 negative answers to be learned.")
        if not 0.5 <= self.target_precision < 1.0:
            raise LoupeError("The target precision is a share between 0.5 and 0.99 (e.g. 0.95).")
        if self.retrain_after_answers < 0:
            raise LoupeError("Retrain after N new answers: N is 0 (off) or more.")


@dataclass(frozen=True)
class ModelVersion:
    number: int
    version: str  # "local-1+team-3"
    base_version: str  # the labeler version whose embeddings it was trained on
    created_at: str = ""
    created_by: str = ""
    digest: str = ""  # of the answers and settings it was trained on: the same again makes no new version
    answers_used: int = 0
    labels: tuple[LabelReport, ...] = ()
    previous: int = 0  # the version that was current when this one was trained (0: none)
    trained_on: tuple[str, ...] = field(default=(), repr=False)  # media ids (first 16 hex) of its answers

    @property
    def learned(self) -> tuple[LabelReport, ...]:
        return tuple(r for r in self.labels if r.is_learned)

    def as_json(self) -> dict[str, Any]:
        """The `learn --json` shape."""
        return {"model_version": self.version, "answers_used": self.answers_used, "created_at": self.created_at,
                "labels": [{"name": r.name, "positives": r.positives, "negatives": r.negatives,
                            "precision": r.precision, "recall": r.recall, "threshold": r.threshold,
                            "learned": r.is_learned, "reason": r.reason, "parent": r.parent, "heldout": r.heldout}
                           for r in self.labels]}


def short_base(model_version: str) -> str:
    """`local-1` from the local labeler's full version (`loupe-local-1/efficientnet-.../...`)."""
    return model_version.split(TEAM_MARK)[0].split("/")[0].removeprefix("loupe-") or "model"


def team_number(model_version: str) -> int:
    """The team version number a prediction's model_version names (0: the base model alone)."""
    if TEAM_MARK not in model_version:
        return 0
    try:
        return int(model_version.rsplit(TEAM_MARK, 1)[1])
    except ValueError:
        return 0


def _key(number: int) -> str:
    return f"{number:06d}"


class Learning:
    access: Access = OPEN  # the service sets its own

    def __init__(self, records: RecordStore, consolidation, embeddings: Embeddings, jobs, predictions=None,
                 workflows=None):
        self.records = records
        self.workflows = workflows
        self.predictions = predictions
        self.consolidation = consolidation
        self.embeddings = embeddings
        self.jobs = jobs
        self._models: dict[int, list[LabelModel]] = {}
        self._lock = threading.Lock()
        self._train_lock = threading.Lock()

    # ---- settings ----------------------------------------------------------------------------------
    def settings(self) -> LearningSettings:
        rec = self.records.get(SETTINGS_KIND, "project")
        if rec is None:
            return LearningSettings()
        known = {f for f in LearningSettings.__dataclass_fields__}
        return LearningSettings(**{k: v for k, v in rec.body.items() if k in known})

    def save_settings(self, settings: LearningSettings, *, actor: Actor | None = None) -> None:
        current = self.access.require(actor, "settings")
        self.records.put_many([Record(SETTINGS_KIND, "project", {
            "min_positives": settings.min_positives, "min_negatives": settings.min_negatives,
            "target_precision": settings.target_precision, "retrain_after_answers": settings.retrain_after_answers})])
        self.access.record(current, "settings", "learning", detail=json.dumps(settings.__dict__))

    # ---- the answers -------------------------------------------------------------------------------
    def training_set(self) -> tuple[TrainingSet, str]:
        """People's final answers on items with an embedding, as arrays, and a digest of exactly what they say."""
        newest: dict[tuple[str, str], Any] = {}
        for c in self.consolidation.all():
            spec = REGISTRY.get(c.task_type)
            if spec is None or spec.routes_by != LABELS or not spec.is_voted:
                continue
            key = (c.media_id, spec.label_category)
            if key not in newest or c.updated_at > newest[key].updated_at:
                newest[key] = c
        vectors = {m: e for m, e in self.embeddings.get_many({m for m, _ in newest}).items() if e.vector}
        media_ids = tuple(sorted(vectors))
        index = {m: i for i, m in enumerate(media_ids)}
        answers: dict[tuple[str, str], np.ndarray] = {}  # (category, name) -> int8 per item
        parents: dict[tuple[str, str], dict[str, int]] = {}
        reviewed: dict[str, list[int]] = {}  # category -> items reviewed in it
        for (media_id, category), c in newest.items():
            if media_id not in index:
                continue
            reviewed.setdefault(category, []).append(index[media_id])
            for d in c.labels:
                key = (category, d.name)
                answers.setdefault(key, np.full(len(media_ids), -1, dtype=np.int8))
                if d.is_accepted and d.parent_name:
                    counts = parents.setdefault(key, {})
                    counts[d.parent_name] = counts.get(d.parent_name, 0) + 1
        for (media_id, category), c in newest.items():
            if media_id not in index:
                continue
            accepted = c.accepted
            for (cat, name), y in answers.items():
                if cat == category:
                    y[index[media_id]] = 1 if name in accepted else 0
        targets = tuple(LabelTarget(name, cat, _most_common(parents.get((cat, name), {})), y)
                        for (cat, name), y in sorted(answers.items()))
        matrix = (np.stack([vectors[m].as_array() for m in media_ids]) if media_ids
                  else np.zeros((0, 0), dtype=np.float32))
        base = {t.name: np.array([(vectors[m].base_labels if t.category == "general" else
                                   vectors[m].base_moderation).get(t.name, 0.0) for m in media_ids], dtype=np.float32)
                for t in targets}
        data = TrainingSet(media_ids, matrix, base, targets)
        return data, self._digest(data, vectors)

    def _digest(self, data: TrainingSet, vectors: dict[str, Embedding]) -> str:
        h = hashlib.sha256(json.dumps(self.settings().__dict__, sort_keys=True).encode())
        for m in data.media_ids:
            h.update(m.encode() + hashlib.sha256(vectors[m].vector.encode()).digest())
            h.update(json.dumps([sorted(vectors[m].base_labels.items()),
                                 sorted(vectors[m].base_moderation.items())]).encode())
        for t in data.targets:
            h.update(f"{t.category}|{t.name}|{t.parent}|".encode() + t.answers.tobytes())
        return h.hexdigest()

    # ---- training ----------------------------------------------------------------------------------
    def train(self, *, created_by: str = "", progress: Callable[[int, int, str], None] | None = None,
              actor: Actor | None = None) -> ModelVersion:
        """Train on every final answer now; the same answers as the current version's give that version back."""
        current_actor = self.access.require(actor, "media")
        with self._train_lock:
            data, digest = self.training_set()
            current = self.current()
            for known in ([current] if current else []) + self.versions()[::-1]:
                if known.digest == digest:
                    if current is None or known.number != current.number:
                        self._set_current(known.number)
                    return known
            if not data.media_ids:
                raise LoupeError("Nothing to learn from yet: no reviewed image has an embedding. Label images with "
                                 "the local labeler, review some, then train.")
            settings = self.settings()
            models, reports = team_model.train(data, min_positives=settings.min_positives,
                                               min_negatives=settings.min_negatives,
                                               target_precision=settings.target_precision, progress=progress)
            base = self._base_version(data.media_ids)
            while True:  # claim the next number with a conditional create: two processes never share one
                number = max((v.number for v in self.versions()), default=0) + 1
                version = ModelVersion(number, f"{short_base(base)}{TEAM_MARK}{number}", base, utc_now(),
                                       created_by or current_actor.id, digest, len(data.media_ids), tuple(reports),
                                       current.number if current else 0, tuple(m[:16] for m in data.media_ids))
                try:
                    self.records.create(KIND, _key(number), _version_body(version))
                    break
                except AlreadyExists:
                    continue
            self.records.put_many([Record(LABEL_KIND, f"{_key(number)}|{m.name}", m.as_json(), parent=_key(number))
                                   for m in models])  # before the version is made current, so readers see all
            self._set_current(number)
            self.access.record(current_actor, "learn", version.version,
                               detail=f"{len(models)} labels learned from {len(data.media_ids)} reviewed images")
            log.info("trained %s: %d labels from %d answers", version.version, len(models), len(data.media_ids))
            return version

    def _base_version(self, media_ids: Sequence[str]) -> str:
        found = self.embeddings.get(media_ids[-1]) if media_ids else None
        return found.base_version if found else ""

    def submit(self, *, created_by: str = "", actor: Actor | None = None) -> Job:
        """Train in a background job with progress. Admins only."""
        current = self.access.require(actor, "media")
        return self.jobs.submit(JOB_KIND, {"created_by": created_by or current.id}, created_by=created_by or current.id)

    def run_learn_job(self, ctx, params: dict[str, Any]) -> dict[str, Any]:
        """Job handler for "learn"."""
        from core.access import job_actor

        ctx.progress(0, 0, "reading people's answers")
        version = self.train(created_by=params.get("created_by", ""),
                             progress=lambda d, t, name: ctx.progress(d, t, f"trained {name}"),
                             actor=job_actor(params.get("created_by", "")))
        return version.as_json()

    def after_answers(self) -> Job | None:
        """With `retrain_after_answers` set, queue a training job once that many reviewed items are new to it."""
        every = self.settings().retrain_after_answers
        if every <= 0:
            return None
        current = self.current()
        if self.consolidation.count() - (current.answers_used if current else 0) < every:
            return None
        if any(not j.is_finished for j in self.jobs.recent(limit=5, kind=JOB_KIND)):
            return None
        return self.jobs.submit(JOB_KIND, {"created_by": "auto"}, created_by="auto")

    # ---- versions ----------------------------------------------------------------------------------
    def versions(self) -> list[ModelVersion]:
        return sorted((_version_from(r.body) for r in self.records.query(KIND)), key=lambda v: v.number)

    def get(self, version: str | int) -> ModelVersion:
        """A version by its name (`local-1+team-3`, `team-3`) or number."""
        number = version if isinstance(version, int) else team_number(
            version if TEAM_MARK in version else f"x{TEAM_MARK}{version.removeprefix('team-')}")
        rec = self.records.get(KIND, _key(number)) if number else None
        if rec is None:
            raise NotFound(KIND, str(version))
        return _version_from(rec.body)

    def current(self) -> ModelVersion | None:
        state = self.records.get(STATE_KIND, "current")
        number = int(state.body.get("number", 0)) if state else 0
        if not number:
            return None
        rec = self.records.get(KIND, _key(number))
        return _version_from(rec.body) if rec else None

    def _set_current(self, number: int) -> None:
        self.records.put_many([Record(STATE_KIND, "current", {"number": number, "set_at": utc_now()})])

    def revert(self, to: str | None = None, *, actor: Actor | None = None) -> ModelVersion | None:
        """Make an older version current (by default the one before the current one; "base": the base model
        alone). Predictions change when images are labeled again. Admins only."""
        current_actor = self.access.require(actor, "media")
        current = self.current()
        if to == "base":
            target = None
        elif to is not None:
            target = self.get(to)
        elif current is None:
            raise LoupeError("No team model is in use; there is nothing to revert.")
        else:
            older = [v for v in self.versions() if v.number < current.number]
            target = older[-1] if older else None
        self._set_current(target.number if target else 0)
        self.access.record(current_actor, "learn", target.version if target else "base model",
                           detail=f"reverted from {current.version if current else 'base model'}")
        return target

    def compare(self, version: str | int | None = None) -> list[dict[str, Any]]:
        """Per label: this version's held-out precision and recall beside the version before it."""
        this = self.get(version) if version is not None else self.current()
        if this is None:
            return []
        before = [v for v in self.versions() if v.number < this.number]
        prev = {r.name: r for r in before[-1].labels} if before else {}
        return [{"label": r.name, "learned": r.is_learned, "precision": r.precision, "recall": r.recall,
                 "previous_precision": prev[r.name].precision if r.name in prev else None,
                 "previous_recall": prev[r.name].recall if r.name in prev else None, "n": r.heldout,
                 "reason": r.reason} for r in this.labels]

    def history(self) -> list[dict[str, Any]]:
        """Precision and recall per label per version, held out from each version's own answers (Results)."""
        return [{"model_version": v.version, "created_at": v.created_at, "label": r.name, "precision": r.precision,
                 "recall": r.recall, "n": r.heldout, "answers_used": v.answers_used}
                for v in self.versions() for r in v.learned]

    def models(self, number: int) -> list[LabelModel]:
        with self._lock:
            if number not in self._models:
                self._models[number] = [LabelModel.from_json(r.body)
                                        for r in self.records.query(LABEL_KIND, parent=_key(number))]
            return self._models[number]

    # ---- automation -------------------------------------------------------------------------------
    def automation_report(self, target_precision: float | None = None) -> dict[str, Any]:
        """Automation rate and precision at the target, before learning (the base model's own confidences) and after
        (the stored predictions, made by the team model in use), on reviewed items that model was not trained on:
        the audit sample and every review since. Thresholds come from the evidence on those same items."""
        target = target_precision or self.settings().target_precision
        truth = self.consolidation.accepted_labels()
        current = self.current()
        seen = set(current.trained_on) if current else set()
        fresh = {m: t for m, t in truth.items() if m[:16] not in seen}
        after: dict[str, dict[str, float]] = {}
        for media_id, labels in self.predictions.raw_labels():
            if media_id in fresh:
                after[media_id] = {str(lb["name"]): float(lb["confidence"]) for lb in labels
                                   if lb.get("category", "general") == "general"}
        before = {m: dict(e.base_labels) for m, e in self.embeddings.get_many(after).items()}
        measured = sorted(set(before) & set(after))
        report: dict[str, Any] = {"target_precision": target, "model_version": current.version if current else None,
                  "items": len(measured)}
        if not measured:
            report["note"] = ("No reviewed item is new to the team model yet: review the audit sample (or more items) "
                              "after labeling with it, then look again.")
            return report
        report["before"] = automation.automation(before, fresh, target, measure_on=measured)
        report["after"] = automation.automation(after, fresh, target, measure_on=measured)
        return report

    def automate(self, workflow: str, target_precision: float | None = None, *,
                 actor: Actor | None = None) -> automation.Automation:
        """The workflow option "accept the team model's labels when, by the audited evidence, they meet the target
        precision": its routing becomes per-label drop / review / accept thresholds from the evidence on every
        reviewed item (core/automation.py); labels without enough evidence go to people; its audit sample stays.
        Run it again after training or more reviews to follow the evidence. Admins only."""
        from core.routing import workflow_with_thresholds

        current = self.access.require(actor, "workflows")
        target = target_precision or self.settings().target_precision
        wf = self.workflows.get(workflow)
        if wf.task_type != "label_review":
            raise LoupeError(f"Workflow {workflow!r} reviews {wf.task_type} tasks; automated labeling routes image "
                             "labels, so choose a label review workflow.")
        truth = self.consolidation.accepted_labels()
        confidence = {m: {str(lb["name"]): float(lb["confidence"]) for lb in labels
                          if lb.get("category", "general") == "general"}
                      for m, labels in self.predictions.raw_labels()}
        result = automation.automation(confidence, truth, target)
        names = sorted({n for c in confidence.values() for n in c})
        routed = workflow_with_thresholds(wf, result.thresholds(), names)
        routed = replace(routed, routing=replace(routed.routing, accept_at=wf.routing.accept_at),
                         description=(wf.description or "") if "automated" in (wf.description or "") else
                         f"{wf.description} (automated labeling at {target:.0%} precision)".strip())
        self.workflows.save(routed, expected_version=self.workflows.version(workflow), actor=current)
        return result

    # ---- applying ----------------------------------------------------------------------------------
    def absorb(self, predictions: Iterable[Prediction], *, model_version: str | None = None) -> list[Prediction]:
        """Keep each fresh prediction's embedding (with the base model's confidences), then apply the team model:
        `model_version` if given, else the current one. Predictions without an embedding pass unchanged."""
        predictions = list(predictions)
        fresh = [Embedding(p.media_id, p.embedding, p.model_version,
                           {lb.name: lb.confidence for lb in p.labels if lb.category == "general"},
                           {lb.name: lb.confidence for lb in p.labels if lb.category == "moderation"})
                 for p in predictions if p.embedding]
        if fresh:
            self.embeddings.save_many(fresh)
        version = self.get(model_version) if model_version else self.current()
        if version is None:
            return [replace(p, embedding="") for p in predictions]
        return self.apply(predictions, version)

    def apply(self, predictions: Sequence[Prediction], version: ModelVersion) -> list[Prediction]:
        models = self.models(version.number)
        with_vectors = [p for p in predictions if p.embedding]
        if not with_vectors or not models:
            return [replace(p, embedding="") for p in predictions]
        vectors = np.stack([Embedding(p.media_id, p.embedding, "").as_array() for p in with_vectors])
        probs = team_model.apply(models, vectors, [{lb.name: lb.confidence for lb in p.labels} for p in with_vectors])
        by_id = {p.media_id: pr for p, pr in zip(with_vectors, probs)}
        out = []
        for p in predictions:
            if p.media_id not in by_id:
                out.append(replace(p, embedding=""))
                continue
            out.append(with_team_labels(p, by_id[p.media_id], models, version.number))
        return out


def with_team_labels(prediction: Prediction, probability: dict[str, float], models: Sequence[LabelModel],
                     number: int) -> Prediction:
    """The prediction with calibrated confidences for the labels the team model knows (a label it puts under the
    labeler's 5% floor is left out, as the labeler leaves out its own), and the labels people added (with the parent
    they gave) where the team model finds them; the model_version says which team version."""
    labels = [replace(lb, confidence=round(probability[lb.name], 4)) if lb.name in probability else lb
              for lb in prediction.labels
              if probability.get(lb.name, 1.0) >= team_model.MIN_LEARNED_CONFIDENCE]  # the labeler's own floor
    present = {lb.name for lb in prediction.labels}
    for m in models:
        p = probability.get(m.name, 0.0)
        if m.name in present or p < team_model.MIN_LEARNED_CONFIDENCE:
            continue
        if m.category == "moderation":
            labels.append(Label(m.name, round(p, 4), category="moderation", parent_name=m.parent,
                                taxonomy_level=2 if m.parent else 1))
        else:
            labels.append(Label(m.name, round(p, 4), parents=(m.parent,) if m.parent else ()))
    labels.sort(key=lambda lb: (lb.category != "general", -lb.confidence))
    base = prediction.model_version.split(TEAM_MARK)[0]
    return replace(prediction, labels=tuple(labels), model_version=f"{base}{TEAM_MARK}{number}", embedding="")


def _most_common(counts: dict[str, int]) -> str:
    return max(sorted(counts), key=lambda k: counts[k]) if counts else ""


def _version_body(v: ModelVersion) -> dict[str, Any]:
    return {"number": v.number, "version": v.version, "base_version": v.base_version, "created_at": v.created_at,
            "created_by": v.created_by, "digest": v.digest, "answers_used": v.answers_used,
            "labels": [r.as_json() for r in v.labels], "previous": v.previous, "trained_on": list(v.trained_on)}


def _version_from(body: dict[str, Any]) -> ModelVersion:
    return ModelVersion(int(body["number"]), str(body["version"]), str(body.get("base_version", "")),
                        str(body.get("created_at", "")), str(body.get("created_by", "")), str(body.get("digest", "")),
                        int(body.get("answers_used", 0)), tuple(LabelReport.from_json(r) for r in body["labels"]),
                        int(body.get("previous", 0)), tuple(body.get("trained_on") or ()))
