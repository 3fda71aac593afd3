"""The staff REST API under /api/v1: bearer tokens from `POST /api/v1/auth/token`, every route
scoped by role (no or bad token → 401, too low a role → 403), JSON in and out, malformed input
→ 4xx. Each route parses, calls one use case in bot/services/ inside one transaction, commits,
and shapes the answer; refusals of the rules become 404/409/422 with a `detail` code.

Roles (DEFAULT, docs/staff.md): an agent reads and acts on escalations, tickets and certificate
cases; a supervisor also transfers escalations and grades complaints; an admin also manages
staff accounts.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    File,
    Form,
    HTTPException,
    Path,
    Query,
    Request,
    UploadFile,
    status,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm

from bot.domain.certificates import CertificateError
from bot.domain.complaints import ComplaintError, ComplaintGrade, EscalationError, EscalationStatus
from bot.domain.conversation import StaleConversation
from bot.domain.staff import StaffError, StaffRole, StaffUser
from bot.domain.tickets import IllegalTransition, TicketError, TicketStatus
from bot.engine.context import Services
from bot.engine.ports import MediaError
from bot.services import alerts, certificates, complaints, escalations, staff_tickets
from bot.services.staff import (
    TOKEN_VALID_FOR,
    NewStaff,
    TooManyAttempts,
    authenticate,
    change_role,
    create_staff,
    issue_token,
    staff_for_token,
)
from bot.staff.schemas import (
    MAX_ID,
    AlertOut,
    BulkStageIn,
    CertificateOut,
    ComplaintOut,
    EscalationOut,
    GradeIn,
    MessageOut,
    Refusal,
    RoleIn,
    StaffIn,
    StaffOut,
    StageIn,
    TextIn,
    TicketOut,
    TicketStatusIn,
    Token,
    TransferIn,
)
from bot.storage.uow import UnitOfWork

PREFIX = "/api/v1"
T = TypeVar("T")
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=500)]
#: The refusals any route may answer, documented in /openapi.json with their shape.
REFUSALS: dict[int | str, dict[str, Any]] = {
    code: {"model": Refusal, "description": description}
    for code, description in (
        (400, "The body cannot be parsed (not JSON, broken multipart)"),
        (401, "No valid token"),
        (403, "The role is too low"),
        (404, "No such object"),
        (409, "The object's state does not allow it"),
        (422, "Malformed input, or refused by the rules"),
    )
}
#: Refusal codes of the services → HTTP status; anything not listed is 409 (a state conflict).
NOT_FOUND = frozenset({"not_found"})
BAD_INPUT = frozenset(
    {
        "empty",
        "too_long",
        "unknown_staff",
        "reason_needed",
        "reason_too_long",
        "assignee_needed",
        "note_too_long",
        "unknown_stage",
        "mortgage_stage_without_mortgage",
        "no_cases",
        "bad_username",
        "bad_password",
    }
)


def mount(app: FastAPI, uow_factory: Callable[[], UnitOfWork], services: Services) -> None:
    """Add the API and turn the services' refusals into HTTP answers."""
    app.include_router(router(uow_factory, services))
    for error in (EscalationError, TicketError, ComplaintError, CertificateError, StaffError):
        app.add_exception_handler(error, _refusal)
    app.add_exception_handler(StaleConversation, _conflict)
    app.add_exception_handler(MediaError, _bad_photo)
    app.add_exception_handler(RequestValidationError, _invalid)


async def _refusal(request: Request, exc: Exception) -> JSONResponse:
    reason = str(getattr(exc, "reason", "refused"))
    if isinstance(exc, IllegalTransition):
        return JSONResponse({"detail": reason, "message": str(exc)}, status.HTTP_409_CONFLICT)
    code = (
        status.HTTP_404_NOT_FOUND
        if reason in NOT_FOUND
        else status.HTTP_422_UNPROCESSABLE_CONTENT
        if reason in BAD_INPUT
        else status.HTTP_409_CONFLICT
    )
    return JSONResponse({"detail": reason, "message": str(exc)}, code)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 echoes the input back, and a NaN or Infinity in it (which Python's JSON
    reader accepts) made that answer itself fail with a 500: say where and what, not the value."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in errors
    ]
    return JSONResponse({"detail": detail}, status.HTTP_422_UNPROCESSABLE_CONTENT)


def _printable(form_text: str) -> str:
    """Form fields skip the JSON models' validators: NUL, which PostgreSQL cannot store, goes."""
    return form_text.replace("\x00", "")


