"""``pgx positions``: the defined positions of every VCF-callable gene as VCF, BED and TSV.

Checks that every defined position appears exactly once with its REF and the definitions'
ALTs (embedded panel; PharmCAT's tables when ../shared is present), that BED spans agree with
the VCF, that REF agrees with GRCh38 (../shared/data/grch38-pgx), that bcftools reads the
files and uses them as targets/regions, that genotyping simulated reads at the positions with
the documented bcftools recipe gives full calls, and the CLI's errors and atomic writes.
"""
from __future__ import annotations

import csv
import gzip
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pgx.definitions import load_definitions
from pgx.definitions.model import DefinitionSet, GeneDefinition, NamedAllele, Variant
from pgx.definitions.positions import (bed_text, chrom_key, defined_positions, format_for,
                                       info_value, tsv_text, vcf_text, write_positions)
from pgx.errors import UsageError

from conftest import REPO, SHARED

GRCH38_DIR = SHARED / "data" / "grch38-pgx"
FASTA = GRCH38_DIR / "pgx_grch38.fa.gz"
DEMO001 = REPO / "resources" / "demo" / "DEMO001.vcf.gz"
BCFTOOLS = shutil.which("bcftools")
needs_bcftools = pytest.mark.skipif(BCFTOOLS is None, reason="bcftools not installed "
                                    "(make sysdeps installs it)")


