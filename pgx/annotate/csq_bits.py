"""Consequence bit flags and their BCSQ spelling, in bcftools csq's order.

A consequence is a bitmask; BCSQ joins the names of its set bits with ``&`` in bit order
(``synonymous`` first, ``start_retained`` last), so the bit numbers are part of the output
format. ``UPSTREAM_STOP`` and ``INCOMPLETE_CDS`` have no name (the first prints as a ``*``
prefix, the second only suppresses start/stop terms); ``PRINTED_UPSTREAM`` marks a back
reference ``@POS`` to the record that carries a combined (haplotype-aware) consequence.
"""
from __future__ import annotations

PRINTED_UPSTREAM = 1 << 0
SYNONYMOUS = 1 << 1
MISSENSE = 1 << 2
STOP_LOST = 1 << 3
STOP_GAINED = 1 << 4
INFRAME_DELETION = 1 << 5
INFRAME_INSERTION = 1 << 6
FRAMESHIFT = 1 << 7
SPLICE_ACCEPTOR = 1 << 8
SPLICE_DONOR = 1 << 9
START_LOST = 1 << 10
SPLICE_REGION = 1 << 11
STOP_RETAINED = 1 << 12
UTR5 = 1 << 13
UTR3 = 1 << 14
NON_CODING = 1 << 15
INTRON = 1 << 16
INTERGENIC = 1 << 17
INFRAME_ALTERING = 1 << 18
UPSTREAM_STOP = 1 << 19
INCOMPLETE_CDS = 1 << 20
CODING_SEQUENCE = 1 << 21
ELONGATION = 1 << 22
START_RETAINED = 1 << 23
TRUNCATION = 1 << 24

NAMES = {
    SYNONYMOUS: "synonymous", MISSENSE: "missense", STOP_LOST: "stop_lost",
    STOP_GAINED: "stop_gained", INFRAME_DELETION: "inframe_deletion",
    INFRAME_INSERTION: "inframe_insertion", FRAMESHIFT: "frameshift",
    SPLICE_ACCEPTOR: "splice_acceptor", SPLICE_DONOR: "splice_donor", START_LOST: "start_lost",
    SPLICE_REGION: "splice_region", STOP_RETAINED: "stop_retained", UTR5: "5_prime_utr",
    UTR3: "3_prime_utr", NON_CODING: "non_coding", INTRON: "intron", INTERGENIC: "intergenic",
    INFRAME_ALTERING: "inframe_altering", CODING_SEQUENCE: "coding_sequence",
    ELONGATION: "feature_elongation", START_RETAINED: "start_retained",
    TRUNCATION: "feature_truncation",
}
ORDER = sorted(NAMES)

#: consequences of the coding sequence: combined across the variants of a haplotype and
#: printed at one record only
COMPOUND = (SYNONYMOUS | MISSENSE | STOP_LOST | STOP_GAINED | INFRAME_DELETION
            | INFRAME_INSERTION | FRAMESHIFT | START_LOST | STOP_RETAINED | INFRAME_ALTERING
            | INCOMPLETE_CDS | UPSTREAM_STOP | START_RETAINED)
START_STOP = STOP_LOST | STOP_GAINED | STOP_RETAINED | START_LOST | START_RETAINED
SPLICE_ANY = SPLICE_ACCEPTOR | SPLICE_DONOR | SPLICE_REGION
#: bits that make BCSQ print the transcript ID (introns and non-coding merge across transcripts)
PRINT_TRANSCRIPT = ~(INTRON | NON_CODING)


def names(bits: int) -> list[str]:
    """The BCSQ terms of ``bits`` in bcftools' order."""
    return [NAMES[b] for b in ORDER if bits & b]


def prints_strand(bits: int) -> bool:
    return bool(bits & COMPOUND) and not bits & SPLICE_ANY
