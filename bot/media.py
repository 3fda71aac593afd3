"""Content-addressed store for photos owners send.

A photo is decoded in full by Pillow (not trusted by its name, the platform's MIME type or a
valid-looking header) and what is stored is our own re-encoded copy: a truncated file or a
polyglot (an image header in front of HTML) is refused, bytes appended after a real image and
metadata such as GPS positions never reach the disk. Copies are stored under MEDIA_DIR by their
SHA-256, so the same photo sent twice is stored once and a path never reveals who sent it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.domain.media import MediaError

log = logging.getLogger(__name__)

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP"})
#: Below Pillow's own decompression-bomb limit (~89 Mpx): a phone photo is 12-50 Mpx.
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 90


class MediaStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def save_image(self, data: bytes) -> str:
        """Validate, re-encode and store; returns the path relative to MEDIA_DIR."""
        if len(data) > self.max_bytes:
            raise MediaError("too_large")
        encoded, extension = reencode(data)
        digest = hashlib.sha256(encoded).hexdigest()
        relative = Path(digest[:2]) / f"{digest}.{extension}"
        try:
            self._write(self.root / relative, encoded)
        except OSError as exc:  # full, read-only or missing disk: not the owner's fault
            log.warning("photo not stored under MEDIA_DIR: %s", type(exc).__name__)
            raise MediaError("unavailable") from None
        return relative.as_posix()

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".part")
        temporary.write_bytes(data)
        temporary.replace(target)

    def path_of(self, relative: str) -> Path:
        return self.root / relative


def reencode(data: bytes) -> tuple[bytes, str]:
    """Our copy of the photo: JPEG stays JPEG, anything else becomes PNG (lossless); turned
    upright by its EXIF orientation, which the copy no longer carries."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in ALLOWED_FORMATS:
                    raise MediaError("not_image")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise MediaError("too_large")
                image.load()  # decodes every byte of the first frame: truncation fails here
                upright = ImageOps.exif_transpose(image)
                return _encode(upright, image.format == "JPEG")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError("too_large") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise MediaError("not_image") from None


def _encode(image: Image.Image, as_jpeg: bool) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if as_jpeg:
        image.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY)
        return buffer.getvalue(), "jpg"
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        image = image.convert("RGBA")
    image.save(buffer, "PNG")
    return buffer.getvalue(), "png"
