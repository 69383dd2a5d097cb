"""The monitor: one pass over every watching shop's open, undelivered orders with a promise,
recording each promise found broken as a `promise_breach` row (state `new`); notice.py acts
on those. Runs in the worker every BALIE_PROMISE_SCAN_SECONDS.

Cheap on a million orders: each rule first asks the database, through partial indexes that
hold only open undelivered orders with a promise, for the few orders it could apply to now
(promised by the cut-off horizon; carrier trouble; in transit longer than the shortest
normal time); only those are read, in batches, and judged by rules.py. The key (order,
generation) makes a breach recorded once, whichever worker finds it first."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.commerce.models import Order, Shipment
from balie.commerce.promises import rules
from balie.commerce.promises import settings as promise_settings
from balie.commerce.promises.models import Breach
from balie.db import transaction
from balie.shops.models import Shop

log = logging.getLogger(__name__)
BATCH = 1000


@dataclass
class Pass:
    shops: int = 0
    looked_at: int = 0
    found: int = 0


def policy_of(session: Session, shop_id: int, wanted: promise_settings.Settings) -> rules.Policy:
    zone_name = session.scalar(select(Shop.time_zone).where(Shop.id == shop_id)) or "Europe/Amsterdam"
    try:
        zone: dt.tzinfo = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Europe/Amsterdam")
    return rules.Policy(zone=zone, cutoff=wanted.cutoff_time, transit_days=wanted.transit_days,
                        carriers=wanted.carriers, extra_days=wanted.extra_days)


def scan(factory: sessionmaker[Session], *, now: dt.datetime | None = None) -> Pass:
    """One pass over every shop that watches its promises; each shop in its own transaction."""
    now = now or clock.now()
    result = Pass()
    with factory() as session:
        shop_ids = promise_settings.enabled_shops(session)
    for shop_id in shop_ids:
        try:
            with transaction(factory) as session:
                looked_at, found = scan_shop(session, shop_id, now)
        except Exception:  # one shop's trouble must not keep the others' promises unwatched
            log.exception("promise monitor: the pass over shop %s failed; the next pass tries again", shop_id)
            continue
        result.shops += 1
        result.looked_at += looked_at
        result.found += found
    if result.found:
        log.info("promise monitor: %s broken promises found in %s orders looked at", result.found, result.looked_at)
    return result


def scan_shop(session: Session, shop_id: int, now: dt.datetime) -> tuple[int, int]:
    wanted = promise_settings.load(session, shop_id)
    policy = policy_of(session, shop_id, wanted)
    # Promises that broke before the shop turned watching on are not ours to apologise for.
    since = wanted.enabled_at or now
    looked_at = found = 0
    for batch in _chunks(sorted(_first_candidates(session, shop_id, now, policy, since)), BATCH):
        watched = _first_promises(session, shop_id, batch, policy.zone)
        looked_at += len(watched)
        found += _record(session, shop_id, watched, now, policy, generation=1, since=since)
    second = _second_promises(session, shop_id)
    looked_at += len(second)
    found += _record(session, shop_id, second, now, policy, generation=2)
    return looked_at, found


def _open() -> list[ColumnElement[bool]]:
    """The partial indexes' condition, written the same way so the planner uses them."""
    return [Order.status == "open", Order.delivered_at.is_(None)]


def _first_candidates(session: Session, shop_id: int, now: dt.datetime, policy: rules.Policy,
                      since: dt.datetime) -> set[int]:
    """Orders without a breach yet that a rule could apply to now (and could have broken
    since `since`: a little more is read, rules.py decides)."""
    fresh = ~exists().where(Breach.order_id == Order.id)
    horizon = rules.cutoff_horizon(now, policy)
    earliest = since.astimezone(policy.zone).date() - dt.timedelta(days=1)
    ids: set[int] = set()
    # cut-off and passed: promised by the horizon (the index on the promised date).
    ids.update(session.scalars(select(Order.id).where(
        Order.shop_id == shop_id, *_open(), Order.promised_delivery_date.is_not(None),
        Order.promised_delivery_date <= horizon, Order.promised_delivery_date >= earliest, fresh)))
    window_limit = rules.local_moment(horizon + dt.timedelta(days=1), dt.time(0, 0), policy.zone)
    ids.update(session.scalars(select(Order.id).where(
        Order.shop_id == shop_id, *_open(), Order.promised_window_start.is_not(None),
        Order.promised_window_start < window_limit, Order.promised_window_start >= since - dt.timedelta(days=60),
        fresh)))
    # carrier trouble (the index on the delivery status) reported since: trouble from before
    # stays with the order but is not looked at again on every pass.
    recent_trouble = exists().where(Shipment.shop_id == shop_id, Shipment.order_id == Order.id,
                                    Shipment.status.in_(rules.TROUBLE), Shipment.status_at >= since)
    ids.update(session.scalars(select(Order.id).where(
        Order.shop_id == shop_id, *_open(), Order.delivery_status.in_(rules.TROUBLE),
        Order.promised_delivery_date.is_not(None) | Order.promised_window_start.is_not(None), recent_trouble,
        fresh)))
    # stuck: in transit since before the shortest normal time (the index on parcels in transit).
    shortest = min([policy.transit_days, *policy.carriers.values()])
    longest = max([policy.transit_days, *policy.carriers.values()])
    stuck = session.scalars(
        select(Shipment.order_id).join(Order, and_(Order.id == Shipment.order_id, Order.shop_id == shop_id))
        .where(Shipment.shop_id == shop_id, Shipment.status == "in_transit",
               Shipment.status_at <= now - dt.timedelta(days=shortest),
               Shipment.status_at >= since - dt.timedelta(days=longest), *_open(),
               Order.promised_delivery_date.is_not(None) | Order.promised_window_start.is_not(None), fresh))
    ids.update(order_id for order_id in stuck if order_id is not None)
    return ids


