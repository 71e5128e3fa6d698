"""The embedded default panel (resources/definitions/*.yaml).

(a) it loads and holds every gene we promise; (b) the loader's validation rejects bad files with
messages naming the file and the allele; (c) every variant and allele of our hand-authored panel
agrees with PharmCAT's official CPIC/PharmVar definitions in ../shared (skipped when ../shared is
absent): same positions, REF, ALTs, exactly the same defined positions and bases per allele, the
same function / activity value, the same phenotype for every diplotype of panel alleles, and the
same gene-level exemptions (required positions, tie priorities, extra positions).

Run with ``-s`` to see the per-gene counts of what was checked.
"""
from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from pgx.definitions.embedded import DefinitionError, default_definitions_dir, load_embedded

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PHARMCAT = SHARED / "oracle" / "pharmcat"
DEFS = PHARMCAT / "definitions"
PHENOS = PHARMCAT / "phenotypes"

PANEL_GENES = {
    "CYP2C19", "CYP2C9", "CYP4F2", "VKORC1", "CYP3A5", "CYP3A4", "CYP2B6", "DPYD", "TPMT",
    "NUDT15", "UGT1A1", "SLCO1B1", "ABCG2", "IFNL3", "NAT2", "G6PD", "MT-RNR1", "RYR1",
    "CACNA1S", "CFTR",
}

# --- differences between CPIC's public tables and PharmCAT's representation -------------------
# None remain. (CPIC's IUPAC codes, e.g. CYP2C19*2 "R" at c.449G>A, are kept in our YAML exactly as
# in CPIC's table and PharmCAT's JSON; the loader accepts an IUPAC code standing for REF/ALTs of an
# SNV and the matcher expands it.) Add an entry here, with the reason, if a legitimate difference
# ever appears: {(gene, allele, position): reason}; the test fails on entries no longer needed.
EXCEPTIONS: dict[tuple[str, str, int], str] = {}

# Alleles whose CPIC definition PharmCAT does not match directly: it splits them into sub-alleles
# (``suballelesMap``) and keeps CPIC's own definition under ``hiddenCoreAlleles``. Our panel
# carries CPIC's definition, so these are compared with the hidden core allele.
CPIC_CORE_ALLELES = {
    ("SLCO1B1", "*45"): "CPIC: *45 = c.388 R, c.521 Y, c.1738C>T; PharmCAT matches it as "
                        "*45.001 (c.388A, c.521T) and *45.002 (c.388G, c.521C), reported as *45",
}
IUPAC = {"R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
         "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT"}

# Older phenotype files (PharmCAT ships G6PD and RYR1 only in _older_fallback)
FALLBACK_PHENOTYPES = {
    "G6PD": "G6PD.cpic.*.json",
    "RYR1": "RYR1.cpic.*.json",
}

SUMMARY: dict[str, str] = {}


def _panel():
    return load_embedded()


