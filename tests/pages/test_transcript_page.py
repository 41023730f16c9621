"""AppTest runs of the transcript review page against a real service in a temporary folder."""
from __future__ import annotations

from pathlib import Path

import pytest

from components.markup import as_shown
from core.domain import HumanLoop, Segment, Transcript, Word, Workflow
from core.loops import loop_id_for

ROOT = Path(__file__).resolve().parents[2]
PAGE = "pages/transcript.py"


def _transcript(texts_and_confidences) -> Transcript:
    segments, at = [], 0.0
    for text, confidences in texts_and_confidences:
        words = []
        for token, conf in zip(text.split(), confidences):
            words.append(Word(token, round(at, 3), round(at + 0.3, 3), conf))
            at += 0.4
        segments.append(Segment(words[0].start_s, words[-1].end_s, text, tuple(words)))
    return Transcript("", tuple(segments), language="en", duration_s=11.0, model_version="test-model")


@pytest.fixture
def media_id(seeded):
    media_id = seeded.catalog.ingest_file(ROOT / "demo" / "welcome.wav").media_id
    seeded.transcripts.save_model_transcript(media_id, _transcript([
        ("Welcome to loop on A.W.S.", (0.9, 0.95, 0.3, 0.9, 0.4)),
        ("Machine learning labels images", (0.99, 0.98, 0.5, 0.97)),
    ]))
    return media_id


def _seg(at, media_id: str, index: int, version: int = 1):
    """The segment's text box, opened with its Edit button first if it is closed."""
    key = f"transcript.{media_id[:12]}.v{version}"
    if not any(t.key == f"{key}.seg.{index}" for t in at.text_area):
        at.button(key=f"{key}.edit.{index}").click().run()
    return at.text_area(key=f"{key}.seg.{index}")


def test_the_page_asks_for_media_when_there_is_none(app_at):
    at = app_at(PAGE)
    assert "No audio or video yet" in at.info[0].value


def test_low_confidence_words_are_counted_and_the_count_follows_the_slider(app_at, media_id):
    at = app_at(PAGE, reviewer="ann")
    assert at.metric[0].value == "3 of 9"
    at.slider(key="transcript.threshold").set_value(0.35).run()
    assert at.metric[0].value == "1 of 9"
    html = " ".join(m.value for m in at.markdown)
    assert "background:#ffe08a" in html and "A.W.S." in html


def test_next_low_confidence_word_walks_through_them(app_at, media_id):
    at = app_at(PAGE, reviewer="ann")
    at.button(key=f"transcript.{media_id[:12]}.v1.next").click().run()
    assert any("Word 1 of 3: “loop”" in c.value for c in at.caption)
    at.button(key=f"transcript.{media_id[:12]}.v1.next").click().run()
    assert any("Word 2 of 3: “A.W.S.”" in as_shown(c.value) for c in at.caption)
    assert 'id="lowword"' in " ".join(m.value for m in at.markdown)


def test_a_segments_play_button_moves_the_player_to_its_start(app_at, media_id):
    at = app_at(PAGE, reviewer="ann")
    key = f"transcript.{media_id[:12]}.v1"
    at.button(key=f"{key}.play.1").click().run()
    assert at.session_state[f"{key}.start_s"] == 2.0  # the second segment starts at word 6, 0.4 s a word


def test_an_edit_saved_becomes_version_2_by_the_reviewer(app_at, media_id, seeded):
    at = app_at(PAGE, reviewer="ann")
    _seg(at, media_id, 0).set_value("Welcome to Loupe on AWS.").run()
    assert any("1 unsaved edit" in c.value for c in at.caption)
    at.button(key="transcript.save").click().run()
    assert not at.exception
    latest = seeded.transcripts.latest(media_id)
    assert latest.number == 2 and latest.saved_by == "ann"
    assert latest.transcript.segments[0].text == "Welcome to Loupe on AWS."
    assert _seg(at, media_id, 0, version=2).value == "Welcome to Loupe on AWS."
    assert any(c.value.startswith("v2 · edit · saved by ann") for c in at.caption)


def test_a_save_that_races_another_reviewer_shows_both_versions(app_at, media_id, seeded):
    at = app_at(PAGE, reviewer="ann")
    seeded.transcripts.save(media_id, _transcript([("Welcome to Loupe", (1, 1, 1)), ("Machine", (1,))]),
                            base_number=1, saved_by="bob")
    _seg(at, media_id, 1).set_value("Machine learning labels the images").run()
    at.button(key="transcript.save").click().run()
    assert "bob saved v2 while you were editing" in at.warning[0].value
    assert "kept as v3" in at.warning[0].value
    assert [v.number for v in seeded.transcripts.versions(media_id)] == [3, 2, 1]


