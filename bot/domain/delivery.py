"""When a message the bot sends may go out: quiet hours and which purposes never wait.

Owners are not woken by a survey or a campaign at night (domain.md §5 asks for revisits, not
for 23:00 pings), but an answer to what they just wrote, a staff reply and an emergency are
what they are waiting for: those go out at once. Pure rules; the worker applies them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

#: The purpose of an answer to the owner's own message (the engine queues it).
REPLY = "reply"
#: Replies to the owner's own message, staff replies and emergencies never wait.
#: A staff member answering a hand-off (bot.services.escalations PURPOSE) is a reply too.
URGENT_PURPOSES = frozenset({REPLY, "escalation_reply", "emergency"})
_WINDOW = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")


class QuietHoursError(ValueError):
    """QUIET_HOURS is not of the form HH:MM-HH:MM."""


@dataclass(frozen=True)
class QuietHours:
    """A daily window in the company's time zone; it may cross midnight (21:00-08:00)."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def parse_quiet_hours(value: str) -> QuietHours | None:
    """`21:00-08:00` → QuietHours; an empty value means no quiet hours."""
    text = value.strip()
    if not text:
        return None
    match = _WINDOW.fullmatch(text.replace(" ", ""))
    if match is None:
        raise QuietHoursError(f"expected HH:MM-HH:MM or nothing, not {value!r}")
    hour1, minute1, hour2, minute2 = (int(part) for part in match.groups())
    try:
        quiet = QuietHours(time(hour1, minute1), time(hour2, minute2))
    except ValueError as exc:
        raise QuietHoursError(f"{value!r}: {exc}") from None
    if quiet.start == quiet.end:
        raise QuietHoursError(f"{value!r}: start and end are the same")
    return quiet


def is_urgent(purpose: str) -> bool:
    return purpose in URGENT_PURPOSES


def quiet_until(now: datetime, quiet: QuietHours | None, tz: tzinfo) -> datetime | None:
    """The end of the quiet hours `now` falls in (an aware datetime), or None when it is not
    quiet; non-urgent messages due before then wait until it."""
    if quiet is None:
        return None
    local = now.astimezone(tz)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return None
    end = datetime.combine(local.date(), quiet.end, tzinfo=tz)
    if end <= local:
        end += timedelta(days=1)
    return end
