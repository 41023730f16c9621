"""Rekognition's DetectLabels and DetectModerationLabels on the configured labeler, with A2I's human loop step.

The image is ingested with the catalog's usual checks and labeled like any other (its prediction is stored, so
it shows on the Images and Thresholds pages). With a HumanLoopConfig, the flow definition's activation
conditions are evaluated by `core.conditions.evaluate` on the moderation labels returned, with the media id as
the sampling key, exactly as the Thresholds page routes the same item; a loop starts when they say so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.a2i_flows import arn
from core.a2i_loops import A2ILoop, A2ILoops
from core.conditions import Evaluation, LabelScore, evaluate
from core.domain import Label, MediaItem, Prediction
from core.errors import LoupeError, MediaRejected
from core.formats.rekognition import to_detect_moderation_labels
from core.labeling import Labeling
from core.media_refs import LOCAL_BUCKET, MediaRefs, S3Ref
from core.workflows import Workflows

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # Rekognition's limit for Image.Bytes
ACTIVATION_REASON = "ConditionsEvaluation"


class ImageTooLarge(MediaRejected):
    pass


@dataclass(frozen=True)
class ImageInput:
    """Rekognition's `Image`: raw bytes, or an S3 object."""
    data: bytes | None = None
    s3: S3Ref | None = None


@dataclass(frozen=True)
class HumanLoopRequest:
    """Rekognition's `HumanLoopConfig`."""
    flow_name: str
    loop_name: str
    data_attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Detection:
    media: MediaItem
    prediction: Prediction
    evaluation: Evaluation | None = None
    loop: A2ILoop | None = None

    def labels(self, category: str, min_confidence: float = 0.0) -> list[Label]:
        return [lb for lb in self.prediction.labels if lb.category == category and lb.confidence >= min_confidence]


class Detections:
    def __init__(self, media: MediaRefs, labeling: Labeling, workflows: Workflows, a2i: A2ILoops):
        self.media = media
        self.labeling = labeling
        self.workflows = workflows
        self.a2i = a2i

    def detect(self, image: ImageInput, *, min_confidence: float = 0.5, human_loop: HumanLoopRequest | None = None,
               created_by: str = "") -> Detection:
        """Label one image; with `human_loop`, evaluate the flow definition's conditions and start a loop if true."""
        wf = self.workflows.get(human_loop.flow_name) if human_loop else None  # NotFound before any work
        if wf is not None and wf.task_type != "moderation":
            raise LoupeError(f"Flow definition {wf.name!r} is a custom task type ({wf.task_type}); Rekognition "
                             "starts loops only for the moderation request source.")
        item = self._media(image, created_by)
        outcome = self.labeling.label([item.media_id])[0]
        if outcome.prediction is None:
            raise MediaRejected(outcome.reason or "The image could not be labeled.")
        detection = Detection(item, outcome.prediction)
        if wf is None or human_loop is None:
            return detection
        moderation = detection.labels("moderation", min_confidence)
        scores = [LabelScore(lb.name, lb.confidence * 100.0, lb.parent_name) for lb in moderation]
        conditions = wf.routing.conditions
        evaluation = (evaluate(conditions, scores, item.media_id) if conditions
                      else Evaluation(False, (), {"Conditions": []}))
        if not evaluation.activated:
            return Detection(item, outcome.prediction, evaluation)
        loop = self.a2i.start_for_detection(
            wf.name, human_loop.loop_name, item, reasons=evaluation.reasons, activation_results=evaluation.results,
            input_content=self._input_content(image, item, wf.name, human_loop, moderation, evaluation,
                                              outcome.prediction.model_version),
            data_attributes=human_loop.data_attributes, created_by=created_by)
        return Detection(item, outcome.prediction, evaluation, loop)

    def _media(self, image: ImageInput, created_by: str) -> MediaItem:
        if image.data is not None:
            if len(image.data) > MAX_IMAGE_BYTES:
                raise ImageTooLarge(f"The image is {len(image.data):,} bytes; Image.Bytes may be at most "
                                    f"{MAX_IMAGE_BYTES:,} (use an S3 object for larger images).")
            item = self.media.ingest_bytes(image.data, created_by=created_by)
        elif image.s3 is not None:
            item = self.media.resolve(image.s3, created_by=created_by)
        else:
            raise LoupeError("Image needs Bytes or an S3Object.")
        if item.kind != "image":
            raise MediaRejected(f"This is {item.kind}, not an image.")
        return item

    def _input_content(self, image: ImageInput, item: MediaItem, flow_name: str, human_loop: HumanLoopRequest,
                       moderation: list[Label], evaluation: Evaluation, model_version: str) -> dict[str, Any]:
        """A2I's inputContent for a Rekognition loop (camelCase, confidences in percent)."""
        ref = image.s3 or S3Ref(self.media.config.s3_bucket or LOCAL_BUCKET,
                                f"media/{item.media_id}" if self.media.config.s3_bucket else item.file_name)
        response = to_detect_moderation_labels(moderation, model_version)
        camel = [{"confidence": m["Confidence"], "name": m["Name"], "parentName": m["ParentName"]}
                 for m in response["ModerationLabels"]]
        selected = [m for m in camel if m["name"] in set(evaluation.reasons)]
        return {
            "aiServiceRequest": {"image": {"s3Object": {"bucket": ref.bucket, "name": ref.name}},
                                 "humanLoopConfig": {"flowDefinitionArn": arn("flow-definition", flow_name),
                                                     "humanLoopName": human_loop.loop_name}},
            "aiServiceResponse": {"moderationLabels": camel, "moderationModelVersion": model_version},
            "humanTaskActivationConditionResults": evaluation.results,
            "selectedAiServiceResponse": {"moderationLabels": selected, "moderationModelVersion": model_version},
        }

