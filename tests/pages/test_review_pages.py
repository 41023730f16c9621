"""AppTest for the review pages: moderation task, label review and results, on seeded data."""
from __future__ import annotations

from components.markup import as_shown
from core.domain import Workflow
from core.task_types.moderation import moderation_content
from tests.review_seed import seed_label_review, seed_moderation


def _checkbox(at, label_start: str):
    return next(cb for cb in at.checkbox if cb.label.startswith(label_start))


def test_the_moderation_page_asks_for_a_reviewer_name_first(app_at, seeded):
    at = app_at("pages/moderation_task.py")
    assert any("Who is reviewing" in i.value for i in at.info)


def test_the_moderation_page_shows_instructions_triggering_categories_and_records_an_answer(app_at, seeded):
    (loop,) = seed_moderation(seeded, task_count=2)
    at = app_at("pages/moderation_task.py", reviewer="ana")
    text = " ".join(m.value for m in at.markdown)
    assert "Review the image and tick every category that applies to it" in text
    assert {b.label for b in at.button} >= {"View full instructions", "View tool guide"}
    labels = [cb.label for cb in at.checkbox]
    assert labels[:3] == ["`1` Weapons", "`2` Violence", "`3` Alcoholic Beverages"]
    assert labels[-1] == "`0` None of the above"
    _checkbox(at, "`1`").check().run()
    at.button(key=f"moderation.{loop.loop_id}.submit").click().run()
    assert not at.exception
    (answer,) = seeded.answers.for_loop(loop.loop_id)
    assert answer.worker_id == "ana"
    assert answer.content == moderation_content([("Weapons", "Violence")])
    assert any("Nothing left for you right now" in i.value for i in at.info)  # ana's only open slot is done


def test_none_of_the_above_clears_the_other_categories_and_submits_an_empty_list(app_at, seeded):
    (loop,) = seed_moderation(seeded, task_count=1)
    at = app_at("pages/moderation_task.py", reviewer="ana")
    _checkbox(at, "`1`").check().run()
    _checkbox(at, "`0`").check().run()
    assert not _checkbox(at, "`1`").value
    at.button(key=f"moderation.{loop.loop_id}.submit").click().run()
    (answer,) = seeded.answers.for_loop(loop.loop_id)
    assert answer.content == moderation_content([])
    assert seeded.loops.get(loop.loop_id).status == "Completed"


def test_submitting_with_nothing_ticked_asks_for_a_choice(app_at, seeded):
    (loop,) = seed_moderation(seeded, task_count=1)
    at = app_at("pages/moderation_task.py", reviewer="ana")
    at.button(key=f"moderation.{loop.loop_id}.submit").click().run()
    assert any("Tick at least one category" in w.value for w in at.warning)
    assert seeded.answers.for_loop(loop.loop_id) == []


def test_a_workflow_can_show_the_whole_taxonomy(app_at, seeded):
    seed_moderation(seeded, task_count=1, categories=("*",))
    at = app_at("pages/moderation_task.py", reviewer="ana")
    assert len(at.checkbox) == 45  # 44 categories of v6.1 and None of the above


def test_the_label_review_page_preticks_confident_labels_and_records_kept_and_added_ones(app_at, seeded):
    (loop,) = seed_label_review(seeded)
    at = app_at("pages/label_review.py", reviewer="ana")
    assert {cb.label: cb.value for cb in at.checkbox} == {"`1` Cat": True, "`2` Animal": True, "`3` Dog": False}
    _checkbox(at, "`2` Animal").uncheck().run()
    at.multiselect(key=f"label_review.{loop.loop_id}.added").select("Polo shirt").run()
    at.button(key=f"label_review.{loop.loop_id}.submit").click().run()
    assert not at.exception
    (answer,) = seeded.answers.for_loop(loop.loop_id)
    assert answer.content["labels"] == [{"name": "Cat", "confidence": 0.93, "source": "model"},
                                        {"name": "Polo shirt", "confidence": 1.0, "source": "human"}]
    assert answer.content["isBlind"] is False
    # The model's box is the starting point and is kept unless the reviewer deletes it.
    assert answer.content["boxes"] == [{"label": "Cat", "left": 0.1, "top": 0.1, "width": 0.5, "height": 0.6}]


def test_the_add_a_label_box_offers_every_model_label_and_every_label_people_added(app_at, seeded):
    seed_label_review(seeded, names=("cat.jpg", "rocket.jpg"))
    seeded.review.submit(seeded.review.next_task("ana", task_type="label_review"),
                         {"labels": [{"name": "Polo shirt", "confidence": 1.0, "source": "human"}], "boxes": [],
                          "isBlind": False})
    at = app_at("pages/label_review.py", reviewer="ben")
    (box,) = [m for m in at.multiselect if m.label == "Add missing labels"]
    assert list(box.options) == ["Animal", "Cat", "Dog", "Polo shirt"]


