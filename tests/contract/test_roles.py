"""Roles and work teams are enforced in core, on every backend: each changing service operation refuses the wrong
role in words and writes nothing; reviewers get only their work team's tasks and answer only as themselves."""
from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from core.access import Actor, NotAllowed, NotSignedIn, api_actor
from core.config import Config
from core.domain import HumanLoop, Job, Workflow, as_dict
from core.errors import LoupeError
from core.jobs import CANCEL_KIND
from core.jobs import KIND as JOB_KIND
from core.service import Service, build_service

ADMIN = Actor("ann@x.org")
REVIEWER = Actor("rita@x.org")  # roles are read from the store: what an Actor claims does not count
VIEWER = Actor("vic@x.org")
OLGA = Actor("olga@x.org")


@pytest.fixture
def team(records, blobs, tmp_path):
    """A LOUPE_AUTH=oidc service on this backend with an admin, two reviewers (one in group "night") and a viewer,
    a workflow for the night group and one for Olga alone, each with an open loop."""
    config = Config(data_dir=tmp_path / "data", auth="oidc", admins="ann@x.org")
    with build_service(config, start_jobs=False, stores=(records, blobs)) as service:
        service.members.add("rita@x.org", "reviewer", ["night"], actor=ADMIN)
        service.members.add("olga@x.org", "reviewer", actor=ADMIN)
        service.members.add("vic@x.org", "viewer", actor=ADMIN)
        for name, team_ in (("night-flow", ("night",)), ("olga-flow", ("olga@x.org",))):
            service.workflows.save(Workflow(name, task_count=2, time_limit_s=600, team=team_), actor=ADMIN)
            service.loops.create(HumanLoop(f"{name}-loop", "m" * 64, name, task_count=2))
        yield service


def _snapshot(service: Service) -> set[tuple[str, str, int]]:
    return {(r.kind, r.key, r.version) for r in service.records.scan()}


CHANGES: dict[str, Callable[[Service, Actor], object]] = {
    "settings.save": lambda s, a: s.settings.save({"auto_label": True}, expected_version=0, actor=a),
    "settings.reset": lambda s, a: s.settings.reset(expected_version=0, actor=a),
    "workflows.save": lambda s, a: s.workflows.save(Workflow("new-flow"), actor=a),
    "workflows.save (thresholds, team)": lambda s, a: s.workflows.save(
        Workflow("night-flow", task_count=1, team=("rita@x.org",)), expected_version=1, actor=a),
    "workflows.delete": lambda s, a: s.workflows.delete("olga-flow", expected_version=1, actor=a),
    "loop_starter.submit": lambda s, a: s.loop_starter.submit("night-flow", actor=a),
    "loop_starter.start_loops": lambda s, a: s.loop_starter.start_loops("night-flow", actor=a),
    "exports.submit": lambda s, a: s.exports.submit("a2i", str(s.config.data_dir / "out"), actor=a),
    "exports.export": lambda s, a: s.exports.export("a2i", str(s.config.data_dir / "out"), actor=a),
    "exports.import_a2i": lambda s, a: s.exports.import_a2i([], actor=a),
    "members.add": lambda s, a: s.members.add("new@x.org", "admin", actor=a),
    "members.add (own role)": lambda s, a: s.members.add(a.id, "admin", actor=a),
    "members.remove": lambda s, a: s.members.remove("olga@x.org", actor=a),
    "submit_uploads": lambda s, a: s.submit_uploads([], actor=a),
    "load_demo": lambda s, a: s.load_demo(actor=a),
    "labeling.submit": lambda s, a: s.labeling.submit([], actor=a),
    "labeling.import_bytes": lambda s, a: s.labeling.import_bytes("p.csv", b"media,label,confidence\n", actor=a),
    "transcription.submit": lambda s, a: s.transcription.submit([], actor=a),
}


