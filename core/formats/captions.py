"""Captions: break a transcript into cues, and read and write SRT, WebVTT and plain text.

SRT goes through the `srt` library and WebVTT through `webvtt-py`, so both are written and parsed by
well-kept implementations of the formats rather than by hand. Cue times are kept to the millisecond.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta

import srt
import webvtt

from core.domain import Segment, Transcript, Word
from core.errors import LoupeError

CAPTION_GAP_S = 1.5  # aws-video-transcriber starts a new caption after this much silence
CAPTION_LINE_CHARS = 42  # the common broadcast limit for one caption line
CAPTION_LINES = 2


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str  # lines joined by "\n"


def build_cues(transcript: Transcript, *, gap_s: float = CAPTION_GAP_S, line_chars: int = CAPTION_LINE_CHARS,
               lines: int = CAPTION_LINES) -> list[Cue]:
    """Cues from the transcript's words: a new cue after `gap_s` of silence or when the text would not fit."""
    cues: list[Cue] = []
    for segment in transcript.segments:
        words = segment.words or _segment_as_words(segment)
        current: list[Word] = []
        for word in words:
            text = word.text.strip()
            if not text:
                continue
            if current and (word.start_s - current[-1].end_s >= gap_s
                            or len(wrap_lines(" ".join(w.text.strip() for w in (*current, word)), line_chars)) > lines):
                cues.append(_cue(current, line_chars))
                current = []
            current.append(word)
        if current:
            cues.append(_cue(current, line_chars))
    return cues


def _segment_as_words(segment: Segment) -> tuple[Word, ...]:
    text = segment.text.strip()
    return (Word(text, segment.start_s, segment.end_s, 1.0),) if text else ()


def _cue(words: list[Word], line_chars: int) -> Cue:
    start_ms = round(words[0].start_s * 1000)
    end_ms = max(start_ms, round(words[-1].end_s * 1000))
    return Cue(start_ms, end_ms, "\n".join(wrap_lines(" ".join(w.text.strip() for w in words), line_chars)))


def wrap_lines(text: str, line_chars: int) -> list[str]:
    """Greedy word wrap; a single word longer than a line gets a line of its own."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= line_chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


# ---- SRT --------------------------------------------------------------------------------------------
def to_srt(cues: list[Cue]) -> str:
    return str(srt.compose(
        [srt.Subtitle(i + 1, timedelta(milliseconds=c.start_ms), timedelta(milliseconds=c.end_ms), c.text)
         for i, c in enumerate(cues)],
        reindex=False,
    ))


def parse_srt(text: str) -> list[Cue]:
    try:
        subs = list(srt.parse(text))
    except srt.SRTParseError as exc:
        raise LoupeError(f"This is not a valid SRT file: {exc}") from None
    return [Cue(_ms(s.start), _ms(s.end), s.content.strip()) for s in subs if s.content.strip()]


def _ms(delta: timedelta) -> int:
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


# ---- WebVTT -----------------------------------------------------------------------------------------
def to_webvtt(cues: list[Cue]) -> str:
    vtt = webvtt.WebVTT()
    for c in cues:
        # cue text is HTML-like in WebVTT: &, < and > must be escaped or a reader drops them as tags
        vtt.captions.append(webvtt.Caption(_vtt_time(c.start_ms), _vtt_time(c.end_ms),
                                           html.escape(c.text, quote=False)))
    return vtt.content


def parse_webvtt(text: str) -> list[Cue]:
    try:
        vtt = webvtt.from_string(text)
    except (webvtt.errors.MalformedFileError, webvtt.errors.MalformedCaptionError, ValueError) as exc:
        raise LoupeError(f"This is not a valid WebVTT file: {exc}") from None
    cues = []
    for c in vtt.captions:
        body = html.unescape(re.sub(r"</?[a-z][^>]*>", "", c.raw_text)).strip()
        if body:
            cues.append(Cue(_parse_vtt_time(c.start), _parse_vtt_time(c.end), body))
    return cues


def _vtt_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _parse_vtt_time(stamp: str) -> int:
    parts = stamp.split(":")
    hours = int(parts[0]) if len(parts) == 3 else 0
    minutes = int(parts[-2])
    seconds, _, millis = parts[-1].partition(".")
    return ((hours * 60 + minutes) * 60 + int(seconds)) * 1000 + int(millis.ljust(3, "0")[:3])


# ---- plain text and import --------------------------------------------------------------------------
def to_text(transcript: Transcript) -> str:
    """One segment a line."""
    return "".join(s.text.strip() + "\n" for s in transcript.segments if s.text.strip())


def transcript_from_cues(cues: list[Cue], *, media_id: str = "", model_version: str = "import") -> Transcript:
    """A transcript with one segment per cue. Word times are spread over the cue by length; captions carry
    no confidence, so imported words count as certain (1.0)."""
    segments = []
    for cue in cues:
        text = " ".join(cue.text.split())
        start_s, end_s = cue.start_ms / 1000, cue.end_ms / 1000
        segments.append(Segment(start_s, end_s, text, spread_words(text.split(), start_s, end_s)))
    duration = max((c.end_ms for c in cues), default=0) / 1000
    return Transcript(media_id=media_id, segments=tuple(segments), duration_s=duration or None,
                      model_version=model_version)


def spread_words(tokens: list[str], start_s: float, end_s: float, confidence: float = 1.0) -> tuple[Word, ...]:
    """Words over [start_s, end_s], each given time in proportion to its length (rounded to the ms)."""
    total = sum(len(t) + 1 for t in tokens)
    words, at = [], 0
    for token in tokens:
        w_start = start_s + (end_s - start_s) * at / total
        at += len(token) + 1
        w_end = start_s + (end_s - start_s) * at / total
        words.append(Word(token, round(w_start, 3), round(w_end, 3), confidence))
    return tuple(words)


def read_captions(name: str, data: bytes) -> list[Cue]:
    """Cues from an uploaded .srt or .vtt file (chosen by the content's header, then the name)."""
    text = data.decode("utf-8-sig", errors="replace")
    is_vtt = text.lstrip().startswith("WEBVTT") or name.lower().endswith(".vtt")
    cues = parse_webvtt(text) if is_vtt else parse_srt(text)
    if not cues:
        raise LoupeError(f"{name} is not a valid {'WebVTT' if is_vtt else 'SRT'} file: it holds no readable cues.")
    return cues
