"""Settings: where data lives and which backends are configured."""
import streamlit as st

from components.app import get_service

service = get_service()
config = service.config
st.title("Settings")

st.subheader("Storage")
backends = service.describe_backends()
st.table({"setting": list(backends), "value": list(backends.values())})
for part, health in service.check_backends().items():
    (st.success if health.ok else st.error)(f"{part.capitalize()}: {health.message}", icon="✅" if health.ok else "⚠️")
if config.store == "dynamodb" and not config.s3_bucket:
    st.warning("LOUPE_S3_BUCKET is not set: media stay in the local folder, visible only to app servers sharing it.")
st.caption("Set LOUPE_DATA_DIR and LOUPE_STORE in the environment or in .streamlit/secrets.toml, then restart.")

st.subheader("Image labeling")
st.table({"setting": ["LOUPE_LABELER", "LOUPE_AUTO_LABEL"],
          "value": [config.labeler, "on: new images are labeled after upload" if config.auto_label else "off"]})
st.caption("LOUPE_LABELER is `local` (bundled, offline) or `rekognition` (boto3's credentials and AWS_REGION); "
           "the Images page can pick either for one run.")

st.subheader("Limits")
st.table({
    "setting": ["LOUPE_MAX_UPLOAD_BYTES", "LOUPE_MAX_IMAGE_PIXELS", "LOUPE_JOB_WORKERS"],
    "value": [f"{config.max_upload_mb:.0f} MB", f"{config.max_image_pixels:,} pixels", str(config.job_workers)],
})
