"""`balie serve --workers N`: every process receives mail on the one SMTP port."""

from __future__ import annotations

import smtplib
import uuid
from pathlib import Path

import pytest
from mail_support import mail
from sqlalchemy import select

from balie.conversations.models import Message
from balie.db import make_engine
from balie.shops.models import Shop
from servers import balie, free_port, serving

ADDRESS = "support@werkers.example"


@pytest.mark.redis
def test_every_worker_receives_mail_on_the_shared_port(
    tmp_path: Path, postgres_schema_url: str, redis_url: str
) -> None:
    smtp_port = free_port()
    env = {"BALIE_DATA_DIR": str(tmp_path / "data"), "BALIE_DATABASE_URL": postgres_schema_url,
           "BALIE_REDIS_URL": redis_url, "BALIE_REDIS_PREFIX": f"balie-test-{uuid.uuid4().hex[:8]}",
           "BALIE_SMTP_LISTEN": f"127.0.0.1:{smtp_port}"}
    shop = f"Werkers {uuid.uuid4().hex[:6]}"
    shop_id = balie("shop", "add", shop, env=env).split()[0]
    address = f"{uuid.uuid4().hex[:6]}-{ADDRESS}"
    balie("mailbox", "add", address, "--shop", shop_id, env=env)
    with serving(env, "--workers", "2", "--no-worker") as server:
        sent = []
        for index in range(20):  # a connection each: the kernel spreads them over the processes
            message = mail(f"Vraag {index}", to=address)
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
                client.send_message(message, to_addrs=[address])
            sent.append(message["Message-ID"])
        log = "".join(server.log)
    assert "could not listen" not in log
    engine = make_engine(postgres_schema_url, pool_size=1)
    with engine.connect() as conn:
        stored = set(conn.scalars(select(Message.external_id).join(Shop, Shop.id == Message.shop_id)
                                  .where(Shop.name == shop)))
    engine.dispose()
    assert stored == set(sent)
