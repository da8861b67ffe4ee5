"""A throwaway PostgreSQL server for tests and benchmarks: initdb + pg_ctl in a temp dir.

Uses Debian's ``postgresql`` package binaries (/usr/lib/postgresql/<v>/bin). It
listens on 127.0.0.1 on a free port only, runs as the ``postgres`` user when we
are root (PostgreSQL refuses root), and is stopped by its PID, then deleted.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from sqlalchemy import create_engine, text


def bindir() -> Path | None:
    """The newest installed PostgreSQL's bin directory, or None."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayPostgres:
    """``with ThrowawayPostgres() as pg: pg.create_database("x")`` -> a SQLAlchemy URL."""

    def __init__(self, durable: bool = False) -> None:
        found = bindir()
        if found is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = found
        # Tests do not need crash safety; benchmarks may ask for the real thing.
        self.durable = durable
        self.user = "postgres" if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="bounceback-pg-"))
        self.port = _free_port()
        self.pid: int | None = None
        self.base = f"postgresql+psycopg://bounceback@127.0.0.1:{self.port}"

    def _run(self, *args: str) -> None:
        subprocess.run(list(args), check=True, capture_output=True, user=self.user, timeout=120)

    def start(self) -> ThrowawayPostgres:
        if self.user is not None:
            shutil.chown(self.root, self.user)
        data = self.root / "data"
        self._run(
            str(self.bin / "initdb"), "-D", str(data), "-U", "bounceback", "--auth=trust",
            "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
        options += "-c max_connections=50"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.root / "log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        self.pid = int((data / "postmaster.pid").read_text().split()[0])
        return self

    def create_database(self, name: str, template: str = "template1") -> str:
        admin = create_engine(f"{self.base}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        finally:
            admin.dispose()
        return f"{self.base}/{name}"

    def stop(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGINT)  # fast shutdown, by PID
            for _ in range(600):
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            self.pid = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
