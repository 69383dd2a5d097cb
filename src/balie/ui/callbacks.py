"""The call-back queue (/callbacks): every open call-back by due time, broken promises marked,
a `tel:` link to dial, one form per call-back to record how the try went, and a form to add
one (from a conversation: the customer's number filled in). The same service as the API
(`callbacks.service`) does the work; a refusal comes back on the page, nothing stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from sqlalchemy.orm import Session

from balie import clock
from balie.callbacks import service
from balie.callbacks.models import Callback, CallbackAttempt
from balie.conversations import service as conversation_service
from balie.customers import service as customer_service
from balie.errors import BalieError, Invalid, NotFound
from balie.inputs import parse_id
from balie.shops.models import Shop
from balie.ui import i18n, pages
from balie.ui.auth import Agent, CheckedAgent, Signed
from balie.ui.inbox import chrome
from balie.ui.listing import ListQuery
from balie.ui.routing import N_, UiRoute
from balie.web.deps import DB, Ctx

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/callbacks"
FORM_FIELDS = ("phone", "name", "topic", "when", "start", "end", "conversation_id")

STATUS_LABELS = {"open": N_("To call"), "reached": N_("Reached"), "wrong_number": N_("Wrong number"),
                 "gave_up": N_("Gave up"), "cancelled": N_("Cancelled")}
OUTCOME_LABELS = {"reached": N_("Reached"), "no_answer": N_("No answer"), "wrong_number": N_("Wrong number")}
SOURCE_LABELS = {"widget": N_("from the chat widget"), "api": N_("through the API"), "agent": N_("by an agent")}
NOTICES = {"created": N_("Call-back added."), "exists": N_("This number already has an open call-back."),
           "recorded": N_("Outcome saved.")}
# Service error codes → the field they are about and what the agent reads there.
FIELD_OF_CODE = {"invalid_phone": "phone", "invalid_name": "name", "invalid_topic": "topic",
                 "invalid_window": "when", "window_outside_hours": "when", "not_found": "form"}
MESSAGES = {
    "invalid_phone": N_("Enter a phone number that exists, such as 06 12345678 or +32 470 12 34 56."),
    "invalid_name": N_("The name is at most 200 characters, on one line."),
    "invalid_topic": N_("The topic is at most 2000 characters."),
    "invalid_text": N_("One line, without line breaks or control characters."),
    "invalid_window": N_("Pick a start and an end in the future, the end after the start."),
    "window_outside_hours": N_("The shop does not call back in that window. Pick a time within the call-back hours."),
    "callback_closed": N_("This call-back is already closed."),
    "invalid_note": N_("The note is at most 2000 characters."),
}


@dataclass(frozen=True)
class CallbackForm:
    phone: str = ""
    name: str = ""
    topic: str = ""
    when: str = "asap"  # or "window"
    start: str = ""  # datetime-local, shop time
    end: str = ""
    conversation_id: str = ""


async def submitted(request: Request) -> CallbackForm:
    form = await request.form()
    values = {name: value if isinstance(value := form.get(name), str) else "" for name in FORM_FIELDS}
    return CallbackForm(**values)


Submitted = Annotated[CallbackForm, Depends(submitted)]


def _local(value: str, what: str) -> dt.datetime:
    try:
        parsed = dt.datetime.strptime(value.strip(), "%Y-%m-%dT%H:%M")  # noqa: DTZ007 (shop time, made aware below)
    except ValueError:
        raise Invalid(f"{what} is not a date and time", code="invalid_window") from None
    return parsed.replace(tzinfo=i18n.SHOP_ZONE)


def _request(form: CallbackForm) -> service.Request:
    window = None
    if form.when == "window":
        window = (_local(form.start, "start"), _local(form.end, "end"))
    conversation_id = None
    if form.conversation_id.strip():
        conversation_id = parse_id(form.conversation_id)
        if conversation_id is None:
            raise NotFound("no such conversation")
    return service.Request(phone=form.phone, name=form.name, topic=form.topic, window=window,
                           conversation_id=conversation_id, source="agent")


def _prefilled(db: Session, signed: Signed, wanted: str) -> CallbackForm:
    """From a conversation: its customer's number and name (another shop's: 404)."""
    conversation_id = parse_id(wanted)
    if conversation_id is None:
        raise NotFound(f"conversation {wanted!r} not found")
    conversation = conversation_service.get(db, signed.actor, conversation_id)
    shop_id = signed.actor.shop_id
    customer = customer_service.get(db, shop_id=shop_id, customer_id=conversation.customer_id)
    identities = customer_service.identities(db, shop_id=shop_id, customer_id=customer.id)
    phone = next((identity.value for identity in identities if identity.kind == "phone"), "")
    return CallbackForm(phone=phone, name=customer.name, topic=conversation.subject,
                        conversation_id=str(conversation.id))


def _item(callback: Callback, customer_name: str, tries: list[CallbackAttempt], rules: service.Limits,
          now: dt.datetime) -> dict[str, Any]:
    return {
        "id": callback.id, "phone": callback.phone, "name": callback.name or customer_name,
        "topic": callback.topic, "due_at": callback.due_at, "overdue": service.is_overdue(callback, now),
        "window_start": callback.window_start, "window_end": callback.window_end, "status": callback.status,
        "attempts": callback.attempts, "max_attempts": rules.attempts, "source": callback.source,
        "conversation_url": f"/inbox/c/{callback.conversation_id}" if callback.conversation_id else None,
        "tries": [{"outcome": attempt.outcome, "note": attempt.note, "at": attempt.created_at} for attempt in tries],
    }


def queue_context(db: Session, signed: Signed) -> dict[str, Any]:
    shop_id = signed.actor.shop_id
    page = service.queue(db, shop_id, limit=service.MAX_PAGE_SIZE)
    rules = service.limits(db, shop_id)
    history = service.attempts_of(db, shop_id, [item.callback.id for item in page.items])
    now = clock.now()
    items = [_item(item.callback, item.customer_name, history.get(item.callback.id, []), rules, now)
             for item in page.items]
    return {"callbacks": items, "overdue_count": sum(1 for item in items if item["overdue"]),
            "more": page.next_cursor is not None, "outcome_labels": OUTCOME_LABELS, "source_labels": SOURCE_LABELS,
            "csrf_token": signed.csrf_token}


def _page(request: Request, db: Session, signed: Signed, form: CallbackForm, *, errors: dict[str, str] | None = None,
          notice: str | None = None, status: int = 200) -> Response:
    shop = db.get_one(Shop, signed.actor.shop_id)
    return pages.render(request, "callbacks.html", {
        **chrome(db, signed),
        **queue_context(db, signed),
        "query": ListQuery(),
        "callbacks_page": True,
        "form": asdict(form),
        "errors": errors or {},
        "notice": notice,
        "minutes": service.limits(db, shop.id).minutes,
        "now_input": i18n.local_input(clock.now()),
    }, status=status)


@router.get(PATH)
def callbacks(request: Request, db: DB, signed: Agent) -> Response:
    """The queue; `?conversation_id=N` fills in the form from that conversation's customer."""
    wanted = request.query_params.get("conversation_id")
    form = CallbackForm() if wanted is None else _prefilled(db, signed, wanted)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return _page(request, db, signed, form, notice=pages.language(request).gettext(notice) if notice else None)


