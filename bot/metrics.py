"""Prometheus metrics of this process, served at `/metrics`.

Counters and the latency histogram are kept where the work happens (the engine, the Telegram
sender); the outbox and escalation figures are read from the database when scraped, so every
instance reports the same shared backlog.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

UPDATES = Counter(
    "bot_updates_total", "Platform updates handled, by channel and outcome", ["channel", "outcome"]
)
HANDLING_SECONDS = Histogram(
    "bot_update_handling_seconds",
    "Time from taking an update to having its replies, by channel",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
)
THROTTLED = Counter(
    "bot_platform_throttled_total", "Answers 429 (flood control) from a platform", ["channel"]
)
OUTBOX = Gauge(
    "bot_outbox_messages", "Outbox messages by state (due = pending and due now)", ["state"]
)
OUTBOX_LAG = Gauge("bot_outbox_lag_seconds", "How long the oldest due outbox message has waited")
ESCALATIONS = Gauge("bot_escalations", "Escalations to staff by state", ["state"])
