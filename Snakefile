# pgx workflow: quality filter (pgx filter), then per-sample star-allele calls, drug
# recommendations and a clinical report, then a cohort table.
# Every rule is a thin wrapper around one `pgx` subcommand.


include: "workflow/rules/common.smk"
include: "workflow/rules/filter.smk"
include: "workflow/rules/call.smk"
include: "workflow/rules/recommend.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        all_outputs(),
