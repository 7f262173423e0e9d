"""Tests of kg.load_yaml: plain data loads, anchors/aliases (YAML bombs) are refused up front."""

from __future__ import annotations

import re
import textwrap

import pytest
from typer.testing import CliRunner

from kg import KGConfig, ParseError, load_yaml
from kg.cli import app

#: nine levels of nested aliases: 9**9 (387 million) list items once expanded
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi")
)


def test_plain_data_loads(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("sources:\n  - {path: a.obo, format: obo, options: {on_dangling: add}}\n")
    assert load_yaml(path) == {
        "sources": [{"path": "a.obo", "format": "obo", "options": {"on_dangling": "add"}}]
    }
    (tmp_path / "empty.yaml").write_text("")
    assert load_yaml(tmp_path / "empty.yaml") is None


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        (BOMB, 1, "anchor &a"),
        ("sources:\n  - options: &o {on_dangling: add}\n", 2, "anchor &o"),
        ("x: 1\ny: *undefined\n", 2, "alias *undefined"),
    ],
)
def test_anchors_and_aliases_are_refused_naming_file_and_line(tmp_path, text, line, what):
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    with pytest.raises(
        ParseError, match=rf"bomb\.yaml:{line}: YAML {re.escape(what)} is not allowed"
    ):
        load_yaml(path)
    with pytest.raises(ParseError, match="not allowed"):
        KGConfig.from_yaml(path)


def test_unsafe_tags_undecodable_and_missing_files(tmp_path):
    path = tmp_path / "tag.yaml"
    path.write_text("x: !!python/object/apply:os.system [echo hi]\n")
    with pytest.raises(ParseError, match=r"tag\.yaml:1: not valid YAML"):
        load_yaml(path)
    path = tmp_path / "utf16.yaml"
    path.write_bytes("x: 1\n".encode("utf-16"))
    with pytest.raises(ParseError, match=r"utf16\.yaml: not UTF-8 text"):
        load_yaml(path)
    with pytest.raises(ParseError, match=r"absent\.yaml: cannot read the file"):
        load_yaml(tmp_path / "absent.yaml")


def test_cli_build_refuses_an_alias_bomb_in_reader_options(fixtures, tmp_path):
    config = tmp_path / "sources.yaml"
    config.write_text(
        f"sources:\n  - path: {fixtures / 'mini.obo'}\n    format: obo\n    options:\n"
        + textwrap.indent(BOMB, " " * 6)
    )
    result = CliRunner().invoke(
        app, ["build", "-c", str(config), "--no-cache", "--no-progress", "-o", str(tmp_path / "g")]
    )
    assert result.exit_code == 2, result.output
    assert f"{config}:5: YAML anchor &a is not allowed" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "g").exists()
