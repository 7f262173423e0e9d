"""Comparison and aggregation of :class:`~fusion.explanations.Explanation` objects.

Mixed into :class:`~fusion.explanations.Explanation`: :meth:`compare` (how two explanations'
top nodes differ) and :meth:`aggregate` (mean scores per class or cohort).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fusion._exceptions import InvalidParameterError
from fusion.data._checks import preview
from fusion.explanations._fields import ExplanationFields

if TYPE_CHECKING:
    from fusion.explanations.explanation import Explanation

__all__ = ["COMPARE_COLUMNS"]

#: Columns of :meth:`Explanation.compare`.
COMPARE_COLUMNS: tuple[str, ...] = (
    "id", "name", "type", "score", "score_other", "difference", "status",
)  # fmt: skip


class GroupQueries(ExplanationFields):
    """:meth:`compare` two explanations; :meth:`aggregate` many."""

    def compare(
        self,
        other: Explanation,
        k: int = 20,
        type: str | Iterable[str] | None = None,
        namespace: str | Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """How the top-``k`` nodes of ``other`` differ from this explanation's.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`COMPARE_COLUMNS` over the union of both top-``k`` sets: ``status`` is
            ``"gained"`` (top in ``other`` only), ``"lost"`` (top here only) or ``"kept"``;
            ``difference = score_other - score``; rows sorted by ``|difference|`` descending.

        Raises
        ------
        InvalidParameterError
            If the explanations refer to different knowledge graphs, or as :meth:`top`.
        """
        if other.kg is not self.kg:
            msg = f"cannot compare {self.patient!r} and {other.patient!r}: different knowledge graphs."
            raise InvalidParameterError(msg)
        mine = self.top(k, type, namespace)["id"]
        theirs = other.top(k, type, namespace)["id"]
        ids = pd.Index(mine).union(pd.Index(theirs), sort=False)
        table = self.kg.nodes.loc[ids, ["name", "type"]].rename_axis("id").reset_index()
        table["score"] = self.scores.reindex(ids, fill_value=0.0).to_numpy()
        table["score_other"] = other.scores.reindex(ids, fill_value=0.0).to_numpy()
        table["difference"] = table["score_other"] - table["score"]
        in_mine, in_theirs = ids.isin(mine), ids.isin(theirs)
        table["status"] = np.where(in_mine & in_theirs, "kept", np.where(in_mine, "lost", "gained"))
        order = np.lexsort((table["id"].to_numpy(dtype=str), -table["difference"].abs().to_numpy()))
        return table.iloc[order].reset_index(drop=True)[list(COMPARE_COLUMNS)]

    @classmethod
    def aggregate(
        cls,
        explanations: Sequence[Explanation],
        by: Sequence[str] | pd.Series | None = None,
        *,
        absolute: bool = False,
    ) -> dict[str, Explanation]:
        """Mean scores per group of explanations (a class, a cohort).

        Parameters
        ----------
        explanations : sequence of Explanation
            Over one knowledge graph; a node missing from one explanation scores ``0`` there.
        by : sequence of str or pandas.Series, optional
            The group of each explanation, in order; or a Series mapping patient id → group.
            ``None`` puts all in one group named ``"cohort"``.
        absolute : bool
            Average the absolute scores: a node's importance to the group's predictions, evidence
            for and against each patient's predicted class both counting (the global importance
            of SHAP's mean ``|φ|``). Signed means (the default) cancel for an input the model
            reads one-sidedly (it moves some patients towards their predicted class and others
            away): averaged over a cohort, such an input scores near 0 although shifting it moves
            every prediction (default: ``False``).

        Returns
        -------
        dict of str to Explanation
            One per group (sorted), with ``patient`` and ``prediction`` set to the group,
            ``inputs`` the union of the members' inputs and ``n_patients`` the group size.

        Raises
        ------
        InvalidParameterError
            If there are no explanations, graphs or methods differ, or ``by`` does not match.
        """
        if not explanations:
            msg = "Explanation.aggregate needs at least one explanation; got none."
            raise InvalidParameterError(msg)
        first = explanations[0]
        if any(e.kg is not first.kg or e.method != first.method for e in explanations):
            msg = "Explanation.aggregate: explanations must share one knowledge graph and method."
            raise InvalidParameterError(msg)
        groups = _groups([e.patient for e in explanations], by)
        table = pd.concat([e.scores for e in explanations], axis=1, sort=False)
        if absolute:
            table = table.abs()
        result = {}
        for group in sorted(set(groups)):
            members = [i for i, g in enumerate(groups) if g == group]
            inputs = dict.fromkeys(n for i in members for n in explanations[i].inputs)
            scores = table.iloc[:, members].dropna(how="all")
            result[group] = replace(
                first,
                scores=scores.fillna(0.0).mean(axis=1),
                inputs=list(inputs),
                patient=group,
                prediction=group,
                probability=None,
                edge_scores=None,
                n_patients=len(members),
            )
        return result


def _groups(
    patients: list[str],
    by: Sequence[str] | pd.Series | None,
    owner: str = "Explanation.aggregate",
    name: str = "by",
) -> list[str]:
    """The group of each patient: ``by`` in order, or looked up by patient id (a Series)."""
    if by is None:
        return ["cohort"] * len(patients)
    if isinstance(by, pd.Series):
        missing = [p for p in patients if p not in by.index]
        if missing:
            msg = f"{owner}: `{name}` has no group for patients {preview(missing)}."
            raise InvalidParameterError(msg)
        return [str(by[p]) for p in patients]
    by = list(by)
    if len(by) != len(patients):
        msg = f"{owner}: `{name}` has {len(by)} groups for {len(patients)} explanations."
        raise InvalidParameterError(msg)
    return [str(g) for g in by]
