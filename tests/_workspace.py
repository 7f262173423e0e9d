"""A user's folder for command-line tests: a planted cohort as tables and a run configuration."""

from __future__ import annotations

from pathlib import Path

import kg
from fusion import Cohort
from fusion.data.synthetic import make_planted_cohort, pathway_genes

RUN_YAML = """\
kg: {{preset: embedded}}
cohort: {{format: tables, path: {cohort}}}
model:
  name: kgfusion
  params: {{n_ensemble: 1, max_epochs: {max_epochs}, hidden: 4, embedding: 8, random_state: 0}}
output: {out}
"""


def write_tables(cohort: Cohort, folder: Path) -> Path:
    """``cohort`` as one ``<modality>.csv`` per modality plus ``labels.csv`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in cohort:
        cohort[name].dropna(how="all").rename_axis("sample").to_csv(folder / f"{name}.csv")
    cohort.labels.rename("label").rename_axis("sample").to_csv(folder / "labels.csv")
    return folder


def planted_workspace(root: Path, n_samples: int, n_features: int, max_epochs: int) -> Cohort:
    """A planted cohort (two 20-40-gene Reactome pathways) in ``root/cohort`` and ``root/run.yaml``
    training a one-member model into ``root/out``; returns the cohort."""
    graph = kg.build_kg(kg.embedded_config(), progress=False)
    pathways = [
        p for p in graph.nodes_of_type("pathway") if 20 <= len(pathway_genes(graph, p)) <= 40
    ]
    cohort, _ = make_planted_cohort(
        graph, pathways[:2], n_samples=n_samples, n_features=n_features, seed=0
    )
    folder = write_tables(cohort, root / "cohort")
    text = RUN_YAML.format(cohort=folder, out=root / "out", max_epochs=max_epochs)
    (root / "run.yaml").write_text(text)
    return cohort
