"""The per-file outcome table of an ingest."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components.markup import plain
from core.audio import release_freed_memory

SHORT_REASON_CHARS = 40  # a longer reason would be cut off in one grid line
WRAPPED_ROW_PX = 76  # three lines of a wrapped reason
OUTCOME_ICONS = {"ingested": "✅ ingested", "duplicate": "♻️ already present", "rejected": "❌ rejected",
                 "failed": "⚠️ not stored"}


def outcome_table(outcomes: list[dict]) -> None:
    """One row per file: outcome and reason. st.dataframe renders every cell as text, never HTML."""
    if not outcomes:
        return
    counts = pd.Series([o["status"] for o in outcomes]).value_counts().to_dict()
    st.caption(" · ".join(f"{plain(OUTCOME_ICONS[s])}: {n:d}" for s, n in counts.items()))
    frame = pd.DataFrame(
        {
            "file": [o["file"] for o in outcomes],
            "outcome": [OUTCOME_ICONS.get(o["status"], o["status"]) for o in outcomes],
            "reason": [o.get("reason") or "" for o in outcomes],
            "media id": [(o.get("media_id") or "")[:12] for o in outcomes],
        }
    )
    # A reason is a sentence: its column is the wide one, and rows taller than 4rem let the grid wrap it.
    is_long = frame["reason"].str.len().max() > SHORT_REASON_CHARS
    st.dataframe(frame, hide_index=True, width="stretch", row_height=WRAPPED_ROW_PX if is_long else None,
                 column_config={"file": st.column_config.TextColumn(width="medium"),
                                "outcome": st.column_config.TextColumn(width="small"),
                                "reason": st.column_config.TextColumn(width="large"),
                                "media id": st.column_config.TextColumn(width="small")})


def release_uploads(files: list) -> None:
    """Drop Streamlit's in-memory copy of uploads once they are staged on disk, rather than when the session ends."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    manager = runtime.get_instance().uploaded_file_mgr if runtime.exists() else None
    for f in files:
        if manager is not None and ctx is not None and getattr(f, "file_id", None):
            manager.remove_file(ctx.session_id, f.file_id)
        f.close()  # BytesIO.close drops its buffer: with the manager's record gone, the bytes are freed now
    release_freed_memory()
