rule report:
    input:
        calls="results/{sample}/calls.json",
        recommendations="results/{sample}/recommend/{sample}.recommendations.json",
    output:
        html="results/{sample}/report/{sample}.report.html",
        json="results/{sample}/report/{sample}.report.json",
        tsv="results/{sample}/report/{sample}.report.tsv",
    log:
        "logs/report/{sample}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/pgx.yaml"
    shell:
        "pgx report -q -o results/{wildcards.sample}/report {input.calls}"
        " {input.recommendations} > {log} 2>&1"