@router.post(PATH)
def add(request: Request, form: Submitted, db: DB, signed: CheckedAgent, context: Ctx) -> Response:
    window = dt.timedelta(days=context.settings.reopen_window_days)
    try:
        wanted = _request(form)
        created = context.commit_retrying(db, lambda: service.create(
            db, shop_id=signed.actor.shop_id, request=wanted, actor=signed.actor, reopen_window=window))
    except BalieError as error:
        db.rollback()
        lang = pages.language(request)
        field = FIELD_OF_CODE.get(error.code, "form")
        message = MESSAGES.get(error.code)
        return _page(request, db, signed, form, errors={field: lang.gettext(message) if message else error.detail},
                     status=error.status)
    return pages.redirect(f"{PATH}?notice={'created' if created.created else 'exists'}#callback-{created.callback.id}")


@router.post(PATH + "/{callback_id}/attempts")
def attempt(request: Request, callback_id: int, db: DB, signed: CheckedAgent,
            outcome: Annotated[str, Form(max_length=32)] = "",
            note: Annotated[str, Form(max_length=20000)] = "") -> Response:
    try:
        service.record_attempt(db, signed.actor, callback_id, outcome, note)
        db.commit()
    except BalieError as error:
        if error.code == "not_found":
            raise
        db.rollback()
        message = MESSAGES.get(error.code)
        text = pages.language(request).gettext(message) if message else error.detail
        return _page(request, db, signed, CallbackForm(), errors={"form": text, f"callback-{callback_id}": text},
                     status=error.status)
    return pages.redirect(f"{PATH}?notice=recorded")


@router.get("/ui/partials/callbacks")
def queue_partial(request: Request, db: DB, signed: Agent) -> Response:
    """The queue alone, for the page's script after a live event."""
    return pages.render(request, "_callbacks_queue.html", {**queue_context(db, signed), "errors": {}})
