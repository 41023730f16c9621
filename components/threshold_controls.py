"""Threshold controls: routing mode, the global slider(s), the audit share and per-label overrides."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from components.markup import plain
from core.domain import Workflow
from core.errors import LoupeError
from core.routing_policy import DROP_REVIEW_ACCEPT, MODE_NAMES, MODES, Thresholds
from core.task_types import for_label_category


def seed_controls(thresholds: Thresholds, audit_percent: float, *, key: str) -> None:
    """Put a saved policy into the controls (call before they are drawn, e.g. when loading a workflow)."""
    st.session_state[f"{key}.mode"] = thresholds.mode
    st.session_state[f"{key}.high"] = thresholds.high * 100
    st.session_state[f"{key}.range"] = (thresholds.low * 100, thresholds.high * 100)
    st.session_state[f"{key}.audit"] = float(audit_percent)
    seed_overrides({name: (low, high) for name, low, high in thresholds.overrides}, key=key)


def active_workflow(workflows: Sequence[Workflow], category: str) -> Workflow | None:
    """The workflow that routes this label category now: the newest one of its task type with saved thresholds."""
    task_type = for_label_category(category).name
    routed = [w for w in workflows if w.task_type == task_type and w.routing.thresholds is not None]
    return max(routed, key=lambda w: w.created_at, default=None)


def open_with_active(workflows: Sequence[Workflow], category: str, *, key: str) -> Workflow | None:
    """The first time this session routes `category`, start the controls from its active workflow's thresholds
    (not the slider's default), so the page opens on what is in force; returns that workflow, if any."""
    opened: set[str] = st.session_state.setdefault(f"{key}.opened_categories", set())
    active = active_workflow(workflows, category)
    if category not in opened:
        opened.add(category)
        if active is not None:
            seed_controls(active.routing.thresholds, active.audit_percent, key=key)
    return active


def seed_overrides(overrides: Mapping[str, tuple[float, float]], *, key: str) -> None:
    """Replace the per-label overrides (e.g. with recommended thresholds)."""
    st.session_state[f"{key}.seed"] = dict(overrides)
    st.session_state[f"{key}.editor_version"] = st.session_state.get(f"{key}.editor_version", 0) + 1


def threshold_controls(label_names: Sequence[str], category: str, *, key: str) -> tuple[Thresholds, float]:
    """Draw the controls and return the policy they describe and the audit percentage."""
    for name, default in (("mode", "review_below"), ("high", 80.0), ("range", (50.0, 80.0)), ("audit", 0.0)):
        st.session_state.setdefault(f"{key}.{name}", default)
    mode = st.radio("Routing", MODES, format_func=MODE_NAMES.get, key=f"{key}.mode", horizontal=True)
    if mode == DROP_REVIEW_ACCEPT:
        low_pct, high_pct = st.slider(
            "Drop below · accept at or above (confidence %)", 0.0, 100.0, step=0.5, key=f"{key}.range",
            help="Labels between the two thresholds go to people.")
    else:
        high_pct = st.slider("Accept at or above (confidence %)", 0.0, 100.0, step=0.5, key=f"{key}.high",
                             help="Labels below go to people" if mode == "review_below" else "Labels below are dropped")
        low_pct = 0.0
    audit = st.number_input("Audit sample: share of auto-accepted items also sent to people (%)", 0.0, 100.0,
                            step=0.5, key=f"{key}.audit",
                            help="Measured precision is honest only if some confident items are reviewed too.")
    overrides = _override_editor(label_names, mode, key=key)
    try:
        return Thresholds(high=high_pct / 100, low=low_pct / 100, mode=mode, overrides=overrides,
                          category=category), float(audit or 0.0)
    except LoupeError as exc:
        st.error(f"{plain(exc)} The overrides are ignored until this is fixed.")
        return Thresholds(high=high_pct / 100, low=low_pct / 100, mode=mode, category=category), float(audit or 0.0)


def _override_editor(label_names: Sequence[str], mode: str, *, key: str) -> tuple[tuple[str, float, float], ...]:
    """Per-label thresholds; kept in session state, so the editor only runs (and costs time) while it is open."""
    seed: dict[str, tuple[float, float]] = st.session_state.setdefault(f"{key}.seed", {})
    if not st.toggle(f"Per-label overrides ({len(seed)} set)", key=f"{key}.show_overrides"):
        return tuple((name, low, high) for name, (low, high) in sorted(seed.items()))
    names = sorted(set(label_names) | set(seed))
    table = pd.DataFrame({
        "label": names,
        "low %": [seed[n][0] * 100 if n in seed else None for n in names],
        "accept at %": [seed[n][1] * 100 if n in seed else None for n in names],
    }, columns=["label", "low %", "accept at %"]).astype({"low %": "float64", "accept at %": "float64"})
    st.caption("Fill in “accept at %” for a label to give it its own threshold; leave it empty to use the "
               "global one." + (" “low %” is the drop threshold." if mode == DROP_REVIEW_ACCEPT else ""))
    edited = st.data_editor(
        table, key=f"{key}.overrides.{st.session_state.get(f'{key}.editor_version', 0)}", hide_index=True,
        disabled=["label"], column_order=["label", "accept at %"] + (["low %"] if mode == DROP_REVIEW_ACCEPT else []),
        column_config={"accept at %": st.column_config.NumberColumn(min_value=0.0, max_value=100.0, step=0.5),
                       "low %": st.column_config.NumberColumn(min_value=0.0, max_value=100.0, step=0.5)})
    current = {}
    for row in edited.itertuples(index=False):
        if pd.notna(row[2]):
            current[str(row[0])] = (float(row[1]) / 100 if pd.notna(row[1]) else 0.0, float(row[2]) / 100)
    st.session_state[f"{key}.seed"] = current  # the editor re-applies its own edits to this, which is harmless
    return tuple((name, low, high) for name, (low, high) in sorted(current.items()))
