"""Sites of a federation: TCGA tissue-source sites grouped into hospitals, and their patients.

A TCGA barcode ``TCGA-XX-YYYY`` names the tissue-source site ``XX`` that collected the sample.
:func:`tissue_source_sites` reads it, :func:`group_sites` pools sites into hospitals by a fixed
rule (the largest sites are hospitals of their own, the small ones one shared hospital), and
:func:`federated_split` holds out test patients (stratified over the whole cohort, never in any
site's training part) and gives each hospital the rest of its patients.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from fusion._exceptions import AlignmentError, CohortError, InvalidParameterError
from fusion.data.cohort import Cohort
from fusion.data.split import stratified_split

__all__ = ["FederatedSplit", "federated_split", "group_sites", "tissue_source_sites"]

_BARCODE = re.compile(r"^TCGA-([A-Z0-9]{2})-")


def tissue_source_sites(samples: Iterable[str]) -> pd.Series:
    """The tissue-source site code of each TCGA barcode (the two characters after ``TCGA-``).

    Raises
    ------
    CohortError
        A sample id is not a TCGA barcode (the message names the first ones).

    Examples
    --------
    >>> tissue_source_sites(["TCGA-BH-A0B3", "TCGA-A2-A04P"]).tolist()
    ['BH', 'A2']
    """
    index = pd.Index([str(s) for s in samples])
    found = index.str.extract(_BARCODE, expand=False)
    bad = index[found.isna()]
    if len(bad):
        msg = f"{len(bad)} sample ids are not TCGA barcodes 'TCGA-XX-...' (e.g. {list(bad[:3])}): tissue-source sites need TCGA ids."
        raise CohortError(msg)
    return pd.Series(found.to_numpy(), index=index, name="site")


def group_sites(sites: pd.Series, n_hospitals: int = 5) -> pd.Series:
    """Pool tissue-source sites into ``n_hospitals`` hospitals of unequal size and label mix.

    Sites are ranked by their number of patients (ties by code); each of the
    ``n_hospitals - 1`` largest is a hospital of its own, named ``H1`` (largest) to
    ``H{n-1}``, and every smaller site joins the last, ``H{n}`` (a regional network of small
    sites). The rule reads only the site codes, so every party derives the same grouping.

    Parameters
    ----------
    sites : Series
        Site code per patient (:func:`tissue_source_sites`).
    n_hospitals : int
        At least 2, and at most the number of sites (default ``5``).

    Returns
    -------
    Series
        The hospital of each patient, same index.

    Examples
    --------
    >>> sites = pd.Series(["A", "A", "A", "B", "B", "C", "D"], index=list("pqrstuv"))
    >>> group_sites(sites, n_hospitals=3).tolist()
    ['H1', 'H1', 'H1', 'H2', 'H2', 'H3', 'H3']
    """
    counts = sites.value_counts()
    if isinstance(n_hospitals, bool) or not isinstance(n_hospitals, int) or n_hospitals < 2:
        msg = f"The 'n_hospitals' parameter of group_sites must be an int >= 2. Got {n_hospitals!r} instead."
        raise InvalidParameterError(msg)
    if n_hospitals > len(counts):
        msg = f"group_sites: n_hospitals={n_hospitals} but the patients come from {len(counts)} sites; pass at most {len(counts)}."
        raise InvalidParameterError(msg)
    ranked = sorted(counts.index, key=lambda code: (-counts[code], code))
    names = {code: f"H{min(rank, n_hospitals - 1) + 1}" for rank, code in enumerate(ranked)}
    return sites.map(names).rename("hospital")


@dataclass(frozen=True)
class FederatedSplit:
    """Held-out test patients and each site's training patients (disjoint)."""

    test: pd.Index
    sites: dict[str, pd.Index]


def federated_split(
    cohort: Cohort, groups: pd.Series, test_size: float = 0.25, seed: int = 0
) -> FederatedSplit:
    """Hold out ``test_size`` of ``cohort`` (stratified, seeded) and split the rest by ``groups``.

    Parameters
    ----------
    cohort : Cohort
        With labels or survival (the strata of the held-out split).
    groups : Series
        The site of each patient of ``cohort`` (e.g. :func:`group_sites`).
    test_size : float
        Fraction of all patients held out for testing (default ``0.25``).
    seed : int
        Seed of the held-out split.

    Raises
    ------
    AlignmentError
        ``groups`` lacks patients of ``cohort``.
    """
    missing = cohort.samples.difference(groups.index)
    if len(missing):
        msg = f"federated_split: {len(missing)} patients have no site in groups (e.g. {list(missing[:3])})."
        raise AlignmentError(msg)
    train, test = stratified_split(cohort, test_size, seed=seed)
    of_train = groups.reindex(train)
    sites = {
        name: pd.Index(ids) for name, ids in of_train.groupby(of_train, sort=True).groups.items()
    }
    return FederatedSplit(pd.Index(test), sites)
