"""Run configurations: one validated YAML file names the KG, the cohort, the model and the protocol.

Example ``run.yaml``::

    kg:
      preset: shared              # embedded | shared, or `sources:` as in `kgfusion kg build --config`
      data_dir: ${KGFUSION_DATA}
    cohort:
      format: mogonet             # auto | mogonet | breast-tcga | multiomics | tables | h5mu | h5ad | modalities | synthetic
      path: ${KGFUSION_DATA}/mogonet_rosmap
    model:
      name: kgfusion
      params: {n_ensemble: 3, random_state: 0}
      pretrained: null            # or an encoder folder from `kgfusion pretrain`
    evaluation:
      protocol: official          # official | cv
      seeds: [0, 1, 2, 3, 4]
      baselines: [early_lr, rf]
    output: kgfusion-out/rosmap

A configuration is data: it is validated when it is read (unknown keys, wrong types, unknown
estimators, missing files and unset ``$VARIABLES`` raise :class:`ConfigError` naming the key and
the file) and :mod:`fusion.app.run` acts on it. Relative paths are taken relative to the YAML
file's folder. YAML anchors and aliases are refused (:func:`kg.load_yaml`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from typing_extensions import Self  # typing.Self from Python 3.11

from fusion._exceptions import FusionError
from fusion.app.estimators import ESTIMATORS
from kg import KGConfig, KGError, load_yaml

__all__ = [
    "CohortSection",
    "ConfigError",
    "ConfigFile",
    "EvaluationSection",
    "HoldoutSection",
    "KGSection",
    "ModalityOptionsSection",
    "ModelSection",
    "RunConfig",
    "SyntheticSection",
    "default_data_dir",
]

_VARIABLE = re.compile(r"\$(\w+)|\$\{([^}]*)\}")


def default_data_dir() -> Path:
    """``$KGFUSION_DATA``, else ``../shared/data`` relative to the working directory."""
    return Path(os.environ.get("KGFUSION_DATA", "../shared/data"))


class ConfigError(FusionError, ValueError):
    """A run configuration is invalid: unknown key, wrong type, or a file that does not exist."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KGSection(_Section):
    """Which knowledge graph: a named preset or explicit sources (``kg.KGConfig`` keys)."""

    preset: Literal["embedded", "shared"] | None = None
    data_dir: Path | None = None
    mirna: bool = True
    sources: list[dict[str, Any]] | None = None
    gene_info: Path | None = None

    @field_validator("sources")
    @classmethod
    def _not_both(
        cls, value: list[dict[str, Any]] | None, info: Any
    ) -> list[dict[str, Any]] | None:
        if value is not None and info.data.get("preset") is not None:
            raise ValueError("give either 'preset' or 'sources', not both")
        return value


class SyntheticSection(_Section):
    """A synthetic cohort whose label depends on planted pathways (:func:`fusion.make_planted_cohort`)."""

    pathways: list[str] = Field(min_length=1)
    n_samples: int = Field(200, ge=4)
    n_features: int = Field(300, ge=1)
    modalities: list[str] = Field(default_factory=lambda: ["mRNA", "protein"], min_length=1)
    seed: int = 0


class HoldoutSection(_Section):
    """A stratified held-out part, for cohorts without an official train/test split."""

    test_size: float = Field(0.25, gt=0, lt=1)
    seed: int = 0


class ModalityOptionsSection(_Section):
    """How to read one modality of a multi-omics folder (:class:`fusion.data.ModalityOptions`)."""

    file: str | None = None
    kind: str | None = None
    id_scheme: str | None = None
    transform: Literal["log1p", "none"] | None = None


