"""Test media with known words: speech from espeak-ng, and a video carrying that speech (PyAV).

The writers are the demo set's own (demo/make_demo.py), so tests and the demo share one implementation.
"""
from __future__ import annotations

from pathlib import Path

from demo.make_demo import make_video, speak

SPEECH_TEXT = "The quick brown fox jumps over the lazy dog. Machine learning transcribes the speech."
VIDEO_TEXT = "This short video shows a title card. The speech in it is transcribed, then a person checks the words."


def make_speech_wav(out: Path, text: str = SPEECH_TEXT) -> Path:
    speak(text, out)
    return out


def make_speech_video(out: Path, text: str = VIDEO_TEXT) -> Path:
    make_video(text, out)
    return out


def make_sparse_speech(folder: Path, minutes: float, every_s: int = 300, text: str = SPEECH_TEXT) -> Path:
    """minutes of 16 kHz mono FLAC that is silent but for `text`, spoken once at the start of every `every_s`
    seconds (sox): long media that transcribes quickly with VAD on."""
    import subprocess
    import wave

    block = folder / f"block-{every_s}s.flac"
    if not block.exists():
        speech = make_speech_wav(folder / "sentence.wav", text)
        with wave.open(str(speech)) as w:
            speech_s = w.getnframes() / w.getframerate()
        subprocess.run(["sox", str(speech), "-r", "16000", "-c", "1", str(block), "pad", "1",
                        f"{every_s - 1 - speech_s:.3f}"], check=True)
    blocks = max(1, round(minutes * 60 / every_s))
    out = folder / f"sparse-{blocks * every_s}s.flac"
    if not out.exists():
        subprocess.run(["sox", str(block), str(out), "repeat", str(blocks - 1)], check=True)
    return out


GERMAN_TEXT = ("Guten Morgen. Heute sprechen wir über das Wetter in Berlin und über die Arbeit im Büro. Die Kinder "
               "spielen im Garten, und der Hund schläft unter dem Tisch. Wir trinken Kaffee und lesen die Zeitung. Am "
               "Nachmittag fahren wir mit dem Zug nach Hamburg, denn dort wohnt meine Schwester mit ihrer Familie. Sie "
               "kocht gern Suppe und backt einen Kuchen mit Äpfeln.")  # about 24 s at espeak-ng's 150 words a minute


def make_two_language_speech(folder: Path, first: tuple[str, str] = ("de", GERMAN_TEXT),
                             then: tuple[str, str] = ("en-us", SPEECH_TEXT), switch_s: float = 40.0) -> Path:
    """16 kHz mono FLAC: `first` (an espeak-ng voice and its text) spoken from the start, silence up to switch_s, then
    `then` (sox): a file whose start is in one language and whose end, on its own, is in another."""
    import subprocess
    import wave

    parts = []
    for n, (voice, text) in enumerate((first, then)):
        wav = folder / f"lang-{n}-{voice}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text], check=True)
        parts.append(wav)
    with wave.open(str(parts[0])) as w:
        first_s = w.getnframes() / w.getframerate()
    if first_s >= switch_s:
        raise ValueError(f"the first part is {first_s:.1f} s long, past the switch at {switch_s} s")
    padded = folder / "lang-0-padded.wav"
    subprocess.run(["sox", str(parts[0]), str(padded), "pad", "0", f"{switch_s - first_s:.3f}"], check=True)
    out = folder / f"two-languages-{first[0]}-{then[0]}.flac"
    subprocess.run(["sox", str(padded), str(parts[1]), "-r", "16000", "-c", "1", str(out)], check=True)
    return out
