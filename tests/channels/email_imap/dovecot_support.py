"""A throwaway Dovecot IMAP server on a free loopback port (TEST_INFRA.md section 2), and
helpers that put mail into its INBOX the way a mail server would (APPEND, doveadm)."""

from __future__ import annotations

import contextlib
import datetime as dt
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from factories import unavailable

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"

CONF = """{rootless}
instance_name = balie-test-{port}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
first_valid_uid = 1
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/mail/%u
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
}}
"""


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    conf: Path

    @property
    def url(self) -> str:
        return f"imap://{self.user}:{self.password}@{self.host}:{self.port}/INBOX"

    @contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        with imaplib.IMAP4(self.host, self.port, timeout=10) as client:
            client.login(self.user, self.password)
            yield client

    def append(self, raw: bytes, *, when: dt.datetime | None = None, folder: str = "INBOX") -> int:
        """Puts a mail in the folder as delivery would; returns its UID. `when` is its arrival
        time (INTERNALDATE), so tests do not depend on the machine's clock."""
        with self.client() as client:
            status, data = client.append(folder, None, when or dt.datetime.now(dt.UTC), raw)
        assert status == "OK", data
        text = data[0].decode()  # '[APPENDUID <uidvalidity> <uid>] Append completed.'
        return int(text.split("]")[0].split()[-1])

    def empty(self) -> None:
        with self.client() as client:
            _status, data = client.select("INBOX")
            if data[0] != b"0":  # "1:*" is an error in an empty folder
                client.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                client.expunge()

    def seen(self) -> list[bool]:
        """Whether each mail in the INBOX is marked read."""
        with self.client() as client:
            client.select("INBOX", readonly=True)
            _status, data = client.fetch("1:*", "(FLAGS)")
        return [b"\\Seen" in line for line in data if isinstance(line, bytes)]

    def set_uidvalidity(self, value: int) -> None:
        """What happens when the folder is deleted and created again (or restored from a backup)."""
        subprocess.run([DOVEADM, "-c", str(self.conf), "mailbox", "update", "-u", self.user,
                        "--uid-validity", str(value), "INBOX"], check=True, capture_output=True, timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def dovecot() -> Iterator[Dovecot]:
    if not os.path.exists(DOVECOT):
        unavailable("apt-get install -y dovecot-imapd")
    d = Path(tempfile.mkdtemp(prefix="balie-dovecot-"))  # not under pytest's 0700 tmp_path tree
    os.chmod(d, 0o755)
    if os.getuid() == 0:  # root: mail processes drop to the 'dovecot' user
        uid, gid, rootless = pwd.getpwnam("dovecot").pw_uid, grp.getgrnam("dovecot").gr_gid, ""
    else:  # non-root: every dovecot process runs as us
        uid, gid = os.getuid(), os.getgid()
        user, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
        rootless = f"default_internal_user = {user}\ndefault_login_user = {user}\ndefault_internal_group = {group}"
    (d / "mail").mkdir()
    (d / "state").mkdir()
    os.chown(d / "mail", uid, gid)
    (d / "users").write_text("alice:{PLAIN}secret::::::\n")
    port = free_port()
    (d / "dovecot.conf").write_text(CONF.format(d=d, port=port, uid=uid, gid=gid, rootless=rootless))
    out = open(d / "stdout.log", "wb")  # noqa: SIM115 - closed after the server stops
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(d / "dovecot.conf")],  # -F: stays our child
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                out.close()
                logs = "\n".join(p.read_text() for p in (d / "stdout.log", d / "dovecot.log") if p.exists())
                shutil.rmtree(d, ignore_errors=True)
                pytest.fail("dovecot did not start:\n" + logs)
            # Readiness, not timing: wait a moment for the server (or notice it exit).
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.05)
    try:
        yield Dovecot(host="127.0.0.1", port=port, user="alice", password="secret", conf=d / "dovecot.conf")
    finally:
        proc.terminate()  # SIGTERM to the master stops all of its children
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # safe only because of start_new_session=True
            proc.wait()
        out.close()
        shutil.rmtree(d, ignore_errors=True)
