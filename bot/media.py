"""Content-addressed store for photos owners send.

A photo is checked to really be an image (decoded by Pillow, not trusted by its name or the
platform's MIME type) and stored under MEDIA_DIR by its SHA-256, so the same photo sent twice is
stored once and a path never reveals who sent it.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from bot.domain.media import MediaError

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}
MAX_PIXELS = 50_000_000


class MediaStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def save_image(self, data: bytes) -> str:
        """Validate and store; returns the path relative to MEDIA_DIR."""
        if len(data) > self.max_bytes:
            raise MediaError("too_large")
        extension = _image_extension(data)
        digest = hashlib.sha256(data).hexdigest()
        relative = Path(digest[:2]) / f"{digest}.{extension}"
        target = self.root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_suffix(".part")
            temporary.write_bytes(data)
            temporary.replace(target)
        return relative.as_posix()

    def path_of(self, relative: str) -> Path:
        return self.root / relative


def _image_extension(data: bytes) -> str:
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise MediaError("too_large")
            image.verify()
            image_format = image.format or ""
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise MediaError("not_image") from None
    if image_format not in ALLOWED_FORMATS:
        raise MediaError("not_image")
    return ALLOWED_FORMATS[image_format]
