"""People and faces with OpenCV's packaged detectors: the frontal-face Haar cascade and the HOG people
detector (opencv-python-headless 4.x; OpenCV 5 removed both). Boxes come back as Rekognition instances,
in fractions of the image.

OpenCV's detectors are not documented as thread-safe, so each thread gets its own (they load in ms).
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from core.domain import BoundingBox, Instance

DETECT_MAX_SIDE_PX = 320  # detection runs on a downscaled copy: faces of ~8% of the short side and up
FACE_MIN_PX = 24
PERSON_MIN_WEIGHT = 0.5  # HOG SVM margin below which a window is more often wrong than right


def opencv_version() -> str:
    return cv2.__version__


@dataclass(frozen=True)
class People:
    faces: tuple[Instance, ...]
    people: tuple[Instance, ...]  # HOG full-body boxes, plus bodies estimated from faces HOG missed


class PeopleDetector:
    def __init__(self) -> None:
        # The labeler runs one image per thread, as many at once as it was given cores (LocalLabeler's pool), so
        # OpenCV's own parallel loops would only oversubscribe those cores: a "one model thread" Dask worker used
        # 1.3 cores (bench_cluster). One thread each, process-wide (Loupe uses OpenCV nowhere else).
        cv2.setNumThreads(1)
        self._local = threading.local()

    def _detectors(self) -> tuple[cv2.CascadeClassifier, cv2.HOGDescriptor]:
        if not hasattr(self._local, "face"):
            cascades = cv2.data.haarcascades  # type: ignore[attr-defined]  # in the wheel, not in its type stubs
            face = cv2.CascadeClassifier(cascades + "haarcascade_frontalface_default.xml")
            if face.empty():
                raise RuntimeError("OpenCV's frontal face cascade could not be loaded.")
            hog = cv2.HOGDescriptor()
            hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), dtype=np.float32))
            self._local.face, self._local.hog = face, hog
        return self._local.face, self._local.hog

    def detect(self, rgb: np.ndarray) -> People:
        """Faces and people in an RGB uint8 array [height, width, 3]."""
        face_cascade, hog = self._detectors()
        h, w = rgb.shape[:2]
        scale = min(1.0, DETECT_MAX_SIDE_PX / max(h, w))
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if scale < 1.0:
            gray = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        gh, gw = gray.shape
        faces: list[Instance] = []
        if min(gh, gw) >= FACE_MIN_PX:
            rects, _, weights = face_cascade.detectMultiScale3(
                gray, scaleFactor=1.25, minNeighbors=5, minSize=(FACE_MIN_PX, FACE_MIN_PX), outputRejectLevels=True)
            for (x, y, fw, fh), weight in zip(rects, np.ravel(weights)):
                faces.append(Instance(_box(x, y, fw, fh, gw, gh), _sigmoid(float(weight)), "Face"))
        people: list[Instance] = []
        if gh >= 128 and gw >= 64:
            rects, weights = hog.detectMultiScale(gray, winStride=(8, 8), padding=(8, 8), scale=1.1)
            for (x, y, pw, ph), weight in zip(rects, np.ravel(weights)):
                if float(weight) >= PERSON_MIN_WEIGHT:
                    people.append(Instance(_box(x, y, pw, ph, gw, gh), _sigmoid(2.0 * float(weight)), "Person"))
        for face in faces:
            if not any(_contains(p.box, face.box) for p in people):
                people.append(Instance(_body_from_face(face.box), face.confidence, "Person"))
        return People(tuple(faces), tuple(people))


def _sigmoid(x: float) -> float:
    return round(1.0 / (1.0 + math.exp(-x)), 6)


def _box(x: float, y: float, bw: float, bh: float, w: int, h: int) -> BoundingBox:
    left, top = max(0.0, x / w), max(0.0, y / h)
    return BoundingBox(left=round(left, 6), top=round(top, 6),
                       width=round(min(1.0 - left, bw / w), 6), height=round(min(1.0 - top, bh / h), 6))


def _contains(outer: BoundingBox, inner: BoundingBox) -> bool:
    cx, cy = inner.left + inner.width / 2, inner.top + inner.height / 2
    return outer.left <= cx <= outer.left + outer.width and outer.top <= cy <= outer.top + outer.height


def _body_from_face(face: BoundingBox) -> BoundingBox:
    """A person's box estimated from the face: about three face-widths wide, down to the image's edge
    or seven face-heights (a standing adult is about 7.5 heads tall)."""
    left = max(0.0, face.left - face.width)
    top = max(0.0, face.top - face.height * 0.3)
    right = min(1.0, face.left + face.width * 2)
    bottom = min(1.0, face.top + face.height * 7)
    return BoundingBox(round(left, 6), round(top, 6), round(right - left, 6), round(bottom - top, 6))
