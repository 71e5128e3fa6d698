"""The ``pgx`` command line: one verb per pipeline stage, each on plain files.

Exit status: 0 success, 2 usage error, 3 bad input (a one-line message names the file and fix).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pgx import __version__
from pgx.errors import InputError, PgxError, UsageError

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

Input: bgzipped VCF and BCF over 16 MiB need an index (.tbi/.csi: `bcftools index -t` for
VCF.gz, `bcftools index` for BCF); smaller files and plain-text VCF are streamed. Bad input
(another genome build, gVCF blocks, malformed lines, unknown --sample, ...) stops the run with
exit status 3 and a one-line message naming the file (and line) and the fix; usage errors exit
2. Outputs are written only when the whole run succeeds: a failed run adds no files to OUTDIR.

examples:
  pgx call -o out/ patient1.vcf.gz cohort.bcf
  pgx call --definitions ../shared/oracle/pharmcat/definitions -o out/ sample.vcf
  pgx call --outside-calls cyp2d6.tsv --sample NA12878 -o out/ cohort.vcf.gz
"""

RESERVED_NAMES = ("calls.tsv", "tested.json")


def _check_json_name(template: str, samples: list[str] | None) -> None:
    """--json-name must be a plain file name inside OUTDIR, with {sample} unless one --sample."""
    try:
        example = template.format(sample="SAMPLE")
    except (KeyError, IndexError, ValueError) as exc:
        raise UsageError(f"--json-name {template!r}: only the placeholder {{sample}} is allowed "
                         f"({exc})") from exc
    if not example or "/" in example or "\\" in example or example in (".", "..") \
            or example.startswith(".") or example in RESERVED_NAMES:
        raise UsageError(f"--json-name {template!r} must be a plain file name in OUTDIR (no "
                         f"'/', not hidden, not {' or '.join(RESERVED_NAMES)}), e.g. "
                         f"{{sample}}.calls.json")
    if "{sample}" not in template and (not samples or len(samples) != 1):
        raise UsageError(f"--json-name {template!r} has no {{sample}}, so it needs exactly one "
                         f"--sample (one sample per run)")


def _check_outdir(outdir: Path) -> None:
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(f"-o {outdir}: exists and is not a directory; choose an output "
                         f"directory")


def _write(files: dict[Path, str], where: Path) -> None:
    from pgx.calling.output import write_atomically

    try:
        write_atomically(files)
    except OSError as exc:
        raise UsageError(f"{where}: cannot write the outputs ({exc.strerror or exc}); choose a "
                         f"writable location with -o") from exc


OUTSIDE_FORMAT = ("tab-separated gene, diplotype[, phenotype[, activity_score]], optional header "
                  "row adding a sample column; one line per gene and sample")


def _check_definitions_dir(spec: str | None) -> None:
    if spec is None or spec == "embedded":
        return
    path = Path(spec)
    fix = ("point --definitions at PharmCAT's definitions folder (*_translation.json) or a "
           "folder of pgx gene YAML files, or leave it out for the embedded panel")
    if not path.exists():
        raise InputError(f"{path}: --definitions directory not found; {fix}")
    if not path.is_dir():
        raise InputError(f"{path}: --definitions is not a directory; {fix}")
    if not any(path.glob("*_translation.json")) and not any(path.glob("*.yaml")):
        raise InputError(f"{path}: no allele definitions (*_translation.json or *.yaml) in the "
                         f"--definitions directory; {fix}")


