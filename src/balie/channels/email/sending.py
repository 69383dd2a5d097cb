"""The e-mail channel going out: the adapter the dispatcher calls, and the SMTP conversation
with the relay (aiosmtplib), whose answers become temporary or permanent failures.

The dispatcher runs adapters in the worker thread, which has no event loop: each delivery
runs its own with asyncio.run. See docs/email.md ("Sending").
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Coroutine
from typing import Any

import aiosmtplib
from sqlalchemy.orm import Session, sessionmaker

from balie import netguard
from balie.channels.base import Delivery, PermanentFailure, TemporaryFailure
from balie.channels.email import prepare
from balie.channels.email.prepare import Outgoing, Relay
from balie.config import Settings
from balie.storage import FileStore

COMMAND_TIMEOUT = 30.0
# The whole conversation must end well inside the dispatcher's lease (120 s), or another
# worker could take the entry over while we are still sending it.
DEADLINE = 90.0


class EmailAdapter:
    def __init__(self, settings: Settings, factory: sessionmaker[Session], *,
                 timeout: float = COMMAND_TIMEOUT, deadline: float = DEADLINE) -> None:
        self.factory = factory
        self.default_relay = settings.smtp_relay
        self.allow_private = settings.webhook_allow_private
        self.store = FileStore(settings.data_dir)
        self.timeout = timeout
        self.deadline = deadline

    def deliver(self, delivery: Delivery) -> None:
        # The session is closed before the relay is called: no transaction waits on the network.
        with self.factory() as session:
            outgoing = prepare.prepare(session, delivery, store=self.store, default_relay=self.default_relay)
        if outgoing.relay.shop_owned and not self.allow_private:
            _refuse_internal(outgoing.relay)
        send(outgoing, timeout=self.timeout, deadline=self.deadline)


def _refuse_internal(relay: Relay) -> None:
    """A shop's relay was checked when it was saved; checked again now, because the name may
    resolve elsewhere today, and Balie must not be made to connect into its own network."""
    host = f"[{relay.host}]" if ":" in relay.host else relay.host
    problem = netguard.private_target(f"smtp://{host}")
    if problem and "cannot be resolved" in problem:
        raise TemporaryFailure(f"SMTP relay {relay.host}: {problem}")
    if problem:
        raise PermanentFailure(f"SMTP relay refused: {problem}")


def _run(coroutine: Coroutine[Any, Any, str]) -> str:
    """asyncio.run, also from a thread that already runs an event loop (an async caller; a
    test process driving a browser): then in a helper thread with a loop of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def send(outgoing: Outgoing, *, timeout: float = COMMAND_TIMEOUT, deadline: float = DEADLINE) -> str:
    """Hands the message to the relay; returns its answer to DATA (usually a queue id)."""
    relay = outgoing.relay
    where = f"SMTP relay {relay.host}:{relay.port}"
    try:
        return _run(_send(outgoing, timeout, deadline))
    except aiosmtplib.SMTPRecipientsRefused as error:
        refused = error.recipients[0]
        raise _answered(where, refused.code, refused.message, f"RCPT TO <{refused.recipient}>") from None
    except aiosmtplib.SMTPResponseException as error:
        raise _answered(where, error.code, error.message, _stage(error)) from None
    except TimeoutError:
        raise TemporaryFailure(f"{where} did not answer in time") from None
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError) as error:
        # Connection refused or lost, TLS handshake failed: the relay may be back later.
        raise TemporaryFailure(f"{where} unreachable: {error}") from None
    except aiosmtplib.SMTPException as error:
        # What remains is a mismatch of settings: STARTTLS or AUTH asked of a relay that does
        # not offer it. Trying again will not change that; the agent must see it.
        raise PermanentFailure(f"{where}: {error}") from None
    except ValueError as error:  # an address aiosmtplib will not put on a command line
        raise PermanentFailure(f"{where}: {error}") from None


async def _send(outgoing: Outgoing, timeout: float, deadline: float) -> str:
    relay = outgoing.relay
    # smtp:// is plain, upgraded when the relay offers STARTTLS. Its certificate is not checked
    # then (nobody promised one): that keeps out eavesdroppers, not impostors. smtp+starttls:// does.
    smtp = aiosmtplib.SMTP(
        hostname=relay.host, port=relay.port, username=relay.user, password=relay.password,
        timeout=timeout, local_hostname=outgoing.sender.rpartition("@")[2],
        use_tls=relay.security == "tls",
        start_tls={"tls": False, "starttls": True}.get(relay.security),
        validate_certs=relay.security in ("tls", "starttls"),
    )
    try:
        async with asyncio.timeout(deadline):
            await smtp.connect()
            _refused, answer = await smtp.sendmail(outgoing.sender, [outgoing.recipient], outgoing.data)
    except BaseException:
        smtp.close()
        raise
    # Accepted. Whatever goes wrong from here on must not make us send it again.
    with contextlib.suppress(Exception):
        async with asyncio.timeout(timeout):
            await smtp.quit()
    smtp.close()
    return answer


def _stage(error: aiosmtplib.SMTPResponseException) -> str:
    if isinstance(error, aiosmtplib.SMTPSenderRefused):
        return f"MAIL FROM <{error.sender}>"
    if isinstance(error, aiosmtplib.SMTPDataError):
        return "DATA"
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return "login"
    if isinstance(error, aiosmtplib.SMTPConnectResponseError):
        return "greeting"
    return ""


def _answered(where: str, code: int, text: str, stage: str) -> TemporaryFailure | PermanentFailure:
    """4xx (and anything unexpected) is worth another try; 5xx is final and the agent sees the
    relay's own words."""
    reason = f"{where} answered {code} {' '.join(text.split())}".rstrip()
    if stage:
        reason += f" (at {stage})"
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)
