"""Console sign-in state: the session cookie, its CSRF token and the page language.

The cookie holds a staff token from `issue_token` (signed with SECRET_KEY, expiring after
TOKEN_VALID_FOR), so the account's role and active flag are read on every request exactly as the
API reads them, and deactivating someone signs them out at once. It is HttpOnly (scripts never
see it), SameSite=Lax and Secure when the public address is https. The CSRF token every form
carries is an HMAC of that cookie: bound to the session, unknowable to another site.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Response

SESSION_COOKIE = "console_session"
LANG_COOKIE = "console_lang"
LANGUAGES = ("zh", "en")
#: The session cookie lives no longer than the token inside it.
SESSION_MAX_AGE = 12 * 3600


def csrf_token(secret: str, session: str) -> str:
    """The form token of this session (empty without one)."""
    if not session:
        return ""
    return hmac.new(secret.encode(), f"console-csrf:{session}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: str, session: str, sent: str) -> bool:
    expected = csrf_token(secret, session)
    return bool(expected) and hmac.compare_digest(expected, sent)


def secure_cookies(public_base_url: str) -> bool:
    return urlsplit(public_base_url).scheme == "https"


def set_session(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_MAX_AGE,
        path="/console",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def end_session(response: Response, secure: bool) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/console", httponly=True, samesite="lax", secure=secure
    )


def language(cookie: str | None) -> str:
    return cookie if cookie in LANGUAGES else LANGUAGES[0]


def safe_next(target: str) -> str:
    """Only a console path may follow a sign-in or a language switch (no open redirect)."""
    if target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console/inbox"
