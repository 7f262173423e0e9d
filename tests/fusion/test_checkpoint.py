"""Tests of fusion.models.checkpoint: the format marker, and one clear error per corrupt folder."""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from _cohorts import FAST, tiny_cohort, tiny_kg
from safetensors.torch import load_file, save_file

from fusion import CheckpointError, InvalidParameterError, ModelError
from fusion.models import KGFusionClassifier, is_model_dir
from fusion.models.checkpoint import CONFIG_FILE, FORMAT, FORMAT_VERSION, WEIGHTS_FILE


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = KGFusionClassifier(tiny_kg(), **{**FAST, "max_epochs": 5}).fit(tiny_cohort())
    return model.save(tmp_path_factory.mktemp("ckpt") / "model")


@pytest.fixture
def copy(saved: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "model"))


def _edit_config(folder: Path, change: Callable[[dict], None]) -> None:
    meta = json.loads((folder / CONFIG_FILE).read_text())
    change(meta)
    (folder / CONFIG_FILE).write_text(json.dumps(meta))


def _edit_tensors(folder: Path, change: Callable[[dict], None]) -> None:
    tensors = load_file(str(folder / WEIGHTS_FILE))
    change(tensors)
    save_file(tensors, str(folder / WEIGHTS_FILE))


def test_the_folder_carries_the_format_marker(saved: Path) -> None:
    meta = json.loads((saved / CONFIG_FILE).read_text())
    assert (meta["format"], meta["format_version"]) == (FORMAT, FORMAT_VERSION)
    assert is_model_dir(saved)


def test_is_model_dir_refuses_foreign_folders(tmp_path: Path) -> None:
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / CONFIG_FILE).write_text('{"class": "KGFusionClassifier"}')
    (tmp_path / "thesis" / "thesis.tex").write_text("\\documentclass{article}")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / CONFIG_FILE).write_bytes(b"\xff\xfe{")
    for folder in ("thesis", "broken", "missing"):
        assert not is_model_dir(tmp_path / folder)
    assert not is_model_dir(tmp_path / "thesis" / "thesis.tex")


def test_a_model_folder_of_the_previous_release_still_loads(copy: Path, saved: Path) -> None:
    _edit_config(copy, lambda m: (m.pop("format_version"), m.update(format=3)))
    assert is_model_dir(copy)
    cohort = tiny_cohort(seed=4)
    expected = KGFusionClassifier.load(saved, device="cpu").predict_proba(cohort)
    assert np.array_equal(KGFusionClassifier.load(copy, "cpu").predict_proba(cohort), expected)


def _truncate(folder: Path) -> None:
    data = (folder / WEIGHTS_FILE).read_bytes()
    (folder / WEIGHTS_FILE).write_bytes(data[: len(data) // 2])


def _pickle(folder: Path) -> None:
    (folder / WEIGHTS_FILE).write_bytes(pickle.dumps({"weights": [1.0, 2.0]}))


def _torch_save(folder: Path) -> None:
    torch.save(load_file(str(folder / WEIGHTS_FILE)), folder / WEIGHTS_FILE)


def _broken_json(folder: Path) -> None:
    text = (folder / CONFIG_FILE).read_text()
    (folder / CONFIG_FILE).write_text(text[: len(text) // 2])


def _more_members(folder: Path) -> None:
    _edit_config(folder, lambda m: m["params"].update(n_ensemble=3))


def _wrong_shape(folder: Path) -> None:
    def change(tensors: dict) -> None:
        name = next(n for n in tensors if n.startswith("member0.") and tensors[n].dim() == 2)
        tensors[name] = torch.zeros(tensors[name].shape[0] + 1, tensors[name].shape[1])

    _edit_tensors(folder, change)


def _nodes_out_of_range(folder: Path) -> None:
    _edit_tensors(folder, lambda t: t["feature_nodes.0"].__setitem__(0, 999))


def _nan_weight(folder: Path) -> None:
    def change(tensors: dict) -> None:
        name = next(n for n in tensors if n.startswith("member1.") and n.endswith("weight"))
        tensors[name] = tensors[name].clone().fill_(float("nan"))

    _edit_tensors(folder, change)


def _bad_param(folder: Path) -> None:
    _edit_config(folder, lambda m: m["params"].update(lr="fast"))


def _missing_key(folder: Path) -> None:
    _edit_config(folder, lambda m: m.pop("scale"))


def _no_weights(folder: Path) -> None:
    (folder / WEIGHTS_FILE).unlink()


def _no_marker(folder: Path) -> None:
    _edit_config(folder, lambda m: m.pop("format"))


@pytest.mark.parametrize(
    ("corrupt", "file", "message"),
    [
        (_truncate, WEIGHTS_FILE, "not a readable safetensors file"),
        (_pickle, WEIGHTS_FILE, "not a readable safetensors file"),
        (_torch_save, WEIGHTS_FILE, "not a readable safetensors file"),
        (_broken_json, CONFIG_FILE, "not valid JSON"),
        (_more_members, WEIGHTS_FILE, "holds 2 ensemble members .* n_ensemble=3"),
        (_wrong_shape, WEIGHTS_FILE, "tensor 'member0\\..*' is torch.float32 .* the model needs"),
        (
            _nodes_out_of_range,
            WEIGHTS_FILE,
            "'feature_nodes.0' must hold positions in \\[-1, 16\\)",
        ),
        (_nan_weight, WEIGHTS_FILE, "tensor 'member1\\..*weight' holds .* non-finite values"),
        (_bad_param, CONFIG_FILE, "The 'lr' parameter of KGFusionClassifier must be"),
        (_missing_key, CONFIG_FILE, "missing key 'scale'"),
        (_no_weights, WEIGHTS_FILE, "missing"),
        (_no_marker, CONFIG_FILE, "no kgfusion format marker"),
    ],
)
def test_a_corrupt_folder_gives_one_error_naming_the_file(
    copy: Path, corrupt: Callable[[Path], None], file: str, message: str
) -> None:
    corrupt(copy)
    with pytest.raises(CheckpointError, match=message) as info:
        KGFusionClassifier.load(copy, device="cpu")
    assert str(info.value).startswith(str(copy / file))
    assert isinstance(info.value, ValueError) and isinstance(info.value, InvalidParameterError)


def test_a_missing_folder_and_a_bad_device(tmp_path: Path, saved: Path) -> None:
    with pytest.raises(CheckpointError, match="no such folder"):
        KGFusionClassifier.load(tmp_path / "nothing")
    with pytest.raises(InvalidParameterError, match="'device' parameter"):
        KGFusionClassifier.load(saved, device="gpu0")


def test_non_finite_outputs_name_the_patients(saved: Path) -> None:
    model = KGFusionClassifier.load(saved, device="cpu")
    with torch.no_grad():  # weights diverged in memory (no file to check)
        model.models_[1].readout.linear.bias.fill_(float("nan"))
    cohort = tiny_cohort(seed=5)
    with pytest.raises(ModelError, match=r"non-finite outputs .* for 60 of 60 patients \(p000, "):
        model.predict(cohort)
