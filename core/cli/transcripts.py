"""Commands for transcripts: `transcribe` and `export-transcript`."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from core.cli.cluster_jobs import follow
from core.domain import Transcript
from core.errors import LoupeError
from core.transcript_text import EXPORT_FORMATS, export_transcript
from core.transcripts import TranscriptVersion


def register(sub) -> None:
    p = sub.add_parser("transcribe", help="transcribe audio and video items (all not yet transcribed by default)")
    p.add_argument("media_ids", nargs="*", metavar="MEDIA_ID",
                   help="media ids, 12+ character id prefixes, or file names")
    p.add_argument("--json", action="store_true", help="one JSON object per item")
    p.add_argument("--force", action="store_true", help="transcribe again even if a transcript exists")
    p.add_argument("--model", default="", help="engine for this run: tiny.en, base, a model folder, amazon-transcribe")
    p.add_argument("--language", default=None, help="language code, e.g. en or de ('' detects)")
    p.set_defaults(func=transcribe_command)
    p = sub.add_parser("export-transcript", help="export an item's newest transcript")
    p.add_argument("media_id", metavar="MEDIA_ID")
    p.add_argument("--format", choices=list(EXPORT_FORMATS), default="srt")
    p.add_argument("--out", type=Path, help="write to this file instead of stdout")
    p.set_defaults(func=export_command)


def transcribe_command(service, args) -> int:
    if args.media_ids:
        ids = [_resolve(service, name) for name in args.media_ids]
    else:
        done = service.transcripts.transcribed_ids()
        ids = [i.media_id for i in service.transcription.transcribable() if args.force or i.media_id not in done]
    if ids and service.transcription.runs_on_cluster:  # the service's executor is a Dask cluster
        return _transcribe_on_cluster(service, args, ids)
    failed = 0
    for media_id in ids:
        outcome = service.transcription.transcribe_media(media_id, force=args.force, model=args.model,
                                                         language=args.language)
        failed += outcome.status == "failed"
        _write(args, media_id, outcome.file, outcome.status, outcome.version, outcome.reason)
    return 1 if failed else 0


def _transcribe_on_cluster(service, args, ids: list[str]) -> int:
    """LOUPE_DASK=local or LOUPE_DASK_SCHEDULER: a transcription job whose chunks (files, windows) run on the
    cluster, as the app's do; each file's line comes as it is done."""
    failed = 0

    def emit(outcome: dict) -> None:
        nonlocal failed
        version = service.transcripts.latest(outcome["media_id"]) if outcome["status"] != "failed" else None
        failed += version is None
        _write(args, outcome["media_id"], outcome.get("file", ""), outcome["status"], version,
               outcome.get("reason") or "No transcript was stored.")

    job = service.transcription.submit(ids, created_by="cli", force=args.force, model=args.model,
                                       language=args.language)
    logging.getLogger("core.cli").info("transcription job %s: %d item(s) on the cluster at %s", job.job_id, len(ids),
                                       service.cluster.mode)
    done = follow(service, job, emit)
    if done.status != "succeeded":
        logging.getLogger("core.cli").error("transcription job %s %s: %s", done.job_id, done.status,
                                            done.error or done.message)
        return 2
    return 1 if failed else 0


def _write(args, media_id: str, file: str, status: str, version: TranscriptVersion | None, reason: str) -> None:
    if args.json:
        line = transcript_json(version, file) if version else {"media_id": media_id, "file": file, "error": reason}
        sys.stdout.write(json.dumps(line) + "\n")
    elif version:
        t = version.transcript
        sys.stdout.write(f"{status:11} {file}  {len(t.words)} words, {t.language or '?'}, "
                         f"v{version.number}: {t.text[:80]}\n")
    else:
        sys.stdout.write(f"failed      {file or media_id}  {reason}\n")
    sys.stdout.flush()


def _resolve(service, name: str) -> str:
    item = service.catalog.find(name)
    return item.media_id if item else name  # an unknown id is reported as failed by transcribe_media


def transcript_json(version: TranscriptVersion, file_name: str) -> dict:
    t: Transcript = version.transcript
    return {"media_id": version.media_id, "file": file_name, "language": t.language, "duration_s": t.duration_s,
            "version": version.number, "model_version": t.model_version, "text": t.text,
            "words": [{"word": w.text, "start_s": w.start_s, "end_s": w.end_s, "confidence": round(w.confidence, 4)}
                      for w in t.words]}


def export_command(service, args) -> int:
    item = service.catalog.find(args.media_id)
    if item is None:
        raise LoupeError(f"No media item matches {args.media_id!r} "
                         "(give its id, a 12+ character prefix, or its file name).")
    version = service.transcripts.latest(item.media_id)
    if version is None:
        raise LoupeError(f"{item.file_name} has no transcript yet; "
                         f"run `python -m core transcribe {item.media_id[:12]}`.")
    c = service.settings.effective()  # caption layout from Settings, else LOUPE_CAPTION_*
    text = export_transcript(version.transcript, args.format, gap_s=c.caption_gap_ms / 1000,
                             line_chars=c.caption_line_chars, lines=c.caption_lines)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
