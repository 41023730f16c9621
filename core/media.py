"""Media validation: decide from the bytes themselves what a file is, and refuse what is not usable.

Images are opened, verified and fully decoded with Pillow; audio and video are probed and a few packets
decoded with PyAV. Every refusal raises `MediaRejected` with a reason a person can act on.
"""
from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from PIL import Image

from core.errors import MediaRejected

log = logging.getLogger(__name__)

IMAGE_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
AUDIO_CONTAINERS = {"wav": "wav", "mp3": "mp3", "flac": "flac", "ogg": "ogg", "mov,mp4,m4a,3gp,3g2,mj2": "m4a"}
VIDEO_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "webm", "matroska": "mkv"}
_COVER_ART_CODECS = {"mjpeg", "png", "bmp", "gif"}


@dataclass(frozen=True)
class MediaInfo:
    kind: str  # image | audio | video
    format: str
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    codecs: tuple[str, ...] = ()


MAX_NAME_CHARS = 200
_MAX_SUFFIX_CHARS = 16  # a longer ".xxx" is no extension worth keeping
# Bidirectional controls reorder what follows them: "\u202egnp.exe" displays as "exe.png". Zero-width joiners
# (U+200C, U+200D) are kept: emoji sequences and several scripts need them.
_KEPT_FORMAT_CHARS = {"\u200c", "\u200d"}


def safe_file_name(name: str) -> str:
    """Reduce any uploaded name to a safe base name that displays as what it is.

    Paths (`../../x.png`, `C:\\x\\y.jpg`) become their base name, control characters become `_`, invisible
    format characters (bidi overrides and isolates, zero-width spaces, BOMs) are dropped, and a name over
    MAX_NAME_CHARS is shortened in its stem so the extension survives.
    """
    base = PureWindowsPath(PurePosixPath(str(name)).name).name
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c) != "Cf" or c in _KEPT_FORMAT_CHARS)
    base = re.sub(r"[\x00-\x1f\x7f\u2028\u2029/\\:*?\"<>|]", "_", base).strip().lstrip(".").strip()
    return shorten_file_name(base) or "unnamed"


def shorten_file_name(name: str, max_chars: int = MAX_NAME_CHARS) -> str:
    """name cut to max_chars in its stem, keeping its extension (`aaaa….jpg` stays a `.jpg`)."""
    if len(name) <= max_chars:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix) + 1 > _MAX_SUFFIX_CHARS:
        return name[:max_chars].rstrip()
    return stem[:max_chars - len(suffix) - 1].rstrip() + "." + suffix


