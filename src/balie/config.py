"""Settings from the environment (BALIE_*), read once into one typed object."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None = None
    # Installs sharing one Redis keep apart by prefix (channel and rate-limit keys).
    redis_prefix: str = "balie"
    # A resolved conversation reopens when the customer writes again within this window.
    reopen_window_days: int = 7
    max_request_bytes: int = 2 * 1024 * 1024
    # Webhooks to loopback / private addresses: off, so a shop cannot make Balie call into
    # its own network; on for a receiver on the same machine or LAN (and for tests).
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = 10.0
    dispatch_max_attempts: int = 8
    login_max_failures: int = 5
    login_window_seconds: int = 15 * 60
    session_days: int = 14
    default_language: str = "nl"
    # E-mail: the built-in SMTP receiver ("host:port", "" switches it off), the install's
    # default outbound relay (smtp[s]://user:pass@host:port), the largest mail accepted, and
    # how many mails an hour one sender may send one address before the rest are held.
    smtp_listen: str = "127.0.0.1:2525"
    smtp_relay: str | None = None
    mail_max_bytes: int = 25 * 1024 * 1024
    mail_hold_per_hour: int = 20
    # How often the worker pulls each WooCommerce shop's recently modified orders (0: never).
    woocommerce_pull_seconds: int = 900
    # How often the worker looks for broken delivery promises (commerce/promises/monitor.py).
    promise_scan_seconds: int = 60
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"


def load() -> Settings:
    data_dir = Path(os.environ.get("BALIE_DATA_DIR") or "var").resolve()
    database_url = os.environ.get("BALIE_DATABASE_URL") or f"sqlite:///{data_dir / 'balie.db'}"
    return Settings(
        data_dir=data_dir,
        database_url=normalise_database_url(database_url),
        redis_url=os.environ.get("BALIE_REDIS_URL") or None,
        redis_prefix=os.environ.get("BALIE_REDIS_PREFIX") or "balie",
        reopen_window_days=_int("BALIE_REOPEN_WINDOW_DAYS", 7),
        max_request_bytes=_int("BALIE_MAX_REQUEST_BYTES", 2 * 1024 * 1024),
        dispatch_max_attempts=_int("BALIE_DISPATCH_MAX_ATTEMPTS", 8),
        default_language=os.environ.get("BALIE_LANGUAGE", "nl"),
        smtp_listen=os.environ.get("BALIE_SMTP_LISTEN", "127.0.0.1:2525"),
        smtp_relay=os.environ.get("BALIE_SMTP_RELAY") or None,
        mail_max_bytes=_int("BALIE_MAIL_MAX_BYTES", 25 * 1024 * 1024),
        mail_hold_per_hour=_int("BALIE_MAIL_HOLD_PER_HOUR", 20),
        woocommerce_pull_seconds=_int("BALIE_WOOCOMMERCE_PULL_SECONDS", 900),
        promise_scan_seconds=_int("BALIE_PROMISE_SCAN_SECONDS", 60),
        webhook_allow_private=os.environ.get("BALIE_WEBHOOK_ALLOW_PRIVATE", "") in ("1", "true", "yes"),
    )


def normalise_database_url(url: str) -> str:
    """Accept the plain `postgresql://` form people copy from psql and use psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
