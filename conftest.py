"""Test-session policy for every test path (tests/ and the packages' doctests): threads, order.

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules that hold slow tests run first, each module's tests kept together (module fixtures
    are set up once): pytest-xdist workers then finish on short tests, not one on a long test
    alone. The order within each group is the collection order."""
    slow = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow)
