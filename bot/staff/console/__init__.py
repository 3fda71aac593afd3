"""The staff web console under /console: server-rendered pages on the same use cases as the REST
API (bot/services/), signed session cookies, a CSRF token on every form, Chinese first."""
