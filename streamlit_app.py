"""Loupe: the router. It holds the frame shared by every page and nothing else."""
import streamlit as st

from components.app import get_service, routed, run_page, sidebar

st.set_page_config(page_title="Loupe", page_icon="🔍", layout="wide")

PAGES = {
    "Loupe": [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/upload.py", title="Upload", icon="⬆️"),
        st.Page("pages/images.py", title="Images", icon="🖼️"),
        st.Page("pages/transcript.py", title="Transcripts", icon="📝"),
    ],
    "Review": [
        st.Page("pages/thresholds.py", title="Thresholds", icon="🎚️"),
        st.Page("pages/moderation_task.py", title="Moderation task", icon="🛡️"),
        st.Page("pages/label_review.py", title="Label review", icon="🏷️"),
        st.Page("pages/results.py", title="Results", icon="📊"),
    ],
    "Admin": [
        st.Page("pages/settings.py", title="Settings", icon="⚙️"),
    ],
}

page = st.navigation(PAGES)
with routed():
    sidebar(get_service())
    run_page(page)
