"""Build one knowledge graph from several sources, with a content-addressed on-disk cache.

A :class:`Source` names a file, its format and reader options; :func:`build_kg` reads every
source, merges them with :func:`kg.merge.compose` and caches the result under a key made of the
sources' *content* hashes and options, so a second build of the same inputs is a fast load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import as_completed
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from kg._exceptions import KGError, ParseError, UnknownFormatError
from kg._options import option_problem
from kg._pool import worker_pool
from kg._source import PathLike, gc_paused, provenance_of, sha256_of
from kg.config_io import load_yaml
from kg.graph import KnowledgeGraph, make_edges
from kg.kgx import kgx_files, read_kgx
from kg.merge import compose
from kg.mirna_sources import read_mirna_genes, read_mirna_pathways
from kg.normalize import GeneNormalizer
from kg.obo import read_obo
from kg.rdf import read_rdf
from kg.store import FORMAT_VERSION, discard, load_kg, save_new
from kg.tables import (
    read_edge_table,
    read_gaf,
    read_gene2go,
    read_gmt,
    read_hpo_annotations,
    read_mirna_targets,
    read_reactome_pathways,
)

__all__ = [
    "READERS",
    "SHARED_FILES",
    "KGConfig",
    "Source",
    "build_kg",
    "cache_key",
    "default_cache_dir",
    "shared_sources",
]

logger = logging.getLogger(__name__)

#: Reader of each source format; readers marked in ``_NEEDS_GENES`` also get the gene normaliser.
READERS: dict[str, Callable[..., KnowledgeGraph]] = {
    "obo": read_obo,
    "rdf": read_rdf,
    "gene2go": read_gene2go,
    "gaf": read_gaf,
    "gmt": read_gmt,
    "hpo_annotations": read_hpo_annotations,
    "reactome": read_reactome_pathways,
    "mirna_targets": read_mirna_targets,
    "mirna_genes": read_mirna_genes,
    "mirna_pathways": read_mirna_pathways,
    "edges": read_edge_table,
    "kgx": read_kgx,
}
_NEEDS_GENES = {"gmt": True, "gaf": False}  # True: required, False: optional
_PATH_OPTIONS = {"hierarchy", "accessions"}  # reader options that name further input files


@dataclass(frozen=True)
class Source:
    """One input of a build: a file, its format (a key of :data:`READERS`) and reader options.

    Examples
    --------
    >>> Source("tests/data/mini.obo", "obo").format
    'obo'
    >>> Source("x.obo", "owl2")
    Traceback (most recent call last):
    ...
    kg._exceptions.UnknownFormatError: source x.obo: unknown format 'owl2'; expected one of ['edges', 'gaf', 'gene2go', 'gmt', 'hpo_annotations', 'kgx', 'mirna_genes', 'mirna_pathways', 'mirna_targets', 'obo', 'rdf', 'reactome']
    """

    path: PathLike
    format: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.format not in READERS:
            msg = f"source {self.path}: unknown format {self.format!r}; expected one of {sorted(READERS)}"
            raise UnknownFormatError(msg)
        object.__setattr__(self, "path", Path(self.path))
        problem = _option_problem(self.format, self.options)
        if problem is not None:
            key, what = problem
            raise ParseError(f"source {self.path} ({self.format}): option {key!r} {what}")

    def files(self) -> list[Path]:
        """Every file this source reads."""
        if self.format == "kgx":  # a folder: its nodes and edges files
            return list(kgx_files(self.path))
        return [Path(self.path)] + [
            Path(self.options[k]) for k in sorted(_PATH_OPTIONS & set(self.options))
        ]

    def read(self, genes: GeneNormalizer | None) -> KnowledgeGraph:
        """Run the reader."""
        options = dict(self.options)
        if self.format in _NEEDS_GENES:
            if genes is None and _NEEDS_GENES[self.format]:
                msg = f"source {self.path} ({self.format}) names genes by symbol; give gene_info to resolve them"
                raise ParseError(msg, self.path)
            options["genes"] = genes
        with gc_paused():  # also when run in a worker process
            return READERS[self.format](self.path, **options)


@dataclass(frozen=True)
class KGConfig:
    """What to build: sources, the gene table used to normalise gene ids, and the cache folder."""

    sources: tuple[Source, ...]
    gene_info: Path | None = None

    @classmethod
    def from_yaml(cls, path: PathLike) -> KGConfig:
        """Read a YAML file ``{gene_info: PATH, sources: [{path, format, options}]}``.

        Relative paths are taken relative to the YAML file's folder; ``$VARS`` are expanded.

        Raises
        ------
        ParseError
            Invalid YAML or a YAML anchor/alias (names the line; see :func:`kg.load_yaml`), an
            unknown key, a missing file (names the key).
        """
        path = Path(path)
        raw = load_yaml(path)
        return cls.from_dict({} if raw is None else raw, base=path.parent, origin=str(path))

    @classmethod
    def from_dict(
        cls, raw: Mapping[str, Any], base: PathLike = ".", origin: str = "config"
    ) -> KGConfig:
        """Validate a config mapping (unknown keys and missing files are errors naming the key)."""
        base = Path(base)
        if not isinstance(raw, Mapping):
            raise ParseError(f"expected a mapping with 'sources', got {type(raw).__name__}", origin)
        _check_keys(raw, {"sources", "gene_info"}, origin, "")
        entries = raw.get("sources")
        if not isinstance(entries, list) or not entries:
            raise ParseError(
                "'sources' must be a non-empty list of {path, format, options}", origin
            )
        sources = []
        for i, entry in enumerate(entries):
            where = f"sources[{i}]"
            if not isinstance(entry, Mapping):
                raise ParseError(f"{where} must be a mapping, got {entry!r}", origin)
            _check_keys(entry, {"path", "format", "options"}, origin, where + ".")
            if "path" not in entry or "format" not in entry:
                raise ParseError(f"{where} needs 'path' and 'format'", origin)
            options = entry.get("options") or {}
            if not isinstance(options, Mapping):
                raise ParseError(f"{where}.options must be a mapping, got {options!r}", origin)
            options = dict(options)
            problem = _option_problem(entry["format"], options)
            if problem is not None:  # named by its key here; Source would name only the file
                key, what = problem
                raise ParseError(f"{where}.options.{key} ({entry['format']}) {what}", origin)
            for key in _PATH_OPTIONS & set(options):
                options[key] = _resolve(base, options[key], origin, f"{where}.options.{key}")
            sources.append(
                Source(
                    _resolve(base, entry["path"], origin, where + ".path"), entry["format"], options
                )
            )
        gene_info = raw.get("gene_info")
        gene_info = _resolve(base, gene_info, origin, "gene_info") if gene_info else None
        return cls(tuple(sources), gene_info)


def _option_problem(fmt: str, options: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first option that ``fmt``'s reader does not take or whose value it rejects."""
    if fmt not in READERS:
        return None  # reported as an unknown format
    return option_problem(READERS[fmt], options, injected={"genes"})  # given by build_kg


