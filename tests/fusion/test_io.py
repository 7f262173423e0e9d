"""Tests of the cohort readers: tiny fixtures, every kind of bad input, and the real data."""

from __future__ import annotations

import logging
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fusion import (
    CohortError,
    DataFileError,
    LabelError,
    LabelFileError,
    Modality,
    read_breast_tcga,
    read_modalities,
    read_mogonet,
)
from kg import ParseError


@pytest.fixture
def mogonet(fixtures: Path, tmp_path: Path) -> Path:
    """A writable copy of the tiny MOGONET fixture (6 train, 4 test, 3 views)."""
    return Path(shutil.copytree(fixtures / "mogonet_tiny", tmp_path / "mogonet"))


@pytest.fixture
def tiny(fixtures: Path, tmp_path: Path) -> Path:
    """A writable copy of the tiny per-modality fixture."""
    return Path(shutil.copytree(fixtures / "modalities_tiny", tmp_path / "tiny"))


def _edit_line(path: Path, line: int, new: str) -> None:
    lines = path.read_text().splitlines()
    lines[line - 1] = new
    path.write_text("\n".join(lines) + "\n")


def _set_cell(path: Path, line: int, column: int, value: str, sep: str = ",") -> None:
    fields = path.read_text().splitlines()[line - 1].split(sep)
    fields[column] = value
    _edit_line(path, line, sep.join(fields))


# --- MOGONET ---------------------------------------------------------------------------------


def test_read_mogonet_tiny(mogonet: Path) -> None:
    c = read_mogonet(mogonet)
    assert list(c) == ["mRNA", "methylation", "miRNA"]
    assert c.samples[:2].tolist() == ["train_0", "train_1"] and c.samples[-1] == "test_3"
    assert c.split.value_counts().to_dict() == {"train": 6, "test": 4}
    assert [c[n].shape for n in c] == [(10, 4), (10, 3), (10, 3)]
    assert c.presence.all().all()
    assert c["mRNA"].columns[0] == "ENSG00000161896.6"
    assert c.labels.tolist() == [0, 1, 0, 1, 0, 1, 0, 1, 1, 0]
    expected = np.loadtxt(mogonet / "2_te.csv", delimiter=",")
    np.testing.assert_allclose(c["methylation"].loc["test_0":].to_numpy(), expected)


def test_read_mogonet_names_and_metadata(mogonet: Path) -> None:
    c = read_mogonet(mogonet, ["rna", "meth", "mir"], label_names={0: "NC", 1: "AD"})
    assert list(c) == ["rna", "meth", "mir"]
    assert [m.kind for m in c.modalities.values()] == ["mRNA", "methylation", "miRNA"]
    assert list(c.labels.cat.categories) == ["NC", "AD"]
    metas = [Modality("a", "mRNA", "ensembl"), Modality("b", "clinical"), Modality("c", "miRNA")]
    c = read_mogonet(mogonet, modalities=metas)
    assert c.modalities["b"] == Modality("b", "clinical")
    with pytest.raises(LabelError, match="no name for class codes"):
        read_mogonet(mogonet, label_names={0: "NC"})
    with pytest.raises(DataFileError, match="3 views found but 2"):
        read_mogonet(mogonet, ["a", "b"])


def test_mogonet_row_count_mismatch(mogonet: Path) -> None:
    lines = (mogonet / "2_tr.csv").read_text().splitlines()
    (mogonet / "2_tr.csv").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(DataFileError, match="5 rows but labels_tr.csv has 6") as err:
        read_mogonet(mogonet)
    assert (
        err.value.path.endswith("2_tr.csv") and err.value.row == 6 and err.value.sample == "train_5"
    )


def test_mogonet_featname_count_mismatch(mogonet: Path) -> None:
    (mogonet / "3_featname.csv").write_text("hsa-let-7b\nhsa-mir-21\n")
    with pytest.raises(
        DataFileError, match="lists 2 feature names but 3_tr.csv has 3 columns"
    ) as err:
        read_mogonet(mogonet)
    assert err.value.path.endswith("3_featname.csv")


