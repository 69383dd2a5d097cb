"""Automation rules end to end in a real browser: a shop admin builds a rule on the settings
page ("a message containing 'kapot': priority urgent and tag defect"), a matching e-mail
arrives over SMTP at the running server, and the inbox shows the rule's effect live, without
a reload; the conversation shows which rule did it."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from e2e_support import add_shop, log_in, make_env
from playwright.sync_api import Browser, expect

from servers import balie, free_port, serving

SUPPORT = "support@fietsen.example"


def test_an_admin_builds_a_rule_and_a_matching_mail_shows_its_effect_live(browser: Browser, tmp_path: Path) -> None:
    smtp_port = free_port()
    env = make_env(tmp_path, BALIE_SMTP_LISTEN=f"127.0.0.1:{smtp_port}")
    balie("migrate", env=env)
    shop_id, _ = add_shop(env, "Fietsenwinkel", "ada@fietsen.example")
    balie("mailbox", "add", SUPPORT, "--shop", str(shop_id), env=env)
    with serving(env) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in(page, server.url, "ada@fietsen.example")

        page.goto(server.url + "/settings/rules")
        page.get_by_test_id("rule-name").fill("Kapot is dringend")
        page.get_by_test_id("rule-trigger").select_option("message_received")
        page.get_by_test_id("condition-1-field").select_option("text")
        page.get_by_test_id("condition-1-op").select_option("contains")
        page.get_by_test_id("condition-1-value").fill("kapot")
        page.get_by_test_id("action-1-action").select_option("set_priority")
        page.get_by_test_id("action-1-value").fill("urgent")
        page.get_by_test_id("action-2-action").select_option("add_tag")
        page.get_by_test_id("action-2-value").fill("defect")
        page.get_by_test_id("rule-submit").click()
        expect(page.locator("#notice")).to_be_visible()
        expect(page.get_by_test_id("rule")).to_contain_text("Kapot is dringend")

        page.goto(server.url + "/inbox")
        question = EmailMessage()
        question["From"] = "Mira Jansen <mira@example.nl>"
        question["To"] = SUPPORT
        question["Subject"] = "Fiets"
        question["Message-ID"] = make_msgid(domain="example.nl")
        question.set_content("Hallo,\n\nMijn nieuwe fiets is kapot: de ketting is gebroken.\n\nGroet, Mira\n")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
            client.send_message(question)

        row = page.get_by_test_id("conversation-row").filter(has_text="Mira Jansen")
        expect(row).to_be_visible(timeout=10000)  # live, no reload
        expect(row.get_by_test_id("priority")).to_have_text("Urgent", timeout=10000)  # the rule, live
        expect(row.locator(".tag")).to_have_text(["defect"])

        row.locator("a").first.click()
        run = page.get_by_test_id("rule-run")
        expect(run).to_contain_text("Kapot is dringend")
        expect(run).to_contain_text("tagged defect")
        page.close()
