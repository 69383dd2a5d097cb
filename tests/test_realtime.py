"""Live updates: an agent connected to one process sees what arrived through another (Redis)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from servers import balie, serving


def read_events(response: httpx.Response):  # type: ignore[no-untyped-def]
    event = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line[len("event: "):]
        elif line.startswith("data: ") and event:
            yield event, json.loads(line[len("data: "):])
            event = None


@pytest.mark.redis
def test_two_processes_share_live_updates(tmp_path: Path, redis_url: str) -> None:
    env = {"BALIE_DATA_DIR": str(tmp_path / "data"),
           "BALIE_DATABASE_URL": f"sqlite:///{tmp_path / 'balie.db'}",
           "BALIE_REDIS_URL": redis_url,
           "BALIE_REDIS_PREFIX": f"balie-test-{uuid.uuid4().hex[:8]}"}
    balie("migrate", env=env)
    balie("shop", "add", "Twee Processen", env=env)
    balie("agent", "add", "ops@example.nl", "--shop", "1", env=env)
    token = balie("token", "create", "--shop", "1", "--agent", "ops@example.nl", env=env).strip()
    headers = {"Authorization": f"Bearer {token}"}
    with (
        serving(env, "--no-worker") as first,
        serving(env, "--no-worker") as second,
        httpx.Client(timeout=httpx.Timeout(10.0)) as client,
        client.stream("GET", f"{first.url}/api/v1/events", headers=headers) as stream,
    ):
        assert stream.status_code == 200
        events = read_events(stream)
        assert next(events)[0] == "ready"
        posted = client.post(f"{second.url}/api/v1/messages", headers=headers,
                             json={"customer": {"email": "live@example.nl"}, "text": "Hoort u mij?"})
        assert posted.status_code == 201
        kind, data = next(events)  # a read timeout (10 s) fails the test instead of hanging
        assert kind == "message.created"
        assert data["conversation_id"] == posted.json()["conversation_id"]


def test_open_event_streams_do_not_hold_database_connections(tmp_path: Path, database_url: str) -> None:
    """Streams last for hours; if each kept a pooled connection, a few dozen of them would
    stop every other request (the pool holds 30 on PostgreSQL)."""
    from contextlib import ExitStack

    env = {"BALIE_DATA_DIR": str(tmp_path / "data"), "BALIE_DATABASE_URL": database_url}
    balie("shop", "add", "Veel Tabbladen", env=env)
    balie("agent", "add", "tabs@example.nl", "--shop", "1", env=env)
    headers = {"Authorization": "Bearer " + balie("token", "create", "--shop", "1", "--agent", "tabs@example.nl",
                                                  env=env).strip()}
    with serving(env, "--no-worker") as server, httpx.Client(timeout=httpx.Timeout(10.0)) as client, \
            ExitStack() as streams:
        for _ in range(35):
            stream = streams.enter_context(client.stream("GET", f"{server.url}/api/v1/events", headers=headers))
            assert next(read_events(stream))[0] == "ready"
        assert client.get(f"{server.url}/api/v1/shop", headers=headers).status_code == 200
