"""Support addresses: registering them, finding the shop a recipient belongs to."""

from __future__ import annotations

import enum
import ipaddress
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Final, Literal
from urllib.parse import unquote, urlsplit

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from balie import netguard
from balie.audit import service as audit_service
from balie.channels.email.models import Mailbox
from balie.db import get_scoped, scoped
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


@dataclass(frozen=True)
class Recipient:
    """What receiving a mail needs to know of the support address it was sent to."""

    id: int
    shop_id: int
    address: str


_mailbox = Mailbox.__table__.c
# Asked twice for every mail the SMTP receiver takes (RCPT, then DATA): three columns on
# the table, without loading a whole Mailbox.
_RECIPIENT = select(_mailbox.id, _mailbox.shop_id, _mailbox.address).where(_mailbox.address == bindparam("address"))


def recipient(session: Session, address: str) -> Recipient | None:
    """Unscoped on purpose: the SMTP receiver learns the shop from the recipient."""
    row = session.connection().execute(_RECIPIENT, {"address": address.strip().lower()}).first()
    return None if row is None else Recipient(*row)


def list_for(session: Session, shop_id: int) -> list[Mailbox]:
    return list(session.scalars(scoped(Mailbox, shop_id).order_by(Mailbox.address)))


# --- Administration: the API and the settings page -------------------------------------
# What a shop admin types is checked here, once for both. Anything that could bend a mail
# header or an IMAP command (line breaks, control characters) is refused, not cleaned up.

MAX_DISPLAY_NAME = 200
MAX_SIGNATURE = 4000
DEFAULT_PORTS = {"imap": {"tls": 993, "starttls": 143, "none": 143},
                 "smtp": {"tls": 465, "starttls": 587, "none": 25}}
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_LOCAL_PART = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
# Direction overrides make a name read as something it is not ("moc.knab" turned around).
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class ServerInvalid(Invalid):
    """Mail server settings that cannot be used. `problems` lists each as (field, reason):
    the field (host, port, security, user, password, folder) a form marks, and a reason code
    for what it says there; `kind` is imap or smtp."""

    def __init__(self, detail: str, *, kind: str, problems: list[tuple[str, str]]) -> None:
        super().__init__(detail, code="invalid_server_url")
        self.kind = kind
        self.problems = problems


class Keep(enum.Enum):
    KEEP = "keep"


KEEP: Final = Keep.KEEP  # in MailboxChanges: leave this setting as it is


@dataclass(frozen=True)
class MailboxChanges:
    """What an admin changes. KEEP leaves a setting alone; a server of None removes it
    (no IMAP polling; replies through the install's BALIE_SMTP_RELAY)."""

    display_name: str | Keep = KEEP
    signature: str | Keep = KEEP
    imap: ServerUrl | Keep | None = KEEP
    smtp: ServerUrl | Keep | None = KEEP


def _has_control(value: str, *, allow: str = "") -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON "\ud800" escape
        return True
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp") and c not in allow for c in value)


def _ascii_host(host: str) -> str | None:
    """A DNS name in its ASCII form (IDN as punycode), or None when it cannot be one."""
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    return host.rstrip(".") if len(host) <= 253 and _HOSTNAME.fullmatch(host) else None


def check_address(address: str) -> str:
    """A support address as mail servers write it (lower case, punycode domain)."""
    address = normalise_address(address)
    local, _, domain = address.rpartition("@")
    host = _ascii_host(domain)
    if (not _LOCAL_PART.fullmatch(local) or len(local) > 64 or host is None or "." not in host
            or host.rsplit(".", 1)[1].isdigit()):
        raise Invalid(f"not an e-mail address: {address!r}", code="invalid_address")
    return f"{local}@{host}"


def clean_display_name(value: str) -> str:
    """The name in From: — one line, no characters that end or turn a header around."""
    if _has_control(value) or any(c in _BIDI for c in value):
        raise Invalid("the display name contains a line break or a control character", code="invalid_display_name")
    value = value.strip()
    if len(value) > MAX_DISPLAY_NAME:
        raise Invalid(f"the display name is longer than {MAX_DISPLAY_NAME} characters", code="invalid_display_name")
    return value


