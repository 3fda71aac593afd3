"""Database failures as the layers above storage see them, without importing SQLAlchemy.

A connection lost or a lock timed out may pass, so the engine retries those and then reports
the database unavailable (the update stays unacknowledged); a constraint or SQL error is a bug
and must surface. Every database failure is a `DatabaseError`: a socket error while connecting
is one too (bot.storage.db turns it into the driver's OperationalError), so an OSError that
reaches the layers above came from something else (a file, a socket of another service).
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

#: Any error the database driver raised, wrapped by SQLAlchemy.
DatabaseError = DBAPIError

#: SQLSTATEs of a server going away or not accepting yet, as during a restart: connection
#: exceptions (class 08), and 57P01-57P03 (shut down by the operator or a crash, starting up).
OUTAGE_STATES = ("08", "57P01", "57P02", "57P03")


def is_transient(exc: BaseException) -> bool:
    """Connection loss, a server restarting and lock time-outs pass; constraint or SQL errors
    are bugs to surface, and anything that is not a database error is not ours to retry."""
    if not isinstance(exc, DBAPIError):
        return False
    if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None)
    return isinstance(state, str) and state.startswith(OUTAGE_STATES)
