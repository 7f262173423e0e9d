"""MOGONET views named and typed by the caller, and views whose features are not their kind's
(issue 15 item 22); numpy values and NaN cells in messages (item 15)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from fusion import CohortError, DataFileError, FusionError, InvalidParameterError, Modality
from fusion.data import read_cohort, read_mogonet
from fusion.data._checks import preview, show
from fusion.data._parse import guess_id_scheme, kind_mismatch

REGIONS = ["chr11_65498959_65503916_+", "chr1_1000_2000_-", "chr2_5000_6000_+"]


@pytest.fixture
def regions(fixtures: Path, tmp_path: Path) -> Path:
    """The tiny MOGONET fixture whose view 3 holds genomic regions instead of miRNAs."""
    folder = Path(shutil.copytree(fixtures / "mogonet_tiny", tmp_path / "m"))
    (folder / "3_featname.csv").write_text("\n".join(REGIONS) + "\n")
    return folder


def test_default_kinds_refuse_a_view_that_is_not_mirna(regions: Path) -> None:
    with pytest.raises(DataFileError, match=r"view 3 \('miRNA'\).*3 of its 3 features") as err:
        read_mogonet(regions)
    assert err.value.path == str(regions / "3_featname.csv")
    assert err.value.value == REGIONS[0] and "looks like a genomic region" in str(err.value)


@pytest.mark.parametrize(
    "views",
    [
        ["mRNA", "methylation", "regions:methylation"],
        "mRNA, methylation, regions:methylation",
        ["mRNA", "methylation", Modality("regions", "methylation")],
    ],
)
def test_views_name_and_type_each_view(regions: Path, views: object) -> None:
    cohort = read_mogonet(regions, views=views)  # type: ignore[arg-type]
    metas = list(cohort.modalities.values())
    assert [(m.name, m.kind) for m in metas] == [
        ("mRNA", "mRNA"), ("methylation", "methylation"), ("regions", "methylation"),
    ]  # fmt: skip
    assert metas[2].id_scheme == "genomic_region" and metas[0].id_scheme == "ensembl"
    assert list(cohort["regions"].columns) == REGIONS
    same = read_cohort(regions, views=views)  # type: ignore[arg-type]
    assert list(same.modalities.values()) == metas


def test_declared_kinds_are_kept_with_a_warning(
    regions: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="fusion.data.mogonet"):
        cohort = read_mogonet(regions, views=["mRNA", "methylation", "miRNA:miRNA"])
    assert cohort.modalities["miRNA"].kind == "miRNA"
    assert "do not look like miRNA ids" in caplog.text and REGIONS[0] in caplog.text


def test_views_are_validated(regions: Path, fixtures: Path) -> None:
    with pytest.raises(DataFileError, match="3 views found but 2"):
        read_mogonet(regions, views=["mRNA", "methylation"])
    with pytest.raises(CohortError, match="kind must be one of"):
        read_mogonet(regions, views=["mRNA", "methylation", "r:regions"])
    with pytest.raises(InvalidParameterError, match="one of view_names, modalities and views"):
        read_mogonet(regions, ["a", "b", "c"], views=["mRNA", "methylation", "miRNA"])
    with pytest.raises(InvalidParameterError, match="MOGONET folder"):
        read_cohort(fixtures / "modalities_tiny", views=["mRNA"])
    # the default still reads the real layout unchanged
    assert list(read_mogonet(fixtures / "mogonet_tiny")) == ["mRNA", "methylation", "miRNA"]


def test_modality_parse() -> None:
    assert Modality.parse("miRNA") == Modality("miRNA", "miRNA")
    assert Modality.parse("r:METHYLATION") == Modality("r", "methylation")
    assert Modality.parse("r:methylation:cg_probe") == Modality("r", "methylation", "cg_probe")
    for bad in ["", "a:b:c:d", ":mRNA", "regions"]:
        with pytest.raises(CohortError):
            Modality.parse(bad)


def test_kind_mismatch_and_region_scheme() -> None:
    assert guess_id_scheme(REGIONS) == "genomic_region"
    assert kind_mismatch("miRNA", ["hsa-mir-21", "hsa-let-7b", "hsa_mir_155"]) is None
    assert kind_mismatch("miRNA", REGIONS)[0] == 3  # type: ignore[index]
    assert kind_mismatch("mRNA", ["TP53", "A2M_2", "ENSG00000141510.17", "TP53|7157"]) is None
    assert kind_mismatch("mRNA", ["TP53", "cg00001"])[1:] == (  # type: ignore[index]
        "cg00001",
        ", which looks like a methylation probe",
    )
    assert kind_mismatch("methylation", ["cg00001", "TP53", REGIONS[0]]) is None
    assert kind_mismatch("clinical", REGIONS) is None


def test_messages_show_python_values_not_numpy_reprs(fixtures: Path, tmp_path: Path) -> None:
    assert (show(np.int64(0)), show(np.float64(0.5)), show(float("nan"))) == ("0", "0.5", "NaN")
    assert preview([np.int64(1), np.int64(2)]) == "1, 2"
    folder = Path(shutil.copytree(fixtures / "mogonet_tiny", tmp_path / "m"))
    (folder / "labels_tr.csv").write_text("0\n1\n0.5\n1\n0\n1\n")
    with pytest.raises(DataFileError, match=r":3: label 0\.5 is not an integer") as err:
        read_mogonet(folder)
    assert "np." not in str(err.value)
    (folder / "labels_tr.csv").write_text("0\n1\n\n0\n1\n0\n1\n")  # a blank line is skipped
    (folder / "labels_te.csv").write_text("0\n1\n3\n0\n")
    with pytest.raises(FusionError, match=r"test label 3 .*\(classes \[0, 1\]\)"):
        read_mogonet(folder)