def clean_signature(value: str) -> str:
    """Plain text under every reply: line breaks are fine (stored as LF), other controls are not."""
    value = value.replace("\r\n", "\n").strip()
    if _has_control(value, allow="\n\t"):
        raise Invalid("the signature contains a control character", code="invalid_signature")
    if len(value) > MAX_SIGNATURE:
        raise Invalid(f"the signature is longer than {MAX_SIGNATURE} characters", code="invalid_signature")
    return value


def _check_host(host: str, *, kind: str, allow_private: bool) -> tuple[str | None, str]:
    """The host in its ASCII form, or None and what is wrong with it."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        checked: str | None = str(ipaddress.ip_address(host))
    except ValueError:
        checked = _ascii_host(host)
    if not checked:
        return None, "host"
    if not allow_private:
        problem = netguard.private_target(f"{kind}://[{checked}]" if ":" in checked else f"{kind}://{checked}")
        if problem:
            return None, "host_unknown" if "cannot be resolved" in problem else "host_private"
    return checked, ""


# reason → what the API's detail says (the settings page says it in the agent's language)
SERVER_PROBLEMS = {
    "host": "the host is not a host name or an IP address",
    "host_unknown": "the host cannot be resolved",
    "host_private": "the host is an internal address (loopback, private or link-local network)",
    "port": "the port must be from 1 to 65535",
    "security": f"the security must be one of {', '.join(SECURITY)}",
    "user": "the user name is empty, longer than 320 characters or contains a control character",
    "user_missing": "a user name is needed",
    "password": "the password is longer than 500 characters or contains a control character",
    "password_missing": "a password is needed",
    "folder": "the folder is longer than 255 characters or contains a control character",
    "path": "an SMTP server has no folder (nothing after host:port)",
}


def _refuse(kind: str, problems: list[tuple[str, str]]) -> ServerInvalid:
    detail = "; ".join(SERVER_PROBLEMS[reason] for _, reason in problems)
    return ServerInvalid(f"{kind.upper()} server: {detail}", kind=kind, problems=problems)


def check_server(server: ServerUrl, *, kind: str, allow_private: bool = True,
                 problems: list[tuple[str, str]] | None = None) -> ServerUrl:
    """A server as the poller and the sender can use it, or ServerInvalid listing every
    problem at once (with those already found in `problems`)."""
    problems = list(problems or [])
    host, reason = _check_host(server.host, kind=kind, allow_private=allow_private)
    if reason:
        problems.append(("host", reason))
    if not 1 <= server.port <= 65535:
        problems.append(("port", "port"))
    if server.security not in SECURITY:
        problems.append(("security", "security"))
    if server.user is not None and (not server.user or len(server.user) > 320 or _has_control(server.user)):
        problems.append(("user", "user"))
    if server.password is not None and (len(server.password) > 500 or _has_control(server.password)):
        problems.append(("password", "password"))
    elif (server.password is not None or kind == "imap") and not server.user:
        problems.append(("user", "user_missing"))  # IMAP always logs in; SMTP when it has a password
    folder = server.path
    if kind == "smtp" and folder:
        problems.append(("folder", "path"))
    if kind == "imap":
        folder = folder.strip() or "INBOX"
        if len(folder) > 255 or _has_control(folder):
            problems.append(("folder", "folder"))
    if problems or host is None:
        raise _refuse(kind, problems)
    return replace(server, host=host, path=folder)


def server_from_url(url: str, *, kind: str, allow_private: bool = True) -> ServerUrl:
    """imaps://user:password@host:993/INBOX (the API's form): characters such as @ : / # ? %
    in the user name or password are percent-encoded (%40 %3A %2F %23 %3F %25)."""
    if _has_control(url) or any(c.isspace() or c in "?#" for c in url.strip()):
        raise Invalid(f"the {kind.upper()} URL contains spaces, control characters, ? or #: percent-encode them "
                      "in the user name or password", code="invalid_server_url")
    return check_server(parse_server_url(url, kind=kind), kind=kind, allow_private=allow_private)


def server_from_fields(kind: str, *, host: str, port: str, security: str, user: str, password: str,
                       folder: str = "", allow_private: bool = True) -> ServerUrl | None:
    """A server from a form's fields (the settings page); None when the host is left empty."""
    if not host.strip():
        return None
    # A bad port or security is reported, and the other fields are still checked.
    problems = [] if security in SECURITY else [("security", "security")]
    port = port.strip()
    readable = port.isascii() and port.isdecimal() and len(port) <= 5
    if port and not readable:
        problems.append(("port", "port"))
    number = int(port) if port and readable else DEFAULT_PORTS[kind].get(security, 1)
    server = ServerUrl(host=host, port=number, security=security if security in SECURITY else "tls",
                       user=user.strip() or None, password=password or None, path=folder)
    return check_server(server, kind=kind, allow_private=allow_private, problems=problems)


