"""The reconciliation pull: WooCommerce does not retry a webhook and disables one after a few
failures, so Balie also asks the shop's REST API for the orders modified since it last looked
(`GET {api_url}/wp-json/wc/v3/orders`, HTTP basic auth with the connection's consumer key and
secret) and saves each through the same mapping as the webhooks: a repeat changes nothing and
an older version never overwrites a newer one.

The worker pulls every connected shop each BALIE_WOOCOMMERCE_PULL_SECONDS; `balie commerce
reconcile` pulls one shop on demand. A shop is claimed with a lease in its connection row (so
two workers never pull it at once), the HTTP calls happen outside any transaction, each page
is saved in its own, and the outcome is written last. One failing shop is logged and retried
later with backoff; the others go on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from balie import clock, events, netguard
from balie.commerce import orders
from balie.commerce.models import Connection
from balie.commerce.woocommerce import mapping
from balie.db import transaction
from balie.errors import Invalid

log = logging.getLogger(__name__)

PLATFORM = "woocommerce"
PATH = "/wp-json/wc/v3/orders"
PAGE_SIZE = 100  # WooCommerce's largest per_page
MAX_PAGES = 100  # per pull: 10,000 orders
MAX_PAGE_BYTES = 16 * 1024 * 1024
LEASE = dt.timedelta(minutes=15)
# The next pull asks from the newest modification seen minus this: an order changed while a
# pull was paging, or stamped by a clock a little behind, is asked for again (harmless).
OVERLAP = dt.timedelta(minutes=10)
FIRST_LOOKBACK = dt.timedelta(days=2)  # a shop's first pull
BASE_BACKOFF = 60.0
PER_PASS = 4  # shops claimed per worker pass


class PullError(Exception):
    """Why a pull stopped (the shop's answer, an unreachable or refused address)."""


@dataclass(frozen=True)
class Target:
    shop_id: int
    api_url: str
    api_key: str
    api_secret: str
    since: dt.datetime


@dataclass
class Report:
    shop_id: int
    since: dt.datetime
    pages: int = 0
    orders: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[str] = field(default_factory=list)  # "order 727: line_items[0].quantity: ..."
    newest: dt.datetime | None = None  # the newest date_modified_gmt seen
    truncated: bool = False  # more than MAX_PAGES pages changed

    def summary(self) -> str:
        return (f"shop {self.shop_id}: {self.orders} orders modified since {self.since.isoformat()} in "
                f"{self.pages} pages ({self.created} new, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.refused)} refused)" + (f"; only the newest {MAX_PAGES} pages" if self.truncated else ""))


def orders_url(api_url: str) -> str:
    return api_url.rstrip("/") + PATH


def _check_address(url: str, *, allow_private: bool) -> None:
    """Basic auth sends the keys with every request: only over https, and never into Balie's own
    network (BALIE_WEBHOOK_ALLOW_PRIVATE allows a shop on the same machine or LAN, and http)."""
    if allow_private:
        return
    if urlsplit(url).scheme != "https":
        raise PullError("the api_url must start with https:// (the API keys would travel unencrypted)")
    problem = netguard.private_target(url)
    if problem:
        raise PullError(f"refused to call the api_url: {problem}")


def _answer(status: int, page: int) -> str:
    if status in (401, 403):
        return f"WooCommerce refused the API key ({status}): check api_key and api_secret (read access)"
    if status == 404:
        return "WooCommerce answered 404: is api_url the shop's address, with the REST API on?"
    return f"WooCommerce answered {status} for page {page}"


def fetch_page(client: httpx.Client, target: Target, page: int) -> tuple[list[Any], int]:
    """One page, newest modification first, and the number of pages (X-WP-TotalPages)."""
    params = {"modified_after": target.since.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
              "dates_are_gmt": "true", "orderby": "modified", "order": "desc", "per_page": str(PAGE_SIZE),
              "page": str(page)}
    try:
        with client.stream("GET", orders_url(target.api_url), params=params,
                           auth=(target.api_key, target.api_secret)) as response:
            if response.status_code != 200:
                raise PullError(_answer(response.status_code, page))
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_PAGE_BYTES:
                    raise PullError(f"page {page} is larger than {MAX_PAGE_BYTES} bytes")
                chunks.append(chunk)
            pages_header = response.headers.get("x-wp-totalpages", "")
    except httpx.HTTPError as error:
        raise PullError(f"the shop could not be reached: {error.__class__.__name__}") from error
    try:
        items = json.loads(b"".join(chunks))
    except ValueError:
        raise PullError(f"page {page} is not JSON") from None
    if not isinstance(items, list):
        raise PullError(f"page {page} is not a list of orders")
    header = pages_header.strip()
    guessed = page + 1 if len(items) >= PAGE_SIZE else page  # without the header: on while pages are full
    return items, int(header) if header.isdigit() and len(header) <= 9 else guessed


def _save_one(session: Session, shop_id: int, data: orders.OrderInput) -> orders.Saved:
    """In a savepoint (whose events go with it when it rolls back), so one order that cannot be
    saved leaves the rest of the page."""
    try:
        with events.savepoint(session):
            return orders.save(session, shop_id, data, source=PLATFORM)
    except IntegrityError:  # a webhook saved the same customer or order just now: theirs is found
        with events.savepoint(session):
            return orders.save(session, shop_id, data, source=PLATFORM)


def _save_page(factory: sessionmaker[Session], shop_id: int, items: list[Any], report: Report,
               lock: contextlib.AbstractContextManager[object]) -> None:
    with lock, transaction(factory) as session:
        for index, item in enumerate(items):
            label = next((value for value in (item.get("number"), item.get("id")) if isinstance(value, str | int)),
                         f"#{index + 1}") if isinstance(item, dict) else f"#{index + 1}"
            report.orders += 1
            try:
                data = mapping.order_input(item)
                if data.updated_at is not None and (report.newest is None or data.updated_at > report.newest):
                    report.newest = data.updated_at
                saved = _save_one(session, shop_id, data)
            except Invalid as error:
                report.refused.append(f"order {str(label)[:64]}: {mapping.renamed(error.detail)}")
                continue
            if saved.created:
                report.created += 1
            elif saved.changed:
                report.updated += 1
            else:
                report.unchanged += 1


def pull(factory: sessionmaker[Session], target: Target, *, allow_private: bool, timeout: float,
         lock: contextlib.AbstractContextManager[object] | None = None) -> Report:
    """Every order modified since `target.since`, page by page; raises PullError when the shop
    cannot be asked (what was saved before stays saved: every save is idempotent)."""
    _check_address(target.api_url, allow_private=allow_private)
    report = Report(target.shop_id, target.since)
    headers = {"Accept": "application/json", "User-Agent": "Balie/1 (WooCommerce reconciliation)"}
    with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers) as client:
        page, pages = 1, 1
        while page <= pages:
            if page > MAX_PAGES:
                report.truncated = True
                log.warning("woocommerce pull for shop %s: more than %s pages changed; the newest were taken",
                            target.shop_id, MAX_PAGES)
                break
            items, pages = fetch_page(client, target, page)
            report.pages += 1
            if not items:
                break
            _save_page(factory, target.shop_id, items, report, lock or contextlib.nullcontext())
            page += 1
    for refusal in report.refused:
        log.warning("woocommerce pull for shop %s refused %s", target.shop_id, refusal)
    return report