def cmd_call(args: argparse.Namespace) -> int:
    from pgx.calling.caller import call_vcfs, check_sample_name, open_inputs
    from pgx.calling.outside_calls import merge_outside_calls, read_outside_calls
    from pgx.calling.output import output_files
    from pgx.definitions import load_definitions
    from pgx.phenotype.assign import assign_phenotypes

    outdir = Path(args.output)
    _check_json_name(args.json_name, args.sample and list(dict.fromkeys(args.sample)))
    _check_outdir(outdir)
    _check_definitions_dir(args.definitions)
    outside_rows = []
    if args.outside_calls:
        if not Path(args.outside_calls).is_file():
            raise InputError(f"{args.outside_calls}: --outside-calls file not found; check the "
                             f"path")
        try:
            outside_rows = read_outside_calls(args.outside_calls)
        except InputError as exc:
            raise InputError(f"{exc} (--outside-calls: {OUTSIDE_FORMAT})") from exc
    opened = open_inputs(args.vcf, args.sample)  # VCF headers and samples: before definitions
    defs = load_definitions(args.definitions)
    result = call_vcfs(args.vcf, defs, samples=args.sample, all_candidates=args.all_candidates,
                       show_progress=not args.quiet, opened=opened)
    if "{sample}" not in args.json_name and len(result.samples) != 1:
        raise UsageError("--json-name without {sample} needs exactly one sample")
    for s in result.samples:  # checked by call_vcfs already; no path is built from a bad name
        check_sample_name(s)
        if args.json_name.format(sample=s) in RESERVED_NAMES:
            raise UsageError(f"--json-name {args.json_name!r} gives sample {s!r} the file name "
                             f"{args.json_name.format(sample=s)}, which pgx writes itself; use "
                             f"another --json-name, e.g. {{sample}}.calls.json")
    if outside_rows:  # checked against the definitions; replace VCF-based calls
        merge_outside_calls(result.calls, outside_rows, args.outside_calls, result.samples,
                            result.all_samples, defs)
    assign_phenotypes(defs, [c for s in result.samples for c in result.calls[s]])
    files = output_files(outdir, result.samples, result.calls, defs,
                         result.inputs, args.json_name, result.filters, result.sample_files,
                         result.annotations)
    _write(files, outdir)
    if not args.quiet:
        n_genes = len({c.gene for s in result.samples for c in result.calls[s]})
        print(f"pgx call: {len(result.samples)} sample(s) x {n_genes} genes -> "
              f"{outdir / 'calls.tsv'}", file=sys.stderr)
    return 0


FILTER_HELP = """\
Filter a VCF before calling, with bcftools-compatible expressions: keep records by -i/-e
(like `bcftools view -i/-e`), then turn genotypes for which --set-gt-missing is true into
missing (./., like `bcftools +setGT -- -t q -n . -i EXPR`). A masked genotype is reported by
`pgx call` as a missing position, never guessed as reference.

Expressions (the subset of bcftools' syntax that pgx implements): QUAL, FILTER="PASS",
FILTER~"q10", INFO/TAG (or TAG), FMT/TAG (true for a record when any sample is true), GT="het"
|"hom"|"ref"|"alt"|"mis", TYPE="snp"|"indel"|"mnp"|"ref"|"other", N_ALT, numbers, + - * /,
== != < <= > >=, && || (any samples) & | (the same sample), !, parentheses, TAG="." (missing).
A comparison with a missing value is false, as in bcftools.

Outputs: OUT (VCF.gz, BCF or VCF by its extension or -O), its index (.tbi for VCF.gz, .csi for
BCF; --no-index to skip) and OUT.stats.json (records in/out, records failing each top-level
clause, genotypes masked; schema pgx/schemas/filter_stats.schema.json). OUT's header records
what was applied (##pgx_filter=...), and `pgx call` copies that into every call. Outputs appear
only when the run succeeds.

Presets: --preset NAME takes -i/-e/--set-gt-missing from the `filter.presets` section of a
config file (default config/config.yaml), e.g. wgs_default, array_default.

examples:
  pgx filter -e 'QUAL<20' --set-gt-missing 'FMT/GQ<20 || FMT/DP<8' -o filtered.vcf.gz in.vcf.gz
  pgx filter -i 'FILTER="PASS" && INFO/DP>=10' --threads 2 -o out.bcf cohort.vcf.gz
  pgx filter --preset wgs_default -o filtered.vcf.gz patient.vcf.gz
"""


