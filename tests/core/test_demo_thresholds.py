"""The demo shows the threshold view, its showpiece: with the real bundled labeler on the demo photos, moving the
Thresholds slider from 90% to 60% to 30% moves items between accepted, review and dropped, counted by the same
`core.routing.route(...).counts()` the Thresholds page shows."""
from __future__ import annotations

from dataclasses import replace

import pytest

from core.demo import DEMO_ACCEPT_AT, DEMO_DROP_BELOW, DEMO_WORKFLOW
from core.routing import route
from core.routing_policy import DROP_BELOW, DROP_REVIEW_ACCEPT, REVIEW_BELOW

pytestmark = pytest.mark.slow

SLIDER = (0.9, 0.6, 0.3)


def test_moving_the_demo_threshold_from_90_to_60_to_30_percent_moves_items_between_accepted_review_and_dropped(
        service):
    job = service.jobs.wait(service.load_demo(created_by="ann").job_id, 300)
    assert job.status == "succeeded", job.error
    frame = service.routing.frame("general")
    images = [i for i in range(frame.n_items) if frame.rows_of(i).stop > frame.rows_of(i).start]
    assert len(images) >= 12  # a set big enough to show a split

    tops = sorted(float(frame.confidence_pct[frame.rows_of(i)].max()) for i in images)
    assert tops[0] < 30 and tops[-1] > 90  # the model's top confidences spread from unsure to sure
    assert sum(30 <= t < 90 for t in tops) >= 4

    # The page opens on the demo workflow's own thresholds: two of them, drop below 25%, accept at or above 90%.
    thresholds = service.workflows.get(DEMO_WORKFLOW).routing.thresholds
    assert (thresholds.mode, thresholds.low, thresholds.high) == (DROP_REVIEW_ACCEPT, DEMO_DROP_BELOW, DEMO_ACCEPT_AT)
    items = [route(frame, replace(thresholds, high=high)).counts()["items"] for high in SLIDER]
    at_90, at_60, at_30 = items
    assert all(at_90[band] > 0 for band in ("accept", "review", "drop"))
    assert all(at_60[band] > 0 for band in ("accept", "review", "drop"))
    for before, after in zip(items, items[1:]):  # several items leave review for accepted at each step
        assert after["accept"] - before["accept"] >= 3 and before["review"] - after["review"] >= 3
    assert at_90["drop"] == at_60["drop"] == at_30["drop"]  # what the model knows nothing about stays dropped
    assert at_90["review"] == len(service.loops.list(workflow=DEMO_WORKFLOW))  # the demo's tasks are what review shows

    # With one threshold, the slider moves items too: from review to accepted, or from dropped to accepted.
    for mode, other in ((REVIEW_BELOW, "review"), (DROP_BELOW, "drop")):
        counts = [route(frame, replace(thresholds, mode=mode, high=high)).counts()["items"] for high in SLIDER]
        accepted = [c["accept"] for c in counts]
        left = [c[other] for c in counts]
        assert accepted[0] < accepted[1] < accepted[2] and left[0] > left[1] > left[2], (mode, counts)
