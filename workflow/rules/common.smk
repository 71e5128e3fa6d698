import os
import re
import shlex

import pandas as pd
from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "../schemas/config.schema.yaml")

samples = pd.read_csv(
    config["samples"], sep="\t", dtype=str, comment="#", keep_default_na=False
)
samples = samples.replace("", None)  # empty cells = column not set for that sample
validate(samples, "../schemas/samples.schema.yaml")
samples = samples.fillna("")

_dups = sorted(set(samples["sample"][samples["sample"].duplicated()]))
if _dups:
    raise WorkflowError(
        f"Duplicate sample IDs in {config['samples']}: {', '.join(_dups)}"
    )
if "cohort" in set(samples["sample"]):
    raise WorkflowError(
        f"Sample ID 'cohort' in {config['samples']} is reserved (results/cohort/)"
    )
if config["definitions"] != "embedded" and not os.path.isdir(config["definitions"]):
    raise WorkflowError(
        f"config 'definitions' must be 'embedded' or a directory: {config['definitions']}"
    )

samples = samples.set_index("sample", drop=False)

FILTER = config.get("filter", {"preset": "none", "presets": {}})
FILTER_PRESETS = FILTER.get("presets", {})


def sample_preset(sample):
    """The sample's filter preset: its sample-sheet `filter_preset`, else the config's."""
    preset = samples.loc[sample].get("filter_preset", "") or FILTER.get("preset", "none")
    if preset != "none" and preset not in FILTER_PRESETS:
        raise WorkflowError(
            f"filter preset {preset!r} (sample {sample}) is not under filter.presets in the "
            f"config; known: {', '.join(sorted(FILTER_PRESETS)) or 'none'}"
        )
    return preset


def _vcf_keys():
    """A short unique name per input VCF path: results/filtered/<preset>/<key>.vcf.gz."""
    keys = {}
    for path in dict.fromkeys(samples["vcf"]):
        base = re.sub(r"\.(vcf\.gz|vcf\.bgz|vcf|bcf)$", "", os.path.basename(path))
        base = re.sub(r"[^A-Za-z0-9._-]", "_", base) or "input"
        key, n = base, 1
        while key in keys.values():
            n += 1
            key = f"{base}_{n}"
        keys[path] = key
    return keys


VCF_KEYS = _vcf_keys()
VCF_BY_KEY = {key: path for path, key in VCF_KEYS.items()}
for _s in samples.index:
    sample_preset(_s)  # fail early on an unknown preset


wildcard_constraints:
    sample="|".join(re.escape(s) for s in samples.index),
    vcfkey="|".join(re.escape(k) for k in VCF_BY_KEY),
    preset="|".join(re.escape(p) for p in FILTER_PRESETS) or "no-presets",


def all_outputs():
    return (
        expand("results/{sample}/calls.json", sample=samples.index)
        + expand(
            "results/{sample}/report/{sample}.report.html",
            sample=samples.index,
        )
        + ["results/cohort/calls.tsv"]
    )


def _with_index(path):
    """The VCF/BCF and its index (.tbi/.csi) when one exists beside it."""
    inputs = {"vcf": path}
    if path.endswith((".vcf.gz", ".bcf")):
        for index in (f"{path}.tbi", f"{path}.csi"):
            if os.path.exists(index):
                inputs["index"] = index
                break
    return inputs


def filter_inputs(wildcards):
    return _with_index(VCF_BY_KEY[wildcards.vcfkey])


def filter_args(wildcards):
    """-i/-e/--set-gt-missing of the preset, and its name (recorded in the calls)."""
    preset = FILTER_PRESETS[wildcards.preset]
    args = [f"--label {shlex.quote(wildcards.preset)}"]
    for key, option in (
        ("include", "-i"),
        ("exclude", "-e"),
        ("set_gt_missing", "--set-gt-missing"),
    ):
        if preset.get(key):
            args.append(f"{option} {shlex.quote(preset[key])}")
    return " ".join(args)


def call_inputs(wildcards):
    """The sample's VCF (filtered by its preset unless "none"), and its outside calls if any."""
    row = samples.loc[wildcards.sample]
    preset = sample_preset(wildcards.sample)
    if preset == "none":
        inputs = _with_index(row["vcf"])
    else:
        filtered = f"results/filtered/{preset}/{VCF_KEYS[row['vcf']]}.vcf.gz"
        inputs = {"vcf": filtered, "index": filtered + ".tbi"}
    if row.get("outside_calls", ""):
        inputs["outside"] = row["outside_calls"]
    return inputs


def definitions_arg():
    if config["definitions"] == "embedded":
        return ""
    return f"--definitions {shlex.quote(config['definitions'])}"


def outside_arg(wildcards, input):
    if "outside" in input.keys():
        return f"--outside-calls {shlex.quote(input.outside)}"
    return ""


def medications_arg(wildcards):
    """--medications from the sample sheet's optional `medications` column (';'-separated)."""
    meds = samples.loc[wildcards.sample].get("medications", "")
    return f"--medications {shlex.quote(meds)}" if meds else ""
