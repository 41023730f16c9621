"""Amazon Transcribe output JSON: write a transcript as Transcribe would, and read Transcribe's output.

Transcribe's quirks, kept field for field: numbers are strings, confidence is 0..1 as a string, and
punctuation is its own item without times. Segments travel as `audio_segments` (Transcribe's newer
output has them) so a transcript survives the round trip; output without them is split at sentence ends.
"""
from __future__ import annotations

from typing import Any

from core.domain import Segment, Transcript, Word
from core.errors import LoupeError

PUNCTUATION = set(".,?!;:…")


def to_transcribe_json(transcript: Transcript, *, job_name: str = "", account_id: str = "") -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    audio_segments = []
    for seg_index, segment in enumerate(transcript.segments):
        ids = []
        for word in segment.words:
            content, trailing = split_punctuation(word.text.strip())
            if content:
                ids.append(len(items))
                items.append({"id": len(items), "type": "pronunciation", "start_time": _time(word.start_s),
                              "end_time": _time(word.end_s),
                              "alternatives": [{"confidence": _confidence(word.confidence), "content": content}]})
            if trailing:
                ids.append(len(items))
                items.append({"id": len(items), "type": "punctuation",
                              "alternatives": [{"confidence": "0.0", "content": trailing}]})
        audio_segments.append({"id": seg_index, "transcript": segment.text.strip(),
                               "start_time": _time(segment.start_s), "end_time": _time(segment.end_s), "items": ids})
    return {
        "jobName": job_name or f"loupe-{transcript.media_id[:32]}",
        "accountId": account_id,
        "status": "COMPLETED",
        "results": {"transcripts": [{"transcript": transcript.text}], "items": items,
                    "audio_segments": audio_segments,
                    "language_code": transcript.language or ""},
    }


def parse_transcribe_json(data: dict[str, Any], *, media_id: str = "",
                          model_version: str = "amazon-transcribe") -> Transcript:
    """A transcript from Transcribe output (or Loupe's own export). Raises LoupeError if it is not one."""
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict) or not isinstance(results.get("items"), list):
        raise LoupeError("This is not Amazon Transcribe output: it has no results.items list.")
    words: list[Word] = []
    word_of_item: dict[int, int] = {}
    for position, item in enumerate(results["items"]):
        try:
            alt = item["alternatives"][0]
            content = str(alt["content"])
            if item.get("type") == "punctuation":
                if words:
                    last = words[-1]
                    words[-1] = Word(last.text + content, last.start_s, last.end_s, last.confidence)
                    word_of_item[int(item.get("id", position))] = len(words) - 1
                continue
            confidence = float(alt.get("confidence", 1.0))
            words.append(Word(content, float(item["start_time"]), float(item["end_time"]),
                              min(1.0, max(0.0, confidence))))
            word_of_item[int(item.get("id", position))] = len(words) - 1
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise LoupeError(f"Transcribe item {position} is malformed ({type(exc).__name__}: {exc}).") from None
    segments = _segments_from_audio_segments(results.get("audio_segments"), words, word_of_item)
    if segments is None:
        segments = _segments_at_sentence_ends(words)
    duration = max((w.end_s for w in words), default=0.0)
    return Transcript(media_id=media_id, segments=tuple(segments), language=str(results.get("language_code") or ""),
                      duration_s=duration or None, model_version=model_version)


def split_punctuation(text: str) -> tuple[str, str]:
    """("dog", ",") for "dog,": Transcribe keeps trailing punctuation as a separate item."""
    end = len(text)
    while end > 0 and text[end - 1] in PUNCTUATION:
        end -= 1
    return text[:end], text[end:]


def _segments_from_audio_segments(raw: Any, words: list[Word], word_of_item: dict[int, int]) -> list[Segment] | None:
    if not isinstance(raw, list) or not raw:
        return None
    segments = []
    try:
        for seg in raw:
            indexes = sorted({word_of_item[int(i)] for i in seg.get("items", []) if int(i) in word_of_item})
            segments.append(Segment(float(seg["start_time"]), float(seg["end_time"]), str(seg.get("transcript", "")),
                                    tuple(words[i] for i in indexes)))
    except (KeyError, TypeError, ValueError):
        return None
    return segments


def _segments_at_sentence_ends(words: list[Word]) -> list[Segment]:
    segments, current = [], []
    for word in words:
        current.append(word)
        if word.text[-1:] in ".?!":
            segments.append(_segment(current))
            current = []
    if current:
        segments.append(_segment(current))
    return segments


def _segment(words: list[Word]) -> Segment:
    return Segment(words[0].start_s, words[-1].end_s, " ".join(w.text for w in words), tuple(words))


def _time(seconds: float) -> str:
    return f"{seconds:.3f}"


def _confidence(value: float) -> str:
    return f"{min(1.0, max(0.0, value)):.4f}"
