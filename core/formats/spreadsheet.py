"""CSV for spreadsheets: every exported cell that a spreadsheet would read as a formula is neutralised.

OWASP's advice for CSV injection: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
gets a leading single quote, so Excel, LibreOffice and Google Sheets show it as text instead of running it
(`=HYPERLINK(...)`, `=cmd|...`). Numbers are written as numbers; a negative number is not text and stays as is.
Every CSV Loupe writes goes through `to_csv`.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell value a spreadsheet shows as written: text starting like a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A CSV document (header, then one line per row, missing cells empty), every text cell made safe."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: safe_cell(v) for k, v in row.items()})
    return buf.getvalue()
