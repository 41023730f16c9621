"""The app frame shared by every page: the service (built once per process) and the sidebar."""
from __future__ import annotations

import asyncio
import functools
import logging
import runpy
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

import streamlit as st

from components.auth import REVIEWER_KEY, Visitor, is_exposed_without_sign_in, keep_name_in_url, signed_in
from components.markup import plain
from core.access import acting, acting_member
from core.access import may as access_allows
from core.config import APP_ROOT, Config
from core.errors import ConfigError, LoupeError, VersionConflict, describe_error
from core.service import Service, build_service

UPLOAD_LIMIT_SOURCE = "LOUPE_MAX_UPLOAD_BYTES"
_log = logging.getLogger("loupe.pages")
_script_run = threading.local()  # each session's script runs on its own thread


@st.cache_resource(show_spinner="Starting Loupe…")
def _service_for(config: Config) -> Service:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return build_service(config)


def get_service() -> Service:
    """The process-wide service for the current configuration (env vars, then secrets.toml)."""
    if not getattr(_script_run, "routed", False):
        _route_through_navigation()
    config = Config.from_env(secrets=_secrets())
    apply_upload_limit(config)
    return _service_for(config)


def apply_upload_limit(config: Config) -> None:
    """One upload limit: Streamlit's `server.maxUploadSize` follows LOUPE_MAX_UPLOAD_BYTES, set before any file
    uploader is drawn (the upload route reads the option on every request)."""
    from streamlit import config as streamlit_options
    from streamlit.config_option import ConfigOption

    current = streamlit_options.get_option("server.maxUploadSize")
    if current == config.upload_limit_mb:
        return
    where = streamlit_options.get_where_defined("server.maxUploadSize")
    if where not in (ConfigOption.DEFAULT_DEFINITION, UPLOAD_LIMIT_SOURCE):  # set in config.toml or by a flag
        logging.getLogger("loupe.app").warning(
            "server.maxUploadSize=%s MB (from %s) is replaced by LOUPE_MAX_UPLOAD_BYTES (%s MB): Loupe's limit is "
            "the only one", current, where, config.upload_limit_mb)
    streamlit_options.set_option("server.maxUploadSize", config.upload_limit_mb, UPLOAD_LIMIT_SOURCE)


@asynccontextmanager
async def service_at_startup(app: object) -> AsyncIterator[None]:
    """The server's lifespan: build the service as the server starts, so interrupted jobs resume (and keep being
    watched) without waiting for the first browser. A configuration or store error is logged here and shown on the
    first page, as before."""
    try:
        await asyncio.to_thread(service_outside_script)
    except Exception:
        logging.getLogger("loupe.server").exception("the service could not be built at startup")
    yield


def service_outside_script() -> Service:
    """The same process-wide service, for the server's own HTTP routes (no script run, no page)."""
    return _service_for(Config.from_env(secrets=_secrets()))


@contextmanager
def routed() -> Iterator[None]:
    """Mark this script run as going through the router (streamlit_app.py); a configuration that cannot be used
    stops the app with the reason in words instead of a traceback."""
    _script_run.routed = True
    try:
        yield
    except ConfigError as exc:
        logging.getLogger("loupe.app").error("configuration refused: %s", exc)
        st.error(plain(exc), icon="⚠️")
        st.caption("Loupe reads `LOUPE_*` values from the environment first, then from `.streamlit/secrets.toml`. "
                   "The docs list every key and its default (docs/configuration.md).")
    finally:
        _script_run.routed = False


