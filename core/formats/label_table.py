"""Predictions made elsewhere, as a table: CSV (with a header) or JSON Lines, one label per row.

Columns: `media` (a file name or media id), `label`, `confidence` (0-100 or 0-1), optional `parent`
and `category` ("general" or "moderation"). The confidence scale is decided once for the whole file:
if any value is above 1, every value is read as a percentage. Rows that don't parse are reported by
line number with the reason; the good rows are kept.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from typing import Any

MAX_LABEL_CHARS = 200


@dataclass(frozen=True)
class LabelRow:
    line: int
    media: str
    label: str
    confidence: float  # 0..1 after the scale is applied
    parent: str = ""
    category: str = "general"


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class LabelTable:
    rows: tuple[LabelRow, ...]
    errors: tuple[RowError, ...]
    scale: str  # "0-1" or "0-100"


def parse_label_table(text: str, *, file_name: str = "") -> LabelTable:
    """CSV or JSON Lines, told apart by the first non-blank character ("{" means JSON Lines)."""
    first = text.lstrip("\ufeff \t\r\n")[:1]
    raw, errors = (_jsonl_rows(text) if first == "{" else _csv_rows(text))
    parsed: list[tuple[int, dict[str, Any], float]] = []
    for line, row in raw:
        problem, value = _check(row)
        if problem:
            errors.append(RowError(line, problem))
        else:
            parsed.append((line, row, value))
    is_percent = any(v > 1.0 for _, _, v in parsed)
    rows = []
    for line, row, value in parsed:
        category = str(row.get("category") or "general").strip().lower()
        rows.append(LabelRow(line=line, media=str(row["media"]).strip(), label=str(row["label"]).strip(),
                             confidence=value / 100.0 if is_percent else value,
                             parent=str(row.get("parent") or "").strip(), category=category))
    return LabelTable(tuple(rows), tuple(sorted(errors, key=lambda e: e.line)), "0-100" if is_percent else "0-1")


def _check(row: dict[str, Any]) -> tuple[str, float]:
    media = str(row.get("media") or "").strip()
    label = str(row.get("label") or "").strip()
    if not media:
        return "the media column is empty (give a file name or media id)", 0.0
    if not label:
        return "the label column is empty", 0.0
    if len(label) > MAX_LABEL_CHARS:
        return f"the label is longer than {MAX_LABEL_CHARS} characters", 0.0
    raw = row.get("confidence")
    try:
        value = float(str(raw).strip().rstrip("%"))
    except (TypeError, ValueError):
        return f"the confidence {raw!r} is not a number", 0.0
    if math.isnan(value) or not 0.0 <= value <= 100.0:
        return f"the confidence {raw!r} is outside 0-100", 0.0
    category = str(row.get("category") or "general").strip().lower()
    if category not in ("general", "moderation"):
        return f"the category {category!r} is neither general nor moderation", 0.0
    return "", value


def _csv_rows(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    header: list[str] | None = None
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if header is None:
            header = [h.strip().lower() for h in values]
            missing = [c for c in ("media", "label", "confidence") if c not in header]
            if missing:
                errors.append(RowError(line, f"the header has no {', '.join(missing)} column "
                                             f"(expected media,label,confidence[,parent])"))
                return [], errors
            continue
        if len(values) > len(header):
            errors.append(RowError(line, f"{len(values)} fields where the header has {len(header)}"))
            continue
        rows.append((line, dict(zip(header, values + [""] * (len(header) - len(values))))))
    return rows, errors


def _jsonl_rows(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    for line, chunk in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not chunk.strip():
            continue
        try:
            obj = json.loads(chunk)
        except json.JSONDecodeError as exc:
            errors.append(RowError(line, f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(obj, dict):
            errors.append(RowError(line, "not a JSON object"))
            continue
        rows.append((line, {str(k).lower(): v for k, v in obj.items()}))
    return rows, errors
