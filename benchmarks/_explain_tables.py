"""Records → Markdown tables for ``benchmarks/explain.py``: one value per (part, seed, measure,
variant), summarised as mean ± sd over seeds, one column per variant (a model beside its
controls), and the issue's targets checked on the same records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


def mean_sd(values: pd.Series) -> str:
    """``mean ± sd`` (sd over seeds; ``± 0`` for one value), 3 decimals (2 significant digits
    below 0.01, e.g. infidelities); empty when no value."""
    values = values.dropna()
    if values.empty:
        return ""
    mean, sd = values.mean(), (values.std(ddof=1) if len(values) > 1 else 0.0)
    if 0 < abs(mean) < 0.01:
        return f"{mean:.2g} ± {sd:.2g}"
    return f"{mean:.3f} ± {sd:.3f}"


def pivot(records: pd.DataFrame, measures: dict[str, str], variants: Sequence[str]) -> pd.DataFrame:
    """One row per measure (its label), one column per variant: mean ± sd over seeds."""
    cells = records.groupby(["measure", "variant"])["value"].apply(mean_sd)
    rows = []
    for measure, label in measures.items():
        row = {"measure": label}
        for variant in variants:
            row[variant or "value"] = cells.get((measure, variant), "")
        rows.append(row)
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """A DataFrame of strings as a Markdown table."""
    lines = ["| " + " | ".join(map(str, table.columns)) + " |"]
    lines.append("|" + "---|" * len(table.columns))
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


@dataclass(frozen=True)
class Target:
    """A target of the issue, checked on the records: ``value(records)`` against ``passes``."""

    label: str
    goal: str
    value: Callable[[pd.DataFrame], pd.Series]
    passes: Callable[[float], bool]


def values(records: pd.DataFrame, measure: str, variant: str) -> pd.Series:
    """The per-seed values of one measure and variant, indexed by seed."""
    chosen = records[(records["measure"] == measure) & (records["variant"] == variant)]
    return chosen.set_index("seed")["value"]


def ratio(records: pd.DataFrame, measure: str, variant: str, reference: str) -> pd.Series:
    """Per-seed ``variant / reference`` of one measure."""
    return values(records, measure, variant) / values(records, measure, reference)


def difference(records: pd.DataFrame, measure: str, variant: str, reference: str) -> pd.Series:
    """Per-seed ``variant − reference`` of one measure (paired over seeds)."""
    return values(records, measure, variant) - values(records, measure, reference)


def target_table(records: pd.DataFrame, targets: Sequence[Target]) -> pd.DataFrame:
    """Each target's mean ± sd over seeds, the goal, and whether the mean meets it."""
    rows = []
    for target in targets:
        measured = target.value(records).dropna()
        mean = float(measured.mean()) if len(measured) else np.nan
        ok = "" if np.isnan(mean) else ("✓" if target.passes(mean) else "✗")
        rows.append(
            {"target": target.label, "value": mean_sd(measured), "goal": target.goal, "ok": ok}
        )
    return pd.DataFrame(rows)
