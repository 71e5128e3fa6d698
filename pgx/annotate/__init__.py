"""The annotate stage (in progress): what a variant does to the transcripts it touches, and the
annotations of public sources (dbSNP, population AFs, ClinVar) matched allele by allele.

* :mod:`pgx.annotate.fasta` reads the reference sequence (plain or bgzipped FASTA with
  ``.fai``), :mod:`pgx.annotate.gff` the transcript models (Ensembl-layout GFF3) into columnar
  arrays;
* :mod:`pgx.annotate.csq` predicts consequences compatible with ``bcftools csq`` (INFO/BCSQ,
  local and haplotype-aware, FORMAT/BCSQ) and :mod:`pgx.annotate.hgvs` writes the HGVS ``c.``
  and ``p.`` names of each consequence; :mod:`pgx.annotate.csq_io` runs it over VCF files;
* :mod:`pgx.annotate.sources`, :mod:`pgx.annotate.source_cache` and
  :mod:`pgx.annotate.transfer`: allele-matched annotation transfer (``bcftools annotate -a -c``)
  through columnar source caches and numba sorted-merge kernels;
* :mod:`pgx.annotate.table`: the Parquet table of annotated variants.

Coordinates: VCF ``POS`` is 1-based; the transcript models and the FASTA reader use 0-based
positions (each module says whether an interval is half-open or closed).
"""
