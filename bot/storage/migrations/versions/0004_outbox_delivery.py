"""outbox delivery: urgency, lease owner, platform message ids; `failed` becomes `dead`

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("message_ids", JSON, nullable=True))
    op.execute("UPDATE outbox SET status = 'dead' WHERE status = 'failed'")


def downgrade() -> None:
    op.execute("UPDATE outbox SET status = 'failed' WHERE status IN ('dead', 'dropped')")
    op.execute("UPDATE outbox SET status = 'pending' WHERE status = 'retrying'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("message_ids")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("urgent")
