"""pgx: a pharmacogenomics pipeline (star-allele calling, phenotypes, reports)."""

__version__ = "0.1.0"