def pgx(*args, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "pgx", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def read_text(path: Path) -> str:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt") as fh:
            return fh.read()
    return path.read_text()


def vcf_records(path: Path) -> list[dict]:
    out = []
    for line in read_text(path).splitlines():
        if line.startswith("#"):
            continue
        chrom, pos, rid, ref, alt, qual, flt, info = line.split("\t")
        fields = dict(f.split("=", 1) if "=" in f else (f, True) for f in info.split(";"))
        out.append({"chrom": chrom, "pos": int(pos), "id": rid, "ref": ref,
                    "alts": [] if alt == "." else alt.split(","), "qual": qual, "filter": flt,
                    "genes": fields["GENE"].split(","), "label": fields.get("LABEL"),
                    "poi": "POI" in fields})
    return out


@pytest.fixture(scope="module")
def embedded() -> DefinitionSet:
    return load_definitions(None)


@pytest.fixture(scope="module")
def embedded_files(tmp_path_factory) -> dict[str, Path]:
    """One run of the CLI per output kind (embedded panel)."""
    tmp = tmp_path_factory.mktemp("positions")
    files = {}
    for name in ("positions.vcf", "positions.vcf.gz", "positions.bed", "positions.tsv.gz"):
        proc = pgx("positions", "-q", "-o", tmp / name)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""
        files[name] = tmp / name
    return files


# ============================================================ every position, exactly once

def check_every_position_once(defs: DefinitionSet, records: list[dict]) -> None:
    by_key: dict[tuple, list[dict]] = {}
    for r in records:
        by_key.setdefault((r["chrom"], r["pos"], r["ref"]), []).append(r)
    assert all(len(v) == 1 for v in by_key.values()), "a (chrom, pos, REF) written twice"
    expected: dict[tuple, set[str]] = {}
    for g in defs.genes.values():
        if not g.vcf_callable:
            assert not any(g.gene in r["genes"] for r in records), g.gene
            continue
        for v in [*g.variants, *g.extra_positions]:
            key = (v.chrom, v.position, v.ref)
            assert key in by_key, f"{g.gene} {v.key} {v.ref} missing"
            rec = by_key[key][0]
            assert g.gene in rec["genes"]
            assert set(v.alts) <= set(rec["alts"]), (g.gene, v, rec)
            if v.rsid:
                assert v.rsid in rec["id"].split(";")
            expected.setdefault(key, set()).update(v.alts)
    assert set(by_key) == set(expected), "records at positions no gene defines"
    for key, alts in expected.items():
        rec = by_key[key][0]
        assert set(rec["alts"]) == alts and len(rec["alts"]) == len(alts), (key, rec)
        assert all(set(a) <= set("ACGTN") for a in rec["alts"]), rec  # never an IUPAC code
    order = [(chrom_key(r["chrom"]), r["pos"]) for r in records]
    assert order == sorted(order)


def test_embedded_panel_every_position_once(embedded, embedded_files):
    records = vcf_records(embedded_files["positions.vcf"])
    check_every_position_once(embedded, records)
    assert not any("CYP2D6" in r["genes"] for r in records)  # outside calls only
    n_variants = sum(len(g.variants) for g in embedded.genes.values() if g.vcf_callable)
    assert len([r for r in records if not r["poi"]]) == n_variants  # no shared positions here
    assert all(r["qual"] == "." and r["filter"] == "." for r in records)


def test_extra_positions_are_flagged_poi(embedded_files):
    """CYP2C9's rs12777823 (CPIC warfarin) is part of no allele: written, flagged POI."""
    poi = [r for r in vcf_records(embedded_files["positions.vcf"]) if r["poi"]]
    assert [(r["chrom"], r["pos"], r["id"], r["genes"]) for r in poi] == \
        [("chr10", 94645745, "rs12777823", ["CYP2C9"])]


def test_pharmcat_definitions_every_position_once(pharmcat_definitions, tmp_path):
    out = tmp_path / "pharmcat.vcf"
    proc = pgx("positions", "--definitions", pharmcat_definitions, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "positions of" in proc.stderr and "PharmCAT" in proc.stderr
    defs = load_definitions(pharmcat_definitions)
    check_every_position_once(defs, vcf_records(out))
    header = [x for x in out.read_text().splitlines() if x.startswith("##pgx_definitions=")]
    assert defs.version in header[0] and '"not_included":["CYP2D6"' in header[0]


def test_iupac_cells_are_not_alts(embedded):
    """CYP2C19's definitions use R/Y/M cells: the ALTs are still Variant.alts."""
    gene = embedded.genes["CYP2C19"]
    iupac = {i for a in gene.alleles for i, c in enumerate(a.alleles)
             if c and set(c) - set("ACGT")}
    assert iupac
    recs = {(p.chrom, p.pos): p for p in defined_positions(embedded)}
    for i in iupac:
        v = gene.variants[i]
        assert recs[(v.chrom, v.position)].alts == v.alts


def _toy_defs() -> DefinitionSet:
    def gene(name, chrom, variants, callable_=True, extra=()):
        ref = NamedAllele("*1", [v.ref for v in variants], reference=True)
        other = NamedAllele("*2", ["R" if i == 0 else None for i in range(len(variants))])
        return GeneDefinition(name, chrom, "GRCh38", list(variants), [ref, other], "toy", "1",
                              vcf_callable=callable_, extra_positions=list(extra))

    shared_a = Variant("chr10", 500, "G", ("A",), "rs1", "c.1G>A (*2), x=1; 5%")
    shared_b = Variant("chr10", 500, "G", ("T", "A"), "rs1", "g.500G>T")
    return DefinitionSet("toy source", "v9", None, {
        "GENEA": gene("GENEA", "chr10", [shared_a, Variant("chr10", 90, "CTT", ("C",))]),
        "GENEB": gene("GENEB", "chr10", [shared_b]),
        "GENEX": gene("GENEX", "chrX", [Variant("chrX", 7, "A", ("G",), "rs7")]),
        "GENEM": gene("GENEM", "chrM", [Variant("chrM", 1555, "A", ("G",))]),
        "GENE2": gene("GENE2", "chr2", [Variant("chr2", 1000, "T", ("C",))],
                      extra=[Variant("chr2", 5, "C", ("T",), "rs5")]),
        "OUTSIDE": gene("OUTSIDE", "chr22", [Variant("chr22", 42126578, "C", ("T",))],
                        callable_=False),
    })


def test_shared_position_is_one_record_with_all_alts_and_genes(tmp_path):
    defs = _toy_defs()
    text = vcf_text(defined_positions(defs), defs)
    (tmp_path / "toy.vcf").write_text(text)
    recs = vcf_records(tmp_path / "toy.vcf")
    assert [(r["chrom"], r["pos"]) for r in recs] == [
        ("chr2", 5), ("chr2", 1000), ("chr10", 90), ("chr10", 500), ("chrX", 7), ("chrM", 1555)]
    shared = recs[3]
    assert shared["genes"] == ["GENEA", "GENEB"] and shared["alts"] == ["A", "T"]
    assert shared["id"] == "rs1"
    assert shared["label"] == "c.1G>A_(*2)%2C_x%3D1%3B_5%25,g.500G>T"  # one per gene
    assert recs[0]["poi"] and not recs[1]["poi"]
    assert not any("OUTSIDE" in r["genes"] for r in recs) and "chr22" not in text
    assert "##contig=<ID=chr2,length=242193529>" in text
    assert "##contig=<ID=chrM,length=16569>" in text
    assert "##contig=<ID=chr22" not in text
    assert '"not_included":["OUTSIDE"]' in text


def test_info_value_escapes():
    assert info_value("a b\tc") == "a_b_c"
    assert info_value("x=1;y,z%") == "x%3D1%3By%2Cz%25"


# ============================================================ BED / TSV against the VCF

def test_bed_is_zero_based_half_open_and_agrees_with_vcf(embedded_files):
    recs = vcf_records(embedded_files["positions.vcf"])
    bed = [x.split("\t") for x in embedded_files["positions.bed"].read_text().splitlines()
           if not x.startswith("#")]
    assert len(bed) == len(recs)
    for r, (chrom, start, end, name) in zip(recs, bed):
        assert chrom == r["chrom"]
        assert int(start) == r["pos"] - 1
        assert int(end) == r["pos"] - 1 + len(r["ref"])
        where = r["id"] if r["id"] != "." else f"{r['chrom']}:{r['pos']}"
        assert name == f"{','.join(r['genes'])}:{where}"
    by_pos = {(c, int(s)): (int(e), n) for c, s, e, n in bed}
    # CYP2C9*6 c.818delA: VCF chr10:94949281 GA>G covers bases 94949281-94949282
    assert by_pos[("chr10", 94949280)] == (94949282, "CYP2C9:rs9332131")
    # NUDT15 AGGAGTC (6-bp deletion or duplication at one anchor)
    assert by_pos[("chr13", 48037781)][0] == 48037788
    assert by_pos[("chr6", 18130686)] == (18130687, "TPMT:rs1142345")  # an SNV: 1 base


def test_tsv_lists_ref_and_alts(embedded_files):
    recs = vcf_records(embedded_files["positions.vcf"])
    rows = [x.split("\t") for x in read_text(embedded_files["positions.tsv.gz"]).splitlines()]
    assert rows == [[r["chrom"], str(r["pos"]), ",".join([r["ref"], *r["alts"]])] for r in recs]
    assert ["chr2", "233760233", "CAT,C,CATAT,CATATAT"] in rows  # UGT1A1 *28 and friends


def test_writers_are_deterministic(embedded):
    ps = defined_positions(embedded)
    for fn in (vcf_text, bed_text, tsv_text):
        assert fn(ps, embedded) == fn(defined_positions(embedded), embedded)


# ============================================================ GRCh38 reference sequence

def test_ref_agrees_with_grch38(shared, embedded, tmp_path):
    """REF equals the GRCh38 bases at POS..POS+len(REF)-1 (the FASTA is real sequence over
    the gene regions and N elsewhere, see its README)."""
    if not FASTA.is_file():
        pytest.skip("../shared/data/grch38-pgx/pgx_grch38.fa.gz absent")
    import pysam

    sets = [embedded]
    pharmcat = SHARED / "oracle" / "pharmcat" / "definitions"
    if pharmcat.is_dir():
        sets.append(load_definitions(pharmcat))
    with pysam.FastaFile(str(FASTA)) as fa:
        for defs in sets:
            checked = 0
            for p in defined_positions(defs):
                seq = fa.fetch(p.chrom, p.start0, p.end0).upper()
                if set(seq) == {"N"}:  # outside the FASTA's gene regions
                    assert p.extra_only, f"{p.chrom}:{p.pos} not in the FASTA's regions"
                    continue
                assert seq == p.ref, f"{defs.source}: {p.chrom}:{p.pos} REF {p.ref} != {seq}"
                checked += 1
            assert checked >= len(defined_positions(defs)) - 1


# ============================================================ bcftools

def bcftools(*args) -> subprocess.CompletedProcess:
    return subprocess.run([BCFTOOLS, *map(str, args)], capture_output=True, text=True,
                          timeout=120)


@needs_bcftools
def test_bcftools_reads_the_vcf_without_warnings(embedded_files):
    for name in ("positions.vcf.gz", "positions.vcf"):
        proc = bcftools("view", embedded_files[name])
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        assert proc.stdout.count("\n") > 300
    # the .tbi works: a region query
    proc = bcftools("view", "-H", "-r", "chr10:94949281", embedded_files["positions.vcf.gz"])
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.split("\t")[:5] == ["chr10", "94949281", "rs9332131", "GA", "G"]
    proc = bcftools("query", "-f", "%CHROM\t%POS\t%INFO/GENE\n", "-r", "chr6:18130687",
                    embedded_files["positions.vcf.gz"])
    assert proc.stdout == "chr6\t18130687\tTPMT\n" and proc.stderr == ""


@needs_bcftools
@pytest.mark.parametrize("option,name", [("-T", "positions.vcf.gz"), ("-R", "positions.vcf.gz"),
                                         ("-R", "positions.bed"), ("-T", "positions.bed")])
def test_bcftools_targets_keep_exactly_the_demo_records_at_the_positions(
        embedded_files, option, name):
    wanted = {(r["chrom"], r["pos"]) for r in vcf_records(embedded_files["positions.vcf"])}
    demo = [x.split("\t")[:2] for x in read_text(DEMO001).splitlines() if x[0] != "#"]
    expected = [(c, int(p)) for c, p in demo if (c, int(p)) in wanted]
    assert len(expected) == len(demo)  # the demo has a record at every defined position
    proc = bcftools("view", "-H", option, embedded_files[name], DEMO001)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    kept = [(x.split("\t")[0], int(x.split("\t")[1])) for x in proc.stdout.splitlines()]
    assert kept == expected


@needs_bcftools
def test_bcftools_targets_from_pharmcat_positions(pharmcat_definitions, tmp_path):
    """PharmCAT's tables lack the embedded MT-RNR1 positions: -T keeps only their records."""
    out = tmp_path / "pc.vcf.gz"
    assert pgx("positions", "-q", "--definitions", pharmcat_definitions, "-o", out).returncode == 0
    wanted = {(r["chrom"], r["pos"]) for r in vcf_records(out)}
    demo = [x.split("\t")[:2] for x in read_text(DEMO001).splitlines() if x[0] != "#"]
    expected = [(c, int(p)) for c, p in demo if (c, int(p)) in wanted]
    assert 0 < len(expected) < len(demo)
    proc = bcftools("view", "-H", "-T", out, DEMO001)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert [(x.split("\t")[0], int(x.split("\t")[1])) for x in proc.stdout.splitlines()] \
        == expected


# ---------------------------------------------------------------- simulated reads, end to end

def _haplotype_reads(fa, chrom: str, center: int, variants: list[tuple[int, str, str]],
                     rng: random.Random, depth: int = 15, length: int = 100, flank: int = 150):
    """Error-free reads of one haplotype around ``center``: (start0, sequence, cigar).
    ``variants``: (pos, ref, alt) on this haplotype, VCF-style (indels share the anchor)."""
    lo, hi = max(1, center - flank), center + flank
    ref = fa.fetch(chrom, lo - 1, hi).upper()
    cells = []  # (reference position or None if inserted, base, reference bases deleted before)
    by_pos = {p: (r, a) for p, r, a in variants}
    i, deleted = lo, 0
    while i <= hi:
        r, a = by_pos.get(i, (ref[i - lo], ref[i - lo]))
        assert ref[i - lo: i - lo + len(r)] == r
        if len(r) == len(a):  # reference base or SNV
            assert len(r) == 1
            cells.append((i, a, deleted))
            deleted = 0
        elif len(r) == 1:  # insertion after the anchor base
            cells += [(i, a[0], deleted)] + [(None, b, 0) for b in a[1:]]
            deleted = 0
        else:  # deletion of the bases after the anchor
            assert len(a) == 1
            cells.append((i, a, deleted))
            deleted = len(r) - 1
        i += len(r)
    for _ in range(depth):
        s = rng.randrange(0, len(cells) - length)
        seg = cells[s: s + length]
        if seg[0][0] is None:
            continue
        cigar: list[list[int]] = []
        for j, (p, _, d) in enumerate(seg):
            for op, n in ((2, d if j else 0), (0 if p is not None else 1, 1)):
                if n:
                    if cigar and cigar[-1][0] == op:
                        cigar[-1][1] += n
                    else:
                        cigar.append([op, n])
        yield seg[0][0] - 1, "".join(b for _, b, _ in seg), [tuple(c) for c in cigar]


def _simulate_bam(path: Path, positions_vcf: Path, haplotypes: list[dict], sample: str) -> None:
    """A coordinate-sorted, indexed BAM of two haplotypes around every position."""
    import pysam

    from pgx.definitions.positions import contig_length

    rng, flank = random.Random(7), 150
    sites = [(r["chrom"], r["pos"]) for r in vcf_records(positions_vcf)]
    contigs = list(dict.fromkeys(c for c, _ in sites))
    header = {"HD": {"VN": "1.6", "SO": "coordinate"},
              "SQ": [{"SN": c, "LN": contig_length(c)} for c in contigs],
              "RG": [{"ID": "rg1", "SM": sample}]}
    reads = []
    with pysam.FastaFile(str(FASTA)) as fa:
        for chrom, pos in sites:
            if set(fa.fetch(chrom, pos - 1, pos).upper()) == {"N"}:
                continue
            for hap in haplotypes:
                near = [(p, r, a) for (c, p), (r, a) in hap.items()
                        if c == chrom and abs(p - pos) < flank - 10]
                for read in _haplotype_reads(fa, chrom, pos, near, rng, flank=flank):
                    reads.append((contigs.index(chrom), *read))
    reads.sort(key=lambda x: (x[0], x[1]))
    with pysam.AlignmentFile(str(path), "wb", header=header) as bam:
        for k, (tid, start, seq, cigar) in enumerate(reads):
            a = pysam.AlignedSegment(bam.header)
            a.query_name, a.reference_id, a.reference_start = f"r{k}", tid, start
            a.query_sequence, a.cigartuples, a.mapping_quality = seq, cigar, 60
            a.query_qualities = pysam.qualitystring_to_array("I" * len(seq))
            a.set_tag("RG", "rg1")
            bam.write(a)
    pysam.index(str(path))


@needs_bcftools
def test_documented_bcftools_recipe_gives_full_calls(shared, tmp_path):
    """Simulated reads of a *1/*6 (CYP2C9, a deletion), *1/*7 (CYP3A5, an insertion),
    *1/*3C (TPMT, an SNV) patient, genotyped with `pgx positions --help`'s bcftools
    commands: every gene called, no missing position. The same reads called variant-only
    (`bcftools call -mv`) give partial calls: the reason the verb exists."""
    if not FASTA.is_file():
        pytest.skip("../shared/data/grch38-pgx/pgx_grch38.fa.gz absent")
    panel = tmp_path / "panel"
    panel.mkdir()
    for gene in ("CYP2C9", "CYP3A5", "TPMT"):
        shutil.copy(REPO / "resources" / "definitions" / f"{gene}.yaml", panel)
    positions = tmp_path / "positions.vcf.gz"
    assert pgx("positions", "-q", "--definitions", panel, "-o", positions).returncode == 0
    bam = tmp_path / "SIM1.bam"
    _simulate_bam(bam, positions, [
        {("chr6", 18130687): ("T", "C"), ("chr7", 99652770): ("T", "TA")},  # *3C, *7
        {("chr10", 94949281): ("GA", "G")},                                  # *6
    ], "SIM1")

    def genotype(call_args: list[str], out: Path) -> dict[str, dict]:
        vcf = tmp_path / f"{out.name}.vcf.gz"
        pile = subprocess.run(
            f"{BCFTOOLS} mpileup -f {FASTA} -R {positions} -a AD,DP -Ou {bam} | "
            f"{BCFTOOLS} call {' '.join(call_args)} -Oz -o {vcf}",
            shell=True, capture_output=True, text=True, timeout=120)
        assert pile.returncode == 0, pile.stderr
        proc = pgx("call", "-q", "--definitions", panel, "-o", out, vcf)
        assert proc.returncode == 0, proc.stderr
        with open(out / "calls.tsv") as fh:
            return {r["gene"]: r for r in csv.DictReader(fh, delimiter="\t")}

    calls = genotype(["-m"], tmp_path / "full")
    assert {g: (c["diplotype"], c["status"], c["missing_positions"]) for g, c in calls.items()} \
        == {"CYP2C9": ("*1/*6", "called", ""), "CYP3A5": ("*1/*7", "called", ""),
            "TPMT": ("*1/*3C", "called", "")}
    variant_only = genotype(["-mv"], tmp_path / "variant_only")
    assert {c["status"] for c in variant_only.values()} == {"partial"}


# ============================================================ CLI: help, errors, atomicity

def test_help_documents_the_genotyping_commands():
    proc = pgx("positions", "--help")
    assert proc.returncode == 0
    for text in ("bcftools mpileup -f ref.fa -R positions.vcf.gz", "bcftools call -m",
                 "gatk HaplotypeCaller", "--alleles positions.vcf.gz", "-L positions.vcf.gz",
                 "0-based half-open", "-C alleles", "examples:"):
        assert text in proc.stdout, text
    assert "positions" in pgx("--help").stdout


def test_format_from_extension():
    assert format_for("a/p.vcf.gz", None) == "vcf"
    assert format_for("p.VCF", None) == "vcf"
    assert format_for("p.bed", None) == "bed"
    assert format_for("p.tsv.gz", None) == "tsv"
    assert format_for("p.txt", "tsv") == "tsv"  # an unknown extension with --format
    for path, fmt in (("p.txt", None), ("p.vcf.gz", "bed"), ("p.bed", "vcf")):
        with pytest.raises(UsageError):
            format_for(path, fmt)


@pytest.mark.parametrize("args,code,words", [
    (["--format", "xml", "-o", "{d}/p.vcf"], 2, "invalid choice"),
    (["-o", "{d}/positions.txt"], 2, "--format vcf|bed|tsv"),
    (["--format", "bed", "-o", "{d}/p.vcf.gz"], 2, "name the file .bed"),
    (["-o", "{d}"], 2, "is a directory"),
    (["--definitions", "{d}/none", "-o", "{d}/p.vcf"], 3, "--definitions directory not found"),
    (["--definitions", "{d}", "-o", "{d}/p.vcf"], 3, "no allele definitions"),
])
def test_bad_usage_and_input_exit_codes_and_write_nothing(tmp_path, args, code, words):
    proc = pgx("positions", *[a.format(d=tmp_path) for a in args])
    assert proc.returncode == code, proc.stderr
    assert words in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("pgx positions: error:") and (code == 2 or len(lines) == 1)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_nothing_behind(embedded, tmp_path, monkeypatch):
    """An error while indexing (after the data was written): no OUT, no .tbi, no temporary,
    and the directories it created are removed again."""
    import pgx.definitions.positions as positions

    def fail(path, fmt):
        assert Path(path).exists()  # the temporary data file was complete
        raise UsageError("simulated failure")

    monkeypatch.setattr(positions, "_index", fail)
    out = tmp_path / "new" / "dir" / "positions.vcf.gz"
    with pytest.raises(UsageError):
        write_positions(out, "vcf", defined_positions(embedded), embedded)
    assert list(tmp_path.iterdir()) == []


def test_rewrite_replaces_the_old_files(embedded, tmp_path):
    out = tmp_path / "positions.vcf.gz"
    (tmp_path / "positions.vcf.gz").write_text("old")
    written = write_positions(out, "vcf", defined_positions(embedded), embedded)
    assert written == [out, Path(str(out) + ".tbi")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["positions.vcf.gz",
                                                          "positions.vcf.gz.tbi"]
    assert read_text(out).startswith("##fileformat=VCFv4.2\n##source=pgx ")
