"""The one-click demo with the real bundled models: both demo workflows get loops for the demo's own items only, the
moderation task gets real taxonomy labels, and running it again changes nothing."""
from __future__ import annotations

import pytest

from core.demo import DEMO_WORKFLOW, MODERATION_NOTE, MODERATION_WORKFLOW, demo_files
from core.domain import Label, Prediction
from core.taxonomy import PARENT_OF, TAXONOMY_V6_1, task_categories
from tests.media_factory import make_image

pytestmark = pytest.mark.slow


def _loops(service, workflow: str) -> dict[str, str]:
    return {lp.media_id: lp.loop_id for lp in service.loops.list(workflow=workflow)}


def test_the_demo_queues_only_its_own_items_and_gives_the_moderation_task_taxonomy_labels(service, tmp_path):
    photo = make_image(tmp_path / "holiday.jpg", seed=7)
    user_id = service.catalog.ingest_file(photo).media_id
    mine = Prediction(user_id, "my-model-3", (Label("Beach", 0.4), Label("Weapons", 0.5, category="moderation",
                                                                               parent_name="Violence")))
    service.predictions.save(mine)

    first = service.jobs.wait(service.load_demo(created_by="ann").job_id, 300)
    assert first.status == "succeeded", first.error
    demo_ids = {o["media_id"] for o in first.result["outcomes"]}
    assert len(demo_ids) == len(demo_files())
    label_loops, moderation_loops = _loops(service, DEMO_WORKFLOW), _loops(service, MODERATION_WORKFLOW)
    assert label_loops and set(label_loops) <= demo_ids
    assert user_id not in label_loops and user_id not in moderation_loops  # the user's photo is not queued
    assert service.predictions.get(user_id).labels == mine.labels  # nor relabeled

    names = {service.catalog.get(m).file_name for m in moderation_loops}
    assert names == {"rocket.jpg", "coffee.jpg"}
    workflow = service.workflows.get(MODERATION_WORKFLOW)
    assert workflow.task_type == "moderation" and workflow.instructions == MODERATION_NOTE
    for media_id, loop_id in moderation_loops.items():
        categories = task_categories(workflow, service.loops.get(loop_id), service.predictions.get(media_id))
        assert categories
        for category in categories:  # named from the taxonomy, with their real parents
            assert category.name in TAXONOMY_V6_1 or PARENT_OF[category.name] == category.parent_name
        labels = service.predictions.get(media_id).labels
        assert any(lb.category == "general" for lb in labels)  # the bundled labeler's image labels are kept
    task = service.review.next_task("ann", task_type="moderation")
    assert task is not None and task.workflow.name == MODERATION_WORKFLOW

    again = service.jobs.wait(service.load_demo(created_by="ann").job_id, 300)
    assert again.status == "succeeded", again.error
    assert again.result["loops_created"] == 0 and again.result["moderation_loops_created"] == 0
    assert again.result["labeled"] == 0 and again.result["counts"] == {"duplicate": len(demo_files())}
    assert _loops(service, DEMO_WORKFLOW) == label_loops and _loops(service, MODERATION_WORKFLOW) == moderation_loops
    assert len(service.catalog.list()) == len(demo_files()) + 1
    assert service.demo.is_loaded()
