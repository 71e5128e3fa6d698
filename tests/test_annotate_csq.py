"""Consequence prediction (``pgx.annotate``): bcftools csq compatibility, HGVS, bad input.

* bcftools' own consequence test suite (``../shared/oracle/bcftools-csq``): every VCF with an
  expected-output file is annotated locally (compared with ``*.txt-l``, what ``bcftools csq
  -l`` must print) and haplotype-aware (``*.txt``; with samples: the per-sample, per-haplotype
  FORMAT/BCSQ translation, bcftools query's %TBCSQ), and the ``*.cmd`` runs (``-B 3``,
  ``--phase m`` with a FILTER filter, ``-C 0/1``). BCSQ items are compared after sorting, as
  the suite's ``sort-csq`` does. ``pytest -s`` prints the agreement per directory. The
  records' own ``INFO/EXP`` / ``INFO/EXPL`` annotations are compared too; where they disagree
  with the suite's expected output, ``KNOWN_EXP_DIFFERENCES`` says why (each must still occur).
* Differential tests against Debian's ``bcftools csq`` (1.16; ``compat_116=True`` makes pgx
  spell the few things 1.16 spells differently): random transcripts (both strands, 1-150 bp
  exons, 1-120 bp introns, phases, incomplete CDS, UTRs, start/stop codons split by introns)
  with random SNVs, MNPs and indels near exon boundaries, local and haplotype mode, without
  and with (phased, haploid/diploid) samples; and the 19 real pharmacogenes with the 1000
  Genomes variants (``-m slow``).
* HGVS of known pharmacogene alleles on the MANE transcripts, and of designed changes on a
  small transcript and its mirror image on the minus strand.
* Bad input: one-line :class:`~pgx.errors.InputError` naming the file/line and the fix.
* The kernels against their plain-Python references.
"""
from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pysam
import pytest

from pgx.annotate import csq_numba_fns as K
from pgx.annotate.csq import ConsequenceCaller, format_bcsq
from pgx.annotate.csq_coding import GeneticCode, translate
from pgx.annotate.csq_haplo import haplotype_consequences, translate_bitmask
from pgx.annotate.fasta import FastaReader
from pgx.annotate.gff import read_gff
from pgx.errors import InputError

BCFTOOLS = shutil.which("bcftools")

#: (directory, VCF, POS, mode) -> why the record's INFO/EXP(L) differs from the suite's
#: expected output (``*.txt``), which pgx follows
KNOWN_EXP_DIFFERENCES = {
    ("ENST00000368801", "compound-lost.vcf", 11191, "haplotype"):
        "EXP (synonymous&start_lost) predates bcftools' start_retained rule; the suite's "
        "compound-lost.txt expects start_retained",
    ("ENST00000368801", "compound-lost.vcf", 11191, "local"):
        "as in haplotype mode (the deletion is the only coding change)",
    ("ENST00000528237", "retained-stop-incomplete-cds.vcf", 14714, "local"):
        "EXP is the haplotype-aware value; bcftools -l (1.16 too) prints "
        "stop_gained&stop_retained (the local rules re-add stop_gained); no .txt-l in the suite",
}
#: expected-output files that differ from pgx, with the reason (none at present)
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {}


def _sorted_items(value: str) -> str:
    return ",".join(sorted(value.split(","))) if value not in ("", ".") else "."


def _caller(d: Path, **kw) -> ConsequenceCaller:
    return ConsequenceCaller(read_gff(d / f"{d.name}.gff"), FastaReader(d / f"{d.name}.fa"),
                             hgvs=False, **kw)


def _read_vcf(path: Path):
    lines = [line.rstrip("\n") for line in open(path)]
    head = next(line for line in lines if line.startswith("#CHROM")).split("\t")
    recs = [line.split("\t") for line in lines if line and not line.startswith("#")]
    infos = [dict(kv.split("=", 1) if "=" in kv else (kv, "") for kv in r[7].split(";"))
             for r in recs]
    ns = max(0, len(head) - 9)
    gt = phased = None
    if ns:
        calls = [[re.split(r"[|/]", r[9 + s].split(":")[0]) for s in range(ns)] for r in recs]
        P = max(len(c) for row in calls for c in row)
        gt = np.full((len(recs), ns, P), -2, np.int8)
        phased = np.zeros((len(recs), ns), bool)
        for i, row in enumerate(calls):
            for s, c in enumerate(row):
                gt[i, s, :len(c)] = [-1 if a == "." else int(a) for a in c]
                phased[i, s] = "/" not in recs[i][9 + s]
    return recs, infos, gt, phased


def _args(recs, infos):
    return ([int(r[1]) for r in recs], [r[3] for r in recs], [r[4].split(",") for r in recs],
            [int(i["END"]) if "END" in i else None for i in infos])


def _suite_outputs(d: Path, vcf: Path, mode: str, **kw) -> list[str]:
    """What pgx prints for ``vcf`` in the layout of the suite's expected-output files."""
    recs, infos, gt, phased = _read_vcf(vcf)
    pos, ref, alts, ends = _args(recs, infos)
    c = _caller(d, **kw)
    if mode == "local":
        return [c.bcsq(recs[0][0], p, r, a, e) or "." for p, r, a, e in zip(pos, ref, alts, ends)]
    res = haplotype_consequences(c, recs[0][0], pos, ref, alts, gt, phased, phase="a",
                                 ends=ends)
    if gt is None:
        return [res.bcsq(i) or "." for i in range(len(recs))]
    out = []
    for i, r in enumerate(recs):
        for s in range(gt.shape[1]):
            h = translate_bitmask(res, i, s)
            if h != (".", "."):
                out.append(f"{r[1]}\t{r[3]}\t{r[4]}\t{h[0]}\t{h[1]}")
    return out


def _expected(txt: Path, with_samples: bool) -> list[str]:
    lines = [line for line in txt.read_text().split("\n") if line.strip()]
    if with_samples:
        return lines
    return [line.split("\t")[3] for line in lines[1::2]]


