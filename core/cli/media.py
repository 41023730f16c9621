"""Commands for media: `ingest` and `status`."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("ingest", help="validate and store files or folders (recursively)")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.add_argument("--as", dest="created_by", default="cli", help="who is ingesting (recorded with the media)")
    p.set_defaults(func=ingest)
    p = sub.add_parser("status", help="counts of media by kind and status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=status)


def ingest(service, args) -> int:
    rejected = 0
    for outcome in service.catalog.ingest_paths(args.paths, created_by=args.created_by):
        rejected += outcome.status in ("rejected", "failed")
        if args.json:
            sys.stdout.write(json.dumps(outcome.as_json()) + "\n")
        else:
            detail = outcome.reason if outcome.status in ("rejected", "failed") else (outcome.media_id or "")[:12]
            sys.stdout.write(f"{outcome.status:9} {outcome.file}  {detail}\n")
        sys.stdout.flush()
    return 1 if rejected else 0


def status(service, args) -> int:
    counts = service.catalog.counts()
    if args.json:
        sys.stdout.write(json.dumps(counts) + "\n")
    else:
        sys.stdout.write(f"{counts['total']} media items\n")
        for group in ("by_kind", "by_status"):
            sys.stdout.write("  " + ", ".join(f"{k}: {v}" for k, v in counts[group].items()) + "\n")
    return 0
