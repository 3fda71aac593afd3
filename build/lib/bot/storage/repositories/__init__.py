"""Repositories: SQL in, domain objects out. Handlers never see SQLAlchemy."""
