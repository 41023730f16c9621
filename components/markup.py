"""The one escaping helper for text that Streamlit renders as Markdown (st.markdown, caption, success, info, warning,
error, subheader, write, toast, progress text, widget labels).

Every string a user or a file supplied (file names, reviewer names, labels, model versions, JSON keys, error
messages that echo them) goes through `plain()`, so `[Re-login](https://evil.example)`, `**bold**`, `$KaTeX$`,
headings and autolinks show as the characters they are. tests/test_conventions.py checks that no f-string shown by
those widgets interpolates a value that skipped it.
"""
from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&@])")


def plain(text: object) -> str:
    """`text` shown literally in a Markdown-rendering widget: every Markdown character backslash-escaped, line
    breaks kept as spaces (so a name can't start a heading, list or quote on its own line)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).splitlines()))


def as_shown(markdown: str) -> str:
    """What a reader sees of `plain()` text (backslash escapes removed): for tests that read widget values."""
    return re.sub(r"\\(.)", r"\1", markdown)
