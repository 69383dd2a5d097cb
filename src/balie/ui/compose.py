"""A new e-mail (/inbox/new): the agent writes first, to a customer who may not have written
yet. The conversation and its first message are made by conversations.start, the same
service as POST /api/v1/conversations; the message goes out through the outbox like any reply.

A plain form with the CSRF token, like every other. What the service refuses comes back
beside its field, in the agent's language, with everything they typed still there; nothing
of it is stored. The page script may post the same form (X-Balie-Async) and gets JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from balie.channels.email import service as mailbox_service
from balie.conversations import start
from balie.customers import service as customer_service
from balie.errors import BalieError, NotFound
from balie.inputs import parse_id
from balie.ui import pages
from balie.ui.auth import Agent, CheckedAgent, Signed
from balie.ui.i18n import Language
from balie.ui.inbox import chrome
from balie.ui.listing import ListQuery
from balie.ui.routing import N_, UiRoute, is_async
from balie.web.context import Context
from balie.web.deps import DB, Ctx

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/inbox/new"
FORM_FIELDS = ("to", "name", "from", "subject", "text")

# The service's field names → the form's.
FIELD_OF = {"customer_email": "to", "customer_name": "name", "from_address": "from", "subject": "subject",
            "text": "text"}
# What start() itself refuses (when the field checks passed) → the field it is about; else the form.
FIELD_OF_CODE = {"invalid_address": "to", "empty_subject": "subject", "invalid_subject": "subject",
                 "empty_message": "text", "text_too_large": "text", "unknown_mailbox": "from", "no_mailbox": "from"}
ONE_LINE = N_("One line, without line breaks or control characters.")
# (field, service error code) → what the agent reads beside the field.
MESSAGES = {
    ("to", "empty"): N_("Enter the customer's e-mail address."),
    ("to", "invalid_address"): N_("Enter one e-mail address, such as name@example.nl."),
    ("name", "invalid_text"): ONE_LINE,
    ("subject", "empty_subject"): N_("Enter a subject."),
    ("subject", "invalid_subject"): N_("The subject is at most 500 characters."),
    ("subject", "invalid_text"): ONE_LINE,
    ("text", "empty_message"): N_("Write a message."),
    ("text", "text_too_large"): N_("The message is larger than 1 MB. Make it shorter."),
    ("text", "invalid_text"): N_("The message contains a character that cannot be sent."),
    ("from", "no_mailbox"): N_("This shop has no support address to send from."),
}
FIELD_MESSAGES = {"from": N_("Choose one of this shop's support addresses.")}
DUPLICATE = N_("You sent this message to this customer a few minutes ago. It was not sent again.")


@dataclass(frozen=True)
class ComposeForm:
    """What the form shows and sends, as text (`sender` is the field named `from`)."""

    to: str = ""
    name: str = ""
    sender: str = ""
    subject: str = ""
    text: str = ""

    def request(self) -> start.Start:
        # Browsers send a textarea's lines with CRLF: stored with LF, as the API's clients send them.
        # No `from` (or an empty one): the shop's first support address, as in the API.
        return start.Start(channel="email", customer_email=self.to, customer_name=self.name, subject=self.subject,
                           text=self.text.replace("\r\n", "\n"), from_address=self.sender or None)


async def submitted(request: Request, context: Ctx) -> ComposeForm:
    """The posted fields. Parsed here first, and once (the CSRF check reads the same form):
    Starlette's default limit of 1 MiB per field would refuse a long message (percent-encoded,
    é takes 6 bytes) with a bare 400 before the service could explain it beside the field.
    The request body as a whole stays within max_request_bytes (web.limits.BodyLimit)."""
    form = await request.form(max_part_size=context.settings.max_request_bytes)
    values = {name: value if isinstance(value := form.get(name), str) else "" for name in FORM_FIELDS}
    return ComposeForm(to=values["to"], name=values["name"], sender=values["from"], subject=values["subject"],
                       text=values["text"])


Submitted = Annotated[ComposeForm, Depends(submitted)]


def _prefilled(db: Session, signed: Signed, wanted: str) -> ComposeForm:
    """To and name from a customer of this shop; another shop's customer is a 404 like any other."""
    customer_id = parse_id(wanted)
    if customer_id is None:
        raise NotFound(f"customer {wanted!r} not found")
    shop_id = signed.actor.shop_id
    customer = customer_service.get(db, shop_id=shop_id, customer_id=customer_id)
    identities = customer_service.identities(db, shop_id=shop_id, customer_id=customer.id)
    email = next((identity.value for identity in identities if identity.kind == "email"), "")
    return ComposeForm(to=email, name=customer.name)


