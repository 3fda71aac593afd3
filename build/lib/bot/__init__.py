"""Owner self-service bot: one core, many channels (see docs/architecture.md)."""
