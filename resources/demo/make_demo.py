#!/usr/bin/env python3
"""Write the demo patients: small synthetic GRCh38 VCFs with KNOWN diplotypes.

    python resources/demo/make_demo.py [--outdir DIR]     (default: this folder)

Every genotype is built from pgx's embedded panel (``resources/definitions/*.yaml``, loaded with
``pgx.definitions.load_definitions()``): each designed haplotype is a named allele, and the VCF
carries, at every defined position of every VCF-callable gene, the base that allele has there
(the reference base where the allele does not define the position). So the demo follows the
panel: after a change to the panel, re-run this script and commit its outputs (tests/test_demo.py
fails until the committed files match what this script writes).

Outputs (deterministic, no dates):
  DEMO001.vcf.gz ... DEMO006.vcf.gz (+ .tbi)   one patient each, bgzipped and tabix-indexed
  DEMO002.outside_calls.tsv                    CYP2D6 and HLA-B calls from "other tools"
  expected.tsv                                 sample, gene, diplotype, status, note: what
                                               `pgx call` must report for every gene

The patients:
  DEMO001  all genes normal (GRCh38 reference; CYP2C19 *1/*1, the common normal haplotype)
  DEMO002  CYP2C19 *2/*17, CYP2C9 *1/*3, SLCO1B1 *1/*5; CYP2D6 and HLA-B from outside calls
  DEMO003  DPYD c.1905+1G>A (*2A) heterozygous; TPMT *1/*3A from unphased genotypes; a novel
           CYP2C9 missense (p.Glu147Val) outside every definition (flagged once annotated)
  DEMO004  male: G6PD A- 202A_376G hemizygous (haploid chrX genotypes); UGT1A1 *28/*28
  DEMO005  missing data: CYP2C19 *1/*2 with 2 positions absent, one ./. and one failing FILTER
           (status partial, missing positions listed); NAT2 with a required position absent
           (status not_called) and one low-quality genotype (GQ 12, DP 5) that the workflow's
           `pgx filter --preset wgs_default` sets missing
  DEMO006  phased genotypes (|): CYP3A5 *3/*3, NUDT15 *1/*3, TPMT *3B/*3C in trans (the same two
           variants as DEMO003, but phase shows they are on different copies); MT-RNR1 m.1555A>G
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
try:
    import pgx  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(HERE.parents[1]))

import pysam  # noqa: E402

from pgx.calling.encode import expand_allele  # noqa: E402
from pgx.definitions import load_definitions  # noqa: E402
from pgx.definitions.model import GeneDefinition  # noqa: E402

# GRCh38 primary-assembly lengths (NCBI assembly report) of the contigs the panel uses.
GRCH38_LENGTHS = {
    "chr1": 248956422, "chr2": 242193529, "chr3": 198295559, "chr4": 190214555,
    "chr5": 181538259, "chr6": 170805979, "chr7": 159345973, "chr8": 145138636,
    "chr9": 138394717, "chr10": 133797422, "chr11": 135086622, "chr12": 133275309,
    "chr13": 114364328, "chr14": 107043718, "chr15": 101991189, "chr16": 90338345,
    "chr17": 83257441, "chr18": 80373285, "chr19": 58617616, "chr20": 64444167,
    "chr21": 46709983, "chr22": 50818468, "chrX": 156040895, "chrY": 57227415, "chrM": 16569,
}
CONTIG_ORDER = list(GRCH38_LENGTHS)

# The usual normal-function haplotype where it is not the GRCh38 reference allele: CYP2C19 *38
# is the reference sequence, but *1 (c.991A>G) is the common normal allele.
NORMAL_ALLELE = {"CYP2C19": "*1"}


@dataclass
class Patient:
    sample: str
    sex: str = "F"  # "M": haploid chrX genotypes
    phased: bool = False  # write '|' genotypes
    design: dict[str, tuple[str, ...]] = field(default_factory=dict)  # gene -> allele names
    absent: dict[str, list[str]] = field(default_factory=dict)  # gene -> variant ids, no record
    nocall: dict[str, list[str]] = field(default_factory=dict)  # gene -> variant ids, ./.
    filtered: dict[str, list[str]] = field(default_factory=dict)  # gene -> ids, FILTER LowQual
    lowqual: dict[str, list[str]] = field(default_factory=dict)  # gene -> ids, GQ 12, DP 5
    outside: list[tuple[str, str, str, str]] = field(default_factory=list)  # gene, dip, ph, AS
    # records at positions no definition uses: (chrom, 1-based POS, REF, ALT, GT, what it is)
    extra: list[tuple[str, int, str, str, str, str]] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # gene -> note for expected.tsv


PATIENTS = [
    Patient("DEMO001", notes={"*": "normal reference patient"}),
    Patient(
        "DEMO002",
        design={"CYP2C19": ("*2", "*17"), "CYP2C9": ("*1", "*3"), "SLCO1B1": ("*1", "*5")},
        outside=[("CYP2D6", "*1/*4", "Intermediate Metabolizer", "1.0"),
                 ("HLA-B", "*57:01/*58:01", "", "")],
        notes={"CYP2C19": "no-function + increased-function allele",
               "CYP2C9": "no-function allele, activity score 1.0",
               "SLCO1B1": "c.521T>C carrier",
               "CYP2D6": "from the outside-calls file, not the VCF",
               "HLA-B": "from the outside-calls file, not the VCF"},
    ),
    Patient(
        "DEMO003",
        design={"DPYD": ("Reference", "c.1905+1G>A (*2A)"), "TPMT": ("*1", "*3A")},
        # a missense change no allele definition covers (GRCh38 REF A, MANE ENST00000260682
        # c.440A>T p.Glu147Val; checked with bcftools csq on ../shared/data/grch38-pgx):
        # flagged as a possible novel CYP2C9 allele once the VCF is annotated
        extra=[("chr10", 94942300, "A", "T", "0/1", "CYP2C9 novel missense p.Glu147Val")],
        notes={"DPYD": "heterozygous c.1905+1G>A: activity score 1.0",
               "TPMT": "unphased c.460G>A + c.719A>G: *1/*3A scores higher than *3B/*3C",
               "CYP2C9": "*1/*1 at the defined positions; carries a novel missense "
                         "(p.Glu147Val) outside them, flagged when the VCF is annotated"},
    ),
    Patient(
        "DEMO004", sex="M",
        design={"G6PD": ("A- 202A_376G",), "UGT1A1": ("*28", "*28")},
        notes={"G6PD": "male, hemizygous (haploid chrX genotypes)",
               "UGT1A1": "homozygous TA7 repeat (multi-allelic indel record)"},
    ),
    Patient(
        "DEMO005",
        design={"CYP2C19": ("*1", "*2")},
        absent={"CYP2C19": ["rs17882687", "rs72558186"], "NAT2": ["rs1801280"]},
        nocall={"CYP2C19": ["rs4986893"]},
        filtered={"CYP2C19": ["rs28399504"]},
        lowqual={"NAT2": ["rs1799930"]},
        notes={"CYP2C19": "2 positions absent, 1 ./., 1 FILTER LowQual: unknown, not reference",
               "NAT2": "a required core position is absent: no call (and one low-quality "
                       "genotype, set missing by the workflow's filter)"},
    ),
    Patient(
        "DEMO006", phased=True,
        design={"CYP3A5": ("*3", "*3"), "NUDT15": ("*1", "*3"), "TPMT": ("*3B", "*3C"),
                "MT-RNR1": ("m.1555A>G",)},
        notes={"CYP3A5": "phased genotypes", "NUDT15": "phased genotypes",
               "TPMT": "same variants as DEMO003, phased in trans",
               "MT-RNR1": "haploid chrM genotype"},
    ),
]
STATUS_OVERRIDE = {("DEMO005", "CYP2C19"): "partial", ("DEMO005", "NAT2"): "not_called"}


def _haploid(gene: GeneDefinition, p: Patient) -> bool:
    return gene.chrom == "chrM" or (gene.chrom in ("chrX", "chrY") and p.sex == "M")


def _alleles_for(gene: GeneDefinition, p: Patient) -> tuple[str, ...]:
    """Allele names of the patient's copies of ``gene`` (one for haploid genes)."""
    names = p.design.get(gene.gene)
    if names is None:
        normal = NORMAL_ALLELE.get(gene.gene, gene.reference_allele.name)
        names = (normal,) if _haploid(gene, p) else (normal, normal)
    if len(names) != (1 if _haploid(gene, p) else 2):
        raise SystemExit(f"{p.sample} {gene.gene}: {len(names)} allele(s) designed, expected "
                         f"{1 if _haploid(gene, p) else 2}")
    return names


