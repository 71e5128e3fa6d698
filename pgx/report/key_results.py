"""The key results a clinician reads first: the patient's current medications with their
advice, the actionable results, and the genes not tested or incomplete with what to order.

Built from the report's gene and drug entries (:mod:`pgx.report.model`), nothing else:

* ``medications``: each medication as given, the guideline drugs it names with their most
  severe category and advice (and what may change it), and its enzyme interactions as
  phenoconversion recorded them; a medication the interaction table does not know says that
  its interactions were not assessed;
* ``actionable``: genes whose result as reported asks to avoid a drug, change a dose or
  monitor, with those drugs (marked when the entry is incomplete); a multi-gene guideline is
  attributed to its genes whose phenotype is not a normal one (to all of them when every one
  is normal);
* ``incomplete``: genes that a guideline needs but that were not typed, and typed genes whose
  phenotype is not certain, each with what would settle it and the drugs it may change.
"""
from __future__ import annotations

import re

_NORMAL = re.compile(r"\bnormal\b", re.I)
_ACTIONABLE = ("avoid", "change_dose", "monitor")


def open_alleles(entry: dict) -> list[dict]:
    """Per missing position of a calls-JSON gene entry, the alleles it leaves open (from the
    ``not_excluded`` groups) and the phenotypes they lead to. ``listed`` is False for a
    position the groups do not list (they list a few positions each and count the rest);
    ``alleles`` empty and ``listed`` True: the observed positions exclude every allele there."""
    opened: dict[str, dict] = {}
    complete = not any(g.get("more_positions") for g in entry.get("not_excluded") or [])
    for grp in entry.get("not_excluded") or []:
        for p in grp["positions"]:
            cur = opened.setdefault(p["position"], {"alleles": [], "more": 0, "phenotypes": []})
            cur["alleles"] += [a for a in p["alleles"] if a not in cur["alleles"]]
            cur["more"] = max(cur["more"], p.get("more_alleles", 0))
            if grp["phenotype"] not in cur["phenotypes"]:
                cur["phenotypes"].append(grp["phenotype"])
    out = []
    for m in entry.get("missing_positions") or []:
        pos, _, rest = m.partition(" ")
        o = opened.get(pos, {"alleles": [], "more": 0, "phenotypes": []})
        out.append({"position": pos, "rsid": rest.strip("()") or None,
                    "listed": pos in opened or complete, **o})
    return out


def _attributed(d: dict) -> list[str]:
    typed = [p for p in d["phenotypes"] if p["status"] not in ("not_called", "not_typed")]
    odd = [p["gene"] for p in typed if not _NORMAL.search(p["phenotype"] or "")]
    return odd or [p["gene"] for p in typed]


def key_results(genes: list[dict], drugs: list[dict], meds: dict | None,
                categories: tuple[str, ...]) -> dict:
    rank = {c: i for i, c in enumerate(categories)}
    by_drug: dict[str, list[dict]] = {}
    for d in drugs:
        by_drug.setdefault(d["drug"], []).append(d)

    def worst(entries: list[dict]) -> dict:
        return min(entries, key=lambda d: rank[d["category"]])

    medications = []
    for given in (meds or {}).get("given", []):
        names = (meds.get("guideline_drugs") or {}).get(given, [])
        rows = []
        for name in names:
            w = worst(by_drug.get(name, []) or [{"category": "no_recommendation"}])
            entries = sorted(by_drug.get(name, []), key=lambda d: rank[d["category"]])
            rows.append({"drug": name, "category": w["category"],
                         "advice": [{"source": d["source"]["guideline"],
                                     "category": d["category"],
                                     "text": "; ".join(dict.fromkeys(a["text"] for a in
                                                                     d["advice"]))
                                     or d["recommendation"],
                                     "may_change": d["may_change"]} for d in entries]})
        key = given.lower()
        interactions = sorted({r for g in genes for r in g["phenoconversion_reasons"]
                               if r.lower().startswith(key)})
        medications.append({
            "given": given, "drugs": rows, "interactions": interactions,
            "interactions_assessed": given not in meds.get("unknown", []),
        })

    actionable: dict[str, dict] = {}
    for d in drugs:
        if d["action"] not in _ACTIONABLE:
            continue
        for gene in _attributed(d):
            g = next(x for x in genes if x["gene"] == gene)
            a = actionable.setdefault(gene, {"gene": gene, "diplotype": g["diplotype"],
                                             "phenotype": g["converted_phenotype"]
                                             if g["phenoconverted"] else g["phenotype"],
                                             "phenoconverted": g["phenoconverted"],
                                             "phenotype_certain": g["phenotype_certain"],
                                             "drugs": {}})
            cur = a["drugs"].get(d["drug"])
            if cur is None or rank[d["action"]] < rank[cur[0]]:
                a["drugs"][d["drug"]] = (d["action"], d["category"] == "incomplete")
    for a in actionable.values():
        a["drugs"] = [{"drug": n, "category": c, "incomplete": inc}
                      for n, (c, inc) in sorted(a["drugs"].items(),
                                                key=lambda x: (rank[x[1][0]], x[0]))]
        a["category"] = a["drugs"][0]["category"]

    needed = {gene for d in drugs for gene in d["genes"]}
    incomplete = []
    for g in genes:
        name = g["gene"]
        settles = [x for d in drugs for x in d["settle"] if x["gene"] == name]
        affected = sorted({d["drug"] for d in drugs
                           if any(x["gene"] == name for x in d["settle"])})
        if g["status"] in ("not_called", "not_typed"):
            if name not in needed:
                continue
            order = next((x["order"] for x in settles if x.get("order")),
                         f"{name} genotyping")
            incomplete.append({"gene": name, "status": g["status"],
                               "what": "not tested" if g["status"] == "not_typed"
                               else f"no result ({g['reason']})",
                               "settle": f"order {order}", "drugs": affected})
        elif not g["phenotype_certain"] and len(g["possible_phenotypes"]) > 1:
            others = [p for p in g["possible_phenotypes"] if p not in g["phenotype"].split(" OR ")]
            texts = list(dict.fromkeys(x["text"] for x in settles))
            if not texts:
                texts = ["genotype the missing positions" if g["missing_positions"]
                         else "phased data would decide"]
            settle = max(texts, key=len)
            if g["missing_positions"]:
                settle += " (to genotype them: pgx positions lists every defined position)"
            what = f"{' or '.join(others) or 'another diplotype'} not excluded"
            if g["novel_variants"]:
                what += " (a possible novel allele)"
            incomplete.append({"gene": name, "status": g["status"], "what": what,
                               "settle": settle, "drugs": affected})
    return {"medications": medications,
            "actionable": sorted(actionable.values(), key=lambda a: (rank[a["category"]],
                                                                     a["gene"])),
            "incomplete": incomplete}
