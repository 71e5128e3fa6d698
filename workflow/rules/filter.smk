rule filter:
    input:
        unpack(filter_inputs),
    output:
        vcf="results/filtered/{preset}/{vcfkey}.vcf.gz",
        index="results/filtered/{preset}/{vcfkey}.vcf.gz.tbi",
        stats="results/filtered/{preset}/{vcfkey}.vcf.gz.stats.json",
    params:
        args=filter_args,
    log:
        "logs/filter/{preset}/{vcfkey}.log",
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../envs/pgx.yaml"
    shell:
        "pgx filter -q {params.args} --threads {threads} -o {output.vcf} {input.vcf}"
        " > {log} 2>&1"
