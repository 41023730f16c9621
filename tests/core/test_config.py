"""Configuration: LOUPE_* environment variables win over secrets.toml entries of the same name, typed by Config's
fields; a value that cannot be used is refused in words naming the key, the value and where it was set."""
from dataclasses import fields, replace
from pathlib import Path

import pytest

from core.config import Config
from core.errors import ConfigError, LoupeError


def test_env_wins_over_secrets_and_types_are_coerced(tmp_path):
    config = Config.from_env({"LOUPE_DATA_DIR": str(tmp_path), "LOUPE_MAX_IMAGE_PIXELS": "1000"},
                             secrets={"LOUPE_DATA_DIR": "/elsewhere", "LOUPE_AUTO_LABEL": "true"})
    assert config.data_dir == tmp_path and config.max_image_pixels == 1000 and config.auto_label is True


def test_defaults_keep_data_beside_the_app():
    config = Config.from_env({})
    assert config.store == "local" and config.data_dir.name == "loupe-data"
    assert config.data_dir.parent == Path(__file__).resolve().parents[2]


def test_secrets_toml_values_of_any_toml_type_are_read_by_the_fields_type():
    config = Config.from_env({}, secrets={"LOUPE_JOB_WORKERS": 3, "LOUPE_TRANSCRIBER_VAD": False,
                                          "LOUPE_CAPTION_GAP_MS": "0", "LOUPE_S3_BUCKET": " media ",
                                          "LOUPE_STORE": ""})
    assert (config.job_workers, config.transcriber_vad, config.caption_gap_ms) == (3, False, 0)
    assert config.s3_bucket == "media" and config.store == "local"  # an empty value keeps the default


def test_every_field_is_typed_so_no_value_stays_a_string_by_accident():
    typed = {f.name: type(getattr(Config(), f.name)) for f in fields(Config)}
    env = {f"LOUPE_{name.upper()}": {int: "7", bool: "on", str: "x"}.get(kind, "/tmp/loupe-x")
           for name, kind in typed.items() if name not in ("store", "auth", "dask")}
    config = Config.from_env(env)
    assert {f.name: type(getattr(config, f.name)) for f in fields(Config)} == typed


@pytest.mark.parametrize("env, secrets, words", [
    ({"LOUPE_MAX_UPLOAD_BYTES": "lots"}, {}, "LOUPE_MAX_UPLOAD_BYTES='lots' (from the environment) cannot be used: "
                                             "it must be a whole number."),
    ({"LOUPE_JOB_WORKERS": "abc"}, {}, "LOUPE_JOB_WORKERS='abc' (from the environment) cannot be used"),
    ({"LOUPE_JOB_WORKERS": "0"}, {}, "it must be at least 1"),
    ({}, {"LOUPE_STORE": "foo"}, "LOUPE_STORE='foo' (from .streamlit/secrets.toml) cannot be used: "
                                 "it must be one of local, dynamodb."),
    ({"LOUPE_AUTO_LABEL": "maybe"}, {}, "it must be true or false"),
    ({"LOUPE_AUTH": "ldap"}, {}, "LOUPE_AUTH='ldap' (from the environment) cannot be used: "
                                 "it must be one of none, oidc."),
])
def test_a_value_that_cannot_be_used_is_refused_in_words(env, secrets, words):
    with pytest.raises(ConfigError) as info:
        Config.from_env(env, secrets=secrets)
    assert words in str(info.value) and isinstance(info.value, LoupeError)


def test_every_problem_is_named_at_once():
    with pytest.raises(ConfigError, match="LOUPE_STORE=.*LOUPE_JOB_WORKERS=|LOUPE_JOB_WORKERS=.*LOUPE_STORE="):
        Config.from_env({"LOUPE_STORE": "foo", "LOUPE_JOB_WORKERS": "abc"})


def test_tests_and_tools_still_build_and_copy_a_config_directly(tmp_path):
    config = Config(data_dir=tmp_path, max_upload_bytes=2 * 1024 * 1024)
    assert config.data_dir == tmp_path and config.max_upload_mb == 2
    assert replace(config, store="dynamodb").store == "dynamodb" and hash(config) == hash(Config(**vars(config)))


@pytest.mark.parametrize("limit_bytes, limit_mb", [(500 * 1024 * 1024, 500), (2 * 1024 * 1024 + 1, 3), (10, 1)])
def test_streamlits_upload_limit_is_the_whole_mb_that_lets_every_accepted_file_through(limit_bytes, limit_mb):
    assert Config(max_upload_bytes=limit_bytes).upload_limit_mb == limit_mb


def test_loupe_admins_is_a_comma_separated_list_of_emails_lower_cased():
    config = Config.from_env({"LOUPE_ADMINS": " Ann@X.org, bob@y.org ,,"})
    assert config.admin_emails == {"ann@x.org", "bob@y.org"} and Config().auth == "none"
