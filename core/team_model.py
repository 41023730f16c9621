"""Team models: one small linear classifier per label, trained on image embeddings from people's final answers.

Pure functions over arrays; `core.learning` gathers the answers and keeps the versions. Each label's classifier
reads the image embedding plus the base model's own confidence for that label (0 when it did not say it), so a
label people added is learned from the picture alone, and a model label keeps what the base model knew. Scores are
Platt-calibrated on out-of-fold (held-out) answers, so a stated 90% means about 90% of such labels were kept by
people. The whole pipeline (standardise, logistic regression, calibration) is linear up to the final sigmoid, so a
trained label is stored as plain numbers (a weight vector, a bias and two calibration numbers) that any process
can read back without pickle.
"""
from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_MIN_EXAMPLES = 10
DEFAULT_TARGET_PRECISION = 0.95
MIN_LEARNED_CONFIDENCE = 0.05  # a learned label below this is not written into the prediction (the labeler's floor)
FOLDS = 3  # out-of-fold scores for calibration and the held-out figures
REGULARISATION_C = 1.0
PCA_DIMS = 128
THRESHOLD_GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)
SEED = 0


@dataclass(frozen=True)
class LabelTarget:
    """People's answers for one label: 1 kept/added/drawn, 0 removed or absent on a reviewed item, -1 not known."""
    name: str
    category: str  # "general" | "moderation"
    parent: str  # the parent people gave ("" = top level)
    answers: np.ndarray  # int8 [n_items]


@dataclass(frozen=True)
class TrainingSet:
    media_ids: tuple[str, ...]
    vectors: np.ndarray  # float32 [n_items, dims]
    base_confidence: Mapping[str, np.ndarray]  # label name -> the base model's confidence per item [n_items]
    targets: tuple[LabelTarget, ...]


@dataclass(frozen=True)
class LabelModel:
    """A trained label: probability = sigmoid(calib_a * (weights . [unit embedding, base confidence] + bias) + calib_b)
    where the embedding is scaled to length 1."""
    name: str
    category: str
    parent: str
    weights: np.ndarray  # float32 [dims + 1]
    bias: float
    calib_a: float
    calib_b: float

    def probability(self, vectors: np.ndarray, base_confidence: np.ndarray) -> np.ndarray:
        score = unit_length(vectors) @ self.weights[:-1] + base_confidence * self.weights[-1] + self.bias
        return _sigmoid(self.calib_a * score + self.calib_b)

    def as_json(self) -> dict:
        return {"name": self.name, "category": self.category, "parent": self.parent,
                "weights": base64.b64encode(self.weights.astype("<f4").tobytes()).decode("ascii"),
                "bias": self.bias, "calib_a": self.calib_a, "calib_b": self.calib_b}

    @classmethod
    def from_json(cls, data: Mapping) -> LabelModel:
        weights = np.frombuffer(base64.b64decode(str(data["weights"])), dtype="<f4").astype(np.float32)
        return cls(str(data["name"]), str(data.get("category", "general")), str(data.get("parent", "")), weights,
                   float(data["bias"]), float(data["calib_a"]), float(data["calib_b"]))


