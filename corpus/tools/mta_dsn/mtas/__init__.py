"""One driver per MTA: write a private config, start it on 127.0.0.1, count its queue."""

from __future__ import annotations

import smtplib
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar

from ..remote import Ports
from ..scenarios import Notice, Scenario, Stage


class MTA(ABC):
    name: str

    def __init__(self, work: Path, ports: Ports, root: Path) -> None:
        self.work = work  # private config + spool
        self.ports = ports
        self.root = root  # where the .debs were unpacked ("/" for installed ones)
        self.submit_port = 0

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def queue_size(self) -> int: ...

    @classmethod
    def expected_status(cls, sc: Scenario, notice: Notice) -> str:
        """The status the record expects: the scripted enhanced code where the reply
        had one, else what this MTA reports for the failure."""
        return sc.enhanced or cls.reported_status(sc, notice)

    @classmethod
    def reported_status(cls, sc: Scenario, notice: Notice) -> str:
        """What this MTA writes in the DSN's Status: field for the scenario."""
        if sc.enhanced:
            return sc.enhanced
        own = cls.connection_status.get(sc.stage)
        if own:
            return own
        return f"{sc.reply[:1] or '4'}.0.0"

    # What the MTA reports when there was no reply to take a code from.
    connection_status: ClassVar[Mapping[Stage, str]] = MappingProxyType({})

    def kick(self) -> None:  # noqa: B027 - optional hook, most MTAs need nothing
        """Run the queue now, for MTAs whose queue runner is not a daemon timer."""

    def submit(self, msg: EmailMessage, sender: str, rcpts: list[str]) -> None:
        """Hand one message to the MTA (by SMTP on its 127.0.0.1 port)."""
        with smtplib.SMTP(
            "127.0.0.1", self.submit_port, local_hostname="client.example.org", timeout=30
        ) as s:
            s.send_message(msg, from_addr=sender, to_addrs=rcpts)

    def run(
        self,
        *cmd: str | Path,
        check: bool = True,
        env: dict[str, str] | None = None,
        input: bytes | None = None,
        stdin_file: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        if stdin_file is not None:
            input = stdin_file.read_bytes()
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, input=input, env=env)
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{self.name}: {' '.join(map(str, cmd))} exited "
                f"{proc.returncode}: {proc.stderr.decode(errors='replace').strip()}"
            )
        return subprocess.CompletedProcess(
            proc.args,
            proc.returncode,
            proc.stdout.decode(errors="replace"),
            proc.stderr.decode(errors="replace"),
        )


def with_hostname(name: str) -> list[str]:
    """A command prefix running the command in its own UTS namespace named `name`,
    so what the MTA writes about "this host" is an example name, not the machine's."""
    return ["unshare", "--uts", "sh", "-c", 'hostname "$0"; exec "$@"', name]


def count_files(*dirs: Path) -> int:
    return sum(1 for d in dirs if d.is_dir() for p in d.rglob("*") if p.is_file())
