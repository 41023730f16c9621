"""The moderation task page, after A2I's pre-built moderation UI: instructions, image viewer, categories."""
import streamlit as st

from components.app import get_service
from components.image_viewer import image_viewer
from components.review import apply_shortcut, category_checkboxes, instructions, plain
from components.task_page import task_page
from core.review import iso_time
from core.task_types.moderation import moderation_content
from core.taxonomy import task_categories

service = get_service()
with task_page(service, task_type="moderation", title="Moderation review") as frame:
    task, prefix = frame.task, frame.prefix
    media = service.catalog.get(task.loop.media_id)
    categories = task_categories(task.workflow, task.loop, service.predictions.get(media.media_id))
    apply_shortcut(frame.pressed, len(categories), prefix)

    st.caption(f"Task {plain(task.workflow.title or task.workflow.name)} · item {plain(media.file_name)} · reviewer "
               f"{task.slot + 1:d} of {task.loop.task_count:d} · submit by "
               f"{plain(iso_time(task.expires_at_s)[11:19])} UTC")
    left, centre, right = st.columns([1.1, 2.4, 1.3], gap="medium")
    with left:
        instructions(task)
    with centre:
        image_viewer(service.catalog.media_bytes(media.media_id), name=media.file_name, key=f"{prefix}.viewer")
    with right:
        picked, is_none = category_checkboxes(categories, prefix=prefix)
        wants_submit = st.button("Submit", type="primary", key=f"{prefix}.submit", width="stretch") \
            or frame.pressed == "submit"
        if wants_submit and not picked and not is_none:
            st.warning("Tick at least one category, or None of the above, before submitting.")
        if st.button("Skip (give back to the queue)", key=f"{prefix}.skip", width="stretch"):
            frame.skip()

    if wants_submit and (picked or is_none):
        frame.submit(moderation_content([(c.name, c.parent_name) for c in picked]))
