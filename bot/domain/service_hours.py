"""When staff are at work (company.hotline_hours, e.g. "08:00-18:00" every day).

Promises to owners count from the next service hour: a report at 04:04 cannot be answered by
a person before the hotline opens (domain §4: hotline hours "如每天 8:00 18:00", 000).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta


@dataclass(frozen=True)
class ServiceHours:
    opens: time
    closes: time

    @classmethod
    def parse(cls, text: str) -> ServiceHours:
        """ "08:00-18:00" as written in rules.yaml company.hotline_hours."""
        opens, _, closes = text.replace("—", "-").partition("-")
        return cls(_clock(opens), _clock(closes))

    def is_open_at(self, local: datetime) -> bool:
        return self.opens <= local.time() < self.closes

    def next_open(self, local: datetime) -> datetime:
        """`local` itself when staff are at work, else the next opening time."""
        if self.is_open_at(local):
            return local
        day = local.date() if local.time() < self.opens else local.date() + timedelta(days=1)
        return datetime.combine(day, self.opens, tzinfo=local.tzinfo)

    def add_open_time(self, local: datetime, duration: timedelta) -> datetime:
        """`duration` of service time after `local`: 2 hours asked for at 17:00 end at 09:00
        the next day, not at 19:00 when nobody is at work."""
        moment, remaining = self.next_open(local), duration
        while True:
            closing = datetime.combine(moment.date(), self.closes, tzinfo=moment.tzinfo)
            if moment + remaining <= closing:
                return moment + remaining
            remaining -= closing - moment
            moment = self.next_open(closing)


def _clock(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    return time(int(hours), int(minutes or 0))
