"""Seeded random VCFs and bcftools-style filter expressions for differential tests.

``random_vcf(seed, n_records, n_samples)`` -> VCF text whose records have unique IDs
``id0``, ``id1``...; ``random_expression(rng)`` -> an expression in the documented subset of
``pgx.filtering.expression``. ``vcf_texts()`` / ``expressions()`` are hypothesis strategies.
"""
from __future__ import annotations

import random

HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=q10,Description="Quality below 10">
##FILTER=<ID=LowQual,Description="Low quality">
##contig=<ID=chr1,length=100000000>
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">
##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count">
##INFO=<ID=RD,Number=R,Type=Integer,Description="Read depth per allele">
##INFO=<ID=DB,Number=0,Type=Flag,Description="dbSNP">
##INFO=<ID=MQ,Number=1,Type=Float,Description="Mapping quality">
##INFO=<ID=ANN,Number=.,Type=String,Description="Annotation">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Phred likelihoods">
"""

BASES = "ACGT"


def _alleles(rng: random.Random) -> tuple[str, list[str]]:
    kind = rng.choice(["snp", "snp", "snp", "multi", "mnp", "ins", "del", "sym", "star",
                       "none", "nonref", "mixed"])
    ref = rng.choice(BASES)
    other = lambda r: rng.choice([b for b in BASES if b != r])  # noqa: E731
    if kind == "snp":
        return ref, [other(ref)]
    if kind == "multi":
        alts = rng.sample([b for b in BASES if b != ref], rng.randint(2, 3))
        return ref, alts
    if kind == "mnp":
        ref2 = ref + rng.choice(BASES)
        return ref2, [other(ref2[0]) + other(ref2[1])]
    if kind == "ins":
        return ref, [ref + "".join(rng.choice(BASES) for _ in range(rng.randint(1, 3)))]
    if kind == "del":
        return ref + "".join(rng.choice(BASES) for _ in range(rng.randint(1, 3))), [ref]
    if kind == "sym":
        return ref, [rng.choice(["<DEL>", "<DUP>", "<INS>"])]
    if kind == "star":
        return ref, [other(ref), "*"]
    if kind == "none":
        return ref, []
    if kind == "nonref":
        return ref, [other(ref), "<*>"] if rng.random() < 0.5 else ["<*>"]
    return ref, [other(ref), ref + "T"]


def _num(rng: random.Random, lo: int, hi: int, p_missing: float = 0.1) -> str:
    return "." if rng.random() < p_missing else str(rng.randint(lo, hi))


def _float(rng: random.Random, p_missing: float = 0.1) -> str:
    if rng.random() < p_missing:
        return "."
    return rng.choice(["0", "0.1", "0.25", "0.5", "0.3", "1", "0.75", "0.05"])


def _gt(rng: random.Random, n_allele: int) -> str:
    r = rng.random()
    if r < 0.08:
        return rng.choice([".", "./.", ".|."])
    ploidy = 1 if r < 0.2 else (3 if r < 0.23 else 2)
    al = []
    for _ in range(ploidy):
        if rng.random() < 0.05:
            al.append(".")
        else:
            al.append(str(rng.choice([0, 0, min(1, n_allele - 1)] + list(range(n_allele)))))
    sep = "|" if rng.random() < 0.3 else "/"
    return sep.join(al)


def random_record(rng: random.Random, idx: int, pos: int, n_samples: int) -> str:
    ref, alts = _alleles(rng)
    n_allele = 1 + len(alts)
    n_alt = len(alts)
    qual = rng.choice([".", "0", "3", "10", "29.5", "30", "50", "99", "0.5", "12"])
    filt = rng.choice(["PASS", "PASS", ".", "q10", "LowQual", "q10;LowQual", "LowQual;q10"])
    info = []
    if rng.random() < 0.8:
        info.append(f"DP={_num(rng, 0, 60)}")
    if n_alt and rng.random() < 0.8:
        info.append("AF=" + ",".join(_float(rng) for _ in range(n_alt)))
    if n_alt and rng.random() < 0.7:
        info.append("AC=" + ",".join(_num(rng, 0, 4) for _ in range(n_alt)))
    if rng.random() < 0.5:
        info.append("RD=" + ",".join(_num(rng, 0, 30) for _ in range(n_allele)))
    if rng.random() < 0.3:
        info.append("DB")
    if rng.random() < 0.5:
        info.append(f"MQ={_float(rng)}")
    if rng.random() < 0.2:
        info.append("ANN=x|y")
    rng.shuffle(info)
    cols = ["chr1", str(pos), f"id{idx}", ref, ",".join(alts) or ".", qual, filt,
            ";".join(info) or "."]
    if n_samples:
        keys = ["GT", "GQ", "DP", "AD", "PL"]
        if rng.random() < 0.05:
            keys = ["GQ", "DP"]  # no GT
        elif rng.random() < 0.2:
            keys = [k for k in keys if k == "GT" or rng.random() < 0.6]
        cols.append(":".join(keys))
        for _ in range(n_samples):
            vals = []
            gt = _gt(rng, n_allele)
            ploidy = len(gt.replace("|", "/").split("/"))
            for k in keys:
                if k == "GT":
                    vals.append(gt)
                elif k in ("GQ", "DP"):
                    vals.append(_num(rng, 0, 99 if k == "GQ" else 40, 0.15))
                elif k == "AD":
                    vals.append("." if rng.random() < 0.1 else
                                ",".join(_num(rng, 0, 30) for _ in range(n_allele)))
                else:
                    ng = n_allele if ploidy == 1 else n_allele * (n_allele + 1) // 2
                    vals.append("." if rng.random() < 0.1 else
                                ",".join(_num(rng, 0, 200, 0.02) for _ in range(ng)))
            # drop trailing fields sometimes (allowed by the VCF spec)
            while len(vals) > 1 and rng.random() < 0.1:
                vals.pop()
            cols.append(":".join(vals))
    return "\t".join(cols)


def random_vcf(seed: int, n_records: int = 200, n_samples: int = 3) -> str:
    rng = random.Random(seed)
    lines = [HEADER.rstrip("\n")]
    chrom = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
    if n_samples:
        chrom += "\tFORMAT\t" + "\t".join(f"S{i}" for i in range(n_samples))
    lines.append(chrom)
    pos = 100
    for i in range(n_records):
        pos += rng.randint(1, 50)
        lines.append(random_record(rng, i, pos, n_samples))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- expressions

SITE_SCALARS = ["QUAL", "INFO/DP", "N_ALT", "INFO/MQ", "MQ"]
SITE_VECTORS = ["INFO/AF", "INFO/AC", "INFO/RD", "AF", "AC"]
SMP_SCALARS = ["FMT/GQ", "FORMAT/DP", "FMT/DP", "GQ"]
SMP_VECTORS = ["FMT/AD", "FMT/PL", "AD"]
CMP = ["=", "==", "!=", "<", "<=", ">", ">="]


def _const(rng: random.Random) -> str:
    return rng.choice(["0", "1", "2", "3", "5", "10", "20", "30", "0.5", "0.25", "1e1", ".5",
                       "-1", "29.5", "0.1", "0.3", "50", "99"])


def _scalar_term(rng: random.Random, smp: bool, depth: int) -> str:
    """A single-valued numeric expression (site, or per-sample when ``smp``)."""
    r = rng.random()
    pool = SITE_SCALARS + (SMP_SCALARS if smp else [])
    if depth > 0 and r < 0.3:
        op = rng.choice(["+", "-", "*", "/"])
        a = _scalar_term(rng, smp, depth - 1)
        b = _scalar_term(rng, smp, depth - 1) if rng.random() < 0.4 else _const(rng)
        if op == "/" and b in ("0", "-0"):
            b = "2"
        t = f"{a}{op}{b}" if rng.random() < 0.5 else f"({a}{op}{b})"
        return t
    if r < 0.4:
        return _const(rng)
    return rng.choice(pool)


def _comparison(rng: random.Random, smp: bool) -> str:
    r = rng.random()
    if r < 0.1:
        return f'FILTER{rng.choice(["=", "!=", "~", "!~"])}"' + \
            rng.choice(["PASS", "q10", "LowQual", "q10;LowQual"]) + '"'
    if r < 0.14:
        return f'FILTER{rng.choice(["=", "!="])}"."'
    if r < 0.22:
        return f'TYPE{rng.choice(["=", "!=", "~", "!~"])}"' + \
            rng.choice(["snp", "indel", "mnp", "ref", "other", "overlap"]) + '"'
    if r < 0.3 and smp:
        return f'GT{rng.choice(["=", "!="])}"' + \
            rng.choice(["het", "hom", "ref", "alt", "mis", "hap"]) + '"'
    if r < 0.38:
        tag = rng.choice([t for t in SITE_SCALARS if t != "N_ALT"] + SITE_VECTORS + (SMP_SCALARS + SMP_VECTORS
                                                             if smp else []))
        return f'{tag}{rng.choice(["=", "!="])}"."'
    if r < 0.45:
        return f"INFO/DB={rng.choice(['0', '1'])}" if rng.random() < 0.7 else "DB!=1"
    if r < 0.6:
        vec = rng.choice(SITE_VECTORS + (SMP_VECTORS if smp else []))
        other = _const(rng) if rng.random() < 0.7 or vec in SMP_VECTORS + ["AD"] else \
            _scalar_term(rng, False, 1)
        if vec in SMP_VECTORS or vec == "AD":
            other = _const(rng)
        op = rng.choice(CMP)
        if rng.random() < 0.3:
            vec = f"{vec}{rng.choice(['+', '*', '-'])}{_const(rng)}"
        return f"{vec}{op}{other}" if rng.random() < 0.7 else f"{other}{op}{vec}"
    a = _scalar_term(rng, smp, 2)
    b = _const(rng) if rng.random() < 0.6 else _scalar_term(rng, smp, 1)
    return f"{a}{rng.choice(CMP)}{b}"


def random_expression(rng: random.Random, smp: bool = True, depth: int = 3) -> str:
    """A random expression in the supported subset (``smp``: FORMAT tags and GT allowed)."""
    if depth == 0 or rng.random() < 0.35:
        return _comparison(rng, smp)
    op = rng.choice(["&&", "||", "&", "|"])
    a = random_expression(rng, smp, depth - 1)
    b = random_expression(rng, smp, depth - 1)
    sp = " " if rng.random() < 0.5 else ""
    e = f"{a}{sp}{op}{sp}{b}"
    return f"({e})" if rng.random() < 0.4 else e


# ---------------------------------------------------------------- hypothesis strategies

def vcf_texts(n_records: int = 60, max_samples: int = 5):
    from hypothesis import strategies as st
    return st.builds(lambda seed, ns: random_vcf(seed, n_records, ns),
                     st.integers(0, 2**31 - 1), st.integers(1, max_samples))


def expressions(smp: bool = True):
    from hypothesis import strategies as st
    return st.integers(0, 2**31 - 1).map(lambda s: random_expression(random.Random(s), smp))
