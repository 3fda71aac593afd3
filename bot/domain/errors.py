"""Errors the pure rules raise; the loaders and the composition root say where they came from."""


class ConfigError(Exception):
    """A company rule that cannot be given meaning: start-up stops with it."""
