# pgx workflow: per-sample star-allele calls and drug recommendations, then a cohort table.
# Every rule is a thin wrapper around one `pgx` subcommand.


include: "workflow/rules/common.smk"
include: "workflow/rules/call.smk"
include: "workflow/rules/recommend.smk"


rule all:
    input:
        all_outputs(),
