"""The dashboard: what is waiting now, tickets per day, first-answer deadlines met or missed per
day, waiting escalations by time left and the weekly CSAT, drawn as SVG on the server
(charts.py), and the newest low survey scores with what each started (satisfaction.py). It
reads through the same listing use cases as the other pages."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from bot.domain.complaints import EscalationListing, EscalationStatus
from bot.domain.tickets import Ticket
from bot.services import escalations, staff_tickets
from bot.staff.console import satisfaction
from bot.staff.console.charts import Series, bar_chart, line_chart
from bot.staff.console.web import Console, Page
from bot.storage.uow import UnitOfWork

#: Days the per-day charts cover (today included). DEFAULT (not in source).
DAYS = 14
#: Where the waiting chart splits the time left, in hours. DEFAULT (not in source).
WAITING_EDGES_HOURS = (1, 4)
#: The most rows a dashboard reads of each kind.
MAX_ROWS = 5000


@dataclass(frozen=True)
class Figures:
    waiting: int
    overdue: int
    active: int
    open_tickets: int
    late_tickets: int


@dataclass(frozen=True)
class Loaded:
    escalations: list[EscalationListing]
    tickets: list[Ticket]
    weeks: list[satisfaction.WeekCsat]
    low_scores: list[satisfaction.LowScore]


def router(console: Console) -> APIRouter:
    routes = APIRouter(prefix="/console")

    @routes.get("/dashboard")
    async def dashboard(request: Request) -> Response:
        page = await console.page(request)

        now, tz = console.now(), console.services.settings.tz
        satisfied_from = console.services.rules.survey.satisfied_from

        async def load(uow: UnitOfWork) -> Loaded:
            found = await escalations.list_escalations(uow, None, MAX_ROWS)
            return Loaded(
                found,
                await staff_tickets.list_tickets(uow, None, MAX_ROWS),
                await satisfaction.csat_trend(uow, now, tz, satisfied_from),
                await satisfaction.low_scores(uow, console.services.texts, page.lang),
            )

        loaded = await console.read(load)
        shown = charts(page, loaded.escalations, loaded.tickets, now, tz)
        title = page.t("chart_csat", satisfied_from=satisfied_from)
        weeks = loaded.weeks
        csat = line_chart(title, [w.label for w in weeks], [w.csat for w in weeks], "%", 100)
        return page.render(
            "dashboard.html",
            figures=figures(loaded.escalations, loaded.tickets, now),
            charts=[*shown, (title, csat)],
            low_scores=loaded.low_scores,
        )

    return routes


def figures(listed: list[EscalationListing], tickets: list[Ticket], now: datetime) -> Figures:
    items = [item.escalation for item in listed]
    waiting = [e for e in items if e.status is EscalationStatus.WAITING]
    open_tickets = [t for t in tickets if t.is_open]
    return Figures(
        waiting=len(waiting),
        overdue=sum(1 for e in waiting if e.overdue(now)),
        active=sum(1 for e in items if e.status is EscalationStatus.ACTIVE),
        open_tickets=len(open_tickets),
        late_tickets=sum(1 for t in open_tickets if t.resolve_by < now),
    )


def charts(
    page: Page,
    listed: list[EscalationListing],
    tickets: list[Ticket],
    now: datetime,
    tz: ZoneInfo,
) -> list[tuple[str, Markup]]:
    """(title, SVG) of each chart."""
    today = now.astimezone(tz).date()
    days = [today - timedelta(days=k) for k in range(DAYS - 1, -1, -1)]
    labels = [f"{d:%m-%d}" for d in days]
    created = Counter(t.created_at.astimezone(tz).date() for t in tickets)
    met, missed = _deadlines(listed, now, tz)
    per_day = [Series(page.t("chart_new_tickets"), [created[d] for d in days])]
    deadlines = [
        Series(page.t("chart_met"), [met[d] for d in days]),
        Series(page.t("chart_missed"), [missed[d] for d in days]),
    ]
    titles = [page.t(key) for key in ("chart_tickets_per_day", "chart_deadlines", "chart_waiting")]
    return list(
        zip(
            titles,
            [
                bar_chart(titles[0], labels, per_day),
                bar_chart(titles[1], labels, deadlines),
                _waiting_chart(page, listed, now, titles[2]),
            ],
            strict=True,
        )
    )


def _deadlines(
    listed: list[EscalationListing], now: datetime, tz: ZoneInfo
) -> tuple[Counter[date], Counter[date]]:
    """Per day an escalation was due: answered (claimed) in time, or late / still waiting."""
    met: Counter[date] = Counter()
    missed: Counter[date] = Counter()
    for item in listed:
        e = item.escalation
        day = e.due_at.astimezone(tz).date()
        answered = e.claimed_at or (e.closed_at if e.status is EscalationStatus.CLOSED else None)
        if answered is not None and answered <= e.due_at:
            met[day] += 1
        elif answered is not None or e.due_at < now:
            missed[day] += 1
    return met, missed


def _waiting_chart(
    page: Page, listed: list[EscalationListing], now: datetime, title: str
) -> Markup:
    """Waiting escalations by the time left to their deadline."""
    soon, later = WAITING_EDGES_HOURS
    edges = [timedelta(hours=soon), timedelta(hours=later)]
    labels = [
        page.t("chart_overdue"),
        page.t("chart_within", hours=soon),
        page.t("chart_between", low=soon, high=later),
        page.t("chart_later"),
    ]
    counts = [0] * len(labels)
    for item in listed:
        e = item.escalation
        if e.status is EscalationStatus.WAITING:
            left = e.due_at - now
            within = (i for i, edge in enumerate(edges, 1) if left <= edge)
            counts[0 if e.overdue(now) else next(within, len(edges) + 1)] += 1
    return bar_chart(title, labels, [Series(page.t("fig_waiting"), counts)])
