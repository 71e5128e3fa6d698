"""Drug-prescribing guidelines: our YAML (resources/guidelines), the PharmCAT JSON reader, and
the agreement of our lookup keys, classifications and populations with PharmGKB's annotations
(PharmCAT, May 2024) when ../shared is present.

Run ``pytest tests/test_guidelines.py -s`` to see the per-guideline agreement table.
"""
from __future__ import annotations

import collections
import fnmatch
import itertools
import re
from pathlib import Path

import pytest

from pgx.definitions import load_definitions
from pgx.errors import InputError
from pgx.phenotype.assign import diplotype_phenotype
from pgx.guidelines.loader import (
    flag_action,
    GuidelineError,
    format_score,
    load_guideline_file,
    load_guidelines,
    load_pharmcat_guidelines,
)
from pgx.guidelines.model import (
    ACTIONS,
    ACTIVITY_SCORE_GENES,
    allele_status,
    ALLELE_STATUS_GENES,
    CLASSIFICATIONS,
    INDETERMINATE,
    NO_RESULT,
    diplotype_form,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PHARMCAT_GUIDELINES = SHARED / "oracle" / "pharmcat" / "guidelines"

# HLA allele statuses our guidelines may use (outside calls; see pgx/guidelines/model.py)
HLA_STATUSES = {
    "HLA-A": {"*31:01"},
    "HLA-B": {"*57:01", "*58:01", "*15:02"},
}
MAX_COPIES = 3  # copy-number notation of outside calls (CYP2D6 *1x2, *1x3) considered


# --------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def ours():
    return load_guidelines()


@pytest.fixture(scope="module")
def vocabulary() -> dict[str, set[str]]:
    """Every lookup value our calls can produce, per gene, from the panel's phenotype rules."""
    defs = load_definitions()
    vocab: dict[str, set[str]] = {}
    for name, gene in defs.genes.items():
        rules = gene.phenotypes
        values = {INDETERMINATE, NO_RESULT}
        if rules.method == "activity_score":
            acts = sorted({a.activity for a in gene.alleles if a.activity is not None})
            copies = range(1, (1 if gene.vcf_callable else MAX_COPIES) + 1)
            singles = {a * c for a in acts for c in copies}
            values |= {format_score(x + y) for x in singles for y in singles}
        else:
            values |= set(rules.function_pairs.values()) | set(rules.diplotypes.values())
        vocab[name] = values
    for gene, alleles in HLA_STATUSES.items():
        vocab[gene] = {f"{a} {s}" for a in alleles for s in ("positive", "negative")} | {NO_RESULT}
    return vocab


@pytest.fixture(scope="module")
def pharmcat():
    if not PHARMCAT_GUIDELINES.is_dir():
        pytest.skip("../shared/oracle/pharmcat/guidelines is absent")
    return load_pharmcat_guidelines(PHARMCAT_GUIDELINES)


# --------------------------------------------------------------------------------------------
# our guidelines


def test_our_guidelines_load(ours):
    assert ours.guidelines, "no guideline files under resources/guidelines"
    ids = [g.id for g in ours.guidelines]
    assert len(ids) == len(set(ids))
    for g in ours.guidelines:
        assert g.id.split("/")[0] == g.source.lower(), g.id
        assert g.pmids and g.year and g.title and g.url and g.authored, g.id
        assert g.recommendations, g.id
        for r in g.recommendations:
            assert set(r.lookup) == set(g.genes), (g.id, r.entry)
            assert r.classification in CLASSIFICATIONS, (g.id, r.entry)
            assert r.text.strip(), (g.id, r.entry)
    print(f"\n{len(ours.guidelines)} guidelines, "
          f"{sum(len(g.recommendations) for g in ours.guidelines)} recommendations, "
          f"{len(ours.drugs)} drugs (version {ours.version})")


def test_readme_counts(ours):
    """resources/guidelines/README.md states the number of files per source and of entries."""
    import yaml
    readme = (Path(ours.path) / "README.md").read_text()
    files = collections.Counter(g.source for g in ours.guidelines)
    for source, n in files.items():
        assert re.search(rf"^\| {source} \| {n} \|", readme, re.M), (source, n)
    entries = sum(len(yaml.safe_load(Path(g.path).read_text())["recommendations"])
                  for g in ours.guidelines)
    assert f"{len(ours.guidelines)} files, {entries} recommendation entries" in readme


def test_lookup_values_are_our_vocabulary(ours, vocabulary):
    """Every lookup value is a phenotype / activity score / allele status our calls produce."""
    bad = []
    for g in ours.guidelines:
        for r in g.recommendations:
            for gene, value in r.lookup.items():
                if value not in vocabulary.get(gene, ()):
                    bad.append(f"{g.id} {r.entry}: {gene}={value!r}")
    assert not bad, "lookup values our calls never produce:\n" + "\n".join(sorted(set(bad)))


def test_single_gene_guidelines_cover_the_vocabulary(ours, vocabulary):
    """A one-gene CPIC guideline answers every value our calls can give (except No Result):
    a phenotype without an entry would silently get no recommendation. Gaps the guideline
    itself leaves are listed in COVERAGE_GAPS."""
    gaps = []
    for g in ours.guidelines:
        if len(g.genes) != 1 or g.source != "CPIC":
            continue
        gene = g.genes[0]
        wanted = vocabulary[gene] - {NO_RESULT}
        if gene in ALLELE_STATUS_GENES:  # the statuses of the allele(s) the guideline is about
            alleles = {r.lookup[gene].split()[0] for r in g.recommendations} - {NO_RESULT.split()[0]}
            wanted = {f"{a} {s}" for a in alleles for s in ("positive", "negative")}
        pops = {r.population for r in g.recommendations}
        for drug in g.drugs:
            for pop in pops:
                have = {r.lookup[gene] for r in g.recommendations
                        if r.drug == drug and r.population == pop}
                for v in sorted(wanted - have):
                    if (g.id, v) not in COVERAGE_GAPS:
                        gaps.append(f"{g.id}: {drug} / {pop}: no entry for {gene}={v!r}")
    assert not gaps, "\n".join(gaps)


# values a guideline deliberately leaves without an entry, with the reason
COVERAGE_GAPS: dict[tuple[str, str], str] = {
    ("cpic/fluoropyrimidines_DPYD", INDETERMINATE):
        "CPIC's DPYD table has no entry for an unknown activity score",
    ("cpic/aminoglycosides_MT-RNR1", INDETERMINATE):
        "CPIC's MT-RNR1 table has normal / increased / uncertain risk only",
    ("cpic/ivacaftor_CFTR", INDETERMINATE):
        "CPIC's CFTR table has responsive / non-responsive only",
    ("cpic/peginterferon_IFNL3", INDETERMINATE):
        "CPIC's IFNL3 table has favorable / unfavorable genotypes only",
}


def test_match_semantics(ours):
    recs = ours.match("clopidogrel", {"CYP2C19": "Poor Metabolizer", "CYP2D6": "1.0"},
                      source="CPIC")
    assert {r.population for r in recs} == {"CVI ACS PCI", "CVI non-ACS non-PCI", "NVI"}
    assert all(r.lookup == {"CYP2C19": "Poor Metabolizer"} for r in recs)
    assert ours.match("Clopidogrel", {"CYP2C19": "Poor Metabolizer"}, source="CPIC") == recs
    assert ours.match("clopidogrel", {"CYP2C19": "poor metabolizer"}) == []  # exact spelling
    assert ours.for_drug("clopidogrel", source="CPIC")[0].genes == ["CYP2C19"]


def test_allele_status():
    assert allele_status("*57:01/*58:01", "*57:01") == "*57:01 positive"
    assert allele_status("*57:01/*58:01", "*58:01") == "*58:01 positive"
    assert allele_status("HLA-B*15:02:01/HLA-B*07:02", "*15:02") == "*15:02 positive"
    assert allele_status("*07:02/*08:01", "*15:02") == "*15:02 negative"
    assert allele_status("*57:011/*08:01", "*57:01") == "*57:01 negative"
    with pytest.raises(ValueError):
        allele_status("*57:01/*08:01 OR *08:01/*08:01", "*57:01")


def test_demo_patient_recommendations(ours):
    """DEMO002's calls (README): CYP2C19 *2/*17, CYP2C9 score 1.0, SLCO1B1 *1/*5, CYP2D6 1.0,
    HLA-B *57:01/*58:01."""
    lookup = {"CYP2C19": "Intermediate Metabolizer", "CYP2C9": "1.0",
              "SLCO1B1": "Decreased Function", "CYP2D6": "1.0", "HLA-B": "*57:01/*58:01"}
    (abacavir,) = ours.match("abacavir", lookup, source="CPIC")
    assert abacavir.classification == "Strong" and abacavir.alternate_drug
    assert abacavir.lookup == {"HLA-B": "*57:01 positive"}
    (allopurinol,) = ours.match("allopurinol", lookup, source="CPIC")
    assert allopurinol.lookup == {"HLA-B": "*58:01 positive"} and allopurinol.alternate_drug
    # the same diplotype is HLA-B*15:02 negative for carbamazepine (HLA-A untyped)
    recs = ours.match("carbamazepine", lookup, source="CPIC")
    assert {r.population for r in recs} == {"CBZ naive", "CBZ-no alternatives", "CBZ use >3mos"}
    assert all(r.lookup == {"HLA-A": "No Result", "HLA-B": "*15:02 negative"} for r in recs)
    (simva,) = ours.match("simvastatin", lookup, source="CPIC")
    assert simva.dosing and simva.alternate_drug
    (ami,) = ours.match("amitriptyline", lookup, source="CPIC")
    assert ami.lookup == {"CYP2C19": "Intermediate Metabolizer", "CYP2D6": "1.0"}
    assert ami.classification == "Optional" and ami.dosing
    (celecoxib,) = ours.match("celecoxib", lookup)
    assert celecoxib.dosing and celecoxib.classification == "Moderate"
    recs = ours.match("phenytoin", lookup, source="CPIC")
    assert {r.population for r in recs} == {"PHT naive", "PHT use >3mos"}
    assert all(r.lookup == {"CYP2C9": "1.0", "HLA-B": "*15:02 negative"} and r.dosing for r in recs)
    # without HLA-B, CPIC's "No Result" entries apply
    del lookup["HLA-B"]
    recs = ours.match("phenytoin", lookup, source="CPIC")
    assert all(r.lookup["HLA-B"] == "No Result" and r.dosing for r in recs) and len(recs) == 2
    assert ours.match("abacavir", lookup) == []  # no entry for an untyped HLA-B
    assert ours.match("clopidogrel", lookup, source="DPWG")[0].alternate_drug


# --------------------------------------------------------------------------------------------
# curated actions, notes, genotype-specific entries


def test_every_recommendation_has_a_curated_action(ours):
    """Every entry of our files says what its advice asks for (action:, curated from the text),
    never the category PharmGKB's flags would suggest."""
    bad = [f"{g.id} {r.entry} {r.drug}: {r.action!r}" for g in ours.guidelines
           for r in g.recommendations if not r.action_curated or r.action not in ACTIONS]
    assert not bad, "\n".join(bad)
    used = {r.action for g in ours.guidelines for r in g.recommendations}
    assert used == set(ACTIONS), f"categories never used: {set(ACTIONS) - used}"


def _one(ours, drug, lookup, source, diplotypes=None, population=None):
    recs = [r for r in ours.match(drug, lookup, source=source, diplotypes=diplotypes)
            if population is None or r.population == population]
    assert len(recs) == 1, (drug, lookup, source, diplotypes, [(r.population, r.entry) for r in recs])
    return recs[0]


def test_action_categories_follow_the_text(ours):
    """The cases of the issue "category badges came from PharmGKB flags and contradicted the
    text", each looked up as a patient's result."""
    # flucloxacillin with HLA-B*57:01: check liver function (PharmGKB flags an alternative drug)
    r = _one(ours, "flucloxacillin", {"HLA-B": "*57:01/*07:02"}, "DPWG")
    assert r.action == "monitor" and r.alternate_drug and "liver" in r.text
    # siponimod, CYP2C9 score 1.0: *1/*3 half the maintenance dose, *2/*2 no action
    r = _one(ours, "siponimod", {"CYP2C9": "1.0"}, "DPWG", {"CYP2C9": "*1/*3"})
    assert r.action == "change_dose" and "half" in r.text and "*2/*2" not in r.text
    assert _one(ours, "siponimod", {"CYP2C9": "1.0"}, "DPWG", {"CYP2C9": "*3/*1"}) is r
    assert _one(ours, "siponimod", {"CYP2C9": "1.0"}, "DPWG") is r  # diplotype not given
    r = _one(ours, "siponimod", {"CYP2C9": "1.0"}, "DPWG", {"CYP2C9": "*2/*2"})
    assert r.action == "standard" and r.diplotypes == {"CYP2C9": ("*2/*2",)}
    assert "no action" in r.text.lower()
    # atorvastatin with decreased SLCO1B1 function (CPIC): at most 40 mg
    r = _one(ours, "atorvastatin", {"SLCO1B1": "Decreased Function"}, "CPIC")
    assert r.action == "change_dose" and "40 mg" in r.text
    # DPYD activity score 1.0 (CPIC): 50% starting dose, for both drugs
    for drug in ("fluorouracil", "capecitabine"):
        r = _one(ours, drug, {"DPYD": "1.0"}, "CPIC")
        assert r.action == "change_dose" and "Halve" in r.text
    # DPYD activity score 1.5: capecitabine and fluorouracil get the same category in each source
    for source in ("CPIC", "DPWG"):
        acts = {_one(ours, drug, {"DPYD": "1.5"}, source).action
                for drug in ("fluorouracil", "capecitabine")}
        assert acts == {"change_dose"}, (source, acts)
    # flucytosine for DPYD poor metabolizers (DPWG): score 0 avoid, 0.5 watch closely
    assert _one(ours, "flucytosine", {"DPYD": "0.0"}, "DPWG").action == "avoid"
    assert _one(ours, "flucytosine", {"DPYD": "0.5"}, "DPWG").action == "monitor"
    # RYR1/CACNA1S "Uncertain Susceptibility": the clinical history must guide use
    g = ours.get("cpic/anesthetics_CACNA1S_RYR1")
    uncertain = [r for r in g.recommendations if "Malignant Hyperthermia Susceptibility"
                 not in r.lookup.values()]
    assert uncertain and {r.action for r in uncertain} == {"monitor"}
    assert {r.lookup["RYR1"] for r in uncertain} | {r.lookup["CACNA1S"] for r in uncertain} == {
        "Uncertain Susceptibility", NO_RESULT}
    # ivacaftor: only relevant to patients with cystic fibrosis, whatever the CFTR result
    g = ours.get("cpic/ivacaftor_CFTR")
    assert {r.action for r in g.recommendations} == {"conditional"}
    assert all("cystic fibrosis" in r.text for r in g.recommendations)


def test_texts_speak_to_the_patients_result(ours):
    """Corrections of the issue: texts name what applies to the entry's own result."""
    # rosuvastatin: the >20 mg caution is for decreased SLCO1B1 function only
    for slco, caution in (("Normal Function", False), ("Decreased Function", True)):
        r = _one(ours, "rosuvastatin", {"ABCG2": "Normal Function", "SLCO1B1": slco}, "CPIC")
        assert ("20 mg" in r.text) == caution and ("decreased" in r.text.lower()) == caution
        assert r.action == ("monitor" if caution else "standard")
    # tamoxifen, CYP2D6 poor metabolizer: 40 mg/day if an aromatase inhibitor is contraindicated
    r = _one(ours, "tamoxifen", {"CYP2D6": "0.0"}, "CPIC")
    assert r.action == "avoid" and "40 mg/day" in r.text and "contraindicated" in r.text
    assert "does not bring it to normal" in r.text
    # citalopram, CYP2C19 poor metabolizer: the 20 mg/day maximum (not for escitalopram)
    assert "20 mg/day" in _one(ours, "citalopram", {"CYP2C19": "Poor Metabolizer"}, "CPIC").text
    assert "20 mg" not in _one(ours, "escitalopram", {"CYP2C19": "Poor Metabolizer"}, "CPIC").text
    # DPYD activity score 0.5 (CPIC 2024): avoid; else under 25% with early drug monitoring
    for drug in ("fluorouracil", "capecitabine"):
        r = _one(ours, drug, {"DPYD": "0.5"}, "CPIC")
        assert r.action == "avoid" and "under 25%" in r.text and "early" in r.text
    # DPWG warfarin and phenytoin: the genotype-specific doses
    assert "45%" in _one(ours, "warfarin", {"CYP2C9": "0.5"}, "DPWG", {"CYP2C9": "*2/*3"}).text
    r = _one(ours, "warfarin", {"CYP2C9": "0.5"}, "DPWG", {"CYP2C9": "*3/*11"})
    assert "20%" in r.text and "*2/*3" not in r.text
    assert _one(ours, "warfarin", {"CYP2C9": "1.5"}, "DPWG", {"CYP2C9": "*1/*2"}).action == "standard"
    assert "50%" in _one(ours, "phenytoin", {"CYP2C9": "1.0"}, "DPWG", {"CYP2C9": "*2/*2"}).text
    assert "75%" in _one(ours, "phenytoin", {"CYP2C9": "1.0"}, "DPWG", {"CYP2C9": "*1/*3"}).text


def test_genotype_specific_entries(ours):
    """Every diplotypes: selector names diplotypes whose lookup value (per our phenotype rules)
    is the entry's own, and the default entry's text does not speak to them."""
    defs = load_definitions()
    n = 0
    for g in ours.guidelines:
        for r in g.recommendations:
            for gene, ds in r.diplotypes.items():
                gdef = defs.genes[gene]
                for d in ds:
                    n += 1
                    pheno, score = diplotype_phenotype(gdef, tuple(d.split("/")))
                    value = format_score(score) if gdef.phenotypes.method == "activity_score" else pheno
                    assert value == r.lookup[gene], (g.id, r.entry, d, value, r.lookup)
                default = [x for x in g.recommendations if not x.diplotypes and x.drug == r.drug
                           and x.population == r.population and x.lookup == r.lookup]
                assert len(default) == 1, (g.id, r.entry)
                assert not any(diplotype_form(d) in default[0].text or d in default[0].text
                               for d in ds), (g.id, default[0].entry, ds)
    assert n >= 6


def test_notes_qualify_only_their_entries(ours):
    """File notes are shown with every recommendation: caveats for some entries are notes of
    those entries."""
    thio = "cpic/thiopurines_NUDT15_TPMT"
    both = _one(ours, "azathioprine", {"TPMT": "Intermediate Metabolizer",
                                       "NUDT15": "Possible Intermediate Metabolizer"}, "CPIC")
    assert "both" in both.note and not ours.get(thio).notes
    one = _one(ours, "azathioprine", {"TPMT": "Intermediate Metabolizer",
                                      "NUDT15": "Normal Metabolizer"}, "CPIC")
    assert one.action == "change_dose" and not one.note
    # CPIC DPYD: re-titration after the first two cycles on the reduced-dose entries only
    assert not ours.get("cpic/fluoropyrimidines_DPYD").notes
    for score, retitrate in (("2.0", False), ("1.5", True), ("1.0", True), ("0.0", False)):
        r = _one(ours, "capecitabine", {"DPYD": score}, "CPIC")
        assert ("first two cycles" in r.note) == retitrate, score
    # tacrolimus: the donor/recipient caveat on the entries with a dose advice
    r = _one(ours, "tacrolimus", {"CYP3A5": "Normal Metabolizer"}, "CPIC")
    assert "donor" in r.note and not ours.get("cpic/tacrolimus_CYP3A5").notes
    assert not _one(ours, "tacrolimus", {"CYP3A5": "Indeterminate"}, "CPIC").note
    # CPIC warfarin: the African-ancestry branch on every entry (population non-African ancestry)
    g = ours.get("cpic/warfarin_CYP2C9_VKORC1")
    assert all("African ancestry" in r.note for r in g.recommendations)
    assert "African" not in g.notes
    # reviewer remarks stay out of what clinicians read
    for g in ours.guidelines:
        for text in [g.notes] + [r.note for r in g.recommendations]:
            assert not re.search(r"PharmGKB|PharmCAT|our panel|lookup value|KNOWN_DIFF", text), (g.id, text)


# --------------------------------------------------------------------------------------------
# validation errors

_GOOD = """\
source: CPIC
title: "A test guideline"
year: 2020
pmid: 12345
url: https://example.org/guideline
version: "2020"
authored: 2026-11-22
drugs: [drugx]
genes: [CYP2C19]
population: general
recommendations:
  - lookup: {CYP2C19: [Normal Metabolizer, Rapid Metabolizer]}
    classification: Strong
    action: standard
    text: "Use as usual."
  - lookup: {CYP2C19: Poor Metabolizer}
    classification: Moderate
    dosing: true
    action: change_dose
    text: "Lower the dose."
"""


def _write(tmp_path: Path, text: str, name: str = "drugx_CYP2C19.yaml", folder: str = "cpic") -> Path:
    d = tmp_path / folder
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    p.write_text(text)
    return p


def test_good_tmp_file_loads(tmp_path):
    _write(tmp_path, _GOOD)
    s = load_guidelines(tmp_path)
    (g,) = s.guidelines
    assert g.id == "cpic/drugx_CYP2C19"
    assert len(g.recommendations) == 3
    (r,) = s.match("drugx", {"CYP2C19": "Poor Metabolizer"})
    assert r.dosing and r.classification == "Moderate" and r.population == "general"


@pytest.mark.parametrize("old, new, message", [
    ("genes: [CYP2C19]", "genes: [CYP2C19, CYP9Z9]", "unknown gene 'CYP9Z9'"),
    ("classification: Moderate", "classification: Weak", "recommendations[1]: bad classification 'Weak'"),
    ("{CYP2C19: Poor Metabolizer}", "{CYP2C19: Normal Metabolizer}",
     "recommendations[1]: duplicate lookup drugx / population 'general' / CYP2C19='Normal Metabolizer'"),
    ("{CYP2C19: Poor Metabolizer}", "{CYP2D6: \"1.0\"}", "recommendations[1]: lookup names 'CYP2D6'"),
    ("source: CPIC", "source: FDA", "source must be one of"),
    ("source: CPIC", "source: DPWG", "belongs in dpwg/"),
    ("year: 2020", "year: twenty", "year must be"),
    ("drugs: [drugx]", "drugs: [DrugX]", "lower case"),
    ("    text: \"Lower the dose.\"\n", "", "recommendations[1]: missing key(s) ['text']"),
    ("    dosing: true\n", "    dosing: yes please\n", "dosing must be true or false"),
    ("population: general", "populaton: general", "unknown key(s) ['populaton']"),
    ("    classification: Strong\n", "    classification: Strong\n    strength: high\n",
     "recommendations[0]: unknown key(s) ['strength']"),
])
def test_validation_errors(tmp_path, old, new, message):
    assert old in _GOOD
    p = _write(tmp_path, _GOOD.replace(old, new, 1))
    with pytest.raises(GuidelineError) as e:
        load_guidelines(tmp_path)
    assert isinstance(e.value, InputError)
    assert str(p) in str(e.value)
    assert message in str(e.value), str(e.value)


@pytest.mark.parametrize("gene, value, message", [
    ("CYP2C9", "1", "activity scores"),
    ("CYP2C9", "1.50", "activity scores"),
    ("CYP2C9", "n/a", "activity scores"),
    ("CYP2C19", "n/a", "use \"Indeterminate\""),
    ("HLA-B", "*5701 positive", "allele status"),
    ("HLA-B", "positive", "allele status"),
])
def test_bad_lookup_values(tmp_path, gene, value, message):
    text = (_GOOD.replace("genes: [CYP2C19]", f"genes: [{gene}]")
            .replace("{CYP2C19: [Normal Metabolizer, Rapid Metabolizer]}", f"{{{gene}: {NO_RESULT!r}}}")
            .replace("{CYP2C19: Poor Metabolizer}", f"{{{gene}: {value!r}}}"))
    p = _write(tmp_path, text, name=f"drugx_{gene}.yaml")
    with pytest.raises(GuidelineError) as e:
        load_guideline_file(p, tmp_path)
    assert "recommendations[1]" in str(e.value) and message in str(e.value), str(e.value)


def test_file_name_and_yaml_errors(tmp_path):
    p = _write(tmp_path, _GOOD, name="drugx_CYP2C9.yaml")
    with pytest.raises(GuidelineError, match="file name must be"):
        load_guideline_file(p, tmp_path)
    p = _write(tmp_path, "source: [CPIC\n", name="broken_CYP2C19.yaml", folder="x")
    with pytest.raises(GuidelineError, match="not valid YAML"):
        load_guideline_file(p, tmp_path)
    with pytest.raises(GuidelineError, match="must be a directory"):
        load_guidelines(tmp_path / "nowhere")


def test_two_files_for_one_guideline(tmp_path):
    _write(tmp_path, _GOOD)
    _write(tmp_path, _GOOD, name="drugx-copy_CYP2C19.yaml")
    with pytest.raises(GuidelineError, match="one file per guideline"):
        load_guidelines(tmp_path)


_SPECIFIC = """\
source: DPWG
title: "A test guideline"
year: 2020
pmid: 12345
url: https://example.org/guideline
version: "2020"
authored: 2026-11-22
drugs: [drugx]
genes: [CYP2C9]
recommendations:
  - lookup: {CYP2C9: "1.0"}
    classification: N/A
    dosing: true
    action: change_dose
    text: "*1/*3 and other genotypes with this score: half the dose."
  - lookup: {CYP2C9: "1.0"}
    diplotypes: ["*2/*2"]
    classification: N/A
    action: standard
    text: "*2/*2: no action needed."
"""


def test_diplotype_selectors(tmp_path):
    _write(tmp_path, _SPECIFIC, name="drugx_CYP2C9.yaml", folder="dpwg")
    s = load_guidelines(tmp_path)
    (g,) = s.guidelines
    default, specific = g.recommendations
    assert not default.diplotypes and specific.diplotypes == {"CYP2C9": ("*2/*2",)}
    assert specific.action == "standard" and specific.action_curated
    assert s.match("drugx", {"CYP2C9": "1.0"}, diplotypes={"CYP2C9": "*2/*2"}) == [specific]
    assert s.match("drugx", {"CYP2C9": "1.0"}, diplotypes={"CYP2C9": "*3/*1"}) == [default]
    assert s.match("drugx", {"CYP2C9": "1.0"}) == [default]
    # the mapping form names the gene
    _write(tmp_path, _SPECIFIC.replace('diplotypes: ["*2/*2"]', 'diplotypes: {CYP2C9: ["*2/*2"]}'),
           name="drugx_CYP2C9.yaml", folder="dpwg")
    assert load_guidelines(tmp_path).guidelines[0].recommendations[1].diplotypes == {
        "CYP2C9": ("*2/*2",)}


@pytest.mark.parametrize("old, new, message", [
    ('diplotypes: ["*2/*2"]', 'diplotypes: ["*2"]',
     "recommendations[1]: diplotypes: CYP2C9: a non-empty list of diplotypes such as '*1/*3'"),
    ('diplotypes: ["*2/*2"]', 'diplotypes: []', "a non-empty list of diplotypes such as '*1/*3', got []"),
    ('diplotypes: ["*2/*2"]', 'diplotypes: "*2/*2"',
     "recommendations[1]: diplotypes must be a list of diplotypes (e.g. ['*2/*2'])"),
    ('diplotypes: ["*2/*2"]', 'diplotypes: {CYP9Z9: ["*2/*2"]}',
     "recommendations[1]: diplotypes: 'CYP9Z9' is not one of the guideline's genes ['CYP2C9']"),
    ('    action: standard\n', '    action: no_action\n',
     "recommendations[1]: action must be one of avoid, change_dose, monitor, conditional, "
     "standard, no_recommendation"),
    ('    action: standard\n', '',
     "recommendations[1]: missing key(s) ['action']"),
    ('    action: change_dose\n', '    action: Change dose\n', "got 'Change dose'"),
    # a genotype-specific entry needs a default entry for the other genotypes with its value
    ('  - lookup: {CYP2C9: "1.0"}\n    classification: N/A\n    dosing: true\n',
     '  - lookup: {CYP2C9: "1.5"}\n    classification: N/A\n    dosing: true\n',
     "recommendations[1]: genotype-specific entry (diplotypes:) for drugx / population None / "
     "CYP2C9='1.0' has no default entry"),
])
def test_diplotype_and_action_errors(tmp_path, old, new, message):
    assert old in _SPECIFIC
    p = _write(tmp_path, _SPECIFIC.replace(old, new, 1), name="drugx_CYP2C9.yaml", folder="dpwg")
    with pytest.raises(GuidelineError) as e:
        load_guidelines(tmp_path)
    assert str(p) in str(e.value) and message in str(e.value), str(e.value)


def test_diplotype_selector_errors_in_multi_gene_guidelines(tmp_path):
    text = (_SPECIFIC.replace("genes: [CYP2C9]", "genes: [CYP2C9, CYP2C19]")
            .replace('{CYP2C9: "1.0"}', '{CYP2C9: "1.0", CYP2C19: Normal Metabolizer}'))
    p = _write(tmp_path, text, name="drugx_CYP2C9_CYP2C19.yaml", folder="dpwg")
    with pytest.raises(GuidelineError, match=r"recommendations\[1\]: diplotypes: name the gene"):
        load_guideline_file(p, tmp_path)
    # two genotype-specific entries may not select the same diplotype
    text = _SPECIFIC + """\
  - lookup: {CYP2C9: "1.0"}
    diplotypes: ["*2/*2", "*1/*6"]
    classification: N/A
    action: change_dose
    text: "Also for *2/*2?"
"""
    p = _write(tmp_path, text, name="drugx_CYP2C9.yaml", folder="dpwg")
    with pytest.raises(GuidelineError, match=r"recommendations\[2\]: CYP2C9 \*2/\*2 is already "
                                             r"selected by recommendations\[1\]"):
        load_guideline_file(p, tmp_path)


# --------------------------------------------------------------------------------------------
# PharmCAT's guideline JSON


def test_pharmcat_reader_loads_all(pharmcat):
    assert len(pharmcat.guidelines) == 118
    assert sum(len(g.recommendations) for g in pharmcat.guidelines) > 2000
    sources = collections.Counter(g.source for g in pharmcat.guidelines)
    assert sources == {"CPIC": 56, "DPWG": 62}
    for g in pharmcat.guidelines:
        for r in g.recommendations:
            assert not re.search(r"<[a-z/]", r.text), (g.id, r.entry)
    (r,) = [r for r in pharmcat.match("clopidogrel", {"CYP2C19": "Poor Metabolizer"}, "CPIC")
            if r.population == "CVI ACS PCI"]
    assert r.classification == "Strong" and r.alternate_drug
    dpwg = pharmcat.match("siponimod", {"CYP2C9": "*3/*3"}, "DPWG")
    assert dpwg, "diplotype lookup keys are read as '*3/*3'"


def test_pharmcat_recommendations_take_our_curated_actions(pharmcat, ours):
    """A PharmGKB cell that one of our files covers (same source, drug, population, lookup)
    takes its curated action; the rest keep their flags' category, marked not curated."""
    recs = [r for g in pharmcat.guidelines for r in g.recommendations]
    curated = [r for r in recs if r.action_curated]
    assert len(curated) > 0.65 * len(recs), (len(curated), len(recs))  # 1,840 of 2,583
    assert all(r.action == flag_action(r.alternate_drug, r.dosing)
               for r in recs if not r.action_curated)
    (atorva,) = pharmcat.match("atorvastatin", {"SLCO1B1": "Poor Function"}, "CPIC")
    (mine,) = ours.match("atorvastatin", {"SLCO1B1": "Poor Function"}, "CPIC")
    assert atorva.action_curated and atorva.action == mine.action == "change_dose"
    assert atorva.alternate_drug  # the flags say avoid
    (flucl,) = pharmcat.match("flucloxacillin", {"HLA-B": "*57:01 positive"}, "DPWG")
    assert flucl.action == "monitor" and flucl.alternate_drug  # the flag says avoid


def test_pharmcat_reader_errors(tmp_path):
    (tmp_path / "x.json").write_text('{"guideline": {"id": "PA1", "source": "CPIC"}, "recommendations": '
                                      '[{"lookupKey": {"CYP9Z9": "Poor Metabolizer"}, "text": {"html": ""}}]}')
    with pytest.raises(GuidelineError, match=r"x\.json: recommendations\[0\].*unknown gene 'CYP9Z9'"):
        load_guidelines(tmp_path)
    (tmp_path / "x.json").write_text('{"guideline": {}, "nothing": []}')
    with pytest.raises(GuidelineError, match="not a PharmCAT guideline file"):
        load_guidelines(tmp_path)


# --------------------------------------------------------------------------------------------
# agreement with PharmGKB's annotations (PharmCAT, May 2024)

# PharmCAT lookup values -> ours. Mapped: "n/a" scores -> "Indeterminate" (what our calls
# report); CYP2D6 "≥X" -> "X" where PharmCAT has no exact "X"; DPWG DPYD "1.5 (Intermediate
# Metabolizer)" -> "1.5"; DPWG diplotype keys ("*1/*3") -> the lookup value our phenotype rules
# give that diplotype; DPWG phenotype keys of activity-score genes ("Intermediate Metabolizer"
# for CYP2C9) -> every score of that phenotype. Everything else must be in our vocabulary.
def _normalise_pharmcat(gene: str, value: str, exact: set[str], vocab: set[str], gene_def):
    """-> ([our values], None) or ([], reason for leaving the PharmCAT key out)."""
    if value == "xN combinations":
        return [], "CYP2D6 'xN' input message (no recommendation)"
    if gene in ACTIVITY_SCORE_GENES and value == "n/a":
        return [INDETERMINATE], None  # our calls report an n/a score as "Indeterminate"
    m = re.match(r"^≥([0-9.]+)$", value)
    if m:  # CYP2D6 copy number given as 'at least': our outside calls give exact copies
        if m.group(1) in exact:
            return [], "'≥' score also present as an exact score"
        value = m.group(1)
    m = re.match(r"^([0-9]+\.[0-9]+) \((.+)\)$", value)
    if m:  # DPWG DPYD: "1.5 (Intermediate Metabolizer)", "1.0 (Phenotyping)"
        value = m.group(1)
    m = re.match(r"^(\*[^/]+)/(\*[^/]+)$", value)
    if m and gene_def is not None:  # DPWG diplotype key
        alleles = m.groups()
        if not all(any(a.name == x for a in gene_def.alleles) for x in alleles):
            return [], f"diplotype key with an allele outside our panel ({value})"
        pheno, score = diplotype_phenotype(gene_def, alleles)
        value = format_score(score) if gene_def.phenotypes.method == "activity_score" else pheno
    if (gene_def is not None and gene_def.phenotypes.method == "activity_score"
            and value not in vocab):
        scores = sorted(v for v in vocab if re.match(r"^[0-9.]+$", v) and any(
            lo <= float(v) <= hi and label == value
            for lo, hi, label in gene_def.phenotypes.activity_ranges))
        if scores:
            return scores, None
    if value not in vocab:
        return [], f"not produced by our calls ({value})"
    return [value], None


# Known, explained differences: (our guideline id, drug or "*", lookup subset, kind, reason).
# kind: "missing" (PharmCAT has the key, we do not), "extra" (we have it, PharmCAT does not),
# "classification", "population".
KNOWN_DIFFERENCES: list[tuple[str, str, dict, str, str]] = [
    ("cpic/peginterferon_IFNL3", "*", {}, "extra",
     "PharmGKB's annotation (May 2024) has no lookup-keyed recommendations for this guideline; "
     "ours come from the publication's table"),
    ("cpic/warfarin_CYP2C9_VKORC1", "*", {}, "extra",
     "CPIC gives warfarin as a dosing algorithm; PharmGKB's annotation (May 2024) has no "
     "lookup-keyed recommendations; ours encode the algorithm's non-African-ancestry branch"),
    ("*", "*", {"CYP2D6": "4.5"}, "extra",
     "CYP2D6 score 4.5 (e.g. *1x3/*17x3) has no PharmGKB key; it lies in the guideline's "
     "ultrarapid range"),
    ("dpwg/*", "*", {"CYP2D6": "1.75"}, "extra",
     "PharmGKB's DPWG keys skip score 1.75; it lies inside DPWG's normal range (1.25-2.5)"),
    ("dpwg/*", "*", {"CYP2D6": "3.75"}, "extra",
     "PharmGKB's DPWG keys skip score 3.75; it lies inside DPWG's ultrarapid range (3.0 and up)"),
    ("dpwg/fluoropyrimidines_DPYD", "*", {"DPYD": "1.0"}, "classification",
     "DPWG splits score 1.0 into one no-function allele (graded N/A) and two decreased-function "
     "alleles ('phenotyping', left unclassified by PharmGKB); our score-1.0 default entry and its "
     "genotype-specific entry for the decreased-function pairs are both graded N/A (a "
     "classification is required)"),
    ("dpwg/eliglustat_CYP2D6", "eliglustat", {"CYP2D6": "6.0"}, "classification",
     "PharmGKB leaves its '≥6.0' eliglustat entry unclassified although its action is that of the "
     "other ultrarapid scores (graded N/A); ours is N/A"),
    ("dpwg/flucytosine_DPYD", "flucytosine", {"DPYD": "1.0"}, "classification",
     "DPWG splits score 1.0 into one no-function allele (graded N/A) and two decreased-function "
     "alleles ('phenotyping', left unclassified by PharmGKB); both get the same flucytosine "
     "action, which our single score-1.0 entry gives (N/A)"),
    ("dpwg/irinotecan_UGT1A1", "irinotecan", {"UGT1A1": "Intermediate Metabolizer"}, "classification",
     "PharmGKB leaves its *1/*80+*28 diplotype key unclassified, while the phenotype key and "
     "*1/*28 (same action) are graded N/A; our phenotype key is N/A"),
    ("dpwg/irinotecan_UGT1A1", "irinotecan", {"UGT1A1": "Poor Metabolizer"}, "classification",
     "PharmGKB leaves its *80+*28/*80+*28 diplotype key unclassified, while the phenotype key and "
     "*28/*28 (same action) are graded N/A; our phenotype key is N/A"),
]


# Our guidelines without a PharmGKB annotation in PharmCAT's May-2024 snapshot (no
# pharmgkb_id, so the agreement test cannot compare them), with the reason.
NOT_IN_PHARMCAT: dict[str, str] = {
    "cpic/metoprolol_CYP2D6":
        "CPIC's beta-blocker guideline (PMID 38951961) was published in July 2024, after "
        "PharmCAT's May-2024 snapshot; its facts were checked by hand (see the file's comments)",
}

_KNOWN_USED: set[int] = set()  # indices of KNOWN_DIFFERENCES that explained a difference


def _known(gid: str, drug: str, lookup: dict, kind: str) -> str | None:
    for i, (kid, kdrug, sub, kkind, reason) in enumerate(KNOWN_DIFFERENCES):
        if fnmatch.fnmatchcase(gid, kid) and kdrug in ("*", drug) and kkind == kind and all(
                lookup.get(k) == v for k, v in sub.items()):
            _KNOWN_USED.add(i)
            return reason
    return None


def _agreement(ours, pharmcat, vocabulary, defs):
    rows, diffs, flag_diffs = [], [], []
    by_id = {g.id: g for g in pharmcat.guidelines}
    pairs = []
    for g in ours.guidelines:
        if not g.pharmgkb_ids:
            rows.append((g.id, "-", 0, 0, 0, 0, 0, "no PharmGKB annotation in PharmCAT"))
        for pid in g.pharmgkb_ids:
            assert pid in by_id, f"{g.id}: PharmGKB id {pid} not among PharmCAT's files"
            pairs.append((g, by_id[pid]))
    for g, pg in pairs:
        assert pg.source == g.source and set(pg.genes) <= set(g.genes) | set(g.other_genes), g.id
        drugs = sorted(set(g.drugs) & set(pg.drugs))
        theirs: dict[tuple, set] = collections.defaultdict(set)
        theirs_flags: dict[tuple, set] = collections.defaultdict(set)
        excluded = collections.Counter()
        for r in pg.recommendations:
            if r.drug not in drugs:
                continue
            exact = {gene: {x.lookup[gene] for x in pg.recommendations} for gene in r.lookup}
            options, why = [], None
            for gene, v in sorted(r.lookup.items()):
                nvs, why = _normalise_pharmcat(gene, v, exact[gene], vocabulary.get(gene, set()),
                                               defs.genes.get(gene))
                if not nvs:
                    break
                options.append([(gene, nv) for nv in nvs])
            if why:
                excluded[why] += 1
                continue
            for combo in itertools.product(*options):
                key = (r.drug, tuple(sorted(combo)))
                theirs[key].add((r.population, r.classification))
                theirs_flags[key].add((r.population, r.alternate_drug, r.dosing))
        mine: dict[tuple, set] = collections.defaultdict(set)
        mine_flags: dict[tuple, set] = collections.defaultdict(set)
        for r in g.recommendations:
            if r.drug in drugs:
                key = (r.drug, tuple(sorted(r.lookup.items())))
                mine[key].add((r.population, r.classification))
                mine_flags[key].add((r.population, r.alternate_drug, r.dosing))
        shared = set(mine) & set(theirs)
        n_cls = n_pop = 0
        for key in sorted(set(mine) | set(theirs)):
            drug, lk = key[0], dict(key[1])
            look = ", ".join(f"{k}={v}" for k, v in key[1])
            if key not in mine or key not in theirs:
                kind = "missing" if key not in mine else "extra"
                diffs.append((g.id, drug, look, kind, str(sorted(theirs.get(key) or mine.get(key), key=str)),
                              _known(g.id, drug, lk, kind)))
                continue
            pops_m = {p for p, _ in mine[key]}
            pops_t = {p for p, _ in theirs[key]}
            if pops_m != pops_t:
                diffs.append((g.id, drug, look, "population", f"ours {sorted(pops_m, key=str)} vs "
                              f"PharmGKB {sorted(pops_t, key=str)}", _known(g.id, drug, lk, "population")))
            else:
                n_pop += 1
            if mine[key] != theirs[key]:
                if pops_m == pops_t:
                    diffs.append((g.id, drug, look, "classification",
                                  f"ours {sorted(mine[key], key=str)} vs PharmGKB {sorted(theirs[key], key=str)}",
                                  _known(g.id, drug, lk, "classification")))
            else:
                n_cls += 1
            if mine_flags[key] != theirs_flags[key]:
                flag_diffs.append((g.id, drug, look, sorted(mine_flags[key], key=str),
                                   sorted(theirs_flags[key], key=str),
                                   _known(g.id, drug, lk, "flags")))
        note = "; ".join(f"{n} left out: {why}" for why, n in sorted(excluded.items()))
        rows.append((g.id, pg.id, len(theirs), len(mine), len(shared), n_cls, n_pop, note))
    return rows, diffs, flag_diffs


def test_agreement_with_pharmcat(ours, pharmcat, vocabulary):
    rows, diffs, flag_diffs = _agreement(ours, pharmcat, vocabulary, load_definitions())
    print("\nAgreement with PharmGKB guideline annotations (PharmCAT, May 2024)")
    print("keys = (drug, lookup) after mapping PharmCAT's values to our vocabulary; "
          "cls/pop = shared keys whose classification / population sets agree")
    print(f"{'guideline':52s} {'PharmGKB':12s} {'theirs':>6s} {'ours':>5s} {'shared':>6s} "
          f"{'cls':>5s} {'pop':>5s}  notes")
    tot = [0, 0, 0, 0, 0]
    for gid, pid, nt, nm, ns, nc, npop, note in rows:
        print(f"{gid:52s} {pid:12s} {nt:6d} {nm:5d} {ns:6d} {nc:5d} {npop:5d}  {note}")
        for i, n in enumerate((nt, nm, ns, nc, npop)):
            tot[i] += n
    print(f"{'TOTAL':52s} {'':12s} {tot[0]:6d} {tot[1]:5d} {tot[2]:6d} {tot[3]:5d} {tot[4]:5d}")
    explained = [d for d in diffs if d[5]]
    unexplained = [d for d in diffs if not d[5]]
    if explained:
        print(f"\n{len(explained)} known differences, by reason:")
        by_reason = collections.defaultdict(list)
        for gid, drug, look, kind, detail, reason in explained:
            by_reason[reason].append(f"{gid}: {drug} {look} ({kind} {detail})")
        for reason, items in by_reason.items():
            print(f"  [{len(items)}] {reason}")
            for item in items[:3]:
                print(f"      {item}")
            if len(items) > 3:
                print(f"      ... and {len(items) - 3} more")
    if flag_diffs:
        print(f"\n{len(flag_diffs)} keys whose alternate-drug/dosing flags differ "
              f"(ours vs PharmGKB, as (population, alternate_drug, dosing)):")
        for gid, drug, look, m, t, reason in flag_diffs:
            print(f"  {gid}: {drug} {look}: {m} vs {t}" + ("" if reason else "  UNEXPLAINED"))
        for reason in dict.fromkeys(d[5] for d in flag_diffs if d[5]):
            print(f"  reason: {reason}")
    assert not unexplained, "unexplained differences:\n" + "\n".join(
        f"  {gid}: {drug} {look}: {kind} {detail}" for gid, drug, look, kind, detail, _ in unexplained)
    assert not [d for d in flag_diffs if not d[5]], "unexplained alternate-drug/dosing flags"
    stale = [KNOWN_DIFFERENCES[i][:4] for i in range(len(KNOWN_DIFFERENCES)) if i not in _KNOWN_USED]
    assert not stale, f"KNOWN_DIFFERENCES entries that explain nothing any more (remove them): {stale}"


def test_guidelines_without_pharmgkb_annotation_are_listed(ours):
    """A file without pharmgkb_id is not compared with PharmGKB; each must be listed, with its
    reason, in NOT_IN_PHARMCAT (and every listed file must exist and have no pharmgkb_id)."""
    unannotated = {g.id for g in ours.guidelines if not g.pharmgkb_ids}
    assert unannotated == set(NOT_IN_PHARMCAT), (
        f"not listed: {sorted(unannotated - set(NOT_IN_PHARMCAT))}; "
        f"listed but annotated or absent: {sorted(set(NOT_IN_PHARMCAT) - unannotated)}")


def test_every_pharmcat_guideline_is_covered_or_listed(ours, pharmcat):
    """Which of PharmCAT's 118 annotations we have a file for (printed; not a failure)."""
    have = {pid for g in ours.guidelines for pid in g.pharmgkb_ids}
    missing = [(g.source, g.id, "+".join(g.drugs[:3]) + ("..." if len(g.drugs) > 3 else ""),
                "+".join(g.genes)) for g in pharmcat.guidelines if g.id not in have]
    print(f"\nPharmCAT annotations without a file of ours: {len(missing)} of {len(pharmcat.guidelines)}")
    for src, pid, drugs, genes in sorted(missing):
        print(f"  {src} {pid} {drugs} / {genes}")
