"""Keyboard shortcuts for fast review passes: a components-v2 element that listens on the page and reports a key.

Number keys 1-9 toggle categories (or model labels), 0 (or N) picks "None of the above", Enter submits, S skips. Keys
typed into a text field, or pressed while a dialog (the full instructions) is open, are ignored. Place it above the
widgets it drives: the page applies the key to their session state before they are drawn in the same run.
"""
from __future__ import annotations

import streamlit as st

JS = """
export default function (component) {
  const { setTriggerValue } = component;
  const handler = (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
    const t = e.target;
    const tag = t && t.tagName ? t.tagName.toLowerCase() : '';
    if (tag === 'input' && t.type !== 'checkbox' || tag === 'textarea' || tag === 'select') return;
    if (t && t.isContentEditable) return;
    if (document.querySelector('[role="dialog"]')) return;
    let value = null;
    if (/^[1-9]$/.test(e.key)) value = 'toggle:' + e.key;
    else if (e.key === '0' || e.key === 'n' || e.key === 'N') value = 'none';
    else if (e.key === 'Enter') value = 'submit';
    else if (e.key === 's' || e.key === 'S') value = 'skip';
    if (value === null) return;
    e.preventDefault();
    setTriggerValue('key', value + ':' + Date.now());
  };
  if (window.__loupeTaskKeys) document.removeEventListener('keydown', window.__loupeTaskKeys);
  window.__loupeTaskKeys = handler;
  document.addEventListener('keydown', handler);
  return () => {
    document.removeEventListener('keydown', handler);
    if (window.__loupeTaskKeys === handler) window.__loupeTaskKeys = null;
  };
}
"""

_keys = st.components.v2.component("loupe.task_keys", js=JS)


def task_keys(*, key: str) -> str | None:
    """The shortcut pressed since the last run: "toggle:N" (1-based), "none", "submit", "skip", or None."""
    result = _keys(key=key, on_key_change=lambda: None, height=0)
    value = getattr(result, "key", None) if result is not None else None
    if not value:
        return None
    return value.rsplit(":", 1)[0]
