"""Seed data for human-review tests: demo images ingested for real, synthetic model labels, workflows and loops."""
from __future__ import annotations

from pathlib import Path

from core.domain import BoundingBox, HumanLoop, Instance, Label, Prediction, Workflow
from core.loops import loop_id_for
from core.routing_policy import RoutingPolicy
from core.service import Service

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"

MODERATION = (
    Label("Weapons", 0.62, category="moderation", parent_name="Violence", taxonomy_level=2),
    Label("Violence", 0.62, category="moderation", taxonomy_level=1),
    Label("Alcoholic Beverages", 0.41, category="moderation", parent_name="Alcohol", taxonomy_level=2),
)
GENERAL = (
    Label("Cat", 0.93, parents=("Mammal", "Animal"),
          instances=(Instance(BoundingBox(0.1, 0.1, 0.5, 0.6), 0.9, "Cat"),)),
    Label("Animal", 0.91),
    Label("Dog", 0.31),
)


def ingest_demo(service: Service, names: tuple[str, ...] = ("cat.jpg", "coffee.jpg")) -> list[str]:
    ids = []
    for name in names:
        outcome = service.catalog.ingest_file(DEMO / name)
        ids.append(outcome.media_id)
    return ids


def seed_moderation(service: Service, *, task_count: int = 2, labels: tuple[Label, ...] = MODERATION,
                    names: tuple[str, ...] = ("cat.jpg",), workflow: str = "moderation-flow",
                    categories: tuple[str, ...] = ()) -> list[HumanLoop]:
    """A moderation workflow and one loop per image, triggered by its moderation labels."""
    if service.workflows.version(workflow) is None:
        service.workflows.save(Workflow(name=workflow, task_type="moderation", task_count=task_count,
                                        categories=categories, time_limit_s=600))
    loops = []
    for media_id in ingest_demo(service, names):
        service.predictions.save(Prediction(media_id, "test-model-1", labels + GENERAL))
        loop = HumanLoop(loop_id_for(workflow, media_id), media_id, workflow, task_count=task_count,
                         reasons=tuple(lb.name for lb in labels),
                         activation_results={"Conditions": [{"EvaluationResult": True, "ConditionType":
                                             "ModerationLabelConfidenceCheck", "ConditionParameters": {
                                                 "ModerationLabelName": "*", "ConfidenceLessThan": 90}}]})
        service.loops.create(loop)
        loops.append(loop)
    return loops


def seed_label_review(service: Service, *, task_count: int = 1, names: tuple[str, ...] = ("cat.jpg",),
                      workflow: str = "label-flow", blind_percent: float = 0.0,
                      labels: tuple[Label, ...] = GENERAL) -> list[HumanLoop]:
    if service.workflows.version(workflow) is None:
        service.workflows.save(Workflow(name=workflow, task_type="label_review", task_count=task_count,
                                        routing=RoutingPolicy(accept_at=0.5), blind_percent=blind_percent,
                                        time_limit_s=600))
    loops = []
    for media_id in ingest_demo(service, names):
        service.predictions.save(Prediction(media_id, "test-model-1", labels))
        loop = HumanLoop(loop_id_for(workflow, media_id), media_id, workflow, task_count=task_count,
                         reasons=("Dog",))
        service.loops.create(loop)
        loops.append(loop)
    return loops


PERSON = (Label("Person", 0.95, instances=(Instance(BoundingBox(0.2, 0.1, 0.3, 0.8), 0.9, "Person"),)),
          Label("Rocket", 0.88), Label("Helmet", 0.35))
REPRO_IMAGES = ("astronaut.jpg", "cat.jpg", "rocket.jpg")


def answer_all(service: Service, worker: str, content: dict, task_type: str,
               workflows: list[str] | None = None) -> None:
    while (task := service.review.next_task(worker, task_type=task_type, workflows=workflows)) is not None:
        service.review.submit(task, content)


def seed_issue_12_repro(service: Service) -> None:
    """Issue 12's repro: Dana reviews demo-label-review (Person unticked, Launch pad added with a box), then a
    moderation pass, then team-review (two reviewers, Dana and Lee), all on the same three images."""
    from core.task_types.label_review import label_review_content
    from core.task_types.moderation import moderation_content

    seed_label_review(service, workflow="demo-label-review", names=REPRO_IMAGES, labels=PERSON)
    dana = label_review_content([("Rocket", 0.88)], ["Launch pad"],
                                [{"label": "Person", "left": 10, "top": 10, "width": 50, "height": 80},
                                 {"label": "Launch pad", "left": 5, "top": 60, "width": 40, "height": 30}],
                                (100, 100), is_blind=False)
    answer_all(service, "dana", dana, "label_review", ["demo-label-review"])
    seed_moderation(service, task_count=1, workflow="moderation-pass", names=REPRO_IMAGES)
    answer_all(service, "dana", moderation_content([("Weapons", "Violence")]), "moderation")
    seed_label_review(service, workflow="team-review", names=REPRO_IMAGES, labels=PERSON, task_count=2)
    team = label_review_content([("Person", 0.95), ("Rocket", 0.88)], [], [], (100, 100), is_blind=False)
    for worker in ("dana", "lee"):
        answer_all(service, worker, team, "label_review", ["team-review"])
