"""The estimators a run configuration may name, and how one is made from its section."""

from __future__ import annotations

import importlib
from typing import Any

from fusion._exceptions import FusionError

__all__ = [
    "ESTIMATORS",
    "UnknownEstimatorError",
    "check_name",
    "estimator_class",
    "is_kg_model",
    "make_estimator",
    "takes_kg",
]

#: The sparse hierarchy network as P-NET sets it: one unit per KG node, three levels.
_HIERARCHY: dict[str, Any] = {"architecture": "hierarchy", "hidden": 1, "layers": 3}

#: Estimators a configuration may name: name → (``"module:Class"``, default parameters).
ESTIMATORS: dict[str, tuple[str, dict[str, Any]]] = {
    "kgfusion": ("fusion.models.estimator:KGFusionClassifier", {}),
    "kgfusion_rewired": ("fusion.models.estimator:KGFusionClassifier", {"control": "rewired"}),
    "kgfusion_permuted": (
        "fusion.models.estimator:KGFusionClassifier",
        {"control": "permuted_features"},
    ),
    "kgfusion_nograph": ("fusion.models.estimator:KGFusionClassifier", {"control": "no_graph"}),
    "kgfusion_survival": ("fusion.models.estimator:KGFusionSurvival", {}),
    "kgfusion_hierarchy": ("fusion.models.estimator:KGFusionClassifier", _HIERARCHY),
    "kgfusion_hierarchy_survival": ("fusion.models.estimator:KGFusionSurvival", _HIERARCHY),
    "early_lr": ("fusion.models.baselines:EarlyFusionLogistic", {}),
    "early_mlp": ("fusion.models.baselines:EarlyFusionMLP", {}),
    "late_average": ("fusion.models.baselines:LateFusion", {"method": "average"}),
    "late_stacking": ("fusion.models.baselines:LateFusion", {"method": "stacking"}),
    "rf": ("fusion.models.baselines:RandomForestBaseline", {}),
    "coxnet": ("fusion.models.survival_baselines:EarlyFusionCoxnet", {}),
    "rsf": ("fusion.models.survival_baselines:RandomSurvivalForestBaseline", {}),
    "pathway_lr": ("fusion.models.pathways:PathwayFeatureLogistic", {}),
    "pathway_cox": ("fusion.models.pathways:PathwayFeatureCox", {}),
}

_KG_MODULE = "fusion.models.estimator:"


class UnknownEstimatorError(FusionError, KeyError):
    """A configuration names an estimator that is not in :data:`ESTIMATORS`."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


def check_name(name: str, key: str = "model.name") -> str:
    """``name`` if :data:`ESTIMATORS` has it, else :class:`UnknownEstimatorError` naming ``key``."""
    if name not in ESTIMATORS:
        msg = f"{key}: unknown estimator {name!r}; expected one of {sorted(ESTIMATORS)}"
        raise UnknownEstimatorError(msg)
    return name


def estimator_class(name: str) -> type:
    """The class behind registry name ``name`` (imported on first use)."""
    module, _, attribute = ESTIMATORS[check_name(name)][0].partition(":")
    return getattr(importlib.import_module(module), attribute)


def is_kg_model(name: str) -> bool:
    """Whether estimator ``name`` is a KG fusion model (takes ``kg=``, can be saved and explained)."""
    return name in ESTIMATORS and ESTIMATORS[name][0].startswith(_KG_MODULE)


def takes_kg(name: str) -> bool:
    """Whether estimator ``name`` takes ``kg=``: a KG fusion model, or a baseline whose class says
    so (``takes_kg = True``, e.g. the knowledge-only pathway baselines)."""
    if name not in ESTIMATORS:
        return False
    return is_kg_model(name) or bool(getattr(estimator_class(name), "takes_kg", False))


def make_estimator(name: str, params: dict[str, Any], kg: Any = None) -> Any:
    """An unfitted estimator from a registry name and parameters.

    The registry's defaults for ``name`` come first, then ``params``; a KG model gets ``kg``
    unless ``params`` names one.

    Raises
    ------
    UnknownEstimatorError
        For an unknown name.
    fusion.InvalidParameterError
        For an unknown parameter (naming it and the valid ones) or a value outside the
        parameter's constraints (:func:`fusion.models.validate_params`).
    """
    from fusion.models import validate_params

    cls = estimator_class(name)
    merged = {**ESTIMATORS[name][1], **params}
    if takes_kg(name):
        merged.setdefault("kg", kg)
    validate_params(cls, merged)  # unknown names and values outside the constraints
    return cls(**merged)
