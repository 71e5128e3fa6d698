"""The annotate stage (in progress): what a variant does to the transcripts it touches, and the
annotations of public sources (dbSNP, population AFs, ClinVar) matched allele by allele.

* :mod:`pgx.annotate.sources`, :mod:`pgx.annotate.source_cache` and
  :mod:`pgx.annotate.transfer`: allele-matched annotation transfer (``bcftools annotate -a -c``)
  through columnar source caches and numba sorted-merge kernels;
* :mod:`pgx.annotate.table`: the Parquet table of annotated variants.

Coordinates: VCF ``POS`` is 1-based.
"""