def _route_through_navigation() -> None:
    """Make a page run through the router even when Streamlit runs the page file directly.

    Streamlit treats a top-level pages/ folder as a v1 multipage app until `st.navigation` has run once in
    the process (and AppTest resets that before every run), so a request for a page URL can execute
    pages/x.py without streamlit_app.py: no sidebar, no router. Then run the router here, in this same
    script run (so widget events such as a click are kept), and stop the outer page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
    runpy.run_path(str(APP_ROOT / "streamlit_app.py"), run_name="__main__")
    st.stop()


def _secrets() -> dict[str, object]:
    try:
        return {k: v for k, v in st.secrets.items() if isinstance(k, str) and k.startswith("LOUPE_")}
    except (FileNotFoundError, OSError, st.errors.StreamlitSecretNotFoundError):
        return {}


def run_page(page) -> None:
    """Run the chosen page; an error meant for people (a LoupeError, e.g. an unreachable store) is shown in words."""
    with shows_errors(hint="Settings shows which store is configured and whether it can be reached.",
                      where=f"page {page.title}"):
        page.run()


@contextmanager
def shows_errors(*, conflict: str = "", hint: str = "", where: str = "") -> Iterator[None]:
    """The one way a page shows a failure meant for people: a LoupeError (or an OSError, such as a full disk) raised
    inside is logged and shown in words, never as a traceback or a server path.

    The rest of the block is skipped and the page goes on after it. `run_page` wraps every page in one; a page
    wraps an action in its own only when the page should still render below a failed action (a save, an import).
    `conflict` goes before the message of a VersionConflict (someone else saved first); `hint` is a caption below.
    """
    try:
        yield
    except LoupeError as exc:
        _log.warning("%s stopped: %s", where or "page action", exc)
        prefix = f"{conflict} " if conflict and isinstance(exc, VersionConflict) else ""
        st.error(prefix + plain(exc), icon="⚠️")
        if hint:
            st.caption(hint)
    except OSError as exc:  # e.g. a full disk while writing a file: in words, with no server path or traceback
        _log.exception("%s stopped", where or "page action")
        st.error(plain(describe_error(exc)), icon="⚠️")


def member_fragment(*, run_every: float | None = None) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """`st.fragment` whose own reruns act as the signed-in member, as the page run around it does.

    A click inside a fragment (or its `run_every` timer) reruns only the fragment's function, outside the router's
    `acting` block: a changing call there would act as nobody (NotSignedIn under LOUPE_AUTH=oidc) and `reviewer()`
    would be "". So a fragment's own rerun reads the visitor afresh, as the router does, acts as them, and shows a
    refused action in words (`shows_errors`), never as a traceback. Every fragment in the app is made with this.
    """
    def wrap(func: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(func)
        def run(*args: object, **kwargs: object) -> None:
            if getattr(_script_run, "routed", False):  # drawn in the page's full run: the router already acts
                func(*args, **kwargs)
                return
            with routed():
                visitor = signed_in(get_service())
                if visitor.actor is None:  # signed out (or removed) meanwhile: the full run shows the sign-in page
                    st.rerun()
                with acting(visitor.actor), shows_errors(where=f"fragment {func.__name__}"):
                    func(*args, **kwargs)

        return st.fragment(run, run_every=run_every)

    return wrap


def may(action: str) -> bool:
    """Whether the member this run acts as may do `action` (a key of core.access.ACTIONS): pages hide what the
    role may not do (core refuses it anyway)."""
    return access_allows(acting_member(), action)


def reviewer() -> str:
    """Who is reviewing in this browser session: the signed-in member's email, or the typed name ("" until they
    say) when `LOUPE_AUTH=none`."""
    actor = acting_member()
    if actor is not None and not actor.is_local:
        return actor.id
    return str(st.session_state.get(REVIEWER_KEY, "")).strip()


def sidebar(service: Service, visitor: Visitor) -> None:
    if is_exposed_without_sign_in(service):
        st.warning("This Loupe has no sign-in (LOUPE_AUTH=none) but listens on a network address: anyone who can "
                   "reach it can use every page. Set LOUPE_AUTH=oidc (docs/team.md) or listen on "
                   "127.0.0.1.", icon="⚠️")
    with st.sidebar:
        if visitor.actor is not None and not visitor.actor.is_local:
            st.caption(f"Signed in as **{plain(visitor.actor.id)}** ({plain(visitor.actor.role)})")
            if st.button("Sign out", key="auth.logout"):
                st.logout()
        else:
            st.text_input("Who is reviewing?", key=REVIEWER_KEY, placeholder="your name",
                          help="Recorded with every answer and upload you make.")
            keep_name_in_url()
        st.caption(f"Store: **{plain(service.config.store)}** · {plain(service.config.data_dir.name)}")


def require_reviewer() -> str:
    """The reviewer's name, or stop the page with a prompt to enter one."""
    name = reviewer()
    if not name:
        st.info("Enter your name in the sidebar (\"Who is reviewing?\") to start.")
        st.stop()
    return name
