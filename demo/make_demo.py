"""Rebuild the demo set in this folder (run once by a developer; the outputs are committed).

Photos come from scikit-image's bundled data (see LICENSE.md here), as they are or as variants made here
(blurred, cropped, turned, at a lower resolution, or two photos blended), chosen so that the bundled labeler's
confidences spread: moving the Thresholds slider from 90% to 60% to 30% moves items between accepted, review and
dropped (tests/core/test_demo_thresholds.py measures it). Every step is deterministic. Speech is synthesised with
espeak-ng, and the video is a generated title card with that speech, encoded with PyAV.

    python demo/make_demo.py            # photos, speech and video
    python demo/make_demo.py --photos   # the photos only (no espeak-ng needed)
"""
from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from skimage import data

HERE = Path(__file__).resolve().parent
log = logging.getLogger("make_demo")


def _rgb(array: np.ndarray) -> Image.Image:
    if array.dtype == bool:  # the horse silhouette
        array = array.astype(np.uint8) * 255
    return Image.fromarray(array).convert("RGB")


def _blurred(image: Image.Image, radius: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def _cropped(image: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = image.size
    return image.crop((round(left * w), round(top * h), round(right * w), round(bottom * h)))


def _low_res(image: Image.Image, scale: float) -> Image.Image:
    """Shrunk, then blown up again with big square pixels (as a thumbnail blown up would look)."""
    w, h = image.size
    small = image.resize((round(w * scale), round(h * scale)), Image.Resampling.BILINEAR)
    return small.resize((w, h), Image.Resampling.NEAREST)


def _blend(first: Image.Image, second: Image.Image, share: float) -> Image.Image:
    return Image.blend(first, second.resize(first.size, Image.Resampling.BILINEAR), share)


# file name -> how to make it. The measured labels and confidences are in LICENSE.md's table.
PHOTOS: dict[str, Callable[[], Image.Image]] = {
    "astronaut.jpg": lambda: _rgb(data.astronaut()),
    "cat.jpg": lambda: _rgb(data.chelsea()),
    "coffee.jpg": lambda: _rgb(data.coffee()),
    "rocket.jpg": lambda: _rgb(data.rocket()),
    "camera.jpg": lambda: _rgb(data.camera()),
    "fundus.jpg": lambda: _rgb(data.microaneurysms()),
    "horse.jpg": lambda: _rgb(data.horse()),
    "text.jpg": lambda: _rgb(data.text()),
    "bricks.jpg": lambda: _rgb(data.brick()),
    "cell.jpg": lambda: _rgb(data.cell()),
    "camera-blurred.jpg": lambda: _blurred(_rgb(data.camera()), 4),
    "camera-turned.jpg": lambda: _rgb(data.camera()).rotate(90, expand=True),
    "coffee-blurred.jpg": lambda: _blurred(_rgb(data.coffee()), 4),
    "rocket-blurred.jpg": lambda: _blurred(_rgb(data.rocket()), 8),
    "coffee-cropped.jpg": lambda: _cropped(_rgb(data.coffee()), 0.5, 0.0, 1.0, 1.0),
    "astronaut-low-res.jpg": lambda: _low_res(_rgb(data.astronaut()), 0.05),
    "cat-and-rocket.jpg": lambda: _blend(_rgb(data.rocket()), _rgb(data.chelsea()), 0.5),
}
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


def make_photos() -> None:
    for name, make in PHOTOS.items():
        make().save(HERE / name, quality=88)
        log.info("wrote %s", name)


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    make_photos()
    if "--photos" in sys.argv[1:]:
        return
    speak(CLIP_TEXT, HERE / "welcome.wav")
    make_video(VIDEO_TEXT, HERE / "title-card.mp4")
    log.info("wrote welcome.wav and title-card.mp4")


if __name__ == "__main__":
    main()
