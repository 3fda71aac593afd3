"""Queue a push to owners, each account in its own language.

Flows, staff actions and CLI imports all push through here, so a status or stage name is
rendered in each receiving account's language, not the sender's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.domain.roster import Account
from bot.engine.types import Button, Reply
from bot.i18n import Texts
from bot.storage.uow import UnitOfWork


async def notify_owners(
    uow: UnitOfWork,
    texts: Texts,
    owner_ids: Iterable[int],
    key: str,
    *,
    purpose: str,
    idempotency_key: str,
    now: datetime,
    values: Mapping[str, Any] | None = None,
    localized: Mapping[str, str] | None = None,
    buttons: Sequence[tuple[str, str]] = (),
    link: str | None = None,
) -> int:
    """`localized` maps a placeholder to a text key ({"status": "tickets.status_completed"}),
    rendered with `values` too;
    `buttons` are (label text key, button data); `link` is the page the message is about
    (`Reply.link`). Returns how many outbox rows were queued."""
    queued = 0
    for owner_id in owner_ids:
        for account in await uow.accounts.active_accounts_of_owner(owner_id):
            queued += await notify_account(
                uow,
                texts,
                account,
                key,
                purpose=purpose,
                idempotency_key=idempotency_key,
                now=now,
                values=values,
                localized=localized,
                buttons=buttons,
                link=link,
            )
    return queued


async def notify_account(
    uow: UnitOfWork,
    texts: Texts,
    account: Account,
    key: str,
    *,
    purpose: str,
    idempotency_key: str,
    now: datetime,
    values: Mapping[str, Any] | None = None,
    localized: Mapping[str, str] | None = None,
    buttons: Sequence[tuple[str, str]] = (),
    photo_path: str | None = None,
    link: str | None = None,
) -> int:
    """One chat, not every chat of the owner: a hand-off is a conversation with the account
    that asked (which may not even be bound). Returns 1 when queued, 0 for a repeat."""
    lang = account.language
    rendered = {
        name: texts.get(text_key, lang, **(values or {}))
        for name, text_key in (localized or {}).items()
    }
    text = texts.get(key, lang, **{**(values or {}), **rendered})
    row = tuple(Button(texts.get(label, lang), data) for label, data in buttons)
    reply = Reply(text, buttons=(row,) if row else (), photo_path=photo_path, link=link)
    return int(
        await uow.outbox.add(
            account_id=account.id,
            purpose=purpose,
            idempotency_key=f"{idempotency_key}:{account.id}",
            replies=[reply.to_dict()],
            due_at=now,
            now=now,
        )
    )