def _preset(name: str, config_path: str) -> dict:
    import yaml

    path = Path(config_path)
    if not path.is_file():
        raise UsageError(f"--preset {name}: the presets file {path} does not exist; pass "
                         f"--presets-file FILE (a config with a filter.presets section)")
    try:
        presets = (yaml.safe_load(path.read_text()) or {}).get("filter", {}).get("presets", {})
    except (yaml.YAMLError, AttributeError) as exc:
        raise UsageError(f"{path}: cannot read filter presets ({exc}); fix the YAML") from exc
    if name not in presets:
        known = ", ".join(sorted(presets)) or "none"
        raise UsageError(f"--preset {name}: no such preset in {path} (known: {known})")
    return presets[name] or {}


def cmd_filter(args: argparse.Namespace) -> int:
    from pgx.filtering.apply import FilterSettings, filter_vcf

    settings = FilterSettings(include=args.include, exclude=args.exclude,
                              set_gt_missing=args.set_gt_missing)
    if args.preset:
        if args.include or args.exclude or args.set_gt_missing:
            raise UsageError("--preset cannot be combined with -i/-e/--set-gt-missing; use one "
                             "or the other")
        preset = _preset(args.preset, args.presets_file)
        settings = FilterSettings(include=preset.get("include"), exclude=preset.get("exclude"),
                                  set_gt_missing=preset.get("set_gt_missing"),
                                  preset=args.preset)
    if args.label:
        settings.preset = args.label
    if not Path(args.vcf).is_file():
        raise InputError(f"{args.vcf}: no such file; check the path")
    stats = filter_vcf(args.vcf, args.output, settings, threads=args.threads,
                       output_type=args.output_type, stats_path=args.stats,
                       index=not args.no_index, level=args.compression_level, argv=["pgx", *sys.argv[1:]],
                       progress=not args.quiet)
    if not args.quiet:
        s = stats.as_json()
        print(f"pgx filter: {s['records_out']:,} of {s['records_in']:,} records kept, "
              f"{s['genotypes_masked']:,} genotypes set missing -> {args.output} "
              f"({s['seconds']:.2f} s)", file=sys.stderr)
    return 0


def cmd_merge_calls(args: argparse.Namespace) -> int:
    """Concatenate calls.tsv files: each must have the exact calls.tsv header and as many
    columns per row; a (sample, gene) pair given twice is an error (a sample called twice)."""
    import csv
    import io

    from pgx.calling.output import TSV_COLUMNS

    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(TSV_COLUMNS)
    seen: dict[tuple[str, str], str] = {}
    header = "\t".join(TSV_COLUMNS)
    for path in args.tsv:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{path}: no such file; check the path (a calls.tsv from `pgx call`)")
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot be read as text ({exc}); pass a calls.tsv "
                             f"written by `pgx call`") from exc
        rows = csv.reader(io.StringIO(text), delimiter="\t")
        first = next(rows, None)
        if first is None or tuple(first) != TSV_COLUMNS:
            raise InputError(f"{path}:1: not a pgx calls.tsv (expected the header: {header}); "
                             f"pass calls.tsv files written by `pgx call`")
        for row in rows:
            n = rows.line_num
            if len(row) != len(TSV_COLUMNS):
                raise InputError(f"{path}:{n}: {len(row)} columns, expected {len(TSV_COLUMNS)} "
                                 f"({', '.join(TSV_COLUMNS)}); re-create the file with `pgx call`")
            key = (row[0], row[1])
            if key in seen:
                raise InputError(f"{path}:{n}: sample {row[0]!r} gene {row[1]} is already in "
                                 f"{seen[key]}; merge each sample's calls once")
            seen[key] = f"{path}:{n}"
            writer.writerow(row)
    _check_outdir_parent(Path(args.output))
    _write({Path(args.output): out.getvalue()}, Path(args.output))
    return 0


def _check_outdir_parent(output: Path) -> None:
    if output.is_dir():
        raise UsageError(f"-o {output}: is a directory; give the merged calls.tsv file name")


