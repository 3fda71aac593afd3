"""Database failures as the layers above storage see them, without importing SQLAlchemy.

A connection lost or a lock timed out may pass, so the engine retries those and then reports
the database unavailable (the update stays unacknowledged); a constraint or SQL error is a bug
and must surface.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

#: Any error the database driver raised, wrapped by SQLAlchemy.
DatabaseError = DBAPIError


def is_transient(exc: BaseException) -> bool:
    """Connection loss and lock time-outs pass; constraint or SQL errors are bugs to surface."""
    if isinstance(exc, OSError | OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
