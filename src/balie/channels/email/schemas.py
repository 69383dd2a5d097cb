"""API shapes for a shop's support addresses. Passwords go in (inside the server URLs) and
never come out: the output says which user logs in where, and that a password is set."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

URL_FIELD = ("imaps://user:password@host:993/INBOX; characters such as @ : / # ? % in the user name or "
             "password percent-encoded")


class MailboxOut(BaseModel):
    id: int
    address: str
    display_name: str
    signature: str
    imap_host: str | None
    imap_port: int | None
    imap_security: str | None
    imap_user: str | None
    imap_folder: str | None
    imap_has_password: bool
    imap_status: Literal["off", "ok", "failing"] = Field(description="off: no polling; failing: the last tries failed")
    imap_error: str | None
    imap_failures: int
    imap_next_poll_at: dt.datetime | None
    imap_last_uid: int
    smtp_host: str | None = Field(description="null: replies go through the install's BALIE_SMTP_RELAY")
    smtp_port: int | None
    smtp_security: str | None
    smtp_user: str | None
    smtp_has_password: bool
    created_at: dt.datetime


class MailboxList(BaseModel):
    items: list[MailboxOut]
    next_cursor: str | None = None


class MailboxCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(min_length=3, max_length=320)
    display_name: str = Field(default="", max_length=200)
    signature: str = Field(default="", max_length=4000)
    imap_url: str | None = Field(default=None, max_length=2000, description="poll this mailbox; " + URL_FIELD)
    smtp_url: str | None = Field(default=None, max_length=2000,
                                 description="send replies through this relay (smtps://, smtp+starttls://, smtp://)")


class MailboxPatch(BaseModel):
    """Only the fields sent change. `imap_url: null` stops polling; `smtp_url: null` falls back
    to the install's relay. A URL without a password keeps the stored one (same host and user)."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200)
    signature: str | None = Field(default=None, max_length=4000)
    imap_url: str | None = Field(default=None, max_length=2000, description=URL_FIELD)
    smtp_url: str | None = Field(default=None, max_length=2000)
