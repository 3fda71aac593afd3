"""A platform access token as it is shared between processes, and how long one process may
hold the right to refresh it. Both token stores (Redis in the channel, the database row in
storage) keep the same value under the same lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: A refresher that crashed holds the lease at most this long.
LEASE_SECONDS = 15.0


@dataclass(frozen=True)
class StoredToken:
    token: str
    expires_at: datetime
