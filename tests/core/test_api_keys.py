"""API keys: issued once with their secret, listed without it, revoked for good; roles decide the operations."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.api_keys import AccessDenied, ApiKeys, authorize, may_call
from core.errors import LoupeError, NotFound

ROOT = Path(__file__).resolve().parents[2]


def _cli(args, data_dir):
    env = {**os.environ, "LOUPE_DATA_DIR": str(data_dir), "LOUPE_STORE": "local"}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_key_is_stored_with_its_name_and_role_and_revoking_refuses_it_from_then_on(service):
    keys = ApiKeys(service.records)
    key = keys.create("reporting-app", "client", created_by="cli")
    assert key.access_key_id.startswith("LPK") and len(key.access_key_id) == 20 and len(key.secret_access_key) == 40
    assert keys.get(key.access_key_id).secret_access_key == key.secret_access_key  # SigV4 needs the secret itself
    assert "secret_access_key" not in keys.list()[0].public()
    revoked = keys.revoke(key.access_key_id)
    assert revoked.is_revoked and keys.get(key.access_key_id).is_revoked
    assert keys.revoke(key.access_key_id).revoked_at == revoked.revoked_at  # the first time stands
    with pytest.raises(NotFound):
        keys.revoke("LPKNOPE")


@pytest.mark.parametrize("name, role", [("", "admin"), ("x" * 65, "admin"), ("ok", "reviewer")])
def test_a_key_needs_a_name_and_a_known_role(service, name, role):
    with pytest.raises(LoupeError):
        ApiKeys(service.records).create(name, role)


@pytest.mark.parametrize("service_name, operation, client_may", [
    ("sagemaker-a2i-runtime", "StartHumanLoop", True), ("sagemaker-a2i-runtime", "DescribeHumanLoop", True),
    ("sagemaker-a2i-runtime", "ListHumanLoops", True), ("sagemaker-a2i-runtime", "StopHumanLoop", True),
    ("sagemaker-a2i-runtime", "DeleteHumanLoop", False), ("rekognition", "DetectModerationLabels", True),
    ("rekognition", "DetectLabels", True), ("sagemaker", "CreateFlowDefinition", False),
    ("sagemaker", "DescribeFlowDefinition", False), ("sagemaker", "CreateHumanTaskUi", False),
])
def test_admin_keys_may_call_everything_and_client_keys_only_loops_and_rekognition(service_name, operation, client_may):
    assert may_call("admin", service_name, operation)
    assert may_call("client", service_name, operation) is client_may


def test_authorize_names_the_key_and_the_operation_it_may_not_call(service):
    key = ApiKeys(service.records).create("app", "client")
    with pytest.raises(AccessDenied, match="'app' has the client role, which may not call CreateFlowDefinition"):
        authorize(key, "sagemaker", "CreateFlowDefinition")


def test_the_command_line_creates_lists_and_revokes_keys(tmp_path):
    created = _cli(["api-keys", "create", "--name", "ci", "--role", "admin", "--json"], tmp_path)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    assert set(key) >= {"access_key_id", "secret_access_key"}
    listed = [json.loads(line) for line in _cli(["api-keys", "list", "--json"], tmp_path).stdout.splitlines()]
    assert [(k["access_key_id"], k["role"], k["is_revoked"]) for k in listed] == [
        (key["access_key_id"], "admin", False)]
    assert key["secret_access_key"] not in _cli(["api-keys", "list"], tmp_path).stdout
    assert _cli(["api-keys", "revoke", key["access_key_id"]], tmp_path).returncode == 0
    listed = json.loads(_cli(["api-keys", "list", "--json"], tmp_path).stdout)
    assert listed["is_revoked"] is True
    assert _cli(["api-keys", "revoke", "LPKNOPE"], tmp_path).returncode == 2
    assert _cli(["api-keys", "create", "--name", "x", "--role", "owner"], tmp_path).returncode == 2
