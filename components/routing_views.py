"""Views of a routing outcome: live band counts, the items table, the worked example, the workflow form and export."""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import fields

import pandas as pd
import streamlit as st

from components.labels import label_bars_html
from components.markup import plain
from core.domain import Label, Workflow
from core.errors import LoupeError
from core.flow_definitions import (
    PLACEHOLDER_ACCOUNT,
    TARGET_FIELDS,
    AwsTargets,
    target_problems,
    to_create_flow_definition,
)
from core.routing import BANDS, Routed
from core.task_types import REGISTRY, routing_mismatch, task_type_of, title_of
from core.words import counted

BAND_TITLES = {"accept": "Accepted automatically", "review": "Sent to people", "drop": "Dropped"}


def band_counts(routed: Routed, *, key: str) -> None:
    """Two rows of metrics: labels and items per band (items also: audit sample, total to people)."""
    counts = routed.counts()
    cols = st.columns(4)
    for col, band in zip(cols, BANDS):
        col.metric(f"Labels · {BAND_TITLES[band].lower()}", f"{counts['labels'][band]:,}")
    cols[3].metric("Labels · total", f"{sum(counts['labels'].values()):,}")
    cols = st.columns(4)
    for col, band in zip(cols, BANDS):
        col.metric(f"Items · {BAND_TITLES[band].lower()}", f"{counts['items'][band]:,}")
    cols[3].metric("Items · to people (incl. audit)", f"{counts['items']['to_people']:,}",
                   help=f"{counts['items']['audit']:,} of them are the audit sample of auto-accepted items")


def items_table(routed: Routed, names: Callable[[Sequence[str]], dict[str, str]], *, key: str,
                limit: int = 100) -> tuple[list[str], dict[str, str]]:
    """Items filtered by band and label; returns the media ids shown and their file names (for the example)."""
    left, right = st.columns(2)
    band = left.selectbox("Band", ["all", *BANDS, "audit"], key=f"{key}.band",
                          format_func=lambda b: {"all": "All items", "audit": "Audit sample"}.get(
                              b, BAND_TITLES.get(b, b)))
    label = right.selectbox("Carrying label", ["(any)", *routed.frame.label_names], key=f"{key}.label")
    table, total = routed.items(band=None if band == "all" else band, label=None if label == "(any)" else label,
                                limit=limit)
    file_names = names(list(table["media_id"]))
    table.insert(0, "file", [file_names.get(m, "") for m in table["media_id"]])
    st.caption(f"{counted(total, 'item')} match{'es' if total == 1 else ''}"
               + (f"; showing the first {len(table):,}" if total > len(table) else ""))
    st.dataframe(table, hide_index=True, key=f"{key}.table",
                 column_config={"lowest_pct": st.column_config.NumberColumn("lowest %", format="%.2f"),
                                "media_id": st.column_config.TextColumn("media id", width="small")})
    return list(table["media_id"]), file_names


def worked_example(split: dict[str, list[tuple[str, float]]], high_pct: float, *, title: str, key: str) -> None:
    """One item's labels split at the threshold, as the seed's slide shows them ("Person - 99.70%")."""
    st.markdown(f"**{plain(BAND_TITLES['accept'])}** (at or above the threshold, {high_pct:.1f}% globally)")
    st.caption(plain(title))
    _bars(split["accept"], key=f"{key}.accept")
    st.divider()
    st.markdown(f"**{plain(BAND_TITLES['review'])}**")
    _bars(split["review"], key=f"{key}.review")
    if split["drop"]:
        st.markdown(f"**{plain(BAND_TITLES['drop'])}**")
        _bars(split["drop"], key=f"{key}.drop")


def _bars(labels: list[tuple[str, float]], *, key: str) -> None:
    if not labels:
        st.caption("None.")
        return
    st.markdown(label_bars_html([Label(name, pct / 100.0) for name, pct in labels]), unsafe_allow_html=True)


