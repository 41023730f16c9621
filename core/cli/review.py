"""Commands for reviewed results: `export` (Ground Truth manifest, A2I output.json, CSV) and `import-a2i`."""
from __future__ import annotations

import sys
from pathlib import Path

from core.exports import FORMATS


def register(sub) -> None:
    p = sub.add_parser("export", help="export final labels to a folder or an s3://bucket/prefix")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", required=True, help="a folder (created if missing), or s3://bucket/prefix")
    p.add_argument("--overwrite", action="store_true", help="replace export files already there (never without it)")
    p.add_argument("--workflow", default=None, help="only the items of this workflow's human loops")
    p.add_argument("--attribute", default="labels", help="Ground Truth label attribute name (gt-manifest)")
    p.add_argument("--source-prefix", default="", help="source-ref prefix, e.g. s3://bucket/images (gt-manifest)")
    p.set_defaults(func=export)
    p = sub.add_parser("import-a2i", help="import A2I output.json files (or folders of them) as ground truth")
    p.add_argument("paths", nargs="+", type=Path)
    p.set_defaults(func=import_a2i)


def export(service, args) -> int:
    result = service.exports.export(args.format, args.out, workflow=args.workflow, attribute=args.attribute,
                                    source_prefix=args.source_prefix, overwrite=args.overwrite)
    sys.stdout.write(f"exported {result.items} items in {result.files} file(s) to {result.destination}\n")
    return 0


def import_a2i(service, args) -> int:
    missing = [p for p in args.paths if not p.exists()]
    report = service.exports.import_a2i([p for p in args.paths if p.exists()])
    for path in missing:
        sys.stdout.write(f"rejected  {path}  The file does not exist.\n")
    for path, reason in report.rejected:
        sys.stdout.write(f"rejected  {path}  {reason}\n")
    sys.stdout.write(f"imported {len(report.imported)} human loop(s)\n")
    return 1 if report.rejected or missing else 0