def _message(lang: Language, field: str, error: BalieError, form: ComposeForm) -> str:
    if field == "to" and not form.to.strip():
        return lang.gettext(MESSAGES[("to", "empty")])
    message = MESSAGES.get((field, error.code)) or FIELD_MESSAGES.get(field)
    return lang.gettext(message) if message else error.detail


def _page(request: Request, db: Session, signed: Signed, form: ComposeForm, *, errors: dict[str, str] | None = None,
          repeated_in: int | None = None, status: int = 200) -> Response:
    mailboxes = mailbox_service.list_for(db, signed.actor.shop_id)
    addresses = [mailbox.address for mailbox in mailboxes]
    # The API's default is the shop's first address; the agent sees it chosen.
    first = min(mailboxes, key=lambda mailbox: mailbox.id).address if mailboxes else ""
    wanted = form.sender.strip().lower()
    return pages.render(request, "compose.html", {
        **chrome(db, signed),
        "query": ListQuery(),
        "compose_page": True,
        "mailboxes": [{"address": mailbox.address, "display_name": mailbox.display_name} for mailbox in mailboxes],
        "from_selected": wanted if wanted in addresses else first,
        "form": asdict(form),
        "errors": errors or {},
        "repeated_in": repeated_in,
    }, status=status)


def _started(db: Session, signed: Signed, wanted: start.Start, context: Context) -> start.Started:
    return context.commit_retrying(db, lambda: start.start(db, signed.actor, wanted))


@router.get(PATH)
def new_email(request: Request, db: DB, signed: Agent) -> Response:
    """The form; `?customer_id=N` fills in that customer's e-mail address and name."""
    wanted = request.query_params.get("customer_id")
    form = ComposeForm() if wanted is None else _prefilled(db, signed, wanted)
    return _page(request, db, signed, form)


@router.post(PATH)
def send_new(request: Request, form: Submitted, db: DB, signed: CheckedAgent, context: Ctx) -> Response:
    # `form` comes before `signed`: its dependency parses the body first, with its own limit.
    lang = pages.language(request)
    wanted = form.request()
    errors: dict[str, str] = {}
    found = start.problems(db, signed.actor.shop_id, wanted)
    for field, error in found:
        errors.setdefault(FIELD_OF[field], _message(lang, FIELD_OF[field], error, form))
    if found:
        return _refused(request, db, signed, form, errors, found[0][1])
    try:
        started = _started(db, signed, wanted, context)
    except BalieError as error:
        db.rollback()
        repeated_in = None
        if error.code == "duplicate_conversation":
            errors["form"] = lang.gettext(DUPLICATE)
            repeated_in = start.repeated_in(db, signed.actor.shop_id, wanted)
        else:
            field = FIELD_OF_CODE.get(error.code, "form")
            errors[field] = _message(lang, field, error, form)
        return _refused(request, db, signed, form, errors, error, repeated_in)
    url = f"/inbox/c/{started.conversation_id}"
    if is_async(request):
        return JSONResponse({"ok": True, "notice": "sent", "conversation_id": started.conversation_id, "url": url})
    return pages.redirect(f"{url}?notice=sent")


def _refused(request: Request, db: Session, signed: Signed, form: ComposeForm, errors: dict[str, str],
             failure: BalieError, repeated_in: int | None = None) -> Response:
    """The form again with every problem beside its field (or JSON for the script); the
    transaction is rolled back, so nothing of it is stored."""
    db.rollback()
    status = failure.status
    if is_async(request):
        body: dict[str, Any] = {"error": failure.code, "detail": next(iter(errors.values())), "fields": errors}
        if repeated_in is not None:
            body["conversation_id"] = repeated_in
        return JSONResponse(body, status_code=status)
    return _page(request, db, signed, form, errors=errors, repeated_in=repeated_in, status=status)
