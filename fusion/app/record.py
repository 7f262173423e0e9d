"""The run record: one ``run.json`` in every folder a run writes (model, evaluation, demo report).

A record says what produced the folder (its ``kind``), with what (the run configuration, the
seed, package versions, the git revision of the source tree, checksums of the input files) and
how long each stage took. Its ``format`` marker is what lets kgfusion tell its own folders from a
user's: a folder is only ever replaced when it holds a record of the same kind
(:func:`fusion.app.folders.staged_folder`).
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "RECORD_FILE",
    "RECORD_FORMAT",
    "RunRecord",
    "file_checksums",
    "git_revision",
    "read_kind",
    "versions",
]

#: Name of the record file in a run folder.
RECORD_FILE = "run.json"
#: Value of the record's ``format`` key.
RECORD_FORMAT = "kgfusion-run"
_PACKAGES = (
    "kgfusion", "numpy", "pandas", "scikit-learn", "torch", "torch-geometric", "networkx", "rdflib",
)  # fmt: skip
_CHUNK = 1 << 20


def versions() -> dict[str, str]:
    """Python's and the main packages' versions (``"not installed"`` for a missing one)."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_revision(path: str | Path | None = None) -> str | None:
    """The git commit of the kgfusion source tree (``+dirty`` with uncommitted changes), if any."""
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{rev}+dirty" if dirty else rev


def file_checksums(paths: Iterable[str | Path]) -> dict[str, str]:
    """sha256 of each existing file (a folder: of each file below it), keyed by path."""
    out: dict[str, str] = {}
    for path in map(Path, paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                digest = hashlib.sha256()
                with file.open("rb") as handle:
                    for chunk in iter(lambda: handle.read(_CHUNK), b""):
                        digest.update(chunk)
                out[str(file)] = digest.hexdigest()
    return out


@dataclass
class RunRecord:
    """What a run folder holds and how it was made.

    Attributes
    ----------
    kind : str
        ``"model"``, ``"evaluation"`` or ``"demo"``.
    config : dict
        The run configuration (JSON-ready).
    seed : int or None
        The seed the run used.
    inputs : dict of str to str
        Input file → sha256.
    timings_s : dict of str to float
        Seconds per stage (:meth:`stage`).
    results : dict
        Whatever the run measured (metrics, counts); written at the top level of the record.
    """

    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the ``with`` block as stage ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings_s[name] = round(time.perf_counter() - start, 3)

    def to_dict(self) -> dict[str, Any]:
        """The record as written: with ``format``, ``versions``, ``git_revision`` and ``created``."""
        record = {k: v for k, v in asdict(self).items() if k != "results"}
        record = {
            "format": RECORD_FORMAT,
            **record,
            "versions": versions(),
            "git_revision": git_revision(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        clash = sorted(set(record) & set(self.results))
        if clash:
            msg = f"run record results may not use the reserved keys {clash}"
            raise ValueError(msg)
        return {**record, **self.results}

    def write(self, folder: str | Path) -> Path:
        """Write ``folder/run.json``."""
        path = Path(folder) / RECORD_FILE
        text = json.dumps(self.to_dict(), indent=1, default=str)
        path.write_text(text + "\n", encoding="utf-8")
        return path


def read_kind(folder: str | Path) -> str | None:
    """The ``kind`` of the record in ``folder``, or ``None`` when it holds no kgfusion record."""
    path = Path(folder) / RECORD_FILE
    try:
        raw: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("format") != RECORD_FORMAT:
        return None
    kind = raw.get("kind")
    return kind if isinstance(kind, str) else None