def test_bcftools_suite(shared):
    root = shared / "oracle" / "bcftools-csq"
    if not root.is_dir():
        pytest.skip("bcftools csq test suite absent")
    table, found = [], set()
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        ok = n = 0
        for vcf in sorted(d.glob("*.vcf")):
            _, _, gt, _ = _read_vcf(vcf)
            for mode, suffix in (("haplotype", ".txt"), ("local", ".txt-l")):
                txt = vcf.with_suffix(suffix)
                if not txt.exists():
                    continue
                want = _expected(txt, gt is not None)
                got = _suite_outputs(d, vcf, mode)
                if gt is not None:  # one block per sample line: compare the whole file
                    want, got = ["\n".join(want)], ["\n".join(got)]
                norm = lambda x: "\t".join(_sorted_items(c) for c in x.split("\t"))  # noqa
                for k, (g, w) in enumerate(zip(got, want)):
                    n += 1
                    if norm(g) == norm(w):
                        ok += 1
                    else:
                        found.add((d.name, f"{txt.name}#{k}"))
                        print(f"  DIFF {d.name}/{txt.name} #{k}\n    pgx  {g}\n    want {w}")
                assert len(got) == len(want), f"{txt}: {len(got)} vs {len(want)} records"
        table.append((d.name, ok, n))
    # the *.cmd runs: -B 3 (ENST00000379416), --phase m + FILTER="PASS", -C 0 / -C 1
    xdh = root / "ENST00000379416"
    if xdh.is_dir():
        want = [line for line in (xdh / "compound.cmd.out").read_text().split("\n") if line]
        got = []
        for v in ("compound.del-snp", "compound.ins-del", "compound.ins-ins", "compound.ins-snp",
                  "single"):
            recs, infos, _, _ = _read_vcf(xdh / f"{v}.vcf")
            res = haplotype_consequences(_caller(xdh, brief=3), recs[0][0], *_args(recs, infos)[:3])
            got += [f"{r[1]}\t{r[3]}\t{r[4]}\t{res.bcsq(i)}" for i, r in enumerate(recs)]
        assert got == want
        table.append(("ENST00000379416 (compound.cmd)", len(got), len(want)))
    mus = root / "ENSMUST00000133836"
    if mus.is_dir():
        recs, infos, _, _ = _read_vcf(mus / "filter-problem.vcf")
        keep = [i for i, r in enumerate(recs) if r[6] == "PASS"]
        res = haplotype_consequences(_caller(mus), recs[0][0],
                                     *[[x[i] for i in keep] for x in _args(recs, infos)[:3]],
                                     phase="m")
        got = {int(recs[i][1]): res.bcsq(k) or "." for k, i in enumerate(keep)}
        want = [line.split("\t") for line in
                (mus / "filter-problem.1.cmd.out").read_text().split("\n") if line]
        assert [got.get(int(w[0]), ".") for w in want] == [w[3] for w in want]
        table.append(("ENSMUST00000133836 (filter-problem.1.cmd)", len(want), len(want)))
    hrnr = root / "ENST00000368801.2"
    if hrnr.is_dir():
        recs, infos, _, _ = _read_vcf(hrnr / "alt-gencode.vcf")
        for code, out in ((0, "alt-gencode.1.cmd.out"), (1, "alt-gencode.2.cmd.out")):
            res = haplotype_consequences(_caller(hrnr, genetic_code=code), recs[0][0],
                                         *_args(recs, infos)[:3])
            assert res.bcsq(0) == (hrnr / out).read_text().strip()
        table.append(("ENST00000368801.2 (alt-gencode.*.cmd, -C 0/1)", 2, 2))
    print("\nbcftools csq suite: records (or sample files) agreeing with the expected output")
    for name, ok, n in table:
        print(f"  {name:<48} {ok}/{n}")
    total_ok, total = sum(t[1] for t in table), sum(t[2] for t in table)
    print(f"  {'total':<48} {total_ok}/{total}")
    assert found == set(KNOWN_DIFFERENCES), sorted(found ^ set(KNOWN_DIFFERENCES))


def test_suite_exp_annotations(shared):
    """The records' own INFO/EXP (haplotype) and INFO/EXPL, else EXP (local) annotations."""
    root = shared / "oracle" / "bcftools-csq"
    if not root.is_dir():
        pytest.skip("bcftools csq test suite absent")
    found, n = set(), 0
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        for vcf in sorted(d.glob("*.vcf")):
            recs, infos, gt, phased = _read_vcf(vcf)
            if not any("EXP" in i for i in infos):
                continue
            pos, ref, alts, ends = _args(recs, infos)
            c = _caller(d)
            local = c.records(recs[0][0], pos, ref, alts, ends)
            hap = haplotype_consequences(c, recs[0][0], pos, ref, alts, gt, phased, phase="a",
                                         ends=ends)
            for i, info in enumerate(infos):
                for mode, got, exp in (("haplotype", hap.bcsq(i), info.get("EXP")),
                                       ("local", local[i].bcsq(),
                                        info.get("EXPL", info.get("EXP")))):
                    if exp is None:
                        continue
                    n += 1
                    if _sorted_items(got) != _sorted_items(exp):
                        found.add((d.name, vcf.name, pos[i], mode))
                        print(f"  EXP differs {d.name}/{vcf.name}:{pos[i]} {mode}\n"
                              f"    pgx {got}\n    EXP {exp}")
    print(f"\nINFO/EXP(L) annotations: {n - len(found)}/{n} equal")
    assert found == set(KNOWN_EXP_DIFFERENCES), sorted(found ^ set(KNOWN_EXP_DIFFERENCES))


def test_suite_vcfs_without_expected_output_run(shared):
    """VCFs kept in the suite as crash tests (e.g. failed-assert.vcf) must not fail."""
    root = shared / "oracle" / "bcftools-csq"
    if not root.is_dir():
        pytest.skip("bcftools csq test suite absent")
    n = 0
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        for vcf in sorted(d.glob("*.vcf")):
            for mode in ("local", "haplotype"):
                _suite_outputs(d, vcf, mode)
                n += 1
    assert n > 100


# --------------------------------------------------------------------------- differential
STOPS = {"TAA", "TAG", "TGA"}
_COMP = str.maketrans("ACGT", "TGCA")


