"""Worker processes end with their parent.

A parsing worker blocks on its task queue, and with the spawn start method it holds
a copy of that queue's write end: when the parent is killed (kill -9, the OOM
killer) no end-of-file ever reaches it, and it would run on, holding its memory.
``die_with_parent`` asks Linux to kill this process when the parent goes
(PR_SET_PDEATHSIG), and, on every system, starts a thread that exits the process
once the parent is no longer its parent (it has been re-parented to init or a
subreaper).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1
POLL_S = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Call first thing in a child process; ``parent_pid``: the parent's os.getpid()."""
    if sys.platform.startswith("linux"):
        _pdeathsig()
    if os.getppid() != parent_pid:  # the parent died before the signal was asked for
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="orphan-watch", daemon=True).start()


def _pdeathsig() -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no libc prctl: the watching thread still works
        pass


def _watch(parent_pid: int) -> None:
    stop = threading.Event()
    while not stop.wait(POLL_S):
        if os.getppid() != parent_pid:
            os._exit(1)
