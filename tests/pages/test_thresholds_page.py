"""AppTest runs of the Thresholds page against a real service: live counts, modes, evidence, workflows, loops."""
from __future__ import annotations

import json

from components.markup import as_shown
from core.domain import Answer, Label, Prediction, Workflow
from core.routing import workflow_with_thresholds
from core.routing_policy import Thresholds

PAGE = "pages/thresholds.py"
SOURCE = "AWS/Rekognition/DetectModerationLabels/Image/V3"


def seed(service, n: int = 40) -> None:
    """Item i has Weapons at i/n confidence; every fifth also has Drugs at 0.9."""
    preds = []
    for i in range(n):
        labels = [Label("Weapons", i / n, category="moderation", parent_name="Violence")]
        if i % 5 == 0:
            labels.append(Label("Drugs", 0.9, category="moderation"))
        preds.append(Prediction(f"item-{i:03d}", "test-model-1", tuple(labels)))
    preds.append(Prediction("seed-example", "test-model-1", (Label("Person", 0.997, category="moderation"),
                                                            Label("School", 0.4786, category="moderation"))))
    service.predictions.save_many(preds)


def show(at, view: str):
    at.radio(key="thresholds.view").set_value(view).run()
    assert not at.exception, at.exception
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_an_empty_project_says_there_is_nothing_to_route_yet(app_at):
    at = app_at(PAGE)
    assert "No predictions yet" in at.info[0].value


def test_moving_the_slider_changes_the_live_counts(seeded, app_at):
    seed(seeded)
    at = app_at(PAGE)
    before = metrics(at)
    assert before["Labels · total"] == "50"
    assert before["Labels · accepted automatically"] == "17"  # Weapons >= 0.8 (8), Drugs (8), Person
    at.slider(key="thresholds.high").set_value(50.0).run()
    assert not at.exception
    after = metrics(at)
    assert after["Labels · accepted automatically"] == "29"  # Weapons >= 0.5 (20), Drugs (8), Person
    assert after["Items · sent to people"] != before["Items · sent to people"]


def test_per_label_overrides_from_the_editor_route_that_label_by_its_own_threshold(seeded, app_at):
    seed(seeded)
    at = app_at(PAGE)
    at.session_state["thresholds.seed"] = {"Drugs": (0.0, 0.95)}  # as the editor or "Use these" leaves it
    at.run()
    assert metrics(at)["Labels · accepted automatically"] == "9"  # Drugs at 0.9 now goes to review


def test_two_threshold_mode_drops_labels_below_the_low_threshold(seeded, app_at):
    seed(seeded)
    at = app_at(PAGE)
    at.radio(key="thresholds.mode").set_value("drop_review_accept").run()
    at.slider(key="thresholds.range").set_value((25.0, 80.0)).run()
    assert not at.exception
    counts = metrics(at)
    assert counts["Labels · dropped"] == "10"  # Weapons below 0.25
    assert counts["Labels · sent to people"] == "23"  # Weapons 0.25..0.775 (22) and School


def test_the_worked_example_splits_one_items_labels_at_the_threshold(seeded, app_at):
    seed(seeded)
    at = show(app_at(PAGE), "Items")
    at.selectbox(key="thresholds.items.label").set_value("School").run()
    at.slider(key="thresholds.high").set_value(50.0).run()
    html = "".join(m.value for m in at.markdown)
    assert "Person - 99.70%" in html and "School - 47.86%" in html
    assert html.index("Person - 99.70%") < html.index("Sent to people") < html.index("School - 47.86%")


def test_the_page_offers_its_thresholds_as_activation_conditions_json(seeded, app_at):
    seed(seeded)
    at = show(app_at(PAGE), "Workflows and loops")
    code = json.loads(at.code[0].value)
    assert code["Conditions"][0]["ConditionParameters"] == {"ModerationLabelName": "*", "ConfidenceLessThan": 80.0}


def test_saving_a_workflow_and_starting_loops_creates_each_loop_once(seeded, app_at):
    seed(seeded)
    at = show(app_at(PAGE), "Workflows and loops")
    at.text_input(key="thresholds.wf.name").input("weapons-pass")
    at.number_input(key="thresholds.wf.task_count").set_value(2)
    at.button[[b.label for b in at.button].index("Save workflow")].click().run()
    assert not at.exception
    assert any("Saved workflow weapons-pass" in as_shown(s.value) for s in at.success)
    wf = seeded.workflows.get("weapons-pass")
    assert wf.task_count == 2 and wf.routing.thresholds.high == 0.8 and wf.routing.conditions["Conditions"]

    at.button(key="thresholds.start").click().run()
    job = seeded.jobs.wait(at.session_state["thresholds.job"], 60)
    assert job.status == "succeeded" and job.result["created"] == 33  # 32 Weapons items below 0.8, plus School
    at.run()
    assert any("Created 33 human loops" in s.value for s in at.success)
    at.button(key="thresholds.start").click().run()
    assert at.session_state["thresholds.job"] != job.job_id
    again = seeded.jobs.wait(at.session_state["thresholds.job"], 60)
    assert again.result["created"] == 0 and again.result["already_existed"] == 33
    assert len(seeded.loops.list(workflow="weapons-pass")) == 33


