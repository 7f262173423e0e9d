"""Test-session policy for every test path (tests/ and the packages' doctests).

Each test process gets ``cores // workers`` BLAS / OpenMP threads (one per pytest-xdist worker on
a 2-core machine): two workers whose OpenBLAS and torch pools each spin two threads on two cores
run small solves many times slower (a 90-patient logistic regression: 20 ms with one thread,
300 ms with two under load). The variables are set before any test module imports torch, and are
inherited by the commands, notebook kernels and ``torchrun`` processes that tests start; pools
already loaded (numpy's) are limited with threadpoolctl.
"""

from __future__ import annotations

import os

import pytest
from threadpoolctl import threadpool_limits


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return  # the xdist controller runs no test; its workers inherit its environment
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, threads)
    threadpool_limits(int(os.environ["OPENBLAS_NUM_THREADS"]))
