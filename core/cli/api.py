"""Commands for the AWS-compatible API: `serve-api`, and `api-keys create|list|revoke`.

The command line acts as the local operator (it has the store anyway), so it may issue admin keys.
"""
from __future__ import annotations

import json
import logging
import sys

from core.api_keys import ROLES

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("serve-api", help="serve the AWS-compatible API (A2I runtime, flow definitions, Rekognition)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8502)
    p.add_argument("--max-body-bytes", type=int, default=None, help="largest request body accepted")
    p.set_defaults(func=serve_api, needs_jobs=True)

    keys = sub.add_parser("api-keys", help="issue, list and revoke API keys (AWS access key pairs)")
    ksub = keys.add_subparsers(dest="api_keys_command", required=True)
    p = ksub.add_parser("create", help="issue a key; its secret is printed once")
    p.add_argument("--name", required=True, help="who uses it: recorded as the acting identity")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--json", action="store_true", help='print {"access_key_id": ..., "secret_access_key": ...}')
    p.set_defaults(func=create_key)
    p = ksub.add_parser("list", help="every key, without secrets")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=list_keys)
    p = ksub.add_parser("revoke", help="refuse a key from now on")
    p.add_argument("access_key_id")
    p.set_defaults(func=revoke_key)


def serve_api(service, args) -> int:
    import uvicorn

    from api.app import MAX_BODY_BYTES, create_app

    app = create_app(service, max_body_bytes=args.max_body_bytes or MAX_BODY_BYTES)
    log.warning("Loupe API on http://%s:%d/ (sagemaker-a2i-runtime, sagemaker, rekognition)", args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def create_key(service, args) -> int:
    key = service.api_keys.create(args.name, args.role, created_by="cli")
    if args.json:
        sys.stdout.write(json.dumps({"access_key_id": key.access_key_id, "secret_access_key": key.secret_access_key,
                                     "name": key.name, "role": key.role}) + "\n")
    else:
        sys.stdout.write(f"access key id      {key.access_key_id}\nsecret access key  {key.secret_access_key}\n"
                         f"name {key.name}, role {key.role}. The secret is shown only now: keep it.\n")
    return 0


def list_keys(service, args) -> int:
    for key in service.api_keys.list():
        if args.json:
            sys.stdout.write(json.dumps(key.public()) + "\n")
        else:
            state = f"revoked {key.revoked_at}" if key.is_revoked else "active"
            sys.stdout.write(f"{key.access_key_id}  {key.role:6}  {key.name}  created {key.created_at}  {state}\n")
    return 0


def revoke_key(service, args) -> int:
    key = service.api_keys.revoke(args.access_key_id)
    sys.stdout.write(f"revoked {key.access_key_id} ({key.name}) at {key.revoked_at}\n")
    return 0
