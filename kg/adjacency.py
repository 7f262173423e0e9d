"""Sparse (scipy) adjacency matrices of edge lists, for the graph algorithms of :mod:`kg`.

scipy is imported when :func:`adjacency_matrix` is called, never at import time of :mod:`kg`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

__all__ = ["adjacency_matrix"]


def adjacency_matrix(
    source: ArrayLike, target: ArrayLike, num_nodes: int, *, dtype: DTypeLike = np.int8
) -> csr_matrix:
    """Sparse CSR ``(N, N)`` matrix ``A`` with ``A[s, t]`` the number of edges ``s → t``.

    Parameters
    ----------
    source, target : array-like of int
        Node positions (in ``[0, num_nodes)``) of each edge's two ends.
    num_nodes : int
        Number of nodes ``N``.
    dtype : numpy dtype
        Entry type (default: ``int8``, enough for reachability; duplicate edges are summed).

    Examples
    --------
    >>> a = adjacency_matrix([0, 0, 1], [1, 1, 2], 3)
    >>> a.toarray().tolist()
    [[0, 2, 0], [0, 0, 1], [0, 0, 0]]
    """
    from scipy.sparse import coo_matrix

    source, target = np.asarray(source), np.asarray(target)
    ones = np.ones(len(source), dtype=dtype)
    return coo_matrix((ones, (source, target)), shape=(num_nodes, num_nodes)).tocsr()
