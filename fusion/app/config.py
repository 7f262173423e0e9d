"""Run configurations: one validated YAML file names the KG, the cohort, the model and the protocol.

Example ``run.yaml``::

    kg:
      preset: shared              # embedded | shared, or `sources:` as in `kgfusion kg build --config`
      data_dir: ${KGFUSION_DATA}
    cohort:
      format: mogonet             # auto | mogonet | breast-tcga | tables | h5mu | h5ad | modalities
      path: ${KGFUSION_DATA}/mogonet_rosmap
    model:
      name: kgfusion
      params: {hidden: 16, seed: 0}
    evaluation:
      protocol: official          # official | cv
      seeds: [0, 1, 2, 3, 4]
      baselines: [early_lr, rf]
    output: kgfusion-out/rosmap

Relative paths are taken relative to the YAML file's folder and ``$VARS`` are expanded. Unknown
keys, wrong types and missing files raise :class:`ConfigError` naming the key and the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fusion._exceptions import FusionError
from fusion.data.cohort import Cohort
from fusion.data.io import read_cohort, read_modalities
from kg import KGConfig, KGError, Source, embedded_config, shared_sources

__all__ = [
    "ConfigError",
    "KGSection",
    "CohortSection",
    "ModelSection",
    "EvaluationSection",
    "RunConfig",
    "default_data_dir",
]


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
    mirna: bool = False
    sources: list[dict[str, Any]] | None = None
    gene_info: Path | None = None

    @field_validator("sources")
    @classmethod
    def _not_both(cls, value: list[dict[str, Any]] | None, info: Any) -> list[dict[str, Any]] | None:
        if value is not None and info.data.get("preset") is not None:
            raise ValueError("give either 'preset' or 'sources', not both")
        return value


    def kg_config(self) -> KGConfig:
        """The :class:`kg.KGConfig` this section names (``preset`` or ``sources``)."""
        if self.sources is not None:
            return KGConfig(tuple(Source(**entry) for entry in self.sources), self.gene_info)
        if self.preset == "shared":
            return shared_sources(self.data_dir or default_data_dir(), mirna=self.mirna)
        return embedded_config()


class CohortSection(_Section):
    """Which cohort and how to read it."""

    format: Literal["auto", "mogonet", "breast-tcga", "tables", "h5mu", "h5ad", "modalities"] = "auto"
    path: Path | None = None
    modalities: dict[str, Path] | None = None
    labels: Path | None = None
    label_column: str | None = None
    sample_column: str = "sample"


    def read(self) -> Cohort:
        """Read the cohort this section names."""
        if self.format == "modalities":
            return read_modalities(
                dict(self.modalities or {}),
                self.labels,
                sample_column=self.sample_column,
                label_column=self.label_column,
            )
        return read_cohort(
            self.path, self.format, sample_column=self.sample_column, label_column=self.label_column
        )


class ModelSection(_Section):
    """Which estimator (a registry name) and its parameters."""

    name: str = "kgfusion"
    params: dict[str, Any] = Field(default_factory=dict)


class EvaluationSection(_Section):
    """The evaluation protocol."""

    protocol: Literal["official", "cv"] = "official"
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], min_length=1)
    n_splits: int = Field(5, ge=2)
    n_repeats: int = Field(5, ge=1)
    baselines: list[str] = Field(default_factory=list)


class RunConfig(_Section):
    """A whole run: KG, cohort, model, evaluation protocol and output folder."""

    kg: KGSection = Field(default_factory=lambda: KGSection(preset="embedded"))
    cohort: CohortSection
    model: ModelSection = Field(default_factory=ModelSection)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)
    output: Path = Path("kgfusion-out/run")

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> RunConfig:
        """Read and validate a YAML run configuration.

        Raises
        ------
        ConfigError
            Naming the file and the offending key.
        """
        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file does not exist") from None
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: not valid YAML: {error}") from None
        return cls.from_dict(raw, base=path.parent, origin=str(path))

    @classmethod
    def from_dict(cls, raw: Any, base: str | os.PathLike[str] = ".", origin: str = "config") -> RunConfig:
        """Validate a mapping; relative paths resolve against ``base``, ``$VARS`` are expanded."""
        if not isinstance(raw, dict):
            raise ConfigError(f"{origin}: expected a mapping at the top level, got {type(raw).__name__}")
        try:
            config = cls.model_validate(_expand(raw))
        except ValidationError as error:
            raise ConfigError(_describe(error, origin)) from None
        return config._resolved(Path(base), origin)

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
        cohort = self.cohort.model_copy(
            update={
                "path": resolve(self.cohort.path, "cohort.path"),
                "labels": resolve(self.cohort.labels, "cohort.labels"),
                "modalities": modalities
                and {k: resolve(v, f"cohort.modalities.{k}") for k, v in modalities.items()},
            }
        )
        if cohort.format == "modalities" and not cohort.modalities:
            raise ConfigError(f"{origin}: cohort.modalities: required when cohort.format is 'modalities'")
        if cohort.format != "modalities" and cohort.path is None:
            raise ConfigError(f"{origin}: cohort.path: required when cohort.format is {cohort.format!r}")
        output = resolve(self.output, "output", must_exist=False)
        return self.model_copy(update={"kg": kg, "cohort": cohort, "output": output})


def _absolute_sources(sources: list[dict[str, Any]], base: Path, origin: str) -> list[dict[str, Any]]:
    try:
        config = KGConfig.from_dict({"sources": sources}, base=base, origin=origin)
    except KGError as error:
        raise ConfigError(f"kg.{error}") from None
    return [
        {"path": s.path, "format": s.format, "options": {**s.options}} for s in config.sources
    ]


def _expand(value: Any) -> Any:
    if isinstance(value, str):
        return os.path.expanduser(os.path.expandvars(value))
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return value


def _describe(error: ValidationError, origin: str) -> str:
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
        lines.append(f"{origin}: {key}: {message}")
    return "\n".join(lines)
