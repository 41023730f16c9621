"""Pure functions on transcript text: edits that keep word timings, find-and-replace tweaks, word diffs, word error
rate, and reading and writing transcript files (captions, plain text, Amazon Transcribe JSON). No store here; the
versioned store is core/transcripts.py."""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from core.domain import Segment, Transcript, Word
from core.errors import LoupeError
from core.formats.captions import (
    CAPTION_GAP_S,
    CAPTION_LINE_CHARS,
    CAPTION_LINES,
    build_cues,
    read_captions,
    spread_words,
    to_srt,
    to_text,
    to_webvtt,
    transcript_from_cues,
)
from core.formats.transcribe import parse_transcribe_json, to_transcribe_json

EDITED_CONFIDENCE = 1.0  # a word a person typed is certain


@dataclass(frozen=True)
class Tweak:
    find: str
    replace: str


@dataclass(frozen=True)
class DiffPiece:
    op: str  # "equal", "delete", "insert"
    text: str


@dataclass(frozen=True)
class ExportFormat:
    title: str
    extension: str
    mime: str


EXPORT_FORMATS = {  # the one table of transcript export formats: the page, its download and the CLI read it
    "srt": ExportFormat("SRT captions", "srt", "application/x-subrip"),
    "vtt": ExportFormat("WebVTT captions", "vtt", "text/vtt"),
    "txt": ExportFormat("plain text", "txt", "text/plain"),
    "transcribe-json": ExportFormat("Amazon Transcribe JSON", "json", "application/json"),
}


def export_transcript(transcript: Transcript, fmt: str, *, gap_s: float = CAPTION_GAP_S,
                      line_chars: int = CAPTION_LINE_CHARS, lines: int = CAPTION_LINES) -> str:
    """The transcript as text in one of EXPORT_FORMATS."""
    if fmt == "transcribe-json":
        return json.dumps(to_transcribe_json(transcript), indent=1) + "\n"
    if fmt == "txt":
        return to_text(transcript)
    cues = build_cues(transcript, gap_s=gap_s, line_chars=line_chars, lines=lines)
    if fmt == "srt":
        return to_srt(cues)
    if fmt == "vtt":
        return to_webvtt(cues)
    raise LoupeError(f"Unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}.")


def import_transcript(name: str, data: bytes, *, media_id: str) -> Transcript:
    """A transcript from an uploaded Transcribe JSON, SRT or WebVTT file. Raises LoupeError if unreadable."""
    if name.lower().endswith(".json") or data.lstrip()[:1] == b"{":
        try:
            parsed = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise LoupeError(f"{name} is not valid JSON ({exc}).") from None
        return parse_transcribe_json(parsed, media_id=media_id, model_version="import/amazon-transcribe")
    return transcript_from_cues(read_captions(name, data), media_id=media_id, model_version="import/captions")


def parse_tweaks(text: str) -> list[Tweak]:
    """Rules one a line, `find=replace` (aws-video-transcriber's syntax). Raises LoupeError naming a bad line."""
    tweaks = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        find, sep, repl = line.partition("=")
        if not sep or not find.strip():
            raise LoupeError(f"Tweak line {n} ({line.strip()!r}) is not of the form find=replace, e.g. A.W.S.=AWS.")
        tweaks.append(Tweak(find.strip(), repl.strip()))
    return tweaks


def format_tweaks(tweaks: list[Tweak]) -> str:
    return "\n".join(f"{t.find}={t.replace}" for t in tweaks)


def apply_tweaks(transcript: Transcript, tweaks: list[Tweak]) -> tuple[Transcript, int]:
    """The transcript with every rule applied to whole words, and how many replacements were made."""
    if not tweaks:
        return transcript, 0
    patterns = [(re.compile(rf"(?<!\w){re.escape(t.find)}(?!\w)"), t.replace) for t in tweaks]
    count = 0
    texts = {}
    for i, segment in enumerate(transcript.segments):
        text = segment.text
        for pattern, repl in patterns:
            text, n = pattern.subn(_literal(repl), text)
            count += n
        if text != segment.text:
            texts[i] = text
    return apply_edits(transcript, texts), count


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    """A replacement taken as it is (a plain string given to re.sub would have its backslashes read as escapes)."""
    return lambda _match: text


def apply_edits(transcript: Transcript, texts: dict[int, str]) -> Transcript:
    """The transcript with segment i's text replaced by texts[i]; words are re-aligned to the new text."""
    if not texts:
        return transcript
    segments = tuple(edit_segment_text(s, texts[i]) if i in texts and texts[i] != s.text else s
                     for i, s in enumerate(transcript.segments))
    return replace(transcript, segments=segments)


def edit_segment_text(segment: Segment, new_text: str) -> Segment:
    """A segment with new text. Unchanged words keep their timing and confidence; changed words share the
    time of the words they replace and count as certain, since a person typed them."""
    new_text = " ".join(new_text.split())
    tokens = new_text.split()
    old = list(segment.words)
    if not old:
        return replace(segment, text=new_text, words=spread_words(tokens, segment.start_s, segment.end_s,
                                                                  EDITED_CONFIDENCE))
    matcher = difflib.SequenceMatcher(a=[w.text for w in old], b=tokens, autojunk=False)
    words: list[Word] = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            words.extend(old[a0:a1])
        elif b1 > b0:
            if a1 > a0:
                start_s, end_s = old[a0].start_s, old[a1 - 1].end_s
            else:  # an insertion sits in the gap between its neighbours
                start_s = old[a0 - 1].end_s if a0 > 0 else segment.start_s
                end_s = old[a0].start_s if a0 < len(old) else max(start_s, segment.end_s)
                end_s = max(start_s, end_s)
            words.extend(spread_words(tokens[b0:b1], start_s, end_s, EDITED_CONFIDENCE))
    return replace(segment, text=new_text, words=tuple(words))


def word_diff(old_text: str, new_text: str) -> list[DiffPiece]:
    """A word-level diff, as runs of equal, deleted and inserted words."""
    a, b = old_text.split(), new_text.split()
    pieces = []
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(DiffPiece("equal", " ".join(a[a0:a1])))
        else:
            if a1 > a0:
                pieces.append(DiffPiece("delete", " ".join(a[a0:a1])))
            if b1 > b0:
                pieces.append(DiffPiece("insert", " ".join(b[b0:b1])))
    return pieces


def word_error_rate(reference: str, hypothesis: str) -> float | None:
    """WER ignoring case and punctuation (jiwer); None when the reference has no words."""
    import jiwer

    normalise = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                               jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])
    if not any(normalise(reference)):
        return None
    if not hypothesis.strip():
        return 1.0
    return float(jiwer.wer(reference, hypothesis, reference_transform=normalise, hypothesis_transform=normalise))


def low_confidence_words(transcript: Transcript, threshold: float) -> list[tuple[int, int]]:
    """(segment index, word index) of every word whose confidence is below the threshold, in order."""
    return [(si, wi) for si, s in enumerate(transcript.segments) for wi, w in enumerate(s.words)
            if w.confidence < threshold]
