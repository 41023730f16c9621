"""The transcript editor's widgets: media player, confidence highlighting, segment editing, paging.

Transcript text is user data: the one HTML builder here escapes every word, and a test feeds it `<script>`.
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from components.markup import plain
from components.media_route import MIME_TYPES, media_url
from core.domain import MediaItem, Segment

PAGE_SIZE = 25
LOW_STYLE = "background:#ffe08a;border-radius:3px;padding:0 2px"
CURRENT_STYLE = "background:#ff9f43;border-radius:3px;padding:0 2px;outline:2px solid #c0392b"


def format_time(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:04.1f}" if hours else f"{minutes}:{secs:04.1f}"


def player(item: MediaItem, path: Path, *, start_s: float = 0.0, autoplay: bool = False) -> None:
    """The item's audio or video, starting at start_s (a click on a segment moves it).

    Under server.py the browser streams the stored file by range from /stored-media/<id>; only under a bare
    `streamlit run streamlit_app.py` does Streamlit load the whole file at path into its media store per session.
    """
    mime = MIME_TYPES.get(item.format, f"{item.kind}/{item.format}")
    show = st.video if item.kind == "video" else st.audio
    source = media_url(st.context.url, item.media_id) or str(path)
    show(source, format=mime, start_time=int(start_s), autoplay=autoplay)


def highlighted_html(segments: Sequence[Segment], *, threshold: float, first_index: int = 0,
                     current: tuple[int, int] | None = None) -> str:
    """The segments as escaped HTML, words below the confidence threshold marked, the current one outlined.

    `first_index` is the index of segments[0] in the whole transcript, so `current` uses whole-transcript indexes.
    """
    lines = []
    for offset, segment in enumerate(segments):
        index = first_index + offset
        parts = []
        for wi, word in enumerate(segment.words):
            text = html.escape(word.text)
            tip = html.escape(f"confidence {word.confidence:.2f} at {format_time(word.start_s)}", quote=True)
            if current == (index, wi):
                parts.append(f'<span id="lowword" style="{CURRENT_STYLE}" title="{tip}">{text}</span>')
            elif word.confidence < threshold:
                parts.append(f'<span style="{LOW_STYLE}" title="{tip}">{text}</span>')
            else:
                parts.append(text)
        body = " ".join(parts) if segment.words else html.escape(segment.text)
        lines.append(f'<p style="margin:0 0 .4em 0"><code>{format_time(segment.start_s)}</code> {body}</p>')
    return '<div class="loupe-transcript">' + "".join(lines) + "</div>"


def pager(count: int, *, key: str, page_size: int = PAGE_SIZE) -> int:
    """A page picker for `count` items; returns the 0-based page (held in session_state[key])."""
    pages = max(1, -(-count // page_size))
    if st.session_state.get(key, 0) >= pages:
        st.session_state[key] = 0
    if pages > 1:
        st.selectbox("Page", range(pages), key=key,
                     format_func=lambda p: f"segments {p * page_size + 1}-{min(count, (p + 1) * page_size)} of {count}")
    return int(st.session_state.get(key, 0))


def segment_rows(segments: Sequence[Segment], *, first_index: int, key: str, edits: dict[int, str], threshold: float,
                 current: tuple[int, int] | None = None) -> None:
    """One row per segment: a play button, the text with its low-confidence words highlighted, and an edit button.

    The highlighted text is where you edit: ✏️ opens a text box right below it (the words stay marked above what
    you type), and a row with unsaved edits, or holding the current low-confidence word, stays open. Typed text is
    kept in `edits` (segment index -> text) so it survives paging until it is saved. The play button moves the
    player to the segment's start (session_state[f"{key}.start_s"]) before the rerun.
    """
    editing: set[int] = st.session_state.setdefault(f"{key}.editing", set())
    for offset, segment in enumerate(segments):
        index = first_index + offset
        is_open = index in editing or index in edits or (current is not None and current[0] == index)
        play_col, text_col, edit_col = st.columns([1, 8, 1], vertical_alignment="top")  # icon buttons fit at 1280 px
        play_col.button("▶", key=f"{key}.play.{index}", help=f"Play from {format_time(segment.start_s)}",
                        on_click=_seek, args=(key, segment.start_s))
        with text_col:
            st.markdown(highlighted_html([segment], threshold=threshold, first_index=index, current=current),
                        unsafe_allow_html=True)
            if is_open:
                widget_key = f"{key}.seg.{index}"
                st.text_area(f"Segment {index + 1}", edits.get(index, segment.text), key=widget_key,
                             label_visibility="collapsed", height=68,
                             on_change=_remember_edit, args=(widget_key, index, segment.text, edits))
        if not is_open:
            edit_col.button("✏️", key=f"{key}.edit.{index}", help="Edit this segment's text",
                            on_click=editing.add, args=(index,))
        elif index not in edits:
            edit_col.button("✖", key=f"{key}.close.{index}", help="Close the text box (nothing changed)",
                            on_click=editing.discard, args=(index,))


def next_low_button(positions: Sequence[tuple[int, int]], segments: Sequence[Segment], *, key: str,
                    page_key: str, page_size: int = PAGE_SIZE) -> tuple[int, int] | None:
    """A "next low-confidence word" button that walks through `positions`, moving the page and the player.

    Returns the current position (segment index, word index), or None before the first press.
    """
    cursor_key = f"{key}.cursor"
    cursor = st.session_state.get(cursor_key)
    current = positions[cursor % len(positions)] if positions and cursor is not None else None
    st.button("Next low-confidence word ⏭", key=f"{key}.next", disabled=not positions,
              on_click=_next_low, args=(positions, segments, key, page_key, page_size))
    if current:
        word = segments[current[0]].words[current[1]]
        st.caption(f"Word {cursor % len(positions) + 1:d} of {len(positions)}: “{plain(word.text)}” at "
                   f"{plain(format_time(word.start_s))}, confidence {word.confidence:.2f}")
    return current


def _next_low(positions, segments, key: str, page_key: str, page_size: int) -> None:
    cursor_key = f"{key}.cursor"
    cursor = st.session_state.get(cursor_key)
    cursor = 0 if cursor is None else (cursor + 1) % len(positions)
    st.session_state[cursor_key] = cursor
    seg_index, word_index = positions[cursor]
    st.session_state[page_key] = seg_index // page_size
    _seek(key, segments[seg_index].words[word_index].start_s)


def _seek(key: str, start_s: float) -> None:
    st.session_state[f"{key}.start_s"] = start_s
    st.session_state[f"{key}.autoplay"] = True


def seek_position(key: str) -> tuple[float, bool]:
    """Where the player should start, and whether a click just asked it to play (asked once)."""
    return float(st.session_state.get(f"{key}.start_s", 0.0)), bool(st.session_state.pop(f"{key}.autoplay", False))


def _remember_edit(widget_key: str, index: int, original: str, edits: dict[int, str]) -> None:
    value = st.session_state[widget_key]
    if value.strip() == original.strip():
        edits.pop(index, None)
    else:
        edits[index] = value
