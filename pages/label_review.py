"""The label review page: keep or untick the model's labels, add missing ones, draw boxes, submit."""
import streamlit as st

from components.app import get_service
from components.box_canvas import box_canvas
from components.column_size import column_size
from components.review import LABEL_KEYS_HELP, model_label_picks, orphan_warning, plain
from components.task_page import task_page
from core.review import is_blind, iso_time
from core.task_types.label_review import label_review_content, orphan_box_labels

RIGHT_COLUMN_ROOM_PX = 540  # the window height taken above and below the model labels' list: title, captions, buttons

service = get_service()
with task_page(service, task_type="label_review", title="Label review") as frame:
    task, prefix = frame.task, frame.prefix
    media = service.catalog.get(task.loop.media_id)
    size = (media.width or 1, media.height or 1)
    prediction = service.predictions.get(media.media_id)
    labels = sorted((lb for lb in (prediction.labels if prediction else ()) if lb.category == "general"),
                    key=lambda lb: -lb.confidence)
    blind = is_blind(task.loop.loop_id, task.workflow.blind_percent)
    accept_at = task.workflow.routing.accept_at
    st.caption(f"Item {plain(media.file_name)} · reviewer {task.slot + 1:d} of {task.loop.task_count:d} · "
               f"pre-ticked at or above {accept_at:.0%} · submit by {plain(iso_time(task.expires_at_s)[11:19])} UTC")

    left, right = st.columns([2.2, 1.3], gap="medium")
    with left:
        room = column_size(key="label_review.room")
    with right:
        list_px = max(160, room.window_height_px - RIGHT_COLUMN_ROOM_PX) if room else 320
        scrolls = not blind and len(labels) * 52 > list_px
        st.markdown(f"**Model labels** ({len(labels)}, scroll for more)" if scrolls else "**Model labels**")
        kept = model_label_picks([(lb.name, lb.confidence, lb.confidence >= accept_at) for lb in labels],
                                 prefix=prefix, is_blind=blind, pressed=frame.pressed,
                                 height_px=list_px if scrolls else None)
        added = st.multiselect("Add missing labels", service.label_names.names(),
                               key=f"{prefix}.added", accept_new_options=True,
                               placeholder="+ type a label, e.g. Polo shirt")
        orphan_slot = st.empty()  # filled once the canvas has said which boxes there are; until then the last
        orphan_warning(orphan_slot, st.session_state.get(f"{prefix}.orphans", ()))  # run's, so Submit stays put
        wants_submit = st.button("Submit", type="primary", key=f"{prefix}.submit", width="stretch") \
            or frame.pressed == "submit"
        if st.button("Skip (give back to the queue)", key=f"{prefix}.skip", width="stretch"):
            frame.skip()
    with left:
        canvas_slot = st.container()
        pick, hint = st.columns([1, 2], vertical_alignment="bottom")
        box_labels = [n for n, _ in kept] + [a for a in added if a not in {n for n, _ in kept}]
        box_label = pick.selectbox("Label for new boxes", box_labels or ["object"], key=f"{prefix}.box_label")
        hint.caption("Drag on the image to draw a box with this label. The toolbar's edit toggle moves, resizes, "
                     "relabels or deletes a box. " + LABEL_KEYS_HELP)
        with canvas_slot:
            start = [] if blind else [(lb.name, inst.box) for lb in labels if lb.confidence >= accept_at
                                      for inst in lb.instances]
            boxes = box_canvas(service.catalog.media_bytes(media.media_id), size, start, label=box_label,
                               key=f"{prefix}.canvas", room=room)

    orphans = st.session_state[f"{prefix}.orphans"] = orphan_box_labels(kept, added, boxes)
    orphan_warning(orphan_slot, orphans)
    if wants_submit:
        frame.submit(label_review_content(kept, added, boxes, size, is_blind=blind))
