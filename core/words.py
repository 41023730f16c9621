"""Counts in words: the one place a count meets its noun, so nothing reads "1 answers needed"."""
from __future__ import annotations


def counted(n: int, noun: str, plural: str = "") -> str:
    """`n` with thousands separators and the noun in the number it takes: counted(1, "answer") is "1 answer",
    counted(1200, "open item") is "1,200 open items"; `plural` for a noun that does not just add an s."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
