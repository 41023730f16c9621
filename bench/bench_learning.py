"""Learning from people: what it costs and what it buys.

1. The label job with embeddings (kept beside each prediction, team model applied) against the same job without
   (the classifier's probabilities only, nothing kept): the same images, interleaved, best of 5, in wall
   and CPU seconds (CPU time is what other work on a shared machine does not change). Target <= 1.15x.
2. Automation rate at 95% precision before learning (the base model's confidences) and after (the team model's),
   on crops of real photos (tests/learning_set) the model never saw: thresholds fitted on half of those reviewed
   crops (the evidence), measured on the other half.
3. Training time for 1,000 answered images x 20 labels (from the store: answers read, embeddings decoded, 20
   calibrated classifiers trained), the embeddings made from the real ones of step 2 plus noise. Target <= 10 s.

Run: .venv/bin/python bench/bench_learning.py
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core import automation, embeddings  # noqa: E402
from core.config import Config  # noqa: E402
from core.domain import Answer, HumanLoop, Workflow  # noqa: E402
from core.embeddings import Embedding  # noqa: E402
from core.labelers import efficientnet  # noqa: E402
from core.labelers.local import LocalLabeler  # noqa: E402
from core.loops import loop_id_for  # noqa: E402
from core.service import Service  # noqa: E402
from tests.learning_set import SOURCES, make_crops, truth  # noqa: E402

ROUNDS = 5
TARGET_OVERHEAD = 1.15
TARGET_TRAIN_S = 10.0
TARGET_PRECISION = 0.95
TRAIN_ITEMS, TRAIN_LABELS = 1000, 20


class NoEmbeddingLabeler(LocalLabeler):
    """The labeler as it was before embeddings: the probabilities output alone, no features kept."""

    def classify_and_embed(self, image):
        inputs = {efficientnet.INPUT_NAME: efficientnet.preprocess(image)[None]}
        (probs,) = self.classifier.run([efficientnet.OUTPUT_NAME], inputs)
        return probs[0], None


def manifest(rows: list[tuple[str, list[str]]]) -> str:
    names = sorted({n for _, labels in rows for n in labels})
    ids = {n: i for i, n in enumerate(names)}
    meta = {"class-map": {str(i): n for n, i in ids.items()}, "type": "groundtruth/image-classification-multilabel",
            "human-annotated": "yes", "job-name": "labeling-job/labels"}
    return "\n".join(json.dumps({"source-ref": ref, "labels": [ids[n] for n in labels], "labels-metadata": meta})
                     for ref, labels in rows)


def answer(svc: Service, crops, ids: list[str], workflow: str) -> None:
    rows = []
    for media_id, crop in zip(ids, crops):
        base = svc.embeddings.get(media_id).base_labels
        rows.append((crop.path.name, truth(crop, set(base))))
    report = svc.ground_truth.import_text(manifest(rows), workflow=workflow)
    assert not report.errors, report.errors


def label_job_s(svc: Service, ids: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (this process, all threads: the job runs here) of one label job over `ids`."""
    cpu, start = time.process_time(), time.perf_counter()
    job = svc.jobs.wait(svc.labeling.submit(ids).job_id, 1800)
    elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    if job.status != "succeeded" or job.result["labeled"] != len(ids):
        raise SystemExit(f"the label job failed: {job.status} {job.error}")
    return elapsed, cpu_s


def learning_loop(tmp: Path) -> dict:
    """Steps 1 and 2 on the learning set."""
    train = make_crops(tmp / "train", 8, seed=1, extra={"rocket.jpg": 8})
    test = make_crops(tmp / "test", 5, seed=2, extra={"rocket.jpg": 5})
    with Service(Config(data_dir=tmp / "with", job_workers=1)) as svc, \
            Service(Config(data_dir=tmp / "without", job_workers=1),
                    labelers={"local": NoEmbeddingLabeler(tmp / "with" / "models")}) as bare:
        bare.labeling.learning = None  # nothing kept, nothing applied: the job as it was
        train_ids = [svc.catalog.ingest_file(c.path).media_id for c in train]
        test_ids = [svc.catalog.ingest_file(c.path).media_id for c in test]
        bare_ids = [bare.catalog.ingest_file(c.path).media_id for c in test]
        label_job_s(svc, train_ids)
        answer(svc, train, train_ids, "reviewed")
        svc.learning.train()
        label_job_s(svc, test_ids[:5])  # warm both
        label_job_s(bare, bare_ids[:5])
        with_s, without_s = [], []
        for _ in range(ROUNDS):
            with_s.append(label_job_s(svc, test_ids))
            without_s.append(label_job_s(bare, bare_ids))
        answer(svc, test, test_ids, "audit")  # people review the new crops: the evidence after learning
        truth_of = svc.consolidation.accepted_labels()
        after = {m: {lb.name: lb.confidence for lb in svc.predictions.get(m).labels if lb.category == "general"}
                 for m in test_ids}
        before = {m: dict(svc.embeddings.get(m).base_labels) for m in test_ids}  # the base model's general labels
        fit, held = test_ids[0::2], test_ids[1::2]
        wall_with, wall_without = min(w for w, _ in with_s), min(w for w, _ in without_s)
        cpu_with, cpu_without = min(c for _, c in with_s), min(c for _, c in without_s)
        result = {"images_labeled": len(test_ids), "with_embeddings_s": round(wall_with, 3),
                  "without_embeddings_s": round(wall_without, 3), "overhead_x": round(wall_with / wall_without, 3),
                  "with_embeddings_cpu_s": round(cpu_with, 3), "without_embeddings_cpu_s": round(cpu_without, 3),
                  "cpu_overhead_x": round(cpu_with / cpu_without, 3),
                  "before": automation.automation(before, truth_of, TARGET_PRECISION, fit_on=fit,
                                                  measure_on=held).as_json(),
                  "after": automation.automation(after, truth_of, TARGET_PRECISION, fit_on=fit,
                                                 measure_on=held).as_json(),
                  "model_version": svc.learning.current().version, "trained_on": len(train_ids),
                  "measured_on": len(held)}
        result["vectors"] = [svc.embeddings.get(m).vector for m in train_ids + test_ids]
        result["sources"] = [c.source for c in train + test]
        return result


