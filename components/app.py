"""The app frame shared by every page: the service (built once per process) and the sidebar."""
from __future__ import annotations

import logging

import streamlit as st

from core.config import Config
from core.service import Service, build_service

REVIEWER_KEY = "app.reviewer"


@st.cache_resource(show_spinner="Starting Loupe…")
def _service_for(config: Config) -> Service:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return build_service(config)


def get_service() -> Service:
    """The process-wide service for the current configuration (env vars, then secrets.toml)."""
    _route_through_navigation()
    return _service_for(Config.from_env(secrets=_secrets()))


def _route_through_navigation() -> None:
    """Make a first visit straight to /upload run the router too.

    Streamlit treats a top-level pages/ folder as a v1 multipage app until `st.navigation` has run once in
    the process, so the very first request for a page URL would skip streamlit_app.py (no sidebar, no
    router). Turn that off and rerun, which goes through the router and lands on the same page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def _secrets() -> dict[str, object]:
    try:
        return {k: v for k, v in st.secrets.items() if isinstance(k, str) and k.startswith("LOUPE_")}
    except (FileNotFoundError, OSError, st.errors.StreamlitSecretNotFoundError):
        return {}


def reviewer() -> str:
    """Who is reviewing in this browser session ("" until they say)."""
    return str(st.session_state.get(REVIEWER_KEY, "")).strip()


def sidebar(service: Service) -> None:
    with st.sidebar:
        st.text_input("Who is reviewing?", key=REVIEWER_KEY, placeholder="your name",
                      help="Recorded with every answer and upload you make.")
        st.caption(f"Store: **{service.config.store}** · {service.config.data_dir.name}")


def require_reviewer() -> str:
    """The reviewer's name, or stop the page with a prompt to enter one."""
    name = reviewer()
    if not name:
        st.info("Enter your name in the sidebar (\"Who is reviewing?\") to start.")
        st.stop()
    return name
