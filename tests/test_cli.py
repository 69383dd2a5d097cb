"""The `balie` command as scripts use it: its output is a contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from balie import cli
from balie.config import Settings


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Settings:
    monkeypatch.setenv("BALIE_DATABASE_URL", database_url)
    monkeypatch.setenv("BALIE_DATA_DIR", str(tmp_path / "data"))
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert cli.main(list(args)) == 0
    return capsys.readouterr().out


def test_shop_agent_token_from_the_command_line(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "migrate")
    shop_line = run(capsys, "shop", "add", "Fietsen & Zo")
    match = re.fullmatch(r"(\d+) (pk_\S+)\n", shop_line)
    assert match, shop_line
    shop_id = match.group(1)
    agent_out = run(capsys, "agent", "add", "Els@Example.nl", "--shop", shop_id, "--admin")
    assert "els@example.nl admin" in agent_out and "password: " in agent_out
    token_out = run(capsys, "token", "create", "--shop", "Fietsen & Zo", "--agent", "els@example.nl")
    assert re.fullmatch(r"blt_[A-Za-z0-9_-]{40,}\n", token_out), token_out  # the token and nothing else
    from balie.app import create_app

    with TestClient(create_app(env, run_worker=False)) as client:
        response = client.get("/api/v1/conversations", headers={"Authorization": f"Bearer {token_out.strip()}"})
    assert response.status_code == 200 and response.json() == {"items": [], "next_cursor": None}


def test_demo_seeds_once(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "migrate")
    first = run(capsys, "demo", "--if-empty")
    assert "Demo Webwinkel" in first and "sanne@demo.balie.test" in first and "balie-demo" in first
    again = run(capsys, "demo", "--if-empty")
    assert "no demo seeded" in again and "balie-demo" in again
    token = run(capsys, "token", "create", "--shop", "Demo Webwinkel", "--agent", "sanne@demo.balie.test").strip()
    from balie.app import create_app

    with TestClient(create_app(env, run_worker=False)) as client:
        listing = client.get("/api/v1/conversations?status=all&limit=100",
                             headers={"Authorization": f"Bearer {token}"}).json()
    channels = {item["channel"] for item in listing["items"]}
    statuses = {item["status"] for item in listing["items"]}
    assert {"email", "chat", "whatsapp", "api", "phone", "social"} <= channels
    assert {"open", "pending", "resolved", "snoozed"} <= statuses


def test_errors_are_one_line_without_traceback(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "migrate")
    assert cli.main(["agent", "add", "x@example.nl", "--shop", "Bestaat Niet"]) == 2
    assert "no shop 'Bestaat Niet'" in capsys.readouterr().err
    assert cli.main(["token", "create", "--shop", "1", "--agent", "x@example.nl"]) == 2
    run(capsys, "shop", "add", "Een")
    assert cli.main(["agent", "add", "not-an-email", "--shop", "Een"]) == 2
    assert "not an e-mail address" in capsys.readouterr().err


def test_commands_refuse_an_unmigrated_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BALIE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("BALIE_DATA_DIR", str(tmp_path))
    with pytest.raises(SystemExit, match="balie migrate"):
        cli.main(["shop", "add", "Te Vroeg"])


def test_serve_refuses_several_processes_without_postgres_and_redis(
    env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "migrate")
    monkeypatch.delenv("BALIE_REDIS_URL", raising=False)
    expected = "SQLite" if env.database_url.startswith("sqlite") else "BALIE_REDIS_URL"
    with pytest.raises(SystemExit, match=expected):
        cli.main(["serve", "--workers", "2"])


def test_mailbox_add(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "migrate")
    run(capsys, "shop", "add", "Mailwinkel")
    out = run(capsys, "mailbox", "add", "Support@Mailwinkel.example", "--shop", "Mailwinkel",
              "--imap", "imaps://support%40mailwinkel.example:geheim@imap.mailwinkel.example/INBOX")
    assert re.fullmatch(r"\d+ support@mailwinkel\.example shop \d+ imap\n", out), out
    assert cli.main(["mailbox", "add", "support@mailwinkel.example", "--shop", "Mailwinkel"]) == 2
    assert "already a support address" in capsys.readouterr().err
    assert cli.main(["mailbox", "add", "x@y.example", "--shop", "Mailwinkel", "--imap", "ftp://h"]) == 2
    assert "IMAP URL must look like" in capsys.readouterr().err
