"""surveys: the escalation a low score handed the owner to, and an index for the newest low
scores (the console's dashboard)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00

Surveys answered before this revision that handed the owner to staff get their escalation
back from the owner's message it recorded: the summary was written to the escalation in the
same transaction as the answers, at the same moment (`answered_at`), by the owner's account.

SQLite gets the column by a plain ADD COLUMN with its REFERENCES, not by batch mode: batch mode
copies the table and drops the old one, which SQLite refuses inside the migration's transaction
while `foreign_keys` is on and survey answers refer to the surveys.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
UPDATE surveys SET escalation_id = (
    SELECT m.escalation_id
    FROM escalation_messages m
    JOIN escalations e ON e.id = m.escalation_id
    JOIN channel_accounts a ON a.id = e.account_id
    WHERE m.author_kind = 'owner'
      AND m.at = surveys.answered_at
      AND (e.owner_id = surveys.owner_id OR a.owner_id = surveys.owner_id)
    ORDER BY m.id
    LIMIT 1
)
WHERE follow_up = 'escalated' AND answered_at IS NOT NULL
"""


FOREIGN_KEY = "fk_surveys_escalation_id_escalations"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if _sqlite():
        op.execute(
            "ALTER TABLE surveys ADD COLUMN escalation_id INTEGER "
            f"CONSTRAINT {FOREIGN_KEY} REFERENCES escalations (id)"
        )
    else:
        op.add_column("surveys", sa.Column("escalation_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FOREIGN_KEY, "surveys", "escalations", ["escalation_id"], ["id"])
    op.create_index("ix_surveys_low_score_answered", "surveys", ["low_score", "answered_at"])
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_index("ix_surveys_low_score_answered", table_name="surveys")
    if _sqlite():
        op.execute("ALTER TABLE surveys DROP COLUMN escalation_id")
    else:
        op.drop_constraint(FOREIGN_KEY, "surveys", type_="foreignkey")
        op.drop_column("surveys", "escalation_id")
