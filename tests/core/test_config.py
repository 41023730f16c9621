"""Configuration: LOUPE_* environment variables win over secrets.toml entries of the same name."""
from pathlib import Path

import pytest

from core.config import Config


def test_env_wins_over_secrets_and_types_are_coerced(tmp_path):
    config = Config.from_env({"LOUPE_DATA_DIR": str(tmp_path), "LOUPE_MAX_IMAGE_PIXELS": "1000"},
                             secrets={"LOUPE_DATA_DIR": "/elsewhere", "LOUPE_AUTO_LABEL": "true"})
    assert config.data_dir == tmp_path and config.max_image_pixels == 1000 and config.auto_label is True


def test_defaults_keep_data_beside_the_app():
    config = Config.from_env({})
    assert config.store == "local" and config.data_dir.name == "loupe-data"
    assert config.data_dir.parent == Path(__file__).resolve().parents[2]


def test_a_bad_number_names_the_key():
    with pytest.raises(ValueError, match="LOUPE_MAX_UPLOAD_BYTES"):
        Config.from_env({"LOUPE_MAX_UPLOAD_BYTES": "lots"})
