"""E-mail end to end in a real browser: a mail arrives over SMTP, the agent answers in the
inbox, and the customer's side receives a correctly threaded reply."""

from __future__ import annotations

import email
import smtplib
import threading
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from aiosmtpd.controller import Controller
from e2e_support import add_shop, log_in, make_env
from playwright.sync_api import Browser, expect

from servers import balie, free_port, serving

SUPPORT = "support@fietsen.example"


class Sink:
    """The customer's mail server: keeps what Balie sends."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        raw = envelope.original_content  # type: ignore[attr-defined]
        self.received.append(email.message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        self.arrived.set()
        return "250 OK"


def test_mail_in_answer_in_the_inbox_threaded_reply_out(browser: Browser, tmp_path: Path) -> None:
    sink = Sink()
    sink_port = free_port()
    relay = Controller(sink, hostname="127.0.0.1", port=sink_port)
    relay.start()
    smtp_port = free_port()
    env = make_env(tmp_path, BALIE_SMTP_LISTEN=f"127.0.0.1:{smtp_port}",
                   BALIE_SMTP_RELAY=f"smtp://127.0.0.1:{sink_port}")
    try:
        balie("migrate", env=env)
        shop_id, _ = add_shop(env, "Fietsenwinkel", "ada@fietsen.example")
        balie("mailbox", "add", SUPPORT, "--shop", str(shop_id), env=env)
        with serving(env) as server:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            log_in(page, server.url, "ada@fietsen.example")

            question = EmailMessage()
            question["From"] = "Mira Jansen <mira@example.nl>"
            question["To"] = SUPPORT
            question["Subject"] = "Mijn fiets is er nog niet"
            question["Message-ID"] = make_msgid(domain="example.nl")
            question.set_content("Hallo,\n\nIk heb maandag besteld. Wanneer komt hij?\n\nGroet, Mira\n")
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
                client.send_message(question)

            row = page.get_by_test_id("conversation-row").filter(has_text="Mira Jansen")
            expect(row).to_contain_text("Mijn fiets is er nog niet", timeout=5000)  # live, no reload
            row.locator("a").first.click()
            expect(page.get_by_test_id("message").first).to_contain_text("Ik heb maandag besteld")
            page.get_by_test_id("composer").fill("Hoi Mira, hij wordt morgen bezorgd.")
            page.get_by_test_id("send").click()

            assert sink.arrived.wait(20), "the reply never reached the customer's mail server"
            reply = sink.received[0]
            assert reply["To"].addresses[0].addr_spec == "mira@example.nl"
            assert reply["In-Reply-To"] == question["Message-ID"]
            assert question["Message-ID"] in reply["References"]
            conversation_id = page.url.rstrip("/").split("/")[-1].split("?")[0]
            assert reply["Subject"] == f"Re: Mijn fiets is er nog niet [#{conversation_id}]"
            assert reply.get_body(("plain",)).get_content().startswith("Hoi Mira, hij wordt morgen bezorgd.")
            expect(page.get_by_test_id("delivery-state").last).to_have_attribute("data-state", "sent", timeout=5000)
            page.close()
    finally:
        relay.stop()
