"""A searchable, paged media list (Images, Transcripts): the filter row, Previous / Next over store cursors, and the
table of one page. The page asks the service for the rows; nothing here reads a store."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from components.labels import label_text
from core.domain import MEDIA_STATUSES
from core.media_list import ORDERS, PAGE_ROWS, MediaFilter, MediaPage, MediaRow
from core.words import counted


def media_filter(*, key: str, kinds: tuple[str, ...], with_labels: bool) -> MediaFilter:
    """The filter row: name, status, (label and confidence,) and order; a choice of kind when there are several."""
    cols = st.columns([3, 2, 2, 2, 2] if with_labels else [3, 2, 2, 2], vertical_alignment="bottom")
    name = cols[0].text_input("Search by name", key=f"{key}.name", placeholder="part of the file name")
    status = cols[1].selectbox("Status", ["", *MEDIA_STATUSES], key=f"{key}.status",
                               format_func=lambda s: s.replace("_", " ").capitalize() if s else "Any status")
    order = cols[-1].selectbox("Sort", list(ORDERS), key=f"{key}.order", format_func=ORDERS.get)
    if not with_labels:
        shown = cols[2].selectbox("Kind", ["", *kinds], key=f"{key}.kind",
                                  format_func=lambda k: k.capitalize() if k else "Audio and video")
        return MediaFilter(kinds=(shown,) if shown else kinds, name=name, status=status, order=order)
    label = cols[2].text_input("Label", key=f"{key}.label", placeholder="e.g. Cat")
    low, high = cols[3].slider("Confidence", 0.0, 1.0, (0.0, 1.0), 0.05, key=f"{key}.confidence",
                               help="Of the label named, or of each image's top label.")
    return MediaFilter(kinds=kinds, name=name, status=status, label=label, min_confidence=low, max_confidence=high,
                       order=order)


def browse(fetch: Callable[[MediaFilter, str | None], MediaPage], *, key: str, kinds: tuple[str, ...],
           with_labels: bool, noun: str) -> MediaPage:
    """Filter row, the page the cursors point at (`fetch(filter, after)`), and the pager; returns that page."""
    wanted = media_filter(key=key, kinds=kinds, with_labels=with_labels)
    page = fetch(wanted, page_cursor(wanted, key=key))
    pager(page, key=key, noun=noun)
    return page


def page_cursor(wanted: MediaFilter, *, key: str) -> str | None:
    """Where the shown page starts: the cursors of the pages before it are kept, and dropped when the filter changes."""
    state = st.session_state.setdefault(f"{key}.pages", {"filter": wanted, "cursors": [None]})
    if state["filter"] != wanted:
        state.update(filter=wanted, cursors=[None])
    return state["cursors"][-1]


def pager(page: MediaPage, *, key: str, noun: str) -> None:
    """"Rows 51–100 of 12,345" and Previous / Next buttons, which move between the kept cursors."""
    cursors: list[str | None] = st.session_state[f"{key}.pages"]["cursors"]
    first = (len(cursors) - 1) * PAGE_ROWS + 1
    last = first + len(page.rows) - 1
    cols = st.columns([6, 1, 1], vertical_alignment="center")
    if page.matches is not None:
        what = f"{first:,}–{last:,} of {page.matches:,} {noun}" if page.rows else f"No {noun} match."
    elif page.cursor is None:
        total = first - 1 + len(page.rows)
        what = f"{total:,} {noun} match" + (f" (this page: {first:,}–{last:,})" if first > 1 else "")
        what = what if total else f"No {noun} match."
    else:
        what = f"{first:,}–{last:,} of the {noun} that match" if page.rows else f"No {noun} match so far"
        if len(page.rows) < PAGE_ROWS:  # the page stopped at its read budget, not at the end
            what += f" (looked at {counted(page.read, 'item')}; Next looks further)"
    cols[0].caption(what)
    if cols[1].button("← Previous", key=f"{key}.prev", disabled=len(cursors) == 1, width="stretch"):
        cursors.pop()
        st.rerun()
    if cols[2].button("Next →", key=f"{key}.next", disabled=page.cursor is None, width="stretch"):
        cursors.append(page.cursor)
        st.rerun()


def image_table(rows: Sequence[MediaRow], *, key: str) -> list[str]:
    """One page of images with status, top labels and moderation labels; returns the media ids selected."""
    def labels(row: MediaRow, moderation: bool) -> list:
        found = row.prediction.labels if row.prediction else ()
        return [lb for lb in found if (lb.category == "moderation") == moderation]

    table = pd.DataFrame({
        "file": [r.item.file_name for r in rows],
        "status": [r.item.status for r in rows],
        "top labels": [" · ".join(label_text(lb) for lb in labels(r, False)[:3]) for r in rows],
        "moderation": [", ".join(lb.name for lb in labels(r, True)) for r in rows],
        "added": [r.item.created_at[:16].replace("T", " ") for r in rows],
    })
    picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row",
                          key=_page_key(key, rows))
    chosen = picked.selection.rows if picked and picked.selection else []
    return [rows[i].item.media_id for i in chosen if i < len(rows)]


def media_table(rows: Sequence[MediaRow], *, key: str) -> str | None:
    """One page of audio and video; returns the media id of the row selected, if any."""
    table = pd.DataFrame({
        "file": [r.item.file_name for r in rows],
        "kind": [r.item.kind for r in rows],
        "status": [r.item.status for r in rows],
        "duration": [f"{r.item.duration_s:.0f} s" if r.item.duration_s else "" for r in rows],
        "added": [r.item.created_at[:16].replace("T", " ") for r in rows],
    })
    picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                          key=_page_key(key, rows), height=min(400, 38 + 35 * max(1, len(rows))))
    chosen = picked.selection.rows if picked and picked.selection else []
    return rows[chosen[0]].item.media_id if chosen and chosen[0] < len(rows) else None


def _page_key(key: str, rows: Sequence[MediaRow]) -> str:
    """A table key per page (its first item), so rows selected on one page are not taken as the same positions on the
    next: Streamlit keeps a keyed table's selection when its data changes."""
    return f"{key}.{rows[0].item.media_id[:12]}" if rows else f"{key}.empty"
