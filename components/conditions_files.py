"""A2I activation conditions as files: download the current setting's JSON, import and validate a file."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import streamlit as st

from components.markup import plain
from core.conditions import MAX_CHARS, ConditionsError, dump_conditions, parse_conditions
from core.routing import conditions_for
from core.routing_policy import Thresholds


def conditions_export(thresholds: Thresholds, label_names: Sequence[str], audit_percent: float, *, key: str) -> None:
    """A download button (and a view) of the conditions that route exactly as these thresholds do."""
    try:
        conditions = conditions_for(thresholds, label_names, audit_percent)
    except ConditionsError as exc:
        st.warning(f"These thresholds can't be written as A2I conditions: {plain(exc)} Workflows keep the thresholds.")
        return
    text = json.dumps(conditions, indent=2)
    st.download_button("Download activation conditions JSON", text, "activation-conditions.json", "application/json",
                       key=f"{key}.download")
    with st.expander(f"Conditions JSON ({len(dump_conditions(conditions)):,} of {MAX_CHARS:,} characters)"):
        st.code(text, language="json")


def conditions_import(*, key: str) -> dict[str, Any] | None:
    """An uploader for a conditions file; returns the conditions when they are valid, else shows why not."""
    upload = st.file_uploader("Import activation conditions JSON", type=["json"], key=key)
    if upload is None:
        return None
    try:
        imported = parse_conditions(upload.getvalue().decode("utf-8", errors="replace"))
    except ConditionsError as exc:
        st.error(f"{plain(upload.name)}: {plain(exc)}")
        return None
    st.success(f"Valid: {len(imported['Conditions'])} top-level conditions. Save a workflow to route by them.")
    return imported
