"""Storage: SQLAlchemy models, repositories, unit of work and Alembic migrations."""
