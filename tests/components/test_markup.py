"""The one Markdown escaping helper: user- and file-supplied text shows as the characters it is."""
from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from components.markup import plain

HOSTILE = [
    "[Re-login](https://evil.example/login)",
    "**bold** _it_ ~~gone~~",
    "$\\KaTeX$ and $$x^2$$",
    "# heading",
    "name\n===",
    "- item\n> quote",
    "<b>tag</b> &amp;",
    "https://evil.example and www.evil.example and a@evil.example",
    "`code` ![img](x.png)",
    ":red[alarm] :material/home:",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_text_renders_as_its_own_characters_in_commonmark(text):
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(plain(text))
    for markup in ("<a ", "<strong>", "<em>", "<h1>", "<h2>", "<ul>", "<blockquote>", "<code>", "<img", "<s>",
                   "<del>", "<b>"):
        assert markup not in html


def test_plain_keeps_ordinary_names_readable():
    assert plain("cat 2.jpg") == "cat 2\\.jpg"
    assert plain(42) == "42"
