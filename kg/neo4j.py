"""Write a :class:`~kg.graph.KnowledgeGraph` as CSV files for Neo4j 5's bulk importer.

``neo4j-admin database import full`` loads CSV files whose header names each column's role and
type: nodes ``id:ID(Node),name,...,obsolete:boolean,synonyms:string[],:LABEL``, relationships
``:START_ID(Node),:END_ID(Node),:TYPE,provenance``. :func:`write_neo4j` writes one node file per
node type (label: the type in CamelCase, ``go_term`` → ``GoTerm``) and one relationship file
per relation (type: the relation in upper case, ``is_a`` → ``IS_A``; the relation itself is kept
in a ``relation`` property), plus ``import.sh`` and ``IMPORT.md`` with the exact command.

CSV follows Neo4j's rules: ``,`` between fields, ``"`` around fields that hold one, a comma or
a line break, quotes inside doubled; an empty field is an absent property. Array properties are
split on the array delimiter, chosen so that no list item contains it (``;``, else ``|``, else
U+001F) and named in the command, as is ``--multiline-fields=true`` when a value holds a line
break. Node ids are plain strings in one id space (``Node``), never arrays.
"""

from __future__ import annotations

import csv
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd

from kg._source import PathLike
from kg.export import _atomic_open
from kg.graph import KnowledgeGraph

__all__ = ["NODE_HEADER", "RELATIONSHIP_HEADER", "import_command", "write_neo4j"]

#: Header of every node file (column → Neo4j header field).
NODE_HEADER: dict[str, str] = {
    "id": "id:ID(Node)",
    "name": "name",
    "namespace": "namespace",
    "provenance": "provenance",
    "obsolete": "obsolete:boolean",
    "synonyms": "synonyms:string[]",
    "xrefs": "xrefs:string[]",
    "alt_ids": "alt_ids:string[]",
    "label": ":LABEL",
}
#: Header of every relationship file.
RELATIONSHIP_HEADER: dict[str, str] = {
    "source": ":START_ID(Node)",
    "target": ":END_ID(Node)",
    "type": ":TYPE",
    "relation": "relation",
    "provenance": "provenance",
}
_LIST_COLUMNS = ("synonyms", "xrefs", "alt_ids")
_ARRAY_DELIMITERS = (";", "|", "\x1f")


def label_of(node_type: str) -> str:
    """Neo4j label of a node type.

    Examples
    --------
    >>> label_of("go_term"), label_of("gene"), label_of("ontology class")
    ('GoTerm', 'Gene', 'OntologyClass')
    """
    words = [w for w in re.split(r"[^0-9A-Za-z]+", node_type) if w]
    label = "".join(w[:1].upper() + w[1:] for w in words) or "Node"
    return label if label[0].isalpha() else f"T{label}"


def type_of(relation: str) -> str:
    """Neo4j relationship type of a relation.

    Examples
    --------
    >>> type_of("is_a"), type_of("positively_regulates"), type_of("has phenotype")
    ('IS_A', 'POSITIVELY_REGULATES', 'HAS_PHENOTYPE')
    """
    name = re.sub(r"[^0-9A-Za-z]+", "_", relation).strip("_").upper() or "RELATED_TO"
    return name if name[0].isalpha() else f"R_{name}"