def test_mogonet_duplicate_featname(mogonet: Path) -> None:
    (mogonet / "2_featname.csv").write_text("cg1\ncg2\ncg1\n")
    with pytest.raises(DataFileError, match="duplicate feature name 'cg1'") as err:
        read_mogonet(mogonet)
    assert err.value.row == 3


def test_mogonet_non_numeric_cell(mogonet: Path) -> None:
    _set_cell(mogonet / "1_te.csv", 3, 2, "abc")
    with pytest.raises(DataFileError, match="non-numeric value 'abc'") as err:
        read_mogonet(mogonet)
    e = err.value
    assert str(e).startswith(f"{mogonet / '1_te.csv'}:3: ")
    # the column is the feature's name (issue 15 item 15: no 0-based index), the field 1-based
    feature = (mogonet / "1_featname.csv").read_text().splitlines()[2]
    assert (e.row, e.sample, e.column, e.value) == (3, "test_2", feature, "abc")
    assert f"column '{feature}'" in str(e) and "field 3 of the line" in str(e)
    assert isinstance(e, ParseError) and e.line == 3  # one except clause for KG and cohort files
    copy = pickle.loads(pickle.dumps(e))  # crosses process boundaries intact
    assert (str(copy), copy.sample, copy.column, copy.value) == (str(e), "test_2", feature, "abc")


@pytest.mark.parametrize(
    ("value", "match"),
    [("", "missing value"), ("nan", "missing value"), ("inf", "infinite"), ("-inf", "infinite")],
)
def test_mogonet_refuses_nan_and_inf(mogonet: Path, value: str, match: str) -> None:
    _set_cell(mogonet / "2_tr.csv", 4, 0, value)
    with pytest.raises(DataFileError, match=match) as err:
        read_mogonet(mogonet)
    assert err.value.row == 4 and err.value.sample == "train_3"


def test_mogonet_ragged_row(mogonet: Path) -> None:
    lines = (mogonet / "1_tr.csv").read_text().splitlines()
    _edit_line(mogonet / "1_tr.csv", 5, lines[4] + ",0.5")
    with pytest.raises(DataFileError, match="malformed table") as err:
        read_mogonet(mogonet)
    assert err.value.row == 5


def test_mogonet_unseen_test_class(mogonet: Path) -> None:
    _edit_line(mogonet / "labels_te.csv", 2, "2.0")
    with pytest.raises(LabelFileError, match="unseen in labels_tr.csv") as err:
        read_mogonet(mogonet)
    assert isinstance(err.value, LabelError) and err.value.row == 2 and err.value.sample == "test_1"


def test_mogonet_fractional_label(mogonet: Path) -> None:
    _edit_line(mogonet / "labels_tr.csv", 1, "0.5")
    with pytest.raises(DataFileError, match="not an integer class code"):
        read_mogonet(mogonet)


def test_mogonet_empty_view_and_missing_file(mogonet: Path) -> None:
    (mogonet / "3_te.csv").write_text("")
    with pytest.raises(DataFileError, match="empty file"):
        read_mogonet(mogonet)
    (mogonet / "3_te.csv").unlink()
    with pytest.raises(FileNotFoundError, match="3_te.csv"):
        read_mogonet(mogonet)
    with pytest.raises(FileNotFoundError, match="no MOGONET views"):
        read_mogonet(mogonet / "nowhere")


# --- one table per modality ------------------------------------------------------------------


def test_read_modalities_tiny(tiny: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="fusion.data.tables"):
        c = read_modalities(
            {
                "mRNA": tiny / "mrna.csv",
                "protein": (tiny / "protein.tsv", Modality("p", "protein", "antibody")),
            },
            labels=tiny / "labels.csv",
        )
    assert c.samples.tolist() == ["p1", "p2", "p3", "p4", "p5"]
    assert c.presence["protein"].tolist() == [True, True, True, True, False]
    assert c.modalities["protein"] == Modality("protein", "protein", "antibody")
    assert "'protein' lacks 1 of 5 samples" in caplog.text and "p5" in caplog.text
    missing = c.missing_values()
    assert missing.loc["mRNA", "n_missing_cells"] == 1
    assert missing.loc["mRNA", "features_with_missing"] == ["BRCA1"]
    assert np.isnan(c["mRNA"].loc["p2", "BRCA1"])  # kept, never imputed
    assert c.labels.tolist() == ["A", "B", "A", "B", "A"]
    assert c.split is None