def sha256_file(path: Path, chunk_bytes: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def probe(path: Path, *, max_bytes: int, max_pixels: int, max_duration_s: float | None = None) -> MediaInfo:
    """What the file at path really is. Raises MediaRejected naming why it can't be used."""
    size = Path(path).stat().st_size
    if size == 0:
        raise MediaRejected("The file is empty (0 bytes).")
    if size > max_bytes:
        raise MediaRejected(
            f"The file is {size / 1048576:.1f} MB, over the {max_bytes / 1048576:.0f} MB limit "
            "(LOUPE_MAX_UPLOAD_BYTES)."
        )
    with open(path, "rb") as fh:
        head = fh.read(64)
    if _looks_like_image(head):
        return _probe_image(path, max_pixels)
    info = _probe_av(path)
    if max_duration_s is not None and (info.duration_s or 0) > max_duration_s:
        raise MediaRejected(f"The {info.kind} is {_hours(info.duration_s or 0)} long, over the "
                            f"{_hours(max_duration_s)} limit (LOUPE_MAX_MEDIA_DURATION_S); cut it into shorter parts.")
    return info


def _hours(seconds: float) -> str:
    hours, rest = divmod(int(round(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _looks_like_image(head: bytes) -> bool:
    return (
        head.startswith(b"\xff\xd8\xff")
        or head.startswith(b"\x89PNG\r\n\x1a\n")
        or head[:6] in (b"GIF87a", b"GIF89a")
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
    )


def _probe_image(path: Path, max_pixels: int) -> MediaInfo:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                fmt = img.format or ""
                width, height = img.size
                if width * height > max_pixels:
                    raise MediaRejected(
                        f"The image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), over the "
                        f"{max_pixels / 1e6:.0f} megapixel limit; it could be a decompression bomb "
                        "(LOUPE_MAX_IMAGE_PIXELS)."
                    )
                img.verify()
            with Image.open(path) as img:
                img.seek(0)  # first frame of an animated GIF or WebP
                img.load()
    except MediaRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaRejected(f"The image is too large to decode safely (decompression bomb): {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's words may name the server's path: logged only
        log.info("image %s not decoded: %s", Path(path).name, exc)
        raise MediaRejected("The image is damaged or truncated and can't be decoded.") from None
    if fmt not in IMAGE_FORMATS:
        raise MediaRejected(f"{fmt or 'This'} images are not supported; use JPEG, PNG, WebP or GIF.")
    return MediaInfo("image", IMAGE_FORMATS[fmt], width, height)


def _probe_av(path: Path) -> MediaInfo:
    import av  # imported here: PyAV is heavy, and images never need it

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            container_name = container.format.name
            if image_format := _still_image_format(container_name, container.streams):
                raise MediaRejected(f"{image_format} images are not supported; use JPEG, PNG, WebP or GIF.")
            video = [s for s in container.streams.video if (s.codec_context.name or "") not in _COVER_ART_CODECS]
            audio = list(container.streams.audio)
            if not video and not audio:
                raise MediaRejected("The file has no audio or video streams.")
            codecs = tuple(s.codec_context.name for s in (*video, *audio))
            duration_s = _duration_s(container)
            width = video[0].codec_context.width if video else None
            height = video[0].codec_context.height if video else None
            _decode_some(container, video[0] if video else audio[0])
    except MediaRejected:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, IndexError) as exc:
        log.info("%s matches no supported format: %s", Path(path).name, exc)
        raise MediaRejected("This is not a readable image, audio or video file: its content matches none of the "
                            "supported formats.") from None
    if video:
        if container_name not in VIDEO_CONTAINERS:
            raise MediaRejected(f"Video in the {container_name!r} container is not supported; "
                                "use MP4, MOV, WebM or MKV.")
        fmt = VIDEO_CONTAINERS[container_name]
        if fmt == "webm" and not any(c in ("vp8", "vp9", "av1") for c in codecs):
            fmt = "mkv"
        return MediaInfo("video", fmt, width, height, duration_s, codecs)
    if container_name not in AUDIO_CONTAINERS:
        raise MediaRejected(f"Audio in the {container_name!r} container is not supported; "
                            "use WAV, MP3, FLAC, M4A or OGG.")
    if not duration_s:
        raise MediaRejected("The audio has no duration; it may be truncated.")
    return MediaInfo("audio", AUDIO_CONTAINERS[container_name], None, None, duration_s, codecs)


def _still_image_format(container_name: str, streams) -> str:
    """The image format FFmpeg found ("XPM", "BMP"), when it read the file as a still image; "" for audio or video.

    FFmpeg reads still images with its `<format>_pipe` demuxers, `image2` (named by the codec) and `ico`.
    """
    if container_name.endswith("_pipe"):
        return container_name.removesuffix("_pipe").upper()
    if container_name == "image2":
        codecs = [s.codec_context.name for s in streams if s.codec_context.name]
        return (codecs[0] if codecs else "These").upper()
    return "ICO" if container_name == "ico" else ""


def _duration_s(container) -> float | None:
    if container.duration:
        return round(container.duration / 1_000_000, 3)
    durations = [float(s.duration * s.time_base) for s in container.streams if s.duration and s.time_base]
    return round(max(durations), 3) if durations else None


def _decode_some(container, stream, frames: int = 3) -> None:
    """Decode a few frames so a file with a valid header but garbage content is refused."""
    import av

    decoded = 0
    try:
        for _frame in container.decode(stream):
            decoded += 1
            if decoded >= frames:
                return
    except av.error.FFmpegError as exc:
        if decoded == 0:
            log.info("no frame of %s decoded: %s", container.name, exc)
            raise MediaRejected("The media is damaged and could not be decoded.") from None
    if decoded == 0:
        raise MediaRejected("The media has no decodable frames; it may be truncated.")
