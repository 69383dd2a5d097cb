"""A shop's support addresses: where mail comes in (SMTP receiver, IMAP) and how replies go out."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, ShopScoped, UTCDateTime, created_at, pk


class Mailbox(ShopScoped, Base):
    __tablename__ = "mailbox"

    id: Mapped[int] = pk()
    # Unique across shops: the SMTP receiver routes an incoming mail by its recipient.
    address: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    signature: Mapped[str] = mapped_column(Text, default="")

    # IMAP polling of an existing mailbox (optional). The password is stored as given:
    # keep the database as private as the mailbox itself (see docs/email.md).
    imap_host: Mapped[str | None] = mapped_column(String(255), default=None)
    imap_port: Mapped[int | None] = mapped_column(Integer, default=None)
    imap_security: Mapped[str] = mapped_column(String(16), default="tls")  # tls | starttls | none
    imap_user: Mapped[str | None] = mapped_column(String(320), default=None)
    imap_password: Mapped[str | None] = mapped_column(String(500), default=None)
    imap_folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    # Fetched once and only once: the folder's UIDVALIDITY and the highest UID taken in.
    imap_uidvalidity: Mapped[int | None] = mapped_column(Integer, default=None)
    imap_last_uid: Mapped[int] = mapped_column(Integer, default=0)
    imap_failures: Mapped[int] = mapped_column(Integer, default=0)
    imap_error: Mapped[str | None] = mapped_column(String(1000), default=None)
    imap_next_poll_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    imap_locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    # Outbound relay for this address (optional; BALIE_SMTP_RELAY is the install's default).
    smtp_host: Mapped[str | None] = mapped_column(String(255), default=None)
    smtp_port: Mapped[int | None] = mapped_column(Integer, default=None)
    smtp_security: Mapped[str] = mapped_column(String(16), default="starttls")  # tls | starttls | none
    smtp_user: Mapped[str | None] = mapped_column(String(320), default=None)
    smtp_password: Mapped[str | None] = mapped_column(String(500), default=None)

    created_at: Mapped[dt.datetime] = created_at()

    @property
    def polls_imap(self) -> bool:
        return bool(self.imap_host and self.imap_user)
