"""Gene-level calling policies (``resources/gene_policies.yaml``): data, not code.

Official tables (PharmCAT's JSON, our gene YAML) describe alleles; how a gene is *called* when
data are unphased, undocumented or uncallable from a VCF is policy, kept in one file and applied
to definitions from any source.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


def _yaml_load(text):
    return yaml.load(text, Loader=_LOADER)

from pgx.resources import resource_path


@dataclass(frozen=True)
class SplitHaplotype:
    """A haplotype defined by a marker and a tag position that may be observed separately
    (DPYD HapB3): ``marker_allele`` is the name of the marker-only allele."""

    allele: str
    marker_allele: str
    marker_position: int
    tag_position: int


@lru_cache(maxsize=None)
def _policies() -> dict:
    return _yaml_load(resource_path("gene_policies.yaml").read_text()) or {}


def gene_policy(gene: str) -> dict:
    """Keyword arguments for :class:`GeneDefinition` (policy fields only)."""
    p = _policies().get(gene, {})
    split = p.get("split_haplotype")
    return {
        "vcf_callable": bool(p.get("vcf_callable", True)),
        "lowest_function": bool(p.get("lowest_function", False)),
        "undocumented_as_reference": bool(p.get("undocumented_as_reference", False)),
        "split_haplotype": SplitHaplotype(**split) if split else None,
    }


def outside_call_genes() -> dict[str, str]:
    """Genes called only from outside calls -> why."""
    return {g: " ".join(str(p.get("reason", "")).split())
            for g, p in _policies().items() if p.get("vcf_callable") is False}
