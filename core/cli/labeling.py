"""Commands for image labels: `label` (run a labeler now) and `import-predictions` (labels made elsewhere)."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from core.cli.cluster_jobs import follow
from core.formats.rekognition import to_label_json
from core.labelers import available

log = logging.getLogger("core.cli")


def register(sub) -> None:
    p = sub.add_parser("label", help="label images (the given media ids or file names, or every unlabeled image)")
    p.add_argument("media", nargs="*", metavar="MEDIA_ID", help="media ids, id prefixes (12+ chars) or file names")
    p.add_argument("--backend", choices=available(), default=None,
                   help="labeler to use (default: LOUPE_LABELER, which defaults to local)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per image: media_id, file, labels, moderation_labels, model_version")
    p.add_argument("--model-version", default=None,
                   help="team model version to apply (e.g. local-1+team-2); default: the one in use")
    p.add_argument("--all", action="store_true", help="label every image again, not only unlabeled ones")
    p.set_defaults(func=label)
    p = sub.add_parser("import-predictions",
                       help="import Rekognition JSON, or CSV / JSON Lines of media,label,confidence")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=import_predictions)


def label(service, args) -> int:
    ids: list[str] = []
    missing = 0
    for ref in args.media:
        item = service.catalog.find(ref)
        if item is None:
            missing += 1
            _emit(args, {"media_id": None, "file": ref, "error": "No media item has this id or file name."},
                  f"failed   {ref}  No media item has this id or file name.")
        else:
            ids.append(item.media_id)
    if not args.media:
        everything = args.all or args.model_version
        ids = ([m.media_id for m in service.catalog.list(kind="image")] if everything
               else service.labeling.unlabeled_ids())
    if ids and service.transcription.runs_on_cluster:  # the service's executor is a Dask cluster
        return _label_on_cluster(service, args, ids, missing)
    failed = missing
    for outcome in service.labeling.label(ids, backend=args.backend, model_version=args.model_version):
        if outcome.prediction is not None:
            text = ", ".join(f"{lb.name} {lb.confidence * 100:.1f}%" for lb in outcome.prediction.labels[:6])
            _emit(args, to_label_json(outcome.prediction, outcome.file), f"labeled  {outcome.file}  {text}")
        else:
            failed += 1
            _emit(args, {"media_id": outcome.media_id, "file": outcome.file, "error": outcome.reason},
                  f"failed   {outcome.file}  {outcome.reason}")
    if not ids and not args.media and not args.json:
        sys.stdout.write("Every image is labeled already.\n")
    return 1 if failed else 0


def _label_on_cluster(service, args, ids: list[str], failed: int) -> int:
    """LOUPE_DASK=local or LOUPE_DASK_SCHEDULER: a label job whose chunks run on the cluster, as the app's do."""
    def emit(outcome: dict) -> None:
        nonlocal failed
        prediction = service.predictions.get(outcome["media_id"]) if outcome["status"] == "labeled" else None
        if prediction is None:
            failed += 1
            reason = outcome.get("reason") or "No prediction was stored."
            _emit(args, {"media_id": outcome["media_id"], "file": outcome.get("file", ""), "error": reason},
                  f"failed   {outcome.get('file', '')}  {reason}")
            return
        text = ", ".join(f"{lb.name} {lb.confidence * 100:.1f}%" for lb in prediction.labels[:6])
        _emit(args, to_label_json(prediction, outcome.get("file", "")), f"labeled  {outcome.get('file', '')}  {text}")

    job = service.labeling.submit(ids, backend=args.backend, model_version=args.model_version, created_by="cli")
    log.info("label job %s: %d image(s) on the cluster at %s", job.job_id, len(ids), service.cluster.mode)
    done = follow(service, job, emit)
    if done.status != "succeeded":
        log.error("label job %s %s: %s", done.job_id, done.status, done.error or done.message)
        return 2
    return 1 if failed else 0


def import_predictions(service, args) -> int:
    report = service.labeling.import_file(args.file)
    if args.json:
        sys.stdout.write(json.dumps(report.as_json()) + "\n")
    else:
        sys.stdout.write(f"{report.file}: {report.format}, {report.imported} media items, {report.labels} labels"
                         f"{f', confidence read as {report.scale}' if report.scale else ''}\n")
        for error in report.errors:
            sys.stdout.write(f"  skipped {error}\n")
    return 1 if report.errors else 0


def _emit(args, obj: dict, text: str) -> None:
    sys.stdout.write((json.dumps(obj) if args.json else text) + "\n")
    sys.stdout.flush()
