"""A throwaway Dovecot (IMAP + POP3) on 127.0.0.1, started and stopped by PID.

Everything lives in one temp dir: config, maildirs, base_dir, state, log. Passwords
are a passwd-file; a self-signed certificate makes STARTTLS possible. Running as
root (CI), the login processes run as ``dovenull`` and the mail as ``mail`` (Dovecot
refuses uid 0 for both); otherwise everything runs as the current user.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from certs import self_signed
from imapclient import IMAPClient

from bounceback.sources.imap import ImapConfig
from bounceback.sources.pop3 import Pop3Config

USER, PASSWORD = "bounces", "s3cret-pass"
# XOAUTH2: Dovecot checks the bearer token against the passdb like a password, so a
# passwd-file entry whose password is the token stands in for a provider's check.
OAUTH_USER, OAUTH_TOKEN = "oauth-bounces", "ya29.test-access-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = bb-{imap}
listen = 127.0.0.1
protocols = imap pop3
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
auth_failure_delay = 0
log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%u
mail_uid = {mail_user}
mail_gid = {mail_group}
first_valid_uid = 0
first_valid_gid = 0
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = .
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    root: Path
    imap_port: int
    pop3_port: int
    process: subprocess.Popen[bytes]
    cert: Path

    def imap_config(self, **options: Any) -> ImapConfig:
        """An IMAP source config for the test user over plain loopback; ``options`` on top."""
        login: dict[str, Any] = {"user": USER, "password": PASSWORD, **options}
        return ImapConfig(host="127.0.0.1", port=self.imap_port, security="plain", **login)

    def pop3_config(self, **options: Any) -> Pop3Config:
        login: dict[str, Any] = {"user": USER, "password": PASSWORD, **options}
        return Pop3Config(host="127.0.0.1", port=self.pop3_port, security="plain", **login)

    def imap(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.imap_port, ssl=False, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def append(
        self, messages: list[bytes], folder: str = "INBOX", flags: tuple[bytes, ...] = ()
    ) -> None:
        with self.imap() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for data in messages:
                client.append(folder, data, flags=flags)

    def deliver(self, messages: Iterable[bytes]) -> int:
        """Put messages straight into INBOX's Maildir, as a local delivery agent does.

        Thousands of files take a second where as many APPENDs take a minute. Line ends
        become CRLF, so what IMAP serves back is byte for byte what was written.
        """
        inbox = self.root / "mail" / USER
        owner = _users()["mail_user"]
        for folder in (inbox, inbox / "tmp", inbox / "new", inbox / "cur"):
            if not folder.is_dir():
                folder.mkdir()
                if os.geteuid() == 0:  # Dovecot writes there as the mail user
                    shutil.chown(folder, owner, owner)
        count = 0
        for data in messages:
            crlf = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            name = f"{int(time.time())}.M{count}P{os.getpid()}.bb-test"
            tmp = inbox / "tmp" / name
            tmp.write_bytes(crlf)
            if os.geteuid() == 0:
                shutil.chown(tmp, owner, owner)
            os.rename(tmp, inbox / "new" / name)
            count += 1
        return count

    def folder_uids(self, folder: str, criteria: list[str] | None = None) -> list[int]:
        with self.imap() as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            return list(client.search(criteria or ["ALL"]))

    def empty(self) -> None:
        """Delete every folder but INBOX and empty INBOX: a fresh mailbox per test."""
        with self.imap() as client:
            for _flags, _delim, name in sorted(client.list_folders(), key=lambda f: -len(f[2])):
                if name != "INBOX":
                    client.delete_folder(name)
            client.select_folder("INBOX")
            uids = client.search(["ALL"])
            if uids:
                client.delete_messages(uids)
                client.expunge()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _users() -> dict[str, str]:
    if os.geteuid() == 0:
        # Dovecot refuses root for logins and mail; the Debian packages make these.
        return {
            "mail_user": "mail",
            "mail_group": "mail",
            "internal_user": "dovecot",
            "internal_group": "dovecot",
            "login_user": "dovenull",
        }
    me = getpass.getuser()
    group = me
    return {
        "mail_user": me,
        "mail_group": group,
        "internal_user": me,
        "internal_group": group,
        "login_user": me,
    }


def _wait_listening(port: int, process: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited: {(root / 'dovecot.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(100).startswith((b"* OK", b"+OK")):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("dovecot did not start listening")


def find_binary() -> str | None:
    return shutil.which("dovecot", path=f"{os.environ.get('PATH', '')}:/usr/sbin")


@contextlib.contextmanager
def running_dovecot(binary: str) -> Iterator[Dovecot]:
    """Start Dovecot with a fresh config and mailbox; stop it (by PID) and clean up."""
    # Not pytest's tmp dir: that is 0700 and the unprivileged login/mail users need in.
    root = Path(tempfile.mkdtemp(prefix="bb-dovecot-"))
    root.chmod(0o755)
    users = _users()
    for sub in ("mail", "home"):
        (root / sub).mkdir()
        shutil.chown(root / sub, users["mail_user"], users["mail_group"])
    (root / "passwd").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}\n{OAUTH_USER}:{{PLAIN}}{OAUTH_TOKEN}\n"
    )
    cert, key = self_signed(root)
    imap_port, pop3_port = free_port(), free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        CONFIG.format(root=root, imap=imap_port, pop3=pop3_port, cert=cert, key=key, **users)
    )
    with (root / "stderr.txt").open("wb") as stderr:
        process = subprocess.Popen(
            [binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        _wait_listening(imap_port, process, root)
        _wait_listening(pop3_port, process, root)
        yield Dovecot(root, imap_port, pop3_port, process, cert)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = find_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("dovecot is not installed (Debian dovecot-imapd, dovecot-pop3d)")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d)")
    with running_dovecot(binary) as server:
        yield server
