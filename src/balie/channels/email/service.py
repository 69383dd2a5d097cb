"""Support addresses: registering them, finding the shop a recipient belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from balie.channels.email.models import Mailbox
from balie.db import scoped
from balie.errors import Conflict, Invalid

SECURITY = ("tls", "starttls", "none")


@dataclass(frozen=True)
class ServerUrl:
    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    path: str


def parse_server_url(url: str, *, kind: str) -> ServerUrl:
    """imaps://user:pass@host:993/INBOX, imap+starttls://…, imap://… (plain, for loopback);
    smtps://…:465, smtp+starttls://…:587 or smtp://… (STARTTLS when offered)."""
    parts = urlsplit(url.strip())
    schemes = {
        "imap": {"imaps": ("tls", 993), "imap+starttls": ("starttls", 143), "imap": ("none", 143)},
        "smtp": {"smtps": ("tls", 465), "smtp+starttls": ("starttls", 587), "smtp": ("none", 25)},
    }[kind]
    if parts.scheme not in schemes or not parts.hostname:
        raise Invalid(f"{kind.upper()} URL must look like {next(iter(schemes))}://user:password@host:port",
                      code="invalid_server_url")
    security, default_port = schemes[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise Invalid(f"{kind.upper()} URL has an invalid port", code="invalid_server_url") from None
    return ServerUrl(
        host=parts.hostname, port=port, security=security,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        path=unquote(parts.path.lstrip("/")),
    )


def normalise_address(address: str) -> str:
    address = address.strip().lower()
    local, _, domain = address.partition("@")
    if not local or "." not in domain or any(c.isspace() or ord(c) < 32 for c in address) or len(address) > 320:
        raise Invalid(f"not an e-mail address: {address!r}", code="invalid_address")
    return address


def create(session: Session, *, shop_id: int, address: str, display_name: str = "",
           imap_url: str | None = None) -> Mailbox:
    address = normalise_address(address)
    if session.scalars(select(Mailbox).where(Mailbox.address == address)).first() is not None:
        raise Conflict(f"{address} is already a support address", code="address_taken")
    mailbox = Mailbox(shop_id=shop_id, address=address, display_name=display_name.strip()[:200])
    if imap_url:
        set_imap(mailbox, parse_server_url(imap_url, kind="imap"))
    session.add(mailbox)
    session.flush()
    return mailbox


def set_imap(mailbox: Mailbox, server: ServerUrl) -> None:
    if not server.user or server.password is None:
        raise Invalid("the IMAP URL needs a user and a password", code="invalid_server_url")
    mailbox.imap_host, mailbox.imap_port, mailbox.imap_security = server.host, server.port, server.security
    mailbox.imap_user, mailbox.imap_password = server.user, server.password
    mailbox.imap_folder = server.path or "INBOX"
    mailbox.imap_uidvalidity, mailbox.imap_last_uid = None, 0
    mailbox.imap_failures, mailbox.imap_error, mailbox.imap_next_poll_at = 0, None, None


def by_address(session: Session, address: str) -> Mailbox | None:
    """Unscoped on purpose: the SMTP receiver learns the shop from the recipient."""
    return session.scalars(select(Mailbox).where(Mailbox.address == address.strip().lower())).first()


def list_for(session: Session, shop_id: int) -> list[Mailbox]:
    return list(session.scalars(scoped(Mailbox, shop_id).order_by(Mailbox.address)))
