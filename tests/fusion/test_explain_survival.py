"""Survival models explain their predicted risk, with either architecture, and patients who lack
a modality or features explain with nothing scored on what they lack."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from _cohorts import FAST, GENES, tiny_kg

from fusion import CheckpointError, Cohort, KGFusionSurvival, Modality
from fusion.explanations import explain
from fusion.explanations.attribution import HIGH_RISK, LOW_RISK
from gnn import KGFusionNet, RelationGraph
from gnn.attribution import ATTRIBUTION_METHODS
from gnn.model import FusionNetConfig

QUICK = {**FAST, "max_epochs": 3}
#: s000..s019 have no copy-number data; s000..s004 also miss GENE1's mRNA value.
LACKING, MISSING = [f"s{i:03d}" for i in range(20)], [f"s{i:03d}" for i in range(5)]


def _cohort(n: int = 80) -> Cohort:
    """mRNA of GENE0..5 (log-hazard ``x0 - x1``) and copy number of GENE6..11, ~30 % censored."""
    rng = np.random.default_rng(0)
    ids = [f"s{i:03d}" for i in range(n)]
    x = rng.normal(size=(n, 12))
    time = rng.exponential(1.0 / np.exp(x[:, 0] - x[:, 1]))
    censor = rng.exponential(3.0, size=n)
    survival = pd.DataFrame({"time": np.minimum(time, censor), "event": time <= censor}, index=ids)
    mrna = pd.DataFrame(x[:, :6], index=ids, columns=GENES[:6])
    mrna.loc[MISSING, "GENE1"] = np.nan
    cnv = pd.DataFrame(x[:, 6:], index=ids, columns=GENES[6:]).drop(index=LACKING)
    modalities = [Modality("mRNA", "mRNA", "symbol"), Modality("cnv", "copy_number", "symbol")]
    return Cohort({"mRNA": mrna, "cnv": cnv}, modalities, survival=survival)


@pytest.fixture(scope="module", params=["rgcn", "hierarchy"])
def model(request: pytest.FixtureRequest) -> KGFusionSurvival:
    return KGFusionSurvival(tiny_kg(), architecture=request.param, **QUICK).fit(_cohort())


@pytest.mark.parametrize("method", ATTRIBUTION_METHODS)
def test_survival_explanations_record_the_risk(model: KGFusionSurvival, method: str) -> None:
    cohort = _cohort()
    patients = None if method == "contribution" else list(cohort.samples[:8])
    explanations = explain(model, cohort, patients, method=method, n_steps=4)
    risk = model.predict(cohort if patients is None else cohort.subset(patients))
    assert [e.risk for e in explanations] == pytest.approx(risk.tolist())
    labels = [HIGH_RISK if r > model.median_risk_ else LOW_RISK for r in risk]
    assert [e.prediction for e in explanations] == labels
    assert all(e.probability is None for e in explanations)
    assert explanations[0].model == {
        "name": "KGFusionSurvival",
        "ensemble": 2,
        "control": "none",
        "output": "log-risk",
        "median_risk": model.median_risk_,
    }
    assert all(np.isfinite(e.scores).all() for e in explanations)
    if patients is None:  # the training cohort: half its patients above its median risk
        assert labels.count(HIGH_RISK) == 40


def test_contributions_add_up_to_the_graph_share_of_the_risk(model: KGFusionSurvival) -> None:
    from fusion.models import cohort_batch

    cohort = _cohort()
    explanations = explain(model, cohort, method="contribution")
    batch = cohort_batch(model.scaler_.transform(cohort), model.feature_names_in_)
    shares = []
    with torch.no_grad():
        for net in model.models_:
            logits, available, _ = net.sources(*batch.inputs())
            _, gates = net.fuse(logits, available)
            shares.append(gates[:, 0] * (logits[:, 0, 0] - net.readout.linear.bias[0]))
    expected = torch.stack(shares).mean(0).numpy()
    assert np.allclose([e.scores.sum() for e in explanations], expected, atol=1e-5)


@pytest.mark.parametrize("method", ATTRIBUTION_METHODS)
def test_missing_modality_and_features_score_nothing(model: KGFusionSurvival, method: str) -> None:
    explanations = explain(model, _cohort(), ["s000", "s010", "s030"], method=method, n_steps=4)
    mrna = [f"NCBIGene:{i}" for i in range(1, 7)]
    cnv = [f"NCBIGene:{i}" for i in range(7, 13)]
    lacking_both, lacking_cnv, complete = explanations
    assert set(lacking_both.inputs) == set(mrna) - {"NCBIGene:2"}
    assert set(lacking_cnv.inputs) == set(mrna)
    assert set(complete.inputs) == set(mrna + cnv)
    if method != "ig":  # node-state IG scores terms (and genes' states), not only the inputs
        assert (lacking_both.scores[[*cnv, "NCBIGene:2"]] == 0).all()
        assert (lacking_cnv.scores[cnv] == 0).all()
    if method == "ig_features":
        assert (complete.scores[cnv] != 0).all()


def test_the_median_risk_is_saved(model: KGFusionSurvival, tmp_path: Path) -> None:
    folder = model.save(tmp_path / "cox")
    assert KGFusionSurvival.load(folder, device="cpu").median_risk_ == model.median_risk_
    config = folder / "config.json"
    meta = json.loads(config.read_text())
    del meta["median_risk"]
    config.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="'median_risk'"):
        KGFusionSurvival.load(folder, device="cpu")


class _LinearCox:
    """A fitted survival model's interface over one linear Cox head: log-risk ``x0 - 2 x1``."""

    def __init__(self) -> None:
        kg = tiny_kg()
        graph = RelationGraph.from_kg(kg)
        nodes = torch.from_numpy(graph.index_of([f"NCBIGene:{i}" for i in range(1, 4)]))
        config = FusionNetConfig(use_graph=False, input_dropout=0.0)
        net = KGFusionNet(graph, {"mRNA": nodes}, 1, config).eval()
        with torch.no_grad():
            net.heads["0"][1].weight.copy_(torch.tensor([[1.0, -2.0, 0.0]]))
            net.heads["0"][1].bias.zero_()
        self.models_, self.kg, self.median_risk_ = [net], kg, 0.5
        self.scaler_ = self
        self.feature_names_in_ = {"mRNA": pd.Index(GENES[:3])}

    def transform(self, cohort: Cohort) -> Cohort:
        return cohort

    def predict(self, cohort: Cohort) -> np.ndarray:
        frame = cohort["mRNA"].fillna(0.0)
        return (frame["GENE0"] - 2 * frame["GENE1"]).to_numpy()


def test_positive_scores_are_evidence_for_a_higher_risk() -> None:
    frame = pd.DataFrame([[3.0, 1.0, 5.0], [-1.0, 1.0, None]], index=["a", "b"], columns=GENES[:3])
    high, low = explain(_LinearCox(), Cohort({"mRNA": frame}), method="ig_features", n_steps=4)
    genes = ["NCBIGene:1", "NCBIGene:2", "NCBIGene:3"]
    # IG of a linear log-risk from the zero baseline: w_i x_i
    assert high.scores[genes].tolist() == pytest.approx([3.0, -2.0, 0.0])
    assert low.scores[genes].tolist() == pytest.approx([-1.0, -2.0, 0.0])
    assert (high.risk, high.prediction) == (1.0, HIGH_RISK)
    assert (low.risk, low.prediction) == (-3.0, LOW_RISK)
    assert low.inputs == ("NCBIGene:1", "NCBIGene:2")