class CohortSection(_Section):
    """Which cohort and how to read it.

    For a multi-omics folder (``format: multiomics``, or ``auto`` on a folder with
    ``clinical.csv``; see :func:`fusion.data.read_multiomics`)::

        cohort:
          path: ${KGFUSION_DATA}/tcga_brca_multiomics
          modalities: [mutation, cnv, mirna]    # or {mirna: {transform: none}, cnv: {}}
          label: {column: er_status, positive: positive, negative: negative}
          clinical: [age, stage_group]          # a "clinical" modality; never a label column
          require_all: true                     # only patients with every chosen omics

    ``label`` is a mapping of :class:`fusion.data.LabelSpec` keys or an expression
    (``"gleason_score >= 8"``, ``"survival(os_time_days, os_event)"``). With
    ``format: modalities``, ``modalities`` maps names to table files instead.
    """

    format: Literal[
        "auto", "mogonet", "breast-tcga", "multiomics", "tables", "h5mu", "h5ad", "modalities",
        "synthetic",
    ] = "auto"  # fmt: skip
    path: Path | None = None
    modalities: list[str] | dict[str, Path | ModalityOptionsSection | None] | None = None
    labels: Path | None = None
    label_column: str | None = None
    label_names: dict[int, str] | None = None
    label: str | dict[str, Any] | None = None
    clinical: list[str] | None = None
    require_all: bool = False
    views: list[str] | str | None = None  # MOGONET views: "name[:kind[:id_scheme]]", in order
    sample_column: str = "sample"
    synthetic: SyntheticSection | None = None
    holdout: HoldoutSection | None = None

    @field_validator("label")
    @classmethod
    def _label(cls, value: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        from fusion.data.labels import LabelSpec  # pure: no pandas

        if value is not None:
            try:
                LabelSpec.parse(value)
            except FusionError as error:
                raise ValueError(str(error)) from None
        return value


class ModelSection(_Section):
    """Which estimator (a name of :data:`fusion.app.estimators.ESTIMATORS`) and its parameters."""

    name: str = "kgfusion"
    params: dict[str, Any] = Field(default_factory=dict)
    #: An encoder folder (``kgfusion pretrain``), relative to the YAML file's folder; passed
    #: to the estimator as its ``pretrained`` parameter.
    pretrained: Path | None = None

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in ESTIMATORS:
            raise ValueError(f"unknown estimator {value!r}; expected one of {sorted(ESTIMATORS)}")
        return value


class EvaluationSection(_Section):
    """The evaluation protocol."""

    protocol: Literal["official", "cv"] = "official"
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], min_length=1)
    n_splits: int = Field(5, ge=2)
    n_repeats: int = Field(5, ge=1)
    baselines: list[str] = Field(default_factory=list)

    @field_validator("baselines")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in ESTIMATORS]
        if unknown:
            raise ValueError(
                f"unknown estimator(s) {unknown}; expected names from {sorted(ESTIMATORS)}"
            )
        return value


class ConfigFile(_Section):
    """A whole configuration file: read from YAML (or a mapping), then resolved against its folder.

    Subclasses add their sections, :meth:`_check` (checks after validation, before paths
    resolve) and :meth:`_resolved` (relative paths made absolute and checked).
    """

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> Self:
        """Read and validate a YAML configuration.

        Raises
        ------
        ConfigError
            Naming the file and the offending key (or line, for YAML syntax).
        """
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file does not exist")
        try:
            raw = load_yaml(path)
        except KGError as error:
            raise ConfigError(f"not valid YAML: {error}") from None
        return cls.from_dict(raw, base=path.parent, origin=str(path))

    @classmethod
    def from_dict(
        cls, raw: Any, base: str | os.PathLike[str] = ".", origin: str = "config"
    ) -> Self:
        """Validate a mapping; relative paths resolve against ``base``, ``$VARS`` are expanded."""
        if not isinstance(raw, dict):
            raise ConfigError(
                f"{origin}: expected a mapping at the top level, got {type(raw).__name__}"
            )
        try:
            config = cls.model_validate(_expand(raw, origin, ()))
        except ValidationError as error:
            raise ConfigError(_describe(error, origin)) from None
        config._check(origin)
        return config._resolved(Path(base), origin)

    def _check(self, origin: str) -> None:
        """Checks of the validated file before its paths resolve (none by default)."""

    def _resolved(self, base: Path, origin: str) -> Self:
        raise NotImplementedError


