"""Commands for the team backend and stores: `setup-aws` (create the table and bucket), `migrate` (copy a project)
and `migrate-results` (key an older store's results by workflow and item)."""
from __future__ import annotations

import logging
import sys
from dataclasses import replace

from core.config import STORES

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("setup-aws", help="create the DynamoDB table and S3 bucket (no-op when they exist)")
    p.set_defaults(func=setup_aws)
    p = sub.add_parser("migrate", help="copy every record and media file to another backend (resumable)")
    p.add_argument("--to", required=True, choices=STORES, help="destination backend")
    p.set_defaults(func=migrate)
    p = sub.add_parser("migrate-results", help="key results by workflow and item in an older store (resumable; "
                       "the app also does it on start)")
    p.set_defaults(func=migrate_results)


def setup_aws(service, args) -> int:
    """The only place Loupe creates AWS resources; the app itself never does."""
    from core.aws import explain_aws_error, make_client
    from core.errors import StoreUnavailable
    from core.stores.aws_setup import ensure_bucket, ensure_table

    config = service.config
    try:
        created = ensure_table(make_client("dynamodb"), config.dynamodb_table)
        sys.stdout.write(f"DynamoDB table {config.dynamodb_table}: {'created' if created else 'already exists'}\n")
        if config.s3_bucket:
            created = ensure_bucket(make_client("s3"), config.s3_bucket)
            sys.stdout.write(f"S3 bucket {config.s3_bucket}: {'created' if created else 'already exists'}\n")
        else:
            sys.stdout.write("S3 bucket: none configured (LOUPE_S3_BUCKET), media stay in the local folder\n")
    except StoreUnavailable as exc:
        log.error("%s", exc)
        return 2
    except Exception as exc:
        message = explain_aws_error(exc, what="AWS")
        if message is None:
            raise
        log.error("%s", message)
        return 2
    return 0


def migrate(service, args) -> int:
    from core.migration import migrate as copy_project
    from core.stores import open_stores

    source = service.config
    if args.to == source.store:
        log.error("The project already uses the %s store (LOUPE_STORE); pick the other one with --to.", args.to)
        return 2
    destination = replace(source, store=args.to)
    dst_records, dst_blobs = open_stores(destination)
    health = dst_records.check()
    if not health.ok:
        log.error("Destination: %s", health.message)
        return 2
    sys.stdout.write(f"copying from {service.records.describe()} to {dst_records.describe()}\n")
    sys.stdout.flush()
    try:
        report = copy_project(service.records, service.blobs, dst_records, dst_blobs,
                              progress=lambda n, msg: log.info("%s", msg))
    finally:
        dst_records.close()
    sys.stdout.write(report.summary() + "\n")
    if not report.is_complete:
        sys.stdout.write("Some records are missing on the destination: run the same command again.\n")
        return 1
    sys.stdout.write(f"Done. Set LOUPE_STORE={args.to} and restart the app to use it.\n")
    return 0


def migrate_results(service, args) -> int:
    """The service rewrote the results when it was built; this runs it again if that stopped, and reports."""
    from core.migration import migrate_results as rekey

    report = service.results_migration
    if report is None or not report.is_complete:
        report = rekey(service.records, service.consolidation, service.loops)
    sys.stdout.write(report.summary() + "\n")
    if not report.is_complete:
        sys.stdout.write("Some results are not keyed by workflow yet: run the same command again.\n")
        return 1
    return 0
