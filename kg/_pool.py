"""A process pool whose workers never outlive the build that started them.

:func:`worker_pool` wraps :class:`~concurrent.futures.ProcessPoolExecutor` so that

* on any exception leaving the ``with`` block (a reader's error, Ctrl-C, ``SystemExit``) the
  workers are terminated at once instead of finishing their current, now useless, source;
* ``SIGTERM`` to the building process becomes ``SystemExit(143)`` while the pool is open (when
  the pool is opened in the main thread and nobody else handles ``SIGTERM``), so the cleanup
  above runs instead of the process vanishing and leaving its workers behind;
* on Linux every worker asks the kernel to kill it when its parent dies (``PR_SET_PDEATHSIG``),
  which covers even ``SIGKILL`` of the parent;
* workers ignore ``SIGINT`` (a Ctrl-C reaches the whole process group; the parent handles it).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

__all__ = ["worker_pool"]

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def _init_worker(parent: int) -> None:
    """Run in each worker before its first task."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's SystemExit handler
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the parent's cleanup still applies
            logger.debug("PR_SET_PDEATHSIG unavailable; relying on the parent's cleanup")
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """Turn ``SIGTERM`` into ``SystemExit`` while open, if this thread may and nobody else did."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop every worker now (the executor has no public way before Python 3.14)."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A :class:`ProcessPoolExecutor` of ``workers`` processes, torn down with the block.

    A normal exit waits for the submitted tasks; an exception terminates the workers, cancels
    what has not started and waits for the workers to be gone before it propagates.
    """
    with _sigterm_as_exit():
        pool = ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(os.getpid(),))
        try:
            yield pool
        except BaseException:
            _terminate(pool)
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
