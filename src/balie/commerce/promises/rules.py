"""When a delivery promise is broken: four rules over one order's promise and its parcels,
pure functions of the moment (so tests can walk through time without a database).

- cutoff: no carrier scan (anything from `in_transit` on) by the shop's dispatch cut-off
  on the day before the promised date;
- passed: the promised day (or window) is over and the order is not delivered;
- exception: the carrier reports `exception` or `delivery_failed`;
- stuck: a parcel has been `in_transit` longer than its carrier's normal time.

For a second promise (generation 2) only what happens after the first breach counts: the
scan or event that broke the first promise cannot break the second."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

NOT_SCANNED = (None, "info_received")
TROUBLE = ("exception", "delivery_failed")
# At a pick-up point the parcel is where the customer can get it: not late.
ARRIVED = ("delivered", "available_for_pickup")


@dataclass(frozen=True)
class Parcel:
    carrier: str
    status: str | None
    status_at: dt.datetime | None


@dataclass(frozen=True)
class Watched:
    order_id: int
    promised_date: dt.date
    window_end: dt.datetime | None = None  # a window promise: the date is the window's first day
    delivery_status: str | None = None
    parcels: list[Parcel] = field(default_factory=list)
    since: dt.datetime | None = None  # generation 2: when the first breach was found


@dataclass(frozen=True)
class Policy:
    zone: dt.tzinfo
    cutoff: dt.time
    transit_days: int
    carriers: dict[str, int]
    extra_days: int

    def transit_for(self, carrier: str) -> int:
        return self.carriers.get(carrier.strip().lower(), self.transit_days)


@dataclass(frozen=True)
class Finding:
    rule: str
    broken_at: dt.datetime
    detail: str  # what the customer is told happened: a key of texts (cutoff, delivery_failed, ...)


def local_moment(day: dt.date, at: dt.time, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)


def cutoff_moment(promised: dt.date, policy: Policy) -> dt.datetime:
    return local_moment(promised - dt.timedelta(days=1), policy.cutoff, policy.zone)


def deadline(watched: Watched, policy: Policy) -> dt.datetime:
    if watched.window_end is not None:
        return watched.window_end
    return local_moment(watched.promised_date + dt.timedelta(days=1), dt.time(0, 0), policy.zone)


def cutoff_horizon(now: dt.datetime, policy: Policy) -> dt.date:
    """The latest promised date whose cut-off has come: orders promised later need no look."""
    local = now.astimezone(policy.zone)
    shifted = local - dt.timedelta(hours=policy.cutoff.hour, minutes=policy.cutoff.minute)
    return shifted.date() + dt.timedelta(days=1)


def evaluate(watched: Watched, now: dt.datetime, policy: Policy) -> Finding | None:
    since = watched.since
    for parcel in watched.parcels:
        if (parcel.status in TROUBLE and parcel.status_at is not None
                and (since is None or parcel.status_at > since)):
            return Finding("exception", parcel.status_at, parcel.status or "exception")
    if watched.delivery_status in ARRIVED:
        return None
    end = deadline(watched, policy)
    if now >= end:
        return Finding("passed", end, "passed")
    cutoff = cutoff_moment(watched.promised_date, policy)
    if now >= cutoff and all(parcel.status in NOT_SCANNED for parcel in watched.parcels):
        return Finding("cutoff", cutoff, "cutoff")
    for parcel in watched.parcels:
        if parcel.status != "in_transit" or parcel.status_at is None:
            continue
        started = max(parcel.status_at, since) if since is not None else parcel.status_at
        stuck_at = started + dt.timedelta(days=policy.transit_for(parcel.carrier))
        if now >= stuck_at:
            return Finding("stuck", stuck_at, "stuck")
    return None


def new_expected_date(promised: dt.date, now: dt.datetime, policy: Policy) -> dt.date:
    """The later of the promised date and today, plus the days a recovered parcel needs;
    parcels are not delivered on Sundays."""
    today = now.astimezone(policy.zone).date()
    expected = max(promised, today) + dt.timedelta(days=policy.extra_days)
    if expected.weekday() == 6:
        expected += dt.timedelta(days=1)
    return expected
