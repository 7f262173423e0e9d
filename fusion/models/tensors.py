"""From a :class:`~fusion.data.Cohort` to the tensors of :mod:`gnn`, on a device and thread count.

:func:`cohort_batch` gives the :class:`gnn.training.FusionBatch` of a (scaled) cohort that the
estimators train and predict on and that the explanations attribute.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch

from fusion.data.cohort import Cohort
from gnn.training import FusionBatch

__all__ = ["cohort_batch", "resolve_device", "torch_threads"]


@contextmanager
def torch_threads(n_threads: int | None) -> Iterator[None]:
    """Run with ``n_threads`` intra-op threads (unchanged when ``None``), then restore."""
    before = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def resolve_device(device: str) -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; any other name as given."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def cohort_batch(cohort: Cohort, features: Mapping[str, pd.Index]) -> FusionBatch:
    """Tensors of a (scaled) cohort: values with NaN → 0, observed masks, presence.

    Absent modalities give all-zero, all-unobserved rows and ``present`` False.

    Examples
    --------
    >>> frame = pd.DataFrame({"g1": [1.0, None], "g2": [2.0, 3.0]}, index=["p1", "p2"])
    >>> batch = cohort_batch(Cohort({"mRNA": frame}), {"mRNA": pd.Index(["g2", "g1"])})
    >>> batch.values["mRNA"].tolist(), batch.observed["mRNA"].tolist()
    ([[2.0, 1.0], [3.0, 0.0]], [[True, True], [True, False]])
    """
    presence = cohort.presence
    values, observed = {}, {}
    for name, columns in features.items():
        frame = cohort[name].reindex(index=cohort.samples, columns=columns)
        array = frame.to_numpy(dtype=np.float32)
        mask = ~np.isnan(array)
        values[name] = torch.from_numpy(np.where(mask, array, 0.0).astype(np.float32))
        observed[name] = torch.from_numpy(mask)
    present = torch.from_numpy(presence[list(features)].to_numpy(dtype=bool).copy())
    return FusionBatch(values, observed, present)
