"""Panels around the transcript editor: the item picker, engine choice, review summary, conflicts, tweaks, history,
import/export.

Each takes domain values and a key prefix and returns what the user asked for; the page calls the service.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from components.auth import set_query_param
from components.markup import plain
from components.media_browser import browse, media_table
from components.transcript_versions import show_diff, version_table
from core.domain import MediaItem, Transcript
from core.media_list import MediaFilter, MediaPage
from core.project_settings import EffectiveSettings
from core.transcribers import describe_engines
from core.transcript_text import EXPORT_FORMATS, Tweak, export_transcript, format_tweaks, word_diff
from core.transcripts import ReviewState, SaveOutcome, TranscriptVersion
from core.words import counted


def find_media(fetch: Callable[[MediaFilter, str | None], MediaPage], *, find: Callable[[str], MediaItem | None],
               key: str, kinds: tuple[str, ...] = ("audio", "video")) -> MediaItem:
    """The searchable, paged list of audio and video (open unless a link named the item), then the picker."""
    with st.expander("Find audio and video", expanded=not st.query_params.get("media")):
        found = browse(fetch, key=f"{key}.filter", kinds=kinds, with_labels=False, noun="items")
        picked = media_table(found.rows, key=f"{key}.table")
    return media_picker([r.item for r in found.rows], key=f"{key}.media", find=find, picked=picked)


def media_picker(items: Sequence[MediaItem], *, key: str, find: Callable[[str], MediaItem | None],
                 picked: str | None = None) -> MediaItem:
    """Pick one of `items` (the list's page), each shown with its status; the `media` query parameter follows the
    choice, so a link opens that item, and `picked` (a row just selected in the list) becomes the choice. An item
    chosen before but not on this page is looked up with `find` and kept at the top.

    The choice is kept under `key`. The widget's own key changes with the statuses shown, so a status that changed
    (a transcription job ended: "new" -> "transcribed") is drawn anew: the browser keeps a widget's old labels.
    """
    by_id = {i.media_id: i for i in items}
    if picked and picked != st.session_state.get(f"{key}.picked"):
        st.session_state[f"{key}.picked"] = st.session_state[key] = picked
    wanted = st.session_state.get(key) or st.query_params.get("media")
    if wanted and wanted not in by_id and (found := find(wanted)) is not None:
        by_id = {found.media_id: found, **by_id}
    if not by_id:
        st.info("No audio or video matches the search.")
        st.stop()
    if st.session_state.get(key) not in by_id:
        st.session_state[key] = wanted if wanted in by_id else next(iter(by_id))
    labels = {m: f"{i.file_name} · {i.status}" for m, i in by_id.items()}
    widget_key = f"{key}.{zlib.crc32(chr(31).join(labels.values()).encode()):08x}"
    st.session_state[widget_key] = st.session_state[key]
    media_id = st.selectbox("Media item", list(by_id), key=widget_key, format_func=labels.get,
                            on_change=lambda: st.session_state.__setitem__(key, st.session_state[widget_key]))
    set_query_param("media", media_id)
    return by_id[media_id]


def transcribe_form(*, key: str, default_model: str, default_language: str = "") -> dict[str, Any] | None:
    """Engine and language for a transcription job; the chosen settings when the button is pressed."""
    engines = describe_engines()
    options = list(dict.fromkeys([default_model, *engines]))
    cols = st.columns([2, 1, 1], vertical_alignment="bottom")
    model = cols[0].selectbox("Engine", options, key=f"{key}.model",
                              format_func=lambda m: engines.get(m, f"model folder {m}"))
    language = cols[1].text_input("Language", value=default_language, key=f"{key}.language", placeholder="detect",
                                  help="A code such as en, de or fr; empty detects it (multilingual engines).")
    if cols[2].button("Transcribe", type="primary", key=f"{key}.go"):
        return {"model": model, "language": language.strip()}
    return None


def version_caption(version: TranscriptVersion, *, unsaved: int = 0) -> None:
    """Which version is shown: number, note, who saved it and when, and the edits not saved yet."""
    st.caption(f"v{version.number:d} · {plain(version.note)} · saved by {plain(version.saved_by)} · "
               f"{plain(version.saved_at[:19])}" + (f" · {counted(unsaved, 'unsaved edit')}" if unsaved else ""))


def review_summary(state: ReviewState, wer: float | None, version: TranscriptVersion) -> None:
    if state.is_reviewed:
        st.success(f"Reviewed by {plain(state.reviewed_by)} (v{state.reviewed_number:d}, "
                   f"{plain(state.reviewed_at[:16].replace('T', ' '))}).")
    label = "Model word error rate" + (" vs reviewed" if state.is_reviewed else " vs newest")
    st.metric(label, "–" if wer is None else f"{wer:.1%}",
              help="Word error rate of the model's transcript against the reviewed one: the model's measured "
                   "accuracy on this file (case and punctuation ignored).")


def conflict_note(outcome: SaveOutcome) -> dict[str, Any] | None:
    if outcome.conflict_with is None:
        return None
    return {"media_id": outcome.version.media_id, "theirs": outcome.conflict_with.number,
            "mine": outcome.version.number}


def show_conflict(theirs: TranscriptVersion, mine: TranscriptVersion) -> None:
    """Both versions of a save race, neither lost: who saved first, and how my copy differs from theirs."""
    st.warning(f"{plain(theirs.saved_by)} saved v{theirs.number:d} while you were editing. Nothing was lost: your "
               f"edit is kept as v{mine.number:d}. Compare them below, then edit the one you want to keep.")
    show_diff(word_diff(theirs.transcript.text, mine.transcript.text),
              caption=f"v{theirs.number:d} ({plain(theirs.saved_by)}) → v{mine.number:d} (you): struck words are "
                      "theirs, green are yours")


def tweaks_panel(tweaks: list[Tweak], *, key: str) -> tuple[str, str] | None:
    """Find-and-replace rules for the project. Returns ("save", text) or ("apply", text) when pressed."""
    text = st.text_area("Rules, one a line: find=replace", value=format_tweaks(tweaks), key=f"{key}.tweaks",
                        placeholder="A.W.S.=AWS", help="Whole words only. Remembered for the project.")
    cols = st.columns(2)
    is_save = cols[0].button("Save rules", key=f"{key}.tweaks.save")
    is_apply = cols[1].button("Apply to this transcript (new version)", key=f"{key}.tweaks.apply")
    return ("save", text) if is_save else ("apply", text) if is_apply else None


def history_panel(versions: Sequence[TranscriptVersion], *, reviewed_number: int, key: str) -> int | None:
    """The version list, a word diff between any two, and restore. Returns the number to restore, if pressed."""
    version_table(versions, reviewed_number=reviewed_number)
    numbers = [v.number for v in versions]
    if len(numbers) < 2:
        return None
    by_number = {v.number: v for v in versions}
    cols = st.columns(2)
    old = cols[0].selectbox("Compare", numbers, index=len(numbers) - 1, key=f"{key}.old", format_func=lambda n: f"v{n}")
    new = cols[1].selectbox("with", numbers, index=0, key=f"{key}.new", format_func=lambda n: f"v{n}")
    show_diff(word_diff(by_number[old].transcript.text, by_number[new].transcript.text))
    restore = st.selectbox("Restore version", numbers[1:], key=f"{key}.restore", format_func=lambda n: f"v{n}")
    if st.button(f"Restore v{restore} as a new version", key=f"{key}.restore.go"):
        return restore
    return None


def export_panel(transcript: Transcript, settings: EffectiveSettings, *, file_stem: str, key: str) -> None:
    fmt = st.selectbox("Export as", list(EXPORT_FORMATS), key=f"{key}.fmt",
                       format_func=lambda name: EXPORT_FORMATS[name].title)
    data = export_transcript(transcript, fmt, gap_s=settings.caption_gap_ms / 1000,
                             line_chars=settings.caption_line_chars, lines=settings.caption_lines)
    chosen = EXPORT_FORMATS[fmt]
    st.download_button(f"Download {chosen.title}", data, file_name=f"{file_stem}.{chosen.extension}",
                       mime=chosen.mime, key=f"{key}.download")


def import_panel(*, key: str) -> tuple[str, bytes] | None:
    """An uploaded Transcribe JSON, SRT or WebVTT file to save as a new version."""
    upload = st.file_uploader("Import Amazon Transcribe JSON, SRT or WebVTT", type=["json", "srt", "vtt"],
                              key=f"{key}.import")
    if upload is not None and st.button("Save the import as a new version", key=f"{key}.import.go"):
        return upload.name, upload.getvalue()
    return None
