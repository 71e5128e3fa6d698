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


wildcard_constraints:
    sample="|".join(re.escape(s) for s in samples.index),


def all_outputs():
    return (
        expand("results/{sample}/calls.json", sample=samples.index)
        + expand(
            "results/{sample}/report/{sample}.report.html",
            sample=samples.index,
        )
        + ["results/cohort/calls.tsv"]
    )


def call_inputs(wildcards):
    """The sample's VCF/BCF, its index when present, and its outside calls if any."""
    row = samples.loc[wildcards.sample]
    inputs = {"vcf": row["vcf"]}
    if row["vcf"].endswith((".vcf.gz", ".bcf")):
        for index in (f"{row['vcf']}.tbi", f"{row['vcf']}.csi"):
            if os.path.exists(index):
                inputs["index"] = index
                break
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