def set_smtp(mailbox: Mailbox, server: ServerUrl) -> None:
    """This address's own relay; the user and password are optional (a relay may trust the host)."""
    if server.path:
        raise Invalid("an SMTP URL has no path", code="invalid_server_url")
    if server.password is not None and not server.user:
        raise Invalid("the SMTP password needs a user name", code="invalid_server_url")
    mailbox.smtp_host, mailbox.smtp_port, mailbox.smtp_security = server.host, server.port, server.security
    mailbox.smtp_user, mailbox.smtp_password = server.user, server.password


def clear_imap(mailbox: Mailbox) -> None:
    mailbox.imap_host = mailbox.imap_port = mailbox.imap_user = mailbox.imap_password = None
    mailbox.imap_security, mailbox.imap_folder = "tls", "INBOX"
    mailbox.imap_uidvalidity, mailbox.imap_last_uid = None, 0
    mailbox.imap_failures, mailbox.imap_error, mailbox.imap_next_poll_at = 0, None, None


def clear_smtp(mailbox: Mailbox) -> None:
    mailbox.smtp_host = mailbox.smtp_port = mailbox.smtp_user = mailbox.smtp_password = None
    mailbox.smtp_security = "starttls"


def _apply_imap(mailbox: Mailbox, server: ServerUrl) -> None:
    same_account = mailbox.polls_imap and (mailbox.imap_host, mailbox.imap_user) == (server.host, server.user)
    # Same account without a password: keep the stored one (forms never show it, so it is never sent back).
    password = server.password if server.password is not None else (
        mailbox.imap_password if same_account else None)
    if not server.user:
        raise _refuse("imap", [("user", "user_missing")])
    if password is None:
        raise _refuse("imap", [("password", "password_missing")])
    # Same folder on the same account: keep what was fetched, or a new password re-reads the folder.
    same_folder = same_account and mailbox.imap_folder == (server.path or "INBOX")
    fetched = mailbox.imap_uidvalidity, mailbox.imap_last_uid
    set_imap(mailbox, replace(server, password=password))
    if same_folder:
        mailbox.imap_uidvalidity, mailbox.imap_last_uid = fetched


def _apply_smtp(mailbox: Mailbox, server: ServerUrl) -> None:
    same_account = mailbox.smtp_host is not None and (mailbox.smtp_host, mailbox.smtp_user) == (
        server.host, server.user)
    password = server.password if server.password is not None else (
        mailbox.smtp_password if same_account and server.user else None)
    if server.user and password is None:
        raise _refuse("smtp", [("password", "password_missing")])
    set_smtp(mailbox, replace(server, password=password))