# ============================================================================ (a) loading
def test_panel_loads_with_every_gene():
    ds = _panel()
    callable_genes = {g for g, d in ds.genes.items() if d.vcf_callable}
    assert callable_genes == PANEL_GENES, f"missing {PANEL_GENES - callable_genes}, " \
                                          f"extra {callable_genes - PANEL_GENES}"
    # phenotype-only genes serve outside calls (never called from a VCF)
    assert set(ds.genes) - callable_genes == {"CYP2D6"}
    assert ds.genes["CYP2D6"].phenotypes.method == "activity_score"
    assert ds.source == "pgx embedded panel"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", ds.version)
    assert Path(ds.path) == default_definitions_dir()
    for name, g in ds.genes.items():
        if not g.vcf_callable:
            continue
        assert g.build == "GRCh38"
        ref = g.reference_allele
        assert ref.alleles == [v.ref for v in g.variants], name
        positions = [v.position for v in g.variants]
        assert positions == sorted(set(positions)), name
        for a in g.alleles:
            assert len(a.alleles) == len(g.variants), (name, a.name)
    assert ds.genes["G6PD"].haploid_ok and ds.genes["MT-RNR1"].haploid_ok
    assert ds.genes["DPYD"].lowest_function and ds.genes["RYR1"].lowest_function
    for gname in ("DPYD", "RYR1", "TPMT", "NUDT15", "G6PD", "CACNA1S"):
        assert ds.genes[gname].undocumented_as_reference, gname
    assert ds.genes["DPYD"].split_haplotype is not None  # HapB3 (resources/gene_policies.yaml)
    nat2 = ds.genes["NAT2"]
    assert nat2.required_positions and nat2.tie_priorities
    assert nat2.tie_priorities[frozenset({"*1/*6", "*4/*34"})] == "*1/*6"
    cyp2c9 = ds.genes["CYP2C9"]
    assert cyp2c9.phenotypes.method == "activity_score"
    assert cyp2c9.allele("*3").activity == 0.0 and cyp2c9.allele("*2").activity == 0.5
    cyp2c19 = ds.genes["CYP2C19"]
    assert cyp2c19.reference_allele.name == "*38"
    assert cyp2c19.phenotypes.function_pairs[("No function", "Normal function")] == \
        "Intermediate Metabolizer"
    g6pd = ds.genes["G6PD"].phenotypes.function_pairs
    assert g6pd[("III/Deficient",)] == "Deficient"
    assert g6pd[("III/Deficient", "IV/Normal")] == "Variable"


def test_panel_policy_comes_from_gene_policies():
    """Our panel files do not restate calling policy: resources/gene_policies.yaml is the one
    source (it also applies to --definitions DIR). A lab's own YAML folder may still override."""
    import yaml

    from pgx.definitions.policy import gene_policy

    ds = _panel()
    for f in sorted(default_definitions_dir().glob("*.yaml")):
        doc = yaml.safe_load(f.read_text())
        assert not {"lowest_function", "undocumented_as_reference"} & set(doc), f.name
        pol = gene_policy(doc["gene"])
        g = ds.genes[doc["gene"]]
        assert (g.lowest_function, g.undocumented_as_reference) == \
            (pol["lowest_function"], pol["undocumented_as_reference"]), f.name


# ============================================================================ (b) validation
GOOD = textwrap.dedent("""\
    gene: TOY
    chromosome: chr1
    genome_build: GRCh38
    source: "test"
    source_version: "test"
    curated: 2026-01-01
    phenotype_method: function_pair
    variants:
      - {id: rs1, position: 100, ref: A, alt: [G]}
      - {id: rs2, position: 200, ref: C, alt: [T, CA]}
    alleles:
      - {name: "*1", reference: true, function: Normal function}
      - {name: "*2", function: No function, definition: {rs1: G}}
      - {name: "*3", function: No function, definition: {rs1: G, rs2: CA}}
    phenotypes:
      - {functions: [Normal function, Normal function], phenotype: NM}
      - {functions: [Normal function, No function], phenotype: IM}
      - {functions: [No function, No function], phenotype: PM}
    """)


def _write(tmp_path: Path, text: str, gene: str = "TOY") -> Path:
    d = tmp_path / "defs"
    d.mkdir(exist_ok=True)
    (d / f"{gene}.yaml").write_text(text)
    return d


def test_toy_panel_is_valid(tmp_path):
    ds = load_embedded(_write(tmp_path, GOOD))
    toy = ds.genes["TOY"]
    assert [a.alleles for a in toy.alleles] == [["A", "C"], ["G", None], ["G", "CA"]]
    assert toy.phenotypes.function_pairs[("No function", "Normal function")] == "IM"
    assert ds.version == "2026-01-01"


