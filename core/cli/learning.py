"""Commands for learning from people: `learn` (train a team model), `model-versions`, `revert-model`, and
`import-ground-truth` (Ground Truth output manifests as human answers)."""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("learn", help="train the team model on people's final answers (same answers: same version)")
    p.add_argument("--json", action="store_true",
                   help='print {"model_version", "labels": [{name, positives, negatives, precision, recall, '
                        'threshold}], "answers_used"}')
    p.add_argument("--min-examples", type=int, default=None,
                   help="positives and negatives a label needs to be learned (saved as the project setting)")
    p.add_argument("--target-precision", type=float, default=None,
                   help="precision each label's threshold aims at, 0.5-0.99 (saved as the project setting)")
    p.add_argument("--retrain-after", type=int, default=None, metavar="N",
                   help="retrain automatically after N new reviewed items; 0 = only on demand (saved)")
    p.set_defaults(func=learn, needs_jobs=True)
    p = sub.add_parser("model-versions", help="list team model versions, the one in use marked with *")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=model_versions)
    p = sub.add_parser("revert-model", help="use an older team model version (default: the one before the current)")
    p.add_argument("version", nargs="?", default=None, help="e.g. local-1+team-2, team-2 or 2; 'base' = no team model")
    p.set_defaults(func=revert_model)
    p = sub.add_parser("automate", help="route a label review workflow by the team model's evidence: accept labels "
                                        "that meet the target precision, send the rest to people")
    p.add_argument("--workflow", required=True)
    p.add_argument("--precision", type=float, default=None, help="target precision (default: the learning setting)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=automate)
    p = sub.add_parser("import-ground-truth",
                       help="read a Ground Truth output manifest (classification or boxes) as human answers")
    p.add_argument("manifest", type=Path)
    p.add_argument("--workflow", default=None, help="workflow to file the answers under (default: ground-truth)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=import_ground_truth)


def learn(service, args) -> int:
    settings = service.learning.settings()
    changes = {k: v for k, v in (("min_positives", args.min_examples), ("min_negatives", args.min_examples),
                                 ("target_precision", args.target_precision),
                                 ("retrain_after_answers", args.retrain_after)) if v is not None}
    if changes:
        service.learning.save_settings(replace(settings, **changes))
    job = service.learning.submit(created_by="cli")
    done = service.jobs.wait(job.job_id, timeout_s=3600)
    if done.status != "succeeded":
        sys.stderr.write(f"training {done.status}: {done.error or done.message}\n")
        return 2
    result = done.result
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")
        return 0
    sys.stdout.write(f"{result['model_version']}: trained on {result['answers_used']} reviewed images\n")
    for r in result["labels"]:
        if r["learned"]:
            sys.stdout.write(f"  {r['name']:<24} {r['positives']:>5}+ {r['negatives']:>5}-  precision "
                             f"{_pct(r['precision'])}  recall {_pct(r['recall'])}  threshold {_pct(r['threshold'])}\n")
        else:
            sys.stdout.write(f"  {r['name']:<24} {r['reason']}\n")
    return 0


def _pct(x) -> str:
    return "  -  " if x is None else f"{x * 100:4.0f}%"


def model_versions(service, args) -> int:
    current = service.learning.current()
    versions = service.learning.versions()
    if args.json:
        sys.stdout.write(json.dumps({"current": current.version if current else None,
                                     "versions": [v.as_json() for v in versions]}) + "\n")
        return 0
    if not versions:
        sys.stdout.write("No team model yet: review some images, then run `python -m core learn`.\n")
    for v in versions:
        mark = "*" if current and v.number == current.number else " "
        sys.stdout.write(f"{mark} {v.version:<24} {v.created_at}  {len(v.learned)} labels from "
                         f"{v.answers_used} reviewed images\n")
    return 0


def revert_model(service, args) -> int:
    target = service.learning.revert(args.version)
    sys.stdout.write(f"Now labeling with {target.version if target else 'the base model alone'}; label again "
                     "(python -m core label --all) to update predictions.\n")
    return 0


def automate(service, args) -> int:
    result = service.learning.automate(args.workflow, args.precision)
    out = {**result.as_json(), "workflow": args.workflow,
           "labels": [{"name": b.name, "drop_below": b.drop_below, "accept_at": b.accept_at} for b in result.bands]}
    if args.json:
        sys.stdout.write(json.dumps(out) + "\n")
    else:
        precision = "-" if result.precision is None else f"{result.precision:.1%}"
        sys.stdout.write(f"workflow {args.workflow}: {sum(b.accept_at is not None for b in result.bands)} labels "
                         f"accepted without people at {result.target_precision:.0%} precision; on reviewed items "
                         f"{result.rate:.0%} would be automated (precision {precision})\n")
    return 0


def import_ground_truth(service, args) -> int:
    report = service.ground_truth.import_file(args.manifest, workflow=args.workflow)
    if args.json:
        sys.stdout.write(json.dumps(report.as_json()) + "\n")
    else:
        sys.stdout.write(f"{args.manifest}: {report.imported} items imported as answers in workflow "
                         f"{report.workflow}, {len(report.errors)} lines skipped\n")
        for error in report.errors:
            sys.stdout.write(f"  {error}\n")
    return 1 if report.errors else 0
