"""Delivery of what the bot starts itself: the outbox worker, ticked by APScheduler in `run`."""