async def _bad_photo(request: Request, exc: Exception) -> JSONResponse:
    """Not an image, too large: the upload is refused and nothing is stored."""
    reason = f"photo_{getattr(exc, 'reason', 'unavailable')}"
    return JSONResponse({"detail": reason}, status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    """The owner's own message changed their chat at the same moment: ask to try again."""
    return JSONResponse({"detail": "changed_meanwhile"}, status.HTTP_409_CONFLICT)


def router(uow_factory: Callable[[], UnitOfWork], services: Services) -> APIRouter:
    api = APIRouter(prefix=PREFIX, responses=REFUSALS)
    bearer = OAuth2PasswordBearer(tokenUrl=f"{PREFIX}/auth/token", auto_error=False)
    secret = services.settings.secret_key
    clock, texts, rules, tz = services.clock, services.texts, services.rules, services.settings.tz
    survey_delay = services.settings.survey_delay

    async def signed_in(token: Annotated[str | None, Depends(bearer)]) -> StaffUser:
        user = None
        if token:
            async with uow_factory() as uow:
                user = await staff_for_token(uow, secret, token, clock())
        if user is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "not_authenticated",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return user

    def role(needed: StaffRole) -> Callable[[StaffUser], Awaitable[StaffUser]]:
        async def check(user: Annotated[StaffUser, Depends(signed_in)]) -> StaffUser:
            if not user.role.allows(needed):
                raise HTTPException(status.HTTP_403_FORBIDDEN, f"needs_role_{needed.value}")
            return user

        return check

    Agent = Annotated[StaffUser, Depends(role(StaffRole.AGENT))]
    Supervisor = Annotated[StaffUser, Depends(role(StaffRole.SUPERVISOR))]
    Admin = Annotated[StaffUser, Depends(role(StaffRole.ADMIN))]

    async def write(work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        async with uow_factory() as uow:
            result = await work(uow)
            await uow.commit()
            return result

    async def escalation_out(uow: UnitOfWork, escalation_id: int) -> EscalationOut:
        detail = await escalations.escalation_detail(uow, escalation_id)
        if detail is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "not_found")
        return EscalationOut.of(detail.listing, detail.messages, clock())

    async def stored_photo(upload: UploadFile) -> str:
        """Check and store an uploaded photo (read no further than the size limit)."""
        data = await upload.read(services.media.max_bytes + 1)
        return services.media.save_image(data)

    async def act_on(
        escalation_id: int, action: Callable[[UnitOfWork], Awaitable[object]]
    ) -> EscalationOut:
        """Run a staff action in its transaction, then show the escalation as it is now."""
        async with uow_factory() as uow:
            await action(uow)
            await uow.commit()
            return await escalation_out(uow, escalation_id)

    # --- sign-in --------------------------------------------------------------------------

    @api.post(
        "/auth/token",
        response_model=Token,
        tags=["auth"],
        responses={429: {"model": Refusal, "description": "Too many failed sign-ins"}},
    )
    async def token(
        request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]
    ) -> Token | JSONResponse:
        """OAuth2 password grant: `username` and `password` as a form."""
        address = request.client.host if request.client else "-"
        try:
            async with uow_factory() as uow:
                user = await authenticate(uow, form.username, form.password, address, clock())
                await uow.commit()
        except TooManyAttempts as exc:
            retry = str(int(exc.retry_after.total_seconds()))
            return JSONResponse(
                {"detail": "too_many_attempts"}, 429, headers={"Retry-After": retry}
            )
        if user is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "bad_credentials",
                headers={"WWW-Authenticate": "Bearer"},
            )
        expires = int(TOKEN_VALID_FOR.total_seconds())
        return Token(access_token=issue_token(secret, user, clock()), expires_in=expires)

    @api.get("/me", response_model=StaffOut, tags=["auth"])
    async def me(user: Agent) -> StaffOut:
        return StaffOut.of(user)

    # --- escalations ----------------------------------------------------------------------

    @api.get("/escalations", response_model=list[EscalationOut], tags=["escalations"])
    async def list_escalations(
        user: Agent, status: EscalationStatus | None = None, limit: Limit = 200
    ) -> list[EscalationOut]:
        """Soonest deadline first, each with its conversation."""
        async with uow_factory() as uow:
            found = await escalations.list_escalations(uow, status, limit)
            return [
                EscalationOut.of(item, await escalations.conversation(uow, item), clock())
                for item in found
            ]

    @api.get("/escalations/{escalation_id}", response_model=EscalationOut, tags=["escalations"])
    async def get_escalation(user: Agent, escalation_id: Id) -> EscalationOut:
        async with uow_factory() as uow:
            return await escalation_out(uow, escalation_id)

    @api.post(
        "/escalations/{escalation_id}/claim", response_model=EscalationOut, tags=["escalations"]
    )
    async def claim(user: Agent, escalation_id: Id) -> EscalationOut:
        """Take it: the owner is told who answers, and the bot stops answering them."""
        return await act_on(
            escalation_id, lambda uow: escalations.claim(uow, texts, escalation_id, user, clock())
        )

    @api.post(
        "/escalations/{escalation_id}/messages",
        response_model=MessageOut,
        status_code=201,
        tags=["escalations"],
    )
    async def send_message(user: Agent, escalation_id: Id, body: TextIn) -> MessageOut:
        """Relayed to the owner in their channel (claims a waiting escalation first)."""

        async def work(uow: UnitOfWork) -> MessageOut:
            sent = await escalations.reply(uow, texts, escalation_id, user, body.text, clock())
            return MessageOut.of(sent)

        return await write(work)

    @api.post(
        "/escalations/{escalation_id}/photos",
        response_model=MessageOut,
        status_code=201,
        tags=["escalations"],
    )
    async def send_photo(
        user: Agent,
        escalation_id: Id,
        photo: Annotated[UploadFile, File()],
        text: Annotated[str, Form(max_length=2000)] = "",
    ) -> MessageOut:
        """A photo (with an optional caption) relayed to the owner like a message."""
        path = await stored_photo(photo)

        async def work(uow: UnitOfWork) -> MessageOut:
            sent = await escalations.reply(
                uow, texts, escalation_id, user, _printable(text), clock(), path
            )
            return MessageOut.of(sent)

        return await write(work)

    @api.post(
        "/escalations/{escalation_id}/notes",
        response_model=MessageOut,
        status_code=201,
        tags=["escalations"],
    )
    async def add_note(user: Agent, escalation_id: Id, body: TextIn) -> MessageOut:
        """For colleagues only; never shown to the owner."""

        async def work(uow: UnitOfWork) -> MessageOut:
            note = await escalations.add_note(uow, escalation_id, user, body.text, clock())
            return MessageOut.of(note)

        return await write(work)

    @api.post(
        "/escalations/{escalation_id}/transfer", response_model=EscalationOut, tags=["escalations"]
    )
    async def transfer(user: Supervisor, escalation_id: Id, body: TransferIn) -> EscalationOut:
        return await act_on(
            escalation_id,
            lambda uow: escalations.transfer(uow, texts, escalation_id, user, body.to, clock()),
        )

    @api.post(
        "/escalations/{escalation_id}/close", response_model=EscalationOut, tags=["escalations"]
    )
    async def close(user: Agent, escalation_id: Id) -> EscalationOut:
        """The owner is told and asked how it went; the bot answers them again."""
        return await act_on(
            escalation_id, lambda uow: escalations.close(uow, texts, escalation_id, user, clock())
        )

    # --- tickets --------------------------------------------------------------------------

    @api.get("/tickets", response_model=list[TicketOut], tags=["tickets"])
    async def list_tickets(
        user: Agent, status: TicketStatus | None = None, limit: Limit = 200
    ) -> list[TicketOut]:
        async with uow_factory() as uow:
            return [TicketOut.of(t) for t in await staff_tickets.list_tickets(uow, status, limit)]

    @api.get("/tickets/{ticket_id}", response_model=TicketOut, tags=["tickets"])
    async def get_ticket(user: Agent, ticket_id: Id) -> TicketOut:
        async with uow_factory() as uow:
            detail = await staff_tickets.ticket_detail(uow, ticket_id)
        if detail is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "not_found")
        return TicketOut.of(detail.ticket, detail.events)

    @api.post("/tickets/{ticket_id}/status", response_model=TicketOut, tags=["tickets"])
    async def move_ticket(user: Agent, ticket_id: Id, body: TicketStatusIn) -> TicketOut:
        """Accept, reject (note = reason), dispatch (assignee, appointment_at), start
        (in_progress), complete, close …; the owner is told each step."""
        move = staff_tickets.TicketMove(body.status, body.note, body.assignee, body.appointment_at)

        async def work(uow: UnitOfWork) -> TicketOut:
            await staff_tickets.move_ticket(
                uow, texts, ticket_id, move, user, clock(), tz, survey_delay=survey_delay
            )
            detail = await staff_tickets.ticket_detail(uow, ticket_id)
            assert detail is not None
            return TicketOut.of(detail.ticket, detail.events)

        return await write(work)

    @api.post("/tickets/{ticket_id}/photos", response_model=TicketOut, tags=["tickets"])
    async def ticket_photos(
        user: Agent,
        ticket_id: Id,
        photos: Annotated[list[UploadFile], File()],
        note: Annotated[str, Form(max_length=1000)] = "",
    ) -> TicketOut:
        """Photos (after the repair, say) and a note added to the ticket's timeline."""
        if not 1 <= len(photos) <= 9:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "one_to_nine_photos")
        paths = tuple([await stored_photo(photo) for photo in photos])

        async def work(uow: UnitOfWork) -> TicketOut:
            await staff_tickets.add_photos(uow, ticket_id, user, clock(), _printable(note), paths)
            shown = await staff_tickets.ticket_detail(uow, ticket_id)
            assert shown is not None
            return TicketOut.of(shown.ticket, shown.events)

        return await write(work)

    # --- alerts ---------------------------------------------------------------------------

    @api.get("/alerts", response_model=list[AlertOut], tags=["escalations"])
    async def list_alerts(user: Agent, limit: Limit = 200) -> list[AlertOut]:
        """The deadline watcher's alerts, newest first."""
        async with uow_factory() as uow:
            return [AlertOut.of(alert) for alert in await alerts.list_alerts(uow, limit)]

    # --- complaints -----------------------------------------------------------------------

    @api.get("/complaints", response_model=list[ComplaintOut], tags=["complaints"])
    async def list_complaints(
        user: Agent, grade: ComplaintGrade | None = None, limit: Limit = 200
    ) -> list[ComplaintOut]:
        async with uow_factory() as uow:
            found = await complaints.list_complaints(uow, grade, limit)
        return [ComplaintOut.of(item) for item in found]

    @api.post("/complaints/{complaint_id}/grade", response_model=ComplaintOut, tags=["complaints"])
    async def grade(user: Supervisor, complaint_id: Id, body: GradeIn) -> ComplaintOut:
        """Only with a reason; audited with the old and new grade."""

        async def work(uow: UnitOfWork) -> ComplaintOut:
            await complaints.set_complaint_grade(
                uow, rules, complaint_id, body.grade, body.reason, user, clock(), tz
            )
            [listing] = await complaints.list_complaints(uow, complaint_id=complaint_id)
            return ComplaintOut.of(listing)

        return await write(work)

    # --- certificate cases ----------------------------------------------------------------

    @api.get("/certificates", response_model=list[CertificateOut], tags=["certificates"])
    async def list_certificates(
        user: Agent,
        stage: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z0-9_]+$")] = None,
        limit: Limit = 500,
    ) -> list[CertificateOut]:
        async with uow_factory() as uow:
            found = await certificates.list_cases(uow, stage, limit)
        return [CertificateOut.of(case, home) for case, home in found]

    @api.post("/certificates/stage", response_model=list[CertificateOut], tags=["certificates"])
    async def bulk_stage(user: Agent, body: BulkStageIn) -> list[CertificateOut]:
        """Several cases to one stage, all or none; each owner is told."""
        return await stage_cases(user, body.ids, body)

    @api.post("/certificates/{case_id}/stage", response_model=CertificateOut, tags=["certificates"])
    async def stage(user: Agent, case_id: Id, body: StageIn) -> CertificateOut:
        """The owners of the unit are told the new stage."""
        [changed] = await stage_cases(user, [case_id], body)
        return changed

    async def stage_cases(user: StaffUser, ids: list[int], body: StageIn) -> list[CertificateOut]:
        change = certificates.StageChange(body.stage, body.stage_date, body.note)

        async def work(uow: UnitOfWork) -> list[CertificateOut]:
            cases = await certificates.change_stages(
                uow, texts, rules.certificate, ids, change, user, clock(), tz
            )
            return [CertificateOut.of(case, home) for case, home in cases]

        return await write(work)

    # --- staff accounts -------------------------------------------------------------------

    @api.get("/staff", response_model=list[StaffOut], tags=["staff"])
    async def list_staff(user: Admin) -> list[StaffOut]:
        async with uow_factory() as uow:
            return [StaffOut.of(u) for u in await uow.staff.list()]

    @api.post("/staff", response_model=StaffOut, status_code=201, tags=["staff"])
    async def add_staff(user: Admin, body: StaffIn) -> StaffOut:
        new = NewStaff(
            body.username, body.password, body.role, body.display_name, body.telegram_user_id
        )

        async def work(uow: UnitOfWork) -> StaffOut:
            return StaffOut.of(await create_staff(uow, new, user.actor, clock()))

        return await write(work)

    @api.post("/staff/{username}/role", response_model=StaffOut, tags=["staff"])
    async def set_role(
        user: Admin,
        username: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")],
        body: RoleIn,
    ) -> StaffOut:
        async def work(uow: UnitOfWork) -> StaffOut:
            return StaffOut.of(await change_role(uow, username, body.role, user.actor, clock()))

        return await write(work)

    return api
