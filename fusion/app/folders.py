"""Output folders written whole or not at all, and never over a folder kgfusion did not write.

:func:`staged_folder` hands out a hidden staging folder beside the destination; on success the
destination is swapped in by renames (the old folder aside, the new one in, the old one
deleted), so a crash at any point leaves one complete folder, and a failure leaves the old one
untouched. A destination that exists is replaced only when it is empty or holds a run record of
the same kind (:mod:`fusion.app.record`): a user's folder is never deleted.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fusion.app.config import ConfigError
from fusion.app.record import RECORD_FILE, read_kind
from kg import swap_in

__all__ = ["OutputFolderError", "check_replaceable", "staged_folder"]

_LABELS = {
    "model": "model folder",
    "evaluation": "evaluation folder",
    "demo": "kgfusion demo report",
}


class OutputFolderError(ConfigError, FileExistsError):
    """An output folder exists and is not one that kgfusion wrote for this kind of run."""


def check_replaceable(
    out: Path, kind: str, recognise: Callable[[Path], bool] | None = None
) -> None:
    """Refuse ``out`` unless it is absent, an empty folder, or a kgfusion ``kind`` folder.

    Parameters
    ----------
    out : Path
        The destination.
    kind : str
        The run record kind the folder must hold (``"model"``, ``"evaluation"``, ``"demo"``).
    recognise : callable, optional
        Also accept a folder for which this returns ``True`` (e.g. a model folder saved by an
        estimator's ``save``, which writes no run record).

    Raises
    ------
    OutputFolderError
        Naming the folder and what it lacks.
    """
    if not out.exists() and not out.is_symlink():
        return
    if out.is_dir() and not out.is_symlink():
        if not any(out.iterdir()) or read_kind(out) == kind:
            return
        if recognise is not None and recognise(out):
            return
    msg = (
        f"{out}: exists and is not a {_LABELS.get(kind, kind + ' folder')} (no kgfusion "
        f"{RECORD_FILE} of kind {kind!r}); refusing to replace it. Choose another output folder "
        "or remove it yourself."
    )
    raise OutputFolderError(msg)


@contextmanager
def staged_folder(
    out: str | Path, kind: str, recognise: Callable[[Path], bool] | None = None
) -> Iterator[Path]:
    """A staging folder that becomes ``out`` when the ``with`` block succeeds.

    ``out`` is checked (:func:`check_replaceable`) before the block runs and again before the
    swap. On any exception (``KeyboardInterrupt`` included) the staging folder is removed and
    ``out`` is left as it was.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from fusion.app.record import RunRecord
    >>> out = Path(tempfile.mkdtemp()) / "model"
    >>> with staged_folder(out, "model") as staging:
    ...     _ = (staging / "weights.bin").write_bytes(b"0")
    ...     _ = RunRecord("model").write(staging)
    >>> sorted(p.name for p in out.iterdir())
    ['run.json', 'weights.bin']
    """
    out = Path(out)
    check_replaceable(out, kind, recognise)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield staging
        check_replaceable(out, kind, recognise)
        staging.chmod(0o755)  # mkdtemp makes it private
        swap_in(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