def _recommend_inputs(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for spec in paths:
        p = Path(spec)
        if p.is_dir():
            found = sorted(p.glob("*.calls.json"))
            if not found:
                raise InputError(f"{p}: no <sample>.calls.json files in this directory; pass "
                                 f"the calls JSON written by `pgx call`")
            out.extend(found)
        else:
            out.append(p)
    return out


def cmd_recommend(args: argparse.Namespace) -> int:
    """Per-sample drug recommendations from calls JSON (see pgx.recommend.engine)."""
    import json

    from pgx.guidelines import load_guidelines
    from pgx.recommend import read_calls, recommend_sample, recommendations_tsv

    outdir = Path(args.output)
    _check_outdir(outdir)
    source = None if args.source == "all" else args.source
    docs, seen = [], {}
    calls = [(p, read_calls(p)) for p in _recommend_inputs(args.calls)]
    gset = load_guidelines(args.guidelines)
    drugs = [d.strip().lower() for d in (args.drugs or "").split(";") if d.strip()] or None
    for d in drugs or []:
        if not gset.for_drug(d, source):
            raise InputError(_unknown_drug(d, gset, source))
    for path, doc in calls:
        if doc["sample"] in seen:
            raise InputError(f"{path}: sample {doc['sample']!r} is also in {seen[doc['sample']]}; "
                             f"pass each sample's calls JSON once")
        seen[doc["sample"]] = path
        docs.append(recommend_sample(doc, gset, args.medications, source, drugs, str(path)))
    files = {outdir / f"{d['sample']}.recommendations.json": json.dumps(d, indent=1) + "\n"
             for d in docs}
    files[outdir / "recommendations.tsv"] = recommendations_tsv(docs)
    _write(files, outdir)
    warned = set()
    for d in docs:
        for w in d["warnings"]:
            if w not in warned:
                warned.add(w)
                print(f"pgx recommend: warning: {w}", file=sys.stderr)
    if not args.quiet:
        print(f"pgx recommend: {len(docs)} sample(s) x {len(docs[0]['drugs']) if docs else 0} "
              f"drug-guideline pairs -> {outdir / 'recommendations.tsv'}", file=sys.stderr)
    return 0


def _unknown_drug(drug: str, gset, source: str | None) -> str:
    import difflib

    known = sorted({d for g in gset.guidelines if source is None or g.source == source
                    for d in g.drugs})
    close = difflib.get_close_matches(drug.lower(), known, n=5, cutoff=0.6)
    hint = f"close matches: {', '.join(close)}" if close else f"{len(known)} drugs are covered"
    return (f"no {source + ' ' if source else ''}guideline covers drug {drug!r} ({hint}); "
            f"check the spelling (generic name)")


def cmd_lookup(args: argparse.Namespace) -> int:
    """What each guideline says for one patient and one drug, human-readable."""
    from pgx.guidelines import load_guidelines
    from pgx.recommend import find_calls_file, format_lookup, read_calls, recommend_sample

    doc = read_calls(find_calls_file(args.calls, args.sample))
    gset = load_guidelines(args.guidelines)
    source = None if args.source == "all" else args.source
    drug = args.drug.strip().lower()
    if not gset.for_drug(drug, source):
        raise InputError(_unknown_drug(args.drug, gset, source))
    rec = recommend_sample(doc, gset, args.medications, source, [drug])
    for w in rec["warnings"]:
        print(f"pgx lookup: warning: {w}", file=sys.stderr)
    sys.stdout.write(format_lookup(rec, drug, rec["drugs"]))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Per-patient report (HTML, JSON, TSV; PDF with --pdf) from calls + recommendations."""
    import time

    from pgx.recommend import read_calls
    from pgx.naming import check_sample_name
    from pgx.report import (build_report, find_chromium, print_pdf, read_recommendations,
                            render_html, report_files)
    from pgx.report import CHROMIUM_INSTALL

    start = time.perf_counter()
    outdir = Path(args.output)
    _check_outdir(outdir)
    if args.pdf and find_chromium() is None:  # before any work: exit 3 with the fix
        raise InputError(f"--pdf: Chromium not found; {CHROMIUM_INSTALL}")
    calls = read_calls(args.calls)
    check_sample_name(calls["sample"], args.calls, "rename the sample in the VCF")
    recs = read_recommendations(args.recommendations)
    doc = build_report(calls, recs, str(args.calls), str(args.recommendations))
    files = report_files(outdir, doc)
    if args.pdf:
        print_pdf(render_html(doc), outdir / f"{doc['sample']}.report.pdf")
    _write(files, outdir)
    if not args.quiet:
        what = "HTML, JSON, TSV" + (", PDF" if args.pdf else "")
        print(f"pgx report: {doc['sample']} ({what}) -> {outdir} in "
              f"{time.perf_counter() - start:.2f} s", file=sys.stderr)
    return 0


POSITIONS_HELP = """\
Write the defined positions (GRCh38, with REF and the ALTs of the definitions) of every gene
that pgx calls from a VCF, so that a lab can genotype each sample at all of them. A defined
position with no VCF record is UNKNOWN to `pgx call`, never reference: a VCF with only
variant sites (most pipelines, joint-called cohorts) gives 'partial' calls. Genotyped here,
a reference sample gets a 0/0 record at every position and a full call.

One record per position and REF; a position shared by two genes is one record naming both.
Genes called only from outside calls (CYP2D6, HLA) are left out. Genes' extra positions
(e.g. CYP2C9 rs12777823 for warfarin dosing; part of no allele) are included, flagged POI.

Formats (--format, default from OUT's extension; a .gz name is bgzipped with a .tbi index):
  .vcf.gz / .vcf  sites-only VCFv4.2: ID rsID, INFO GENE and LABEL (HGVS or common name),
                  ##contig lines with GRCh38 lengths, the definitions' source and version
  .bed / .bed.gz  chrom, POS-1, POS-1+len(REF), GENE:rsID (0-based half-open REF span)
  .tsv.gz / .tsv  CHROM, POS, REF,ALT: the -T file `bcftools call -C alleles` needs (but see
                  the note below)

Genotyping a BAM/CRAM at these positions (ref.fa: the GRCh38 FASTA the reads are aligned to):

  pgx positions -o positions.vcf.gz
  # bcftools: pileup only at the positions (-R jumps through the BAM index), then call every
  # site, reference ones included (no -v)
  bcftools mpileup -f ref.fa -R positions.vcf.gz -a AD,DP -Ou sample.bam \\
    | bcftools call -m -Oz -o sample.pgx.vcf.gz
  # males: add `--ploidy GRCh38 -S sexes.txt` to bcftools call (lines: sample<TAB>M or F)
  # for haploid chrX/chrY genotypes
  pgx call -o out/ sample.pgx.vcf.gz

  # GATK 4 HaplotypeCaller: --alleles is "the set of alleles to force-call regardless of
  # evidence" (a 0/0 sample still gets a record); -L takes the VCF's positions as intervals,
  # -ip pads them by 100 bp; write a plain VCF (not -ERC GVCF: pgx refuses gVCF blocks)
  gatk HaplotypeCaller -R ref.fa -I sample.bam -L positions.vcf.gz -ip 100 \\
    --alleles positions.vcf.gz -O sample.pgx.vcf.gz
  pgx call -o out/ sample.pgx.vcf.gz

Not recommended: `bcftools call -m -C alleles -T positions.tsv.gz`. On simulated reads,
bcftools 1.16 called a heterozygous deletion (CYP2C9*6) and insertion (CYP3A5*7) 0/0 that
way (pgx then calls *1/*1), and it genotypes only the listed alleles, so an unexpected allele
at a position goes unreported; `bcftools call -m` as above called both correctly.

examples:
  pgx positions -o positions.vcf.gz
  pgx positions --definitions ../shared/oracle/pharmcat/definitions -o pharmcat.bed
  pgx positions --format tsv -o alleles.tsv.gz
"""


def cmd_positions(args: argparse.Namespace) -> int:
    """The defined positions of the VCF-callable genes as VCF, BED or TSV (see POSITIONS_HELP)."""
    from pgx.definitions import load_definitions
    from pgx.definitions.positions import defined_positions, format_for, write_positions

    fmt = format_for(args.output, args.format)
    _check_definitions_dir(args.definitions)
    defs = load_definitions(args.definitions)
    positions = defined_positions(defs)
    written = write_positions(args.output, fmt, positions, defs)
    if not args.quiet:
        genes = len({g for p in positions for g in p.genes})
        print(f"pgx positions: {len(positions):,} positions of {genes} genes ({defs.source} "
              f"{defs.version}) -> {' + '.join(map(str, written))}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pgx",
        description="pgx: pharmacogenomics from patient VCFs: filter, star alleles, "
                    "phenotypes, drug recommendations and reports.",
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

    f = sub.add_parser("filter", help="filter records and mask low-quality genotypes "
                       "(bcftools-compatible expressions)", description=FILTER_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    f.add_argument("vcf", metavar="VCF", help="input VCF, VCF.gz (bgzip) or BCF")
    f.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file: .vcf.gz, .bcf or .vcf")
    f.add_argument("-O", "--output-type", choices=tuple("zbv"),
                   help="z: VCF.gz, b: BCF, v: VCF (default: from OUT's extension)")
    f.add_argument("-i", "--include", metavar="EXPR", help="keep records for which EXPR is true")
    f.add_argument("-e", "--exclude", metavar="EXPR", help="drop records for which EXPR is true")
    f.add_argument("--set-gt-missing", metavar="EXPR",
                   help="set genotypes for which EXPR is true to missing, e.g. "
                        "'FMT/GQ<20 || FMT/DP<8'")
    f.add_argument("--preset", metavar="NAME",
                   help="named settings from --presets-file (e.g. wgs_default, array_default)")
    f.add_argument("--presets-file", default="config/config.yaml", metavar="YAML",
                   help="config with a filter.presets section (default: config/config.yaml)")
    f.add_argument("--label", metavar="NAME",
                   help="name recorded with the settings in OUT's header, the stats and the "
                        "calls (default: the --preset name)")
    f.add_argument("--threads", type=int, default=1, metavar="N",
                   help="worker threads for decompression, parsing, filtering and compression "
                        "(default 1)")
    f.add_argument("-l", "--compression-level", type=int, default=6, metavar="0-9",
                   help="compression level of VCF.gz/BCF output on bgzip's scale (default 6, "
                        "as bcftools -Oz; 1 is fastest, 0 stores)")
    f.add_argument("--stats", metavar="JSON", help="statistics file (default: OUT.stats.json)")
    f.add_argument("--no-index", action="store_true", help="do not index OUT")
    f.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on stderr")
    f.set_defaults(func=cmd_filter)

    m = sub.add_parser("merge-calls", help="concatenate calls.tsv files (header once)")
    m.add_argument("tsv", nargs="+", metavar="TSV")
    m.add_argument("-o", "--output", required=True, metavar="TSV")
    m.set_defaults(func=cmd_merge_calls)

    r = sub.add_parser("recommend", help="drug recommendations (CPIC, DPWG) from calls JSON",
                       description="Match each sample's calls (<sample>.calls.json from `pgx "
                       "call`, or a directory of them) against the guidelines; writes "
                       "OUTDIR/<sample>.recommendations.json (schema: "
                       "pgx/schemas/recommendations.schema.json) and OUTDIR/recommendations.tsv "
                       "(one row per sample, drug and guideline). Exit 3 on bad input.")
    r.add_argument("calls", nargs="+", metavar="CALLS_JSON",
                   help="<sample>.calls.json written by `pgx call` (or a directory of them)")
    r.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output directory")
    r.add_argument("--guidelines", metavar="DIR",
                   help="guideline folder (our YAML or PharmCAT's guideline JSON); default: "
                        "resources/guidelines")
    r.add_argument("--medications", metavar='"A;B"',
                   help="current medications, ';'-separated: CYP inhibitors/inducers convert "
                        "the phenotype (phenoconversion); unknown names are reported")
    r.add_argument("--source", choices=("CPIC", "DPWG", "all"), default="all",
                   help="guideline source (default: all)")
    r.add_argument("--drugs", metavar='"A;B"',
                   help="only these drugs (default: every drug of the guidelines)")
    r.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    r.set_defaults(func=cmd_recommend)

    lk = sub.add_parser("lookup", help="what each guideline says for one patient and drug",
                        description="Print, for one sample of a `pgx call` output directory and "
                        "one drug, what each guideline (CPIC, DPWG) recommends. Exit 3 for an "
                        "unknown sample or drug (close matches are listed).")
    lk.add_argument("--calls", required=True, metavar="OUTDIR",
                    help="output directory of `pgx call` (with <sample>.calls.json)")
    lk.add_argument("--sample", required=True, metavar="S")
    lk.add_argument("--drug", required=True, metavar="D")
    lk.add_argument("--medications", metavar='"A;B"', help="current medications (';'-separated)")
    lk.add_argument("--guidelines", metavar="DIR", help="guideline folder (default: ours)")
    lk.add_argument("--source", choices=("CPIC", "DPWG", "all"), default="all")
    lk.set_defaults(func=cmd_lookup)

    rp = sub.add_parser("report", help="per-patient report (HTML, JSON, TSV, optional PDF)",
                        description="Write OUTDIR/<sample>.report.html (self-contained, "
                        "printable), <sample>.report.json (schema: "
                        "pgx/schemas/report.schema.json) and <sample>.report.tsv (one row per "
                        "gene x drug x guideline) from one patient's calls JSON (`pgx call`) "
                        "and recommendations JSON (`pgx recommend`). --pdf also prints "
                        "<sample>.report.pdf with headless Chromium (exit 3 if it is not "
                        "installed). Exit 3 on bad input.")
    rp.add_argument("calls", metavar="CALLS_JSON", help="<sample>.calls.json from `pgx call`")
    rp.add_argument("recommendations", metavar="RECOMMENDATIONS_JSON",
                    help="<sample>.recommendations.json from `pgx recommend`")
    rp.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output directory")
    rp.add_argument("--pdf", action="store_true", help="also write a PDF (needs chromium)")
    rp.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    rp.set_defaults(func=cmd_report)

    ps = sub.add_parser("positions", help="the defined positions (VCF, BED or TSV), to genotype "
                        "samples at before calling", description=POSITIONS_HELP,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ps.add_argument("-o", "--output", required=True, metavar="OUT",
                    help="output file: .vcf.gz, .vcf, .bed(.gz) or .tsv(.gz); .gz is bgzipped "
                         "and indexed (.tbi)")
    ps.add_argument("--format", choices=("vcf", "bed", "tsv"),
                    help="output format (default: from OUT's extension)")
    ps.add_argument("--definitions", metavar="DIR",
                    help="allele definitions: PharmCAT's definitions directory "
                         "(*_translation.json) or a folder of pgx gene YAML; default: the "
                         "embedded panel")
    ps.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    ps.set_defaults(func=cmd_positions)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except PgxError as exc:
        message = " ".join(str(exc).splitlines())  # always one line
        print(f"pgx {args.command}: error: {message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """Console entry point (``pgx``, ``python -m pgx``): :func:`main`, then exit at once.

    Python's interpreter teardown after a numba command (freeing LLVM's compiled modules,
    clearing ~1,000 modules) takes ~0.2 s; every file pgx writes is closed and renamed before
    :func:`main` returns, so the standard streams and logging are flushed and the process
    exits without it. An uncaught exception still ends with the usual traceback.
    """
    rc = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe (pgx ... | head)
        pass
    if "logging" in sys.modules:
        import logging

        logging.shutdown()
    os._exit(rc if isinstance(rc, int) else 0)
