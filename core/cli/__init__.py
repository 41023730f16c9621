"""`python -m core`: the same service as the app, without a browser.

The command line acts as the local admin (core/access.py), whatever `LOUPE_AUTH` says. Each module in
COMMAND_MODULES adds its subcommands through `register(subparsers)`; a command is a function
`(service, args) -> exit code`.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from core.config import Config
from core.errors import LoupeError

COMMAND_MODULES = ["core.cli.media", "core.cli.transcripts", "core.cli.review", "core.cli.aws", "core.cli.labeling",
                   "core.cli.routing", "core.cli.maintenance", "core.cli.members", "core.cli.api",
                   "core.cli.learning"]


def build_parser() -> argparse.ArgumentParser:
    """Every command and its arguments (also read by docs/hooks.py for the command line reference)."""
    parser = argparse.ArgumentParser(prog="python -m core", description="Loupe from the command line.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from core.service import build_service

    try:
        service = build_service(Config.from_env(), start_jobs=getattr(args, "needs_jobs", False), local_admin=True)
    except (LoupeError, ValueError) as exc:
        logging.getLogger("core.cli").error("%s", exc)
        return 2
    with service:
        try:
            return args.func(service, args)
        except LoupeError as exc:
            logging.getLogger("core.cli").error("%s", exc)
            return 2
