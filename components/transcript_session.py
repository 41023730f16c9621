"""What the Transcripts page keeps per browser session: the version each item is edited on, unsaved edits, when
the reviewer opened each item, and the last save race. Session state only; the page calls the service."""
from __future__ import annotations

import time
from typing import Any

import streamlit as st

from components.transcript_panels import conflict_note
from core.transcripts import SaveOutcome

OPENED_KEY = "transcript.opened_at_s"
BASE_KEY = "transcript.base"
EDITS_KEY = "transcript.edits"
CONFLICT_KEY = "transcript.conflict"
SAVED_KEY = "transcript.saved"


def opened_at_s(media_id: str) -> float:
    """When this session first opened the item (the answer's acceptanceTime)."""
    return st.session_state.setdefault(OPENED_KEY, {}).setdefault(media_id, time.time())


def base_number(media_id: str, latest: int) -> int:
    """The version this session edits: the newest when first opened, kept until a save or "open newer"."""
    return st.session_state.setdefault(BASE_KEY, {}).setdefault(media_id, latest)


def open_version(media_id: str, number: int) -> None:
    """Edit `number` from the next run on (rerun to show it)."""
    st.session_state.setdefault(BASE_KEY, {})[media_id] = number


def edits(media_id: str, base: int) -> dict[int, str]:
    """Unsaved segment edits (segment index -> text) on that version; the editor writes into this dict."""
    return st.session_state.setdefault(EDITS_KEY, {}).setdefault((media_id, base), {})


def after_save(outcome: SaveOutcome, *, base: int) -> None:
    """A save went in: open the new version (the edits it holds are dropped), note a save race, and rerun."""
    media_id = outcome.version.media_id
    open_version(media_id, outcome.version.number)
    st.session_state.setdefault(EDITS_KEY, {}).pop((media_id, base), None)
    st.session_state[CONFLICT_KEY] = conflict_note(outcome)
    if outcome.conflict_with is None:
        st.session_state[SAVED_KEY] = outcome.version.number
    st.rerun()


def show_saved() -> None:
    """Confirm the save that the last run made (once): which version it became."""
    if number := st.session_state.pop(SAVED_KEY, None):
        st.success(f"Saved as version v{number:d}.", icon="✅")


def conflict(media_id: str) -> dict[str, Any] | None:
    """The last save race on this item ({"theirs": n, "mine": m}), if the last save here was one."""
    clash = st.session_state.get(CONFLICT_KEY)
    return clash if clash and clash["media_id"] == media_id else None
