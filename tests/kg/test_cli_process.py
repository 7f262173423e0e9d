"""The kg command line as a separate process: exit codes, signals, worker cleanup, imports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def kg_process(*args: str | Path, **kwargs) -> subprocess.Popen:
    command = [sys.executable, "-m", "kg", *map(str, args)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)  # fmt: skip


def children(pid: int) -> set[int]:
    """Live (non-zombie) processes whose parent is ``pid``, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # exited meanwhile
                continue
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) == pid and state != "Z":
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def big_obo(path: Path, terms: int) -> Path:
    lines = ["format-version: 1.2", ""]
    for i in range(1, terms):
        lines += [
            "[Term]",
            f"id: GO:{i:07d}",
            f"name: term {i}",
            f"is_a: GO:{(i - 1) // 2:07d}",
            "",
        ]
    lines += ["[Term]", "id: GO:0000000", "name: root", ""]
    path.write_text("\n".join(lines))
    return path


def test_empty_table_error_exits_2_every_time(tmp_path):
    """Issue 15 item 10: the error exit aborted (rc 134) in about 1 run in 3."""
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    mini = ROOT / "tests" / "data" / "mini.obo"
    for i in range(8):
        extra = ["-s", f"obo:{mini}", "-s", f"obo:{mini}", "--workers", "2"] if i % 2 else []
        # with the progress bar (as users run it) the abort was most frequent
        process = kg_process("build", "-s", f"edges:{empty}", *extra, "--no-cache", "-o", tmp_path / "g")  # fmt: skip
        _, err = process.communicate(timeout=120)
        assert process.returncode == 2, (process.returncode, err)
        assert f"{empty}:1: empty file" in err and "Traceback" not in err
        assert "terminate called" not in err
    assert not (tmp_path / "g").exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_sigterm_during_a_parallel_build_leaves_no_workers(tmp_path):
    """Issue 15 item 11: SIGTERM on `kg build` left its pool workers running."""
    sources = [big_obo(tmp_path / f"big{i}.obo", 150_000) for i in range(2)]
    args = [a for s in sources for a in ("-s", f"obo:{s}")]
    process = kg_process("build", *args, "--workers", "2", "--no-cache", "--no-progress", "-o", tmp_path / "g")  # fmt: skip
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
        workers |= children(process.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the build never started its workers"
    time.sleep(0.5)  # the workers are parsing now
    os.kill(process.pid, signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err
    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:  # do not leak them into the rest of the test run
        os.kill(pid, signal.SIGKILL)
    assert not left, f"orphaned workers {left}"
    assert "Traceback" not in err
    assert not (tmp_path / "g").exists()


def test_kg_commands_import_neither_torch_nor_sklearn(tmp_path):
    """Issue 16 item 9: every `kg` command (but `export -f hetero`, which is torch) stays light."""
    mini, out = ROOT / "tests" / "data" / "mini.obo", tmp_path / "g.kg"
    commands = [
        ["--help"],
        ["build", "-s", f"obo:{mini}", "-s", f"obo:{mini}", "--workers", "2", "--no-cache", "--no-progress", "-o", str(out)],
        ["info", str(out)],
        ["query", "neighborhood", "-n", "GO:0000003", "--kg", str(out)],
        ["query", "superterms", "-n", "GO:0000003", "--kg", str(out)],
        ["query", "subterms", "-n", "GO:0008150", "--kg", str(out)],
        ["query", "paths", "-n", "GO:0000003", "--to", "GO:0008150", "--kg", str(out)],
        ["export", str(out), "-f", "ttl", "-o", str(tmp_path / "g.ttl")],
        ["export", str(out), "-f", "graphml", "-o", str(tmp_path / "g.graphml")],
        ["export", str(out), "-f", "json", "-o", str(tmp_path / "g.json")],
    ]  # fmt: skip
    script = f"""
import sys
from kg.cli import app
heavy = ("torch", "sklearn")
assert not [m for m in heavy if m in sys.modules], "import kg.cli"
for args in {commands!r}:
    try:
        app(args, prog_name="kg")
    except SystemExit as exit:
        assert exit.code in (0, None), (args, exit.code)
    loaded = [m for m in heavy if m in sys.modules]
    assert not loaded, (args, loaded)
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "g.json").is_file()
