"""The bundled offline labeler: EfficientNet-Lite0 (general labels), OpenCV (Person, Face) and open_nsfw
plus ImageNet classes (moderation labels), all from installed packages, run with onnxruntime.

Build it once per process and share it: onnxruntime sessions are safe to run from several threads, and
the OpenCV detectors are per thread. On a small machine one image at a time leaves a core idle (OpenCV's
detectors and the two networks are mostly single-threaded work), so `predict` labels up to `workers`
images at once, each model run with one intra-op thread.
"""
from __future__ import annotations

import io
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core import embeddings
from core.domain import Label, Prediction
from core.labelers import ImageRef, LabelingFailed, efficientnet, imagenet_hierarchy, moderation
from core.labelers.people import PeopleDetector, opencv_version

log = logging.getLogger(__name__)

LABELER_VERSION = 1
MIN_GENERAL_CONFIDENCE = 0.05
MAX_GENERAL_LABELS = 15
MIN_MODERATION_CONFIDENCE = 0.2
DECODE_MIN_SIDE_PX = 640
NSFW_SIZE = 256  # open_nsfw: resize to 256x256 (bilinear), centre crop 224, BGR minus mean
NSFW_CROP = 224
NSFW_MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)


def session_options(threads: int | None = None):
    """onnxruntime options for a small machine: few threads, and no busy-waiting (DESIGN.md, 2-core pitfall)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return opts


def decode_image(data: bytes) -> Image.Image:
    """Bytes as an upright RGB image (EXIF orientation applied, so boxes match what people see)."""
    try:
        image: Image.Image = Image.open(io.BytesIO(data))
        if image.format == "JPEG":  # decode big photos at 1/2..1/8 scale: the models look at <= 320 px anyway
            image.draft("RGB", (DECODE_MIN_SIDE_PX, DECODE_MIN_SIDE_PX))
        image = ImageOps.exif_transpose(image)
        return image.convert("RGB")
    except UnidentifiedImageError as exc:
        raise LabelingFailed("The file is not an image Loupe can read (JPEG, PNG, WebP or GIF).") from exc
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise LabelingFailed(f"The image could not be decoded: {exc}") from exc


class LocalLabeler:
    name = "local"

    def __init__(self, cache_dir: Path, *, min_confidence: float = MIN_GENERAL_CONFIDENCE,
                 max_labels: int = MAX_GENERAL_LABELS, min_moderation_confidence: float = MIN_MODERATION_CONFIDENCE,
                 workers: int | None = None, threads_per_model: int = 1):
        import onnxruntime as ort

        onnx_path = efficientnet.ensure_onnx(cache_dir)
        opts = session_options(threads_per_model)
        try:
            self.classifier = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        except Exception:  # a damaged cache file (disk full, edited by hand): build it again once
            log.warning("the cached ONNX graph %s could not be loaded; rebuilding it", onnx_path)
            onnx_path.unlink(missing_ok=True)
            onnx_path = efficientnet.ensure_onnx(cache_dir)
            self.classifier = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self.nsfw = ort.InferenceSession(str(moderation.nsfw_model_path()), opts, providers=["CPUExecutionProvider"])
        self.workers = workers or min(2, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="loupe-label")
        self._nsfw_input = self.nsfw.get_inputs()[0].name
        self.people = PeopleDetector()
        self.hierarchy = imagenet_hierarchy.load()
        self.moderation = moderation.load()
        self.min_confidence = min_confidence
        self.max_labels = max_labels
        self.min_moderation_confidence = min_moderation_confidence
        self.model_version = (f"loupe-local-{LABELER_VERSION}/{onnx_path.stem}/open-nsfw-"
                              f"{moderation.NSFW_MODEL_SHA256_PREFIX}/opencv-{opencv_version()}")
        log.info("local labeler ready: %s", self.model_version)

    # ---- the bare models, one image at a time ------------------------------------------------------
    def classify(self, image: Image.Image) -> np.ndarray:
        """ImageNet-1k probabilities [1000]."""
        return self.classify_and_embed(image)[0]

    def classify_and_embed(self, image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
        """ImageNet-1k probabilities [1000] and the pooled features [1280] of one pass (the features are computed
        on the way to the probabilities, so the embedding costs no second run)."""
        inputs = {efficientnet.INPUT_NAME: efficientnet.preprocess(image)[None]}
        probs, features = self.classifier.run([efficientnet.OUTPUT_NAME, efficientnet.FEATURES_NAME], inputs)
        return probs[0], features[0]

    def nsfw_score(self, image: Image.Image) -> float:
        resized = image.resize((NSFW_SIZE, NSFW_SIZE), Image.Resampling.BILINEAR)
        offset = (NSFW_SIZE - NSFW_CROP) // 2
        crop = resized.crop((offset, offset, offset + NSFW_CROP, offset + NSFW_CROP))
        pixels = np.asarray(crop, dtype=np.float32)[:, :, ::-1] - NSFW_MEAN_BGR
        (out,) = self.nsfw.run(None, {self._nsfw_input: np.ascontiguousarray(pixels)[None]})
        return float(out[0][1])

    # ---- the labeler -------------------------------------------------------------------------------
    def label_image(self, image: Image.Image) -> tuple[Label, ...]:
        return self.label_and_embed(image)[0]

    def label_and_embed(self, image: Image.Image) -> tuple[tuple[Label, ...], np.ndarray]:
        probs, features = self.classify_and_embed(image)
        general = self.hierarchy.labels(probs, min_confidence=self.min_confidence, max_labels=self.max_labels)
        general = _with_people(general, self.people.detect(np.asarray(image)))
        moderation_labels = self.moderation.labels(probs, self.nsfw_score(image),
                                                   min_confidence=self.min_moderation_confidence)
        return tuple(general) + tuple(moderation_labels), features

    def predict(self, images: Sequence[ImageRef]) -> list[Prediction | LabelingFailed]:
        return list(self._pool.map(self._predict_one, images))

    def _predict_one(self, ref: ImageRef) -> Prediction | LabelingFailed:
        try:
            labels, features = self.label_and_embed(decode_image(ref.read_bytes()))
            return Prediction(media_id=ref.media_id, model_version=self.model_version, labels=labels, source="local",
                              embedding=embeddings.encode(features) if features is not None else "")
        except LabelingFailed as exc:
            return exc
        except OSError as exc:
            return LabelingFailed(f"The image could not be read: {exc.strerror or exc}.")
        except Exception as exc:  # a bug or a model error on one image must not stop the batch; keep it in the log
            log.exception("labeling %s failed", ref.media_id[:12])
            return LabelingFailed(f"Labeling failed unexpectedly: {type(exc).__name__}: {exc}")


def _with_people(general: list[Label], found) -> list[Label]:
    """Merge OpenCV's Person and Face (with boxes) into the ImageNet labels."""
    labels = {lb.name: lb for lb in general}
    if found.people:
        best = max(i.confidence for i in found.people)
        old = labels.get("Person")
        labels["Person"] = Label(name="Person", confidence=max(best, old.confidence if old else 0.0),
                                 instances=found.people)
    if found.faces:
        labels["Face"] = Label(name="Face", confidence=max(i.confidence for i in found.faces), parents=("Person",),
                               instances=found.faces)
    return sorted(labels.values(), key=lambda lb: -lb.confidence)
