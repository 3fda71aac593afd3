"""Telegram through python-telegram-bot: `channel` (the adapter), `intake` (persist-before-ack
polling), `webhook`, `mapping` (updates and replies), `pacing` (rate limits), `sender`
(delivery), `echo` (the bare PTB bot the benchmark compares against)."""
