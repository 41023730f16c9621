"""Every export as a browser download (Ground Truth manifest, CSV, the A2I output tree as a zip), rendered on the
click and written nowhere on the server: the way out for reviewers who cannot reach the server's folders."""
from __future__ import annotations

import streamlit as st

from components.markup import plain
from core.access import acting_member
from core.exports import DOWNLOAD_MIME, Exports, download_name

DOWNLOADS = (("gt-manifest", "Ground Truth manifest"), ("csv", "CSV of final labels"), ("a2i", "A2I output (zip)"))
PREFIX_HELP = ("Each manifest line's source-ref is this prefix and the file name, e.g. s3://my-bucket/images/cat.jpg, "
               "so SageMaker finds the images where you keep them. Leave it empty for each item's S3 object when "
               "the media is in S3, else images/<file name>, relative to the manifest.")


def export_downloads(exports: Exports, workflow: str | None, *, key: str) -> None:
    """A source-prefix field and one download button per export format, for one workflow (None: all of them)."""
    prefix = st.text_input("Source prefix for the manifest", key=f"{key}.source_prefix",
                           placeholder="s3://my-bucket/images/", help=PREFIX_HELP).strip()
    cols = st.columns(len(DOWNLOADS))
    for col, (fmt, label) in zip(cols, DOWNLOADS):
        # the file is rendered on the click, on another thread: it acts as the member of this run, named here
        col.download_button(f"Download {label}", data=lambda fmt=fmt, actor=acting_member(): exports.render(  # noqa: B008
            fmt, workflow=workflow, source_prefix=prefix, actor=actor).data, file_name=download_name(fmt, workflow),
            mime=DOWNLOAD_MIME[fmt], key=f"{key}.{fmt}", on_click="ignore", width="stretch")
    # drawn after the buttons: a browser that shows this prefix has the buttons whose files use it
    media_bucket = exports.media_bucket
    st.caption("Manifest source-refs: " + (
        plain(f"{prefix.rstrip('/')}/<file name>") if prefix else
        plain(f"each item's object, {media_bucket}<sha256>") if media_bucket else
        "images/<file name>, relative to the manifest: keep the images in an images folder beside it "
        "(an export to a folder writes them there)"))
    scope = plain(f"Workflow {workflow}") if workflow else "All workflows"
    st.caption(scope + ": the manifest has one line per image, the "
               "CSV one block of rows per workflow and item, and the zip one output.json per answered human loop, in "
               "A2I's folder layout.")
