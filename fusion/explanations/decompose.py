"""Decompose input-node scores onto the ontology terms above them (:meth:`Explanation.decompose`).

Per-term enrichment of attributions (the z-score of a term's gene scores) ranks a parent term
as high as the important child it contains: with the true-path rule every gene of the child is
a gene of the parent; and two overlapping pathways share the evidence of their common genes.
Here the terms *compete* for the inputs instead:

1. the inputs' scores become normal scores (:func:`normal_scores`);
2. **elim** (topGO's algorithm, Alexa et al., 2006, Bioinformatics 22:1600): terms are visited
   from the most specific up; when a term's z-score ``Σ z_g / √n`` exceeds ``threshold``, its
   inputs are removed from all its superterms, which are then scored on their other inputs;
3. **greedy claiming**, for overlaps outside the hierarchy: the term with the highest z-score
   claims its remaining inputs, which leave every other term; repeated while a term's z-score
   exceeds ``threshold``. Ties go to the more specific term (higher information content, e.g.
   a pathway whose measured genes equal another's but with fewer unmeasured members), then to
   the smaller id;
4. **backfitting** of the claims: each claiming term in turn gives back the inputs that another
   claiming term holds and competes again for the rest, until no input changes owner. Without
   it, a term holding all of a significant term's inputs plus a few of a third one claims first
   (the extra inputs raise its z-score) and leaves the significant term nothing.

A term's score is its z-score over the inputs it owns in the end (never below 0): the evidence
that is its own, not inherited from a more specific term or shared with a better-supported one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from fusion._exceptions import InvalidParameterError
from fusion.data._checks import show
from kg import KnowledgeGraph, reachability

__all__ = ["decompose_groups", "decompose_scores", "membership", "normal_scores"]


def normal_scores(values: pd.Series) -> pd.Series:
    """Rank-based inverse normal transform: ``Φ⁻¹((rank - ½) / n)`` (ties share their mean rank).

    Attribution scores are heavy-tailed (a few genes carry most of the mass); their normal
    scores are not, and (without ties) they are centred: half the inputs score below zero.

    Examples
    --------
    >>> normal_scores(pd.Series([0.0, 10.0, 1.0], index=list("abc"))).round(3).tolist()
    [-0.967, 0.967, 0.0]
    """
    ranks = values.rank(method="average").to_numpy()
    return pd.Series(norm.ppf((ranks - 0.5) / len(values)), index=values.index, name=values.name)


def membership(
    kg: KnowledgeGraph,
    nodes: Sequence[str],
    terms: Sequence[str],
    relations: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Boolean ``nodes × terms`` table: does the node reach the term in ``kg``?

    A node reaches the terms it is annotated to and all their superterms (edges followed
    forward along ``relations``; default: all), the true-path rule (:func:`kg.reachability`);
    a node does not reach itself.
    """
    table = reachability(kg, nodes, terms, relations=relations).toarray()
    same = pd.Index(nodes).get_indexer(pd.Index(terms))
    table[same[same >= 0], np.flatnonzero(same >= 0)] = False
    return pd.DataFrame(table, index=pd.Index(nodes, name="id"), columns=pd.Index(terms))


