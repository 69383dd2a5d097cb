"""The worker runs the monitor every BALIE_PROMISE_SCAN_SECONDS (by the one clock), and acts
on what it found in the same pass."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fastapi.testclient import TestClient
from promise_support import breaches, enable, local, order, post_order
from sqlalchemy.orm import Session, sessionmaker

from balie import clock, config
from balie.config import Settings
from factories import Tenant


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, promise_scan_seconds=300)


def test_the_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BALIE_PROMISE_SCAN_SECONDS", "15")
    assert config.load().promise_scan_seconds == 15
    monkeypatch.delenv("BALIE_PROMISE_SCAN_SECONDS")
    assert config.load().promise_scan_seconds == 60
    monkeypatch.setenv("BALIE_PROMISE_SCAN_SECONDS", "often")
    with pytest.raises(SystemExit, match="BALIE_PROMISE_SCAN_SECONDS must be a whole number"):
        config.load()


def test_the_worker_looks_again_only_when_the_interval_has_passed(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    frozen_clock.current = local(23, 21, 50)
    enable(client, tenant)
    placed = post_order(client, tenant, order())
    frozen_clock.current = local(23, 21, 58)
    app.state.worker.run_once()  # looks: the cut-off (22:00) has not come
    frozen_clock.current = local(23, 22, 2)  # it has now, but the worker looked only four minutes ago
    app.state.worker.run_once()
    assert breaches(client, tenant, placed["id"]) == []
    frozen_clock.current = local(23, 22, 3)  # five minutes since it looked
    app.state.worker.run_once()
    [breach] = breaches(client, tenant, placed["id"])
    assert breach["state"] in ("notified", "unreachable")  # acted on in the same pass
