"""Label bars the way Rekognition's console shows them ("Person - 99.70%"), with parents and moderation labels.

One function builds the HTML, escaping every label, parent and version string; nothing else here emits HTML.
"""
from __future__ import annotations

import html
from collections.abc import Iterable

import streamlit as st

from components.markup import plain
from core.domain import Label, Prediction

CSS = """<style>
.lb-row { margin: .15rem 0 .45rem 0; }
.lb-name { font-size: .92rem; }
.lb-parents { font-size: .75rem; color: #6b6f76; margin-left: .4rem; }
.lb-bar { height: .45rem; background: #e8eaee; border-radius: .25rem; overflow: hidden; }
.lb-fill { height: 100%; background: #3b7ddd; }
.lb-mod .lb-fill { background: #d9534f; }
.lb-box { font-size: .7rem; color: #3b7ddd; margin-left: .3rem; }
</style>"""


def label_text(label: Label) -> str:
    """ "Person - 99.70%": the name and its confidence as a percentage with two decimals."""
    return f"{label.name} - {label.confidence * 100:.2f}%"


def label_bars_html(labels: Iterable[Label], *, moderation: bool = False) -> str:
    """Escaped HTML: one bar per label, most confident first."""
    rows = []
    for lb in sorted(labels, key=lambda x: -x.confidence):
        width = max(0.0, min(100.0, lb.confidence * 100))
        context = lb.parent_name if moderation else ", ".join(lb.parents)
        parents = f'<span class="lb-parents">{html.escape(context)}</span>' if context else ""
        boxes = f'<span class="lb-box">▢ {len(lb.instances)}</span>' if lb.instances else ""
        rows.append(
            f'<div class="lb-row{" lb-mod" if moderation else ""}"><span class="lb-name">{html.escape(label_text(lb))}'
            f'</span>{parents}{boxes}<div class="lb-bar"><div class="lb-fill" style="width:{width:.2f}%"></div>'
            '</div></div>'
        )
    return CSS + "".join(rows)


def label_panel(prediction: Prediction | None, *, key: str) -> None:
    """General and moderation labels of one prediction, and the model that made them."""
    if prediction is None:
        st.info("Not labeled yet.")
        return
    general = [lb for lb in prediction.labels if lb.category != "moderation"]
    moderation = [lb for lb in prediction.labels if lb.category == "moderation"]
    st.markdown("**Labels**")
    if general:
        st.markdown(label_bars_html(general), unsafe_allow_html=True)
    else:
        st.caption("No labels above the model's minimum confidence.")
    st.markdown("**Moderation labels**")
    if moderation:
        st.markdown(label_bars_html(moderation, moderation=True), unsafe_allow_html=True)
    else:
        st.caption("None found.")
    st.caption(f"Model: {plain(prediction.model_version)} · source: {plain(prediction.source)} · "
               f"{plain(prediction.created_at)}")


def import_report(report: dict) -> None:
    """What an import kept and which rows it skipped (shown as table text, never HTML)."""
    st.success(f"{plain(report['file'])}: {plain(_count(report['imported'], 'image'))}, "
               f"{plain(_count(report['labels'], 'label'))} imported ({plain(report['format'])}, confidence read as "
               f"{plain(report['confidence_scale'] or 'n/a')}).")
    if report["errors"]:
        st.warning(f"{plain(_count(len(report['errors']), 'row'))} skipped; the rest were kept.")
        st.dataframe({"skipped": report["errors"]}, hide_index=True, width="stretch")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def label_job_failures(result: dict) -> None:
    """The images a finished label job could not label, each with its reason (table text, never HTML)."""
    failed = [o for o in result.get("outcomes", []) if o.get("status") == "failed"]
    if failed:
        st.warning(f"{plain(_count(len(failed), 'image'))} could not be labeled; the others were.")
        st.dataframe({"file": [o.get("file") or o["media_id"][:12] for o in failed],
                      "reason": [o.get("reason", "") for o in failed]}, hide_index=True, width="stretch")
