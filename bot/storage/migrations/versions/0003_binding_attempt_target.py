"""binding attempts: counted per target phone too (an HMAC of it), not only per account

Revision ID: 0003_binding_target
Revises: 0002_inbox_failure
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_binding_target"
down_revision: str | None = "0002_inbox_failure"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("binding_attempts") as batch:
        batch.add_column(sa.Column("target", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_binding_attempts_target_time", "binding_attempts", ["target", "attempted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_binding_attempts_target_time", table_name="binding_attempts")
    with op.batch_alter_table("binding_attempts") as batch:
        batch.drop_column("target")