def test_read_modalities_parquet_and_stacking(tiny: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(tiny / "mrna.csv")
    frame.iloc[:3].to_parquet(tmp_path / "a.parquet")
    frame.iloc[3:, [0, 3, 2, 1]].to_csv(tmp_path / "b.csv.gz", index=False)  # other column order
    c = read_modalities({"mRNA": [tmp_path / "a.parquet", tmp_path / "b.csv.gz"]})
    pd.testing.assert_frame_equal(
        c["mRNA"], frame.set_index("sample").astype(float), check_names=False
    )


def test_duplicate_sample_id(tiny: Path) -> None:
    _edit_line(tiny / "mrna.csv", 4, "p1,3.0,1.0,5.0")
    with pytest.raises(
        DataFileError, match="duplicate sample id 'p1' \\(first on line 2\\)"
    ) as err:
        read_modalities({"mRNA": tiny / "mrna.csv"})
    assert err.value.row == 4 and err.value.sample == "p1"


def test_duplicate_sample_across_stacked_files(tiny: Path) -> None:
    with pytest.raises(DataFileError, match="duplicate sample id 'p1' \\(also at .*mrna.csv:2\\)"):
        read_modalities({"mRNA": [tiny / "mrna.csv", tiny / "mrna.csv"]})


def test_non_numeric_cell_names_file_row_sample_column(tiny: Path) -> None:
    _set_cell(tiny / "protein.tsv", 3, 2, "high", sep="\t")
    with pytest.raises(
        DataFileError, match="non-numeric value 'high' in column 'p53' \\(sample 'p2'\\)"
    ) as err:
        read_modalities({"protein": tiny / "protein.tsv"})
    assert str(err.value).startswith(f"{tiny / 'protein.tsv'}:3: ")


def test_inf_refused_nan_allowed(tiny: Path) -> None:
    _set_cell(tiny / "mrna.csv", 6, 1, "inf")
    with pytest.raises(DataFileError, match="infinite value") as err:
        read_modalities({"mRNA": tiny / "mrna.csv"})
    assert (err.value.row, err.value.sample, err.value.column) == (6, "p5", "TP53")


def test_empty_modality(tiny: Path) -> None:
    (tiny / "mrna.csv").write_text("sample,TP53\n")
    with pytest.raises(DataFileError, match="empty modality: 0 samples"):
        read_modalities({"mRNA": tiny / "mrna.csv"})
    (tiny / "mrna.csv").write_text("sample\np1\n")
    with pytest.raises(DataFileError, match="0 features"):
        read_modalities({"mRNA": tiny / "mrna.csv"})


def test_bad_header(tiny: Path) -> None:
    with pytest.raises(DataFileError, match="no sample column 'id'"):
        read_modalities({"mRNA": tiny / "mrna.csv"}, sample_column="id")
    _edit_line(tiny / "mrna.csv", 1, "sample,TP53,TP53,EGFR")
    with pytest.raises(DataFileError, match="duplicate column names \\['TP53'\\]"):
        read_modalities({"mRNA": tiny / "mrna.csv"})


def test_stacked_files_with_different_columns(tiny: Path, tmp_path: Path) -> None:
    pd.read_csv(tiny / "mrna.csv").drop(columns="EGFR").to_csv(tmp_path / "other.csv", index=False)
    with pytest.raises(DataFileError, match="columns differ .*missing \\['EGFR'\\]"):
        read_modalities({"mRNA": [tiny / "mrna.csv", tmp_path / "other.csv"]})


def test_label_alignment_errors(tiny: Path) -> None:
    sources = {"mRNA": tiny / "mrna.csv"}
    _edit_line(tiny / "labels.csv", 6, "p9,A")
    with pytest.raises(
        LabelError, match="labels.csv:6: label for sample 'p9' which is in no modality"
    ):
        read_modalities(sources, labels=tiny / "labels.csv")
    lines = (tiny / "labels.csv").read_text().splitlines()
    (tiny / "labels.csv").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(
        LabelError, match="no label for 1 samples: \\['p5'\\] \\(first at .*mrna.csv:6\\)"
    ):
        read_modalities(sources, labels=tiny / "labels.csv")
    _edit_line(tiny / "labels.csv", 2, "p1,")
    with pytest.raises(LabelFileError, match="missing label") as err:
        read_modalities(sources, labels=tiny / "labels.csv")
    assert err.value.row == 2


def test_duplicate_sample_id_in_label_file(tiny: Path) -> None:
    _edit_line(tiny / "labels.csv", 5, "p2,A")
    with pytest.raises(DataFileError, match="duplicate sample id 'p2'") as err:
        read_modalities({"mRNA": tiny / "mrna.csv"}, labels=tiny / "labels.csv")
    e = err.value
    assert e.path.endswith("labels.csv") and (e.row, e.sample) == (5, "p2")


def test_unseen_test_class_via_split(tiny: Path) -> None:
    split = {"p1": "train", "p2": "train", "p3": "train", "p4": "test", "p5": "test"}
    _edit_line(tiny / "labels.csv", 6, "p5,C")
    with pytest.raises(LabelError, match="unseen in the training labels: \\['C'\\]"):
        read_modalities({"mRNA": tiny / "mrna.csv"}, labels=tiny / "labels.csv", split=split)


def test_unknown_modality_kind_needs_metadata(tiny: Path) -> None:
    with pytest.raises(CohortError, match="cannot tell the kind of modality 'rna'"):
        read_modalities({"rna": tiny / "mrna.csv"})


def test_optional_anndata_readers() -> None:
    anndata = pytest.importorskip("anndata")
    mudata = pytest.importorskip("mudata")
    from fusion import read_anndata, read_mudata

    obs = pd.DataFrame({"y": ["a", "b", "a"]}, index=["s1", "s2", "s3"])
    rna = anndata.AnnData(np.arange(6, dtype=float).reshape(3, 2), obs=obs)
    rna.var_names = ["g1", "g2"]
    c = read_anndata(rna, "mRNA", label_key="y")
    assert c["mRNA"].shape == (3, 2) and c.labels.tolist() == ["a", "b", "a"]
    prot = anndata.AnnData(np.ones((2, 1)), obs=obs.iloc[:2].copy())
    prot.var_names = ["p1"]
    md = mudata.MuData({"mRNA": rna, "protein": prot})
    c = read_mudata(md)
    assert c.presence["protein"].tolist() == [True, True, False]


# --- real data -------------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_rosmap(data_dir: Path) -> None:
    c = read_mogonet(data_dir / "mogonet_rosmap", label_names={0: "NC", 1: "AD"})
    train, test = c.train_test()
    assert (train.n_samples, test.n_samples) == (245, 106)
    assert [c[n].shape[1] for n in c] == [200, 200, 200]
    assert [m.id_scheme for m in c.modalities.values()] == [
        "ensembl",
        "cg_probe",
        "mirna_precursor",
    ]
    assert c.presence.all().all()
    assert train.label_counts().to_dict() == {"NC": 118, "AD": 127}
    assert test.label_counts().to_dict() == {"NC": 51, "AD": 55}
    assert c.missing_values()["n_missing_cells"].sum() == 0
    values = np.concatenate([c[n].to_numpy().ravel() for n in c])
    assert values.min() >= 0.0 and values.max() <= 1.0


@pytest.mark.realdata
def test_real_breast_tcga(data_dir: Path) -> None:
    c = read_breast_tcga(data_dir / "mixomics_breast_tcga")
    train, test = c.train_test()
    assert (train.n_samples, test.n_samples) == (150, 70)
    assert train.presence.all().all()
    assert test.presence[["mRNA", "miRNA"]].all().all()
    assert not test.presence["protein"].any()
    assert test["protein"].shape == (0, 142)
    assert [c[n].shape[1] for n in c] == [200, 184, 142]
    assert list(c.labels.cat.categories) == ["Basal", "Her2", "LumA"]
    assert train.label_counts().to_dict() == {"Basal": 45, "Her2": 30, "LumA": 75}
    assert test.label_counts().to_dict() == {"Basal": 21, "Her2": 14, "LumA": 35}
    summary = c.summary()
    assert summary.loc["protein", ["n_samples", "n_train", "n_test"]].tolist() == [150, 150, 0]