def _z(z: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Per term (column of ``member``), ``Σ z_g / √n`` over its ``n`` member inputs (0 if none)."""
    size = member.sum(axis=0)
    return np.divide(z @ member, np.sqrt(size), out=np.zeros(member.shape[1]), where=size > 0)


def _elim(z: np.ndarray, member: np.ndarray, above: np.ndarray, threshold: float) -> np.ndarray:
    """Membership after topGO's elim: a significant term's inputs leave its superterms."""
    member = member.copy()
    order = np.argsort(above.sum(axis=0), kind="stable")  # fewest subterms first: specific first
    for term in order:
        if _z(z, member[:, [term]])[0] > threshold:
            member[np.ix_(member[:, term], above[term])] = False
    return member


def _best_claim(
    z: np.ndarray,
    member: np.ndarray,
    owner: np.ndarray,
    eligible: np.ndarray,
    threshold: float,
    specificity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The best ``eligible`` term's claim on the inputs no one owns, or ``None``.

    The best term has the highest z-score on its unowned inputs; among equal z-scores the most
    specific (highest ``specificity``, the terms' information content), then the first column.
    Returns the claimed inputs (a row mask) and the claiming terms: the best one and the
    eligible terms with the same unowned inputs *and* the same specificity (neither the data
    nor the annotations can tell them apart, so they claim together and tie instead of one
    losing everything). A less specific term with the same unowned inputs does not claim:
    parsimony gives the inputs to the term that explains them with fewer unmeasured members.
    ``None`` when no eligible term scores above ``threshold`` on its unowned inputs.
    """
    free = member & (owner == -1)[:, None]
    current = np.where(eligible & free.any(axis=0), _z(z, free), -np.inf)
    best = int(np.lexsort((-specificity, -current))[0])
    if current[best] <= threshold:
        return None
    rows = free[:, best]
    same = eligible & (free == rows[:, None]).all(axis=0) & (specificity == specificity[best])
    return rows, np.flatnonzero(same)


def _greedy(
    z: np.ndarray, member: np.ndarray, threshold: float, specificity: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Greedy claiming: each input's owner (a group index, -1 for none) and the groups of
    terms that claimed together (see :func:`_best_claim`)."""
    owner = np.full(member.shape[0], -1)
    groups: list[np.ndarray] = []
    open_ = np.ones(member.shape[1], dtype=bool)
    while (claim := _best_claim(z, member, owner, open_, threshold, specificity)) is not None:
        rows, terms = claim
        owner[rows] = len(groups)
        open_[terms] = False
        groups.append(terms)
    return owner, groups


def _backfit(
    z: np.ndarray,
    member: np.ndarray,
    owner: np.ndarray,
    groups: list[np.ndarray],
    threshold: float,
    specificity: np.ndarray,
    max_passes: int = 10,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Revisit the greedy claims until no input changes owner (at most ``max_passes`` rounds).

    Each group in turn releases its inputs; those that the terms of another (non-empty) group
    all hold go to the first such group, and the rest are claimed again, as in :func:`_greedy`,
    by the best of the released group's terms and the open terms (the group dissolves if none
    exceeds ``threshold``). A term that was claimed first only because it also held a few
    inputs of another significant term thereby gives them back, and then ties with the term
    holding the rest of its inputs.
    """
    owner, groups = owner.copy(), list(groups)
    for _ in range(max_passes):
        before = owner.copy()
        for g in range(len(groups)):
            released = owner == g
            if not released.any():
                continue
            owner[released] = -1
            taken = np.zeros(member.shape[1], dtype=bool)
            for h, terms in enumerate(groups):
                if h != g and (owner == h).any():
                    owner[released & (owner == -1) & member[:, terms].all(axis=1)] = h
                    taken[terms] = True
            claim = _best_claim(z, member, owner, ~taken, threshold, specificity)
            if claim is None:
                groups[g] = np.array([], dtype=int)
                continue
            rows, groups[g] = claim
            owner[rows] = g
        if (owner == before).all():
            break
    return owner, groups


def _claim(
    z: np.ndarray, member: np.ndarray, threshold: float, specificity: np.ndarray
) -> np.ndarray:
    """Greedy claiming and backfitting; each term's z-score over the inputs it owns.

    A term outside every claiming group scores on the inputs no group owns.
    """
    greedy = _greedy(z, member, threshold, specificity)
    owner, groups = _backfit(z, member, *greedy, threshold, specificity)
    scores = _z(z, member & (owner == -1)[:, None])
    for g, terms in enumerate(groups):
        scores[terms] = _z(z, (owner == g)[:, None])[0]
    return np.clip(scores, 0.0, None)


def _check_threshold(threshold: object) -> None:
    if isinstance(threshold, bool) or not (
        isinstance(threshold, (int, float)) and np.isfinite(threshold)
    ):
        msg = f"The 'threshold' parameter of decompose must be a finite number. Got {show(threshold)}."
        raise InvalidParameterError(msg)


def decompose_scores(
    kg: KnowledgeGraph,
    input_scores: pd.Series,
    terms: Sequence[str],
    *,
    relations: Iterable[str] | None = None,
    min_inputs: int = 2,
    threshold: float = 3.0,
    specificity: pd.Series | None = None,
) -> pd.Series:
    """Each term's z-score over the inputs it keeps after elim and greedy claiming.

    Parameters
    ----------
    kg : KnowledgeGraph
        Where inputs reach terms, and terms their superterms.
    input_scores : pandas.Series
        Importance per input node (higher: more important).
    terms : sequence of str
        Candidate terms; those reached by fewer than ``min_inputs`` inputs score 0.
    relations : iterable of str, optional
        Edges followed upwards (default: all).
    min_inputs : int
        See ``terms`` (default: ``2``).
    threshold : float
        z-score above which a term takes its inputs from its superterms (elim) and from
        overlapping terms (claiming) (default: ``3.0``, one-sided p ≈ 0.001).
    specificity : pandas.Series, optional
        Per term, how specific it is (its information content, :func:`kg.information_content`):
        of two terms with equal z-scores the more specific claims first, and of two with the
        same unowned inputs only the more specific claims them (terms left out rank last;
        default: all equal, so such terms claim together and tie).

    Returns
    -------
    pandas.Series
        Score (``>= 0``) per term, indexed like ``terms``.

    Raises
    ------
    InvalidParameterError
        If ``threshold`` is not finite, there are fewer than two input scores, they are all
        equal, or no term is reached by ``min_inputs`` inputs.
    """
    _check_threshold(threshold)
    if len(input_scores) < 2:
        msg = f"decompose needs at least two scored input nodes; got {len(input_scores)}."
        raise InvalidParameterError(msg)
    if input_scores.nunique() < 2:
        msg = (
            f"decompose: all {len(input_scores)} input nodes score {show(input_scores.iloc[0])}, "
            "nothing to decompose; the scores must be the inputs' own (e.g. method='ig_features'; "
            "'contribution' and 'ig' score concept nodes)."
        )
        raise InvalidParameterError(msg)
    member = membership(kg, list(input_scores.index), terms, relations)
    reached = member.sum(axis=0)
    member = member.loc[:, reached >= min_inputs]
    if member.shape[1] == 0:
        msg = (
            f"decompose: none of the {len(terms)} candidate terms is reached by at least "
            f"min_inputs={min_inputs} of the {len(input_scores)} input nodes; "
        )
        best = int(reached.max()) if len(reached) else 0
        if best:
            n_best = int((reached == best).sum())
            msg += (
                f"the best reached has {best} input(s) ({n_best} such term(s), "
                f"{int((reached > 0).sum())} reached at all): min_inputs={best} "
                f"(--min-inputs {best}) would score them."
            )
        else:
            msg += (
                "no input reaches any of them: the graph has no path from the inputs up to "
                "these terms (choose other term types, or relations that lead to them)."
            )
        raise InvalidParameterError(msg)
    kept = pd.Index(sorted(member.columns))  # column order breaks the last ties: by id
    member = member[kept]
    above = membership(kg, list(kept), kept, relations).to_numpy(copy=True)  # [t, u]: u above t
    np.fill_diagonal(above, False)
    z = normal_scores(input_scores).to_numpy()
    matrix = _elim(z, member.to_numpy(), above, threshold)
    order = np.zeros(len(kept)) if specificity is None else specificity.reindex(kept).to_numpy()
    scores = _claim(z, matrix, threshold, np.nan_to_num(order, nan=-np.inf))
    return pd.Series(scores, index=kept, name="score").reindex(terms, fill_value=0.0)


def decompose_groups(
    kg: KnowledgeGraph,
    input_scores: pd.Series,
    terms: Sequence[str],
    *,
    relations: Iterable[str] | None = None,
    min_inputs: int = 2,
    threshold: float = 3.0,
    specificity: pd.Series | None = None,
) -> pd.Series:
    """:func:`decompose_scores` for each ontology among ``terms`` on its own.

    The terms are grouped by node type and namespace (GO's biological process, molecular
    function and cellular component; Reactome pathways; HPO phenotypes): a gene may well be in
    a process *and* a component, so terms of different ontologies do not compete for it. A
    group none of whose terms is reached by ``min_inputs`` inputs scores 0.

    Parameters are those of :func:`decompose_scores`.

    Returns
    -------
    pandas.Series
        Score (``>= 0``) per term, indexed like ``terms``.

    Raises
    ------
    InvalidParameterError
        As :func:`decompose_scores` (but not when some group has no term reached by
        ``min_inputs`` inputs).
    """
    _check_threshold(threshold)
    groups = kg.nodes.loc[list(terms), ["type", "namespace"]].fillna({"namespace": ""})
    reached = membership(kg, list(input_scores.index), list(terms), relations).sum(axis=0)
    scores = pd.Series(0.0, index=pd.Index(terms), name="score")
    for _, group in groups.groupby(["type", "namespace"], sort=True):
        ids = list(group.index)
        if (reached[ids] >= min_inputs).any():
            scores[ids] = decompose_scores(
                kg,
                input_scores,
                ids,
                relations=relations,
                min_inputs=min_inputs,
                threshold=threshold,
                specificity=specificity,
            ).to_numpy()
    return scores
