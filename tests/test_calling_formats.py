"""Calling through real files: formats, contig naming, representation, phase, ploidy, missing data.

Every test writes real VCF text, converts it with htslib tools (bgzip, tabix, bcftools) where the
test is about a format, and runs the calling stage on the files: ``call_vcfs`` with phenotype
assignment and the real output writers (``calls.tsv`` and per-sample JSON text), or ``pgx call``.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pgx.calling.caller import call_vcfs
from pgx.calling.output import output_files
from pgx.cli import main
from pgx.definitions.embedded import load_embedded
from pgx.definitions.model import DefinitionSet
from pgx.io.vcf import VcfFile
from pgx.phenotype.assign import assign_phenotypes

PANEL = load_embedded()
GRCH38_LENGTHS = {"chr6": 170805979, "chr10": 133797422, "chr12": 133275309,
                  "chr13": 114364328, "chrX": 156040895, "chrM": 16569}
HTSLIB = all(shutil.which(t) for t in ("bcftools", "bgzip", "tabix"))
needs_htslib = pytest.mark.skipif(not HTSLIB, reason="bcftools/bgzip/tabix not installed")


# ============================================================================ helpers
def site_key(v) -> str:
    return v.rsid or f"{v.chrom}:{v.position}"


def panel_rows(genes: list[str], samples: dict[str, dict[str, str]]) -> list[list]:
    """One VCF row per defined position of ``genes``: [chrom, pos, id, ref, alt, filter, gts].

    ``samples[name]`` maps a site (rsID or chrom:pos) to the sample's GT (optionally with
    ``:PS``); ``"*"`` is the sample's default (``0/0`` unless given; use ``0`` for haploid)."""
    rows = []
    for g in genes:
        for v in PANEL.genes[g].variants:
            gts = [s.get(site_key(v), s.get("*", "0/0")) for s in samples.values()]
            rows.append([v.chrom, v.position, v.rsid or ".", v.ref, ",".join(v.alts), "PASS", gts])
    return rows


def write_vcf(path: Path, sample_names, rows, chr_prefix: bool = True) -> Path:
    def contig(c: str) -> str:
        if chr_prefix:
            return c
        return "MT" if c == "chrM" else c[3:]

    chroms = sorted({r[0] for r in rows}, key=list(GRCH38_LENGTHS).index)
    lines = ["##fileformat=VCFv4.2",
             '##FILTER=<ID=PASS,Description="All filters passed">',
             '##FILTER=<ID=LowQual,Description="Low quality">',
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">']
    lines += [f"##contig=<ID={contig(c)},length={GRCH38_LENGTHS[c]}>" for c in chroms]
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                            "FORMAT", *sample_names]))
    for chrom, pos, rid, ref, alt, filt, gts in sorted(
            rows, key=lambda r: (list(GRCH38_LENGTHS).index(r[0]), r[1])):
        with_ps = any(":" in g for g in gts)
        cells = [g if ":" in g or not with_ps else g + ":." for g in gts]
        lines.append("\t".join([contig(chrom), str(pos), rid, ref, alt, ".", filt, ".",
                                "GT:PS" if with_ps else "GT", *cells]))
    path.write_text("\n".join(lines) + "\n")
    return path


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def panel_of(genes) -> DefinitionSet:
    """The embedded panel restricted to ``genes`` (same definitions; fewer genes to call)."""
    return DefinitionSet(PANEL.source, PANEL.version, PANEL.path,
                         {g: PANEL.genes[g] for g in genes})


def run_calls(paths, genes, samples=None, all_candidates=False):
    """Call ``genes`` of the panel, assign phenotypes, render the outputs:
    (calls.tsv text, {sample: JSON document})."""
    defs = panel_of(genes)
    result = call_vcfs([str(p) for p in paths], defs, samples=samples,
                       all_candidates=all_candidates)
    assign_phenotypes(defs, [c for s in result.samples for c in result.calls[s]])
    files = output_files(Path("out"), result.samples, result.calls, defs, result.inputs,
                         "{sample}.calls.json")
    docs = {s: json.loads(files[Path("out") / f"{s}.calls.json"]) for s in result.samples}
    return files[Path("out") / "calls.tsv"], docs


def tsv_rows(text: str) -> dict[tuple[str, str], dict]:
    return {(r["sample"], r["gene"]): r for r in csv.DictReader(io.StringIO(text), delimiter="\t")}


