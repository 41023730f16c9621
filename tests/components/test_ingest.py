"""The per-file outcome table of an ingest: every reason readable in the grid without widening a column."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest


def _table(reason: str) -> None:
    from components.ingest import outcome_table

    outcome_table([{"file": "icon.xpm", "status": "rejected", "reason": reason, "media_id": None},
                   {"file": "cat.jpg", "status": "ingested", "reason": None, "media_id": "ab" * 32}])


def test_a_long_reason_wraps_in_the_wide_column():
    at = AppTest.from_function(_table, args=("XPM images are not supported; use JPEG, PNG, WebP or GIF.",)).run()
    proto = at.dataframe[0].proto
    assert proto.row_height > 64  # the grid wraps text only in rows taller than 4rem
    assert json.loads(proto.columns)["reason"]["width"] == "large"
    assert at.dataframe[0].value["reason"].tolist()[0].startswith("XPM images")
