"""The ``pgx`` command line: one verb per pipeline stage, each on plain files.

Exit status: 0 success, 2 usage error, 3 bad input (a one-line message names the file and fix).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from pgx import __version__
from pgx.errors import PgxError, UsageError

CALL_HELP = """\
Call star-allele diplotypes and phenotypes for every sample in one or more VCF/VCF.gz/BCF files
(GRCh38). Several files may hold different patients, or the same patients split by region.

A defined position that is absent, ./. or filtered is UNKNOWN, never assumed reference: it is
listed in missing_positions and every diplotype still consistent is reported (ties joined by
' OR ', status 'partial'), or the gene is not_called with the reason.

Outputs in OUTDIR:
  calls.tsv              sample, gene, diplotype, phenotype, activity_score,
                         missing_positions, status (called|partial|not_called|outside_call), reason
  <sample>.calls.json    detail per gene: candidates, scores, missing positions, warnings,
                         definitions source and version (schema: pgx/schemas/calls.schema.json)
  tested.json            exactly which alleles and positions were tested, per gene

examples:
  pgx call -o out/ patient1.vcf.gz cohort.bcf
  pgx call --definitions ../shared/oracle/pharmcat/definitions -o out/ sample.vcf
  pgx call --outside-calls cyp2d6.tsv --sample NA12878 -o out/ cohort.vcf.gz
"""

_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]|^\.\.?$|^$")


def _safe_sample(name: str) -> str:
    if _BAD_NAME.search(name) or ".." in name:
        raise UsageError(f"sample name {name!r} cannot be used in a file name (no '/', '..' or "
                         f"control characters); rename it with `bcftools reheader -s`")
    return name


def cmd_call(args: argparse.Namespace) -> int:
    from pgx.calling.caller import call_vcfs
    from pgx.calling.outside_calls import outside_calls_for, read_outside_calls
    from pgx.calling.output import output_files, write_atomically
    from pgx.definitions import load_definitions
    from pgx.phenotype.assign import assign_phenotypes

    if "{sample}" not in args.json_name and not args.sample:
        if args.json_name != "{sample}.calls.json":
            raise UsageError("--json-name without {sample} needs --sample (one sample per run)")
    defs = load_definitions(args.definitions)
    outside_rows = read_outside_calls(args.outside_calls) if args.outside_calls else []
    result = call_vcfs(args.vcf, defs, samples=args.sample, all_candidates=args.all_candidates,
                       show_progress=not args.quiet)
    if "{sample}" not in args.json_name and len(result.samples) != 1:
        raise UsageError("--json-name without {sample} needs exactly one sample")
    for s in result.samples:
        _safe_sample(s)
    if outside_rows:
        extra = outside_calls_for(outside_rows, args.outside_calls, result.samples)
        for s, outside in extra.items():
            by_gene = {c.gene: c for c in outside}
            merged = []
            for c in result.calls[s]:
                if c.gene in by_gene:
                    by_gene[c.gene].warnings.append(
                        f"outside call replaces the VCF-based call ({c.diplotype or c.status})")
                    continue
                merged.append(c)
            result.calls[s] = merged + outside
    assign_phenotypes(defs, [c for s in result.samples for c in result.calls[s]])
    files = output_files(Path(args.output), result.samples, result.calls, defs,
                         result.inputs, args.json_name)
    write_atomically(files)
    if not args.quiet:
        n_genes = len({c.gene for s in result.samples for c in result.calls[s]})
        print(f"pgx call: {len(result.samples)} sample(s) x {n_genes} genes -> "
              f"{Path(args.output) / 'calls.tsv'}", file=sys.stderr)
    return 0


def cmd_merge_calls(args: argparse.Namespace) -> int:
    from pgx.calling.output import TSV_COLUMNS, write_atomically
    from pgx.errors import InputError

    header = "\t".join(TSV_COLUMNS)
    lines = [header]
    for path in args.tsv:
        text = Path(path).read_text().splitlines()
        if not text or text[0] != header:
            raise InputError(f"{path}:1: not a pgx calls.tsv (expected header: {header})")
        lines.extend(text[1:])
    write_atomically({Path(args.output): "\n".join(lines) + "\n"})
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pgx",
        description="pgx: pharmacogenomics from patient VCFs: star alleles, phenotypes "
                    "(and, in later stages, drug recommendations and reports).",
        epilog="Run `pgx <command> --help` for details. Exit status: 0 ok, 2 usage error, "
               "3 bad input.")
    p.add_argument("--version", action="version", version=f"pgx {__version__}")
    sub = p.add_subparsers(dest="command", metavar="<command>", required=True)

    c = sub.add_parser("call", help="call star-allele diplotypes and phenotypes from VCFs",
                       description=CALL_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("vcf", nargs="+", metavar="VCF", help="VCF, VCF.gz (bgzip) or BCF, GRCh38")
    c.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output directory")
    c.add_argument("--definitions", metavar="DIR",
                   help="allele definitions: PharmCAT's definitions directory "
                        "(*_translation.json) or a folder of pgx gene YAML; default: the "
                        "embedded panel in resources/definitions")
    c.add_argument("--outside-calls", metavar="TSV",
                   help="diplotypes from other tools (gene, diplotype[, phenotype[, "
                        "activity_score]]), e.g. CYP2D6 or HLA-B; merged and marked outside_call")
    c.add_argument("--sample", action="append", metavar="ID",
                   help="call only this sample (repeatable); default: every sample")
    c.add_argument("--all-candidates", action="store_true",
                   help="report every consistent diplotype, not only the top-scoring ones")
    c.add_argument("--json-name", default="{sample}.calls.json", metavar="TEMPLATE",
                   help="file name of the per-sample JSON (default: {sample}.calls.json)")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on stderr")
    c.set_defaults(func=cmd_call)

    m = sub.add_parser("merge-calls", help="concatenate calls.tsv files (header once)")
    m.add_argument("tsv", nargs="+", metavar="TSV")
    m.add_argument("-o", "--output", required=True, metavar="TSV")
    m.set_defaults(func=cmd_merge_calls)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except PgxError as exc:
        print(f"pgx {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