def workflow_form(label_names: Sequence[str], task_type: str, *, key: str,
                  has_imported: bool) -> tuple[Workflow, str] | None:
    """The A2I flow definition fields; returns (workflow, "thresholds" | "imported") when saved. `task_type` is the
    one that reviews the routed labels: a task type that does not is saved with a warning."""
    with st.form(f"{key}.form"):
        name = st.text_input("Workflow name", key=f"{key}.name", placeholder="e.g. moderation-pass",
                             help="Letters, digits and hyphens, as A2I flow definition names.")
        left, right = st.columns(2)
        names = list(REGISTRY)
        task = left.selectbox("Task type", names, index=names.index(task_type), key=f"{key}.task_type",
                              format_func=title_of)
        count = right.number_input("Reviewers per item (TaskCount)", 1, 3, 1, key=f"{key}.task_count")
        title = st.text_input("Task title", key=f"{key}.title", max_chars=128)
        description = st.text_input("Task description", key=f"{key}.description", max_chars=255)
        instructions = st.text_area("Instructions", key=f"{key}.instructions")
        categories = st.multiselect("Categories shown to reviewers (empty: the labels that triggered the loop)",
                                    list(label_names), key=f"{key}.categories")
        time_limit = st.number_input("Time limit per task (seconds)", 30, 28_800, 3600, step=30,
                                     key=f"{key}.time_limit")
        source = st.radio("Route by", ["thresholds", "imported"], horizontal=True, key=f"{key}.source",
                          format_func={"thresholds": "These thresholds", "imported": "Imported conditions"}.get,
                          disabled=not has_imported)
        if not st.form_submit_button("Save workflow", type="primary"):
            return None
    wf = Workflow(name=name.strip(), task_type=task, task_count=int(count), title=title, description=description,
                  instructions=instructions, categories=tuple(categories), time_limit_s=int(time_limit))
    if source == "thresholds" and (mismatch := routing_mismatch(task, task_type_of(task_type).label_category)):
        st.warning(mismatch)
    return wf, source


def workflow_picker(workflows: Sequence[Workflow], *, key: str) -> str:
    """Pick a saved workflow by name, each shown with its task type in words; returns the name."""
    by_name = {w.name: w for w in workflows}
    return st.selectbox("Workflow", list(by_name), key=key,
                        format_func=lambda n: f"{n} · {title_of(by_name[n].task_type)}")


def flow_definition_download(workflow: Workflow, *, key: str) -> None:
    """The workflow as a CreateFlowDefinition request to download, with the four AWS resources it names set here or
    flagged as placeholders; or why it can't be one.

    The resources are a form: "Build the request" sends what is typed, and Download appears only then, with the
    values the file holds named beside it. A download button's file is made in the run before the click, so with
    plain fields a value typed and followed at once by a click on Download (the field commits on blur, too late)
    gave the file of the value before; the form's submit carries what is typed, however fast the click."""
    with st.expander("A2I flow definition (CreateFlowDefinition request)"):
        st.caption("A flow definition names four AWS resources of your account. Loupe fills in placeholders "
                   f"(account {plain(PLACEHOLDER_ACCOUNT)}) until you set them here; SageMaker refuses the request "
                   "while they are left in.")
        defaults = AwsTargets()
        with st.form(f"{key}.targets", border=False):
            cols = st.columns(2)
            values = {f.name: cols[i % 2].text_input(TARGET_FIELDS[f.name][0], getattr(defaults, f.name),
                                                      key=f"{key}.{f.name}")
                      for i, f in enumerate(fields(AwsTargets))}
            built = st.form_submit_button("Build the request")
        if built:  # a form's fields return what was last submitted: from now on they are what the file holds
            st.session_state[f"{key}.built"] = True
        if not st.session_state.get(f"{key}.built"):
            st.caption("Set your AWS resources (or keep the placeholders) and press Build the request to download "
                       "it.")
            return
        targets = AwsTargets(**{k: v.strip() for k, v in values.items()})
        try:
            body = json.dumps(to_create_flow_definition(workflow, targets), indent=2)
        except LoupeError as exc:
            st.caption(f"No CreateFlowDefinition export: {plain(exc)}")
            return
        for problem in target_problems(targets):
            st.caption("⚠ " + plain(problem))
        st.download_button("Download CreateFlowDefinition request", body, f"{workflow.name}-flow-definition.json",
                           "application/json", key=key, on_click="ignore")
        # drawn after the button, so a browser that shows these values has the button whose file holds them
        st.caption(f"The file is workflow {plain(workflow.name)}'s request with " + "; ".join(
            f"{plain(TARGET_FIELDS[k][0])} {plain(getattr(targets, k))}" for k in TARGET_FIELDS)
            + ". Changed a field? Build the request again.")


def loops_result(result: dict) -> None:
    """What "Start human loops" did."""
    st.success(f"Created {counted(result.get('created', 0), 'human loop')} for workflow "
               f"{plain(result.get('workflow', ''))} "
               f"({result.get('already_existed', 0):,} already existed; {result.get('review', 0):,} to review, "
               f"{result.get('audit', 0):,} audit).")


def per_label_table(routed: Routed, *, key: str) -> None:
    table: pd.DataFrame = routed.per_label()
    st.dataframe(table, hide_index=True, key=key,
                 column_config={"low": st.column_config.NumberColumn("low", format="percent"),
                                "high": st.column_config.NumberColumn("accept at", format="percent")})
