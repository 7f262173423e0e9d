"""Benchmark: one relational propagation layer, forward + backward, before and after PyG.

Compares :class:`gnn.RelationalPropagation` (a PyG ``MessagePassing`` layer) with the layer it
replaced (kept here, :class:`Baseline`: a sparse COO × dense product over the stacked
adjacency's non-empty rows), on a random graph shaped like a pruned KG: 20k nodes, 4 base
relations of 25k edges each plus their reverses (8 relations, 200k edges), 256 patients as
channels, hidden 8. Rows: the baseline, the new layer's fused path (``message_and_aggregate``
over a sparse CSR matrix, what training uses), and its per-edge path (``message`` +
``aggregate``, used when an explainer sets edge masks). Also checks the outputs agree.

Run: ``python benchmarks/propagation.py [--nodes 20000] [--edges 25000] [--batch 256]``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn

from gnn import RelationalPropagation, RelationGraph
from gnn.relation_graph import MessageRows


class Baseline(nn.Module):
    """The R-GCN layer before it became a ``MessagePassing`` (commit 85ad798)."""

    def __init__(self, channels: int, num_relations: int) -> None:
        super().__init__()
        self.channels, self.num_relations = channels, num_relations
        self.root = nn.Linear(channels, channels)
        self.weight = nn.Parameter(torch.empty(num_relations, channels, channels))
        bound = 1.0 / math.sqrt(channels * max(num_relations, 1))
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, h: Tensor, adjacency: Tensor, relation: Tensor, target: Tensor) -> Tensor:
        n, b, c = h.shape
        messages = torch.sparse.mm(adjacency, h.reshape(n, b * c)).view(-1, b, c)
        transformed = torch.bmm(messages, self.weight[relation])
        return torch.relu(self.root(h).index_add(0, target, transformed))


def _coo_rows(graph: RelationGraph) -> tuple[Tensor, Tensor, Tensor]:
    """The baseline's inputs: the stacked adjacency's non-empty rows as COO, relation, target."""
    a = graph.adjacency.coalesce()
    n = graph.num_nodes
    rows, position = torch.unique(a.indices()[0], return_inverse=True)
    index = torch.stack([position, a.indices()[1]])
    compact = torch.sparse_coo_tensor(index, a.values(), (len(rows), n), check_invariants=True)
    compact = compact.coalesce()
    return compact, rows // n, rows % n


def _time(steps: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, float]]:
    """Best wall and best CPU seconds of ``repeat`` calls of each step (after one warm-up call
    each), the steps taking turns so that a busy machine slows all of them alike."""
    for step in steps.values():
        step()
    best = {name: (float("inf"), float("inf")) for name in steps}
    for _ in range(repeat):
        for name, step in steps.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            step()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20_000)
    parser.add_argument("--edges", type=int, default=25_000, help="edges per base relation")
    parser.add_argument("--relations", type=int, default=4, help="base relations")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    generator = torch.Generator().manual_seed(0)
    n = args.nodes
    edges = [
        torch.randint(0, n, (2, args.edges), generator=generator) for _ in range(args.relations)
    ]
    graph = RelationGraph(
        [f"n{i}" for i in range(n)], ["gene"] * n, list("abcdefgh")[: args.relations], edges
    )
    device = torch.device(args.device)
    rows: MessageRows = graph.rows.to(device)
    coo, relation, target = (t.to(device) for t in _coo_rows(graph))
    torch.manual_seed(0)
    new = RelationalPropagation(args.hidden, len(graph.relations)).to(device)
    old = Baseline(args.hidden, len(graph.relations)).to(device)
    old.load_state_dict(new.state_dict())
    h = torch.randn(n, args.batch, args.hidden, device=device, requires_grad=True)

    def run(forward) -> None:
        forward().square().sum().backward()

    def per_edge() -> Tensor:
        new.explain = True  # what an explainer's set_masks does, without a mask
        new._edge_mask = torch.ones(rows.edge_index.shape[1], device=device)
        new._apply_sigmoid = False
        try:
            return new(h, rows)
        finally:
            new.explain, new._edge_mask = False, None

    cases = {
        "baseline (sparse COO mm)": lambda: old(h, coo, relation, target),
        "MessagePassing, fused (CSR)": lambda: new(h, rows),
        "MessagePassing, per edge": per_edge,
    }
    with torch.no_grad():
        reference = cases["baseline (sparse COO mm)"]()
        for name, forward in cases.items():
            error = float((forward() - reference).abs().max())
            assert error < 1e-4, (name, error)
    print(
        f"{n:,} nodes, {graph.rows.edge_index.shape[1]:,} edges, {len(graph.relations)} relations, "
        f"{len(graph.rows.relation):,} message rows, batch {args.batch}, hidden {args.hidden}, "
        f"{device}, {torch.get_num_threads()} threads; best of {args.repeat}, cases taking turns"
    )
    print("wall and CPU seconds (CPU: this process, all threads; less sensitive to a busy machine)")
    header = ("forward", "fwd CPU", "fwd+bwd", "f+b CPU", "f+b vs base")
    print(f"{'layer':<30}" + "".join(f"{h:>12}" for h in header))
    with torch.no_grad():
        forward = _time(cases, args.repeat)
    both = _time({name: (lambda f=f: run(f)) for name, f in cases.items()}, args.repeat)
    base = both["baseline (sparse COO mm)"][0]
    for name in cases:
        (fwd, fwd_cpu), (total, total_cpu) = forward[name], both[name]
        cells = (
            f"{fwd:>12.3f}{fwd_cpu:>12.3f}{total:>12.3f}{total_cpu:>12.3f}{total / base:>11.2f}x"
        )
        print(f"{name:<30}{cells}")


if __name__ == "__main__":
    main()
