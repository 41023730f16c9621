"""Team models on every store: a trained version, its per-label weights and the version in use survive a reopen
(a second process), give the same probabilities there, and revert and retrain the same way."""
from __future__ import annotations

import numpy as np

from core import embeddings
from core.answers import Answers
from core.consolidation import Consolidation
from core.domain import Answer, HumanLoop, Label, Prediction, Workflow
from core.embeddings import Embedding, Embeddings
from core.learning import Learning
from core.loops import Loops, loop_id_for
from core.predictions import Predictions
from core.workflows import Workflows


class NoJobs:
    """Training is called directly here; the job runner is the jobs contract's subject."""


def learning_on(records) -> Learning:
    loops, answers, workflows = Loops(records), Answers(records), Workflows(records)
    consolidation = Consolidation(records, loops, answers, Predictions(records), workflows)
    return Learning(records, consolidation, Embeddings(records), NoJobs())


def seed_answers(records, n: int = 40, seed: int = 0) -> list[str]:
    """n reviewed items: "Launch pad" added on half of them (their embeddings lean one way), "Animal" removed on all."""
    rng = np.random.default_rng(seed)
    workflows, loops, answers = Workflows(records), Loops(records), Answers(records)
    consolidation = Consolidation(records, loops, answers, Predictions(records), workflows)
    if workflows.version("labels") is None:
        workflows.save(Workflow(name="labels", task_type="label_review"))
    direction = rng.normal(size=1280)
    ids = []
    for i in range(n):
        media_id = f"{seed:02d}{i:062d}"
        has = i % 2 == 0
        vector = np.abs(rng.normal(size=1280) + (1.5 if has else -1.5) * direction * 0.3)
        Embeddings(records).save_many([Embedding(media_id, embeddings.encode(vector), "loupe-local-1/x",
                                                 {"Animal": 0.6})])
        Predictions(records).save(Prediction(media_id, "loupe-local-1/x", (Label("Animal", 0.6),)))
        loop = HumanLoop(loop_id_for("labels", media_id), media_id, "labels", status="Completed")
        loops.create(loop)
        kept = [{"name": "Launch pad", "parentName": "Outdoors", "source": "human"}] if has else []
        answers.submit(Answer(loop.loop_id, "ann", {"labels": kept}))
        consolidation.consolidate(media_id, "labels", loops=[loop])
        ids.append(media_id)
    return ids


def test_a_trained_version_reads_back_the_same_in_another_process(records, reopen_records):
    ids = seed_answers(records)
    version = learning_on(records).train()
    assert version.version == "local-1+team-1"
    reports = {r.name: r for r in version.labels}
    assert reports["Launch pad"].is_learned and reports["Launch pad"].positives == 20
    assert reports["Animal"].reason == "People removed it on all 40 reviewed items: its confidence is now 2%."
    first = learning_on(records).apply([Prediction(ids[0], "loupe-local-1/x", (Label("Animal", 0.6),),
                                                   embedding=Embeddings(records).get(ids[0]).vector)], version)[0]
    again = learning_on(reopen_records(records))
    assert again.current().number == 1 and again.current().labels == version.labels
    second = again.apply([Prediction(ids[0], "loupe-local-1/x", (Label("Animal", 0.6),),
                                     embedding=Embeddings(records).get(ids[0]).vector)], again.current())[0]
    assert first == second and first.model_version == "loupe-local-1/x+team-1"
    assert {lb.name for lb in first.labels} == {"Launch pad"}  # Animal, always removed, falls under the floor
    assert first.labels[0].parents == ("Outdoors",)  # the parent people gave the label they added


def test_revert_and_retrain_work_the_same_on_every_store(records):
    seed_answers(records)
    learning = learning_on(records)
    v1 = learning.train()
    assert learning.train().number == v1.number  # the same answers: the same version
    seed_answers(records, n=10, seed=1)
    v2 = learning.train()
    assert (v2.number, v2.previous, v2.answers_used) == (2, 1, 50)
    assert learning.revert().number == 1 and learning.current().number == 1
    assert learning.train().number == 2  # after a revert, the same answers find their version again
    assert [v.number for v in learning.versions()] == [1, 2]
