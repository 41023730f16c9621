"""The moderation task page, after A2I's pre-built moderation UI: instructions, image viewer, categories."""
import streamlit as st

from components.app import get_service, require_reviewer
from components.image_viewer import image_viewer
from components.review import apply_shortcut, category_checkboxes, instructions, plain, queue_status
from components.task_keys import task_keys
from core.errors import LoupeError
from core.review import iso_time, moderation_content
from core.taxonomy import task_categories

LOOP_KEY = "moderation.loop_id"

service = get_service()
worker = require_reviewer()
st.title("Moderation review")
if flash := st.session_state.pop("moderation.flash", None):
    (st.success if flash[0] else st.error)(flash[1])

skipped = st.session_state.setdefault("moderation.skipped", set())
task = service.review.resume_or_next(worker, st.session_state.get(LOOP_KEY), task_type="moderation",
                                     skip=frozenset(skipped))
queue_slot = st.empty()  # filled last, so a submit's run reruns before paying for the queue counts
if task is None:
    with queue_slot.container():
        queue_status(service.review.summary(worker, task_type="moderation"))
    st.session_state.pop(LOOP_KEY, None)
    st.info("No moderation tasks left for you. New ones appear when items are routed to people.")
    st.stop()
st.session_state[LOOP_KEY] = task.loop.loop_id

media = service.catalog.get(task.loop.media_id)
categories = task_categories(task.workflow, task.loop, service.predictions.get(media.media_id))
prefix = f"moderation.{task.loop.loop_id}"
pressed = task_keys(key="moderation.keys")
apply_shortcut(pressed, len(categories), prefix)

st.caption(f"Task {plain(task.workflow.title or task.workflow.name)} · item {plain(media.file_name)} · "
           f"reviewer {task.slot + 1} of {task.loop.task_count} · submit by {iso_time(task.expires_at_s)[11:19]} UTC")
left, centre, right = st.columns([1.1, 2.4, 1.3], gap="medium")
with left:
    instructions(task)
with centre:
    image_viewer(service.catalog.media_bytes(media.media_id), name=media.file_name, key=f"{prefix}.viewer")
with right:
    picked, is_none = category_checkboxes(categories, prefix=prefix)
    clicked = st.button("Submit", type="primary", key=f"{prefix}.submit", width="stretch")
    if st.button("Skip (give back to the queue)", key=f"{prefix}.skip", width="stretch"):
        service.review.release(task)
        skipped.add(task.loop.loop_id)
        st.session_state.pop(LOOP_KEY, None)
        st.rerun()

if clicked or pressed == "submit":
    if not picked and not is_none:
        st.warning("Tick at least one category, or None of the above, before submitting.")
    else:
        try:
            outcome = service.review.submit(task, moderation_content([(c.name, c.parent_name) for c in picked]))
            st.session_state["moderation.flash"] = (True, outcome.message)
        except LoupeError as exc:
            st.session_state["moderation.flash"] = (False, str(exc))
        st.session_state.pop(LOOP_KEY, None)
        st.rerun()

with queue_slot.container():
    queue_status(service.review.summary(worker, task_type="moderation"))
