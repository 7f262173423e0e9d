"""Scale benchmark: time per epoch and peak memory against cohort size, KG size and processes.

A synthetic knowledge graph built with numpy (``--nodes`` nodes, ``--edges`` edges in three
relations: gene → term annotations, term → term ``is_a``, gene — gene interactions; reverse
relations added by :class:`gnn.RelationGraph`) and synthetic cohorts of genome-wide panels
(``--features`` genes, one modality, standard-normal values, the label a noisy function of
ten genes). Each measured gene is a gene node of the KG; in the KG-size sweep the gene nodes
keep their share of the nodes (``--features`` at ``--nodes``: 2,000 at 10,000 nodes) and the
panel keeps its width, its other genes unlinked (read by the modality head only), so that only
the graph changes. :func:`fusion.data.make_planted_cohort` plants pathways in a real KG through pandas
frames; at 50,000 patients × 20,000 features those would be 8 GB, so the tensors are drawn
here directly. Each measurement runs in a fresh process (a ``torchrun`` of ``--nproc``
processes, gloo on CPU, nccl on CUDA) that builds the graph and the cohort, then trains
:class:`gnn.KGFusionNet` (default settings) for ``--epochs`` epochs of
:func:`gnn.train_model` (batches of ``--batch-size``, 20 % of the patients for validation,
``eval_batch_size`` of ``--eval-batch-size``, default 256 as :class:`gnn.TrainConfig`).
While a validation chunk is smaller than that (under 1,280 patients at 256), the peak memory
grows with the cohort through the chunk: the memory target is read at cohort sizes whose
chunks are full, or with ``--eval-batch-size`` at most the training batch. Per row:

- ``epoch_s``: wall seconds per epoch (training steps plus validation; the slowest rank);
- ``cpu_s``: CPU seconds of that process per epoch (the largest rank): on a machine whose
  cores are shared, ``epoch_s`` well above ``cpu_s`` is time spent waiting for a core;
- ``ms_per_patient``: ``epoch_s`` per patient (constant when time is linear in patients);
- ``data_mb``: the cohort's tensors (values and observed masks) of one process;
- ``rss_mb``: peak resident memory of one process during training (the largest rank);
- ``work_mb``: that peak minus the resident memory just before training (graph and cohort
  loaded): the memory training itself needs, which the batch fixes and the cohort should not;
- ``gpu_mb``: peak CUDA memory allocated, on a GPU;
- ``load``: the one-minute load average when the measurement ended.

After the table, the slope of ``rss_mb`` and ``work_mb`` in patients (MB per 1,000 patients,
least squares) and the spread of ``work_mb`` over cohort sizes (target: within 10 %), per
process count, and the speed-up of 2 processes over 1 at each size. Each row is printed as it
is measured; ``--json PATH`` also writes the rows, the summary and the sweep to ``PATH`` after
every measurement, so that a run stopped early keeps what it measured.

    python benchmarks/scale.py [--quick] [--device auto] [--patients 1000 5000 10000 50000]
        [--nodes 100000] [--edges 1000000] [--features 20000] [--nproc 1 2]
        [--kg-sweep 10000 50000 100000] [--sweep-patients 1000] [--epochs 1] [--threads 1]
        [--batch-size 64] [--eval-batch-size 256] [--json rows.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import load_average, print_table

QUICK = {
    "patients": [200, 400],
    "nodes": 2000,
    "edges": 20000,
    "features": 500,
    "kg_sweep": [1000, 2000],
    "sweep_patients": 200,
}
SIGNAL_GENES = 10


def _status_kb(field: str) -> int:
    """A ``/proc/self/status`` field in kB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> None:
    """Reset VmHWM (the peak resident set size) to the current size (Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def synthetic_graph(nodes: int, edges: int, genes: int, seed: int) -> Any:
    """A :class:`gnn.RelationGraph`: 70 % of ``edges`` gene → term, 20 % term → term, 10 %
    gene — gene, endpoints uniform at random (seeded)."""
    import torch

    from gnn import RelationGraph

    rng = np.random.default_rng(seed)
    counts = [int(0.7 * edges), int(0.2 * edges), edges - int(0.7 * edges) - int(0.2 * edges)]
    ranges = [
        ((0, genes), (genes, nodes)),
        ((genes, nodes), (genes, nodes)),
        ((0, genes), (0, genes)),
    ]
    lists = [
        torch.from_numpy(np.stack([rng.integers(*src, count), rng.integers(*dst, count)]))
        for count, (src, dst) in zip(counts, ranges)
    ]
    ids = [f"n{i:07d}" for i in range(nodes)]
    types = ["gene"] * genes + ["term"] * (nodes - genes)
    return RelationGraph(ids, types, ["annotated_to", "is_a", "interacts_with"], lists)


def synthetic_cohort(patients: int, features: int, seed: int) -> tuple[Any, Any]:
    """A :class:`gnn.FusionBatch` of one fully observed modality and binary labels."""
    import torch

    from gnn import FusionBatch

    rng = np.random.default_rng(seed + 1)
    values = rng.standard_normal((patients, features), dtype=np.float32)
    score = values[:, :SIGNAL_GENES].sum(axis=1) + rng.normal(0.0, 1.0, patients)
    x = torch.from_numpy(values)
    batch = FusionBatch(
        {"mRNA": x},
        {"mRNA": torch.ones(patients, features, dtype=torch.bool)},
        torch.ones(patients, 1, dtype=torch.bool),
    )
    return batch, torch.from_numpy((score > 0).astype(np.int64))


def worker(args: argparse.Namespace) -> None:
    """One measurement (one rank of it): writes ``args.out.rank<r>.json``."""
    import torch

    from fusion.models.tensors import resolve_device
    from gnn import KGFusionNet, init_distributed, world
    from gnn.training import TrainConfig, train_model

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    init_distributed(device)
    rank, world_size = world()
    patients = args.patients[0]  # one size per worker
    genes = args.genes
    graph = synthetic_graph(args.nodes, args.edges, genes, args.seed).to(device)
    batch, target = synthetic_cohort(patients, args.features, args.seed)
    n_val = patients // 5
    train, val = torch.arange(n_val, patients), torch.arange(n_val)
    torch.manual_seed(args.seed)
    feature_nodes = torch.arange(args.features).masked_fill(
        torch.arange(args.features) >= genes, -1
    )
    net = KGFusionNet(graph, {"mRNA": feature_nodes}, 2).to(device)
    parts = [(batch[i].to(device), target[i].to(device)) for i in (train, val)]
    data_mb = (
        sum(
            t.numel() * t.element_size() for t in (*batch.values.values(), *batch.observed.values())
        )
        / 2**20
    )
    del batch, target
    before = _status_kb("VmRSS")
    _reset_peak()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    config = TrainConfig(
        max_epochs=args.epochs,
        patience=args.epochs,
        batch_size=args.batch_size,
        eval_batch_size=args.eval_batch_size,
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    train_model(net, parts[0], parts[1], torch.nn.functional.cross_entropy, config, seed=args.seed)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = _status_kb("VmHWM")
    row = {
        "rank": rank,
        "world_size": world_size,
        "epoch_s": seconds / args.epochs,
        "cpu_s": cpu / args.epochs,
        "data_mb": data_mb,
        "rss_mb": peak / 1024,
        "work_mb": (peak - before) / 1024,
        "gpu_mb": torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else 0.0,
    }
    Path(f"{args.out}.rank{rank}.json").write_text(json.dumps(row))


def graph_genes(args: argparse.Namespace, nodes: int) -> int:
    """Gene nodes of a KG of ``nodes`` nodes: ``--features`` at ``--nodes``, the same share of
    the nodes in the KG-size sweep (at most ``--features``, at least the signal genes)."""
    return max(SIGNAL_GENES, min(args.features, round(args.features * nodes / args.nodes)))


def measure(args: argparse.Namespace, patients: int, nodes: int, nproc: int) -> dict[str, Any]:
    """Run one measurement in fresh processes; the row of the slowest / largest rank."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "row"
        options = [
            "--worker", "--out", str(out), "--patients", str(patients), "--nodes", str(nodes),
            "--edges", str(round(args.edges * nodes / args.nodes)), "--features", str(args.features),
            "--genes", str(graph_genes(args, nodes)),
            "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
            "--eval-batch-size", str(args.eval_batch_size),
            "--threads", str(args.threads), "--device", args.device, "--seed", str(args.seed),
        ]  # fmt: skip
        script = [str(Path(__file__).resolve()), *options]
        launch = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            str(nproc),
        ]
        command = [*launch, *script] if nproc > 1 else [sys.executable, *script]
        subprocess.run(command, check=True)
        ranks = [json.loads(p.read_text()) for p in sorted(Path(folder).glob("row.rank*.json"))]
    return {
        "processes": nproc,
        "nodes": nodes,
        "edges": round(args.edges * nodes / args.nodes),
        "genes": graph_genes(args, nodes),
        "patients": patients,
        "epoch_s": max(r["epoch_s"] for r in ranks),
        "cpu_s": max(r["cpu_s"] for r in ranks),
        "ms_per_patient": 1000 * max(r["epoch_s"] for r in ranks) / patients,
        "data_mb": ranks[0]["data_mb"],
        "rss_mb": max(r["rss_mb"] for r in ranks),
        "work_mb": max(r["work_mb"] for r in ranks),
        "gpu_mb": max(r["gpu_mb"] for r in ranks),
        "load": load_average(),
    }


def summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per process count: the memory slopes in patients, the spread of work_mb, the speed-up."""
    out = []
    for nproc in sorted({r["processes"] for r in rows}):
        mine = [r for r in rows if r["processes"] == nproc]
        x = np.array([r["patients"] for r in mine]) / 1000
        slope = {
            k: float(np.polyfit(x, [r[k] for r in mine], 1)[0]) if len(mine) > 1 else 0.0
            for k in ("rss_mb", "work_mb")
        }
        work = [r["work_mb"] for r in mine]
        single = {r["patients"]: r["epoch_s"] for r in rows if r["processes"] == 1}
        speedups = [single[r["patients"]] / r["epoch_s"] for r in mine if r["patients"] in single]
        out.append({
            "processes": nproc,
            "rss_mb_per_1k_patients": slope["rss_mb"],
            "work_mb_per_1k_patients": slope["work_mb"],
            "work_mb_spread": (max(work) - min(work)) / min(work),
            "speedup_vs_1": ", ".join(f"{s:.2f}" for s in speedups),
        })  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke sizes (seconds)")
    parser.add_argument(
        "--patients",
        type=int,
        nargs="*",
        default=[1000, 5000, 10000, 50000],
        help="cohort sizes (none: the KG-size sweep only)",
    )
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument(
        "--edges", type=int, default=1_000_000, help="edges at --nodes (scaled with the sweep)"
    )
    parser.add_argument("--features", type=int, default=20_000, help="genes measured (linked)")
    parser.add_argument("--nproc", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--kg-sweep", type=int, nargs="*", default=[10_000, 50_000, 100_000])
    parser.add_argument("--sweep-patients", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--eval-batch-size", type=int, default=256, help="patients per validation chunk"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--genes", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    results: dict[str, Any] = {
        "options": {k: v for k, v in vars(args).items() if k not in ("worker", "out", "json")},
        "load_before": load_average(),
        "rows": [],
        "sweep": [],
    }
    print(f"load average before: {results['load_before']:.2f}", flush=True)

    def record(part: str, row: dict[str, Any]) -> None:
        results[part].append(row)
        print(f"measured: {json.dumps(row)}", flush=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))

    for nproc in args.nproc:
        for patients in args.patients:
            record("rows", measure(args, patients, args.nodes, nproc))
    if results["rows"]:
        results["summary"] = summary(results["rows"])
        print_table(results["rows"])
        print()
        print_table(results["summary"])
    if args.kg_sweep:
        print(f"\nKG-size sweep at {args.sweep_patients} patients, 1 process:")
        for nodes in args.kg_sweep:
            record("sweep", measure(args, args.sweep_patients, nodes, 1))
        print_table(results["sweep"])
    results["load_after"] = load_average()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print(f"\nload average after: {results['load_after']:.2f}")


if __name__ == "__main__":
    main()
