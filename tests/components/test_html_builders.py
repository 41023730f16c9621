"""Every HTML builder in components/ (a function named `*_html`) is fed `<script>` and must escape it.

`HTML_BUILDERS` is the registry: tests/test_conventions.py checks that it names every `*_html` function in
components/, and that `unsafe_allow_html` is only ever given what one of them built.
"""
from __future__ import annotations

from collections.abc import Callable

import pytest

from components.labels import label_bars_html, label_text
from components.transcript_editor import highlighted_html
from components.transcript_versions import diff_html
from core.domain import Label, Segment, Word
from core.transcript_text import word_diff

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

HTML_BUILDERS: dict[str, Callable[[str], str]] = {
    "components.labels.label_bars_html":
        lambda s: label_bars_html([Label(s, 0.997, parents=(s,))]) + label_bars_html(
            [Label(s, 0.5, category="moderation", parent_name=s)], moderation=True),
    "components.transcript_editor.highlighted_html":
        lambda s: highlighted_html([Segment(0, 1, s, (Word(s, 0.0, 0.5, 0.1), Word(s, 0.5, 1.0, 0.99))),
                                    Segment(1, 2, s, ())], threshold=0.5, current=(0, 0)),
    "components.transcript_versions.diff_html": lambda s: diff_html(word_diff(f"{s} kept gone", f"{s} kept {s}")),
}


@pytest.mark.parametrize("name", sorted(HTML_BUILDERS))
def test_every_html_builder_escapes_a_script_tag(name):
    built = HTML_BUILDERS[name](SCRIPT)
    assert "<script" not in built.lower() and ESCAPED in built


def test_label_bars_show_percentages_and_escape_parents():
    html = label_bars_html([Label("Cat", 0.997, parents=("<b>x</b>",)), Label("Person", 0.5)])
    assert "Cat - 99.70%" in html and "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert label_text(Label("Person", 0.997)) == "Person - 99.70%"


def test_transcript_html_marks_only_the_low_confidence_words():
    words = (Word(SCRIPT, 0.0, 0.5, 0.1), Word("fine", 0.5, 1.0, 0.99))
    html = highlighted_html([Segment(0, 1, "x", words)], threshold=0.5)
    assert html.count("background:#ffe08a") == 1 and ESCAPED in html