class RunConfig(ConfigFile):
    """A whole run: KG, cohort, model, evaluation protocol and output folder."""

    kg: KGSection = Field(default_factory=lambda: KGSection(preset="embedded"))
    cohort: CohortSection
    model: ModelSection = Field(default_factory=ModelSection)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)
    output: Path = Path("kgfusion-out/run")

    def _resolved(self, base: Path, origin: str) -> RunConfig:
        def resolve(value: Path | None, key: str, must_exist: bool = True) -> Path | None:
            if value is None:
                return None
            path = value if value.is_absolute() else base / value
            if must_exist and not path.exists():
                raise ConfigError(f"{origin}: {key}: {path} does not exist")
            return path

        kg = self.kg.model_copy(
            update={
                "data_dir": resolve(self.kg.data_dir, "kg.data_dir"),
                "gene_info": resolve(self.kg.gene_info, "kg.gene_info"),
                "sources": self.kg.sources and _absolute_sources(self.kg.sources, base, origin),
            }
        )
        modalities = self.cohort.modalities
        if self.cohort.format == "modalities" and isinstance(modalities, dict):
            modalities = {k: resolve(v, f"cohort.modalities.{k}") for k, v in modalities.items()}
        cohort = self.cohort.model_copy(
            update={
                "path": resolve(self.cohort.path, "cohort.path"),
                "labels": resolve(self.cohort.labels, "cohort.labels"),
                "modalities": modalities,
            }
        )
        _check_cohort(cohort, origin)
        output = resolve(self.output, "output", must_exist=False)
        model = self.model
        if model.pretrained is not None:
            if "pretrained" in model.params:
                msg = f"{origin}: model.pretrained: give it or model.params.pretrained, not both"
                raise ConfigError(msg)
            path = resolve(model.pretrained, "model.pretrained")
            params = {**model.params, "pretrained": str(path)}
            model = model.model_copy(update={"pretrained": path, "params": params})
        update = {"kg": kg, "cohort": cohort, "model": model, "output": output}
        return self.model_copy(update=update)


def _check_cohort(cohort: CohortSection, origin: str) -> None:
    needs = {"modalities": "modalities", "synthetic": "synthetic"}.get(cohort.format, "path")
    if getattr(cohort, needs) is None or (needs == "modalities" and not cohort.modalities):
        raise ConfigError(
            f"{origin}: cohort.{needs}: required when cohort.format is {cohort.format!r}"
        )
    if cohort.synthetic is not None and cohort.format != "synthetic":
        raise ConfigError(f"{origin}: cohort.synthetic: only with cohort.format 'synthetic'")
    if cohort.format == "modalities" and not all(
        isinstance(v, Path)
        for v in (cohort.modalities or {}).values()  # type: ignore[union-attr]
    ):
        raise ConfigError(
            f"{origin}: cohort.modalities: with cohort.format 'modalities', a mapping of "
            "modality names to table files"
        )
    multiomics = ["label", "clinical", "require_all"]
    multiomics += ["modalities"] if cohort.format != "modalities" else []
    given = [key for key in multiomics if getattr(cohort, key) not in (None, False)]
    if given and cohort.format not in ("auto", "multiomics"):
        raise ConfigError(
            f"{origin}: cohort.{given[0]}: only for a multi-omics folder (cohort.format "
            f"'multiomics' or 'auto'), not {cohort.format!r}"
        )


def _absolute_sources(
    sources: list[dict[str, Any]], base: Path, origin: str
) -> list[dict[str, Any]]:
    try:
        config = KGConfig.from_dict({"sources": sources}, base=base, origin=origin)
    except KGError as error:
        raise ConfigError(f"kg.{error}") from None
    return [{"path": s.path, "format": s.format, "options": {**s.options}} for s in config.sources]


def _expand(value: Any, origin: str, key: tuple[str, ...]) -> Any:
    """``value`` with ``~`` and environment variables expanded; an unset variable is an error."""
    if isinstance(value, str):
        for match in _VARIABLE.finditer(value):
            name = match.group(1) or match.group(2)
            if name not in os.environ:
                where = ".".join(key) or "(top level)"
                msg = (
                    f"{origin}: {where}: environment variable {name!r} is not set "
                    f"(used in {value!r}); set it or write the path instead"
                )
                raise ConfigError(msg)
        return os.path.expanduser(os.path.expandvars(value))
    if isinstance(value, dict):
        return {k: _expand(v, origin, (*key, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, origin, (*key, str(i))) for i, v in enumerate(value)]
    return value


def _describe(error: ValidationError, origin: str) -> str:
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        elif (
            problem["type"] == "value_error"
        ):  # our validators' messages, without pydantic's prefix
            message = str(problem["ctx"]["error"])
        else:
            message = problem["msg"]
        lines.append(f"{origin}: {key}: {message}")
    return "\n".join(lines)
