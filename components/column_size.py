"""How much room a column gives: its width and the window's height, measured in the browser and reported once.

Streamlit lays columns out in the browser, so Python cannot know how wide one is. A zero-height components-v2
element placed in the column measures the column's block and reports `{width, height}` as its state; it reports
again only when the column's width changes by at least `MIN_CHANGE_PX` (a window resize, the sidebar opening),
so a scroll bar appearing or going does not start a loop of reruns. The width last reported goes back to the
browser as the element's data: a column drawn anew (the next task) reports only if its width differs. Until the
first report the size is None.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

MIN_CHANGE_PX = 24

JS = """
export default function (component) {
  const { setStateValue, parentElement, data } = component;
  let known = (data && data.known_width) || 0;
  const host = parentElement.host || parentElement;
  const block = host.closest('[data-testid="stVerticalBlock"]') || host.parentElement;
  if (!block) return;
  const report = () => {
    const width = Math.floor(block.getBoundingClientRect().width);
    if (width > 0 && Math.abs(width - known) >= MIN_CHANGE) {
      known = width;
      setStateValue('size', { width: width, height: window.innerHeight });
    }
  };
  const observer = new ResizeObserver(report);
  observer.observe(block);
  report();
  return () => observer.disconnect();
}
""".replace("MIN_CHANGE", str(MIN_CHANGE_PX))

_measure = st.components.v2.component("loupe.column_size", js=JS)


@dataclass(frozen=True)
class ColumnSize:
    width_px: int
    window_height_px: int


def column_size(*, key: str) -> ColumnSize | None:
    """The width of the column this is called in and the window's height, once the browser has reported them."""
    known: ColumnSize | None = st.session_state.get(f"{key}.known")
    result = _measure(key=key, data={"known_width": known.width_px if known else 0}, on_size_change=lambda: None,
                      height=0)
    size = getattr(result, "size", None) if result is not None else None
    try:
        measured = ColumnSize(int(size["width"]), int(size["height"]))
    except (KeyError, TypeError, ValueError):
        return known
    st.session_state[f"{key}.known"] = measured
    return measured