def _check_keys(raw: Mapping[str, Any], allowed: set[str], origin: str, where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        msg = f"unknown key(s) {[where + k for k in unknown]}; allowed: {sorted(allowed)}"
        raise ParseError(msg, origin)


def _resolve(base: Path, value: Any, origin: str, key: str) -> Path:
    if not isinstance(value, str):
        raise ParseError(f"{key} must be a path string, got {value!r}", origin)
    path = Path(os.path.expandvars(value)).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.exists():
        raise ParseError(f"{key}: file {path} does not exist", origin)
    return path


def default_cache_dir() -> Path:
    """``$KGFUSION_CACHE`` or ``~/.cache/kgfusion``."""
    return Path(os.environ.get("KGFUSION_CACHE", Path.home() / ".cache" / "kgfusion"))


def cache_key(config: KGConfig) -> str:
    """Hash of the sources' contents, formats and options (not their paths or mtimes)."""
    parts: list[Any] = [FORMAT_VERSION, config.gene_info and sha256_of(config.gene_info)]
    for source in config.sources:
        options = {k: v for k, v in source.options.items() if k not in _PATH_OPTIONS}
        parts.append([source.format, [sha256_of(f) for f in source.files()], options])
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def build_kg(
    config: KGConfig | Sequence[Source],
    *,
    cache_dir: PathLike | None | bool = None,
    progress: bool = True,
    workers: int | None = None,
) -> KnowledgeGraph:
    """Read, merge and cache a knowledge graph.

    Sources that need no gene normaliser are read in ``workers`` processes while this process
    builds the normaliser and reads the sources that need it. Results are merged in the
    config's order, so the graph is the same whichever worker finishes first. A cache hit
    (same file contents, formats and options) loads the saved graph instead; a failed build
    caches nothing.

    Parameters
    ----------
    config : KGConfig or sequence of Source
        What to build.
    cache_dir : path, None or False
        Cache folder (default: :func:`default_cache_dir`); ``False`` disables caching.
    progress : bool
        Show a progress bar over sources (default: ``True``).
    workers : int, optional
        Worker processes reading sources; ``1`` reads everything in this process (default: one
        per CPU, at most one per source that needs no gene normaliser).

    Examples
    --------
    >>> kg = build_kg([Source("tests/data/mini.obo", "obo")], cache_dir=False, progress=False)
    >>> kg.number_of_nodes()
    3
    """
    if not isinstance(config, KGConfig):
        config = KGConfig(tuple(config))
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        msg = f"The 'workers' parameter of build_kg must be a positive int or None. Got {workers!r} instead."
        raise ValueError(msg)
    missing = [str(f) for s in config.sources for f in s.files() if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"source file(s) not found: {missing}")
    cache = (
        None if cache_dir is False else Path(cache_dir or default_cache_dir()) / cache_key(config)
    )
    if cache is not None and cache.is_dir():
        logger.info("loading cached knowledge graph %s", cache)
        try:
            return load_kg(cache)
        except (KGError, OSError, ValueError, KeyError, TypeError) as error:
            # whatever is wrong with a cache entry (load_kg names damage as a ParseError; the
            # rest would be a table that pandas cannot take apart): drop it, then rebuild
            logger.warning("dropping the unusable cache entry %s (%s); rebuilding", cache, error)
            discard(cache)
    with gc_paused():  # the build allocates millions of small acyclic objects
        kg = compose(
            _read_sources(config, workers, progress), metadata={"cache_key": cache and cache.name}
        )
        if cache is not None:
            if save_new(kg, cache):
                logger.info("cached knowledge graph %s", cache)
            else:  # a concurrent build of the same inputs saved the same graph first
                logger.info("knowledge graph %s was cached by another build meanwhile", cache)
    return kg


def _read_sources(config: KGConfig, workers: int | None, progress: bool) -> list[KnowledgeGraph]:
    """Every source's graph in config order, preceded by the gene nodes they mention."""
    sources = config.sources
    pooled = [i for i, s in enumerate(sources) if s.format not in _NEEDS_GENES]
    workers = min(len(pooled), os.cpu_count() or 1) if workers is None else workers
    pooling = workers > 1 and len(pooled) > 1
    bar = tqdm(total=len(sources), desc="reading sources", unit="source", disable=not progress)
    try:
        # an error, Ctrl-C or SIGTERM terminates the workers before it propagates (kg._pool)
        with worker_pool(workers) if pooling else nullcontext() as pool:
            futures = {i: pool.submit(sources[i].read, None) for i in pooled} if pool else {}
            genes = GeneNormalizer.from_gene_info(config.gene_info) if config.gene_info else None
            gene_nodes = genes.nodes(provenance_of(config.gene_info)) if genes else None
            graphs: dict[int, KnowledgeGraph] = {}
            for i, source in enumerate(sources):
                if i not in futures:
                    graphs[i] = source.read(genes)
                    bar.update()
            for future in as_completed(futures.values()):
                future.result()  # raises a worker's error here, as soon as it happens
                bar.update()
            graphs.update((i, future.result()) for i, future in futures.items())
    finally:
        bar.close()
    ordered = [graphs[i] for i in range(len(sources))]
    if gene_nodes is not None:
        ordered.insert(0, _mentioned_genes(gene_nodes, ordered, provenance_of(config.gene_info)))
    return ordered


def _mentioned_genes(
    gene_nodes: pd.DataFrame, graphs: Iterable[KnowledgeGraph], provenance: str
) -> KnowledgeGraph:
    """Official names, aliases and cross-references of the genes the sources mention."""
    mentioned = pd.Index([], dtype=object).append(
        [g.nodes.index[g.nodes["type"].to_numpy() == "gene"] for g in graphs]
    )
    nodes = gene_nodes[gene_nodes.index.isin(mentioned)]
    return KnowledgeGraph(nodes, make_edges([], "is_a", [], provenance), validate=False)


#: Files of the shared data folder used by :func:`shared_sources`, relative to it.
SHARED_FILES = {
    "go": "go/go-basic_2022-07-01.from_GO.db_3.16.0.obo.gz",
    "gene2go": "go/gene2go_human.tsv.gz",
    "gene_info": "go/gene_info_human.tsv.gz",
    "hpo": "hpo/hp.obo.gz",
    "hpo_genes": "hpo/genes_to_phenotype.txt.gz",
    "reactome_names": "reactome/ReactomePathways_human_2025-01-21.txt",
    "reactome_hierarchy": "reactome/ReactomePathwaysRelation_human_2025-01-14.txt",
    "reactome_gmt": "reactome/ReactomePathways_human_symbols_lowest_2025-01.gmt.gz",
    "mirtarbase": "regulatory_networks/miRTarBase_SE_WR.csv",
    "reactome_mirna": "reactome/miRBase2Reactome_human_2025-01-16.txt",
}


def shared_sources(
    data_dir: PathLike, *, mirna: bool = True, mirbase_accessions: PathLike | None = None
) -> KGConfig:
    """GO + HPO + Reactome with their human gene annotations (and miRNAs), from the shared data folder.

    GO's implicit root ``all`` is added as a placeholder node (``on_dangling="add"``).

    Parameters
    ----------
    data_dir : path
        The shared data folder (files :data:`SHARED_FILES`).
    mirna : bool
        Add miRNAs (default: ``True``): miRTarBase miRNA → target gene edges (its 2 malformed
        rows dropped, counted in the source's ``metadata["sources"]`` entry and logged with
        their line numbers) and miRNA → MIR gene edges of ``gene_info``
        (:func:`kg.read_mirna_genes`; the genes carry GO annotations, their former names
        become the miRNAs' ``alt_ids``). ``False`` builds the graph without miRNA nodes.
    mirbase_accessions : path, optional
        miRBase accession → name table (see :func:`kg.read_mirna_pathways`); when given (with
        ``mirna``), Reactome's miRNA → pathway edges are added too. The shared data holds no
        such table, so by default pathways are reached through the miRNAs' target genes.
    """
    d = Path(data_dir)
    sources = [
        Source(d / SHARED_FILES["go"], "obo", {"on_dangling": "add"}),
        Source(d / SHARED_FILES["hpo"], "obo"),
        Source(
            d / SHARED_FILES["reactome_names"],
            "reactome",
            {"hierarchy": d / SHARED_FILES["reactome_hierarchy"]},
        ),
        Source(d / SHARED_FILES["gene2go"], "gene2go"),
        Source(d / SHARED_FILES["hpo_genes"], "hpo_annotations"),
        Source(d / SHARED_FILES["reactome_gmt"], "gmt"),
    ]
    if mirna:
        sources += [
            Source(d / SHARED_FILES["mirtarbase"], "mirna_targets", {"on_invalid": "drop"}),
            Source(d / SHARED_FILES["gene_info"], "mirna_genes"),
        ]
        if mirbase_accessions is not None:
            options = {"accessions": Path(mirbase_accessions), "on_unknown": "drop"}
            sources.append(Source(d / SHARED_FILES["reactome_mirna"], "mirna_pathways", options))
    return KGConfig(tuple(sources), d / SHARED_FILES["gene_info"])
