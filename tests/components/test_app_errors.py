"""The one way pages show errors (components.app.shows_errors): in words, and the page goes on below the block."""
from __future__ import annotations

import sys

import pytest
from streamlit.testing.v1 import AppTest

from components.markup import as_shown


@pytest.fixture(autouse=True)
def _main_module_kept():
    """AppTest runs its script as __main__; put the real one back, or a later spawned process re-runs the script."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


def _script(kind: str) -> None:
    import errno

    import streamlit as st

    from components.app import shows_errors
    from core.errors import LoupeError, VersionConflict

    failures = {"loupe": LoupeError("The store cannot be reached."),
                "conflict": VersionConflict("settings", "project", 1, 2),
                "disk": OSError(errno.ENOSPC, "No space left on device", "/srv/loupe-data/loupe.sqlite3")}
    with shows_errors(conflict="Someone else saved first."):
        st.write("before")
        raise failures[kind]
    st.write("after the block")


def _run(kind: str) -> AppTest:
    at = AppTest.from_function(_script, args=(kind,))
    at.run()
    assert not at.exception
    return at


def test_a_loupe_error_is_shown_in_words_and_the_page_goes_on():
    at = _run("loupe")
    assert [as_shown(e.value) for e in at.error] == ["The store cannot be reached."]
    assert [m.value for m in at.markdown] == ["before", "after the block"]


def test_a_version_conflict_is_introduced_by_the_page_s_own_words():
    (error,) = _run("conflict").error
    assert as_shown(error.value).startswith("Someone else saved first. Conflict saving settings 'project'"), error.value


def test_a_full_disk_is_shown_without_the_server_path():
    (error,) = _run("disk").error
    assert "/srv/loupe-data" not in error.value and error.value
