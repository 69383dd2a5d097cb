"""/api/v1/mailboxes: a shop's support addresses. Every agent of the shop may read them;
only its admins add, change or remove them. Passwords are write-only."""

from __future__ import annotations

from fastapi import APIRouter, Response

from balie.agents.service import Actor
from balie.channels.email import service
from balie.channels.email.models import Mailbox
from balie.channels.email.schemas import MailboxCreate, MailboxList, MailboxOut, MailboxPatch
from balie.channels.email.service import KEEP, MailboxChanges, ServerUrl
from balie.errors import Forbidden
from balie.web.deps import DB, ApiActor, Ctx

router = APIRouter(prefix="/api/v1", tags=["mailboxes"])


def mailbox_out(mailbox: Mailbox) -> MailboxOut:
    view = service.settings_view(mailbox)
    return MailboxOut(
        id=mailbox.id, **view,
        imap_has_password=mailbox.polls_imap and mailbox.imap_password is not None,
        imap_status=service.imap_status(mailbox),
        imap_error=mailbox.imap_error, imap_failures=mailbox.imap_failures,
        imap_next_poll_at=mailbox.imap_next_poll_at, imap_last_uid=mailbox.imap_last_uid,
        smtp_has_password=mailbox.smtp_host is not None and mailbox.smtp_password is not None,
        created_at=mailbox.created_at,
    )


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only a shop admin can change its support addresses")


def _server(url: str | None, kind: str, context: Ctx) -> ServerUrl | None:
    if not url:
        return None
    return service.server_from_url(url, kind=kind, allow_private=context.settings.webhook_allow_private)


@router.get("/mailboxes", response_model=MailboxList)
def list_mailboxes(db: DB, actor: ApiActor) -> MailboxList:
    return MailboxList(items=[mailbox_out(mailbox) for mailbox in service.list_for(db, actor.shop_id)])


@router.post("/mailboxes", response_model=MailboxOut, status_code=201)
def create_mailbox(body: MailboxCreate, db: DB, actor: ApiActor, context: Ctx) -> MailboxOut:
    _admin(actor)
    mailbox = service.add(
        db, shop_id=actor.shop_id, actor_agent_id=actor.agent_id, address=body.address,
        display_name=body.display_name, signature=body.signature,
        imap=_server(body.imap_url, "imap", context), smtp=_server(body.smtp_url, "smtp", context),
    )
    db.commit()
    return mailbox_out(mailbox)


@router.get("/mailboxes/{mailbox_id}", response_model=MailboxOut)
def get_mailbox(mailbox_id: int, db: DB, actor: ApiActor) -> MailboxOut:
    return mailbox_out(service.get(db, shop_id=actor.shop_id, mailbox_id=mailbox_id))


@router.patch("/mailboxes/{mailbox_id}", response_model=MailboxOut)
def patch_mailbox(mailbox_id: int, body: MailboxPatch, db: DB, actor: ApiActor, context: Ctx) -> MailboxOut:
    """Only the fields sent change; `"imap_url": null` stops polling, `"smtp_url": null`
    sends through the install's BALIE_SMTP_RELAY again."""
    _admin(actor)
    mailbox = service.get(db, shop_id=actor.shop_id, mailbox_id=mailbox_id)
    given = body.model_fields_set
    changes = MailboxChanges(
        display_name=(body.display_name or "") if "display_name" in given else KEEP,
        signature=(body.signature or "") if "signature" in given else KEEP,
        imap=_server(body.imap_url, "imap", context) if "imap_url" in given else KEEP,
        smtp=_server(body.smtp_url, "smtp", context) if "smtp_url" in given else KEEP,
    )
    service.update(db, mailbox, actor_agent_id=actor.agent_id, changes=changes)
    db.commit()
    return mailbox_out(mailbox)


@router.delete("/mailboxes/{mailbox_id}", status_code=204)
def delete_mailbox(mailbox_id: int, db: DB, actor: ApiActor) -> Response:
    """Mail to the address is no longer taken in; its conversations stay."""
    _admin(actor)
    service.remove(db, service.get(db, shop_id=actor.shop_id, mailbox_id=mailbox_id), actor_agent_id=actor.agent_id)
    db.commit()
    return Response(status_code=204)
