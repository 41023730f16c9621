"""Settings: where data lives, which backends are configured, and the labeling and transcription choices."""
import streamlit as st

from components.api_panel import api_panel
from components.app import get_service, reviewer, shows_errors
from components.cluster_panel import live_cluster_panel
from components.markup import plain
from components.settings_form import labeling_transcription_form
from core.labelers import available
from core.transcribers import describe_engines

service = get_service()
config = service.config
st.title("Settings")

st.subheader("Storage")
backends = service.describe_backends()
st.table({"setting": list(backends), "value": list(backends.values())})
health = service.check_backends()
for part, state in health.items():
    (st.success if state.ok else st.error)(f"{part.capitalize()}: {state.message}", icon="✅" if state.ok else "⚠️")
if config.store == "dynamodb" and not config.s3_bucket:
    st.warning("LOUPE_S3_BUCKET is not set: media stay in the local folder, visible only to app servers sharing it.")
st.caption("Set LOUPE_DATA_DIR and LOUPE_STORE in the environment or in .streamlit/secrets.toml, then restart.")

st.subheader("Model work")
live_cluster_panel(service.cluster.health)

st.subheader("Limits")
st.table({
    "setting": ["LOUPE_MAX_UPLOAD_BYTES", "LOUPE_MAX_IMAGE_PIXELS", "LOUPE_JOB_WORKERS"],
    "value": [f"{config.max_upload_mb:.0f} MB", f"{config.max_image_pixels:,} pixels", str(config.job_workers)],
})

st.subheader("AWS-compatible API and webhooks")
if health["records"].ok:
    hooks = service.webhooks
    if api_panel(service.api_keys.list(), hooks.settings.urls, bool(hooks.settings.secret), hooks.problems()):
        for delivery in hooks.list("failed"):
            hooks.retry(delivery.delivery_id)
        st.rerun()

st.subheader("Labeling and transcription")
if not health["records"].ok:
    st.info("These settings are saved with the project: they can be changed once the record store is reachable.")
    st.stop()
stored = service.settings.stored()
if "settings.base" not in st.session_state:  # the version this form edits, and its values as first shown
    st.session_state["settings.base"] = (stored.version, service.settings.effective())
seen, shown = st.session_state["settings.base"]
if note := st.session_state.pop("settings.flash", None):
    st.success(note, icon="✅")
saved_note = (f"Saved with the project (version {stored.version:d}, by {plain(stored.saved_by or 'someone')} at "
              f"{plain(stored.saved_at[:16].replace('T', ' '))} UTC); unset values follow the LOUPE_* "
              "configuration."
              if stored.version else "Nothing saved yet: the LOUPE_* configuration applies.")
st.caption(saved_note + " A change applies to the next labeling or transcription run; the Images and Transcripts "
           "pages can still pick an engine for one run.")
choice = labeling_transcription_form(shown, service.settings.defaults(), labelers=available(),
                                     engines=describe_engines(), key=f"settings.form.v{seen}")
if choice:
    action, values = choice
    with shows_errors(conflict="Someone else saved these settings first."):
        saved = (service.settings.save(values, expected_version=seen, saved_by=reviewer()) if action == "save"
                 else service.settings.reset(expected_version=seen, saved_by=reviewer()))
        st.session_state["settings.base"] = (saved.version, service.settings.effective())
        st.session_state["settings.flash"] = ("Saved: the next run uses these settings." if action == "save"
                                              else "Reset: the configuration defaults apply again.")
        st.rerun()
if stored.version != seen and st.button(f"Load the newer settings (version {stored.version})", key="settings.reload"):
    del st.session_state["settings.base"]
    st.rerun()