def _base(gene: GeneDefinition, allele_name: str, i: int) -> str:
    """The VCF allele an allele carries at variant ``i``: its definition, else REF. An IUPAC
    code (any of several bases) becomes REF where REF is one of them, else its first ALT."""
    try:
        cell = gene.allele(allele_name).alleles[i]
    except KeyError:
        raise SystemExit(f"{gene.gene}: the panel has no allele {allele_name!r}; update "
                         f"PATIENTS in {Path(__file__).name}") from None
    v = gene.variants[i]
    if cell is None:
        return v.ref
    options = expand_allele(cell)
    return v.ref if v.ref in options else options[0]


def _ids(gene: GeneDefinition, ids: list[str], what: str) -> set[int]:
    index = {(v.rsid or v.key): i for i, v in enumerate(gene.variants)}
    missing = [x for x in ids if x not in index]
    if missing:
        raise SystemExit(f"{gene.gene}: {what} variant(s) {missing} are not in the panel")
    return {index[x] for x in ids}


def vcf_text(p: Patient, defs) -> str:
    records = []
    for gene in defs.genes.values():
        if not gene.vcf_callable:
            continue
        names = _alleles_for(gene, p)
        absent = _ids(gene, p.absent.get(gene.gene, []), "absent")
        nocall = _ids(gene, p.nocall.get(gene.gene, []), "no-call")
        filtered = _ids(gene, p.filtered.get(gene.gene, []), "filtered")
        lowqual = _ids(gene, p.lowqual.get(gene.gene, []), "low-quality")
        for i, v in enumerate(gene.variants):
            if i in absent:
                continue
            alleles = [v.ref, *v.alts]
            codes = []
            for name in names:
                b = _base(gene, name, i)
                if b not in alleles:
                    alleles.append(b)
                codes.append(str(alleles.index(b)))
            sep = "|" if p.phased else "/"
            gt = sep.join("." for _ in codes) if i in nocall else sep.join(codes)
            records.append((CONTIG_ORDER.index(v.chrom), v.position, "\t".join([
                v.chrom, str(v.position), v.rsid or ".", v.ref, ",".join(alleles[1:]) or ".",
                "60", "LowQual" if i in filtered else "PASS",
                f"DP={5 if i in lowqual else 35}", "GT:GQ:DP",
                f"{gt}:12:5" if i in lowqual else f"{gt}:99:35"])))
    for chrom, pos, ref, alt, gt, _what in p.extra:
        records.append((CONTIG_ORDER.index(chrom), pos, "\t".join([
            chrom, str(pos), ".", ref, alt, "60", "PASS", "DP=35", "GT:GQ:DP", f"{gt}:99:35"])))
    records.sort()
    used = sorted({r[0] for r in records})
    header = ["##fileformat=VCFv4.2",
              "##FILTER=<ID=PASS,Description=\"All filters passed\">",
              "##FILTER=<ID=LowQual,Description=\"Low quality (demo: a filtered call)\">",
              "##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Read depth\">",
              "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">",
              "##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"Genotype quality\">",
              "##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Read depth\">",
              *(f"##contig=<ID={CONTIG_ORDER[c]},length={GRCH38_LENGTHS[CONTIG_ORDER[c]]},"
                f"assembly=GRCh38>" for c in used),
              "##reference=GRCh38",
              f"##source=pgx resources/demo/make_demo.py (synthetic patient {p.sample})",
              "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT",
                         p.sample])]
    return "\n".join(header + [r[2] for r in records]) + "\n"


