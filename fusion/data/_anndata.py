"""Optional readers from AnnData / MuData objects (need the ``kgfusion[anndata]`` extra)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fusion._exceptions import CohortError
from fusion.data.cohort import Cohort, Modality

__all__ = ["read_anndata", "read_mudata"]


def _require(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError as err:
        msg = (
            f"reading {module} files needs the optional dependency {module!r}: "
            "pip install 'kgfusion[anndata]'"
        )
        raise ImportError(msg) from err


def _frame(adata: Any) -> pd.DataFrame:
    x = adata.X
    if x is None:
        msg = "AnnData object has no X matrix."
        raise CohortError(msg)
    x = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
    return pd.DataFrame(
        x,
        index=pd.Index(adata.obs_names.astype(str), dtype=object),
        columns=pd.Index(adata.var_names.astype(str), dtype=object),
    )


def _labels(obs: pd.DataFrame, label_key: str | None) -> pd.Series | None:
    if label_key is None:
        return None
    if label_key not in obs.columns:
        msg = f"no obs column {label_key!r} for labels; obs columns are {list(obs.columns)}."
        raise CohortError(msg)
    labels = obs[label_key]
    labels.index = pd.Index(obs.index.astype(str), dtype=object)
    return labels


def read_anndata(
    adata: Any, name: str, modality: Modality | None = None, *, label_key: str | None = None
) -> Cohort:
    """A one-modality :class:`Cohort` from an ``AnnData`` object or ``.h5ad`` path.

    Parameters
    ----------
    adata : AnnData or path-like
        Observations are samples, variables are features (``X``, dense or sparse).
    name : str
        The modality name.
    modality : Modality, optional
        Its metadata; default :meth:`Modality.from_name`.
    label_key : str, optional
        Column of ``obs`` holding the class labels.
    """
    anndata = _require("anndata")
    if isinstance(adata, (str, os.PathLike)):
        adata = anndata.read_h5ad(adata)
    meta = modality or Modality.from_name(name)
    return Cohort({name: _frame(adata)}, [meta], labels=_labels(adata.obs, label_key))


def read_mudata(
    mdata: Any, modalities: Mapping[str, Modality] | None = None, *, label_key: str | None = None
) -> Cohort:
    """A :class:`Cohort` from a ``MuData`` object or ``.h5mu`` path.

    Each ``mdata.mod[name]`` becomes a modality holding only its own observations, so patients
    missing from a modality are absent (presence ``False``), as in MuData's ``obsmap``.

    Parameters
    ----------
    mdata : MuData or path-like
        The multimodal object.
    modalities : mapping of str to Modality, optional
        Metadata per modality name; default :meth:`Modality.from_name`.
    label_key : str, optional
        Column of the global ``mdata.obs`` holding the class labels.
    """
    mudata = _require("mudata")
    if isinstance(mdata, (str, os.PathLike)):
        mdata = mudata.read_h5mu(mdata)
    modalities = modalities or {}
    data = {name: _frame(mod) for name, mod in mdata.mod.items()}
    metas = [modalities.get(name) or Modality.from_name(name) for name in data]
    samples = pd.Index(mdata.obs_names.astype(str), dtype=object)
    return Cohort(data, metas, labels=_labels(mdata.obs, label_key), samples=samples)