@dataclass(frozen=True)
class LabelReport:
    """What training made of one label, with held-out (out-of-fold) figures at its threshold."""
    name: str
    category: str
    parent: str
    positives: int
    negatives: int
    is_learned: bool
    reason: str = ""  # why not learned, in words
    precision: float | None = None
    recall: float | None = None
    threshold: float | None = None  # lowest calibrated confidence whose held-out precision meets the target
    heldout: int = 0  # answers the figures were measured on (each one held out once)

    def as_json(self) -> dict:
        return {"name": self.name, "category": self.category, "parent": self.parent, "positives": self.positives,
                "negatives": self.negatives, "is_learned": self.is_learned, "reason": self.reason,
                "precision": self.precision, "recall": self.recall, "threshold": self.threshold,
                "heldout": self.heldout}

    @classmethod
    def from_json(cls, data: Mapping) -> LabelReport:
        def opt(key: str) -> float | None:
            return None if data.get(key) is None else float(data[key])
        return cls(str(data["name"]), str(data.get("category", "general")), str(data.get("parent", "")),
                   int(data.get("positives", 0)), int(data.get("negatives", 0)), bool(data.get("is_learned")),
                   str(data.get("reason", "")), opt("precision"), opt("recall"), opt("threshold"),
                   int(data.get("heldout", 0)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def train(data: TrainingSet, *, min_positives: int = DEFAULT_MIN_EXAMPLES, min_negatives: int = DEFAULT_MIN_EXAMPLES,
          target_precision: float = DEFAULT_TARGET_PRECISION, progress=None) -> tuple[list[LabelModel],
                                                                                        list[LabelReport]]:
    """One calibrated classifier per label with enough answers; a report for every label, learned or not.

    BLAS runs on one thread here: the matrices are small (1,000 x 129), and OpenBLAS's threads busy-wait, so on a
    shared 2-core machine they made training 4-6 times slower (the onnxruntime pitfall in DESIGN.md, again)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _train_all(data, min_positives, min_negatives, target_precision, progress)


def _train_all(data: TrainingSet, min_positives: int, min_negatives: int, target_precision: float,
               progress) -> tuple[list[LabelModel], list[LabelReport]]:
    models: list[LabelModel] = []
    reports: list[LabelReport] = []
    zeros = np.zeros(len(data.media_ids), dtype=np.float32)
    basis = _Basis.fit(data.vectors) if len(data.media_ids) > 1 else None
    projected = basis.project(data.vectors) if basis is not None else None
    for i, target in enumerate(sorted(data.targets, key=lambda t: t.name)):
        known = target.answers >= 0
        y = target.answers[known].astype(int)
        pos, neg = int(y.sum()), int(len(y) - y.sum())
        missing = [f"{have} {what} answer{'s' if have != 1 else ''} ({need} needed)"
                   for have, need, what in ((pos, min_positives, "positive"), (neg, min_negatives, "negative"))
                   if have < need]
        if pos == 0 and neg >= min_negatives:
            model, report = _always_removed(target, neg, data.vectors.shape[1])
            models.append(model)
            reports.append(report)
        elif missing or basis is None:
            reports.append(LabelReport(target.name, target.category, target.parent, pos, neg, False,
                                       "Not learned yet: only " + " and ".join(missing) + "."))
        else:
            assert projected is not None  # there is a basis
            base = np.asarray(data.base_confidence.get(target.name, zeros), dtype=np.float32)[known]
            model, report = _train_label(target, basis, projected[known], base, y, target_precision)
            models.append(model)
            reports.append(report)
        if progress:
            progress(i + 1, len(data.targets), target.name)
    return models, reports


@dataclass(frozen=True)
class _Basis:
    """The principal directions of the (unit-length) embeddings, shared by every label and learned without labels:
    logistic regression in at most 128 dimensions instead of 1,280 trains 1,000 images x 20 labels in seconds."""
    mean: np.ndarray
    directions: np.ndarray  # [dims, k]
    scale: float  # one number for all directions (no whitening: the weak directions are mostly noise)

    @classmethod
    def fit(cls, vectors: np.ndarray, k: int = PCA_DIMS) -> _Basis:
        from sklearn.utils.extmath import randomized_svd

        x = unit_length(vectors)
        mean = x.mean(axis=0)
        k = min(k, len(x) - 1, x.shape[1])
        _, _, vt = randomized_svd((x - mean).astype(np.float32), k, n_iter=2, random_state=SEED)
        directions = vt.T.astype(np.float64)
        scale = float(((x - mean) @ directions).std()) or 1.0
        return cls(mean, directions, scale)

    def project(self, vectors: np.ndarray) -> np.ndarray:
        return ((unit_length(vectors) - self.mean) @ self.directions) / self.scale


def unit_length(vectors: np.ndarray) -> np.ndarray:
    x = np.asarray(vectors, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _train_label(target: LabelTarget, basis: _Basis, projected: np.ndarray, base: np.ndarray, y: np.ndarray,
                 target_precision: float) -> tuple[LabelModel, LabelReport]:
    from sklearn.model_selection import StratifiedKFold

    base_mean, base_scale = float(base.mean()), float(base.std()) or 1.0
    z = np.hstack([projected, ((base - base_mean) / base_scale)[:, None]])
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    folds = StratifiedKFold(n_splits=max(2, min(FOLDS, pos, neg)), shuffle=True, random_state=SEED)
    heldout_score = np.zeros(len(y))
    for fit_rows, test_rows in folds.split(z, y):
        clf = _classifier().fit(z[fit_rows], y[fit_rows])
        heldout_score[test_rows] = clf.decision_function(z[test_rows])
    calib_a, calib_b = platt(heldout_score, y)
    heldout_p = _sigmoid(calib_a * heldout_score + calib_b)
    threshold, precision, recall = pick_threshold(heldout_p, y, target_precision)
    final = _classifier().fit(z, y)
    coef = final.coef_[0]
    # fold the projection back into one weight per embedding feature, so applying needs no sklearn and no basis
    w_raw = basis.directions @ coef[:-1] / basis.scale
    w_base = coef[-1] / base_scale
    bias = float(final.intercept_[0] - w_raw @ basis.mean - w_base * base_mean)
    weights = np.append(w_raw, w_base).astype(np.float32)
    model = LabelModel(target.name, target.category, target.parent, weights, bias, calib_a, calib_b)
    return model, LabelReport(target.name, target.category, target.parent, pos, neg, True, "",
                              _round(precision), _round(recall), threshold, len(y))


def _always_removed(target: LabelTarget, negatives: int, dims: int) -> tuple[LabelModel, LabelReport]:
    """A label people removed on every reviewed item: no picture tells it apart, so its calibrated confidence is the
    smoothed share kept, 1 / (negatives + 2), under the labeler's floor once there are enough answers."""
    p = 1.0 / (negatives + 2)
    model = LabelModel(target.name, target.category, target.parent, np.zeros(dims + 1, dtype=np.float32),
                       float(np.log(p / (1 - p))), 1.0, 0.0)
    return model, LabelReport(target.name, target.category, target.parent, 0, negatives, True,
                              f"People removed it on all {negatives} reviewed items: its confidence is now {p:.0%}.",
                              None, None, None, negatives)


def _classifier():
    """Newton steps with a Cholesky solve: on 129 features a handful of iterations, where L-BFGS takes hundreds."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=REGULARISATION_C, solver="newton-cholesky", max_iter=100)


def platt(score: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling with Platt's smoothed targets, (positives + 1) / (positives + 2) and 1 / (negatives + 2): with
    a few dozen answers that separate cleanly, a plain fit would say 100%, which people's answers never showed."""
    from sklearn.linear_model import LogisticRegression

    pos, neg = int(y.sum()), int(len(y) - y.sum())
    hi, lo = (pos + 1) / (pos + 2), 1 / (neg + 2)
    target = np.where(y == 1, hi, lo)
    x = np.concatenate([score, score])[:, None]
    labels = np.concatenate([np.ones(len(y)), np.zeros(len(y))])
    fit = LogisticRegression(C=1e4, solver="newton-cholesky", max_iter=100).fit(
        x, labels, sample_weight=np.concatenate([target, 1 - target]))
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def pick_threshold(probability: np.ndarray, truth: np.ndarray, target_precision: float
                   ) -> tuple[float | None, float | None, float | None]:
    """The lowest threshold whose precision reaches the target (and its precision, recall); else, at 0.5. Never below
    0.5: a label the model itself finds more likely wrong than right is not accepted, however clean the answers
    so far (a few dozen separate cleanly at almost any threshold)."""
    positives = max(int(truth.sum()), 1)
    for t in THRESHOLD_GRID[THRESHOLD_GRID >= 0.5]:
        accepted = probability >= t
        if accepted.any() and truth[accepted].mean() >= target_precision:
            return float(t), float(truth[accepted].mean()), float(truth[accepted].sum() / positives)
    accepted = probability >= 0.5
    precision = float(truth[accepted].mean()) if accepted.any() else None
    return None, precision, float(truth[accepted].sum() / positives)


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def apply(models: Sequence[LabelModel], vectors: np.ndarray, base_labels: Sequence[Mapping[str, float]]
          ) -> list[dict[str, float]]:
    """For each image, label name -> calibrated probability from every trained label."""
    out: list[dict[str, float]] = [{} for _ in range(len(vectors))]
    for model in models:
        base = np.array([b.get(model.name, 0.0) for b in base_labels], dtype=np.float32)
        for i, p in enumerate(model.probability(vectors, base)):
            out[i][model.name] = float(p)
    return out
