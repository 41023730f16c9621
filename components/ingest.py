"""The per-file outcome table of an ingest."""
from __future__ import annotations

import pandas as pd
import streamlit as st

OUTCOME_ICONS = {"ingested": "✅ ingested", "duplicate": "♻️ already present", "rejected": "❌ rejected"}


def outcome_table(outcomes: list[dict]) -> None:
    """One row per file: outcome and reason. st.dataframe renders every cell as text, never HTML."""
    if not outcomes:
        return
    counts = pd.Series([o["status"] for o in outcomes]).value_counts().to_dict()
    st.caption(" · ".join(f"{OUTCOME_ICONS[s]}: {n}" for s, n in counts.items()))
    frame = pd.DataFrame(
        {
            "file": [o["file"] for o in outcomes],
            "outcome": [OUTCOME_ICONS.get(o["status"], o["status"]) for o in outcomes],
            "reason": [o.get("reason") or "" for o in outcomes],
            "media id": [(o.get("media_id") or "")[:12] for o in outcomes],
        }
    )
    st.dataframe(frame, hide_index=True, width="stretch")
