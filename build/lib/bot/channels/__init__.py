"""Channel adapters: the only place that speaks Telegram or WeChat."""
