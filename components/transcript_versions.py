"""Transcript history widgets: the version list and a word diff between two versions (escaped HTML)."""
from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from core.transcript_text import DiffPiece
from core.transcripts import TranscriptVersion

DIFF_STYLES = {"delete": "background:#ffd7d5;text-decoration:line-through", "insert": "background:#ccffd8"}


def version_table(versions: Sequence[TranscriptVersion], *, reviewed_number: int = 0) -> None:
    frame = pd.DataFrame({
        "version": [f"v{v.number}" + (" ✅ reviewed" if v.number == reviewed_number else "") for v in versions],
        "saved by": [v.saved_by for v in versions],
        "saved at": [v.saved_at.replace("T", " ")[:19] for v in versions],
        "note": [v.note + (f" (from v{v.base_number})" if v.base_number else "") for v in versions],
        "words": [len(v.transcript.words) for v in versions],
    })
    st.dataframe(frame, hide_index=True, width="stretch")


def diff_html(pieces: Sequence[DiffPiece]) -> str:
    """Deleted words struck through in red, inserted ones in green; every word escaped."""
    parts = []
    for piece in pieces:
        text = html.escape(piece.text)
        if piece.op == "equal":
            parts.append(text)
        else:
            tag = "del" if piece.op == "delete" else "ins"
            parts.append(f'<{tag} style="{DIFF_STYLES[piece.op]}">{text}</{tag}>')
    return '<div class="loupe-diff">' + " ".join(parts) + "</div>"


def show_diff(pieces: Sequence[DiffPiece], *, caption: str = "") -> None:
    if caption:
        st.caption(caption)
    changed = sum(1 for p in pieces if p.op != "equal")
    if not changed:
        st.write("No differences in the words.")
        return
    st.markdown(diff_html(pieces), unsafe_allow_html=True)
