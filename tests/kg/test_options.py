"""Reader options are checked against each reader's signature and Literal hints up front."""

from __future__ import annotations

import inspect

import pytest
from typer.testing import CliRunner

from kg import KGConfig, ParseError, Source, embedded_config, shared_sources
from kg._options import option_problem
from kg.build import READERS
from kg.cli import app


def yaml_config(tmp_path, fixtures, options: str):
    path = tmp_path / "sources.yaml"
    path.write_text(
        f"sources:\n  - {{path: {fixtures / 'mini.obo'}, format: obo, options: {options}}}\n"
    )
    return path


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("{on_dangling: maybe}", "sources[0].options.on_dangling (obo) must be one of ['raise', 'add', 'drop']; got 'maybe'"),
        ("{colour: red}", "sources[0].options.colour (obo) is not an option of read_obo; allowed: ['acyclic', 'include_obsolete', 'node_type', 'on_dangling', 'provenance']"),
        ("{include_obsolete: maybe}", "sources[0].options.include_obsolete (obo) must be a bool; got 'maybe'"),
        ("{node_type: 3}", "sources[0].options.node_type (obo) must be a str; got 3"),
        ("[on_dangling]", "sources[0].options must be a mapping, got ['on_dangling']"),
    ],
)  # fmt: skip
def test_bad_options_fail_when_the_config_is_read(tmp_path, fixtures, options, message):
    path = yaml_config(tmp_path, fixtures, options)
    with pytest.raises(ParseError) as error:
        KGConfig.from_yaml(path)
    assert str(error.value) == f"{path}: {message}"


def test_cli_names_file_key_and_allowed_values(tmp_path, fixtures):
    path = yaml_config(tmp_path, fixtures, "{on_dangling: maybe}")
    result = CliRunner().invoke(
        app, ["build", "-c", str(path), "--no-cache", "-o", str(tmp_path / "g")]
    )
    assert result.exit_code == 2
    assert f"{path}: sources[0].options.on_dangling" in result.stderr
    assert "['raise', 'add', 'drop']; got 'maybe'" in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "g").exists()


def test_source_checks_its_options_too(fixtures):
    with pytest.raises(ParseError, match=r"mini\.obo \(obo\): option 'on_dangling' must be one of"):
        Source(fixtures / "mini.obo", "obo", {"on_dangling": "maybe"})
    with pytest.raises(ParseError, match="'genes' is not an option of read_gmt"):
        Source(fixtures / "mini.gmt", "gmt", {"genes": "x"})  # the builder passes the genes
    ok = Source(fixtures / "mini.obo", "obo", {"on_dangling": "drop", "include_obsolete": True})
    assert ok.options["on_dangling"] == "drop"


def test_valid_option_values_pass(fixtures, tmp_path):
    assert option_problem(READERS["mirna_targets"], {"on_unknown": None}) is None  # Optional
    assert option_problem(READERS["obo"], {"acyclic": ["is_a", "part_of"]}) is None  # generic
    path = yaml_config(tmp_path, fixtures, "{on_dangling: add, provenance: mine}")
    assert KGConfig.from_yaml(path).sources[0].options == {
        "on_dangling": "add",
        "provenance": "mine",
    }
    shared_sources(tmp_path, mirna=True)  # the presets pass their own checks
    embedded_config()


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_every_reader_option_is_checkable(fmt):
    """Contract: each reader's hints resolve, and every Literal option is enforced generically."""
    reader = READERS[fmt]
    assert option_problem(reader, {}, injected={"genes"}) is None
    for name, parameter in list(inspect.signature(reader).parameters.items())[1:]:
        if "Literal" in str(parameter.annotation) or "On" in str(parameter.annotation):
            key, what = option_problem(reader, {name: "surely-not-allowed"})
            assert key == name and what.startswith("must be one of")