def test_blind_label_review_hides_the_models_suggestions(app_at, seeded):
    seed_label_review(seeded, blind_percent=100)
    at = app_at("pages/label_review.py", reviewer="ana")
    assert any("Blind review" in i.value for i in at.info)
    assert len(at.checkbox) == 0


def test_the_results_page_shows_final_labels_agreement_and_reviewers(app_at, seeded):
    seed_moderation(seeded, task_count=2)
    for worker in ("ana", "ben"):
        seeded.review.submit(seeded.review.next_task(worker), moderation_content([("Weapons", "Violence")]))
    at = app_at("pages/results.py", reviewer="ana")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Items reviewed"] == "1" and metrics["Human loops completed"] == "1"
    assert metrics["Agreement (Krippendorff's α)"] == "1.00" and metrics["Items with 2+ reviewers"] == "1"
    items = at.dataframe[0].value
    assert items.iloc[0]["human labels"] == "Weapons"
    assert items.iloc[0]["auto-accepted"] == "—"  # the model's image labels (Cat) are no moderation workflow's
    reviewers = at.dataframe[1].value
    assert list(reviewers["reviewer"]) == ["ana", "ben"] and list(reviewers["loops answered"]) == [1, 1]
    assert list(reviewers["agreement with consensus"]) == ["1.00", "1.00"]  # the same two-decimal scale as α
    pairs = at.dataframe[2].value
    assert list(pairs["Cohen's κ"]) == ["1.00"]


def test_the_results_page_never_shows_a_literal_none(app_at, seeded):
    """Issue 12 item 15: a figure that can't be computed (one reviewer, no timing) is a dash, not "None"."""
    seed_label_review(seeded)
    seeded.review.submit(seeded.review.next_task("ana", task_type="label_review"),
                         {"labels": [], "boxes": [], "isBlind": False})
    at = app_at("pages/results.py", reviewer="ana")
    assert not at.exception
    assert "None" not in {m.value for m in at.metric}
    for frame in at.dataframe:
        cells = frame.value.astype(object).to_numpy().ravel().tolist()
        assert not [c for c in cells if c is None or str(c) in ("None", "nan")], frame.value


def test_the_results_page_exports_in_a_background_job(app_at, seeded, tmp_path):
    seed_moderation(seeded, task_count=1)
    seeded.review.submit(seeded.review.next_task("ana"), moderation_content([]))
    at = app_at("pages/results.py", reviewer="ana")
    at.selectbox(key="results.format").select("csv").run()
    at.text_input(key="results.folder").input("exp").run()
    at.button(key="results.export").click().run()
    assert not at.exception
    job_id = at.session_state["results.job"]
    assert seeded.jobs.wait(job_id, timeout_s=30).status == "succeeded"
    assert (seeded.config.exports_root / "exp" / "labels.csv").exists()


def test_the_results_page_refuses_a_server_path_or_a_bucket_in_words(app_at, seeded, tmp_path):
    at = app_at("pages/results.py", reviewer="ana")
    for target in (str(tmp_path / "elsewhere"), "s3://any-bucket/x", "../up"):
        at.text_input(key="results.folder").input(target).run()
        at.button(key="results.export").click().run()
        assert not at.exception and "results.job" not in at.session_state
        assert any("folder name" in as_shown(e.value) for e in at.error)
    assert not (tmp_path / "elsewhere").exists()
    assert at.toggle(key="results.to_s3").disabled  # no LOUPE_EXPORT_S3_PREFIX configured


def test_an_empty_results_page_renders(app_at, seeded):
    at = app_at("pages/results.py")
    assert not at.exception
    (empty,) = [i.value for i in at.info if "No results yet" in i.value]
    assert "Start human loops" in empty and not at.dataframe  # how to get results, and no empty tables
    seeded.workflows.save(Workflow(name="fresh-flow", task_type="moderation"))
    at = app_at("pages/results.py")
    at.selectbox(key="results.workflow").select("fresh-flow").run()
    assert any("No results yet in fresh-flow" in as_shown(i.value) for i in at.info)


def test_the_results_page_compares_blind_and_shown_label_reviews(app_at, seeded):
    seed_label_review(seeded)
    task = seeded.review.next_task("ana", task_type="label_review")
    seeded.review.submit(task, {"labels": [{"name": "Cat"}, {"name": "Animal"}], "boxes": [], "isBlind": False})
    at = app_at("pages/results.py", reviewer="ana")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Match with model, suggestions shown"] == "100%"
    assert metrics["Match with model, blind"] == "—"


def test_skip_gives_the_task_back_and_opens_another(app_at, seeded):
    loops = seed_moderation(seeded, task_count=1, names=("cat.jpg", "coffee.jpg"))
    at = app_at("pages/moderation_task.py", reviewer="ana")
    first = at.session_state["moderation.loop_id"]
    at.button(key=f"moderation.{first}.skip").click().run()
    assert not at.exception
    assert at.session_state["moderation.loop_id"] != first
    assert {lp.loop_id for lp in loops} == {first, at.session_state["moderation.loop_id"]}
