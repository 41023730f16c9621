"""The evidence panel: review load now, precision/recall/F1 curves from people's answers, and recommendations."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from components.threshold_chart import metric_curves, share_chart
from core.evidence import ALL_LABELS, current_metrics, label_curves, recommend, review_load, reviewed_rows
from core.routing import Routed
from core.words import counted


def evidence_panel(routed: Routed, truth: Mapping[str, frozenset[str]] | None, seconds_per_task: float | None,
                   shares: pd.DataFrame, *, task_count: int, key: str) -> dict[str, tuple[float, float]] | None:
    """Render the evidence; returns overrides to apply when the user accepts the recommendations."""
    counts = routed.counts()["items"]
    load = review_load(counts["to_people"], routed.frame.n_items, task_count, seconds_per_task)
    cols = st.columns(3)
    cols[0].metric("Items to people", f"{load.share:.1%}", help=f"{load.items_to_people:,} of {load.items_total:,}")
    cols[1].metric("Reviewer-minutes implied", f"{load.reviewer_minutes:,.0f}",
                   help=f"{counted(task_count, 'reviewer')} per item × {load.seconds_per_task:.0f} s per task")
    cols[2].metric("Seconds per task", f"{load.seconds_per_task:.0f}",
                   help="Median measured time people spent (timeSpentInSeconds)" if load.is_measured
                   else "Assumed: nobody has submitted a timed answer yet")
    share_chart(shares, routed.thresholds.high, key=f"{key}.share")

    if not truth:
        st.info("No human answers yet. Precision, recall and recommendations appear here once people have "
                "reviewed some items (start human loops below, with an audit sample, and review them).")
        return None
    reviewed = reviewed_rows(routed.frame, truth)
    if reviewed.reviewed_items == 0:
        st.info("No human answers yet for items with these labels.")
        return None
    st.caption(f"Measured on {counted(reviewed.reviewed_items, 'item')} people reviewed.")
    st.dataframe(current_metrics(routed, reviewed), hide_index=True, key=f"{key}.now",
                 column_config={c: st.column_config.NumberColumn(format="percent")
                                for c in ("threshold", "precision", "recall", "f1")})
    curves = label_curves(reviewed)
    names = [ALL_LABELS, *sorted(set(curves["label"]) - {ALL_LABELS})]
    label = st.selectbox("Curve for", names, key=f"{key}.curve_label")
    current = routed.thresholds.high if label == ALL_LABELS else _label_high(routed, label)
    metric_curves(curves[curves["label"] == label], current, title=f"Auto-accept quality: {label}",
                  key=f"{key}.curve")

    target = st.slider("Target precision (%)", 50.0, 100.0, 95.0, 0.5, key=f"{key}.target") / 100
    table = recommend(curves, routed, target, task_count=task_count, seconds_per_task=seconds_per_task)
    st.markdown("**Recommend**: the lowest threshold per label that reaches the target precision, and the review "
                "it costs.")
    st.dataframe(table, hide_index=True, key=f"{key}.recommend",
                 column_config={"recommended": st.column_config.NumberColumn(format="percent"),
                                "precision": st.column_config.NumberColumn(format="percent"),
                                "recall": st.column_config.NumberColumn(format="percent"),
                                "reviewer_minutes": st.column_config.NumberColumn(format="%.1f")})
    usable = table.dropna(subset=["recommended"])
    if not usable.empty and st.button("Use these as per-label overrides", key=f"{key}.apply"):
        return {row.label: (0.0, float(row.recommended)) for row in usable.itertuples()}
    return None


def _label_high(routed: Routed, label: str) -> float | None:
    names = routed.frame.label_names
    return float(routed.high_pct[names.index(label)]) / 100 if label in names else None
