"""Photos are decoded in full before they are stored, and what is stored is our own re-encoded
copy: a file that only looks like an image (a PNG header in front of HTML), a truncated image
or a decompression bomb is refused, and bytes appended to a real image never reach the disk."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bot.engine.ports import MediaError
from bot.media import MediaStore

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HTML = b"<html><script>alert(document.cookie)</script></html>"


def _png(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((256, 192), 60).convert("RGB").save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media", 5_000_000)


def _stored_files(store: MediaStore) -> list[Path]:
    return [p for p in store.root.rglob("*") if p.is_file()] if store.root.exists() else []


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(PNG_SIGNATURE + HTML, id="png-header-then-html"),
        pytest.param(_png()[:40], id="header-only"),
        pytest.param(_png()[:-30], id="truncated"),
        pytest.param(_jpeg()[: len(_jpeg()) // 2], id="jpeg-cut-in-half"),
    ],
)
def test_what_does_not_decode_in_full_is_refused(store: MediaStore, data: bytes) -> None:
    with pytest.raises(MediaError) as refused:
        store.save_image(data)
    assert refused.value.reason == "not_image"
    assert _stored_files(store) == []


def test_bytes_appended_to_a_real_image_are_not_stored(store: MediaStore) -> None:
    relative = store.save_image(_png() + HTML)
    stored = store.path_of(relative).read_bytes()
    assert HTML not in stored
    with Image.open(io.BytesIO(stored)) as image:
        image.load()
        assert image.size == (64, 48)


def test_a_jpeg_is_stored_as_a_decodable_jpeg(store: MediaStore) -> None:
    relative = store.save_image(_jpeg())
    assert relative.endswith(".jpg")
    with Image.open(store.path_of(relative)) as image:
        image.load()
        assert (image.format, image.size) == ("JPEG", (256, 192))


def test_a_decompression_bomb_is_refused_before_decoding(store: MediaStore) -> None:
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG")  # 100 Mpx in a few kB
    with pytest.raises(MediaError) as refused:
        store.save_image(buffer.getvalue())
    assert refused.value.reason == "too_large"
