"""Settings pages for a shop's admins: the support addresses (mailboxes) with their IMAP and
SMTP servers. Plain forms that need no script, with the CSRF token like every other form.

A form that cannot be saved comes back with the agent's input (never the passwords) and a
message beside each field that is wrong; nothing of it is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from balie.channels.email import service as mailbox_service
from balie.channels.email.models import Mailbox
from balie.channels.email.service import KEEP, SECURITY, Keep, MailboxChanges, ServerInvalid, ServerUrl
from balie.errors import BalieError
from balie.ui import pages
from balie.ui.auth import Agent, CheckedAgent, Signed, require_admin
from balie.ui.i18n import Language
from balie.ui.inbox import chrome
from balie.ui.listing import ListQuery
from balie.ui.routing import N_, UiRoute
from balie.web.deps import DB, Ctx

router = APIRouter(route_class=UiRoute, include_in_schema=False)
T = TypeVar("T")
BASE = "/settings/mailboxes"

NOTICES = {"added": N_("Support address added."), "saved": N_("Changes saved."),
           "removed": N_("Support address removed.")}
SECURITY_LABELS = {"tls": N_("SSL/TLS"), "starttls": N_("STARTTLS"), "none": N_("None (trusted network only)")}
# Service error codes → what the admin reads beside the field.
FIELD_MESSAGES = {
    "invalid_address": N_("Enter an e-mail address such as support@yourshop.nl."),
    "address_taken": N_("This is already a support address, in this shop or in another one."),
    "invalid_display_name": N_("One line of at most 200 characters, without control characters."),
    "invalid_signature": N_("At most 4000 characters, without control characters."),
}
SERVER_MESSAGES = {
    "host": N_("Enter a server name such as mail.yourshop.nl, or an IP address."),
    "host_private": N_("This server is on an internal network; Balie may not connect to it."),
    "host_unknown": N_("This server name cannot be found."),
    "port": N_("The port is a number from 1 to 65535."),
    "security": N_("Choose one of the options."),
    "user": N_("At most 320 characters, without line breaks or control characters."),
    "user_missing": N_("Enter the user name."),
    "password": N_("At most 500 characters, without line breaks or control characters."),
    "password_missing": N_("Enter the password."),
    "folder": N_("At most 255 characters, without line breaks or control characters."),
    "path": N_("Check this value."),
}


@dataclass(frozen=True)
class MailboxForm:
    """What the form shows and sends, as text. Passwords are read, never shown again."""

    address: str = ""
    display_name: str = ""
    signature: str = ""
    imap_host: str = ""
    imap_port: str = ""
    imap_security: str = "tls"
    imap_user: str = ""
    imap_password: str = ""
    imap_folder: str = "INBOX"
    smtp_host: str = ""
    smtp_port: str = ""
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: str = ""
    # The fields the browser sent: a post without the IMAP fields leaves IMAP as it is.
    sent: frozenset[str] = frozenset()

    @classmethod
    def of(cls, mailbox: Mailbox) -> MailboxForm:
        imap = mailbox.polls_imap
        return cls(
            address=mailbox.address, display_name=mailbox.display_name, signature=mailbox.signature,
            imap_host=(mailbox.imap_host or "") if imap else "",
            imap_port=str(mailbox.imap_port or "") if imap else "",
            imap_security=mailbox.imap_security if imap else "tls",
            imap_user=(mailbox.imap_user or "") if imap else "",
            imap_folder=mailbox.imap_folder if imap else "INBOX",
            smtp_host=mailbox.smtp_host or "", smtp_port=str(mailbox.smtp_port or "") if mailbox.smtp_host else "",
            smtp_security=mailbox.smtp_security if mailbox.smtp_host else "starttls",
            smtp_user=mailbox.smtp_user or "",
        )

    def shown(self) -> dict[str, Any]:
        return {**asdict(self), "imap_password": "", "smtp_password": ""}

    def given(self, name: str, value: T) -> T | Keep:
        return value if name in self.sent else KEEP


async def submitted(request: Request) -> MailboxForm:
    """The posted fields (the form is parsed once; the CSRF check reads the same one)."""
    form = await request.form()
    values = {field.name: value for field in fields(MailboxForm)
              if field.name != "sent" and isinstance(value := form.get(field.name), str)}
    return MailboxForm(**values, sent=frozenset(values))


Submitted = Annotated[MailboxForm, Depends(submitted)]



def _server(form: MailboxForm, kind: str, allow_private: bool, errors: dict[str, str],
            lang: Language) -> ServerUrl | None:
    values = asdict(form)
    try:
        return mailbox_service.server_from_fields(
            kind, host=values[f"{kind}_host"], port=values[f"{kind}_port"], security=values[f"{kind}_security"],
            user=values[f"{kind}_user"], password=values[f"{kind}_password"], folder=values.get(f"{kind}_folder", ""),
            allow_private=allow_private)
    except ServerInvalid as error:
        _note(errors, lang, error)
        return None


def _note(errors: dict[str, str], lang: Language, error: BalieError) -> None:
    """Puts a service error beside the field (or fields) it is about; the first one stays."""
    if isinstance(error, ServerInvalid):
        for field, reason in error.problems:
            name = f"{error.kind}_{field}"
            name = "smtp_host" if name == "smtp_folder" else name  # the form has no SMTP folder
            errors.setdefault(name, lang.gettext(SERVER_MESSAGES.get(reason, "Check this value.")))
        return
    field = {"invalid_display_name": "display_name", "invalid_signature": "signature"}.get(error.code, "address")
    message = FIELD_MESSAGES.get(error.code)
    errors.setdefault(field, lang.gettext(message) if message else error.detail)


def _checked(form: MailboxForm, lang: Language, allow_private: bool, *,
             new: bool) -> tuple[dict[str, str], ServerUrl | None, ServerUrl | None]:
    """Every field checked at once, so the admin sees all that is wrong, not one thing a time."""
    errors: dict[str, str] = {}
    checks: list[tuple[Callable[[str], str], str]] = [
        (mailbox_service.clean_display_name, form.display_name), (mailbox_service.clean_signature, form.signature)]
    if new:
        checks.insert(0, (mailbox_service.check_address, form.address))
    for check, value in checks:
        try:
            check(value)
        except BalieError as error:
            _note(errors, lang, error)
    imap = _server(form, "imap", allow_private, errors, lang)
    smtp = _server(form, "smtp", allow_private, errors, lang)
    return errors, imap, smtp


def _status_of(errors: dict[str, str], conflict: bool) -> int:
    return 409 if conflict else 400 if errors else 200


def _mailbox_row(mailbox: Mailbox) -> dict[str, Any]:
    return {
        **mailbox_service.settings_view(mailbox),
        "id": mailbox.id,
        "imap_status": mailbox_service.imap_status(mailbox),
        "imap_error": mailbox.imap_error,
        "imap_failures": mailbox.imap_failures,
        "imap_next_poll_at": mailbox.imap_next_poll_at,
        "imap_last_uid": mailbox.imap_last_uid,
    }


def _render(request: Request, db: Session, signed: Signed, template: str, context: dict[str, Any], *,
            status: int = 200) -> Response:
    values = {
        **chrome(db, signed),
        "query": ListQuery(),
        "settings_page": "mailboxes",
        "security_options": SECURITY,
        "security_labels": SECURITY_LABELS,
        **context,
    }
    return pages.render(request, template, values, status=status)


def _list_page(request: Request, db: Session, signed: Signed, *, form: MailboxForm | None = None,
               errors: dict[str, str] | None = None, status: int = 200) -> Response:
    notice = request.query_params.get("notice")
    return _render(request, db, signed, "settings_mailboxes.html", {
        "mailboxes": [_mailbox_row(mailbox) for mailbox in mailbox_service.list_for(db, signed.actor.shop_id)],
        "form": (form or MailboxForm()).shown(),
        "errors": errors or {},
        "notice": NOTICES.get(notice or ""),
    }, status=status)


def _edit_page(request: Request, db: Session, signed: Signed, mailbox: Mailbox, *, form: MailboxForm | None = None,
               errors: dict[str, str] | None = None, status: int = 200) -> Response:
    return _render(request, db, signed, "settings_mailbox.html", {
        "mailbox": _mailbox_row(mailbox),
        "form": (form or MailboxForm.of(mailbox)).shown(),
        "has_imap_password": mailbox.polls_imap and mailbox.imap_password is not None,
        "has_smtp_password": mailbox.smtp_host is not None and mailbox.smtp_password is not None,
        "errors": errors or {},
    }, status=status)


@router.get("/settings")
def settings_home(signed: Agent) -> Response:
    require_admin(signed)
    return pages.redirect(BASE)


@router.get(BASE)
def mailboxes(request: Request, db: DB, signed: Agent) -> Response:
    require_admin(signed)
    return _list_page(request, db, signed)


@router.post(BASE)
def add_mailbox(request: Request, db: DB, signed: CheckedAgent, form: Submitted, context: Ctx) -> Response:
    require_admin(signed)
    lang = pages.language(request)
    errors, imap, smtp = _checked(form, lang, context.settings.webhook_allow_private, new=True)
    conflict = False
    if not errors:
        try:
            mailbox_service.add(db, shop_id=signed.actor.shop_id, actor_agent_id=signed.actor.agent_id,
                                address=form.address, display_name=form.display_name, signature=form.signature,
                                imap=imap, smtp=smtp)
        except BalieError as error:
            conflict = error.code == "address_taken"
            _note(errors, lang, error)
    if errors:
        db.rollback()
        return _list_page(request, db, signed, form=form, errors=errors, status=_status_of(errors, conflict))
    db.commit()
    return pages.redirect(f"{BASE}?notice=added")


@router.get(BASE + "/{mailbox_id}")
def edit_mailbox(request: Request, mailbox_id: int, db: DB, signed: Agent) -> Response:
    require_admin(signed)
    mailbox = mailbox_service.get(db, shop_id=signed.actor.shop_id, mailbox_id=mailbox_id)
    return _edit_page(request, db, signed, mailbox)


@router.post(BASE + "/{mailbox_id}")
def save_mailbox(request: Request, mailbox_id: int, db: DB, signed: CheckedAgent, form: Submitted,
                 context: Ctx) -> Response:
    require_admin(signed)
    lang = pages.language(request)
    mailbox = mailbox_service.get(db, shop_id=signed.actor.shop_id, mailbox_id=mailbox_id)
    form = replace(form, address=mailbox.address)  # the address itself does not change
    errors, imap, smtp = _checked(form, lang, context.settings.webhook_allow_private, new=False)
    if not errors:
        try:
            mailbox_service.update(db, mailbox, actor_agent_id=signed.actor.agent_id, changes=MailboxChanges(
                display_name=form.given("display_name", form.display_name),
                signature=form.given("signature", form.signature),
                imap=form.given("imap_host", imap), smtp=form.given("smtp_host", smtp)))
        except BalieError as error:
            _note(errors, lang, error)
    if errors:
        db.rollback()
        mailbox = mailbox_service.get(db, shop_id=signed.actor.shop_id, mailbox_id=mailbox_id)
        return _edit_page(request, db, signed, mailbox, form=form, errors=errors, status=400)
    db.commit()
    return pages.redirect(f"{BASE}?notice=saved")


@router.get(BASE + "/{mailbox_id}/delete")
def confirm_delete(request: Request, mailbox_id: int, db: DB, signed: Agent) -> Response:
    """The confirmation step as a page of its own, so it works without the script."""
    require_admin(signed)
    mailbox = mailbox_service.get(db, shop_id=signed.actor.shop_id, mailbox_id=mailbox_id)
    return _render(request, db, signed, "settings_mailbox_delete.html", {"mailbox": _mailbox_row(mailbox)})


@router.post(BASE + "/{mailbox_id}/delete")
def delete_mailbox(mailbox_id: int, db: DB, signed: CheckedAgent) -> Response:
    require_admin(signed)
    mailbox = mailbox_service.get(db, shop_id=signed.actor.shop_id, mailbox_id=mailbox_id)
    mailbox_service.remove(db, mailbox, actor_agent_id=signed.actor.agent_id)
    db.commit()
    return pages.redirect(f"{BASE}?notice=removed")
