"""Transcript review: play the media, fix the words the model was unsure of, save versions, mark reviewed."""
from pathlib import Path

import streamlit as st

from components import transcript_editor as te
from components import transcript_panels as panels
from components import transcript_session as session
from components.app import get_service, reviewer, shows_errors
from components.jobs import watch_jobs
from components.markup import plain
from core.transcript_text import apply_edits, apply_tweaks, import_transcript, low_confidence_words, parse_tweaks

service = get_service()
transcripts = service.transcripts
st.title("Transcript review")
if not service.catalog.counts(("audio", "video"))["total"]:
    st.info("No audio or video yet: upload some on the Upload page, or load the demo set on Home.")
    st.stop()
item = panels.find_media(lambda wanted, after: service.media_list.page(wanted, after=after),
                         find=lambda m: service.catalog.get_many([m]).get(m), key="transcript")
media_id = item.media_id
latest = transcripts.latest_number(media_id)
if not latest:
    st.info(f"{plain(item.file_name)} has not been transcribed yet.")
    chosen = service.settings.effective()
    if choice := panels.transcribe_form(key="transcript.run", default_model=chosen.transcriber,
                                        default_language=chosen.transcriber_language):
        service.transcription.submit([media_id], created_by=reviewer(), **choice)
    watch_jobs(lambda: service.transcription.jobs_for(media_id)[:3], key="transcript.jobs",
               on_cancel=service.jobs.cancel)
    st.stop()


def save(transcript, note: str) -> None:  # a new version on top of the one edited, then open it
    with shows_errors():
        session.after_save(transcripts.save(media_id, transcript, base_number=base, saved_by=reviewer(), note=note),
                           base=base)


opened_at_s = session.opened_at_s(media_id)
base = session.base_number(media_id, latest)
version = transcripts.get_version(media_id, base)
transcript = version.transcript
key = f"transcript.{media_id[:12]}.v{base}"
edits = session.edits(media_id, base)
if latest > base and st.button(f"Newer version v{latest} exists: open it (your unsaved edits stay with v{base})"):
    session.open_version(media_id, latest)
    st.rerun()
if clash := session.conflict(media_id):
    panels.show_conflict(*(transcripts.get_version(media_id, clash[side]) for side in ("theirs", "mine")))

wide = st.container()  # History goes here, above the editor at the page's full width
left, right = st.columns([2, 3])
with left:
    start_s, autoplay = te.seek_position(key)
    te.player(item, service.catalog.media_path(media_id), start_s=start_s, autoplay=autoplay)
    threshold = st.slider("Highlight words below this confidence", 0.0, 1.0, 0.6, 0.05, key="transcript.threshold")
    low = low_confidence_words(transcript, threshold)
    st.metric("Low-confidence words", f"{len(low)} of {len(transcript.words)}")
    current = te.next_low_button(low, transcript.segments, key=key, page_key=f"{key}.page")
    state = transcripts.review_state(media_id)
    panels.review_summary(state, transcripts.word_error_rate(media_id), version)
    if st.button("Mark reviewed ✅", key="transcript.reviewed", disabled=bool(edits) or base != latest,
                 help="Save your edits first; the newest version is the one marked reviewed."):
        with shows_errors():
            transcripts.mark_reviewed(media_id, reviewer=reviewer(), accepted_at_s=opened_at_s)
            st.rerun()
    tool = st.segmented_control("More", ["Find and replace", "History", "Import / export"], key="transcript.tool")
    if tool == "Find and replace":
        rules, rules_version = transcripts.tweaks()
        if action := panels.tweaks_panel(rules, key=key):
            with shows_errors():
                new_rules = parse_tweaks(action[1])
                if action[0] == "save":
                    transcripts.save_tweaks(new_rules, expected_version=rules_version)
                    st.toast("Rules saved for the project.")
                else:
                    tweaked, count = apply_tweaks(apply_edits(transcript, edits), new_rules)
                    save(tweaked, f"tweaks: {count} replacement(s)")
    elif tool == "Import / export":
        panels.export_panel(apply_edits(transcript, edits), service.settings.effective(),
                            file_stem=Path(item.file_name).stem, key=key)
        if upload := panels.import_panel(key=key):
            with shows_errors():
                save(import_transcript(upload[0], upload[1], media_id=media_id), f"imported {upload[0]}")
with right:
    page = te.pager(len(transcript.segments), key=f"{key}.page")
    first = page * te.PAGE_SIZE
    shown = transcript.segments[first:first + te.PAGE_SIZE]
    panels.version_caption(version, unsaved=len(edits))
    session.show_saved()
    te.segment_rows(shown, first_index=first, key=key, edits=edits, threshold=threshold, current=current)
    if st.button("Save as new version", type="primary", key="transcript.save", disabled=not edits):
        save(apply_edits(transcript, edits), "edit")
if tool == "History":
    with wide, st.container(border=True), shows_errors():
        versions = transcripts.versions(media_id)
        if number := panels.history_panel(versions, reviewed_number=state.reviewed_number, key=key):
            session.after_save(transcripts.restore(media_id, number, base_number=base, saved_by=reviewer()), base=base)