def _parcels(session: Session, shop_id: int, order_ids: list[int]) -> dict[int, list[rules.Parcel]]:
    found: dict[int, list[rules.Parcel]] = {order_id: [] for order_id in order_ids}
    for row in session.execute(select(Shipment.order_id, Shipment.carrier, Shipment.status, Shipment.status_at)
                               .where(Shipment.shop_id == shop_id, Shipment.order_id.in_(order_ids))):
        found[row.order_id].append(rules.Parcel(row.carrier, row.status, row.status_at))
    return found


def _first_promises(session: Session, shop_id: int, order_ids: list[int], zone: dt.tzinfo) -> list[rules.Watched]:
    """A window promises the day it starts on, in the shop's zone."""
    rows = session.execute(select(Order.id, Order.promised_delivery_date, Order.promised_window_start,
                                  Order.promised_window_end, Order.delivery_status)
                           .where(Order.shop_id == shop_id, Order.id.in_(order_ids))).all()
    parcels = _parcels(session, shop_id, order_ids)
    watched = []
    for row in rows:
        window_start = clock.aware(row.promised_window_start)
        promised = row.promised_delivery_date or (window_start.astimezone(zone).date() if window_start else None)
        if promised is None:
            continue
        watched.append(rules.Watched(order_id=row.id, promised_date=promised,
                                     window_end=clock.aware(row.promised_window_end)
                                     if row.promised_delivery_date is None else None,
                                     delivery_status=row.delivery_status, parcels=parcels[row.id]))
    return watched


def _second_promises(session: Session, shop_id: int) -> list[rules.Watched]:
    """The new expected dates still watched; a first breach whose order was delivered or
    closed since is not watched any more."""
    rows = session.execute(
        select(Breach.id, Breach.order_id, Breach.new_expected_date, Breach.detected_at, Order.status,
               Order.delivered_at, Order.delivery_status)
        .join(Order, Order.id == Breach.order_id)
        .where(Breach.shop_id == shop_id, Breach.watching)).all()
    done = [row.id for row in rows if row.status != "open" or row.delivered_at is not None]
    if done:
        session.execute(update(Breach).where(Breach.id.in_(done)).values(watching=False))
    live = [row for row in rows if row.status == "open" and row.delivered_at is None]
    parcels = _parcels(session, shop_id, [row.order_id for row in live])
    return [rules.Watched(order_id=row.order_id, promised_date=row.new_expected_date,
                          delivery_status=row.delivery_status, parcels=parcels[row.order_id],
                          since=clock.aware(row.detected_at)) for row in live]


def _record(session: Session, shop_id: int, watched: list[rules.Watched], now: dt.datetime, policy: rules.Policy,
            *, generation: int, since: dt.datetime | None = None) -> int:
    values = []
    for promise in watched:
        finding = rules.evaluate(promise, now, policy)
        if finding is None or (since is not None and finding.broken_at < since):
            continue
        values.append({
            "shop_id": shop_id, "order_id": promise.order_id, "generation": generation, "rule": finding.rule,
            "promised_date": promise.promised_date, "broken_at": finding.broken_at, "detected_at": now,
            "new_expected_date": rules.new_expected_date(promise.promised_date, now, policy),
            "detail": finding.detail, "state": "new", "watching": False,
        })
    if not values:
        return 0
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # Another worker may have recorded the same breach a moment ago: the key keeps one. The
    # table, not the class, with the rows as parameters: one compiled statement sent in
    # batches (a VALUES list of a thousand rows took a second to compile).
    statement = insert(Breach.__table__).on_conflict_do_nothing(  # type: ignore[arg-type]
        index_elements=["order_id", "generation"]).returning(Breach.__table__.c.id)
    count = len(session.execute(statement, values).all())
    if generation == 2:
        session.execute(update(Breach).where(Breach.shop_id == shop_id, Breach.generation == 1,
                                             Breach.order_id.in_([item["order_id"] for item in values]))
                        .values(watching=False))
    return count


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
