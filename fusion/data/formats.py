"""The on-disk cohort layouts :func:`fusion.data.read_cohort` reads (no pandas: the command line
names them before any data is read)."""

from __future__ import annotations

from enum import Enum

__all__ = ["CohortFormat"]


class CohortFormat(str, Enum):
    """How a cohort on disk is laid out (see :func:`fusion.data.read_cohort`)."""

    auto = "auto"
    mogonet = "mogonet"
    breast_tcga = "breast-tcga"
    tables = "tables"
    multiomics = "multiomics"
    h5mu = "h5mu"
    h5ad = "h5ad"