BAD_CASES = {
    "unknown variant id": (
        ('{rs1: G, rs2: CA}', '{rs1: G, rs9: CA}'), r"TOY\.yaml: allele '\*3': unknown variant id 'rs9'"),
    "base not REF/ALT": (
        ('definition: {rs1: G}}', 'definition: {rs1: T}}'), r"allele '\*2': allele 'T' at rs1 is neither REF"),
    "duplicate allele name": (
        ('name: "*3"', 'name: "*2"'), r"allele '\*2': duplicate allele name"),
    "identical definitions": (
        ('{rs1: G, rs2: CA}', '{rs1: G}'), r"allele '\*3': identical definition to allele '\*2'"),
    "no reference allele": (
        ('reference: true, ', ''), r"allele '\*1': non-reference allele needs a non-empty definition"),
    "two reference alleles": (
        ('{name: "*2", function: No function, definition: {rs1: G}}',
         '{name: "*2", reference: true, function: Normal function}'),
        r"identical definition to allele '\*1'"),
    "unsorted positions": (
        ('position: 200', 'position: 50'), r"positions unsorted"),
    "duplicated position": (
        ('position: 200', 'position: 100'), r"duplicated position 100"),
    "function missing from rules": (
        ('{name: "*2", function: No function', '{name: "*2", function: Decreased function'),
        r"allele '\*2': function 'Decreased function' is missing from the phenotype rules"),
    "missing function pair": (
        ('  - {functions: [No function, No function], phenotype: PM}\n', ''),
        r"no entry for the function pair \[No function, No function\]"),
    "unknown top-level key": (
        ('phenotype_method:', 'phenotype_methd: x\nphenotype_method:'), r"unknown keys \['phenotype_methd'\]"),
    "gene/file mismatch": (
        ('gene: TOY', 'gene: TOY2'), r"gene 'TOY2' does not match the file name 'TOY'"),
    "ALT equals REF": (
        ('alt: [G]', 'alt: [A]'), r"variant 'rs1': ALT 'A' equals REF"),
    "IUPAC code outside REF/ALT": (
        ('definition: {rs1: G}}', 'definition: {rs1: Y}}'), r"allele '\*2': allele 'Y' at rs1 is neither REF"),
    "position id mismatch": (
        ('id: rs1, position: 100', 'id: "chr1:101", position: 100'), r"id does not match chr1:100"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_validation_errors(tmp_path, case):
    (old, new), pattern = BAD_CASES[case]
    assert old in GOOD, case
    d = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(DefinitionError, match=pattern) as exc:
        load_embedded(d)
    assert "TOY.yaml" in str(exc.value)


def test_iupac_code_over_ref_and_alts_is_kept(tmp_path):
    """CPIC's IUPAC codes (CYP2C19*2 "R") are kept: they count towards the allele's score."""
    text = GOOD.replace('{rs1: G, rs2: CA}', '{rs1: R, rs2: CA}')
    toy = load_embedded(_write(tmp_path, text)).genes["TOY"]
    assert toy.allele("*3").alleles == ["R", "CA"] and toy.allele("*3").score == 2
    indel = GOOD.replace("ref: C, alt: [T, CA]", "ref: CA, alt: [C, CAA]").replace(
        "{rs1: G, rs2: CA}", "{rs1: G, rs2: M}")
    with pytest.raises(DefinitionError, match=r"allele '\*3': allele 'M' at rs2 is neither REF"):
        load_embedded(_write(tmp_path, indel))


def test_exactly_one_reference(tmp_path):
    text = GOOD.replace('{name: "*3", function: No function, definition: {rs1: G, rs2: CA}}',
                        '{name: "*3", reference: true, function: Normal function}')
    with pytest.raises(DefinitionError, match=r"identical definition|exactly one allele"):
        load_embedded(_write(tmp_path, text))
    text = GOOD.replace('reference: true, ', '').replace(
        '{name: "*1", function: Normal function}',
        '{name: "*1", function: Normal function, definition: {rs2: T}}')
    with pytest.raises(DefinitionError, match=r"exactly one allele must have reference: true, found 0"):
        load_embedded(_write(tmp_path, text))


def test_reference_definition_is_implied(tmp_path):
    text = GOOD.replace('{name: "*1", reference: true, function: Normal function}',
                        '{name: "*1", reference: true, function: Normal function, definition: {rs1: A}}')
    with pytest.raises(DefinitionError, match=r"allele '\*1': the reference allele's definition is implied"):
        load_embedded(_write(tmp_path, text))


def test_bad_tie_priority(tmp_path):
    text = GOOD + 'tie_priorities:\n  - {tied: ["*1/*2", "*1/*9"], pick: "*1/*2"}\n'
    with pytest.raises(DefinitionError, match=r"'\*1/\*9' is not a diplotype of panel alleles"):
        load_embedded(_write(tmp_path, text))


def test_activity_rules(tmp_path):
    text = GOOD.replace("phenotype_method: function_pair", "phenotype_method: activity_score")
    with pytest.raises(DefinitionError, match=r"activity_score needs activity_phenotypes"):
        load_embedded(_write(tmp_path, text))


# ============================================================================ (c) agreement
def _need_oracle():
    if not DEFS.is_dir():
        pytest.skip(f"{DEFS} absent (../shared is only on developer machines and CI)")


def _oracle_translation(gene: str) -> dict | None:
    f = DEFS / f"{gene}_translation.json"
    return json.loads(f.read_text()) if f.is_file() else None


def _oracle_functions(gene: str) -> tuple[dict[str, tuple[str | None, float | None]], list[dict], str]:
    """allele -> (function, activity) and the diplotype table, from PharmCAT's phenotype file."""
    stem = gene.replace("-", "_")
    f = PHENOS / f"{stem}.json"
    if not f.is_file() and gene in FALLBACK_PHENOTYPES:
        cands = sorted((PHENOS / "_older_fallback").glob(FALLBACK_PHENOTYPES[gene]))
        f = cands[-1] if cands else f
    if not f.is_file():
        return {}, [], "none"
    data = json.loads(f.read_text())

    def act(x):
        try:
            return float(x)
        except (TypeError, ValueError):
            return None

    out: dict[str, tuple[str | None, float | None]] = {}
    for na in data.get("namedAlleles") or []:
        out[na["name"]] = (na.get("functionValue"), act(na.get("activityValue")))
    for name, fn in (data.get("haplotypes") or {}).items():
        out.setdefault(name, (fn, act((data.get("activityValues") or {}).get(name))))
    return out, data.get("diplotypes") or [], f.name


def _exemptions() -> dict:
    f = DEFS / "exemptions.json"
    return json.loads(f.read_text()) if f.is_file() else {}


def _oracle_base(v: dict, x: str | None) -> str | None:
    """Oracle allele cell -> VCF allele string (CPIC notations mapped through
    ``cpicToVcfAlleleMap``; single-letter IUPAC codes kept, as in our panel)."""
    if x is None:
        return None
    cmap = v.get("cpicToVcfAlleleMap") or {}
    if x in cmap and x != v["ref"] and x not in v["alts"] and not (len(x) == 1 and x in IUPAC):
        x = cmap[x]
    return x


ORACLE_GENES = sorted(g for g in PANEL_GENES if g != "MT-RNR1")


@pytest.mark.parametrize("gene", ORACLE_GENES)
def test_agrees_with_official_definitions(gene):
    _need_oracle()
    oracle = _oracle_translation(gene)
    assert oracle is not None, f"{gene}: no {gene}_translation.json in {DEFS}"
    g = _panel().genes[gene]
    problems: list[str] = []

    # ---- gene ----
    if oracle["chromosome"] != g.chrom:
        problems.append(f"chromosome {g.chrom} != {oracle['chromosome']}")
    ovars = {int(v["position"]): v for v in oracle["variants"]}

    # ---- variants ----
    for v in g.variants:
        ov = ovars.get(v.position)
        if ov is None:
            problems.append(f"variant {v.rsid or v.key} at {v.position}: no official variant there")
            continue
        if ov["ref"] != v.ref:
            problems.append(f"variant {v.rsid or v.key}: REF {v.ref} != official {ov['ref']}")
        if not set(v.alts) <= set(ov["alts"]):
            problems.append(f"variant {v.rsid or v.key}: ALTs {list(v.alts)} not within official {ov['alts']}")
        if v.rsid != ov.get("rsid"):
            problems.append(f"variant at {v.position}: id {v.rsid or v.key} != official rsid {ov.get('rsid')}")

    # ---- alleles: exact defined positions and bases ----
    onamed = {a["name"]: a for a in oracle["namedAlleles"]}
    hidden = {a["name"]: a for a in oracle.get("hiddenCoreAlleles") or []}
    core_used = set()
    exceptions_used = set()
    n_iupac = 0
    for a in g.alleles:
        oa = onamed.get(a.name)
        if oa is None and (gene, a.name) in CPIC_CORE_ALLELES and a.name in hidden:
            oa = hidden[a.name]
            core_used.add((gene, a.name))
        if oa is None:
            problems.append(f"allele {a.name!r}: not in the official definitions")
            continue
        ours = {v.position: x for v, x in zip(g.variants, a.alleles) if x is not None}
        theirs = {}
        for ov, x in zip(oracle["variants"], oa["alleles"]):
            base = _oracle_base(ov, x)
            if base is not None:
                theirs[int(ov["position"])] = base
        for p in list(theirs):
            if (gene, a.name, p) in EXCEPTIONS:
                exceptions_used.add((gene, a.name, p))
                theirs.pop(p)
                ours.pop(p, None)
        n_iupac += sum(1 for b in ours.values() if b in IUPAC)
        if a.reference:
            if not oa.get("reference"):
                problems.append(f"allele {a.name!r}: reference in our panel, not officially")
            # the reference is REF everywhere: compare on our positions
            theirs = {p: b for p, b in theirs.items() if p in ours}
            if set(ours) - set(theirs):
                problems.append(f"allele {a.name!r}: official reference leaves {sorted(set(ours) - set(theirs))} undefined")
        elif oa.get("reference"):
            problems.append(f"allele {a.name!r}: official reference allele, not ours")
        if ours != theirs:
            diff = sorted(set(ours.items()) ^ set(theirs.items()))
            problems.append(f"allele {a.name!r}: defined positions/bases differ: ours {sorted(ours.items())} "
                            f"official {sorted(theirs.items())} (diff {diff})")
    stale = ({k for k in EXCEPTIONS if k[0] == gene} - exceptions_used) | \
        ({k for k in CPIC_CORE_ALLELES if k[0] == gene} - core_used)
    if stale:
        problems.append(f"documented exceptions no longer needed: {sorted(stale)}")

    # ---- function / activity ----
    funcs, diplotypes, pheno_file = _oracle_functions(gene)
    n_func = 0
    for a in g.alleles:
        f, act = funcs.get(a.name, (None, None))
        if a.function != f:
            problems.append(f"allele {a.name!r}: function {a.function!r} != official {f!r} ({pheno_file})")
        if a.activity != act:
            problems.append(f"allele {a.name!r}: activity {a.activity!r} != official {act!r} ({pheno_file})")
        n_func += f is not None

    # ---- phenotype of every official diplotype made of panel alleles ----
    names = {a.name for a in g.alleles}
    n_dip = 0
    for d in diplotypes:
        parts = [k for k, n in d["diplotypekey"].items() for _ in range(n)]
        if not set(parts) <= names:
            continue
        want = d.get("phenotype") or d.get("generesult")
        got = _our_phenotype(g, parts)
        n_dip += 1
        if got != want:
            problems.append(f"diplotype {'/'.join(parts)}: phenotype {got!r} != official {want!r}")

    # ---- gene-level exemptions ----
    ex = _exemptions().get(gene, {})
    positions = {v.position for v in g.variants}
    req = [int(p) for p in ex.get("requiredPositions") or []]
    if sorted(g.required_positions) != sorted(req):
        problems.append(f"required positions {sorted(g.required_positions)} != official {sorted(req)}")
    ties = {frozenset(p["list"]): p["pick"] for p in ex.get("unphasedDiplotypePriorities") or []}
    applicable = {k: v for k, v in ties.items()
                  if all(set(dip.split("/")) <= names for dip in k)}
    if set(g.tie_priorities) != set(applicable):
        problems.append(f"tie priorities differ from the official ones among panel alleles: "
                        f"ours-only {sorted(map(sorted, set(g.tie_priorities) - set(applicable)))}, "
                        f"missing {sorted(map(sorted, set(applicable) - set(g.tie_priorities)))}")
    for k, pick in g.tie_priorities.items():
        if ties.get(k) != pick:
            problems.append(f"tie priority {sorted(k)}: pick {pick} != official {ties.get(k)}")
    # an ignored entry is a variant (POS + REF), not a bare position: G6PD's ignored deletion
    # CGGT>C shares POS 154532990 with Chatham's SNV C>T, which PharmCAT does call
    ignored = {(int(v["position"]), v["ref"]) for v in ex.get("ignoredPositions") or []}
    used_ignored = sorted(p for p in ignored if p in {(v.position, v.ref) for v in g.variants})
    if used_ignored:
        problems.append(f"panel uses officially ignored variants {used_ignored}")
    if names & set(ex.get("ignoredAlleles") or []):
        problems.append(f"panel uses officially ignored alleles {sorted(names & set(ex['ignoredAlleles']))}")
    oextra = {int(v["position"]): v for v in ex.get("extraPositions") or []}
    for v in g.extra_positions:
        ov = oextra.get(v.position)
        if ov is None or ov["ref"] != v.ref or not set(v.alts) <= set(ov["alts"]) or ov.get("rsid") != v.rsid:
            problems.append(f"extra position {v.rsid or v.key} differs from the official extra positions")
    amp1 = set(ex.get("amp1Alleles") or [])
    if amp1 - names:
        problems.append(f"AMP Tier 1 alleles missing from the panel: {sorted(amp1 - names)}")

    n_pos = sum(a.score for a in g.alleles if not a.reference) + len(g.variants)
    SUMMARY[gene] = (f"{gene:8s} {len(g.variants):3d} positions, {len(g.alleles):3d} alleles "
                     f"({n_pos} allele-position pairs, {n_func} official functions, "
                     f"{n_dip} official diplotype phenotypes, {n_iupac} IUPAC codes, "
                     f"{len(exceptions_used) + len(core_used)} documented exceptions) "
                     f"of {len(oracle['variants'])} official positions / {len(oracle['namedAlleles'])} alleles")
    print("\n" + SUMMARY[gene])
    assert not problems, f"{gene}: {len(problems)} disagreement(s) with {DEFS}:\n  " + "\n  ".join(problems)


def _our_phenotype(g, parts: list[str]) -> str:
    """Phenotype of a diplotype (or one haploid allele) from our panel's rules only."""
    rules = g.phenotypes
    alleles = [g.allele(p) for p in parts]
    if rules.method == "activity_score":
        acts = [a.activity for a in alleles]
        if any(x is None for x in acts):
            return "Indeterminate"
        score = sum(acts)
        for lo, hi, label in rules.activity_ranges:
            if lo <= score <= hi:
                return label
        return "Indeterminate"
    fs = [a.function for a in alleles]
    if None in fs:
        return "Indeterminate"
    return rules.function_pairs.get(tuple(sorted(fs)), "<no rule>")


def test_mt_rnr1_agrees_with_official_names_and_positions():
    """MT-RNR1 has no translation file: check our variants against the positions VCF (if it has
    chrM) and against CPIC's allele names (m.<pos><ref>><alt>) and functions."""
    _need_oracle()
    g = _panel().genes["MT-RNR1"]
    problems = []
    assert g.chrom == "chrM"
    vcf = PHARMCAT / "positions" / "pharmcat_positions.vcf"
    checked_vcf = 0
    if vcf.is_file():
        rows = {}
        for line in vcf.read_text().splitlines():
            if line.startswith("#"):
                continue
            t = line.split("\t")
            if t[0] in ("chrM", "chrMT", "MT", "M"):
                rows[int(t[1])] = t
        for v in g.variants:
            if rows:
                t = rows.get(v.position)
                checked_vcf += 1
                if t is None or t[3] != v.ref or not set(v.alts) <= set(t[4].split(",")):
                    problems.append(f"{v.label}: not in {vcf.name} as {v.position} {v.ref}>{v.alts}")
    funcs, diplotypes, pheno_file = _oracle_functions("MT-RNR1")
    assert funcs, "no MT-RNR1 phenotype file"
    for a in g.alleles:
        f, act = funcs.get(a.name, (None, None))
        if a.function != f:
            problems.append(f"allele {a.name!r}: function {a.function!r} != official {f!r}")
        if a.reference:
            continue
        m = re.fullmatch(r"m\.(\d+)([ACGT])>([ACGT])", a.name)
        assert m, a.name
        pos, ref, alt = int(m.group(1)), m.group(2), m.group(3)
        defined = [(v, x) for v, x in zip(g.variants, a.alleles) if x is not None]
        if len(defined) != 1 or defined[0][0].position != pos or defined[0][0].ref != ref \
                or defined[0][1] != alt:
            problems.append(f"allele {a.name!r}: definition {[(v.position, v.ref, x) for v, x in defined]}")
    names = {a.name for a in g.alleles}
    n_dip = 0
    for d in diplotypes:
        parts = [k for k, n in d["diplotypekey"].items() for _ in range(n)]
        if set(parts) <= names:
            n_dip += 1
            got = _our_phenotype(g, parts)
            if got != d["phenotype"]:
                problems.append(f"{parts}: phenotype {got!r} != official {d['phenotype']!r}")
    print(f"\nMT-RNR1    {len(g.variants)} positions, {len(g.alleles)} alleles "
          f"({checked_vcf} positions found in pharmcat_positions.vcf"
          f"{'' if checked_vcf else ': it has no chrM records; checked against CPIC allele names'}, "
          f"{n_dip} official phenotypes)")
    assert not problems, "MT-RNR1:\n  " + "\n  ".join(problems)


def test_cyp2d6_phenotype_only_agrees_with_cpic_table():
    """Our CYP2D6 activity values (outside calls only) equal CPIC's table as shipped by PharmCAT,
    and diplotype phenotypes follow CPIC's activity-score bins."""
    fallback = sorted(((PHARMCAT / "phenotypes") / "_older_fallback").glob("CYP2D6.cpic.*.json")) \
        if (PHARMCAT / "phenotypes").is_dir() else []
    if not fallback:
        pytest.skip("PharmCAT CYP2D6 phenotype table absent from ../shared")
    import json

    from pgx.phenotype.assign import diplotype_phenotype

    oracle = json.loads(fallback[-1].read_text())
    g = _panel().genes["CYP2D6"]
    for a in g.alleles:
        assert float(oracle["activityValues"][a.name]) == a.activity, a.name
    checked = 0
    for d in oracle["diplotypes"]:
        alleles = tuple(d["diplotype"].split("/"))
        if all(any(x.name == n for x in g.alleles) for n in alleles):
            assert diplotype_phenotype(g, alleles)[0] == d["phenotype"], d["diplotype"]
            checked += 1
    assert checked > 300
