"""AppTest for the Results page's items table: one page of results at a time, newest first, older pages on demand."""
from __future__ import annotations

from dataclasses import replace

from core.consolidation import KIND as RESULT_KIND
from core.consolidation import consolidate_answers, result_key
from core.domain import Answer, HumanLoop, Workflow, as_dict
from core.loops import loop_record
from core.results import ITEMS_SHOWN
from core.stores.base import Record
from core.task_types.moderation import moderation_content


def _reviewed(service, n: int, workflow: str = "paged-flow") -> None:
    """n moderation results, one reviewer each, written in bulk (the Results totals count them on first load)."""
    service.workflows.save(Workflow(name=workflow, task_type="moderation", task_count=1))
    batch = []
    for i in range(n):
        media_id = f"{i:06d}".ljust(64, "0")  # the table shows ids of items without a catalog record by 12 characters
        loop = HumanLoop(f"paged-{i:04d}", media_id, workflow, status="Completed")
        answer = Answer(loop.loop_id, "ana", moderation_content([("Weapons", "Violence")] if i % 2 else []),
                        time_spent_s=3.0)
        result = consolidate_answers(media_id, [answer], loops=[loop], workflow=workflow)
        result = replace(result, updated_at=f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z")
        batch += [loop_record(loop), Record("answer", f"{loop.loop_id}|ana", as_dict(answer), parent=loop.loop_id),
                  Record(RESULT_KIND, result_key(workflow, media_id), as_dict(result), parent=workflow,
                         sort=result.updated_at)]
    service.records.put_many(batch)
    service.loops.recount()


def _caption(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("One row per workflow and item"))


def test_the_items_table_shows_a_page_of_the_newest_results_and_older_ones_on_demand(app_at, seeded):
    _reviewed(seeded, ITEMS_SHOWN + 5)
    at = app_at("pages/results.py", reviewer="ana")
    assert {m.label: m.value for m in at.metric}["Items reviewed"] == f"{ITEMS_SHOWN + 5:,}"
    first = at.dataframe[0].value
    assert len(first) == ITEMS_SHOWN and f"rows 1 to {ITEMS_SHOWN:,} of {ITEMS_SHOWN + 5:,}" in _caption(at)
    assert first.iloc[0]["item"] == f"{ITEMS_SHOWN + 4:06d}000000"  # newest first
    assert at.button(key="results.items_page.newer").disabled
    at.button(key="results.items_page.older").click().run()
    assert not at.exception
    older = at.dataframe[0].value
    assert len(older) == 5 and set(older["item"]).isdisjoint(first["item"])
    assert f"rows {ITEMS_SHOWN + 1:,} to {ITEMS_SHOWN + 5:,}" in _caption(at)
    assert at.button(key="results.items_page.older").disabled
    at.button(key="results.items_page.newer").click().run()
    assert list(at.dataframe[0].value["item"]) == list(first["item"])
