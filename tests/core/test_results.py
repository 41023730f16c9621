"""Results per workflow: an item reviewed in several workflows keeps each result, in Results, exports and agreement
(issue 12, item 1)."""
from __future__ import annotations

import csv
import dataclasses

from core.cli import main as cli_main
from core.config import Config
from core.domain import Label, as_dict
from core.service import Service
from tests.review_seed import seed_issue_12_repro


def test_a_second_workflow_keeps_the_first_workflows_results(service):
    seed_issue_12_repro(service)
    first = service.results.items(workflow="demo-label-review")
    assert len(first) == 3 and {i.reviewers for i in first} == {("dana",)}
    assert {i.human_labels for i in first} == {("Launch pad", "Rocket")}
    assert len(service.results.items(workflow="team-review")) == 3
    assert len(service.results.items(workflow="moderation-pass")) == 3
    assert len(service.results.items()) == 9  # one row per (workflow, item)
    media_id = first[0].media_id
    assert service.consolidation.get(media_id, "demo-label-review").accepted == {"Rocket", "Launch pad"}
    assert service.consolidation.get(media_id, "team-review").accepted == {"Person", "Rocket"}


def test_agreement_is_measured_per_workflow(service):
    seed_issue_12_repro(service)
    mine = service.results.agreement(workflow="demo-label-review")
    assert [r.worker_id for r in mine.reviewers] == ["dana"] and mine.multi_reviewed_items == 0
    team = service.results.agreement(workflow="team-review")
    assert [r.worker_id for r in team.reviewers] == ["dana", "lee"] and team.multi_reviewed_items == 3
    assert team.alpha is None or team.alpha == 1.0  # they agreed everywhere
    everything = service.results.agreement()
    # Dana's answers in other workflows are other items: they never make her disagree with Lee
    assert {p.kappa for p in everything.pairs} <= {1.0, None}


def test_the_command_line_exports_exactly_one_workflows_final_answers(tmp_path, monkeypatch):
    data = tmp_path / "data"
    with Service(Config(data_dir=data)) as service:
        seed_issue_12_repro(service)
    monkeypatch.setenv("LOUPE_DATA_DIR", str(data))
    out = tmp_path / "out"
    assert cli_main(["export", "--format", "csv", "--out", str(out), "--workflow", "demo-label-review"]) == 0
    rows = list(csv.DictReader((out / "labels.csv").open()))
    assert {r["reviewers"] for r in rows} == {"dana"}
    assert {r["workflow"] for r in rows} == {"demo-label-review"}
    labels = {(r["file_name"], r["kind"], r["label"]) for r in rows if r["source"] == "human"}
    assert ("astronaut.jpg", "label", "Launch pad") in labels and ("astronaut.jpg", "box", "Launch pad") in labels
    assert not any(r["label"] == "Person" for r in rows)  # unticked, and its box went with it
    assert cli_main(["export", "--format", "csv", "--out", str(tmp_path / "team"), "--workflow", "team-review"]) == 0
    team = list(csv.DictReader((tmp_path / "team" / "labels.csv").open()))
    assert {r["reviewers"] for r in team} == {"dana;lee"}
    assert {r["label"] for r in team if r["kind"] == "label" and r["source"] == "human"} == {"Person", "Rocket"}


def test_reconsolidating_keeps_every_workflows_result(service):
    seed_issue_12_repro(service)
    assert service.consolidation.reconsolidate_all() == 9
    assert {c.workflow for c in service.consolidation.all()} == {"demo-label-review", "moderation-pass", "team-review"}
    assert len(list(service.consolidation.all("team-review"))) == 3


def test_ground_truth_for_thresholds_adds_up_results_of_different_task_types(service):
    seed_issue_12_repro(service)
    truth = service.consolidation.accepted_labels()
    # newest image-label result (team-review) plus the moderation pass
    assert set(truth.values()) == {frozenset({"Person", "Rocket", "Weapons"})}


def test_an_older_store_is_migrated_when_the_service_starts_and_the_command_reports_it(tmp_path, monkeypatch, capsys):
    from core.consolidation import KIND
    from core.migration import RESULTS_MARKER
    from core.stores.base import Record

    data = tmp_path / "data"
    with Service(Config(data_dir=data)) as service:
        seed_issue_12_repro(service)
        newest = service.consolidation.get(service.results.items()[0].media_id)
        for c in service.consolidation.all():  # back to the old layout: one result per item, the last one
            service.records.delete(KIND, f"{c.workflow}|{c.media_id}")
        service.records.put_many([Record(KIND, newest.media_id, as_dict(newest), parent=newest.workflow)])
        assert service.records.get(*RESULTS_MARKER) is None  # an empty store at start: nothing was migrated
    with Service(Config(data_dir=data)) as service:
        assert service.results_migration.is_complete and service.results_migration.recomputed == 8
        assert len(service.results.items()) == 9
    monkeypatch.setenv("LOUPE_DATA_DIR", str(data))
    assert cli_main(["migrate-results"]) == 0
    assert "already keyed by workflow" in capsys.readouterr().out


class CountingRecords:
    """A store as the service opened it, counting the records its queries return (reads of many records)."""

    def __init__(self, inner):
        self.inner = inner
        self.queried = 0

    def query(self, kind: str, **kw):
        for rec in self.inner.query(kind, **kw):
            self.queried += 1
            yield rec

    def close(self) -> None:
        pass

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


def test_another_app_process_reads_the_stored_figures_without_reading_every_record(service):
    seed_issue_12_repro(service)
    first = service.results.view(workflow="team-review")
    counting = CountingRecords(service.records)
    other = Service(service.config, stores=(counting, service.blobs), start_jobs=False)  # a second app process
    try:
        counting.queried = 0
        assert other.results.view(workflow="team-review") == first
        assert counting.queried == 0
        assert other.results.items() == service.results.items()  # All workflows: computed by whoever came first
    finally:
        other.close()


def test_a_change_in_another_app_process_shows_in_the_next_view_here(service):
    from core.task_types.moderation import moderation_content
    from tests.review_seed import seed_moderation

    loops = seed_moderation(service, task_count=1, names=("cat.jpg", "coffee.jpg"))
    other = Service(service.config, stores=(CountingRecords(service.records), service.blobs), start_jobs=False)
    try:
        other.review.submit(other.review.next_task("ana"), moderation_content([]))
        assert service.results.summary() == other.results.summary()
        assert (service.results.summary().results, service.results.summary().loops_open) == (1, 1)
        other.review.submit(other.review.next_task("ana"), moderation_content([("Weapons", "Violence")]))
        assert (service.results.summary().results, service.results.summary().loops_open) == (2, 0)
        assert {i.media_id for i in service.results.items()} == {lp.media_id for lp in loops}
        for lp in loops:  # the model relabeled the items after the review: a moderation label nobody reviewed
            pred = other.predictions.get(lp.media_id)
            other.predictions.save(dataclasses.replace(pred, labels=pred.labels + (
                Label("Explosions And Blasts", 0.3, category="moderation"),)))
        wf = other.workflows.get(loops[0].workflow)
        before = service.results.view(workflow=wf.name)
        other.workflows.save(dataclasses.replace(wf, routing=dataclasses.replace(wf.routing, accept_at=0.01)),
                             expected_version=other.workflows.version(wf.name))
        after = service.results.view(workflow=wf.name)  # auto-accepted labels are read at the new threshold
        assert after.signature != before.signature
        assert {lb for i in before.items for lb in i.auto_labels} == set()
        assert {lb for i in after.items for lb in i.auto_labels} == {"Explosions And Blasts"}  # never Cat
    finally:
        other.close()