def settings_view(mailbox: Mailbox) -> dict[str, Any]:
    """A mailbox's settings without its passwords: what the audit trail and the API may show."""
    imap, smtp = mailbox.polls_imap, mailbox.smtp_host is not None
    return {
        "address": mailbox.address, "display_name": mailbox.display_name, "signature": mailbox.signature,
        "imap_host": mailbox.imap_host if imap else None, "imap_port": mailbox.imap_port if imap else None,
        "imap_security": mailbox.imap_security if imap else None, "imap_user": mailbox.imap_user if imap else None,
        "imap_folder": mailbox.imap_folder if imap else None,
        "smtp_host": mailbox.smtp_host, "smtp_port": mailbox.smtp_port if smtp else None,
        "smtp_security": mailbox.smtp_security if smtp else None, "smtp_user": mailbox.smtp_user if smtp else None,
    }


def imap_status(mailbox: Mailbox) -> Literal["off", "ok", "failing"]:
    """off (no polling), failing (the last tries went wrong) or ok."""
    if not mailbox.polls_imap:
        return "off"
    return "failing" if mailbox.imap_failures > 0 or mailbox.imap_error else "ok"


def get(session: Session, *, shop_id: int, mailbox_id: int) -> Mailbox:
    return get_scoped(session, Mailbox, shop_id, mailbox_id)


def add(session: Session, *, shop_id: int, actor_agent_id: int | None, address: str, display_name: str = "",
        signature: str = "", imap: ServerUrl | None = None, smtp: ServerUrl | None = None) -> Mailbox:
    """A new support address with its servers, audited; the caller's transaction holds it all."""
    address, display_name = check_address(address), clean_display_name(display_name)
    signature = clean_signature(signature)
    try:
        mailbox = create(session, shop_id=shop_id, address=address, display_name=display_name)
    except IntegrityError:  # the same address added at the same moment elsewhere
        raise Conflict(f"{address} is already a support address", code="address_taken") from None
    mailbox.signature = signature
    if imap is not None:
        _apply_imap(mailbox, imap)
    if smtp is not None:
        _apply_smtp(mailbox, smtp)
    session.flush()
    audit_service.record(session, shop_id=shop_id, actor_agent_id=actor_agent_id, action="mailbox.created",
                         object_type="mailbox", object_id=mailbox.id, data=settings_view(mailbox))
    return mailbox


def update(session: Session, mailbox: Mailbox, *, actor_agent_id: int | None,
           changes: MailboxChanges) -> dict[str, Any]:
    """Applies the changes; returns (and audits) what changed. A new password shows as
    "changed", never as its value."""
    before, passwords = settings_view(mailbox), (mailbox.imap_password, mailbox.smtp_password)
    if changes.display_name is not KEEP:
        mailbox.display_name = clean_display_name(changes.display_name)
    if changes.signature is not KEEP:
        mailbox.signature = clean_signature(changes.signature)
    if changes.imap is not KEEP:
        clear_imap(mailbox) if changes.imap is None else _apply_imap(mailbox, changes.imap)
    if changes.smtp is not KEEP:
        clear_smtp(mailbox) if changes.smtp is None else _apply_smtp(mailbox, changes.smtp)
    after = settings_view(mailbox)
    changed: dict[str, Any] = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    for key, old in zip(("imap_password", "smtp_password"), passwords, strict=True):
        if getattr(mailbox, key) not in (old, None):
            changed[key] = "changed"
    session.flush()
    if changed:
        audit_service.record(session, shop_id=mailbox.shop_id, actor_agent_id=actor_agent_id,
                             action="mailbox.updated", object_type="mailbox", object_id=mailbox.id, data=changed)
    return changed


def remove(session: Session, mailbox: Mailbox, *, actor_agent_id: int | None) -> None:
    """Mail to the address is refused from now on; its conversations stay."""
    audit_service.record(session, shop_id=mailbox.shop_id, actor_agent_id=actor_agent_id, action="mailbox.deleted",
                         object_type="mailbox", object_id=mailbox.id, data=settings_view(mailbox))
    session.delete(mailbox)
    session.flush()
