"""Counts in words."""
from __future__ import annotations

from core.words import counted


def test_one_takes_the_singular_and_every_other_count_the_plural():
    assert counted(1, "answer") + " needed" == "1 answer needed"
    assert [counted(n, "open item") for n in (0, 2, 1200)] == ["0 open items", "2 open items", "1,200 open items"]


def test_a_noun_that_does_not_just_add_an_s_names_its_plural():
    assert (counted(1, "box", "boxes"), counted(3, "box", "boxes")) == ("1 box", "3 boxes")