def expected_rows(p: Patient, defs) -> list[list[str]]:
    rows = []
    for gene in defs.genes.values():
        if not gene.vcf_callable:
            continue
        status = STATUS_OVERRIDE.get((p.sample, gene.gene), "called")
        dip = "" if status == "not_called" else "/".join(_alleles_for(gene, p))
        note = p.notes.get(gene.gene, "designed" if gene.gene in p.design else
                           p.notes.get("*", "normal (GRCh38 reference)"))
        rows.append([p.sample, gene.gene, dip, status, note])
    for gene, dip, _ph, _as in p.outside:
        rows.append([p.sample, gene, dip, "outside_call", p.notes.get(gene, "outside call")])
    return rows


def write_vcf_gz(text: str, path: Path) -> None:
    """bgzip + tabix index, written via a temporary file so a failure leaves no partial file."""
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        plain = Path(tmp) / (path.stem)  # DEMO001.vcf
        plain.write_text(text)
        gz = Path(tmp) / path.name
        pysam.tabix_compress(str(plain), str(gz), force=True)
        pysam.tabix_index(str(gz), preset="vcf", force=True)
        os.replace(gz, path)
        os.replace(str(gz) + ".tbi", str(path) + ".tbi")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--outdir", type=Path, default=HERE, help="output folder (default: %(default)s)")
    args = ap.parse_args(argv)
    out: Path = args.outdir
    out.mkdir(parents=True, exist_ok=True)
    defs = load_definitions()
    expected = [["sample", "gene", "diplotype", "status", "note"]]
    for p in PATIENTS:
        path = out / f"{p.sample}.vcf.gz"
        text = vcf_text(p, defs)
        write_vcf_gz(text, path)
        n = sum(1 for line in text.splitlines() if not line.startswith("#"))
        designed = ", ".join(f"{g} {'/'.join(a)}" for g, a in p.design.items()) or "all normal"
        print(f"wrote {path} ({n} records; {designed})")
        if p.outside:
            opath = out / f"{p.sample}.outside_calls.tsv"
            # a sample column, so that the file also works when several samples are called
            lines = ["sample\tgene\tdiplotype\tphenotype\tactivity_score"]
            lines += ["\t".join((p.sample, *row)) for row in p.outside]
            opath.write_text("\n".join(lines) + "\n")
            print(f"wrote {opath} ({', '.join(r[0] for r in p.outside)})")
        expected.extend(expected_rows(p, defs))
    epath = out / "expected.tsv"
    epath.write_text("".join("\t".join(r) + "\n" for r in expected))
    print(f"wrote {epath} ({len(expected) - 1} rows: sample x gene; panel {defs.source} "
          f"{defs.version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
