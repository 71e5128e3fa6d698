rule call:
    input:
        unpack(call_inputs),
    output:
        tsv="results/{sample}/calls.tsv",
        json="results/{sample}/calls.json",
    params:
        definitions=definitions_arg(),
        outside=outside_arg,
    log:
        "logs/call/{sample}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/pgx.yaml"
    shell:
        "pgx call {params.definitions} {params.outside} --sample {wildcards.sample}"
        " --json-name calls.json -o results/{wildcards.sample} {input.vcf} > {log} 2>&1"


rule merge_calls:
    input:
        expand("results/{sample}/calls.tsv", sample=samples.index),
    output:
        "results/cohort/calls.tsv",
    log:
        "logs/merge_calls.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/pgx.yaml"
    shell:
        "pgx merge-calls -o {output} {input} > {log} 2>&1"