def test_right_after_saving_a_workflow_the_loop_picker_shows_it_not_the_one_picked_before(seeded, app_at):
    seed(seeded)
    seeded.workflows.save(Workflow(name="older-pass"))
    at = show(app_at(PAGE), "Workflows and loops")
    assert at.selectbox(key="thresholds.run_workflow").value == "older-pass"
    at.text_input(key="thresholds.wf.name").input("weapons-pass")
    at.button[[b.label for b in at.button].index("Save workflow")].click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="thresholds.run_workflow").value == "weapons-pass"
    at.button(key="thresholds.start").click().run()
    assert seeded.jobs.get(at.session_state["thresholds.job"]).params["workflow"] == "weapons-pass"


def test_a_saved_workflows_thresholds_load_back_into_the_controls(seeded, app_at):
    seed(seeded)
    seeded.workflows.save(workflow_with_thresholds(
        Workflow(name="strict", audit_percent=5), Thresholds(high=0.95, low=0.2, mode="drop_review_accept",
                                                              overrides=(("Drugs", 0.1, 0.5),)), ["Weapons", "Drugs"]))
    at = show(app_at(PAGE), "Workflows and loops")
    at.button(key="thresholds.load_button").click().run()
    assert not at.exception
    assert at.radio(key="thresholds.mode").value == "drop_review_accept"
    assert at.slider(key="thresholds.range").value == (20.0, 95.0)
    assert at.number_input(key="thresholds.audit").value == 5.0
    assert at.session_state["thresholds.seed"] == {"Drugs": (0.1, 0.5)}


def test_evidence_appears_once_people_have_answered(seeded, app_at):
    seed(seeded)
    thresholds = Thresholds(high=0.5)
    seeded.workflows.save(workflow_with_thresholds(Workflow(name="audit", audit_percent=100), thresholds,
                                                   seeded.routing.frame("moderation").label_names))
    seeded.loop_starter.start_loops("audit")
    for loop in seeded.loops.list(workflow="audit"):
        i = int(loop.media_id.split("-")[1]) if loop.media_id.startswith("item-") else -1
        kept = [{"name": "Weapons"}] if i >= 20 else []  # people confirm weapons only from 0.5 up
        seeded.answers.submit(Answer(loop.loop_id, "ann", {SOURCE: {"moderationLabels": kept}}, time_spent_s=12.0))
        seeded.loops.set_status(loop.loop_id, "Completed")
        seeded.consolidation.consolidate(loop.media_id, "audit")
    at = show(app_at(PAGE), "Evidence")
    assert not any("No human answers yet" in i.value for i in at.info)
    assert metrics(at)["Seconds per task"] == "12"
    at.slider(key="thresholds.evidence.target").set_value(100.0).run()
    recommend = at.dataframe[[i for i, d in enumerate(at.dataframe) if "recommended" in d.value.columns][0]].value
    row = recommend.set_index("label").loc["Weapons"]
    assert row["recommended"] == 0.48 and row["precision"] == 1.0  # 0.48 is the lowest that excludes 0.475


def test_saving_a_moderation_workflow_that_routes_image_labels_warns_in_words(seeded, app_at):
    seeded.predictions.save_many([Prediction(f"photo-{i}", "test-model-1", (Label("Tiger Cat", 0.3 + i / 10),))
                                  for i in range(4)])
    at = show(app_at(PAGE), "Workflows and loops")
    at.text_input(key="thresholds.wf.name").input("moderation-pass")
    at.selectbox(key="thresholds.wf.task_type").set_value("moderation")
    at.button[[b.label for b in at.button].index("Save workflow")].click().run()
    assert not at.exception
    (warning,) = [w.value for w in at.warning if "route image labels" in w.value]
    assert "a moderation task shows reviewers moderation labels" in warning and "Label review" in warning
    assert seeded.workflows.get("moderation-pass").task_type == "moderation"  # saved all the same


def test_a_label_review_workflow_on_image_labels_saves_without_a_warning(seeded, app_at):
    seeded.predictions.save_many([Prediction("photo-1", "test-model-1", (Label("Tiger Cat", 0.3),))])
    at = show(app_at(PAGE), "Workflows and loops")
    at.text_input(key="thresholds.wf.name").input("label-pass")
    at.button[[b.label for b in at.button].index("Save workflow")].click().run()
    assert not [w.value for w in at.warning if "route" in w.value]
    assert seeded.workflows.get("label-pass").task_type == "label_review"


def test_the_page_opens_with_the_active_workflows_thresholds_not_the_sliders_default(seeded, app_at):
    seed(seeded)
    seeded.workflows.save(workflow_with_thresholds(Workflow(name="strict", audit_percent=5), Thresholds(high=0.9),
                                                   ["Weapons", "Drugs"]))
    at = app_at(PAGE)
    assert at.slider(key="thresholds.high").value == 90.0
    assert at.number_input(key="thresholds.audit").value == 5.0
    assert any("workflow strict" in c.value for c in at.caption)
    at.slider(key="thresholds.high").set_value(70.0).run()  # once open, the controls are the user's
    assert at.slider(key="thresholds.high").value == 70.0


def test_task_types_are_shown_in_words(seeded, app_at):
    seed(seeded)
    seeded.workflows.save(Workflow(name="labels-pass", task_type="label_review"))
    at = show(app_at(PAGE), "Workflows and loops")
    task = at.selectbox(key="thresholds.wf.task_type")
    assert task.value == "moderation" and [task.format_func(o) for o in task.options] == [
        "Moderation", "Label review", "Transcript review"]
    assert at.selectbox(key="thresholds.run_workflow").options == ["labels-pass · Label review"]
