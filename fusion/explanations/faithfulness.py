"""Standard faithfulness metrics of a cohort's explanations, each beside random explanations.

The metrics that PyG explain, captum and GraphXAI report, over :class:`Explanation` objects of
a fitted estimator (whose interface is feature masks over patients, not a PyG ``Explainer``).
"Removing" the explanation of a patient marks its features linked to
:func:`~fusion.explanations.perturbation.explanation_inputs` (the input nodes of the subgraph of
its top ``k`` nodes) unobserved; "keeping" it marks every other feature unobserved. With ``f``
the explained output (:class:`~fusion.explanations.perturbation.ModelOutput`: the probability
of the explained class, i.e. the *model* form of GraphFramEx, or a survival model's risk):

* :func:`fidelity` (GraphFramEx, Amara et al. 2022): ``fid+ = f(x) - f(x without S)`` and
  ``fid- = f(x) - f(x with only S)``, per patient, and GEF's :func:`unfaithfulness`
  (Agarwal et al. 2023) ``1 - exp(-KL(p(x) || p(x with only S)))``;
* characterization score and fidelity-curve AUC over ``k``:
  :func:`torch_geometric.explain.metric.characterization_score` and
  :func:`~torch_geometric.explain.metric.fidelity_curve_auc` on the cohort means;
* :func:`infidelity` (Yeh et al. 2019) of input-level (``ig_features``) attributions by
  :func:`captum.metrics.infidelity`;
* stability: :func:`topk_agreement` (Jaccard of the top-``k`` sets, Spearman over their union)
  between two lists of explanations (ensembles fitted with other seeds: refitting is the
  caller's), and :func:`perturbation_stability` under small input noise.

:func:`evaluate_explanations` reports each beside the same metric for random baselines (several
seeded draws): the removal metrics (fid+, fid-, characterization, curve AUC, unfaithfulness)
beside random input sets removing as many input nodes as the explanation
(:func:`~fusion.explanations.perturbation.random_inputs`, ``baseline="inputs"``, the default)
and / or random top-``k`` sets of the same kind of nodes
(:func:`~fusion.explanations.perturbation.random_explanations`, ``baseline="nodes"``);
infidelity and stability, which compare rankings, beside random explanations.

Long because the removal metrics, the curve over ``k`` and the two baselines share one stacked
prediction of every perturbed copy (:func:`_fidelity_tables`): split, each would predict again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy.special import rel_entr

from fusion._exceptions import InvalidParameterError
from fusion._params import check_positive
from fusion.explanations._specific import check_share
from fusion.explanations.explanation import Explanation
from fusion.explanations.perturbation import (
    GraphEstimator,
    ModelOutput,
    add_noise,
    explained_cohort,
    inputs_of_top,
    keep_inputs,
    random_inputs,
    random_orders,
    remove_inputs,
    with_ranking,
)
from fusion.explanations.robustness import Explainer, _infidelity, _reexplainer, topk_agreement

if TYPE_CHECKING:
    from fusion.data.cohort import Cohort

__all__ = [
    "BASELINES",
    "EVALUATION_COLUMNS",
    "FIDELITY_COLUMNS",
    "FaithfulnessConfig",
    "evaluate_explanations",
    "fidelity",
    "unfaithfulness",
]

logger = logging.getLogger(__name__)

#: Columns of :func:`fidelity`.
FIDELITY_COLUMNS: tuple[str, ...] = (
    "patient",
    "inputs",
    "output",
    "removed",
    "kept",
    "fid_plus",
    "fid_minus",
    "unfaithfulness",
)
#: The random baselines of :func:`evaluate_explanations`: ``"inputs"``, random input nodes as
#: many as the explanation's subgraph has (:func:`~fusion.explanations.perturbation.random_inputs`);
#: ``"nodes"``, random top-``k`` nodes of the selected kind
#: (:func:`~fusion.explanations.perturbation.random_explanations`).
BASELINES: tuple[str, ...] = ("inputs", "nodes")
#: Columns of :func:`evaluate_explanations`.
EVALUATION_COLUMNS: tuple[str, ...] = (
    "metric",
    "baseline",
    "explanation",
    "random_mean",
    "random_sd",
    "ratio",
    "better",
)


@dataclass(frozen=True)
class FaithfulnessConfig:
    """Settings of :func:`evaluate_explanations` besides ``k``, ``n_random`` and ``seed``.

    Parameters
    ----------
    types, namespace : str or tuple of str, optional
        The top nodes are of these types / namespaces (as in :meth:`Explanation.top`).
    max_len : int
        Longest path from a top node to an input (:meth:`Explanation.subgraph`) (default: ``3``).
    curve : tuple of int
        The ``k`` of the fidelity curve, ascending (default: ``(1, 2, 5, 10, 20)``).
    noise_sd : float
        Noise of the infidelity perturbation and of the stability test, in standardised units
        (default: ``0.1``).
    n_perturb : int
        Perturbations per patient for infidelity (default: ``10``).
    max_share : float, None or "default"
        The ``max_share`` of the explanations' rankings (:meth:`Explanation.ranking`; default:
        each explanation's). It leaves out broad terms, never inputs: ranking input nodes only,
        ``None`` gives the same top nodes without searching the graph for the terms' coverage
        (on a large graph, a search per patient).
    baseline : str or tuple of str
        The random baseline(s) of the removal metrics, of :data:`BASELINES`: ``"inputs"``
        (default) removes, per patient and ``k``, as many random input nodes as the
        explanation's subgraph has; ``"nodes"`` removes the inputs of a random top-``k`` of the
        selected nodes (for terms, usually more or fewer inputs than the explanation's:
        different terms reach different inputs, the explanation's top terms often share theirs).
        Both: the removal rows once per baseline.
    """

    types: str | tuple[str, ...] | None = None
    namespace: str | tuple[str, ...] | None = None
    max_len: int = 3
    curve: tuple[int, ...] = (1, 2, 5, 10, 20)
    noise_sd: float = 0.1
    n_perturb: int = 10
    max_share: float | None | Literal["default"] = "default"
    baseline: str | tuple[str, ...] = "inputs"

    @property
    def baselines(self) -> tuple[str, ...]:
        """:attr:`baseline` as a tuple."""
        return (self.baseline,) if isinstance(self.baseline, str) else tuple(self.baseline)

    def __post_init__(self) -> None:
        check_positive("max_len", self.max_len, "FaithfulnessConfig")
        check_positive("n_perturb", self.n_perturb, "FaithfulnessConfig")
        curve = tuple(check_positive("curve", k, "FaithfulnessConfig") for k in self.curve)
        if len(curve) < 2 or list(curve) != sorted(set(curve)):
            msg = f"The 'curve' parameter of FaithfulnessConfig must be at least 2 increasing ints. Got {self.curve!r} instead."
            raise InvalidParameterError(msg)
        if not np.isfinite(self.noise_sd) or self.noise_sd <= 0:
            msg = f"The 'noise_sd' parameter of FaithfulnessConfig must be a float > 0. Got {self.noise_sd!r} instead."
            raise InvalidParameterError(msg)
        if self.max_share != "default":
            check_share(self.max_share, "FaithfulnessConfig")
        chosen = self.baselines
        if not chosen or len(set(chosen)) < len(chosen) or not set(chosen) <= set(BASELINES):
            msg = f"The 'baseline' parameter of FaithfulnessConfig must be one or both of {list(BASELINES)}. Got {self.baseline!r} instead."
            raise InvalidParameterError(msg)


def unfaithfulness(full: np.ndarray, masked: np.ndarray) -> np.ndarray:
    """GEF's unfaithfulness ``1 - exp(-KL(full || masked))`` of each row of class distributions.

    Examples
    --------
    >>> unfaithfulness(np.array([[0.5, 0.5], [0.5, 0.5]]), np.array([[0.5, 0.5], [0.8, 0.2]]))  # exp(-KL) = √(1.6 · 0.4)
    array([0. , 0.2])
    """
    kl = rel_entr(np.asarray(full, dtype=float), np.asarray(masked, dtype=float)).sum(axis=1)
    return 1.0 - np.exp(-kl)


def _ranked(explanation: Explanation, config: FaithfulnessConfig) -> pd.Series:
    """:meth:`Explanation.ranking` of the nodes ``config`` selects."""
    return explanation.ranking(config.types, config.namespace, max_share=config.max_share)


def _stacked(cohort: Cohort, copies: int) -> Cohort:
    """``copies`` copies of the patients of ``cohort``, sample ids ``"<copy>|<patient>"``."""
    from fusion.data.cohort import Cohort

    def ids(index: pd.Index) -> list[str]:
        return [f"{j}|{p}" for j in range(copies) for p in index]

    frames = {m: pd.concat([cohort[m]] * copies).set_axis(ids(cohort[m].index)) for m in cohort}
    return Cohort(frames, cohort.modalities.values(), samples=ids(cohort.samples))


def _top_inputs(
    explanations: Sequence[Explanation],
    orders: Sequence[pd.Series],
    ks: Sequence[int],
    max_len: int,
) -> list[dict[int, list[str]]]:
    """Per patient, :func:`inputs_of_top` of its ranking ``orders[i]`` (the explanation's
    paths to the inputs) for every ``k`` of ``ks``."""
    return [
        inputs_of_top(e, order.index, ks, max_len=max_len) for e, order in zip(explanations, orders)
    ]


def _fidelity_tables(
    estimator: GraphEstimator,
    cohort: Cohort,
    explanations: Sequence[Explanation],
    removed: Sequence[Sequence[dict[int, list[str]]]],
    ks: Sequence[int],
) -> dict[int, pd.DataFrame]:
    """Per ``k``, the :func:`fidelity` rows of each group of input sets (``removed[g][i][k]``:
    group ``g``'s input nodes of patient ``i`` at ``k``), all groups' perturbed copies
    predicted together; column ``group`` numbers the groups."""
    output, base = ModelOutput(estimator), explained_cohort(cohort, explanations)
    targets = output.targets(explanations)
    full = output.outputs(base)
    copies = len(removed)
    stacked = _stacked(base, copies)
    inputs = {
        f"{g}|{e.patient}": sets
        for g, group in enumerate(removed)
        for e, sets in zip(explanations, group)
    }
    tiled = None if targets is None else np.tile(targets, copies)
    before = np.tile(output.explained(full, targets), copies)
    tables = {}
    for k in ks:
        chosen = {sample: by_k[k] for sample, by_k in inputs.items()}
        removed = output.explained(output.outputs(remove_inputs(stacked, estimator, chosen)), tiled)
        kept_outputs = output.outputs(keep_inputs(stacked, estimator, chosen))
        kept = output.explained(kept_outputs, tiled)
        unfaithful = (
            unfaithfulness(np.tile(full, (copies, 1)), kept_outputs)
            if output.kind == "probability"
            else np.full(len(before), np.nan)
        )
        tables[k] = pd.DataFrame(
            {
                "group": np.repeat(np.arange(copies), base.n_samples),
                "patient": np.tile(base.samples.to_numpy(dtype=object), copies),
                "inputs": [len(v) for v in chosen.values()],
                "output": before,
                "removed": removed,
                "kept": kept,
                "fid_plus": before - removed,
                "fid_minus": before - kept,
                "unfaithfulness": unfaithful,
            }
        )
    return tables


def fidelity(
    estimator: GraphEstimator,
    cohort: Cohort,
    explanations: Sequence[Explanation],
    k: int = 10,
    *,
    config: FaithfulnessConfig | None = None,
) -> pd.DataFrame:
    """Fidelity+, fidelity- and unfaithfulness of each patient's top-``k`` explanation.

    Parameters
    ----------
    estimator : GraphEstimator
        The fitted estimator the explanations explain.
    cohort : Cohort
        Holds the explained patients.
    explanations : sequence of Explanation
        One per patient (e.g. :func:`~fusion.explanations.explain`).
    k : int
        Top nodes of each explanation (default: ``10``).
    config : FaithfulnessConfig, optional
        ``types``, ``namespace`` and ``max_len`` of the top nodes (default: all nodes, 3 hops).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FIDELITY_COLUMNS`: ``inputs`` removed, the explained ``output`` ``f(x)``,
        ``removed`` ``f(x without S)``, ``kept`` ``f(x with only S)``, ``fid_plus``,
        ``fid_minus`` and ``unfaithfulness`` (NaN for a risk).

    Raises
    ------
    AlignmentError
        If an explained patient is not in ``cohort``.
    InvalidParameterError
        If ``k`` is not a positive int, there is no explanation, or a patient is explained twice.
    """
    k = check_positive("k", k, "fidelity")
    config = config or FaithfulnessConfig()
    orders = [_ranked(e, config) for e in explanations]
    removed = [_top_inputs(explanations, orders, [k], config.max_len)]
    tables = _fidelity_tables(estimator, cohort, explanations, removed, [k])
    return tables[k][list(FIDELITY_COLUMNS)]


def _row(
    metric: str, value: float, random: Sequence[float], better: str, baseline: str = "nodes"
) -> dict:
    """One row of :func:`evaluate_explanations`: the value, the random draws' mean and sd."""
    draws = np.asarray(random, dtype=float)
    mean = float(np.nanmean(draws)) if np.isfinite(draws).any() else float("nan")
    sd = float(np.nanstd(draws, ddof=1)) if np.isfinite(draws).sum() > 1 else float("nan")
    ratio = value / mean if mean != 0 and np.isfinite(mean) else float("nan")
    row = (metric, baseline, float(value), mean, sd, ratio, better)
    return dict(zip(EVALUATION_COLUMNS, row))


def _fidelity_metrics(
    tables: dict[int, pd.DataFrame],
    k: int,
    curve: Sequence[int],
    kind: str,
    baselines: dict[str, Sequence[int]],
) -> list[dict]:
    """Rows of the inputs removed, fid+, fid- and, for probabilities, the characterization
    score, the fidelity-curve AUC over ``curve`` and unfaithfulness, from per-``k`` tables
    (group 0: the explanations), once per baseline (its name → its groups)."""
    rows = []
    for baseline, groups in baselines.items():
        chosen = [0, *groups]
        selected = {c: t[t["group"].isin(chosen)] for c, t in tables.items()}
        rows += _baseline_metrics(selected, k, curve, kind, baseline)
    return rows


def _baseline_metrics(
    tables: dict[int, pd.DataFrame], k: int, curve: Sequence[int], kind: str, baseline: str
) -> list[dict]:
    """:func:`_fidelity_metrics` of one baseline (the tables hold group 0 and its groups)."""
    import torch
    from torch_geometric.explain.metric import characterization_score, fidelity_curve_auc

    columns = ["inputs", "fid_plus", "fid_minus", "unfaithfulness"]
    means = {c: table.groupby("group")[columns].mean() for c, table in tables.items()}
    at_k = means[k]

    def row(metric: str, values: np.ndarray | pd.Series, better: str) -> dict:
        values = np.asarray(values, dtype=float)
        return _row(metric, values[0], values[1:], better, baseline)

    rows = [
        row(f"input nodes removed (top {k}, mean)", at_k["inputs"], ""),
        row(f"fidelity+ (top {k})", at_k["fid_plus"], "higher"),
        row(f"fidelity- (top {k})", at_k["fid_minus"], "lower"),
    ]
    if kind != "probability":  # the scores below combine fidelities of probabilities
        return rows
    plus, minus = (torch.tensor(np.stack([means[c][m] for c in curve])) for m in columns[1:3])
    x = torch.tensor(list(curve), dtype=plus.dtype)
    auc = [float(fidelity_curve_auc(plus[:, g], minus[:, g], x)) for g in range(plus.shape[1])]
    charact = characterization_score(
        torch.tensor(at_k["fid_plus"].to_numpy()), torch.tensor(at_k["fid_minus"].to_numpy())
    )
    return rows + [
        row(f"characterization (top {k})", charact.numpy(), "higher"),
        row(f"fidelity-curve AUC (k = {', '.join(map(str, curve))})", np.array(auc), "higher"),
        row(f"unfaithfulness (top {k})", at_k["unfaithfulness"], "lower"),
    ]


def _agreement_rows(
    name: str,
    groups: Sequence[Sequence[Explanation]],
    other: Sequence[Explanation],
    k: int,
    config: FaithfulnessConfig,
) -> list[dict]:
    tables = [
        topk_agreement(g, other, k, config.types, config.namespace, max_share=config.max_share)
        for g in groups
    ]
    rows = []
    for column in ("jaccard", "spearman"):
        values = [float(t[column].mean()) for t in tables]
        rows.append(_row(f"{name}: top-{k} {column}", values[0], values[1:], "higher"))
    return rows


def evaluate_explanations(
    estimator: GraphEstimator,
    cohort: Cohort,
    explanations: Sequence[Explanation],
    k: int = 10,
    n_random: int = 20,
    seed: int = 0,
    *,
    config: FaithfulnessConfig | None = None,
    other: Sequence[Explanation] | None = None,
    explainer: Explainer | None = None,
) -> pd.DataFrame:
    """The standard faithfulness metrics of a cohort's explanations, beside random ones.

    Each metric is the mean over patients; its random baseline is the same metric for
    ``n_random`` seeded draws, reported as the mean and sd over draws. Rows: the input nodes
    removed, :func:`fidelity` (fid+, fid-), the characterization score and the fidelity-curve
    AUC over ``config.curve`` (classifiers) and :func:`unfaithfulness` (classifiers), the
    *removal metrics*, each once per ``config.baseline``: ``"inputs"`` (default), random input
    sets of as many input nodes as the explanation's at each ``k``
    (:func:`~fusion.explanations.perturbation.random_inputs`; its "input nodes removed" equals
    the explanation's), ``"nodes"``, random top-``k`` sets of the same kind of nodes
    (:func:`~fusion.explanations.perturbation.random_explanations`: each explanation's non-zero
    scores shuffled among its candidate nodes). Then, beside random explanations (baseline
    ``"nodes"``, the same draws): :func:`infidelity` (``ig_features`` explanations),
    :func:`perturbation_stability` (when the explanations can be recomputed: a base method or
    ``explainer``) and, given ``other`` (explanations of the same patients by a model fitted
    with another seed), seed stability.

    Parameters
    ----------
    estimator, cohort, explanations :
        As in :func:`fidelity`.
    k : int
        Top nodes of each explanation (default: ``10``).
    n_random : int
        Random explanations per patient (default: ``20``).
    seed : int
        Seeds the random explanations and the perturbations (default: ``0``).
    config : FaithfulnessConfig, optional
        The other settings (default: ``FaithfulnessConfig()``).
    other : sequence of Explanation, optional
        Explanations of the same patients to compare with (seed stability).
    explainer : callable, optional
        Recomputes the explanations of a cohort, for :func:`perturbation_stability`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EVALUATION_COLUMNS`: ``baseline`` names the random baseline of the row
        (:data:`BASELINES`), ``ratio`` is explanation / random mean, ``better`` says whether
        ``"higher"`` or ``"lower"`` values are more faithful.

    Raises
    ------
    AlignmentError, InvalidParameterError
        As :func:`fidelity`, or if ``n_random`` is not a positive int.
    """
    k = check_positive("k", k, "evaluate_explanations")
    n_random = check_positive("n_random", n_random, "evaluate_explanations")
    config = config or FaithfulnessConfig()
    explained_cohort(cohort, explanations)
    rng = np.random.default_rng(seed)
    draws = [
        random_orders(e, n_random, rng, config.types, config.namespace, max_share=config.max_share)
        for e in explanations
    ]
    ks = sorted({*config.curve, k})
    own = [_ranked(e, config) for e in explanations]
    removed = [_top_inputs(explanations, own, ks, config.max_len)]
    baselines: dict[str, list[int]] = {}
    for baseline in config.baselines:
        start = len(removed)
        if baseline == "nodes":
            removed += [
                _top_inputs(explanations, [d[j] for d in draws], ks, config.max_len)
                for j in range(n_random)
            ]
        else:
            matched = [
                random_inputs(e, {c: len(s[c]) for c in ks}, n_random, rng)
                for e, s in zip(explanations, removed[0])
            ]
            removed += [[m[j] for m in matched] for j in range(n_random)]
        baselines[baseline] = list(range(start, len(removed)))
    tables = _fidelity_tables(estimator, cohort, explanations, removed, ks)
    rows = _fidelity_metrics(tables, k, config.curve, ModelOutput(estimator).kind, baselines)
    groups = [
        list(explanations),
        *([with_ranking(e, d[j]) for e, d in zip(explanations, draws)] for j in range(n_random)),
    ]
    if {e.method for e in explanations} == {"ig_features"}:
        values = _infidelity(estimator, cohort, groups, config.noise_sd, config.n_perturb, seed)
        per_group = values.reshape(len(groups), -1).mean(axis=1)
        name = f"infidelity (sd {config.noise_sd})"
        rows.append(_row(name, per_group[0], per_group[1:], "lower"))
    try:
        reexplain = _reexplainer(estimator, explanations, explainer)
    except InvalidParameterError as error:
        logger.info("no perturbation stability: %s", error)
    else:
        noisy = reexplain(
            add_noise(explained_cohort(cohort, explanations), estimator, config.noise_sd, seed)
        )
        rows += _agreement_rows(f"stability (noise sd {config.noise_sd})", groups, noisy, k, config)
    if other is not None:
        rows += _agreement_rows("stability (other seed)", groups, other, k, config)
    return pd.DataFrame(rows, columns=list(EVALUATION_COLUMNS))
