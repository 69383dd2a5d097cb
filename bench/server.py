"""Throwaway databases, the `balie` command, and a real `balie serve` process to measure."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import PG_URL, ROOT

_BIN = Path(sys.executable).parent
BALIE = [str(_BIN / "balie")] if (_BIN / "balie").exists() else [sys.executable, "-m", "balie.cli"]
AGENT_EMAIL = "bench@bench.example"
AGENT_PASSWORD = "bench-password-123"  # a throwaway agent in a throwaway database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def plain_pg_url(url: str = PG_URL) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


class Database:
    """A fresh SQLite file or a fresh PostgreSQL schema, with a data directory beside it."""

    def __init__(self, kind: str, redis_url: str | None = None) -> None:
        assert kind in ("sqlite", "postgresql")
        self.kind = kind
        self.redis_url = redis_url
        self.schema: str | None = None
        if kind == "postgresql":
            import psycopg

            schema = f"balie_bench_{secrets.token_hex(5)}"
            with psycopg.connect(plain_pg_url(), autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'create schema "{schema}"')
            self.schema = schema
        self.tmp = Path(tempfile.mkdtemp(prefix=f"balie-bench-{kind}-"))
        if kind == "sqlite":
            self.url = f"sqlite:///{self.tmp / 'balie.db'}"
        else:
            base = re.sub(r"^postgresql(\+\w+)?://", "postgresql+psycopg://", PG_URL)
            sep = "&" if "?" in base else "?"
            self.url = f"{base}{sep}options=-csearch_path%3D{self.schema}"

    @property
    def data_dir(self) -> Path:
        return self.tmp / "data"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BALIE_")}
        env["BALIE_DATABASE_URL"] = self.url
        env["BALIE_DATA_DIR"] = str(self.data_dir)
        env["BALIE_SMTP_LISTEN"] = os.environ.get("BALIE_BENCH_SMTP_LISTEN", "")  # the mail bench sets one
        if self.redis_url:
            env["BALIE_REDIS_URL"] = self.redis_url
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def balie(self, *args: str) -> str:
        done = subprocess.run(
            [*BALIE, *args], env=self.env(), capture_output=True, text=True, timeout=180, cwd=ROOT
        )
        if done.returncode != 0:
            raise RuntimeError(f"balie {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done.stdout

    def migrate(self) -> None:
        self.balie("migrate")

    def tenant(self, name: str = "Bench Winkel") -> Tenant:
        shop_id = int(self.balie("shop", "add", name).split()[0])
        self.balie("agent", "add", AGENT_EMAIL, "--shop", str(shop_id), "--admin", "--name", "Bench Agent",
                   "--password", AGENT_PASSWORD)
        token = self.balie("token", "create", "--shop", str(shop_id), "--agent", AGENT_EMAIL).strip()
        return Tenant(shop_id=shop_id, email=AGENT_EMAIL, password=AGENT_PASSWORD, token=token)

    def scalar(self, sql: str) -> int:
        """One number from the database under test (-1 when the query returns no row)."""
        if self.kind == "sqlite":
            import sqlite3

            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"))
            try:
                row = conn.execute(sql).fetchone()
            finally:
                conn.close()
        else:
            import psycopg

            with psycopg.connect(plain_pg_url(), options=f"-csearch_path={self.schema}") as pg:
                row = pg.execute(sql).fetchone()
        return int(row[0]) if row else -1

    def close(self) -> None:
        if self.schema is not None:
            import psycopg

            with psycopg.connect(plain_pg_url(), autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'drop schema if exists "{self.schema}" cascade')
            self.schema = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Tenant:
    shop_id: int
    email: str
    password: str
    token: str


class Server:
    """`balie serve` as a child process; start-up is timed to the first 200 on /healthz."""

    def __init__(self, db: Database, *, worker: bool = False, workers: int = 1) -> None:
        self.db = db
        self.worker = worker
        self.workers = workers
        self.port = free_port()
        self.host = "127.0.0.1"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = db.tmp / f"serve-{self.port}.log"
        self.startup_s: float | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> float:
        args = [*BALIE, "serve", "--host", self.host, "--port", str(self.port), "--log-level", "warning"]
        if not self.worker:
            args.append("--no-worker")
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        with self.log_path.open("wb") as log:
            started = time.perf_counter()
            self.proc = subprocess.Popen(args, env=self.db.env(), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"balie serve exited with {self.proc.returncode}:\n{self.log()}")
            if self.get("/healthz", timeout=1.0)[0] == 200:
                self.startup_s = time.perf_counter() - started
                return self.startup_s
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"balie serve did not answer /healthz within {timeout} s:\n{self.log()}")

    def get(self, path: str, timeout: float = 10.0, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        except OSError:
            return 0, b""
        finally:
            conn.close()

    def get_json(self, path: str, token: str) -> Any:
        status, body = self.get(path, headers={"Authorization": f"Bearer {token}"})
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
        return json.loads(body)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_client(config: dict[str, Any], timeout: float, module: str = "bench.client") -> dict[str, Any]:
    """Runs a client module (bench.client by default) in its own process and returns what it measured."""
    done = subprocess.run(
        [sys.executable, "-m", module], input=json.dumps(config), capture_output=True, text=True,
        timeout=timeout, cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed ({done.returncode}): {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


class PrivateRedis:
    """A throwaway redis-server on a free loopback port, so the benchmark's pub/sub traffic
    never reaches anybody else's subscribers (pub/sub channels ignore the database number)."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        if self.binary is None:
            raise RuntimeError("redis-server is not installed")
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self.url
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@contextlib.contextmanager
def private_redis(scenario: str) -> Iterator[str | None]:
    """The URL of a PrivateRedis for the block; None (said once) when redis-server is missing."""
    private = PrivateRedis()
    if private.binary is None:
        print(f"[{scenario}] no redis-server: skipping the runs that need Redis", flush=True)
        yield None
        return
    try:
        yield private.start()
    finally:
        private.stop()
