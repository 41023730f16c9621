"""The app frame (components/app.py): a configuration that cannot be used is shown in words, and Streamlit's upload
limit follows LOUPE_MAX_UPLOAD_BYTES, so the two can never disagree."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config as streamlit_options
from streamlit.testing.v1 import AppTest

from components.markup import as_shown

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "data"))
    for name in ("LOUPE_STORE", "LOUPE_JOB_WORKERS", "LOUPE_MAX_UPLOAD_BYTES"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def upload_option():
    """Streamlit's options are per process: put the upload limit back as it was."""
    before = (streamlit_options.get_option("server.maxUploadSize"),
              streamlit_options.get_where_defined("server.maxUploadSize"))
    yield
    streamlit_options.set_option("server.maxUploadSize", *before)


@pytest.mark.parametrize("where, key, value, words", [
    ("env", "LOUPE_STORE", "foo", "LOUPE_STORE='foo' (from the environment) cannot be used: it must be one of "
                                  "local, dynamodb."),
    ("secrets", "LOUPE_STORE", "foo", "LOUPE_STORE='foo' (from .streamlit/secrets.toml) cannot be used"),
    ("env", "LOUPE_JOB_WORKERS", "abc", "LOUPE_JOB_WORKERS='abc' (from the environment) cannot be used: "
                                        "it must be a whole number."),
])
def test_a_bad_configuration_value_is_shown_in_words_not_as_a_traceback(env, where, key, value, words):
    at = AppTest.from_file(APP, default_timeout=60)
    if where == "env":
        env.setenv(key, value)
    else:
        at.secrets[key] = value
    at.run()
    assert not at.exception, at.exception
    assert len(at.error) == 1 and words in as_shown(at.error[0].value)
    assert "secrets.toml" in at.caption[0].value


def test_streamlits_upload_limit_follows_loupes(env, upload_option):
    env.setenv("LOUPE_MAX_UPLOAD_BYTES", str(3 * 1024 * 1024 - 5))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["app.reviewer"] = "ann"
    at.run()
    at.switch_page("pages/upload.py")
    at.run()
    assert not at.exception, at.exception
    assert streamlit_options.get_option("server.maxUploadSize") == 3
    (uploader,) = at.get("file_uploader")
    assert uploader.proto.max_upload_size_mb == 3
    assert any("Up to 3 MB a file" in c.value for c in at.caption)