def _random_case(rng: random.Random, contig: str = "chrR"):
    """A random genome (6 kb) with up to 3 transcripts and their GFF3 lines."""
    L = 6000
    seq = [rng.choice("ACGT") for _ in range(L)]
    gff, txs = ["##gff-version 3"], []
    cursor = 100
    for k in range(3):
        strand = rng.choice("+-")
        exons, p = [], cursor + rng.randint(0, 200)
        for _ in range(rng.choice([1, 2, 3, 5, 8, 12])):
            n = rng.choice([1, 2, 3, 4, 5, 7, 10, 30, 60, 100, 150])
            exons.append((p, p + n - 1))
            p += n + rng.choice([1, 2, 3, 5, 8, 10, 20, 50, 120])
        tbeg, tend = exons[0][0], exons[-1][1]
        if tend >= L - 100:
            break
        cursor = max(100, tend + (rng.randint(-300, 300) if rng.random() < 0.3 else 200))
        biotype = rng.choice(["protein_coding"] * 6 + ["lincRNA", "nonsense_mediated_decay",
                                                        "processed_transcript"])
        gff.append(f"{contig}\tt\tgene\t{tbeg + 1}\t{tend + 1}\t.\t{strand}\t.\t"
                   f"ID=gene:G{k};Name=GENE{k};biotype={biotype}")
        gff.append(f"{contig}\tt\tmRNA\t{tbeg + 1}\t{tend + 1}\t.\t{strand}\t.\t"
                   f"ID=transcript:T{k};Parent=gene:G{k};biotype={biotype}")
        tpos = [x for b, e in exons for x in range(b, e + 1)]
        if strand == "-":
            tpos = tpos[::-1]
        cds = []
        if biotype in ("protein_coding", "nonsense_mediated_decay") and len(tpos) >= 9:
            a = rng.randint(0, len(tpos) // 3)
            b = rng.randint(min(len(tpos) - 1, a + 8), len(tpos) - 1)
            if rng.random() < 0.7:
                b = a + ((b - a + 1) // 3) * 3 - 1
            cds = tpos[a:b + 1]

            def put(i, base):
                seq[cds[i]] = base if strand == "+" else base.translate(_COMP)

            def codon(i):
                return "".join(seq[g] if strand == "+" else seq[g].translate(_COMP)
                               for g in cds[i:i + 3])
            if rng.random() < 0.85:
                for i, c in enumerate("ATG"):
                    put(i, c)
            if rng.random() < 0.85 and len(cds) % 3 == 0:
                for i, c in enumerate(rng.choice(sorted(STOPS))):
                    put(len(cds) - 3 + i, c)
            for ci in range(3, len(cds) - 5, 3):  # no stop codons inside the CDS
                while codon(ci) in STOPS:
                    put(ci + 2, rng.choice("ACGT"))
            inside = set(cds)
            phase0 = rng.choice([0, 0, 0, 0, 1, 2])
            done, first = 0, True
            for eb, ee in (exons if strand == "+" else exons[::-1]):
                part = [x for x in range(eb, ee + 1) if x in inside]
                if not part:
                    continue
                if first:
                    ph = phase0 if len(part) > phase0 else 0
                    done, first = len(part) - ph, False
                else:
                    ph = (3 - done % 3) % 3
                    done += len(part)
                gff.append(f"{contig}\tt\tCDS\t{min(part) + 1}\t{max(part) + 1}\t.\t{strand}\t"
                           f"{ph}\tParent=transcript:T{k}")
            for kind, pts in (("five_prime_UTR", set(tpos[:a])),
                              ("three_prime_UTR", set(tpos[b + 1:]))):
                for eb, ee in exons:
                    part = [x for x in range(eb, ee + 1) if x in pts]
                    if part:
                        gff.append(f"{contig}\tt\t{kind}\t{min(part) + 1}\t{max(part) + 1}\t.\t"
                                   f"{strand}\t.\tParent=transcript:T{k}")
        for eb, ee in exons:
            gff.append(f"{contig}\tt\texon\t{eb + 1}\t{ee + 1}\t.\t{strand}\t.\t"
                       f"Parent=transcript:T{k}")
        txs.append((exons, cds))
    return "".join(seq), gff, txs


def _random_variants(rng: random.Random, seq: str, txs, n: int = 150):
    hot = []
    for exons, cds in txs:
        for b, e in exons:
            hot += list(range(b - 12, b + 4)) + list(range(e - 4, e + 13))
        hot += cds[:6] + cds[-6:] + cds
    hot = [h for h in hot if 20 < h < len(seq) - 40] or list(range(50, len(seq) - 50))
    out: dict = {}
    for _ in range(n):
        p, r = rng.choice(hot), rng.random()
        if r < 0.45:
            ref = seq[p]
            alt = rng.choice([c for c in "ACGT" if c != ref])
        elif r < 0.65:
            ref, alt = seq[p:p + rng.choice([1, 1, 2, 3, 4, 5, 6, 9]) + 1], seq[p]
        elif r < 0.85:
            k = rng.choice([1, 1, 2, 3, 4, 6])
            ref = seq[p]
            alt = ref + (seq[p + 1:p + 1 + k] if rng.random() < 0.5
                         else "".join(rng.choice("ACGT") for _ in range(k)))
        else:
            ref = seq[p:p + rng.choice([2, 3, 5])]
            alt = "".join(rng.choice("ACGT") for _ in range(len(ref) if r < 0.93 else 2))
            if alt == ref:
                continue
        key = (p, ref)
        if key in out:
            if alt not in out[key] and rng.random() < 0.5:
                out[key].append(alt)
            continue
        out[key] = [alt]
    return sorted((p, ref, alts) for (p, ref), alts in out.items())


def _write_case(tmp: Path, name: str, seq: str, gff, recs, gts=None, contig="chrR"):
    fa, g, v = tmp / f"{name}.fa", tmp / f"{name}.gff3", tmp / f"{name}.vcf"
    fa.write_text(f">{contig}\n" + "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60))
                  + "\n")
    pysam.faidx(str(fa))
    g.write_text("\n".join(gff) + "\n")
    head = ["##fileformat=VCFv4.2", f"##contig=<ID={contig},length={len(seq)}>"]
    cols = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
    if gts is not None:
        head.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
        cols += "\tFORMAT\t" + "\t".join(f"S{s}" for s in range(len(gts[0])))
    body = [f"{contig}\t{p + 1}\t.\t{r}\t{','.join(a)}\t.\t.\t."
            + ("\tGT\t" + "\t".join(gts[i]) if gts is not None else "")
            for i, (p, r, a) in enumerate(recs)]
    v.write_text("\n".join(head + [cols] + body) + "\n")
    return fa, g, v


def _bcftools(fa, g, v, local: bool, samples: bool):
    p = subprocess.run([BCFTOOLS, "csq", *(["-l"] if local else []), "-f", str(fa), "-g",
                        str(g), str(v)], capture_output=True, text=True)
    if p.returncode:
        return None  # bcftools 1.16 aborts on some random cases (assertion in cds_translate)
    q = subprocess.run([BCFTOOLS, "query", "-f",
                        "%INFO/BCSQ" + ("[\t%BCSQ]" if samples else "") + "\n"],
                       input=p.stdout, capture_output=True, text=True, check=True)
    return [line.split("\t") for line in q.stdout.splitlines()]


def _per_hap(items: list[str], words, s: int, j: int) -> str:
    got = [it for k, it in enumerate(items) if int(words[s]) >> (2 * k + j) & 1]
    return _sorted_items(",".join(got)) if got else "."


#: differences to Debian's bcftools 1.16 that are understood (counted, not failures)
KNOWN_116 = {
    "aa_past_stop": "a combined substitution whose peptide stops early: 1.16 compares the "
                    "reference residues past the stop with stale buffer contents (missense / "
                    "stop_lost / stop_gained differ; same amino-acid text)",
    "mnp_stop": "1.16 prints missense for a multi-base substitution that gains a stop "
                "(the suite's ENST00000360372/mnp.txt expects stop_gained)",
    "back_reference": "1.16 prints a back reference @POS through a record it has already "
                      "written and recycled, so POS can be a later record's (pgx: the "
                      "record that carries the combined consequence)",
}


def _known_116(ours: str, theirs: str) -> set | None:
    """The documented 1.16 differences that explain ``ours`` vs ``theirs`` (one BCSQ value or
    one haplotype's items), or None."""
    a, b = sorted(ours.split(",")), sorted(theirs.split(","))
    if len(a) != len(b):
        return None
    kinds = set()
    back = [x for x in a if x.startswith("@")], [y for y in b if y.startswith("@")]
    if back[0] != back[1] and len(back[0]) == len(back[1]):
        kinds.add("back_reference")
        a = [x for x in a if not x.startswith("@")]
        b = [y for y in b if not y.startswith("@")]
    for x, y in zip(a, b):
        if x == y:
            continue
        tx, ty = x.split("|", 1), y.split("|", 1)
        if len(tx) < 2 or len(ty) < 2 or tx[1:] != ty[1:]:
            return None
        ta, tb = set(tx[0].lstrip("*").split("&")), set(ty[0].lstrip("*").split("&"))
        aa = {"missense", "stop_lost", "stop_gained"}
        if (ta ^ tb) <= aa and "+" in x.rsplit("|", 1)[-1]:
            kinds.add("aa_past_stop")
        elif ta - tb == {"stop_gained"} and tb - ta <= {"missense"}:
            kinds.add("mnp_stop")
        else:
            return None
    return kinds or None


def differential(seeds, tmp_path: Path):
    """pgx (compat_116) vs bcftools on random cases: (counts, known differences, failures)."""
    counts = {"records": 0, "equal": 0, "bcftools_aborted": 0}
    known: dict[str, int] = {}
    bad = []
    for seed in seeds:
        rng = random.Random(seed)
        seq, gff, txs = _random_case(rng)
        recs = _random_variants(rng, seq, txs)
        gts = [[f"{rng.choice([0, 0, 0, 1] + ([2] if len(a) > 1 else []))}|"
                f"{rng.choice([0, 0, 0, 1])}" for _ in range(3)] + [rng.choice(["0", "1"])]
               for _, _, a in recs]
        fa, g, v = _write_case(tmp_path, f"s{seed}", seq, gff, recs)
        _, _, vs = _write_case(tmp_path, f"g{seed}", seq, gff, recs, gts)
        caller = ConsequenceCaller(read_gff(g), FastaReader(fa), hgvs=False, compat_116=True)
        pos, ref, alts = [p + 1 for p, _, _ in recs], [r for _, r, _ in recs], \
            [a for _, _, a in recs]
        G = np.full((len(recs), 4, 2), -2, np.int8)
        for i, row in enumerate(gts):
            for s, call in enumerate(row):
                al = [int(x) for x in call.split("|")]
                G[i, s, :len(al)] = al
        runs = (
            ("local", v, False, [[x.bcsq(True)] for x in caller.records("chrR", pos, ref, alts)]),
            ("haplotype", v, False, None),
            ("samples", vs, True, None),
        )
        for mode, vcf, samples, got in runs:
            exp = _bcftools(fa, g, vcf, mode == "local", samples)
            if exp is None:
                counts["bcftools_aborted"] += 1
                continue
            if got is None:
                res = haplotype_consequences(caller, "chrR", pos, ref, alts,
                                             G if samples else None,
                                             np.ones((len(recs), 4), bool) if samples else None,
                                             phase="a")
                got = []
                for i in range(len(recs)):
                    items = [e.bcsq(True) for e in res.records[i].entries]
                    row = [",".join(items)]
                    if samples:
                        words = [int(w) for w in res.fmt[i, :, 0]]
                        row += [_per_hap(items, words, s, j) for s in range(4) for j in (0, 1)]
                    got.append(row)
            for i, (o, e) in enumerate(zip(got, exp)):
                counts["records"] += 1
                theirs = [e[0] if e[0] != "." else ""]
                if samples:
                    items = theirs[0].split(",") if theirs[0] else []
                    words = [0 if w in (".", "") else int(w) for w in e[1:5]]
                    theirs += [_per_hap(items, words, s, j) for s in range(4) for j in (0, 1)]
                if [_sorted_items(x) for x in o] == [_sorted_items(x) for x in theirs]:
                    counts["equal"] += 1
                    continue
                why: set | None = set()
                for x, y in zip(o, theirs):
                    if why is not None and _sorted_items(x) != _sorted_items(y):
                        k = _known_116(x, y)
                        why = None if k is None else why | k
                if why:
                    for k in why:
                        known[k] = known.get(k, 0) + 1
                else:
                    bad.append((seed, mode, recs[i], o, theirs))
    return counts, known, bad


@pytest.mark.skipif(BCFTOOLS is None, reason="bcftools not installed")
def test_differential_random_transcripts(tmp_path):
    """pgx (compat_116) vs Debian bcftools csq on random transcripts: local (-l), haplotype
    without samples and with 4 samples (phased diploid and haploid; FORMAT/BCSQ compared per
    sample and haplotype)."""
    counts, known, bad = differential(range(24), tmp_path)
    print(f"\nrandom transcripts vs bcftools {BCFTOOLS}: {counts}, documented 1.16 "
          f"differences {known}")
    for k, n in known.items():
        print(f"  {k} ({n}): {KNOWN_116[k]}")
    for b in bad[:10]:
        print("  DIFF", b)
    assert not bad
    assert counts["equal"] > 0.99 * counts["records"]


@pytest.mark.slow
@pytest.mark.skipif(BCFTOOLS is None, reason="bcftools not installed")
def test_differential_pharmacogenes_1kgp(shared):
    """The 19 pharmacogene regions with the 3,202 1000 Genomes samples: local and haplotype
    BCSQ of every record, and each sample's FORMAT/BCSQ per haplotype, equal bcftools'."""
    from pgx.annotate.csq_io import annotate_vcf

    data, ref = shared / "data" / "1kgp-grch38", shared / "data" / "grch38-pgx"
    files = sorted(data.glob("*.vcf.gz"))
    if not files or not (ref / "pgx_grch38.fa.gz").exists():
        pytest.skip("1000 Genomes / GRCh38 pharmacogene data absent")
    fa, gff = ref / "pgx_grch38.fa.gz", ref / "pgx_mane_grch38.gff3"
    caller = ConsequenceCaller(read_gff(gff), FastaReader(fa), hgvs=False, compat_116=True)
    print("\n1000 Genomes x pharmacogenes vs bcftools 1.16 (records equal / records):")
    total = {"local": [0, 0], "haplotype": [0, 0], "format": [0, 0]}
    for f in files:
        row = []
        for mode in ("local", "haplotype"):
            ours, fmt = [], []
            for _, bcsq, m in annotate_vcf(f, caller, haplotype=mode == "haplotype"):
                ours += bcsq
                if m is not None:
                    fmt.append(m)
            p = subprocess.Popen([BCFTOOLS, "csq", *(["-l"] if mode == "local" else []), "-f",
                                  str(fa), "-g", str(gff), str(f)], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
            q = subprocess.run([BCFTOOLS, "query", "-f", "%BCSQ" + (
                "[\t%BCSQ]" if mode == "haplotype" else "") + "\n"], stdin=p.stdout,
                capture_output=True, text=True, check=True)
            theirs = [line.split("\t") for line in q.stdout.splitlines()]
            assert len(theirs) == len(ours)
            eq = sum(_sorted_items(o) == _sorted_items(t[0]) for o, t in zip(ours, theirs))
            total[mode][0] += eq
            total[mode][1] += len(ours)
            row.append(f"{mode} {eq}/{len(ours)}")
            if mode == "haplotype":
                F = np.concatenate(fmt)
                feq = 0
                for i, (o, t) in enumerate(zip(ours, theirs)):
                    items = o.split(",") if o else []
                    titems = t[0].split(",") if t[0] != "." else []
                    words = [0 if w in (".", "") else int(w) for w in t[1:]]
                    same = all(
                        _per_hap(items, F[i, :, 0], s, j) == _per_hap(titems, words, s, j)
                        for s in np.flatnonzero(F[i, :, 0] | np.array(words, np.int64))
                        for j in (0, 1))
                    feq += same
                total["format"][0] += feq
                total["format"][1] += len(ours)
                row.append(f"FORMAT/BCSQ {feq}/{len(ours)}")
        print(f"  {f.name:<16} " + "  ".join(row))
    print(f"  total {total}")
    assert all(eq == n for eq, n in total.values())


# --------------------------------------------------------------------------- HGVS
#: (chrom, POS, ALT) of known alleles on the MANE transcripts -> (gene, c., p.)
KNOWN_ALLELES = {
    ("chr10", 94781859, "A"): ("CYP2C19", "c.681G>A", "p.Pro227="),  # CYP2C19*2
    ("chr10", 94981296, "C"): ("CYP2C9", "c.1075A>C", "p.Ile359Leu"),  # CYP2C9*3
    ("chr1", 97450058, "T"): ("DPYD", "c.1905+1G>A", ""),  # DPYD*2A (splice donor)
    ("chr7", 117559590, "A"): ("CFTR", "c.1521_1523del", "p.Phe508del"),  # F508del, 3'-shifted
    ("chr6", 18130687, "C"): ("TPMT", "c.719A>G", "p.Tyr240Cys"),  # TPMT*3C
    ("chr13", 48045719, "T"): ("NUDT15", "c.415C>T", "p.Arg139Cys"),  # NUDT15*3
    ("chr22", 42128945, "T"): ("CYP2D6", "c.506-1G>A", ""),  # CYP2D6*4 (splice acceptor)
}


def test_hgvs_known_pharmacogene_alleles(shared):
    ref = shared / "data" / "grch38-pgx"
    if not (ref / "pgx_grch38.fa.gz").exists():
        pytest.skip("GRCh38 pharmacogene reference absent")
    caller = ConsequenceCaller(read_gff(ref / "pgx_mane_grch38.gff3"),
                               FastaReader(ref / "pgx_grch38.fa.gz"))
    for (chrom, pos, alt), (gene, c, p) in KNOWN_ALLELES.items():
        r = caller.fasta.fetch(chrom, pos - 1, pos + (3 if gene == "CFTR" else 0))
        (cs,) = caller.consequences(chrom, pos, r, [alt])
        got = {(x.gene, x.hgvs_c, x.hgvs_p) for x in cs}
        assert (gene, c, p) in got, (chrom, pos, got)


_F5 = "ACGTTGCAACGTTGCAACGT"
#: a designed transcript: 5'UTR CCCCCAAAAA, CDS ATG GCT GCA AAA | TGG CGC TTT TTT GGA TAA
#: (M A A K W R F F G *) split by a 25 bp GT..AG intron, 3'UTR GTGACCCCCC, 20 bp flanks
_TSEQ = (_F5 + "CCCCCAAAAA" + "ATGGCTGCAAAA" + "GTAAGT" + "C" * 17 + "AG" + "TGGCGCTTTTTTGGATAA"
         + "GTGACCCCCC" + _F5)
_TGFF = [("exon", 21, 42, "."), ("exon", 68, 95, "."), ("CDS", 31, 42, "0"),
         ("CDS", 68, 85, "0"), ("five_prime_UTR", 21, 30, "."), ("three_prime_UTR", 86, 95, ".")]
#: (POS, REF, ALT) on the + strand -> (BCSQ consequence, c., p.)
DESIGNED = {
    (35, "C", "A"): ("missense", "c.5C>A", "p.Ala2Asp"),
    (36, "T", "C"): ("synonymous", "c.6T>C", "p.Ala2="),
    (69, "G", "A"): ("stop_gained", "c.14G>A", "p.Trp5Ter"),
    (73, "CTTT", "C"): ("inframe_deletion", "c.22_24del", "p.Phe8del"),
    (73, "CT", "C"): ("frameshift", "c.24del", "p.Phe8LeufsTer4"),
    (79, "T", "TT"): ("frameshift", "c.24dup", "p.Gly9TrpfsTer?"),
    (83, "T", "C"): ("stop_lost", "c.28T>C", "p.Ter10GlnextTer?"),
    (31, "A", "G"): ("start_lost", "c.1A>G", "p.Met1?"),
    (25, "C", "G"): ("5_prime_utr", "c.-6C>G", ""),
    (90, "C", "G"): ("3_prime_utr", "c.*5C>G", ""),
    (43, "G", "A"): ("splice_donor", "c.12+1G>A", ""),
    (66, "A", "G"): ("splice_acceptor", "c.13-2A>G", ""),
    (55, "C", "T"): ("intron", "c.12+13C>T", ""),
}


def _designed(tmp_path: Path, strand: str) -> ConsequenceCaller:
    L = len(_TSEQ)
    seq = _TSEQ if strand == "+" else _TSEQ.translate(_COMP)[::-1]
    fa = tmp_path / f"t{strand}.fa"
    fa.write_text(f">chrT\n{seq}\n")
    pysam.faidx(str(fa))
    flip = (lambda a, b: (a, b)) if strand == "+" else (lambda a, b: (L + 1 - b, L + 1 - a))
    lines = [f"chrT\tx\tgene\t{flip(21, 95)[0]}\t{flip(21, 95)[1]}\t.\t{strand}\t.\t"
             f"ID=gene:G1;Name=GENEF;biotype=protein_coding",
             f"chrT\tx\tmRNA\t{flip(21, 95)[0]}\t{flip(21, 95)[1]}\t.\t{strand}\t.\t"
             f"ID=transcript:TF;Parent=gene:G1;biotype=protein_coding"]
    for kind, a, b, ph in _TGFF:
        a, b = flip(a, b)
        lines.append(f"chrT\tx\t{kind}\t{a}\t{b}\t.\t{strand}\t{ph}\tParent=transcript:TF")
    g = tmp_path / f"t{strand}.gff3"
    g.write_text("\n".join(lines) + "\n")
    return ConsequenceCaller(read_gff(g), FastaReader(fa))


def _mirror(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """The same change on the reverse-complemented contig, left-anchored as VCF wants."""
    L = len(_TSEQ)
    rc = lambda s: s.translate(_COMP)[::-1]  # noqa: E731
    if len(ref) == len(alt):
        return L + 2 - pos - len(ref), rc(ref), rc(alt)
    s0, r, a = pos, ref[1:], alt[1:]  # anchored: the change starts after the anchor base
    start = L - (s0 + len(r)) + 1  # 1-based first base after the new anchor
    mseq = _TSEQ.translate(_COMP)[::-1]
    anchor = mseq[start - 2]
    return start - 1, anchor + rc(r), anchor + rc(a)


@pytest.mark.parametrize("strand", ["+", "-"])
def test_hgvs_designed_changes(tmp_path, strand):
    """c./p. names on a designed transcript; the minus-strand mirror gives the same names."""
    caller = _designed(tmp_path, strand)
    seq = _TSEQ if strand == "+" else _TSEQ.translate(_COMP)[::-1]
    for (pos, ref, alt), (kind, c, p) in DESIGNED.items():
        if strand == "-":
            pos, ref, alt = _mirror(pos, ref, alt)
        assert seq[pos - 1:pos - 1 + len(ref)] == ref
        (cs,) = caller.consequences("chrT", pos, ref, [alt])
        hits = [x for x in cs if kind in x.types]
        assert hits, (pos, ref, alt, [x.bcsq for x in cs])
        assert (hits[0].hgvs_c, hits[0].hgvs_p) == (c, p), (pos, ref, alt)
        assert hits[0].hgvs_transcript == "TF"
    # outside the transcript: no consequence (bcftools reports no up/downstream)
    assert caller.consequences("chrT", 5, seq[4], ["A" if seq[4] != "A" else "C"]) == [[]]



# --------------------------------------------------------------------------- bad input
_GOOD_GFF = [
    "##gff-version 3",
    "chrT\tx\tgene\t21\t95\t.\t+\t.\tID=gene:G1;Name=GENEF;biotype=protein_coding",
    "chrT\tx\tmRNA\t21\t95\t.\t+\t.\tID=transcript:TF;Parent=gene:G1;biotype=protein_coding",
    "chrT\tx\texon\t21\t42\t.\t+\t.\tParent=transcript:TF",
    "chrT\tx\texon\t68\t95\t.\t+\t.\tParent=transcript:TF",
    "chrT\tx\tCDS\t31\t42\t.\t+\t0\tParent=transcript:TF",
    "chrT\tx\tCDS\t68\t85\t.\t+\t0\tParent=transcript:TF",
]


def _one_line(exc: InputError) -> str:
    msg = str(exc)
    assert "\n" not in msg
    return msg


@pytest.mark.parametrize("change, where, says", [
    (lambda g: g[:5] + [g[5].replace("transcript:TF", "transcript:NOPE")] + g[6:], 6,
     "no line of the file defines"),
    (lambda g: g[:5] + [g[5].replace("\t0\tParent", "\t.\tParent")] + g[6:], 6,
     "CDS without phase"),
    (lambda g: g[:2] + g[3:], 3, "no line of the file defines"),  # transcript removed
    (lambda g: g[:1] + g[2:], 2, "Parent=gene:G1, which no line"),  # gene removed
    (lambda g: g[:6] + [g[6].replace("\t0\tParent", "\t2\tParent")], 7, "phase should be 0"),
    (lambda g: g + ["chrT\tx\texon\t40\t50\t.\t+\t.\tParent=transcript:TF"], 8, "overlaps"),
    (lambda g: g + ["chrT\tx\texon\t90\t99\t.\t+\t.\tParent=transcript:TF"], 8, "outside"),
    (lambda g: g + ["chrT\tx\texon\t70\t60\t.\t+\t.\tParent=transcript:TF"], 8, "start 70 > end"),
    (lambda g: g + ["chrT\tx\texon\t70"], 8, "columns"),
])
def test_bad_gff(tmp_path, change, where, says):
    path = tmp_path / "bad.gff3"
    path.write_text("\n".join(change(list(_GOOD_GFF))) + "\n")
    with pytest.raises(InputError) as e:
        read_gff(path)
    msg = _one_line(e.value)
    assert msg.startswith(f"{path}:{where}: "), msg
    assert says in msg, msg


def test_bad_fasta(tmp_path):
    fa = tmp_path / "ref.fa"
    fa.write_text(">chrZ\n" + "ACGT" * 40 + "\n")
    with pytest.raises(InputError) as e:
        FastaReader(fa)  # no index
    assert "samtools faidx" in _one_line(e.value)
    pysam.faidx(str(fa))
    gff = tmp_path / "t.gff3"
    gff.write_text("\n".join(_GOOD_GFF) + "\n")
    with pytest.raises(InputError) as e:  # the models' contig chrT is not in the FASTA
        ConsequenceCaller(read_gff(gff), FastaReader(fa))
    msg = _one_line(e.value)
    assert str(gff) in msg and "'chrT'" in msg and "chrZ" in msg and "same assembly" in msg


def test_ref_disagreeing_with_fasta(tmp_path):
    caller = _designed(tmp_path, "+")
    assert _TSEQ[34] == "C"
    with pytest.raises(InputError) as e:
        caller.consequences("chrT", 35, "G", ["A"], where="in.vcf:12")
    msg = _one_line(e.value)
    assert msg.startswith("in.vcf:12: REF G at chrT:35 does not match") and "bcftools norm" in msg
    skip = ConsequenceCaller(caller.models, caller.fasta, on_ref_mismatch="skip")
    assert skip.consequences("chrT", 35, "G", ["A"]) == [[]]
    assert skip.skipped == [("chrT", 35, "G", skip.skipped[0][3])]
    assert skip.consequences("chrT", 35, "C", ["A"])[0]  # the right REF still works
    with pytest.raises(InputError) as e:  # a contig the FASTA lacks but the models have
        skip.models.contigs.append("chrQ")
        skip.models._by_chrom["chrQ"] = (1,)
        skip.consequences("chrQ", 5, "A", ["C"], where="in.vcf:3")
    assert _one_line(e.value).startswith("in.vcf:3: contig 'chrQ' is not in the reference")


def test_unphased_genotypes_need_a_phase_mode(tmp_path):
    caller = _designed(tmp_path, "+")
    gt = np.array([[[0, 1]], [[1, 0]]], np.int8)
    phased = np.array([[False], [False]])
    args = ("chrT", [35, 36], ["C", "T"], [["A"], ["C"]], gt, phased)
    with pytest.raises(InputError) as e:
        haplotype_consequences(caller, *args, phase="r", sample_names=["P1"], where="x.vcf")
    msg = _one_line(e.value)
    assert "x.vcf" in msg and "sample P1" in msg and "phase" in msg
    a = haplotype_consequences(caller, *args, phase="a")
    assert a.bcsq(0).startswith("missense") and a.bcsq(1).startswith("synonymous")
    # merge: 0/1 -> 1|1 at 35, 1/0 stays 1|0 at 36: haplotype 1 has both (combined),
    # haplotype 2 only 35
    m = caller.haplotype_consequences(*args, phase="m")
    alone, both = m.consequences(0)
    assert (alone.dna_change, both.dna_change) == ("35C>A", "35C>A+36T>C")
    assert (both.types, both.aa_change, both.hgvs_c, both.index) == (
        ["missense"], "2A>2D", "c.5C>A", 1)
    (back,) = m.consequences(1)
    assert (back.upstream, back.bcsq, format_bcsq([back]), m.bcsq(1)) == (35, "@35", "@35",
                                                                          "@35")
    # FORMAT/BCSQ: bit 2*item + haplotype
    assert m.fmt.shape == (2, 1, 1) and m.fmt[0, 0, 0] == (1 << 1) | (1 << 2)
    assert m.fmt[1, 0, 0] == 1 and translate_bitmask(m, 1, 0) == ("@35", ".")
    s = haplotype_consequences(caller, *args, phase="s")  # unphased hets skipped
    assert s.bcsq(0) == s.bcsq(1) == ""


# --------------------------------------------------------------------------- API
def test_consequences_api(tmp_path):
    caller = _designed(tmp_path, "+")
    per_alt = caller.consequences("chrT", 35, "C", ["A", "G", "CT"])
    assert [[c.types for c in alt] for alt in per_alt] == [
        [["missense"]], [["missense"]], [["frameshift"]]]
    mis = per_alt[0][0]
    assert (mis.gene, mis.transcript, mis.biotype, mis.strand, mis.aa_change, mis.dna_change,
            mis.hgvs_c, mis.hgvs_p) == ("GENEF", "TF", "protein_coding", "+", "2A>2D", "35C>A",
                                        "c.5C>A", "p.Ala2Asp")
    flat = [c for alt in per_alt for c in alt]
    assert format_bcsq(flat) == caller.bcsq("chrT", 35, "C", ["A", "G", "CT"])
    # an intron item shared by two ALTs prints once, with each ALT's own HGVS
    i1, i2 = caller.consequences("chrT", 55, "C", ["T", "G"])
    assert i1[0].index == i2[0].index and (i1[0].hgvs_c, i2[0].hgvs_c) == ("c.12+13C>T",
                                                                        "c.12+13C>G")
    assert format_bcsq(i1 + i2) == "intron|GENEF||protein_coding"
    assert format_bcsq([]) == ""
    # symbolic and '*' alleles, REF-only records
    assert caller.consequences("chrT", 35, "C", ["*"]) == [[]]
    assert caller.bcsq("chrT", 35, "C", ["<DUP>"]) == ""
    assert caller.bcsq("chrT", 35, "C", ["C"]) == ""


# --------------------------------------------------------------------------- kernels
def test_translate_kernel_matches_python():
    rng = random.Random(7)
    for table in (0, 2):
        code = GeneticCode(table)
        for _ in range(3000):
            L = rng.randint(3, 60)
            core = "".join(rng.choice("ACGTN" if rng.random() < 0.05 else "ACGT")
                           for _ in range(L))
            sref = "".join(rng.choice("ACGT") for _ in range(10)) + core + \
                "".join(rng.choice("ACGT") for _ in range(10))
            rbeg = rng.randint(0, L - 1)
            rend = rng.randint(rbeg, min(L - 2, rbeg + 9)) if rbeg <= L - 2 else rbeg
            seq = "".join(rng.choice("ACGT") for _ in range(rng.randint(0, 12)))
            dlen = len(seq) - (rend - rbeg)
            fwd, fill = rng.random() < 0.5, rng.random() < 0.4
            want = translate(code, sref, seq, L + dlen, rbeg, rbeg, rend, fwd, fill)
            got = K.translate_window(np.frombuffer(sref.encode(), np.uint8),
                                     np.frombuffer(seq.encode(), np.uint8), L + dlen, rbeg,
                                     rbeg, rend, fwd, fill, code.codes, 10)
            assert got.tobytes().decode() == want, (sref, seq, rbeg, rend, fwd, fill)


def _site_classes_reference(beg, end, tb, te, exons, pad):
    out = []
    for b, e in zip(beg, end):
        k = 0
        for t in range(len(tb)):
            if tb[t] - pad > e or te[t] + pad < b:
                continue
            k = max(k, 1)
            if not (b > tb[t] and e < te[t]) or any(eb - pad <= e and ee + pad >= b
                                                   for eb, ee in exons[t]):
                k = 2
        out.append(k)
    return out


def test_site_classes_kernel_matches_python():
    rng = random.Random(3)
    for _ in range(40):
        tb, te, exons = [], [], []
        p = 0
        for _ in range(rng.randint(1, 6)):
            p += rng.randint(-50, 200)
            p = max(p, 0)
            ex, q = [], p
            for _ in range(rng.randint(1, 5)):
                ex.append((q, q + rng.randint(0, 30)))
                q = ex[-1][1] + rng.randint(1, 60)
            tb.append(p)
            te.append(ex[-1][1])
            exons.append(ex)
        order = sorted(range(len(tb)), key=lambda i: tb[i])
        tb = [tb[i] for i in order]
        te = [te[i] for i in order]
        exons = [exons[i] for i in order]
        ptr = np.cumsum([0] + [len(x) for x in exons])
        eb = np.array([b for x in exons for b, _ in x], np.int64)
        ee = np.array([e for x in exons for _, e in x], np.int64)
        beg = np.array(sorted(rng.randint(0, max(te) + 50) for _ in range(200)), np.int64)
        end = beg + np.array([rng.randint(1, 8) for _ in beg], np.int64)
        tb_a, te_a = np.array(tb, np.int64), np.array(te, np.int64)
        lo, hi, kl = K.site_classes(beg, end, tb_a, te_a, np.maximum.accumulate(te_a),
                                    ptr.astype(np.int64), eb, ee, 8)
        assert kl.tolist() == _site_classes_reference(beg, end, tb, te, exons, 8)
        for i in range(len(beg)):  # every overlapping transcript is within lo..hi
            for t in range(len(tb)):
                if tb[t] - 8 <= end[i] and te[t] + 8 >= beg[i]:
                    assert lo[i] <= t < hi[i]


def test_kernel_and_python_paths_agree(shared):
    root = shared / "oracle" / "bcftools-csq" / "ENST00000423372"
    if not root.is_dir():
        pytest.skip("bcftools csq test suite absent")
    recs, infos, _, _ = _read_vcf(root / "snps.vcf")
    pos, ref, alts, ends = _args(recs, infos)
    a, b = _caller(root), _caller(root)
    b.use_kernels = False
    assert [a.bcsq("1", p, r, x) for p, r, x in zip(pos, ref, alts)] == \
        [b.bcsq("1", p, r, x) for p, r, x in zip(pos, ref, alts)]


def test_mane_models(shared):
    """The MANE GFF3 of ../shared/data/grch38-pgx: 21 transcripts; protein lengths as its
    README states (the CDS includes the stop codon)."""
    from pgx.annotate.hgvs import TxMap

    ref = shared / "data" / "grch38-pgx"
    if not (ref / "pgx_mane_grch38.gff3").exists():
        pytest.skip("GRCh38 pharmacogene models absent")
    models = read_gff(ref / "pgx_mane_grch38.gff3")
    assert models.n_transcripts == 21 and not models.ignored_biotypes
    caller = ConsequenceCaller(models, FastaReader(ref / "pgx_grch38.fa.gz"))
    lengths = {}
    for t in range(models.n_transcripts):
        m = TxMap(caller.tx(t))
        if m.coding:
            prot = m.protein
            assert prot.startswith("M") and prot.endswith("*") and prot.count("*") == 1
            lengths[models.gene_name[t]] = len(prot) - 1
        else:
            assert models.biotype[t] == "MT_rRNA"  # MT-RNR1
    assert {g: lengths[g] for g in ("CYP2D6", "DPYD", "TPMT", "G6PD")} == {
        "CYP2D6": 497, "DPYD": 1025, "TPMT": 245, "G6PD": 515}
    assert all(models.cds_length(t) % 3 == 0 for t in range(models.n_transcripts))
    base = caller.fasta.fetch("chrM", 999, 1000)
    assert caller.bcsq("chrM", 1000, base, ["C" if base != "C" else "T"]) == \
        "non_coding|MT-RNR1||MT_rRNA"


def test_kernels_aot_equal_jit(monkeypatch):
    """With a current ahead-of-time build (``make kernels``), the compiled kernels give the
    JIT's results."""
    from pgx import _numba

    build = next((d for d in (_numba.aot_dir(), Path(__file__).resolve().parents[1]
                              / "benchmarks" / ".cache" / "csq" / "aot")
                  if _numba.current_aot_build(d)), None)
    if build is None:
        pytest.skip("no current ahead-of-time build of the kernels (run `make kernels`)")
    monkeypatch.setenv("PGX_AOT_DIR", str(build))
    _numba._aot_exports.cache_clear()
    try:
        exports = _numba._aot_exports()
        for k in (K.site_classes, K.translate_window, K.or_bits):
            assert k.qualified_name in exports
        sref = np.frombuffer(b"ACGTACGTAC" + b"ATGGCTGCAAAATGGTAA" + b"ACGTACGTAC", np.uint8)
        seq = np.frombuffer(b"TG", np.uint8)
        code = GeneticCode(0).codes
        fn = exports[K.translate_window.qualified_name][0][0]
        for fwd in (True, False):
            args = (sref, seq, 19, 4, 4, 5, fwd, True, code, 10)
            assert fn(*args).tobytes() == K.translate_window.jit()(*args).tobytes()
        beg = np.array([5, 50, 120], np.int64)
        args = (beg, beg + 1, np.array([0, 100], np.int64), np.array([60, 200], np.int64),
                np.array([60, 200], np.int64), np.array([0, 1, 2], np.int64),
                np.array([0, 150], np.int64), np.array([10, 160], np.int64), 8)
        fn = exports[K.site_classes.qualified_name][0][0]
        for a, b in zip(fn(*args), K.site_classes.jit()(*args)):
            assert a.tolist() == b.tolist()
    finally:
        _numba._aot_exports.cache_clear()


def test_or_bits_kernel_matches_numpy():
    rng = np.random.default_rng(5)
    fmt = np.zeros((6, 9, 2), np.int32)
    rec, row = rng.integers(0, 6, 500), rng.integers(0, 9, 500)
    word, bit = rng.integers(0, 2, 500), (1 << rng.integers(0, 30, 500)).astype(np.int32)
    want = fmt.copy()
    np.bitwise_or.at(want, (rec, row, word), bit)
    K.or_bits(fmt, rec, row, word, bit)
    assert (fmt == want).all()


def test_records_batch_equals_single_records(tmp_path):
    caller = _designed(tmp_path, "+")
    pos = [25, 35, 43, 55, 56, 66, 73, 90]
    ref = [_TSEQ[p - 1] for p in pos]
    alts = [["G" if r != "G" else "T"] for r in ref]
    batch = caller.records("chrT", pos, ref, alts)
    assert [r.bcsq() for r in batch] == [caller.bcsq("chrT", p, r, a)
                                         for p, r, a in zip(pos, ref, alts)]
    per_alt = caller.to_consequences(batch[3], "chrT", pos[3], ref[3], alts[3])
    assert per_alt == caller.consequences("chrT", pos[3], ref[3], alts[3])


def test_vcf_driver_blocks_across_chunks(shared, tmp_path):
    """annotate_vcf gives the same BCSQ and FORMAT/BCSQ whatever the reader's chunk size
    (haplotype blocks are carried over chunk boundaries) and as haplotype_consequences on
    the whole file."""
    from pgx.annotate.csq_io import annotate_vcf

    ref = shared / "data" / "grch38-pgx"
    vcf = shared / "data" / "1kgp-grch38" / "TPMT.vcf.gz"
    if not vcf.exists() or not (ref / "pgx_grch38.fa.gz").exists():
        pytest.skip("1000 Genomes / GRCh38 pharmacogene data absent")
    caller = ConsequenceCaller(read_gff(ref / "pgx_mane_grch38.gff3"),
                               FastaReader(ref / "pgx_grch38.fa.gz"), hgvs=False)
    runs = []
    for chunk in (8 << 20, 1 << 20, 300 << 10):
        out = list(annotate_vcf(vcf, caller, chunk_bytes=chunk))
        runs.append(([b for _, bc, _ in out for b in bc],
                     np.concatenate([f for _, _, f in out])))
        if chunk == 300 << 10:
            assert len(out) >= 1 and sum(len(b) for b, _, _ in out) == len(runs[0][0])
    for bcsq, fmt in runs[1:]:
        assert bcsq == runs[0][0] and (fmt == runs[0][1]).all()
    local = [b for _, bc, _ in annotate_vcf(vcf, caller, haplotype=False, chunk_bytes=1 << 20)
             for b in bc]
    assert len(local) == len(runs[0][0])
    assert sum(x != y for x, y in zip(local, runs[0][0])) < 0.05 * len(local)
