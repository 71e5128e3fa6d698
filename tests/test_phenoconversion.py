"""Phenoconversion (pgx.phenotype.phenoconversion): what a clinician would notice.

The genotype phenotype converted by current medications: CYP2D6 by activity score (strong
inhibitor x0, moderate x0.5), CYP2C19/CYP2C9 by phenotype steps, CYP3A reported only; the
strongest interaction wins; inhibitor + inducer keeps the genotype phenotype with a warning;
unknown medications are reported; names match case-, brand- and dose-insensitively. The table
itself (resources/phenoconversion/interactions.yaml) holds only FDA strong/moderate classes of
supported genes, and a bad table is a one-line InputError naming the file and the entry.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from pgx.definitions.embedded import load_embedded
from pgx.errors import InputError
from pgx.phenotype.phenoconversion import (
    DEFAULT_TABLE,
    ENZYME_GENES,
    IM,
    NM,
    PM,
    RM,
    UM,
    convert,
    cyp2d6_phenotype,
    load_interactions,
    parse_medications,
)

TABLE = load_interactions()


# ============================================================================ the table
def test_every_enzyme_is_a_supported_pgx_gene():
    panel = load_embedded()  # embedded panel + phenotype-only genes (CYP2D6)
    for e in TABLE.entries:
        assert e.enzyme in ENZYME_GENES, e
        for gene in ENZYME_GENES[e.enzyme]:
            assert gene in panel.genes, (e, gene)
        assert e.source in TABLE.sources
        assert e.strength in ("strong", "moderate") and e.effect in ("inhibitor", "inducer")
    assert TABLE.sources["FDA"]["version"]  # the FDA table version/date is cited


# The FDA classes the brief requires (each checked against FDA Table 1; see the README).
REQUIRED = [
    *[(d, "CYP2D6", "inhibitor", "strong")
      for d in ("bupropion", "fluoxetine", "paroxetine", "quinidine", "terbinafine")],
    *[(d, "CYP2D6", "inhibitor", "moderate") for d in ("duloxetine", "mirabegron", "cinacalcet")],
    *[(d, "CYP2C19", "inhibitor", "strong") for d in ("fluconazole", "fluvoxamine", "ticlopidine")],
    *[(d, "CYP2C19", "inhibitor", "moderate") for d in ("voriconazole", "felbamate")],
    ("rifampin", "CYP2C19", "inducer", "strong"),
    *[(d, "CYP2C9", "inhibitor", "moderate") for d in ("amiodarone", "fluconazole", "miconazole")],
    ("rifampin", "CYP2C9", "inducer", "moderate"),
    *[(d, "CYP3A", "inhibitor", "strong")
      for d in ("clarithromycin", "itraconazole", "ketoconazole", "ritonavir")],
    *[(d, "CYP3A", "inhibitor", "moderate")
      for d in ("diltiazem", "erythromycin", "fluconazole", "verapamil")],
    *[(d, "CYP3A", "inducer", "strong")
      for d in ("carbamazepine", "phenytoin", "rifampin", "st. john's wort")],
]


@pytest.mark.parametrize("drug,enzyme,effect,strength", REQUIRED)
def test_required_fda_classes_present(drug, enzyme, effect, strength):
    hits = [e for e in TABLE.interactions(drug) if e.enzyme == enzyme]
    assert len(hits) == 1, (drug, enzyme)
    assert (hits[0].effect, hits[0].strength) == (effect, strength)


def test_readme_counts_match_the_table():
    counts = Counter((e.enzyme, e.effect, e.strength) for e in TABLE.entries)
    text = (DEFAULT_TABLE.parent / "README.md").read_text()
    for enzyme in ENZYME_GENES:
        row = re.search(rf"^\| {enzyme}\b[^|]*\|(.*)\|\s*$", text, re.M)
        assert row, enzyme
        got = [int(x) for x in row.group(1).split("|")]
        want = [counts[(enzyme, "inhibitor", "strong")], counts[(enzyme, "inhibitor", "moderate")],
                counts[(enzyme, "inducer", "strong")], counts[(enzyme, "inducer", "moderate")]]
        assert got == want, enzyme
    assert f"{len(TABLE.entries)} entries, {len({e.drug for e in TABLE.entries})} drugs" in text


# ============================================================================ CYP2D6
def test_cyp2d6_nm_paroxetine_is_pm():
    c = convert("CYP2D6", NM, 2.0, ["paroxetine"])
    assert (c.phenotype, c.activity_score, c.converted) == (PM, 0.0, True)
    assert (c.genotype_phenotype, c.genotype_activity_score) == (NM, 2.0)
    assert c.reasons == ["paroxetine: strong CYP2D6 inhibitor (FDA) → activity score 2.0 × 0 = 0.0, "
                         "Poor Metabolizer"]
    assert c.unknown_medications == [] and c.warnings == []


def test_cyp2d6_nm_duloxetine_is_im_score_1():
    c = convert("CYP2D6", NM, "2.0", "duloxetine")  # score as calls.tsv writes it
    assert (c.phenotype, c.activity_score, c.converted) == (IM, 1.0, True)
    assert "moderate CYP2D6 inhibitor" in c.reasons[0] and "2.0 × 0.5 = 1.0" in c.reasons[0]


def test_cyp2d6_im_bupropion_is_pm():
    c = convert("CYP2D6", IM, 1.0, ["bupropion"])
    assert (c.phenotype, c.activity_score, c.converted) == (PM, 0.0, True)


def test_cyp2d6_um_moderate_inhibitor_is_nm():
    c = convert("CYP2D6", UM, 3.0, ["mirabegron"])
    assert (c.phenotype, c.activity_score) == (NM, 1.5)


def test_cyp2d6_pm_stays_pm_not_converted():
    c = convert("CYP2D6", PM, 0.0, ["paroxetine"])
    assert (c.phenotype, c.activity_score, c.converted) == (PM, 0.0, False)
    assert len(c.reasons) == 1  # the interaction is still shown


@pytest.mark.parametrize("score,half,phenotype", [
    (0.25, 0.125, IM),   # between Poor (0) and Intermediate (0.25): some activity left
    (2.25, 1.125, IM),   # between Intermediate (1.0) and Normal (1.25)
    (4.75, 2.375, UM),   # between Normal (2.25) and Ultrarapid (2.5)
    (1.25, 0.625, IM),
    (2.5, 1.25, NM),
])
def test_cyp2d6_halved_scores_between_ranges(score, half, phenotype):
    c = convert("CYP2D6", "", score, ["cinacalcet"])
    assert (c.activity_score, c.phenotype) == (half, phenotype)


def test_cyp2d6_score_mapping_equals_consensus_bands():
    """Every multiple of 0.125 up to 6 gets the Caudle et al. 2020 band."""
    for i in range(49):
        x = i * 0.125
        want = PM if x == 0 else IM if x < 1.25 else NM if x <= 2.25 else UM
        assert cyp2d6_phenotype(x) == want, x


def test_cyp2d6_strongest_wins_once():
    c = convert("CYP2D6", NM, 2.0, ["duloxetine", "paroxetine"])
    assert (c.phenotype, c.activity_score) == (PM, 0.0)
    assert c.reasons[0].startswith("paroxetine: strong")
    assert c.reasons[1].startswith("duloxetine: moderate") and "not applied" in c.reasons[1]
    two_moderate = convert("CYP2D6", NM, 2.0, ["duloxetine", "cinacalcet"])
    assert two_moderate.activity_score == 1.0  # halved once, not twice
    assert any("combined effect may be greater" in w for w in two_moderate.warnings)


def test_cyp2d6_without_score():
    strong = convert("CYP2D6", "", None, ["fluoxetine"])
    assert (strong.phenotype, strong.activity_score, strong.converted) == (PM, 0.0, True)
    moderate = convert("CYP2D6", IM, "", ["duloxetine"])
    assert (moderate.phenotype, moderate.activity_score, moderate.converted) == (IM, None, False)
    assert "needs one activity score" in moderate.warnings[0]


# ============================================================================ CYP2C19 / CYP2C9
@pytest.mark.parametrize("genotype,meds,expected", [
    (NM, ["fluvoxamine"], PM),
    (UM, ["fluconazole"], PM),
    (RM, ["ticlopidine"], PM),
    (IM, ["fluoxetine"], PM),
    (NM, ["voriconazole"], IM),
    (UM, ["felbamate"], RM),
    ("Likely Intermediate Metabolizer", ["cenobamate"], PM),
    (NM, ["rifampin"], RM),                 # inducer: one step up
    (RM, ["efavirenz"], UM),
    (IM, ["phenytoin"], NM),
])
def test_cyp2c19_steps(genotype, meds, expected):
    c = convert("CYP2C19", genotype, None, meds)
    assert c.phenotype == expected and c.converted


def test_cyp2c19_inducer_cannot_lift_pm_or_exceed_um():
    pm = convert("CYP2C19", PM, None, ["rifampin"])
    assert (pm.phenotype, pm.converted) == (PM, False)
    assert "no functional enzyme to induce" in pm.reasons[0]
    um = convert("CYP2C19", UM, None, ["rifampin"])
    assert (um.phenotype, um.converted) == (UM, False)


def test_inhibitor_plus_inducer_keeps_genotype_with_warning():
    c = convert("CYP2C19", NM, None, "fluvoxamine; rifampin")
    assert (c.phenotype, c.converted) == (NM, False)
    assert [r.split(":")[0] for r in c.reasons] == ["fluvoxamine", "rifampin"]
    assert len(c.warnings) == 1 and "inhibitor (fluvoxamine) and inducer (rifampin)" in c.warnings[0]


def test_cyp2c9_steps():
    c = convert("CYP2C9", NM, "2.0", ["amiodarone"])
    assert (c.phenotype, c.activity_score, c.converted) == (IM, None, True)
    assert any("no activity score is defined" in w for w in c.warnings)
    assert convert("CYP2C9", IM, 1.0, ["fluconazole"]).phenotype == PM
    nm = convert("CYP2C9", NM, 2.0, ["rifampin"])  # nothing above Normal for CYP2C9
    assert (nm.phenotype, nm.activity_score, nm.converted) == (NM, 2.0, False)


def test_phenotype_off_scale_only_strong_inhibitor_applies():
    assert convert("CYP2C19", "Indeterminate", None, ["fluvoxamine"]).phenotype == PM
    c = convert("CYP2C19", "Indeterminate", None, ["voriconazole"])
    assert (c.phenotype, c.converted) == ("Indeterminate", False) and c.warnings


# ============================================================================ CYP3A, other genes
@pytest.mark.parametrize("gene", ["CYP3A4", "CYP3A5"])
def test_cyp3a_reported_not_converted(gene):
    c = convert(gene, NM, None, ["clarithromycin", "carbamazepine"])
    assert (c.phenotype, c.converted) == (NM, False)
    assert [r.split(":")[0] for r in c.reasons] == ["clarithromycin", "carbamazepine"]
    assert "no validated rule" in c.warnings[0]


def test_drug_for_another_enzyme_changes_nothing_and_is_not_unknown():
    c = convert("CYP2D6", NM, 2.0, ["fluvoxamine", "rifampin"])  # CYP2C19/CYP3A drugs
    assert (c.phenotype, c.converted, c.reasons, c.unknown_medications) == (NM, False, [], [])
    tpmt = convert("TPMT", NM, None, ["paroxetine"])
    assert (tpmt.phenotype, tpmt.converted, tpmt.reasons) == (NM, False, [])


# ============================================================================ medications
def test_unknown_medications_are_reported():
    c = convert("CYP2D6", NM, 2.0, ["paroxetine", "acetaminophen", "sertraline", "omeprazole"])
    assert c.phenotype == PM
    # sertraline (weak CYP2D6) and omeprazole (weak CYP2C19) are not in the strong/moderate table
    assert c.unknown_medications == ["acetaminophen", "sertraline", "omeprazole"]
    alone = convert("CYP2C19", NM, None, "omeprazole")
    assert (alone.phenotype, alone.converted, alone.unknown_medications) == (NM, False, ["omeprazole"])


@pytest.mark.parametrize("name,drug", [
    ("PAROXETINE", "paroxetine"),
    ("  Paxil ", "paroxetine"),
    ("Wellbutrin XL 300 mg", "bupropion"),
    ("paroxetine hydrochloride 20mg", "paroxetine"),
    ("Paxil (paroxetine)", "paroxetine"),
    ("Cymbalta", "duloxetine"),
    ("Prozac", "fluoxetine"),
    ("Nuedexta", "quinidine"),
])
def test_case_brand_dose_and_salt_matching_cyp2d6(name, drug):
    c = convert("CYP2D6", NM, 2.0, [name])
    assert c.converted and c.unknown_medications == []
    assert c.interactions[0][1].drug == drug
    if name.strip().lower() != drug:
        assert f"({drug})" in c.reasons[0]  # the reason names the generic drug


def test_synonyms_and_combinations():
    assert convert("CYP2C19", NM, None, ["Rifampicin"]).phenotype == RM
    assert convert("CYP2C19", NM, None, ["LUVOX"]).phenotype == PM
    sjw = convert("CYP3A4", NM, None, ["St. John\u2019s Wort", "st johns wort"])
    assert len(sjw.reasons) == 1  # one medication, spelled twice
    kaletra = convert("CYP3A4", NM, None, ["lopinavir/ritonavir"])
    assert kaletra.interactions[0][1].drug == "ritonavir"
    assert kaletra.unknown_medications == ["lopinavir"]  # the part the table does not know


@pytest.mark.parametrize("meds", [None, [], "", " ; , ", float("nan")])
def test_no_medications_unchanged(meds):
    c = convert("CYP2D6", NM, 2.0, meds)
    assert (c.phenotype, c.activity_score, c.converted) == (NM, 2.0, False)
    assert c.reasons == c.warnings == c.unknown_medications == []


def test_parse_medications():
    assert parse_medications("paroxetine, duloxetine;  acetaminophen ;") == [
        "paroxetine", "duloxetine", "acetaminophen"]
    assert parse_medications(["Paroxetine", "paroxetine", "a; b"]) == ["Paroxetine", "a", "b"]
    with pytest.raises(TypeError):
        parse_medications(42)


def test_convert_does_not_change_inputs():
    meds = ["paroxetine", "duloxetine"]
    convert("CYP2D6", NM, 2.0, meds)
    assert meds == ["paroxetine", "duloxetine"]


# ============================================================================ validation
GOOD = """\
curated: 2026-11-22
sources:
  FDA: {citation: "FDA Table 1", version: "2026"}
