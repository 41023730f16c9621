"""The label review page: keep or untick the model's labels, add missing ones, draw boxes, submit."""
import streamlit as st

from components.app import get_service
from components.box_canvas import box_canvas
from components.review import model_label_picks, plain
from components.task_page import task_page
from core.review import is_blind, iso_time
from core.task_types.label_review import label_review_content

service = get_service()
with task_page(service, task_type="label_review", title="Label review",
               empty="No label review tasks left for you.") as frame:
    task, prefix = frame.task, frame.prefix
    media = service.catalog.get(task.loop.media_id)
    prediction = service.predictions.get(media.media_id)
    labels = sorted((lb for lb in (prediction.labels if prediction else ()) if lb.category == "general"),
                    key=lambda lb: -lb.confidence)
    blind = is_blind(task.loop.loop_id, task.workflow.blind_percent)
    st.caption(f"Item {plain(media.file_name)} · reviewer {task.slot + 1:d} of {task.loop.task_count:d} · "
               f"pre-ticked at or above {task.workflow.routing.accept_at:.0%} · submit by "
               f"{plain(iso_time(task.expires_at_s)[11:19])} UTC")

    left, right = st.columns([2.2, 1.3], gap="medium")
    with right:
        st.markdown("**Model labels**")
        accept_at = task.workflow.routing.accept_at
        kept = model_label_picks([(lb.name, lb.confidence, lb.confidence >= accept_at) for lb in labels],
                                 prefix=prefix, is_blind=blind)
        added = st.multiselect("Add missing labels", service.review.label_suggestions(service.predictions),
                               key=f"{prefix}.added", accept_new_options=True,
                               placeholder="+ type a label, e.g. Polo shirt")
        box_labels = [n for n, _ in kept] + [a for a in added if a not in {n for n, _ in kept}]
        box_label = st.selectbox("Label for new boxes", box_labels or ["object"], key=f"{prefix}.box_label")
    with left:
        start = [] if blind else [(lb.name, inst.box) for lb in labels if lb.confidence >= accept_at
                                  for inst in lb.instances]
        boxes = box_canvas(service.catalog.media_bytes(media.media_id), (media.width or 1, media.height or 1), start,
                           label=box_label, key=f"{prefix}.canvas")

    with right:
        if st.button("Submit", type="primary", key=f"{prefix}.submit", width="stretch"):
            frame.submit(label_review_content(kept, added, boxes, (media.width or 1, media.height or 1),
                                              is_blind=blind))
