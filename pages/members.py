"""Members (admins only): who may sign in and with which role, each workflow's work team, and the audit log."""
from dataclasses import replace

import pandas as pd
import streamlit as st

from components.app import get_service, shows_errors
from components.markup import plain
from core.access import ROLES
from core.audit import ACTIONS

service = get_service()
st.title("Members")
if service.config.auth == "none":
    st.info("LOUPE_AUTH=none: nobody signs in, so roles apply only once LOUPE_AUTH=oidc is set. Members can be "
            "prepared here beforehand.", icon="ℹ️")

members = service.members.list()
st.dataframe(pd.DataFrame([{"email": m.email, "role": m.role, "groups": ", ".join(m.groups),
                            "added": m.added_at[:16].replace("T", " "), "by": m.added_by,
                            "LOUPE_ADMINS": m.is_from_config} for m in members]),
             hide_index=True, width="stretch")

left, right = st.columns(2)
with left.form("members.add", clear_on_submit=True):
    st.markdown("**Invite or change a member**")
    email = st.text_input("Email they sign in with", key="members.email")
    role = st.selectbox("Role", ROLES, index=1, key="members.role")
    groups = st.text_input("Groups (comma-separated)", key="members.groups")
    if st.form_submit_button("Save member", type="primary") and email.strip():
        with shows_errors():
            saved = service.members.add(email, role, [g for g in groups.split(",") if g.strip()])
            st.toast(f"{plain(saved.email)} is {plain(saved.role)}.")
with right.form("members.remove"):
    st.markdown("**Remove a member**")
    gone = st.selectbox("Member", [m.email for m in members if not m.is_from_config], key="members.gone")
    if st.form_submit_button("Remove") and gone:
        with shows_errors():
            service.members.remove(gone)
            st.toast(f"{plain(gone)} removed.")

st.subheader("Work teams")
st.caption("A workflow's tasks go only to the members and groups on its team; an empty team means every reviewer.")
workflows = service.workflows.list()
if workflows:
    name = st.selectbox("Workflow", [wf.name for wf in workflows], key="members.workflow")
    wf = next(w for w in workflows if w.name == name)
    options = sorted({m.email for m in members} | {g for m in members for g in m.groups} | set(wf.team))
    team = st.multiselect("Team (emails and groups)", options, default=list(wf.team), key=f"members.team.{name}")
    if st.button("Save team", key="members.team.save"):
        with shows_errors(conflict="Someone else changed this workflow first."):
            service.workflows.save(replace(wf, team=tuple(team)), expected_version=service.workflows.version(name))
            st.toast(f"Team of {plain(name)} saved.")

st.subheader("Audit log")
cols = st.columns(3)
who = cols[0].text_input("Who", key="members.audit.who")
action = cols[1].selectbox("Action", ["", *ACTIONS], key="members.audit.action")
target = cols[2].text_input("What", key="members.audit.target")
entries = service.audit.entries(who=who, action=action, target=target)[::-1][:500]
st.dataframe(pd.DataFrame([e.as_json() for e in entries]), hide_index=True, width="stretch")
