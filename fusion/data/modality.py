"""The metadata of one modality: :class:`Modality` (name, kind, feature id scheme)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from fusion._exceptions import CohortError

__all__ = ["MODALITY_KINDS", "Modality", "ModalityKind"]

ModalityKind = Literal[
    "mRNA", "methylation", "miRNA", "protein", "mutation", "copy_number", "clinical",
    "image_embedding", "ehr_codes",
]  # fmt: skip
#: Every accepted :attr:`Modality.kind`.
MODALITY_KINDS: tuple[str, ...] = get_args(ModalityKind)


@dataclass(frozen=True)
class Modality:
    """Metadata of one modality: its name, data kind and feature id scheme.

    Parameters
    ----------
    name : str
        Key of the modality in its :class:`Cohort`.
    kind : str
        What the features measure, one of :data:`MODALITY_KINDS`: ``"mRNA"``, ``"methylation"``,
        ``"miRNA"``, ``"protein"``, ``"mutation"``, ``"copy_number"``, ``"clinical"``,
        ``"image_embedding"``, ``"ehr_codes"`` (``mutation``: 0/1 per gene, ``copy_number``: e.g. a log2
        ratio per gene).
    id_scheme : str, optional
        How feature names identify entities, for linking to a knowledge graph: e.g. ``"ensembl"``,
        ``"symbol"``, ``"symbol|entrez"``, ``"mirna_precursor"``, ``"mirna_mature"``,
        ``"cg_probe"``, ``"antibody"``. ``None`` when unknown (features stay unlinked).

    Examples
    --------
    >>> Modality("rna", "mRNA", "ensembl")
    Modality(name='rna', kind='mRNA', id_scheme='ensembl')
    >>> Modality.from_name("miRNA").kind
    'miRNA'
    """

    name: str
    kind: ModalityKind
    id_scheme: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            msg = f"Modality name must be a non-empty str; got {self.name!r}."
            raise CohortError(msg)
        if self.kind not in MODALITY_KINDS:
            msg = (
                f"Modality kind must be one of {MODALITY_KINDS}; got {self.kind!r} ({self.name!r})."
            )
            raise CohortError(msg)
        if self.id_scheme is not None and not isinstance(self.id_scheme, str):
            msg = f"Modality id_scheme must be a str or None; got {self.id_scheme!r}."
            raise CohortError(msg)

    @classmethod
    def from_name(cls, name: str, id_scheme: str | None = None) -> Modality:
        """A modality whose kind is its name, matched case-insensitively against the kinds.

        Raises :class:`~fusion.CohortError` when the name is not a kind: pass a
        :class:`Modality` explicitly then.
        """
        kinds = {k.lower(): k for k in MODALITY_KINDS}
        if name.lower() not in kinds:
            msg = (
                f"cannot tell the kind of modality {name!r} from its name; pass "
                f"Modality({name!r}, kind, id_scheme) with kind one of {MODALITY_KINDS}."
            )
            raise CohortError(msg)
        return cls(name, kinds[name.lower()], id_scheme)  # type: ignore[arg-type]

    @classmethod
    def parse(cls, spec: str) -> Modality:
        """A modality from ``"name"``, ``"name:kind"`` or ``"name:kind:id_scheme"``.

        Without a kind the name must be one (:meth:`from_name`); an empty id scheme means
        unknown (guessed by readers that can, e.g. :func:`~fusion.read_mogonet`).

        Examples
        --------
        >>> Modality.parse("miRNA"), Modality.parse("regions:methylation:genomic_region")
        (Modality(name='miRNA', kind='miRNA', id_scheme=None), \
Modality(name='regions', kind='methylation', id_scheme='genomic_region'))
        """
        if not isinstance(spec, str) or not spec.strip():
            msg = f"a modality spec is 'name', 'name:kind' or 'name:kind:id_scheme'; got {spec!r}."
            raise CohortError(msg)
        parts = [part.strip() for part in spec.split(":")]
        if len(parts) > 3 or not parts[0]:
            msg = f"a modality spec is 'name', 'name:kind' or 'name:kind:id_scheme'; got {spec!r}."
            raise CohortError(msg)
        if len(parts) == 1:
            return cls.from_name(parts[0])
        kinds = {k.lower(): k for k in MODALITY_KINDS}
        kind = kinds.get(parts[1].lower(), parts[1])
        scheme = parts[2] if len(parts) == 3 and parts[2] else None
        return cls(parts[0], kind, scheme)  # type: ignore[arg-type]