def _file_names(keys: list[str], prefix: str, convert: callable) -> dict[str, str]:
    """A distinct, shell-safe file name per key (a counter where two keys map alike)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for key in keys:
        stem = f"{prefix}_{convert(key)}"
        name, i = f"{stem}.csv", 1
        while name in taken:
            i += 1
            name = f"{stem}_{i}.csv"
        taken.add(name)
        names[key] = name
    return names


def _array_delimiter(kg: KnowledgeGraph) -> str:
    items = {str(i) for c in _LIST_COLUMNS for v in kg.nodes[c] if isinstance(v, list) for i in v}
    text = "".join(items)
    return next(d for d in _ARRAY_DELIMITERS if d not in text)


def import_command(
    node_files: list[str], relationship_files: list[str], *, array_delimiter: str, multiline: bool
) -> str:
    """The ``neo4j-admin`` (Neo4j 5) command that imports the files into database ``neo4j``.

    The database name comes first: since Neo4j 5.19 a name after ``--relationships=...`` is
    taken for one more file.

    Examples
    --------
    >>> print(import_command(["nodes_gene.csv"], ["relationships_IS_A.csv"], array_delimiter=";", multiline=False))
    neo4j-admin database import full neo4j --nodes=nodes_gene.csv --relationships=relationships_IS_A.csv --array-delimiter=';'
    """
    delimiter = array_delimiter if array_delimiter != "\x1f" else "U+001F"
    parts = ["neo4j-admin", "database", "import", "full", "neo4j"]
    parts += [f"--nodes={f}" for f in node_files]
    parts += [f"--relationships={f}" for f in relationship_files]
    parts.append(f"--array-delimiter={shlex.quote(delimiter)}")  # fields: ',' and '"', the defaults
    if multiline:
        parts.append("--multiline-fields=true")
    return " ".join(parts)


def write_neo4j(kg: KnowledgeGraph, folder: PathLike) -> list[Path]:
    """Write ``kg`` as ``neo4j-admin database import full`` CSV files into ``folder``.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph to write.
    folder : str or Path
        Output folder (created); the files in it are replaced atomically.

    Returns
    -------
    list of Path
        The node files, the relationship files, ``import.sh`` and ``IMPORT.md``.

    Examples
    --------
    >>> import tempfile
    >>> from kg.schema import make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["GO:1", "GO:2"], "go_term", "go.obo", name=["root", 'a "b", c']),
    ...                     make_edges(["GO:2"], "is_a", ["GO:1"], "go.obo"))
    >>> paths = write_neo4j(kg, tempfile.mkdtemp())
    >>> [p.name for p in paths]
    ['nodes_GoTerm.csv', 'relationships_IS_A.csv', 'import.sh', 'IMPORT.md']
    >>> print(paths[0].read_text().splitlines()[2])
    GO:2,"a ""b"", c",,go.obo,false,,,,GoTerm
    """
    folder = Path(folder)
    delimiter = _array_delimiter(kg)
    nodes = kg.nodes
    types = nodes["type"].astype(object).fillna("node")
    node_names = _file_names(sorted(types.unique()), "nodes", label_of)
    relations = kg.edges["relation"]
    edge_names = _file_names(sorted(relations.unique()), "relationships", type_of)
    multiline = False
    written: list[Path] = []
    for node_type, name in node_names.items():
        part = nodes[(types == node_type).to_numpy()]
        rows = {
            "id": part.index.to_numpy(dtype=object),
            "name": part["name"].to_numpy(dtype=object),
            "namespace": part["namespace"].to_numpy(dtype=object),
            "provenance": part["provenance"].to_numpy(dtype=object),
            "obsolete": np.where(part["obsolete"].to_numpy(dtype=bool), "true", "false"),
            **{c: [_join(v, delimiter) for v in part[c]] for c in _LIST_COLUMNS},
            "label": label_of(node_type),
        }
        multiline |= _write_csv(folder / name, NODE_HEADER, pd.DataFrame(rows))
        written.append(folder / name)
    for relation, name in edge_names.items():
        part = kg.edges[(relations == relation).to_numpy()]
        rows = {
            "source": part["source"].to_numpy(dtype=object),
            "target": part["target"].to_numpy(dtype=object),
            "type": type_of(relation),
            "relation": relation,
            "provenance": part["provenance"].to_numpy(dtype=object),
        }
        multiline |= _write_csv(folder / name, RELATIONSHIP_HEADER, pd.DataFrame(rows))
        written.append(folder / name)
    command = import_command(
        list(node_names.values()),
        list(edge_names.values()),
        array_delimiter=delimiter,
        multiline=multiline,
    )
    written += _write_instructions(folder, command, kg)
    return written


def _join(value: object, delimiter: str) -> str | None:
    if not isinstance(value, list) or not value:
        return None  # an absent property (Neo4j keeps no empty arrays from CSV)
    return delimiter.join(str(v) for v in value)


def _write_csv(path: Path, header: dict[str, str], frame: pd.DataFrame) -> bool:
    """Write ``frame`` under Neo4j's header; whether a value holds a line break."""
    frame = frame[list(header)]
    text = frame.astype(object).where(frame.notna(), None)
    multiline = bool(
        any(text[c].astype(str).str.contains(r"[\r\n]", regex=True).any() for c in text.columns)
    )
    with _atomic_open(path, "w") as stream:
        writer = csv.writer(
            stream, delimiter=",", quotechar='"', doublequote=True, lineterminator="\n"
        )
        writer.writerow(header.values())
        writer.writerows(
            ["" if v is None else v for v in row] for row in text.itertuples(index=False, name=None)
        )
    return multiline


def _write_instructions(folder: Path, command: str, kg: KnowledgeGraph) -> list[Path]:
    script = folder / "import.sh"
    shown = command.replace(" --", " \\\n  --")
    with _atomic_open(script, "w") as stream:
        stream.write(
            "#!/bin/sh\n"
            "# Import these files into a new, empty Neo4j 5 database 'neo4j' (stop the DBMS first).\n"
            "# Runs neo4j-admin from $NEO4J_HOME/bin when NEO4J_HOME is set, else from PATH.\n"
            "set -eu\n"
            'cd "$(dirname "$0")"\n'
            'PATH="${NEO4J_HOME:+$NEO4J_HOME/bin:}$PATH"\n'
            f"{shown}\n"
        )
    script.chmod(0o755)
    guide = folder / "IMPORT.md"
    with _atomic_open(guide, "w") as stream:
        stream.write(
            "# Importing this knowledge graph into Neo4j 5\n\n"
            f"{kg.number_of_nodes():,} nodes in {len(kg.node_types)} label(s), "
            f"{kg.number_of_edges():,} relationships in {len(kg.relations)} type(s). "
            "Stop the DBMS, then run from this folder (or `sh import.sh`):\n\n"
            f"```sh\n{shown}\n```\n\n"
            "The database must not exist yet (a Neo4j that has run once has created `neo4j`: "
            "add `--overwrite-destination=true` to replace it). Start Neo4j afterwards; for a "
            "database other than the default, replace `neo4j` and run `CREATE DATABASE <name>` "
            "once the import is done. Node ids are the graph's CURIEs (property `id`, id space "
            "`Node`); each relationship keeps kgfusion's relation in its `relation` property.\n"
        )
    return [script, guide]
