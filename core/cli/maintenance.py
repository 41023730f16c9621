"""Commands for upkeep: `gc` (remove leftovers of crashes, with counts), `jobs` (list, recover) and `recount` (every
count the store keeps, from the records)."""
from __future__ import annotations

import json
import sys

from core.leftovers import DEFAULT_MIN_AGE_S


def register(sub) -> None:
    p = sub.add_parser("gc", help="remove leftovers of crashes: partial media files, staged uploads no job needs, "
                                  "media objects and DynamoDB chunk items nothing points at, and the work records "
                                  "(chunks done, item lists, window words) of jobs that have ended")
    p.add_argument("--dry-run", action="store_true", help="count only, remove nothing")
    p.add_argument("--min-age-s", type=float, default=DEFAULT_MIN_AGE_S,
                   help=f"leave anything younger than this alone (default {DEFAULT_MIN_AGE_S:.0f} s)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=gc)
    p = sub.add_parser("jobs", help="background jobs: list them, or recover the abandoned ones now")
    p.add_argument("action", choices=("list", "recover"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=jobs, needs_jobs=False)
    p = sub.add_parser("recount", help="recount the media counts, the review queue counts and the Results totals "
                                       "from the records, list any label name missing, and say what was off (after "
                                       "a crash; run it while nobody is reviewing: it reads every item once)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=recount)


def gc(service, args) -> int:
    report = service.leftovers.collect(min_age_s=args.min_age_s, dry_run=args.dry_run)
    if args.json:
        sys.stdout.write(json.dumps(report.as_json()) + "\n")
        return 0
    verb = "would remove" if args.dry_run else "removed"
    sys.stdout.write(f"{verb} {report.partial_files} partial media file(s), {report.staged_uploads} staged upload(s), "
                     f"{report.orphan_media} orphan media file(s), {report.orphan_chunks} orphan chunk item(s), "
                     f"{report.job_work_records} work record(s) (chunks done, item lists, window words) of "
                     f"{report.job_work_jobs} ended job(s); {report.bytes_freed / 1e6:.1f} MB\n")
    return 0


def jobs(service, args) -> int:
    """`recover` re-queues every abandoned job (stale heartbeat) and runs it here to the end."""
    resumed = service.jobs.recover() if args.action == "recover" else []
    finished = [service.jobs.wait(job_id, timeout_s=24 * 3600) for job_id in resumed]
    listed = finished if args.action == "recover" else service.jobs.recent(50)
    if args.json:
        sys.stdout.write(json.dumps([{"job_id": j.job_id, "kind": j.kind, "status": j.status, "done": j.done,
                                      "total": j.total, "error": j.error} for j in listed]) + "\n")
        return 0
    if args.action == "recover":
        sys.stdout.write(f"recovered {len(resumed)} job(s)\n")
    for j in listed:
        sys.stdout.write(f"{j.job_id}  {j.kind:10} {j.status:9} {j.done}/{j.total}  {j.error}\n")
    return 0


def recount(service, args) -> int:
    from core.counters import recount_all

    report = recount_all(service.records, service.catalog, service.loops, service.label_names,
                         service.results.totals)
    sys.stdout.write((json.dumps(report.as_json()) if args.json else report.summary()) + "\n")
    return 0
