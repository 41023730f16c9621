"""Commands for routing: `conditions validate|evaluate`, `route`, and `flow-definition`."""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from core.conditions import ConditionsError, evaluate, labels_from_response, parse_conditions
from core.errors import LoupeError
from core.flow_definitions import to_create_flow_definition


def register(sub) -> None:
    p = sub.add_parser("conditions", help="A2I HumanLoopActivationConditions: validate or evaluate a JSON file")
    csub = p.add_subparsers(dest="conditions_command", required=True)
    v = csub.add_parser("validate", help="check a conditions file as A2I would (exit 2 with the reason if invalid)")
    v.add_argument("file", type=Path)
    v.set_defaults(func=validate)
    e = csub.add_parser("evaluate", help="evaluate conditions on a DetectModerationLabels response")
    e.add_argument("conditions_file", type=Path)
    e.add_argument("response_file", type=Path, help="Rekognition DetectModerationLabels response JSON (PascalCase)")
    e.add_argument("--id", dest="item_id", default="", help="item id for Sampling (default: hash of the response)")
    e.set_defaults(func=evaluate_file)
    r = sub.add_parser("route", help="create human loops for the items a workflow sends to people")
    r.add_argument("--workflow", required=True)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=route)
    f = sub.add_parser("flow-definition", help="print a workflow as a SageMaker CreateFlowDefinition request")
    f.add_argument("workflow")
    f.set_defaults(func=flow_definition)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LoupeError(f"Can't read the {what} file {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise LoupeError(f"The {what} file {path} is not UTF-8 text.") from None


def validate(service, args) -> int:
    try:
        conditions = parse_conditions(_read(args.file, "conditions"))
    except LoupeError as exc:
        sys.stderr.write(f"{args.file}: invalid: {exc}\n")
        return 2
    sys.stdout.write(f"{args.file}: valid ({len(conditions['Conditions'])} top-level conditions)\n")
    return 0


def evaluate_file(service, args) -> int:
    try:
        conditions = parse_conditions(_read(args.conditions_file, "conditions"))
        text = _read(args.response_file, "response")
        try:
            response = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoupeError(f"{args.response_file} is not valid JSON: {exc.msg} at line {exc.lineno}.") from None
        if not isinstance(response, dict):
            raise LoupeError(f"{args.response_file} must hold a JSON object (a DetectModerationLabels response).")
        labels = labels_from_response(response)
        item_id = args.item_id or hashlib.sha256(text.encode("utf-8")).hexdigest()
        result = evaluate(conditions, labels, item_id)
    except (ConditionsError, LoupeError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    sys.stdout.write(json.dumps(result.as_json(), indent=2) + "\n")
    return 0


def route(service, args) -> int:
    outcome = service.loop_starter.start_loops(args.workflow)
    if args.json:
        sys.stdout.write(json.dumps(outcome.as_json()) + "\n")
    else:
        sys.stdout.write(f"workflow {outcome.workflow}: {outcome.created} human loops created, "
                         f"{outcome.existing} already existed ({outcome.review} to review, {outcome.audit} audit)\n")
    return 0


def flow_definition(service, args) -> int:
    sys.stdout.write(json.dumps(to_create_flow_definition(service.workflows.get(args.workflow)), indent=2) + "\n")
    return 0