def gene_doc(docs, sample, gene) -> dict:
    return next(g for g in docs[sample]["genes"] if g["gene"] == gene)


# a small cohort touching most code paths: phased/unphased hets, a PS block, a filtered and a
# no-call position, haploid chrX (male) next to diploid chrX (female), chrM, multi-allelic sites
COHORT_GENES = ["TPMT", "CYP2C19", "CYP2C9", "NUDT15", "G6PD", "MT-RNR1"]
COHORT = {
    "P1": {"rs12769205": "0|1", "rs4244285": "0|1", "rs12248560": "1|0", "rs3758581": "1|1",
           "rs1057910": "0/1", "rs1142345": "1/2", "rs5030868": "1", "rs267606617": "1",
           "chrX:*": "0", "chrM:*": "0"},
    "P2": {"rs12769205": "0|1:500", "rs4244285": "0|1:500", "rs3758581": "0/1",
           "rs1799853": "./.", "rs746071566": "1/2", "rs1050828": "0/1", "rs1050829": "0/1",
           "rs267606617": "0"},
    "P3": {"rs12248560": "1/1", "rs3758581": "1/1", "rs1800460": "0/1", "rs1142345": "0/1",
           "rs116855232": "1/1"},
}


def cohort_rows():
    samples = {}
    for name, gts in COHORT.items():
        samples[name] = {k: v for k, v in gts.items() if not k.endswith(":*")}
    rows = panel_rows(COHORT_GENES, samples)
    for r in rows:  # haploid defaults per chromosome (P1 is male; chrM is haploid for all)
        for i, name in enumerate(COHORT):
            default = COHORT[name].get(f"{r[0]}:*")
            if default is not None and r[2] not in COHORT[name]:
                r[6][i] = default
            if r[0] == "chrM" and r[2] not in COHORT[name]:
                r[6][i] = "0"
    for r in rows:
        if r[2] == "rs4986893":  # CYP2C19 *3 site: low quality in this batch
            r[5] = "LowQual"
    return rows


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """(directory, the cohort as plain VCF, its calls.tsv text)."""
    d = tmp_path_factory.mktemp("cohort")
    vcf = write_vcf(d / "cohort.vcf", list(COHORT), cohort_rows())
    return d, vcf, run_calls([vcf], COHORT_GENES)[0]


# ============================================================================ formats
@needs_htslib
def test_vcf_vcfgz_bcf_give_identical_calls(cohort):
    d, vcf, plain = cohort
    gz = d / "cohort.vcf.gz"
    with open(gz, "wb") as fh:
        subprocess.run(["bgzip", "-c", str(vcf)], stdout=fh, check=True)
    sh("tabix", "-p", "vcf", str(gz))
    bcf = d / "cohort.bcf"
    sh("bcftools", "view", "-Ob", "-o", str(bcf), str(gz))
    sh("bcftools", "index", str(bcf))
    assert VcfFile(gz).index.suffix == ".tbi" and VcfFile(bcf).index.suffix == ".csi"
    assert run_calls([gz], COHORT_GENES)[0] == plain
    assert run_calls([bcf], COHORT_GENES)[0] == plain
    rows = tsv_rows(plain)
    assert len(rows) == len(COHORT) * len(COHORT_GENES)
    # the cohort is actually called (not a file of not_called rows that trivially agree)
    assert rows[("P1", "CYP2C19")]["diplotype"] == "*2/*17"
    assert rows[("P1", "TPMT")]["diplotype"] == "*3C/*41"
    assert rows[("P2", "NUDT15")]["diplotype"] == "*6/*9"
    assert rows[("P1", "G6PD")]["diplotype"].startswith("Mediterranean")  # one allele (male)
    assert rows[("P1", "MT-RNR1")]["diplotype"] == "m.1555A>G"
    assert rows[("P1", "CYP2C19")]["missing_positions"] == "chr10:94780653"  # LowQual
    assert (rows[("P2", "CYP2C9")]["missing_positions"], rows[("P2", "CYP2C9")]["status"]) == \
        ("chr10:94942290", "partial")  # ./.


