"""Fakes of the platforms that tests and benchmarks share: a Telegram Bot API, the WeChat API
and a WeChat server posting callbacks, each speaking the real HTTP protocol on loopback."""
