"""Rebuild the demo set in this folder (run once by a developer; the outputs are committed).

Photos come from scikit-image's bundled data (see LICENSE.md here). Speech is synthesised with
espeak-ng, and the video is a generated title card with that speech, encoded with PyAV.
"""
from __future__ import annotations

import logging
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw
from skimage import data

HERE = Path(__file__).resolve().parent
log = logging.getLogger("make_demo")

PHOTOS = {"astronaut.jpg": data.astronaut, "cat.jpg": data.chelsea, "coffee.jpg": data.coffee,
          "rocket.jpg": data.rocket}
CLIP_TEXT = ("Welcome to Loupe. Machine learning labels the images and transcribes the speech. "
             "Confident results are accepted automatically, and the rest go to people for review.")
VIDEO_TEXT = "This short video shows a title card. The speech in it is transcribed, then a person checks the words."


def speak(text: str, out: Path) -> None:
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(out), text], check=True)


def make_video(text: str, out: Path, seconds_pad: float = 0.5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        speak(text, wav)
        with av.open(str(wav)) as src:
            frames = [f for f in src.decode(audio=0)]
        sample_rate = frames[0].sample_rate
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
    duration_s = len(samples) / sample_rate + seconds_pad
    with av.open(str(out), "w") as dst:
        vs = dst.add_stream("libx264", rate=10)
        vs.width, vs.height, vs.pix_fmt = 320, 180, "yuv420p"
        a_s = dst.add_stream("aac", rate=sample_rate)
        for i in range(int(duration_s * 10)):
            img = Image.new("RGB", (320, 180), (20, 40, 80))
            ImageDraw.Draw(img).text((20, 80), f"Loupe demo  {i / 10:4.1f}s", fill=(255, 255, 255))
            for packet in vs.encode(av.VideoFrame.from_image(img)):
                dst.mux(packet)
        for packet in vs.encode():
            dst.mux(packet)
        chunk = 1024
        pcm = np.pad(samples, (0, chunk - len(samples) % chunk)).astype(np.int16)
        for start in range(0, len(pcm), chunk):
            frame = av.AudioFrame.from_ndarray(pcm[start:start + chunk].reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = sample_rate
            frame.pts = start
            frame.time_base = Fraction(1, sample_rate)
            for packet in a_s.encode(frame):
                dst.mux(packet)
        for packet in a_s.encode():
            dst.mux(packet)


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    for name, load in PHOTOS.items():
        Image.fromarray(load()).convert("RGB").save(HERE / name, quality=88)
        log.info("wrote %s", name)
    speak(CLIP_TEXT, HERE / "welcome.wav")
    make_video(VIDEO_TEXT, HERE / "title-card.mp4")
    log.info("wrote welcome.wav and title-card.mp4")


if __name__ == "__main__":
    main()
