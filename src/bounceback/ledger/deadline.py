"""A time limit on parse + classify of one message, so one slow message stalls nothing else.

The parser is built to be linear (tests/test_redos.py checks every pattern); this is the
second line: a message whose analysis takes more than the limit is quarantined as
"too slow" (kept, with that reason) and the run goes on.

Two ways to stop a runaway analysis, because a thread cannot be stopped from outside:

- in the main thread (the ``process`` and ``replay`` commands, the ``--jobs`` worker
  processes): a timer whose signal raises ``TooSlow`` in the middle of the work. The
  regex engine checks for signals as it runs, so even a backtracking pattern is stopped.
  Its cost is two system calls per message. It counts CPU time (``ITIMER_PROF``) when no
  other thread runs (that timer counts every thread), else wall time (``ITIMER_REAL``).
- in any other thread (``serve``'s pollers and SMTP receiver, the web API): the analysis
  runs in a child process of a small pool (``Guard``); past the limit the child is
  killed and replaced. Callers in different threads use different children, so a slow
  message holds up only its own caller, and that for at most the limit.

CPU seconds mean load on the machine does not make a message "slow"; the pool counts
wall seconds. ``BOUNCEBACK_PARSE_DEADLINE``
(seconds; 0 turns the limit off) overrides the configured one, for tests and
emergencies.
"""

from __future__ import annotations

import gc
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any, TypeVar

log = logging.getLogger(__name__)

DEFAULT_SECONDS = 5.0
ENV = "BOUNCEBACK_PARSE_DEADLINE"
STARTUP_SECONDS = 60.0  # a child's imports, on a loaded machine

T = TypeVar("T")


class TooSlow(Exception):
    """The analysis went past the limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"too slow: parse took > {seconds:g} s")
        self.seconds = seconds


def limit(configured: float | None = None) -> float:
    """The limit in seconds: the environment's, else the configured one, else the default."""
    value = os.environ.get(ENV, "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
    return DEFAULT_SECONDS if configured is None else max(0.0, configured)


# Run once per process before the first timed message: the parser compiles its patterns
# and imports its detectors on first use, which is no message's fault.
_WARM_UP = (
    b"From: someone@example.org\nSubject: hello\n\nnot a bounce\n",
    b"From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail Returned to Sender\n"
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
    b"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; example.org\n\n"
    b"Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\n"
    b"Diagnostic-Code: smtp; 550 5.1.1 <a@example.org>: user unknown\n\n--b--\n",
)
_warm = False


def warm_up() -> None:
    """Parse and classify a plain message and a bounce once in this process."""
    global _warm
    if _warm:
        return
    _warm = True
    from bounceback.classify import classify
    from bounceback.parse import parse

    for data in _WARM_UP:
        classify(parse(data))


# After the limit the timer fires again at this interval: a TooSlow raised where Python
# swallows exceptions (a garbage-collector callback) would otherwise be the only one.
_REPEAT_SECONDS = 0.05


@contextmanager
def cpu_deadline(seconds: float, *, wall: bool = False) -> Iterator[None]:
    """Raise TooSlow in this (main) thread once the process used ``seconds`` of CPU
    (of wall time with ``wall``: the CPU timer counts every thread of the process)."""
    if seconds <= 0:
        yield
        return
    active = [True]

    def expired(_signum: int, _frame: object) -> None:
        if active[0]:
            raise TooSlow(seconds)

    which, number = (
        (signal.ITIMER_REAL, signal.SIGALRM) if wall else (signal.ITIMER_PROF, signal.SIGPROF)
    )
    # No collection while the timer can fire: a TooSlow raised inside a collector
    # callback is swallowed (an "unraisable" exception) instead of stopping the parse.
    collecting = gc.isenabled()
    gc.disable()
    previous = signal.signal(number, expired)
    signal.setitimer(which, seconds, _REPEAT_SECONDS)
    try:
        yield
    finally:
        try:
            active[0] = False
        finally:  # even when the signal lands on the line above
            signal.setitimer(which, 0)
            signal.signal(number, previous)
            if collecting:
                gc.enable()


def run_within(seconds: float, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` under the limit (0: none): in the main thread, in this process
    under a timer (CPU time when no other thread runs, else wall time); in any other
    thread, in the child pool (``function`` and ``args`` must pickle). Raises TooSlow."""
    if seconds <= 0:
        return function(*args)
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        warm_up()
        with cpu_deadline(seconds, wall=threading.active_count() > 1):
            return function(*args)
    try:
        result: T = guard().run(seconds, (function, *args))
    except PoolUnavailable:  # no limit rather than no parse: the message is not lost
        log.warning("no analysis process: parsing without a deadline", exc_info=True)
        return function(*args)
    return result


# -- the child pool -----------------------------------------------------------------


def _child(conn: Connection) -> None:
    # The parent owns SIGINT (Ctrl-C stops it; it stops us).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_up()  # before the clock starts
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        except Exception as exc:  # a job that does not unpickle here
            conn.send((False, exc))
            continue
        function, *args = job
        try:
            conn.send((True, function(*args)))
        except Exception as exc:  # reported to the caller, who decides
            conn.send((False, exc))


class PoolUnavailable(RuntimeError):
    """A child process could not be started."""


class _Worker:
    """One child: this interpreter run on ``_serve`` over a socket pair. Not
    multiprocessing's spawn, which re-imports the parent's ``__main__`` (a script
    read from stdin has none) and would share no more than this does."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        code = f"from bounceback.ledger.deadline import _serve; _serve({theirs.fileno()})"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code], pass_fds=[theirs.fileno()], env=env
            )
        except OSError as exc:
            ours.close()
            raise PoolUnavailable(f"cannot start an analysis process: {exc}") from exc
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        if not self.conn.poll(STARTUP_SECONDS) or self.conn.recv() != "ready":
            self.kill()
            raise PoolUnavailable("the analysis process did not start")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
        self.conn.close()


def _serve(fd: int) -> None:
    """The child's side of a _Worker."""
    _child(Connection(fd))


class Guard:
    """Up to ``size`` child processes; each call takes an idle one (or starts one)."""

    def __init__(self, size: int = 4) -> None:
        self.idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self.slots = threading.BoundedSemaphore(size)

    def run(self, seconds: float, job: tuple[Any, ...]) -> Any:
        with self.slots:
            try:
                worker = self.idle.get_nowait()
            except queue.Empty:
                worker = _Worker()
            try:
                worker.conn.send(job)
                if not worker.conn.poll(seconds):
                    raise TooSlow(seconds)
                ok, value = worker.conn.recv()
            except TooSlow:
                worker.kill()
                raise
            except (EOFError, OSError) as exc:
                worker.kill()
                raise RuntimeError("the analysis worker died") from exc
            self.idle.put(worker)
        if not ok:
            raise value
        return value

    def close(self) -> None:
        while True:
            try:
                self.idle.get_nowait().kill()
            except queue.Empty:
                return


_guard: Guard | None = None
_guard_lock = threading.Lock()


def guard() -> Guard:
    """The process-wide pool, started on first use."""
    global _guard
    with _guard_lock:
        if _guard is None:
            _guard = Guard()
        return _guard