def watermark(report: Report, previous: dt.datetime | None) -> dt.datetime | None:
    """Where the next pull starts: never earlier than before."""
    if report.newest is None:
        return previous
    start = report.newest - OVERLAP
    return start if previous is None or start > previous else previous


def _ready() -> Any:
    return and_(Connection.platform == PLATFORM, Connection.api_url.is_not(None), Connection.api_key.is_not(None),
                Connection.api_secret.is_not(None))


def _target(connection: Connection, since: dt.datetime | None) -> Target:
    assert connection.api_url and connection.api_key and connection.api_secret
    start = since or connection.last_pulled_at or clock.now() - FIRST_LOOKBACK
    return Target(connection.shop_id, connection.api_url, connection.api_key, connection.api_secret,
                  start.astimezone(dt.UTC))


def reconcile(factory: sessionmaker[Session], shop_id: int, *, since: dt.datetime | None = None,
              allow_private: bool = False, timeout: float = 10.0,
              lock: contextlib.AbstractContextManager[object] | None = None) -> Report:
    """One shop, now (`balie commerce reconcile`); from `since`, else from where the last pull got to."""
    with transaction(factory) as session:
        connection = session.scalars(select(Connection).where(_ready(), Connection.shop_id == shop_id)).first()
        if connection is None:
            raise Invalid(f"shop {shop_id} has no WooCommerce connection with an api_url, api_key and api_secret "
                          "(PUT /api/v1/commerce/connections/woocommerce)", code="not_connected")
        target = _target(connection, since)
    try:
        report = pull(factory, target, allow_private=allow_private, timeout=timeout, lock=lock)
    except PullError as error:
        _finish(factory, target, None, str(error), lock=lock)
        raise
    _finish(factory, target, report, None, lock=lock)
    return report


