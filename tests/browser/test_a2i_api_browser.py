"""The A2I round trip as client code lives it: Rekognition with a HumanLoopConfig through boto3 against
`python -m core serve-api`, a reviewer answering on the moderation task page in a real browser, DescribeHumanLoop
saying Completed, A2I's output.json at OutputS3Uri (moto's S3, or the local store's folder), one signed webhook."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest

from core.aws import make_client
from core.formats.a2i import MODERATION_SOURCE, parse_output_json
from core.stores.aws_setup import ensure_bucket, ensure_table
from core.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, is_valid_signature
from tests.api.conftest import free_port
from tests.api.test_sagemaker_api import create_moderation_flow
from tests.browser.conftest import wait_for_app
from tests.core.test_webhooks import Receiver
from tests.dynamodb_servers import aws_env, endpoint_for
from tests.review_seed import DEMO

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-webhook-secret"
CHECKBOX = "[data-testid='stCheckbox']"
ALWAYS = {"Conditions": [{"ConditionType": "Sampling", "ConditionParameters": {"RandomSamplingPercentage": 100}}]}


def _core(args: list[str], env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _serve_api(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "core", "serve-api", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=open(log_path, "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_path.read_text()
        try:
            urllib.request.urlopen(url, timeout=2)
        except urllib.error.HTTPError:  # 403 for an unsigned request: it is up
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("serve-api did not start")


@pytest.mark.parametrize("backend", ["local", "moto-s3"])
def test_rekognition_human_loop_answered_in_the_browser_lands_as_a2i_output_and_one_signed_webhook(
        backend, app_factory, page, tmp_path, monkeypatch, artifacts_dir):
    receiver = Receiver()
    env = {"LOUPE_DATA_DIR": str(tmp_path / "data"), "LOUPE_WEBHOOK_URLS": receiver.url,
           "LOUPE_WEBHOOK_SECRET": SECRET, "LOUPE_STORE": "local", "OMP_WAIT_POLICY": "PASSIVE"}
    output_bucket = "loupe-e2e"
    if backend == "moto-s3":
        name = f"a2i-e2e-{uuid.uuid4().hex[:8]}"
        env.update({**aws_env(endpoint_for("moto")), "LOUPE_STORE": "dynamodb", "LOUPE_DYNAMODB_TABLE": name,
                    "LOUPE_S3_BUCKET": name})
        for key, value in aws_env(endpoint_for("moto")).items():
            monkeypatch.setenv(key, value)
        ensure_table(make_client("dynamodb"), name)
        ensure_bucket(make_client("s3"), name)
        output_bucket = name
    full_env = {**os.environ, **env}
    api_proc = None
    try:
        admin = json.loads(_core(["api-keys", "create", "--name", "ops", "--role", "admin", "--json"], full_env))
        client = json.loads(_core(["api-keys", "create", "--name", "shop-app", "--role", "client", "--json"], full_env))
        api_proc, url = _serve_api(full_env, tmp_path / "api.log")
        app = app_factory(tmp_path / "data", env)

        def boto(service: str, key: dict):
            return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                                aws_access_key_id=key["access_key_id"], aws_secret_access_key=key["secret_access_key"])

        flow = create_moderation_flow(boto("sagemaker", admin), "shop-moderation", ALWAYS, task_count=1,
                                      output=f"s3://{output_bucket}/human-review/")
        # 1. The client's own code: Rekognition with a HumanLoopConfig.
        out = boto("rekognition", client).detect_moderation_labels(
            Image={"Bytes": (DEMO / "coffee.jpg").read_bytes()},
            HumanLoopConfig={"HumanLoopName": "order-1234", "FlowDefinitionArn": flow})
        assert out["HumanLoopActivationOutput"]["HumanLoopArn"].endswith(":human-loop/order-1234")
        a2i = boto("sagemaker-a2i-runtime", client)
        assert a2i.describe_human_loop(HumanLoopName="order-1234")["HumanLoopStatus"] == "InProgress"

        # 2-3. The loop is on the moderation task page, and a reviewer answers it there.
        page.goto(app.url + "/moderation_task")
        wait_for_app(page)
        page.get_by_role("textbox", name="Who is reviewing?").fill("ana")
        page.keyboard.press("Enter")
        wait_for_app(page)
        page.get_by_role("heading", name="Moderation review").wait_for()
        drinking = page.locator(CHECKBOX).filter(has_text=re.compile(r"^Drinking"))
        drinking.first.click()
        wait_for_app(page)
        page.screenshot(path=str(artifacts_dir / f"a2i-api-task-{backend}.png"))
        page.get_by_role("button", name="Submit").click()
        page.get_by_text("Answer recorded").wait_for(timeout=30_000)

        # 4. DescribeHumanLoop says Completed, with the output's URI.
        described = a2i.describe_human_loop(HumanLoopName="order-1234")
        assert described["HumanLoopStatus"] == "Completed"
        uri = described["HumanLoopOutput"]["OutputS3Uri"]
        stamp = described["CreationTime"].astimezone(__import__("datetime").timezone.utc)
        tail = f"/human-review/shop-moderation/{stamp:%Y/%m/%d/%H/%M/%S}/order-1234/output.json"

        # 5. output.json, where A2I would have put it, parses like A2I's output.
        if backend == "moto-s3":
            assert uri == f"s3://{output_bucket}{tail}"
            doc = json.loads(make_client("s3").get_object(Bucket=output_bucket, Key=tail[1:])["Body"].read())
        else:
            assert uri.startswith("file://") and uri.endswith(f"/a2i-output/{output_bucket}{tail}")
            doc = json.loads(Path(urlparse(uri).path).read_text())
        assert doc["awsManagedHumanLoopRequestSource"] == MODERATION_SOURCE
        assert doc["flowDefinitionArn"] == flow and doc["humanLoopName"] == "order-1234"
        (answer,) = doc["humanAnswers"]
        assert answer["workerId"] == "ana"
        assert answer["answerContent"] == {MODERATION_SOURCE: {"moderationLabels": [
            {"name": "Drinking", "parentName": "Alcohol"}]}}
        sent = doc["inputContent"]
        assert sent["aiServiceRequest"]["humanLoopConfig"] == {"flowDefinitionArn": flow, "humanLoopName": "order-1234"}
        assert set(sent["aiServiceRequest"]["image"]["s3Object"]) == {"bucket", "name"}
        assert sent["aiServiceResponse"]["moderationModelVersion"] == out["ModerationModelVersion"]
        assert sent["humanTaskActivationConditionResults"]["Conditions"][0]["EvaluationResult"] is True
        assert "moderationLabels" in sent["selectedAiServiceResponse"]
        parsed = parse_output_json(doc)
        assert parsed.loop_name == "order-1234" and parsed.answers[0].worker_id == "ana"

        # 6. The webhook receiver got one signed "SageMaker A2I HumanLoop Status Change" event.
        deadline = time.monotonic() + 20
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # a second copy would have arrived by now
        ((headers, body),) = receiver.received
        assert is_valid_signature(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        event = json.loads(body)
        assert event["detail-type"] == "SageMaker A2I HumanLoop Status Change"
        assert event["detail"]["humanLoopStatus"] == "Completed"
        assert event["detail"]["humanLoopOutput"] == {"outputS3Uri": uri}
    finally:
        receiver.close()
        if api_proc is not None:
            api_proc.terminate()
            api_proc.wait(10)
