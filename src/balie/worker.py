"""The background worker: delivers the outbox, runs due jobs, wakes timers and polls IMAP mailboxes. Runs inside
`balie serve` (a thread) or alone as `balie worker`; any number can run side by side."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Mapping

from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.automation import jobs as automation_jobs
from balie.automation import webhooks as automation_webhooks
from balie.channels.email import polling
from balie.commerce.promises import monitor as promise_monitor
from balie.commerce.promises import notice as promise_notice
from balie.commerce.shopify import privacy as shopify_privacy
from balie.commerce.woocommerce import pull as woocommerce_pull
from balie.config import Settings
from balie.conversations import jobs as conversation_jobs
from balie.conversations import received
from balie.events import Bus, Event
from balie.follow_ups import jobs as follow_up_jobs
from balie.outbox import dispatcher
from balie.ratelimit import Limiter
from balie.returns import jobs as return_jobs
from balie.scheduling import runner as scheduling
from balie.scheduling import service as scheduling_service
from balie.sla import jobs as sla_jobs
from balie.storage import FileStore

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
PURGE_SECONDS = 60.0  # how often finished due jobs past their retention are deleted
PULL_CHECK_SECONDS = 15.0  # how often the worker looks for WooCommerce shops due a pull
# What runs a due job of each kind (balie.scheduling); a kind missing here is left pending.
HANDLERS: Mapping[str, scheduling.Handler] = {
    follow_up_jobs.KIND: follow_up_jobs.fire, received.KIND: received.fire,
    sla_jobs.DUE_SOON: sla_jobs.fire_due_soon, sla_jobs.BREACHED: sla_jobs.fire_breached,
    automation_jobs.KIND: automation_jobs.fire,
    return_jobs.DUE_SOON: return_jobs.fire, return_jobs.OVERDUE: return_jobs.fire,
    shopify_privacy.KIND: shopify_privacy.fire_shop_redaction,
}


class Worker:
    def __init__(self, factory: sessionmaker[Session], bus: Bus, *, max_attempts: int = 8,
                 settings: Settings | None = None, store: FileStore | None = None, limiter: Limiter | None = None,
                 ingest_lock: contextlib.AbstractContextManager[object] | None = None,
                 handlers: Mapping[str, scheduling.Handler] | None = None) -> None:
        """IMAP polling runs when `settings`, `store` and `limiter` are given."""
        self.factory = factory
        self.max_attempts = max_attempts
        self.handlers = dict(HANDLERS if handlers is None else handlers)
        self.mail_poller: polling.Poller | None = None
        self.webhooks_private = settings.webhook_allow_private if settings is not None else False
        # WooCommerce's reconciliation pull runs in workers given settings (the app's, `balie worker`).
        self.woocommerce_pull_seconds = settings.woocommerce_pull_seconds if settings is not None else 0
        self.http_timeout = settings.webhook_timeout_seconds if settings is not None else 10.0
        self.ingest_lock = ingest_lock or threading.Lock()
        self._pull_checked_at: float | None = None
        if settings is not None and store is not None and limiter is not None:
            # The lock keeps this worker's own polls from interleaving their SQLite writes.
            self.mail_poller = polling.Poller(factory, store, limiter, settings, self.ingest_lock)
        self._purged_at: float | None = None
        # Promises are looked at by the one clock, so tests move time instead of waiting.
        self.promise_scan = dt.timedelta(seconds=settings.promise_scan_seconds if settings is not None else 60)
        self._promises_scanned_at: dt.datetime | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        bus.add_listener(self._on_event)

    def _on_event(self, item: Event) -> None:
        # New outbox entries, and a customer's message (its `message.received` job, received.py).
        customer_wrote = item.type == "message.created" and item.data.get("direction", "in") == "in"
        if item.type == "outbox.queued" or customer_wrote:
            self._wake.set()

    def run_once(self) -> int:
        """One pass over everything that is due; returns how much work was done."""
        done = len(dispatcher.dispatch_once(self.factory, max_attempts=self.max_attempts))
        done += len(scheduling.run_due(self.factory, self.handlers))
        if automation_jobs.KIND in self.handlers:  # a worker that runs the rules also calls their webhooks
            done += automation_webhooks.deliver_due(self.factory, allow_private=self.webhooks_private)
        done += conversation_jobs.wake_snoozed(self.factory)
        done += self._watch_promises()
        if self.mail_poller is not None:
            done += len(polling.poll_due(self.mail_poller))
        done += self._pull_woocommerce()
        self._purge()
        return done

    def _pull_woocommerce(self) -> int:
        """Now and then, the WooCommerce shops whose reconciliation pull is due."""
        if self.woocommerce_pull_seconds <= 0 or (
                self._pull_checked_at is not None and time.monotonic() - self._pull_checked_at < PULL_CHECK_SECONDS):
            return 0
        self._pull_checked_at = time.monotonic()
        return woocommerce_pull.pull_due(self.factory, interval=self.woocommerce_pull_seconds,
                                         allow_private=self.webhooks_private, timeout=self.http_timeout,
                                         lock=self.ingest_lock)
    def _watch_promises(self) -> int:
        """Every BALIE_PROMISE_SCAN_SECONDS a pass for broken delivery promises; what it found
        (and what another worker found) is acted on at once, in batches."""
        now = clock.now()
        if self._promises_scanned_at is None or now - self._promises_scanned_at >= self.promise_scan:
            self._promises_scanned_at = now
            promise_monitor.scan(self.factory, now=now)
        return promise_notice.act(self.factory)

    def _purge(self) -> None:
        """Now and then, finished due jobs past their retention go (not counted as work done)."""
        if self._purged_at is not None and time.monotonic() - self._purged_at < PURGE_SECONDS:
            return
        self._purged_at = time.monotonic()
        with self.factory() as session:
            gone = scheduling_service.purge_finished(session, now=clock.now())
        if gone:
            log.info("deleted %s finished due jobs past their retention", gone)

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("worker pass failed; trying again")
                busy = 0
            if not busy:
                self._wake.wait(POLL_SECONDS)
            self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="balie-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
