"""The annotation table: one row per variant allele × transcript, as Parquet.

Columns (typed, nulls where a value is absent): ``chrom`` (string), ``pos`` (int64, 1-based VCF
POS), ``ref``, ``alt``, ``gene``, ``transcript``, ``biotype``, ``strand``, ``consequence``
(bcftools' terms joined by ``&``), ``amino_acid_change``, ``dna_change`` (bcftools' notation),
``hgvs_c``, ``hgvs_p``, ``in_definitions`` (the allele is part of an allele definition in use),
then every transferred field under its INFO name with its VCF type: Integer -> int64, Float ->
float64, String -> string, Flag -> bool (a per-allele field holds that allele's value; any
other field the record's whole text as a string). An allele with no consequence (outside
every transcript, or no GFF3 given) still has one row, with empty transcript columns.

Rows are collected per chunk and written as one row group each into a temporary file renamed
into place by :meth:`TableWriter.close` (:meth:`abort` removes it): DuckDB and pandas open the
file as it is (``SELECT * FROM 'out.parquet'``, ``pandas.read_parquet``).
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

CSQ_COLUMNS = ("gene", "transcript", "biotype", "strand", "consequence", "amino_acid_change",
               "dna_change", "hgvs_c", "hgvs_p")
_ARROW = {"Integer": "int64", "Float": "float64", "String": "string", "Flag": "bool"}


def _convert(value, vcf_type: str):
    """A transferred value as its column type (None for missing or unreadable)."""
    if value is None or value == "." or value == "":
        return False if vcf_type == "Flag" else None
    try:
        if vcf_type == "Integer":
            return int(value)
        if vcf_type == "Float":
            return float(value)
    except (TypeError, ValueError):
        return None
    if vcf_type == "Flag":
        return bool(value)
    return str(value)


class TableWriter:
    """Collects rows and writes the Parquet table (see the module docstring)."""

    def __init__(self, path: str | Path, fields: list[tuple[str, str, bool]]):
        """``fields``: (INFO name, VCF type, per allele) of every transferred field."""
        import pyarrow as pa

        self.path = Path(path)
        self.fields = fields
        cols = [("chrom", pa.string()), ("pos", pa.int64()), ("ref", pa.string()),
                ("alt", pa.string()), *((c, pa.string()) for c in CSQ_COLUMNS),
                ("in_definitions", pa.bool_())]
        for name, vcf_type, per_allele in fields:
            kind = _ARROW.get(vcf_type, "string") if per_allele or vcf_type == "Flag" \
                else "string"
            cols.append((name, getattr(pa, {"int64": "int64", "float64": "float64",
                                            "string": "string", "bool": "bool_"}[kind])()))
        self.schema = pa.schema(cols)
        self.tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
        self._writer = None
        self.rows = 0

    def add(self, rows: dict[str, list]) -> None:
        """One chunk of rows: column name -> values (every column of the schema)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        n = len(rows["chrom"])
        if n == 0:
            return
        data = {}
        for f in self.schema:
            vals = rows.get(f.name, [None] * n)
            spec = next((x for x in self.fields if x[0] == f.name), None)
            if spec is not None:
                t = spec[1] if (spec[2] or spec[1] == "Flag") else "String"
                vals = [_convert(v, t) for v in vals]
            data[f.name] = pa.array(vals, type=f.type)
        if self._writer is None:
            self._writer = pq.ParquetWriter(str(self.tmp), self.schema, compression="zstd")
        self._writer.write_table(pa.table(data, schema=self.schema))
        self.rows += n

    def close(self) -> None:
        """Finish the file and rename it into place (an empty table when no row was added)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._writer is None:
            pq.write_table(pa.table({f.name: pa.array([], type=f.type) for f in self.schema},
                                    schema=self.schema), str(self.tmp), compression="zstd")
        else:
            self._writer.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # noqa: BLE001 - removing the partial file is what matters
                pass
        if self.tmp.exists():
            self.tmp.unlink()
