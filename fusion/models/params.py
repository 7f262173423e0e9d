"""The hyper-parameters of the KG fusion estimators: their constraints, and validation.

The defaults are declared once, in the signature of :class:`~fusion.models.KGFusionClassifier`
(the user-facing ones); the :mod:`gnn` configurations (:class:`gnn.FusionNetConfig`,
:class:`gnn.training.TrainConfig`) are built from the estimator's values field by field, every
field given explicitly. :data:`KGFUSION_CONSTRAINTS` says what each parameter may be, and
:func:`validate_params` checks values against it without fitting (so that a run configuration
is refused before any knowledge graph is built). This module imports neither torch nor
scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any, Literal, get_args

from fusion._exceptions import InvalidParameterError
from fusion._params import (
    Boolean,
    Constraint,
    InstanceOf,
    Interval,
    ListOf,
    Pattern,
    StrOptions,
    validate_parameter_constraints,
)
from kg import KnowledgeGraph

__all__ = ["CONTROLS", "KGFUSION_CONSTRAINTS", "Control", "check_fitted", "validate_params"]

#: The matched random-graph controls every graph model takes as its ``control`` parameter:
#: ``"none"`` (the knowledge graph as it is), ``"no_graph"`` (graph branch off: late fusion of
#: the modality heads), ``"rewired"`` (the pruned graph's edges rewired, degree-preserving within
#: each relation), ``"permuted_features"`` (the feature-to-node assignment permuted among the
#: linked nodes, the same permutation for every modality) and ``"random_masks"`` (the sparse
#: hierarchy network's connection masks replaced by random ones of equal sparsity). Each is seeded
#: by the estimator's ``random_state``.
Control = Literal["none", "no_graph", "rewired", "permuted_features", "random_masks"]
CONTROLS: tuple[str, ...] = get_args(Control)

_POSITIVE = Interval(int, 1, None)
_COUNT = Interval(int, 0, None)
_FRACTION = Interval(float, 0, 1)

#: Parameter name → the constraints its value may satisfy (any one; ``None`` admits ``None``),
#: for :class:`~fusion.models.KGFusionClassifier` and :class:`~fusion.models.KGFusionSurvival`.
KGFUSION_CONSTRAINTS: Mapping[str, Sequence[Constraint | None]] = {
    "kg": [InstanceOf(KnowledgeGraph, "kg.KnowledgeGraph"), None],
    "relations": [ListOf(str), None],
    "min_seeds": [_POSITIVE],
    "max_fraction": [_FRACTION],
    "min_ic": [Interval(float, 0, None)],
    "relation_groups": [StrOptions({"relation", "type"})],
    "architecture": [StrOptions({"rgcn", "hierarchy"})],
    "hidden": [_POSITIVE],
    "embedding": [_POSITIVE],
    "layers": [_COUNT],
    "dropout": [_FRACTION],
    "input_dropout": [_FRACTION],
    "direct": [StrOptions({"all", "unlinked", "none"})],
    "encoder": [StrOptions({"linear", "mlp"})],
    "aux_weight": [Interval(float, 0, None)],
    "control": [StrOptions(set(CONTROLS))],
    "lr": [Interval(float, 0, None, closed="neither")],
    "weight_decay": [Interval(float, 0, None)],
    "max_epochs": [_POSITIVE],
    "patience": [_COUNT],
    "batch_size": [_COUNT],
    "eval_batch_size": [_COUNT],
    "precise_norm": [Boolean()],
    "val_size": [Interval(float, 0, 1, closed="neither")],
    "n_ensemble": [_POSITIVE],
    "random_state": [Interval(int, 0, None)],
    "device": [Pattern(r"auto|cpu|mps|cuda(:\d+)?", "'auto', 'cpu', 'mps', 'cuda' or 'cuda:<i>'")],
    "n_threads": [_POSITIVE, None],
    "progress": [Boolean()],
    "pretrained": [InstanceOf(str), InstanceOf(PurePath, "pathlib.Path"), None],
    "freeze_encoder": [Boolean()],
}


def _constraints(cls: type) -> Mapping[str, Sequence[Constraint | None]]:
    return getattr(cls, "_param_constraints", {})


def validate_params(estimator: Any, params: Mapping[str, Any] | None = None) -> None:
    """Check parameter values of an estimator class (or instance) without fitting.

    Parameters
    ----------
    estimator : estimator class or instance
        A :mod:`fusion.models` estimator (its ``_param_constraints`` table is used).
    params : mapping of str to object, optional
        The values to check (parameters left out are not checked); default: the instance's own
        ``get_params(deep=False)``.

    Raises
    ------
    InvalidParameterError
        A name the estimator does not take, or a value outside its constraints, with
        scikit-learn's message "The 'x' parameter of F must be ... Got ... instead."

    Examples
    --------
    >>> from fusion.models import KGFusionClassifier
    >>> validate_params(KGFusionClassifier, {"hidden": 8, "lr": 1e-3})
    >>> validate_params(KGFusionClassifier, {"lr": "fast"})
    Traceback (most recent call last):
    ...
    fusion._exceptions.InvalidParameterError: The 'lr' parameter of KGFusionClassifier must be a float in the range (0, inf). Got 'fast' instead.
    """
    cls = estimator if isinstance(estimator, type) else type(estimator)
    if params is None:
        if isinstance(estimator, type):
            msg = "validate_params needs params= when given an estimator class."
            raise InvalidParameterError(msg)
        params = estimator.get_params(deep=False)
    valid = cls._get_param_names() if hasattr(cls, "_get_param_names") else list(params)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        msg = (
            f"unknown parameter(s) {unknown}: {cls.__name__} has no parameter of that name; "
            f"valid: {sorted(valid)}."
        )
        raise InvalidParameterError(msg)
    validate_parameter_constraints(_constraints(cls), params, cls.__name__)


def check_fitted(estimator: Any, attribute: str) -> None:
    """Raise :class:`~fusion.NotFittedError` unless ``estimator`` has its fitted ``attribute``."""
    if not hasattr(estimator, attribute):
        from fusion._exceptions import NotFittedError  # built on first use (imports scikit-learn)

        msg = f"This {type(estimator).__name__} instance is not fitted yet; call fit(cohort) first."
        raise NotFittedError(msg)