@needs_htslib
def test_chr_and_no_chr_contigs_give_identical_calls(cohort, tmp_path):
    d, vcf, plain = cohort
    bare = write_vcf(tmp_path / "nochr.vcf", list(COHORT), cohort_rows(), chr_prefix=False)
    assert "\nMT\t1555\t" in bare.read_text() and "\n10\t" in bare.read_text()
    assert run_calls([bare], COHORT_GENES)[0] == plain
    gz = tmp_path / "nochr.vcf.gz"  # indexed: region queries use the file's own contig names
    sh("bcftools", "view", "-Oz", "-o", str(gz), str(bare))
    sh("bcftools", "index", "-t", str(gz))
    assert run_calls([gz], COHORT_GENES)[0] == plain


@needs_htslib
def test_multiallelic_record_equals_split_records(tmp_path):
    # TPMT c.719A>G (*3C) / c.719A>C (*41) and the NUDT15 GAGTCG del (*9) / dup (*6): one record
    # with two ALTs each, genotypes using both ALTs, one ALT twice, and phased with another site
    samples = {
        "both": {"rs1142345": "1/2", "rs746071566": "1/2"},
        "alt2": {"rs1142345": "0/2", "rs746071566": "2/2"},
        "trans": {"rs1142345": "0|2", "rs1800460": "1|0"},
        "cis": {"rs1142345": "2|0", "rs1800460": "1|0"},
    }
    rows = panel_rows(["TPMT", "NUDT15"], samples)
    multi = write_vcf(tmp_path / "multi.vcf", list(samples), rows)
    split = tmp_path / "split.vcf"
    sh("bcftools", "norm", "-m-", "-Ov", "-o", str(split), str(multi))
    n_records = sum(1 for line in split.read_text().splitlines() if not line.startswith("#"))
    assert n_records == len(PANEL.genes["TPMT"].variants) + len(PANEL.genes["NUDT15"].variants) + 2
    got, _ = run_calls([split], ["TPMT", "NUDT15"])
    assert got == run_calls([multi], ["TPMT", "NUDT15"])[0]
    rows = tsv_rows(got)
    assert rows[("both", "TPMT")]["diplotype"] == "*3C/*41"
    assert rows[("both", "NUDT15")]["diplotype"] == "*6/*9"
    assert rows[("alt2", "TPMT")]["diplotype"] == "*1/*41"
    assert rows[("alt2", "NUDT15")]["diplotype"] == "*6/*6"
    assert rows[("trans", "TPMT")]["diplotype"] == "*3B/*41"
    assert rows[("cis", "TPMT")]["status"] == "not_called"  # *41 and *3B on one strand


@needs_htslib
@pytest.mark.parametrize("filtered", ["first", "second"])
def test_filtered_split_record_makes_the_position_missing(tmp_path, filtered):
    """Split records of one position: the filtered one must not turn into a REF allele."""
    multi = write_vcf(tmp_path / "multi.vcf", ["S"],
                      panel_rows(["TPMT"], {"S": {"rs1142345": "1/2"}}))
    split = tmp_path / "split.vcf"
    sh("bcftools", "norm", "-m-", "-Ov", "-o", str(split), str(multi))
    lines = split.read_text().splitlines()
    at = [i for i, line in enumerate(lines) if "\t18130687\t" in line]
    assert len(at) == 2
    fields = lines[at[0 if filtered == "first" else 1]].split("\t")
    fields[6] = "LowQual"
    lines[at[0 if filtered == "first" else 1]] = "\t".join(fields)
    split.write_text("\n".join(lines) + "\n")
    row, _ = _call1(split, "TPMT", sample="S")
    # the sample is *3C/*41 (Poor Metabolizer); half of that genotype failed the filter
    assert "chr6:18130687" in row["missing_positions"].split(";")
    assert row["status"] != "called"


@needs_htslib
def test_multisample_run_equals_per_sample_runs(cohort, tmp_path):
    d, vcf, plain = cohort
    together = tsv_rows(plain)
    for name in COHORT:
        single = tmp_path / f"{name}.vcf"
        sh("bcftools", "view", "-s", name, "-Ov", "-o", str(single), str(vcf))
        alone = tsv_rows(run_calls([single], COHORT_GENES)[0])
        assert alone == {k: v for k, v in together.items() if k[0] == name}, name
    # selecting one sample of the cohort file gives the same rows
    picked = tsv_rows(run_calls([vcf], COHORT_GENES, samples=["P2"])[0])
    assert picked == {k: v for k, v in together.items() if k[0] == "P2"}


# ============================================================================ phase
def _cyp2c19(tmp_path, name, gts):
    return write_vcf(tmp_path / f"{name}.vcf", ["S"], panel_rows(["CYP2C19"], {"S": gts}))


