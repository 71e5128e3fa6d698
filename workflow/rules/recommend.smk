rule recommend:
    input:
        "results/{sample}/calls.json",
    output:
        json="results/{sample}/recommend/{sample}.recommendations.json",
        tsv="results/{sample}/recommend/recommendations.tsv",
    params:
        medications=medications_arg,
    log:
        "logs/recommend/{sample}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/pgx.yaml"
    shell:
        "pgx recommend -q {params.medications} -o results/{wildcards.sample}/recommend"
        " {input} > {log} 2>&1"
