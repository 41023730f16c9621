"""AppTest runs of learning on the pages: the Thresholds page's Learning view (train, versions, automation before
and after) and Results' "the model against people over time"."""
from __future__ import annotations

import numpy as np

from components.markup import as_shown
from core import embeddings
from core.domain import Answer, HumanLoop, Label, Prediction, Workflow
from core.embeddings import Embedding
from core.loops import loop_id_for


def seed_reviewed(service, n: int = 40, workflow: str = "labels") -> None:
    """n reviewed images whose embeddings lean one way when people added "Launch pad" (every other one)."""
    rng = np.random.default_rng(0)
    direction = rng.normal(size=1280)
    if service.workflows.version(workflow) is None:
        service.workflows.save(Workflow(name=workflow, task_type="label_review"))
    for i in range(n):
        media_id = f"{i:064x}"
        has = i % 2 == 0
        vector = np.abs(rng.normal(size=1280) + (0.5 if has else -0.5) * direction)
        service.embeddings.save_many([Embedding(media_id, embeddings.encode(vector), "loupe-local-1/x",
                                                {"Animal": 0.6})])
        service.predictions.save(Prediction(media_id, "loupe-local-1/x", (Label("Animal", 0.6),)))
        loop = HumanLoop(loop_id_for(workflow, media_id), media_id, workflow, status="Completed")
        service.loops.create(loop)
        kept = [{"name": "Launch pad"}] if has else []
        service.answers.submit(Answer(loop.loop_id, "ann", {"labels": kept}))
        service.consolidation.consolidate(media_id, workflow, loops=[loop])


def test_the_learning_view_trains_in_a_job_and_shows_versions_and_automation(seeded, app_at):
    seed_reviewed(seeded)
    at = app_at("pages/thresholds.py")
    at.radio(key="thresholds.view").set_value("Learning").run()
    assert not at.exception, at.exception
    assert any("none (the base model alone)" in c.value for c in at.caption)
    at.button(key="thresholds.learning.train").click().run()
    assert not at.exception, at.exception
    job_id = at.session_state["thresholds.learning.job"]
    assert seeded.jobs.get(job_id).kind == "learn"


def test_a_trained_version_is_listed_with_its_automation_and_results_show_it_over_time(seeded, app_at):
    seed_reviewed(seeded)
    seeded.learning.train()
    at = app_at("pages/thresholds.py")
    at.radio(key="thresholds.view").set_value("Learning").run()
    assert not at.exception, at.exception
    assert any("local-1+team-1" in as_shown(c.value) for c in at.caption)
    compare = at.dataframe[0].value
    assert "Launch pad" in set(compare["label"])
    assert any("No reviewed item is new" in c.value for c in at.caption)
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    history = next(d.value for d in at.dataframe if "model_version" in d.value.columns)
    assert set(history["model_version"]) == {"local-1+team-1"} and "Launch pad" in set(history["label"])