def training_time(tmp: Path, vectors: list[str], sources: list[str]) -> dict:
    """Step 3: 1,000 answered images x 20 labels, stored as answers, trained from the store."""
    rng = np.random.default_rng(0)
    real = np.stack([embeddings.decode(v) for v in vectors])
    photos = sorted(SOURCES)
    groups = {"Space": {"rocket.jpg", "astronaut.png", "hubble_deep_field.jpg"},
              "Texture": {"brick.png", "grass.png", "gravel.png"}, "Grey": {"brick.png", "grass.png", "gravel.png",
                                                                          "coins.png", "camera.png"},
              "Drink": {"coffee.png"}, "Metal": {"coins.png", "motorcycle_left.png", "rocket.jpg"},
              "Living": {"chelsea.png", "astronaut.png", "camera.png"}, "Outdoors": {"rocket.jpg", "grass.png"},
              "Science": {"ihc.png", "hubble_deep_field.jpg"}}
    label_names = [Path(p).stem.title() for p in photos] + list(groups)
    assert len(label_names) == TRAIN_LABELS
    with Service(Config(data_dir=tmp / "train1000"), start_jobs=False) as svc:
        svc.workflows.save(Workflow(name="bench", task_type="label_review"))
        for i in range(TRAIN_ITEMS):
            k = int(rng.integers(len(real)))
            vector = np.clip(real[k] + rng.normal(0, 0.1, real.shape[1]) * real[k].std(), 0, None)
            source = sources[k]
            labels = {Path(source).stem.title()} | {g for g, members in groups.items() if source in members}
            labels = {n for n in label_names if (n in labels) != (rng.random() < 0.03)}  # 3% of answers disagree
            media_id = f"{i:064x}"
            svc.embeddings.save_many([Embedding(media_id, embeddings.encode(vector), "loupe-local-1/bench", {})])
            loop = HumanLoop(loop_id_for("bench", media_id), media_id, "bench", status="Completed")
            svc.loops.create(loop)
            svc.answers.submit(Answer(loop.loop_id, "ann", {"labels": [{"name": n} for n in sorted(labels)]}))
            svc.consolidation.consolidate(media_id, "bench", loops=[loop])
        svc.learning.training_set()  # warm: scikit-learn imported, store caches filled
        cpu, start = time.process_time(), time.perf_counter()
        version = svc.learning.train()
        elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    return {"answers": version.answers_used, "labels_learned": len(version.learned), "train_s": round(elapsed, 2),
            "train_cpu_s": round(cpu_s, 2)}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        loop = learning_loop(Path(tmp))
        training = training_time(Path(tmp), loop.pop("vectors"), loop.pop("sources"))
    before, after = loop["before"], loop["after"]
    result = {**loop, **training, "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2)}
    sys.stdout.write(
        f"learning from people on {os.cpu_count()} CPUs (1-min load average {os.getloadavg()[0]:.1f})\n"
        f"  label job, {loop['images_labeled']} photos: {loop['with_embeddings_s']:.2f} s with embeddings and the "
        f"team model, {loop['without_embeddings_s']:.2f} s without: {loop['overhead_x']:.2f}x; CPU "
        f"{loop['with_embeddings_cpu_s']:.2f} s against {loop['without_embeddings_cpu_s']:.2f} s: "
        f"{loop['cpu_overhead_x']:.2f}x (target <= {TARGET_OVERHEAD}x)\n"
        f"  automation at {TARGET_PRECISION:.0%} precision on {loop['measured_on']} unseen reviewed crops: "
        f"before learning {before['automation_rate']:.0%} (precision {before['precision']}), after "
        f"{after['automation_rate']:.0%} (precision {after['precision']}), {loop['model_version']} trained on "
        f"{loop['trained_on']} answers\n"
        f"  training {training['answers']} answered images x {TRAIN_LABELS} labels: {training['train_s']:.2f} s "
        f"({training['train_cpu_s']:.2f} s of CPU), "
        f"{training['labels_learned']} labels learned (target <= {TARGET_TRAIN_S:.0f} s)\n"
        f"{json.dumps(result)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
