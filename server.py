"""The web server `make run` starts: Loupe's Streamlit app plus its own HTTP routes, as one ASGI app.

`streamlit run server.py` finds `app` and serves it with uvicorn. It adds, to the pages of streamlit_app.py:
- a Host allow-list on every request (`server.allowedHosts` in .streamlit/config.toml), against DNS rebinding;
- /stored-media/<media_id>: a stored item's bytes, streamed by HTTP range for the Transcripts player;
- the service built at startup (its lifespan), so interrupted jobs resume before any browser connects.
"""
import streamlit as st
from starlette.middleware import Middleware

from components.app import service_at_startup
from components.media_route import HostAllowList, media_routes

app = st.App("streamlit_app.py", routes=media_routes(), middleware=[Middleware(HostAllowList)],
             lifespan=service_at_startup)
