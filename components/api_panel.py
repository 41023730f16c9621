"""The Settings panel of the AWS-compatible API: its keys (never their secrets) and webhook deliveries in trouble."""
from __future__ import annotations

import streamlit as st

from components.markup import plain
from core.api_keys import ApiKey
from core.webhooks import Delivery


def api_panel(keys: list[ApiKey], webhook_urls: tuple[str, ...], has_secret: bool, problems: list[Delivery], *,
              key: str = "settings.api") -> bool:
    """Render the panel; True when the admin asked to send the failed deliveries again."""
    active = [k for k in keys if not k.is_revoked]
    revoked = len(keys) - len(active)
    st.caption(f"{len(active)} active API key(s), {revoked:d} revoked. Issue and revoke them with "
               "`python -m core api-keys create|list|revoke`; the API runs with `python -m core serve-api`.")
    if active:
        st.dataframe([{"access key id": k.access_key_id, "name": k.name, "role": k.role, "created": k.created_at}
                      for k in active], hide_index=True, key=f"{key}.keys")
    if not webhook_urls:
        st.caption("Webhooks: none configured (LOUPE_WEBHOOK_URLS, signed with LOUPE_WEBHOOK_SECRET).")
        return False
    st.caption(f"Webhooks: human loop status events go to {plain(', '.join(webhook_urls))}.")
    if not has_secret:
        st.error("LOUPE_WEBHOOK_SECRET is not set, so events can't be signed and are not sent.", icon="⚠️")
    if not problems:
        st.success("Every webhook event so far was delivered (or is on its way).", icon="✅")
        return False
    failed = [d for d in problems if d.state == "failed"]
    retrying = len(problems) - len(failed)
    st.warning(f"{len(failed)} delivery(ies) failed for good and {retrying:d} are being retried.",
               icon="⚠️")
    st.dataframe([{"human loop": d.loop_name, "status": d.event.get("detail", {}).get("humanLoopStatus", ""),
                   "url": d.url, "state": d.state, "attempts": d.attempts, "last error": d.last_error,
                   "event id": d.event_id} for d in problems], hide_index=True, key=f"{key}.deliveries")
    return bool(failed) and st.button("Send the failed deliveries again", key=f"{key}.retry")