@pytest.mark.parametrize("who", [REVIEWER, VIEWER], ids=["reviewer", "viewer"])
def test_every_admin_operation_refuses_reviewers_and_viewers_in_words_and_writes_nothing(team, who):
    """One service per backend and role, every operation in turn (a service per case is slow on DynamoDB)."""
    wrong = {}
    for change, call in CHANGES.items():
        before = _snapshot(team)
        try:
            call(team, who)
            wrong[change] = "was allowed"
        except NotAllowed as exc:
            if f"{who.id} is a" not in str(exc) or "only an admin can" not in str(exc):
                wrong[change] = f"refused in other words: {exc}"
        if _snapshot(team) != before:
            wrong[change] = "wrote to the store"
    assert wrong == {}


def test_the_admin_may_and_each_change_is_audited(team):
    not_audited = []
    for change in ("settings.save", "workflows.save", "workflows.save (thresholds, team)", "exports.export",
                   "exports.import_a2i", "members.add", "members.remove", "labeling.import_bytes",
                   "workflows.delete"):
        count = len(team.audit.entries())
        try:
            CHANGES[change](team, ADMIN)
        except NotAllowed:
            raise
        except LoupeError:
            pass  # allowed, then refused for another reason (nothing to route): not a role refusal
        entries = team.audit.entries()
        if len(entries) != count + 1 or entries[-1].who != "ann@x.org":
            not_audited.append(change)
    assert not_audited == []


def test_a_settings_save_is_audited_with_who_and_the_versions_before_and_after(team):
    team.settings.save({"auto_label": True}, expected_version=0, actor=ADMIN)
    team.settings.save({"auto_label": False}, expected_version=1, actor=ADMIN)
    last = team.audit.entries(action="settings")[-1]
    assert (last.who, last.target, last.before_version, last.after_version) == ("ann@x.org", "settings", 1, 2)
    assert last.at.endswith("Z")


def test_with_sign_in_required_a_change_that_names_nobody_is_refused(team):
    with pytest.raises(NotSignedIn, match="Sign in first"):
        team.settings.save({}, expected_version=0)
    with pytest.raises(NotSignedIn):
        team.review.next_task("rita@x.org")


def test_a_viewer_cannot_take_tasks(team):
    with pytest.raises(NotAllowed, match="only an admin or a reviewer can take tasks"):
        team.review.next_task("", actor=VIEWER)


def test_a_reviewer_gets_only_the_tasks_of_their_work_team(team):
    task = team.review.next_task("", actor=REVIEWER)
    assert task.workflow.name == "night-flow" and task.worker_id == "rita@x.org"
    team.review.submit(task, {"ok": True}, actor=REVIEWER)
    assert team.review.next_task("", actor=REVIEWER) is None  # olga-flow's loop is open, but not theirs
    assert team.review.task_for("", "olga-flow-loop", actor=REVIEWER) is None
    assert [s.workflow for s in team.review.summary(actor=REVIEWER)] == ["night-flow"]
    assert team.review.next_task("", actor=OLGA).workflow.name == "olga-flow"


def test_a_reviewer_cannot_answer_a_loop_of_another_team(team):
    loop = team.loops.get("olga-flow-loop")
    before = _snapshot(team)
    with pytest.raises(NotAllowed, match="not on the work team of workflow 'olga-flow'"):
        team.review.record_answer(loop, "", {"ok": True}, actor=REVIEWER)
    assert _snapshot(team) == before


def test_a_reviewer_cannot_take_or_answer_as_someone_else(team):
    with pytest.raises(NotAllowed, match="cannot answer as 'olga@x.org'"):
        team.review.next_task("olga@x.org", actor=REVIEWER)
    olgas = team.review.next_task("", actor=OLGA)
    before = _snapshot(team)
    with pytest.raises(NotAllowed):
        team.review.submit(olgas, {"ok": True}, actor=REVIEWER)
    assert _snapshot(team) == before


def test_the_admin_may_take_any_workflow_s_tasks_under_their_own_name(team):
    names = set()
    for _ in range(2):
        task = team.review.next_task("", actor=ADMIN)
        names.add(task.workflow.name)
        team.review.submit(task, {"ok": True}, actor=ADMIN)
    assert names == {"night-flow", "olga-flow"}
    assert {a.worker_id for a in team.answers.all()} == {"ann@x.org"}


