"""binding attempts: counted per target phone too (an HMAC of it), not only per account

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
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
