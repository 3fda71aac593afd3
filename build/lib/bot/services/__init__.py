"""Use cases shared by the chat flows, the staff side and the CLI: each takes a unit of work and
plain values, applies the domain rules, writes, and queues the owner notifications."""
