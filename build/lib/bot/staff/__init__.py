"""Staff side (web console, REST API, Telegram staff group): the next issue builds it on the
escalation, complaint and ticket rows and the services in `bot/services/`."""
