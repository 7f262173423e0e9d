"""The embedded default knowledge graph: a compact Reactome 2025 derivative shipped in ``kg/data``.

The files are generated from the shared data folder by :func:`generate_bundle` (run
``kgfusion kg bundle --data-dir PATH/TO/shared/data``); only sources that the data README marks
``bundle? yes`` are used: Reactome 2025 (CC0) and NCBI Gene symbols (public domain), see
``kg/data/ATTRIBUTION.md``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

from kg._source import PathLike
from kg.build import SHARED_FILES, KGConfig, Source

__all__ = ["BUNDLE_DIR", "BUNDLE_FILES", "embedded_config", "generate_bundle"]

#: Folder of the bundled files inside the installed package.
BUNDLE_DIR = Path(__file__).resolve().parent / "data"
BUNDLE_FILES = {
    "names": "reactome_pathways_human_2025-01.tsv.gz",
    "hierarchy": "reactome_hierarchy_human_2025-01.tsv.gz",
    "gmt": "reactome_lowest_human_2025-01.gmt.gz",
    "gene_info": "gene_info_reactome_genes.tsv.gz",
}


def embedded_config() -> KGConfig:
    """Sources of the embedded default graph (Reactome pathways, hierarchy and gene sets).

    Examples
    --------
    >>> [s.format for s in embedded_config().sources]
    ['reactome', 'gmt']
    """
    files = {k: BUNDLE_DIR / v for k, v in BUNDLE_FILES.items()}
    return KGConfig(
        (
            Source(files["names"], "reactome", {"hierarchy": files["hierarchy"]}),
            Source(files["gmt"], "gmt"),
        ),
        gene_info=files["gene_info"],
    )


def generate_bundle(data_dir: PathLike, out_dir: PathLike = BUNDLE_DIR) -> list[Path]:
    """Write the bundled derivative from the shared data folder; returns the files written.

    Keeps human pathways only, and of NCBI's gene table only the genes named in the gene sets
    (by symbol or alias) with the columns the normaliser needs.
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = pd.read_csv(data_dir / SHARED_FILES["reactome_names"], sep="\t", header=None, dtype=str)
    names = names[names[2] == "Homo sapiens"]
    hierarchy = pd.read_csv(
        data_dir / SHARED_FILES["reactome_hierarchy"], sep="\t", header=None, dtype=str
    )
    with gzip.open(data_dir / SHARED_FILES["reactome_gmt"], "rt") as handle:
        gmt = handle.read()
    symbols = {g for line in gmt.splitlines() for g in line.split("\t")[2:]}
    genes = pd.read_csv(data_dir / SHARED_FILES["gene_info"], sep="\t", dtype=str)
    aliases = genes["aliases"].fillna("").str.split(";")
    keep = genes["symbol"].isin(symbols) | aliases.map(lambda a: not symbols.isdisjoint(a))
    genes = genes.loc[
        keep, ["entrez_id", "symbol", "name", "gene_type", "ensembl_ids", "uniprot_ids", "aliases"]
    ]
    written = []
    for key, frame in (("names", names), ("hierarchy", hierarchy)):
        path = out_dir / BUNDLE_FILES[key]
        frame.to_csv(
            path, sep="\t", header=False, index=False, compression={"method": "gzip", "mtime": 0}
        )
        written.append(path)
    path = out_dir / BUNDLE_FILES["gmt"]
    with gzip.GzipFile(path, "wb", mtime=0) as handle:
        handle.write(gmt.encode())
    written.append(path)
    path = out_dir / BUNDLE_FILES["gene_info"]
    genes.to_csv(path, sep="\t", index=False, compression={"method": "gzip", "mtime": 0})
    written.append(path)
    return written
