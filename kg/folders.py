"""Replacing a folder in one step: the old one aside, the new one in, the old one deleted.

Used by :func:`kg.save_kg` and by every kgfusion writer of a whole folder, so that a crash at any
point leaves one complete folder and a failed rename puts the old one back.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

__all__ = ["swap_in"]


def swap_in(staging: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Rename the complete folder ``staging`` to ``path``, replacing what is there.

    An existing ``path`` is renamed aside first and deleted only once ``staging`` is in place;
    if that rename fails, the old folder is put back and the error raised. ``staging`` must be a
    sibling of ``path`` (renames do not cross file systems). Whether ``path`` may be replaced is
    the caller's decision.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "new").mkdir(); _ = (root / "new" / "a").write_text("new")
    >>> (root / "out").mkdir(); _ = (root / "out" / "a").write_text("old")
    >>> (swap_in(root / "new", root / "out") / "a").read_text(), sorted(p.name for p in root.iterdir())
    ('new', ['out'])
    """
    staging, path = Path(staging), Path(path)
    if not (path.exists() or path.is_symlink()):
        os.rename(staging, path)
        return path
    old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex}")
    os.rename(path, old)  # moved aside, not deleted, until the new folder is in place
    try:
        os.rename(staging, path)
    except BaseException:
        os.rename(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return path
