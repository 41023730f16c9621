"""Loupe: the router. It holds the frame shared by every page and nothing else: who is signed in, which pages
their role may open, and the member every page acts as."""
import streamlit as st

from components.app import get_service, routed, run_page, sidebar
from components.auth import not_a_member_page, sign_in_page, signed_in, visible
from core.access import acting

st.set_page_config(page_title="Loupe", page_icon="🔍", layout="wide")

PAGES = {
    "Loupe": [
        ("pages/home.py", {"title": "Home", "icon": "🏠", "default": True}),
        ("pages/upload.py", {"title": "Upload", "icon": "⬆️"}),
        ("pages/images.py", {"title": "Images", "icon": "🖼️"}),
        ("pages/transcript.py", {"title": "Transcripts", "icon": "📝"}),
    ],
    "Review": [
        ("pages/thresholds.py", {"title": "Thresholds", "icon": "🎚️"}),
        ("pages/moderation_task.py", {"title": "Moderation task", "icon": "🛡️"}),
        ("pages/label_review.py", {"title": "Label review", "icon": "🏷️"}),
        ("pages/results.py", {"title": "Results", "icon": "📊"}),
    ],
    "Admin": [
        ("pages/settings.py", {"title": "Settings", "icon": "⚙️"}),
        ("pages/members.py", {"title": "Members", "icon": "👥"}),
    ],
}

with routed():
    service = get_service()
    visitor = signed_in(service)
    if visitor.actor is None:  # anonymous, or signed in but not a member: one page, no data
        page = st.navigation([st.Page(sign_in_page if visitor.is_anonymous else not_a_member_page(visitor.email),
                                      title="Sign in", icon="🔒")])
        page.run()
    else:
        page = st.navigation(visible(PAGES, visitor.actor.role))
        with acting(visitor.actor):
            sidebar(service, visitor)
            run_page(page)
