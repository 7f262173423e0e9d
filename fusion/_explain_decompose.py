"""Decompose input-node scores onto the ontology terms above them (:meth:`Explanation.decompose`).

Per-term enrichment of attributions (mean or z-score of a term's gene scores) ranks a parent
term as high as the important child it contains: with the true-path rule every gene of the
child is a gene of the parent. Here the terms *compete* for the inputs instead: the inputs'
scores, turned into normal scores, are fitted as a non-negative sum of term-membership vectors
(:func:`scipy.optimize.nnls`), so a parent that adds only unimportant genes to its child's gets
no weight. This is the idea of topGO's *elim*/*weight* algorithms (Alexa et al., 2006,
Bioinformatics 22:1600) in one convex fit, without a significance threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from scipy.stats import norm

from fusion._exceptions import InvalidParameterError
from kg import KnowledgeGraph, superterms

__all__ = ["decompose_scores", "membership", "normal_scores"]


def normal_scores(values: pd.Series) -> pd.Series:
    """Rank-based inverse normal transform: ``Φ⁻¹((rank - ½) / n)`` (ties share their mean rank).

    Attribution scores are heavy-tailed (a few genes carry most of the mass); their normal
    scores are not, and they are centred: half the inputs score below zero.

    Examples
    --------
    >>> normal_scores(pd.Series([0.0, 10.0, 1.0], index=list("abc"))).round(3).tolist()
    [-0.967, 0.967, 0.0]
    """
    ranks = values.rank(method="average").to_numpy()
    return pd.Series(norm.ppf((ranks - 0.5) / len(values)), index=values.index, name=values.name)


def membership(
    kg: KnowledgeGraph,
    inputs: Sequence[str],
    terms: Sequence[str],
    relations: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Boolean ``inputs × terms`` table: does the input reach the term in ``kg``?

    An input reaches the terms it is annotated to and all their superterms (edges followed
    forward along ``relations``; default: all), the true-path rule.
    """
    wanted = pd.Index(terms)
    table = np.zeros((len(inputs), len(wanted)), dtype=bool)
    relations = None if relations is None else tuple(relations)
    for row, node in enumerate(inputs):
        above = wanted.get_indexer(list(superterms(kg, node, relations)))
        table[row, above[above >= 0]] = True
    return pd.DataFrame(table, index=pd.Index(inputs, name="id"), columns=wanted)


def decompose_scores(
    kg: KnowledgeGraph,
    input_scores: pd.Series,
    terms: Sequence[str],
    *,
    relations: Iterable[str] | None = None,
    min_inputs: int = 2,
) -> pd.Series:
    """Non-negative term weights ``β`` minimising ``‖M β − z‖²``.

    ``z`` are the :func:`normal_scores` of ``input_scores`` and ``M`` the :func:`membership`
    of the inputs in the ``terms`` reached by at least ``min_inputs`` of them (the others get
    weight 0).

    Returns
    -------
    pandas.Series
        Weight per term, indexed like ``terms``.

    Raises
    ------
    InvalidParameterError
        If there are fewer than two input scores or no term is reached by ``min_inputs`` inputs.
    """
    if len(input_scores) < 2:
        msg = f"decompose needs at least two scored input nodes; got {len(input_scores)}."
        raise InvalidParameterError(msg)
    member = membership(kg, list(input_scores.index), terms, relations)
    member = member.loc[:, member.sum(axis=0) >= min_inputs]
    if member.shape[1] == 0:
        msg = (
            f"decompose: none of the {len(terms)} candidate terms is reached by at least "
            f"min_inputs={min_inputs} of the {len(input_scores)} input nodes."
        )
        raise InvalidParameterError(msg)
    z = normal_scores(input_scores).to_numpy()
    weights, _ = nnls(member.to_numpy(dtype=float), z)
    return pd.Series(weights, index=member.columns, name="score").reindex(terms, fill_value=0.0)