entries:
  - {drug: paroxetine, enzyme: CYP2D6, effect: inhibitor, strength: strong, source: FDA,
     synonyms: [paxil]}
  - {drug: rifampin, enzyme: CYP2C19, effect: inducer, strength: strong, source: FDA}
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "interactions.yaml"
    p.write_text(text)
    return p


def test_custom_table_is_used(tmp_path):
    table = load_interactions(_write(tmp_path, GOOD))
    c = convert("CYP2D6", NM, 2.0, ["Paxil", "duloxetine"], table=table)
    assert c.phenotype == PM and c.unknown_medications == ["duloxetine"]


BAD = [
    ("entries:\n  - [unclosed\n", "not valid YAML at line"),
    ("- just a list\n", "must be a mapping"),
    (GOOD + "extra: 1\n", "unknown keys ['extra']"),
    (GOOD.replace("curated: 2026-11-22\n", ""), "missing keys ['curated']"),
    (GOOD.replace("2026-11-22", "last week"), "curated must be a date"),
    (GOOD.replace('version: "2026"', 'url: "x"'), "source 'FDA': version must be"),
    (GOOD.replace("strength: strong, source: FDA,\n", "strength: Strong, source: FDA,\n"),
     "entry 1 (paroxetine): strength must be one of strong, moderate"),
    (GOOD.replace("strength: strong, source: FDA,\n", "strength: weak, source: FDA,\n"),
     "entry 1 (paroxetine): strength must be"),
    (GOOD.replace("effect: inducer", "effect: activator"), "entry 2 (rifampin): effect must be"),
    (GOOD.replace("enzyme: CYP2C19", "enzyme: CYP1A2"), "entry 2 (rifampin): enzyme must be one of"),
    (GOOD.replace("source: FDA}", "source: EMA}"), "entry 2 (rifampin): source 'EMA' is not a key"),
    (GOOD.replace("drug: rifampin", "drug: Rifampin"), "entry 2 (Rifampin): drug must be the generic "
                                                        "name in lower case"),
    (GOOD.replace("strength: strong, source: FDA}", "strength: strong, source: FDA, dose: 1}"),
     "entry 2 (rifampin): unknown keys ['dose']"),
    (GOOD.replace("enzyme: CYP2C19, effect: inducer", "enzyme: CYP2D6, effect: inducer"),
     "entry 2 (rifampin): no CYP2D6 inducer rule"),
    (GOOD + "  - {drug: paroxetine, enzyme: CYP2D6, effect: inhibitor, strength: moderate, "
            "source: FDA}\n", "entry 3 (paroxetine): paroxetine is listed for CYP2D6 twice (also entry 1)"),
    (GOOD + "  - {drug: fluoxetine, enzyme: CYP2D6, effect: inhibitor, strength: strong, "
            "source: FDA, synonyms: [PAXIL]}\n", "entry 3 (fluoxetine): name 'PAXIL' already names 'paroxetine'"),
    (GOOD.replace("synonyms: [paxil]", "synonyms: paxil"), "entry 1 (paroxetine): synonyms must be a list"),
    (GOOD + "  - paroxetine\n", "entry 3: must be a mapping"),
    (GOOD.replace("source: FDA}", "}"), "entry 2 (rifampin): missing keys ['source']"),
]


@pytest.mark.parametrize("text,message", BAD)
def test_bad_table_is_a_clear_input_error(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_interactions(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: "), msg
    assert message in msg, msg
    assert "\n" not in msg


def test_missing_table_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="phenoconversion table not found"):
        load_interactions(tmp_path / "nope.yaml")
