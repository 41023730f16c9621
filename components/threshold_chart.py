"""Charts for the threshold lab: the confidence histogram with thresholds drawn, and curves with the setting marked.

Charts get pre-aggregated frames (a few hundred rows at most), never one row per label, so they stay fast at
a million labels. Specs are plain Vega-Lite; label names only ever travel as data, never as HTML.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

BAND_COLORS = {"accept": "#2e9d5b", "review": "#e69a28", "drop": "#9aa0a6"}


def confidence_histogram(hist: pd.DataFrame, thresholds_pct: list[float], *, key: str) -> None:
    """Stacked label counts per confidence bin, coloured by band, with a rule at each threshold."""
    if hist.empty:
        st.caption("No labels to chart.")
        return
    rules = pd.DataFrame({"threshold_pct": thresholds_pct})
    spec = {
        "height": 260,
        "layer": [
            {"data": {"values": hist.to_dict("records")},
             "mark": {"type": "bar", "tooltip": True},
             "encoding": {
                 "x": {"field": "start_pct", "type": "quantitative", "title": "Confidence (%)",
                       "bin": {"binned": True, "step": float(hist["end_pct"].iloc[0] - hist["start_pct"].iloc[0])},
                       "scale": {"domain": [0, 100]}},
                 "x2": {"field": "end_pct"},
                 "y": {"field": "labels", "type": "quantitative", "title": "Labels", "stack": True},
                 "color": {"field": "band", "type": "nominal", "title": "Band",
                           "scale": {"domain": list(BAND_COLORS), "range": list(BAND_COLORS.values())}}}},
            {"data": {"values": rules.to_dict("records")},
             "mark": {"type": "rule", "color": "#c0392b", "strokeWidth": 2, "strokeDash": [6, 3]},
             "encoding": {"x": {"field": "threshold_pct", "type": "quantitative"}}},
        ],
    }
    st.vega_lite_chart(spec=spec, key=key, width="stretch")


def metric_curves(curve: pd.DataFrame, current_threshold: float | None, *, title: str, key: str) -> None:
    """Precision, recall and F1 against the threshold (0..1), with the current setting marked."""
    long = curve.melt(id_vars=["threshold"], value_vars=["precision", "recall", "f1"], var_name="metric")
    long = long.dropna(subset=["value"])
    if long.empty:
        st.caption("Not enough reviewed items for this curve yet.")
        return
    _line_chart(long.to_dict("records"), "value", "metric", current_threshold, title=title, y_title="", key=key)


def share_chart(shares: pd.DataFrame, current_threshold: float, *, key: str) -> None:
    """Share of items sent to people against the global accept threshold, current setting marked."""
    _line_chart(shares.assign(metric="items to people").to_dict("records"), "share", "metric", current_threshold,
                title="Share of items sent to people", y_title="share", key=key)


def _line_chart(values: list[dict], y: str, color: str, current: float | None, *, title: str, y_title: str,
                key: str) -> None:
    layers: list[dict] = [{
        "data": {"values": values},
        "mark": {"type": "line", "point": False, "tooltip": True},
        "encoding": {"x": {"field": "threshold", "type": "quantitative", "title": "Threshold",
                           "scale": {"domain": [0, 1]}, "axis": {"format": "%"}},
                     "y": {"field": y, "type": "quantitative", "title": y_title, "scale": {"domain": [0, 1]},
                           "axis": {"format": "%"}},
                     "color": {"field": color, "type": "nominal", "title": None}}}]
    if current is not None:
        layers.append({"data": {"values": [{"threshold": current}]},
                       "mark": {"type": "rule", "color": "#c0392b", "strokeWidth": 2, "strokeDash": [6, 3]},
                       "encoding": {"x": {"field": "threshold", "type": "quantitative"}}})
    st.vega_lite_chart(spec={"title": title, "height": 220, "layer": layers}, key=key, width="stretch")
