"""A volcano plot of :func:`~fusion.explanations.contrast`: which terms differ between groups.

matplotlib is imported when the picture is drawn; the figure is built without pyplot (no global
state, nothing to close).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fusion._exceptions import InvalidParameterError
from fusion._params import check_positive
from fusion.explanations.contrasts import CONTRAST_COLUMNS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_contrast"]


def plot_contrast(
    table: pd.DataFrame,
    path: str | Path | None = None,
    k: int = 10,
    *,
    alpha: float = 0.05,
    dpi: int = 150,
) -> Figure:
    """Volcano plot of :func:`~fusion.explanations.contrast`: effect against ``-log10 q``.

    One panel per comparison (``group`` vs ``versus``). Terms with ``q_value <= alpha`` are
    red when they score higher in the group, blue when lower, the others grey; the dashed line
    marks ``q = alpha``; the first ``k`` terms of each comparison in the table's order (by q,
    then ``|effect|``) are numbered, their names listed beside the panel.

    Parameters
    ----------
    table : pandas.DataFrame
        The result of :func:`~fusion.explanations.contrast`.
    path : str or Path, optional
        Also write the figure there (PNG, PDF or SVG by the suffix).
    k : int
        Terms numbered and named per panel (default: ``10``).
    alpha : float
        The FDR level drawn and coloured (default: ``0.05``).
    dpi : int
        Resolution of a written raster figure (default: ``150``).

    Returns
    -------
    matplotlib.figure.Figure
        Not registered with pyplot (nothing to close).

    Raises
    ------
    InvalidParameterError
        If ``table`` has no rows or lacks a column of :data:`~fusion.explanations.CONTRAST_COLUMNS`,
        ``k`` is not a positive int or ``alpha`` is not in ``(0, 1)``.
    """
    from matplotlib.figure import Figure

    k = check_positive("k", k, "plot_contrast")
    if not 0 < alpha < 1:
        msg = f"The 'alpha' parameter of plot_contrast must be in the range (0, 1). Got {alpha!r} instead."
        raise InvalidParameterError(msg)
    missing = [c for c in CONTRAST_COLUMNS if c not in table.columns]
    if missing or table.empty:
        what = f"lacks the columns {missing}" if missing else "has no rows (no term was tested)"
        raise InvalidParameterError(f"plot_contrast: the table {what}; pass contrast()'s result.")
    panels = list(table.groupby(["group", "versus"], sort=False))
    fig = Figure(figsize=(9.0 * len(panels), 5.0))
    for ax, ((group, versus), rows) in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels):
        _volcano(ax, rows, k, alpha)
        ax.set_title(
            f"{group} vs {versus} ({rows['n_group'].iat[0]} vs {rows['n_versus'].iat[0]} patients)",
            fontsize=10,
        )
    attrs = table.attrs
    if {"method", "n_permutations", "seed"} <= set(attrs):
        fig.suptitle(
            f"{attrs['method']} scores, {attrs['n_permutations']} permutations, seed {attrs['seed']}",
            fontsize=9,
        )
    fig.tight_layout()
    if path is not None:
        fig.savefig(Path(path), dpi=dpi)
    return fig


def _volcano(ax: Any, rows: pd.DataFrame, k: int, alpha: float) -> None:
    """One comparison's terms: Cliff's delta against ``-log10 q``, the first ``k`` labelled."""
    height = -np.log10(rows["q_value"].to_numpy(dtype=float))
    effect = rows["effect"].to_numpy(dtype=float)
    significant = rows["q_value"].to_numpy() <= alpha
    up = rows["difference"].to_numpy() > 0
    colors = np.where(significant, np.where(up, "#C44E52", "#4C72B0"), "#BBBBBB")
    ax.scatter(effect, height, c=colors, s=14, linewidths=0)
    ax.axhline(-np.log10(alpha), color="#555555", linestyle="--", linewidth=0.8)
    ax.axvline(0.0, color="#DDDDDD", linewidth=0.8, zorder=0)
    labels = []
    for i, (x, y, name, node) in enumerate(zip(effect[:k], height[:k], rows["name"], rows["id"])):
        ax.annotate(str(i + 1), (x, y), xytext=(3, 3 - 7 * (i % 2)), textcoords="offset points",
                    fontsize=6, fontweight="bold")  # fmt: skip
        text = str(name if isinstance(name, str) and name else node)
        labels.append(f"{i + 1:>2}  {textwrap.shorten(text, 45, placeholder='…')}")
    ax.text(1.02, 1.0, "\n".join(labels), transform=ax.transAxes, va="top", fontsize=6.5,
            family="monospace")  # fmt: skip
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(bottom=0.0, top=max(height.max(), -np.log10(alpha)) * 1.1)
    ax.set_xlabel("effect (Cliff's delta: P(group > versus) - P(group < versus))")
    ax.set_ylabel("-log10 q (Benjamini-Hochberg)")