def _call1(path, gene, sample="S"):
    tsv, docs = run_calls([path], [gene])
    return tsv_rows(tsv)[(sample, gene)], gene_doc(docs, sample, gene)


def test_cis_and_trans_hets_give_different_cyp2c19_calls(tmp_path):
    # *2 = c.332-23A>G (rs12769205) + c.681G>A (rs4244285) + c.991A>G; *17 = c.-806C>T + c.991A>G
    star2 = {"rs12769205": "0|1", "rs4244285": "0|1", "rs3758581": "1|1", "*": "0|0"}
    trans, _ = _call1(_cyp2c19(tmp_path, "trans", {**star2, "rs12248560": "1|0"}), "CYP2C19")
    cis, cis_doc = _call1(_cyp2c19(tmp_path, "cis", {**star2, "rs12248560": "0|1"}), "CYP2C19")
    unphased = {k: v.replace("|", "/") for k, v in {**star2, "rs12248560": "0|1"}.items()}
    unph, _ = _call1(_cyp2c19(tmp_path, "unphased", unphased), "CYP2C19")
    assert (trans["diplotype"], trans["status"]) == ("*2/*17", "called")
    assert trans["phenotype"] == "Intermediate Metabolizer"
    # all three variants on one strand: no defined allele carries *2 and *17 together
    assert (cis["diplotype"], cis["status"], cis["phenotype"]) == ("", "not_called", "")
    assert cis_doc["reason"]
    assert (unph["diplotype"], unph["status"]) == ("*2/*17", "called")


def test_phase_sets_only_tie_positions_within_a_block(tmp_path):
    # the two *2 core SNPs on opposite strands inside one PS: no allele explains either strand;
    # in different PS blocks their relative phase is unknown, so they may share a strand (*2)
    same = {"rs12769205": "0|1:100", "rs4244285": "1|0:100", "rs3758581": "1|1:100",
            "*": "0|0:100"}
    different = {**same, "rs4244285": "1|0:200"}
    s, _ = _call1(_cyp2c19(tmp_path, "same", same), "CYP2C19")
    d, _ = _call1(_cyp2c19(tmp_path, "different", different), "CYP2C19")
    assert s["status"] == "not_called" and s["diplotype"] == ""
    assert (d["diplotype"], d["status"]) == ("*1/*2", "called")
    # without PS, '|' genotypes are one block: like the same PS
    glued = {k: v.split(":")[0] for k, v in same.items()}
    g, _ = _call1(_cyp2c19(tmp_path, "glued", glued), "CYP2C19")
    assert g["status"] == "not_called"


# ============================================================================ ploidy
def test_hemizygous_male_and_heterozygous_female_g6pd(tmp_path):
    # Mediterranean (c.563C>T, rs5030868) in a male (GT '1', haploid chrX) and a female (0/1)
    samples = {"male": {"rs5030868": "1", "*": "0"}, "female": {"rs5030868": "0/1"}}
    vcf = write_vcf(tmp_path / "g6pd.vcf", list(samples), panel_rows(["G6PD"], samples))
    tsv, docs = run_calls([vcf], ["G6PD"])
    rows = tsv_rows(tsv)
    male, female = gene_doc(docs, "male", "G6PD"), gene_doc(docs, "female", "G6PD")
    assert len(male["diplotypes"]) == 1 and len(male["diplotypes"][0]["alleles"]) == 1
    assert male["diplotypes"][0]["alleles"][0].startswith("Mediterranean")
    assert rows[("male", "G6PD")]["phenotype"] == "Deficient"
    assert rows[("male", "G6PD")]["status"] == "called"
    assert len(female["diplotypes"]) == 1
    alleles = female["diplotypes"][0]["alleles"]
    assert len(alleles) == 2 and alleles[0] == "B (reference)"
    assert alleles[1].startswith("Mediterranean")
    assert rows[("female", "G6PD")]["phenotype"] == "Variable"