def test_a_removed_member_or_a_changed_role_counts_at_the_next_click(team):
    team.members.add("rita@x.org", "viewer", actor=ADMIN)
    with pytest.raises(NotAllowed, match="rita@x.org is a viewer"):
        team.review.next_task("", actor=REVIEWER)
    team.members.remove("rita@x.org", actor=ADMIN)
    with pytest.raises(NotAllowed, match="not a member of this project. Ask an admin"):
        team.review.next_task("", actor=REVIEWER)
    assert team.members.sign_in("rita@x.org") is None
    assert team.audit.entries(action="sign-in")[-1].detail == "refused: not a member"


def test_an_actor_claiming_admin_is_judged_by_the_store(team):
    with pytest.raises(NotAllowed, match="rita@x.org is a reviewer"):
        team.settings.save({}, expected_version=0, actor=Actor("rita@x.org", "admin"))


def test_the_last_admin_cannot_be_removed_or_demoted(team):
    with pytest.raises(LoupeError, match="ann@x.org is an admin through LOUPE_ADMINS; remove it there"):
        team.members.remove("ann@x.org", actor=ADMIN)
    team.members.add("bo@x.org", "admin", actor=ADMIN)
    team.members.config_admins = frozenset()  # as if LOUPE_ADMINS were unset: bo is the only admin left
    before = _snapshot(team)
    with pytest.raises(LoupeError, match="they are the last admin"):
        team.members.add("bo@x.org", "reviewer", actor=Actor("bo@x.org"))
    with pytest.raises(LoupeError, match="they are the last admin"):
        team.members.remove("bo@x.org", actor=Actor("bo@x.org"))
    assert _snapshot(team) == before


def test_an_api_key_acts_with_the_role_of_its_key_and_under_its_own_name(team):
    client = api_actor("ci-bot", "reviewer")
    with pytest.raises(NotAllowed, match="api:ci-bot is a reviewer, and only an admin can export"):
        team.exports.export("a2i", str(team.config.data_dir / "out"), actor=client)
    assert team.review.next_task("", actor=client) is None  # on neither work team
    assert team.review.next_task("", actor=api_actor("ops", "admin")).worker_id == "api:ops"


def _running_job(service: Service, job_id: str, created_by: str) -> None:
    """A job another server is running (a fresh heartbeat): only its cancel record is written here."""
    job = Job(job_id, "export", status="running", created_by=created_by, owner="elsewhere:1:x",
              heartbeat_at=time.time())
    service.records.create(JOB_KIND, job_id, as_dict(job))


def test_only_an_admin_or_the_one_who_started_a_job_may_cancel_it_and_each_cancel_is_audited(team):
    """Cancel is not an admin operation like those above: the one who started a job (an admin since demoted, an API
    key) may cancel their own too."""
    _running_job(team, "1-ann", "ann@x.org")
    _running_job(team, "2-rita", "rita@x.org")
    for who, role in ((REVIEWER, "a reviewer"), (VIEWER, "a viewer")):
        before = _snapshot(team)
        with pytest.raises(NotAllowed, match=f"{who.id} is {role}, and only an admin or the one who started it can "
                                             "cancel export job 1-ann"):
            team.jobs.cancel("1-ann", actor=who)
        assert _snapshot(team) == before
        assert not team.jobs.is_cancel_requested("1-ann")
    team.jobs.cancel("2-rita", actor=REVIEWER)  # her own job
    team.jobs.cancel("1-ann", actor=ADMIN)
    team.jobs.cancel("1-ann", actor=ADMIN)  # a second press changes nothing, and is not audited again
    assert {r.key for r in team.records.query(CANCEL_KIND)} == {"1-ann", "2-rita"}
    assert [(e.who, e.target) for e in team.audit.entries(action="cancel")] == [("rita@x.org", "2-rita"),
                                                                               ("ann@x.org", "1-ann")]