def pull_due(factory: sessionmaker[Session], *, interval: float, allow_private: bool = False, timeout: float = 10.0,
             lock: contextlib.AbstractContextManager[object] | None = None, limit: int = PER_PASS) -> int:
    """One worker pass: the shops whose pull is due, one after the other. Returns how many."""
    if interval <= 0:
        return 0
    with lock or contextlib.nullcontext(), transaction(factory) as session:
        claims = _claim(session, limit)
    for target, lease in claims:
        report, error = None, None
        try:
            report = pull(factory, target, allow_private=allow_private, timeout=timeout, lock=lock)
            log.info("woocommerce pull: %s", report.summary())
        except PullError as failure:
            error = str(failure)
        except Exception as failure:  # one shop's surprise must not stop the others
            log.exception("woocommerce pull for shop %s failed unexpectedly", target.shop_id)
            error = f"unexpected error: {failure.__class__.__name__}"
        _finish(factory, target, report, error, lock=lock, lease=lease, interval=interval)
    return len(claims)


def _claim(session: Session, limit: int) -> list[tuple[Target, dt.datetime]]:
    """Unscoped on purpose: the worker serves every shop."""
    now = clock.now()
    due = and_(_ready(), or_(Connection.pull_due_at.is_(None), Connection.pull_due_at <= now),
               or_(Connection.pull_locked_until.is_(None), Connection.pull_locked_until < now))
    query = (select(Connection.shop_id).where(due).order_by(Connection.pull_due_at.nulls_first(), Connection.shop_id)
             .limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claims = []
    lease = now + LEASE
    for shop_id in session.scalars(query).all():
        # The conditional update makes the claim safe on SQLite too: only one worker's wins.
        taken = session.execute(update(Connection).where(Connection.shop_id == shop_id, Connection.platform == PLATFORM,
                                                         due).values(pull_locked_until=lease)
                                .execution_options(synchronize_session=False))
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            claims.append((_target(session.get_one(Connection, (shop_id, PLATFORM)), None), lease))
    return claims


def backoff(failures: int, interval: float) -> dt.timedelta:
    """1 min, 2, 4, ... never longer than the normal interval."""
    return dt.timedelta(seconds=min(interval, BASE_BACKOFF * 2 ** max(0, failures - 1)))


def _finish(factory: sessionmaker[Session], target: Target, report: Report | None, error: str | None, *,
            lock: contextlib.AbstractContextManager[object] | None, lease: dt.datetime | None = None,
            interval: float | None = None) -> None:
    """Writes the outcome: where the next pull starts, or the failure and when to try again.
    A worker's write counts only while its lease holds (a disconnected shop has no row)."""
    with lock or contextlib.nullcontext(), transaction(factory) as session:
        query = select(Connection).where(Connection.shop_id == target.shop_id, Connection.platform == PLATFORM)
        if lease is not None:
            query = query.where(Connection.pull_locked_until == lease)
        connection = session.scalars(query).first()
        if connection is None:
            return
        now = clock.now()
        if error is None:
            assert report is not None
            connection.last_pulled_at = watermark(report, connection.last_pulled_at)
            connection.pull_failures, connection.pull_error = 0, ""
        else:
            connection.pull_failures += 1
            connection.pull_error = error[:500]
            log.warning("woocommerce pull for shop %s failed (%s in a row): %s", target.shop_id,
                        connection.pull_failures, error)
        if lease is not None and interval is not None:
            connection.pull_locked_until = None
            connection.pull_due_at = now + (dt.timedelta(seconds=interval) if error is None
                                            else backoff(connection.pull_failures, interval))