def test_marking_reviewed_completes_the_loop_and_shows_the_models_wer(app_at, media_id, seeded):
    seeded.workflows.save(Workflow(name="transcripts", task_type="transcript_review"))
    loop_id = loop_id_for("transcripts", media_id)
    seeded.loops.create(HumanLoop(loop_id=loop_id, media_id=media_id, workflow="transcripts"))
    at = app_at(PAGE, reviewer="ann")
    _seg(at, media_id, 0).set_value("Welcome to Loupe on AWS.").run()
    at.button(key="transcript.save").click().run()
    at.button(key="transcript.reviewed").click().run()
    assert "Reviewed by ann (v2" in at.success[0].value
    assert seeded.loops.get(loop_id).status == "Completed"
    wer = next(m for m in at.metric if "word error rate" in m.label)
    assert wer.value == "11.1%"  # loop -> Loupe; A.W.S. and AWS are the same word once punctuation is ignored


def test_tweaks_are_saved_for_the_project_and_applied_as_a_new_version(app_at, media_id, seeded):
    at = app_at(PAGE, reviewer="ann")
    at.segmented_control(key="transcript.tool").set_value("Find and replace").run()
    key = f"transcript.{media_id[:12]}.v1"
    at.text_area(key=f"{key}.tweaks").set_value("A.W.S.=AWS\nloop=Loupe").run()
    at.button(key=f"{key}.tweaks.save").click().run()
    assert [t.find for t in seeded.transcripts.tweaks()[0]] == ["A.W.S.", "loop"]
    at.button(key=f"{key}.tweaks.apply").click().run()
    latest = seeded.transcripts.latest(media_id)
    assert latest.note == "tweaks: 2 replacement(s)"
    assert latest.transcript.segments[0].text == "Welcome to Loupe on AWS"


def test_history_lists_versions_diffs_and_restores(app_at, media_id, seeded):
    seeded.transcripts.save(media_id, _transcript([("Welcome to Loupe", (1, 1, 1)), ("Machine", (1,))]),
                            base_number=1, saved_by="bob")
    at = app_at(PAGE, reviewer="ann")
    at.segmented_control(key="transcript.tool").set_value("History").run()
    history = next(d.value for d in at.dataframe if "saved by" in d.value)  # the media list's table comes first
    assert history["saved by"].tolist() == ["bob", "test-model"]
    assert "<del" in " ".join(m.value for m in at.markdown)
    key = f"transcript.{media_id[:12]}.v2"
    at.button(key=f"{key}.restore.go").click().run()
    latest = seeded.transcripts.latest(media_id)
    assert latest.number == 3 and latest.note == "restored v1" and latest.saved_by == "ann"


def test_a_transcript_with_markup_is_shown_as_text(app_at, seeded):
    media_id = seeded.catalog.ingest_file(ROOT / "demo" / "welcome.wav").media_id
    seeded.transcripts.save_model_transcript(media_id, _transcript([("<script>alert(1)</script> hello", (0.1, 0.9))]))
    at = app_at(PAGE, reviewer="ann")
    html = " ".join(m.value for m in at.markdown)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_an_untranscribed_item_can_be_transcribed_from_the_page(app_at, seeded):
    media_id = seeded.catalog.ingest_file(ROOT / "demo" / "welcome.wav").media_id
    at = app_at(PAGE, reviewer="ann")
    assert "has not been transcribed yet" in at.info[0].value
    at.button(key="transcript.run.go").click().run()
    job = seeded.jobs.recent(1, kind="transcribe")[0]
    assert seeded.jobs.wait(job.job_id, 120).status == "succeeded"
    at.run()
    assert seeded.transcripts.latest(media_id).number == 1
    assert at.metric[0].label == "Low-confidence words" and not at.exception


def test_low_confidence_words_are_highlighted_in_the_rows_you_edit_not_in_a_second_copy(app_at, media_id):
    at = app_at(PAGE, reviewer="ann")
    shown = [m.value for m in at.markdown if "Machine" in m.value]
    assert len(shown) == 1 and "Welcome" not in shown[0]  # one line per segment row, the text shown once
    assert 'title="confidence 0.50 at 0:02.8">labels</span> images' in shown[0]
    assert len(at.text_area) == 0
    box = _seg(at, media_id, 1)  # Edit opens the text box right below the highlighted words of that row
    assert box.value == "Machine learning labels images"
    assert len([m for m in at.markdown if "Machine" in m.value]) == 1


def test_a_save_is_confirmed_with_the_new_version(app_at, media_id):
    at = app_at(PAGE, reviewer="ann")
    _seg(at, media_id, 0).set_value("Welcome to Loupe on AWS.").run()
    at.button(key="transcript.save").click().run()
    assert [s.value for s in at.success] == ["Saved as version v2."]
    at.run()
    assert not at.success  # confirmed once


def test_history_opens_at_the_pages_full_width(app_at, media_id, seeded):
    seeded.transcripts.save(media_id, _transcript([("Welcome to Loupe", (1, 1, 1)), ("Machine", (1,))]),
                            base_number=1, saved_by="bob")
    at = app_at(PAGE, reviewer="ann")
    at.segmented_control(key="transcript.tool").set_value("History").run()
    history = next(d.value for d in at.dataframe if "saved by" in d.value)  # the media list's table comes first
    assert history["saved by"].tolist() == ["bob", "test-model"]
    assert all(len(column.dataframe) == 0 for column in at.columns)  # not squeezed into the left column
