"""Signed, expiring links: whoever has the link may read that one message, nobody can make a
link to another message, and an old link stops working.

The token is `<expiry as unix seconds>.<HMAC-SHA256(secret, "<subject>:<expiry>")>`, URL-safe.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime


def sign(secret: str, subject: str, expires_at: datetime) -> str:
    expiry = int(expires_at.timestamp())
    return f"{expiry}.{_mac(secret, subject, expiry)}"


def verify(secret: str, subject: str, token: str, now: datetime) -> bool:
    """False for anything but a valid, unexpired token — including expiries no clock can
    show ("²", 400 digits): the token comes from whoever holds the URL."""
    expiry_text, _, mac = token.partition(".")
    if not expiry_text.isascii() or not expiry_text.isdigit() or len(expiry_text) > 12:
        return False
    if not mac:
        return False
    expiry = int(expiry_text)
    if expiry <= now.timestamp():
        return False
    return hmac.compare_digest(mac.encode(), _mac(secret, subject, expiry).encode())


def _mac(secret: str, subject: str, expiry: int) -> str:
    digest = hmac.new(secret.encode(), f"{subject}:{expiry}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
