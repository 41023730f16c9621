"""Who is using the app: the signed-in member (`LOUPE_AUTH=oidc`, Streamlit's st.login / st.user) or the typed
name (`LOUPE_AUTH=none`), the pages their role may open, and the warning when an unguarded server is exposed.

The router asks `signed_in(service)` once per run and acts as that member for the whole run (core.access.acting),
so every changing call a page makes is checked in core against the member's current role and work teams.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import streamlit as st

from components.markup import plain
from core.access import Actor, local_actor
from core.service import Service

REVIEWER_KEY = "app.reviewer"
REVIEWER_PARAM = "reviewer"  # LOUPE_AUTH=none keeps the typed name in the URL, so a reload keeps it
SIGNED_IN_KEY = "auth.signed_in_as"

# page file -> roles that see it in the navigation (core refuses what a role may not do, whatever is shown)
VISIBLE_TO = {
    "pages/home.py": {"admin", "reviewer", "viewer"},
    "pages/upload.py": {"admin"},
    "pages/images.py": {"admin", "viewer"},
    "pages/transcript.py": {"admin", "reviewer", "viewer"},
    "pages/thresholds.py": {"admin", "viewer"},
    "pages/moderation_task.py": {"admin", "reviewer"},
    "pages/label_review.py": {"admin", "reviewer"},
    "pages/results.py": {"admin", "viewer"},
    "pages/settings.py": {"admin"},
    "pages/members.py": {"admin"},
}


@dataclass(frozen=True)
class Visitor:
    """This session's user: `actor` is None for an anonymous visitor or a signed-in email that is not a member."""
    actor: Actor | None
    email: str = ""  # the verified email, when signed in

    @property
    def is_anonymous(self) -> bool:
        return self.actor is None and not self.email


def signed_in(service: Service) -> Visitor:
    """The visitor, read afresh every run (a removed member or a changed role counts at the next click)."""
    if service.config.auth == "none":
        return Visitor(local_actor(typed_name()))
    if not st.user.is_logged_in:
        return Visitor(None)
    email = str(st.user.get("email") or "").strip().lower()
    if not email or st.user.get("email_verified") is False:
        return Visitor(None, email or "(no email)")
    if st.session_state.get(SIGNED_IN_KEY) != email:  # once per session: the audit log's sign-in record
        actor = service.members.sign_in(email)
        st.session_state[SIGNED_IN_KEY] = email
    else:
        actor = service.members.actor_for(email)
    return Visitor(actor, email)


def typed_name() -> str:
    """`LOUPE_AUTH=none`: the name typed in the sidebar, restored from the URL after a reload."""
    if REVIEWER_KEY not in st.session_state and st.query_params.get(REVIEWER_PARAM):
        st.session_state[REVIEWER_KEY] = st.query_params[REVIEWER_PARAM][:80]
    return str(st.session_state.get(REVIEWER_KEY, "")).strip()


def keep_name_in_url() -> None:
    """Write the typed name into the URL on every run (a page change clears the query), so a reload keeps it."""
    name = str(st.session_state.get(REVIEWER_KEY, "")).strip()
    if name and st.query_params.get(REVIEWER_PARAM) != name:
        st.query_params[REVIEWER_PARAM] = name
    elif not name and REVIEWER_PARAM in st.query_params:
        del st.query_params[REVIEWER_PARAM]


def kept_params() -> dict[str, str]:
    """The query parameters every link and page switch carries: the typed name (`LOUPE_AUTH=none`), else none."""
    name = str(st.session_state.get(REVIEWER_KEY, "")).strip()
    return {REVIEWER_PARAM: name} if name else {}


def set_query_param(key: str, value: str) -> None:
    """The one way a page writes the URL's query (e.g. Transcripts' `?media=`): the typed name stays beside it."""
    keep_name_in_url()
    st.query_params[key] = value


def page_link(page: str, **options: Any) -> None:
    """`st.page_link` whose URL keeps the typed name, so following it never drops `reviewer`."""
    st.page_link(page, query_params=kept_params(), **options)


def visible(pages: dict[str, list[tuple[str, dict]]], role: str) -> dict[str, list[st.Page]]:
    """The router's pages (section -> (page file, st.Page options)) this role may open. A page a role may not open
    is not routed at all: its URL shows the default page instead."""
    out = {}
    for section, items in pages.items():
        kept = [st.Page(path, **options) for path, options in items if role in VISIBLE_TO.get(path, set())]
        if kept:
            out[section] = kept
    return out


def is_exposed_without_sign_in(service: Service) -> bool:
    """`LOUPE_AUTH=none` while the server listens on an address other hosts can reach."""
    if service.config.auth != "none":
        return False
    address = str(st.get_option("server.address") or "").strip().strip("[]")
    if address in ("localhost", ""):
        return address == ""  # Streamlit's default (no address) listens on every interface
    try:
        return not ipaddress.ip_address(address).is_loopback
    except ValueError:
        return True  # a host name: it may resolve to anything


def sign_in_page() -> None:
    st.title("Loupe")
    st.write("Sign in to review. Loupe shows nothing until you do.")
    if st.button("Sign in", type="primary", key="auth.login"):
        st.login()


def not_a_member_page(email: str) -> None:
    def page() -> None:
        st.title("Loupe")
        st.warning(f"You are signed in as {plain(email)}, which is not a member of this project. Ask an admin to add "
                   "you on the Members page, then reload.", icon="🔒")
        if st.button("Sign out", key="auth.logout"):
            st.logout()
    return page
