"""SLA targets and the clock arithmetic behind them. Pure functions, no database.

A target is "N minutes, counted in business time (the channel's opening hours) or calendar
time", per channel × priority, for three promises: the first response, the next response
(after each customer message) and the resolution. Each running timer knows two moments: when
it is due and when it is "due soon" (by default at 80 % of the target), both computed once when
the timer starts or resumes, so a state is a comparison with now and a scheduler can find what
falls due with an index.

While a conversation waits on the customer (`pending`) or is snoozed the clock stops: `pause()`
keeps what was left, `resume()` starts again from there. A channel without any opening hours
cannot count business time: the target falls back to calendar time and the timer says so
(`Timer.calendar_fallback`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from balie.errors import Invalid
from balie.hours.schedule import NoHours, Schedule, business_after, business_minutes_between

KINDS = ("first_response", "next_response", "resolution")
STATES = ("on_track", "due_soon", "breached", "paused", "met")
PRIORITIES = ("low", "normal", "high", "urgent")
MAX_MINUTES = 366 * 24 * 60
DEFAULT_NEAR = 0.8


@dataclass(frozen=True)
class Target:
    minutes: int
    business: bool = True  # counted in the channel's opening hours, else around the clock

    def __post_init__(self) -> None:
        if not 1 <= self.minutes <= MAX_MINUTES:
            raise Invalid(f"an SLA target is 1 minute to a year, not {self.minutes} minutes", code="invalid_target")


# What a new shop gets (issue 5): e-mail 24 h, chat 2 minutes while open, social and WhatsApp
# 1 h, all in business time; the next response as the first; no resolution target. The same for
# every priority until the shop sets otherwise. Call-backs keep their own promise (callbacks/).
_DEFAULT_FIRST = {
    "email": Target(24 * 60), "api": Target(24 * 60), "form": Target(24 * 60), "chat": Target(2),
    "social": Target(60), "whatsapp": Target(60), "phone": Target(60),
}


@dataclass(frozen=True)
class Policy:
    """A shop's targets: (channel, priority, kind) → Target; missing = no promise of that kind."""

    targets: Mapping[tuple[str, str, str], Target]
    near: float = DEFAULT_NEAR  # "due soon" from this share of the target on

    def __post_init__(self) -> None:
        if not 0.0 < self.near < 1.0:
            raise Invalid("'due soon' is a share of the target between 0 and 1 (for example 0.8)", code="invalid_near")

    def target(self, channel: str, priority: str, kind: str) -> Target | None:
        return self.targets.get((channel, priority, kind))


def default_policy() -> Policy:
    targets: dict[tuple[str, str, str], Target] = {}
    for channel, target in _DEFAULT_FIRST.items():
        for priority in PRIORITIES:
            targets[(channel, priority, "first_response")] = target
            targets[(channel, priority, "next_response")] = target
    return Policy(targets)


@dataclass(frozen=True)
class Timer:
    """One running promise. `remaining_minutes` is set only while paused (in the target's unit)."""

    kind: str
    target: Target
    due_at: dt.datetime | None  # None while paused
    warn_at: dt.datetime | None
    calendar_fallback: bool = False  # business time asked, but the channel has no hours
    remaining_minutes: float | None = None
    met_at: dt.datetime | None = None


def _after(schedule: Schedule | None, target: Target, at: dt.datetime, minutes: float) -> tuple[dt.datetime, bool]:
    at = at.astimezone(dt.UTC)
    if target.business and schedule is not None:
        try:
            return business_after(schedule, at, minutes), False
        except NoHours:
            pass
    return at + dt.timedelta(minutes=minutes), target.business


def start(kind: str, target: Target, schedule: Schedule | None, at: dt.datetime, near: float = DEFAULT_NEAR) -> Timer:
    """A timer for `target` started at `at` (the customer's message)."""
    return _running(kind, target, schedule, at, target.minutes, near)


def _running(kind: str, target: Target, schedule: Schedule | None, at: dt.datetime, minutes: float,
             near: float) -> Timer:
    due_at, fallback = _after(schedule, target, at, minutes)
    # "Due soon" sits at `near` of the whole target; after a pause that may already have passed.
    warn_minutes = max(0.0, minutes - target.minutes * (1 - near))
    warn_at, _ = _after(schedule, target, at, warn_minutes)
    return Timer(kind=kind, target=target, due_at=due_at, warn_at=min(warn_at, due_at), calendar_fallback=fallback)


def pause(timer: Timer, schedule: Schedule | None, at: dt.datetime) -> Timer:
    """Stops the clock at `at`, keeping what was left (nothing, when already breached)."""
    if timer.due_at is None or timer.met_at is not None:
        return timer
    at = at.astimezone(dt.UTC)
    if timer.target.business and not timer.calendar_fallback and schedule is not None:
        left = business_minutes_between(schedule, at, timer.due_at)
    else:
        left = max(0.0, (timer.due_at - at).total_seconds() / 60)
    return replace(timer, due_at=None, warn_at=None, remaining_minutes=left)


def resume(timer: Timer, schedule: Schedule | None, at: dt.datetime, near: float = DEFAULT_NEAR) -> Timer:
    """Starts the clock again at `at` with what was left when it stopped."""
    if timer.remaining_minutes is None:
        return timer
    return _running(timer.kind, timer.target, schedule, at, timer.remaining_minutes, near)


def meet(timer: Timer, at: dt.datetime) -> Timer:
    return replace(timer, met_at=at.astimezone(dt.UTC))


def state_of(timer: Timer, now: dt.datetime) -> str:
    if timer.met_at is not None:
        return "met"
    if timer.due_at is None or timer.warn_at is None:
        return "paused"
    if now >= timer.due_at:
        return "breached"
    return "due_soon" if now >= timer.warn_at else "on_track"


_WORST_FIRST = ("breached", "due_soon", "on_track", "paused", "met")


def overall(timers: Iterable[Timer], now: dt.datetime) -> str | None:
    """The conversation's one state: the worst of its timers (None when it has none)."""
    states = {state_of(timer, now) for timer in timers}
    return next((state for state in _WORST_FIRST if state in states), None)