def test_mt_rnr1_haploid_call(tmp_path):
    samples = {"carrier": {"rs267606617": "1", "*": "0"}, "noncarrier": {"*": "0"}}
    vcf = write_vcf(tmp_path / "mt.vcf", list(samples), panel_rows(["MT-RNR1"], samples))
    tsv, docs = run_calls([vcf], ["MT-RNR1"])
    rows = tsv_rows(tsv)
    assert rows[("carrier", "MT-RNR1")]["diplotype"] == "m.1555A>G"
    assert rows[("carrier", "MT-RNR1")]["phenotype"].lower().startswith("increased risk")
    assert rows[("noncarrier", "MT-RNR1")]["diplotype"] == "Reference"
    assert rows[("noncarrier", "MT-RNR1")]["phenotype"].lower().startswith("normal risk")


# ============================================================================ missing data
STAR2_HET = {"rs12769205": "0/1", "rs4244285": "0/1", "rs3758581": "1/1"}


@pytest.mark.parametrize("how", ["absent", "nocall", "filtered"])
def test_unusable_position_is_missing_never_reference(tmp_path, how):
    """A *1/*2 carrier whose c.681G>A (rs4244285) record is unusable: the position is listed as
    missing, the call is partial, and nothing claims a normal *1/*1 (or *38/*38)."""
    rows = panel_rows(["CYP2C19"], {"S": STAR2_HET})
    site = next(r for r in rows if r[2] == "rs4244285")
    if how == "absent":
        rows.remove(site)
    elif how == "nocall":
        site[6] = ["./."]
    else:
        site[5] = "LowQual"
    row, doc = _call1(write_vcf(tmp_path / f"{how}.vcf", ["S"], rows), "CYP2C19")
    assert row["missing_positions"] == "chr10:94781859"
    assert row["status"] in ("partial", "not_called")
    dips = row["diplotype"].split(" OR ")
    assert "*1/*1" not in dips and "*38/*38" not in dips and "*1/*38" not in dips
    assert "Normal Metabolizer" not in row["phenotype"]
    assert any("*2" in d["alleles"] for d in doc["diplotypes"])  # still a *2 carrier candidate
    assert doc["missing_positions"] == ["chr10:94781859 (rs4244285)"]


def test_missing_position_of_reference_sample_is_partial(tmp_path):
    rows = [r for r in panel_rows(["CYP2C19"], {"S": {}}) if r[2] != "rs4244285"]
    row, _ = _call1(write_vcf(tmp_path / "ref.vcf", ["S"], rows), "CYP2C19")
    assert row["status"] == "partial"  # not 'called': *2 cannot be excluded
    assert row["missing_positions"] == "chr10:94781859"
    assert "not assumed reference" in row["reason"]


# ============================================================================ undocumented ALTs
def _with_alt(rows, rsid, alt, gt):
    r = next(r for r in rows if r[2] == rsid)
    r[4], r[6] = alt, [gt]
    return rows


def test_undocumented_alt_blocks_cyp2c19(tmp_path):
    rows = _with_alt(panel_rows(["CYP2C19"], {"S": {}}), "rs4244285", "T", "0/1")
    row, doc = _call1(write_vcf(tmp_path / "u.vcf", ["S"], rows), "CYP2C19")
    assert row["status"] == "not_called" and row["diplotype"] == ""
    assert "undocumented allele T" in row["reason"] and "94781859" in row["reason"]


def test_undocumented_alt_is_reference_with_warning_for_tpmt(tmp_path):
    # TPMT policy: an ALT no allele knows (C>A where *2 is C>G) is read as REF, with a warning
    rows = _with_alt(panel_rows(["TPMT"], {"S": {}}), "rs1800462", "A", "0/1")
    row, doc = _call1(write_vcf(tmp_path / "u.vcf", ["S"], rows), "TPMT")
    assert (row["diplotype"], row["status"]) == ("*1/*1", "called")
    assert row["phenotype"] == "Normal Metabolizer"
    assert any("undocumented allele A" in w and "18143724" in w for w in doc["warnings"]), \
        doc["warnings"]


# ============================================================================ CLI
def test_cli_writes_calls_tsv_and_json(cohort, tmp_path):
    _, vcf, plain = cohort
    out = tmp_path / "out"
    assert main(["call", "-q", "-o", str(out), str(vcf)]) == 0
    rows = tsv_rows((out / "calls.tsv").read_text())
    assert {k: v for k, v in rows.items() if k[1] in COHORT_GENES} == tsv_rows(plain)
    for name in COHORT:
        doc = json.loads((out / f"{name}.calls.json").read_text())
        assert doc["sample"] == name
        assert [g["gene"] for g in doc["genes"]] == [g for (s, g) in rows if s == name]
