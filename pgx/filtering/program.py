"""Compile a parsed filter expression to a postfix program and run it over a VariantChunk.

The program is a list of ``(opcode, sub, arg)`` integer triples plus float constants, tag slots
and FILTER masks; :meth:`CompiledFilter.evaluate` runs it with one numba kernel call (or one
vectorised numpy step) per instruction over the whole chunk: no Python per record.

Semantics (bcftools 1.16, checked against it by ``tests/test_filter_expressions.py``):

* a numeric value is one or several values per record (INFO, QUAL, N_ALT, constants) or per
  sample (FORMAT); a comparison passes when ANY pair of values passes; a FORMAT comparison is
  evaluated per sample and the record passes when any sample passes;
* missing values: a value is *entirely missing* when the tag is absent or all its values are
  ``.``. Comparing two entirely missing values: only ``==`` is true (so ``TAG="."`` tests for
  missing); one entirely missing: only ``!=`` is true (``QUAL!=10`` is true when QUAL is
  ``.``); a ``.`` element inside a vector passes only ``!=``. Arithmetic with an entirely
  missing operand is entirely missing; ``x/0`` is +-inf;
* logic (record truth / per-sample truth for ``+setGT``, see :func:`_logic`): a token has
  samples when it involves a FORMAT/GT term. ``&``/``&&``: record = both true; ``|``/``||``:
  record = either true. Samples: with one site-level operand, ``&``/``&&``/``|`` take the
  per-sample operand's samples and ``||`` or's them with the site-level truth; with two
  per-sample operands ``&`` intersects (record = some sample), ``&&`` and ``|`` unite and
  ``||`` selects every sample of a true record;
* a '.' inside an Integer INFO vector (Number A/R/...) is read as INT32_MIN, not missing;
* arithmetic between two site-level operands does not broadcast a scalar over a vector:
  ``INFO/AC*30`` with AC=4,1 is [120, 0] (a[i] OP 0 past the first element) and
  ``30*INFO/AC`` is [120, 0] (missing when the first pair is); ``-INFO/AC`` likewise;
* FORMAT vectors are padded to the record's longest per-sample vector, the padding being
  missing values (a haploid PL next to diploid ones passes ``FMT/PL="."``);
* values are float32 as in bcftools (``AF=0.1`` matches ``0.1`` stored as float).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pgx.filtering import expr_numba_fns as K
from pgx.filtering.expression import Node, parse_expression, top_level_clauses
from pgx.io.variant_chunk import (VT_BND, VT_INDEL, VT_MNP, VT_OTHER, VT_OVERLAP, VT_SNP,
                                  FieldRequest, VariantChunk)
from pgx.io.vcf_header import VcfHeader

# opcodes
PUSH_CONST, PUSH_MISSING, PUSH_QUAL, PUSH_NALT, PUSH_INFO, PUSH_FMT = range(6)
NEG, ARITH, CMP, FILTER, TYPE, GT, LOGIC, CLAUSE = range(6, 14)

_CMP = {"=": K.OP_EQ, "==": K.OP_EQ, "!=": K.OP_NE, "<": K.OP_LT, "<=": K.OP_LE,
        ">": K.OP_GT, ">=": K.OP_GE}
_SWAP = {K.OP_EQ: K.OP_EQ, K.OP_NE: K.OP_NE, K.OP_LT: K.OP_GT, K.OP_LE: K.OP_GE,
         K.OP_GT: K.OP_LT, K.OP_GE: K.OP_LE}
_ARITH = {"+": K.OP_ADD, "-": K.OP_SUB, "*": K.OP_MUL, "/": K.OP_DIV}
_LOGIC = {"&": 0, "&&": 1, "|": 2, "||": 3}
_MATCH = {"=": 0, "==": 0, "~": 1, "!=": 2, "!~": 3}  # bit 1 = negate
_GT = {"het": K.GT_HET, "hom": K.GT_HOM, "ref": K.GT_REF, "alt": K.GT_ALT, "mis": K.GT_MIS,
       "hap": K.GT_HAP}
# bcftools' TYPE value: 1 for ref (no ALT classes), else the htslib class bits << 1
_TYPE = {"ref": 1, "snp": VT_SNP << 1, "mnp": VT_MNP << 1, "indel": VT_INDEL << 1,
         "other": VT_OTHER << 1, "bnd": VT_BND << 1, "overlap": VT_OVERLAP << 1}


@dataclass
class FilterResult:
    site: np.ndarray  # bool [V]: the expression is true for the record
    samples: np.ndarray | None  # bool [V, S] per-sample truth, None for site-only expressions
    clauses: np.ndarray  # bool [V, n_clauses]: each top-level clause's record-level truth


@dataclass
class CompiledFilter:
    text: str
    option: str
    request: FieldRequest
    clauses: list[str]
    uses_samples: bool
    code: np.ndarray  # int32 [n, 3]
    consts: np.ndarray  # float64
    info_slots: list[str] = field(default_factory=list)
    fmt_slots: list[str] = field(default_factory=list)
    filter_masks: list[np.ndarray] = field(default_factory=list)

    def evaluate(self, chunk: VariantChunk) -> FilterResult:
        return _run(self, chunk)


class _Compiler:
    def __init__(self, header: VcfHeader):
        self.header = header
        self.code: list[tuple[int, int, int]] = []
        self.consts: list[float] = []
        self.info: list[str] = []
        self.fmt: list[str] = []
        self.masks: list[np.ndarray] = []
        self.gt = False
        self.clause_ids: dict[int, int] = {}

    def emit(self, op, sub=0, arg=0):
        self.code.append((op, sub, arg))

    def slot(self, lst, tag):
        if tag not in lst:
            lst.append(tag)
        return lst.index(tag)

    def node(self, n: Node):
        k = n.kind
        if k == "num":
            self.consts.append(float(np.float32(n.value)))
            self.emit(PUSH_CONST, 0, len(self.consts) - 1)
        elif k == "missing":
            self.emit(PUSH_MISSING)
        elif k == "field":
            if n.source == "QUAL":
                self.emit(PUSH_QUAL)
            elif n.source == "N_ALT":
                self.emit(PUSH_NALT)
            elif n.source == "INFO":
                self.emit(PUSH_INFO, 0, self.slot(self.info, n.text))
            else:
                self.emit(PUSH_FMT, 0, self.slot(self.fmt, n.text))
        elif k == "neg":
            self.node(n.args[0])
            self.emit(NEG)
        elif k == "arith":
            self.node(n.args[0])
            self.node(n.args[1])
            self.emit(ARITH, _ARITH[n.op])
        elif k == "cmp":
            self.cmp(n)
        else:
            self.node(n.args[0])
            self.node(n.args[1])
            self.emit(LOGIC, _LOGIC[n.op], int(n.smp))
        if id(n) in self.clause_ids:
            self.emit(CLAUSE, 0, self.clause_ids[id(n)])

    def cmp(self, n: Node):
        if n.source == "FILTER":
            hdr = self.header
            mask = np.zeros(len(hdr.filters), bool)
            if n.text != ".":
                for name in n.text.split(";"):
                    mask[hdr.filter_index(name)] = True
            self.masks.append(mask)
            self.emit(FILTER, _MATCH[n.op], len(self.masks) - 1)
        elif n.source == "TYPE":
            self.emit(TYPE, _MATCH[n.op], _TYPE[n.text])
        elif n.source == "GT":
            self.gt = True
            self.emit(GT, _MATCH[n.op], _GT[n.text])
        else:
            self.node(n.args[0])
            self.node(n.args[1])
            self.emit(CMP, _CMP[n.op], int(n.smp))


def compile_filter(text: str, header: VcfHeader, *, option: str = "-i") -> CompiledFilter:
    """Parse, check and compile ``text`` (a bcftools ``-i``/``-e`` expression) once.

    Raises :class:`pgx.filtering.expression.ExpressionError` (a UsageError) naming the column.
    """
    root = parse_expression(text, header, option)
    clause_nodes = top_level_clauses(root)
    comp = _Compiler(header)
    comp.clause_ids = {id(c): i for i, c in enumerate(clause_nodes)}
    comp.node(root)
    return CompiledFilter(
        text=text, option=option,
        request=FieldRequest(info=tuple(comp.info), format=tuple(comp.fmt), gt=comp.gt),
        clauses=[text[c.col - 1:c.end - 1].strip() for c in clause_nodes],
        uses_samples=root.smp,
        code=np.array(comp.code, np.int32).reshape(-1, 3),
        consts=np.array(comp.consts, np.float64),
        info_slots=comp.info, fmt_slots=comp.fmt, filter_masks=comp.masks)


# ---------------------------------------------------------------- execution

INT32_MIN = -2147483648.0


class _Num:
    """A numeric token: ``vals`` [V', S', W], ``n`` [V', S'] and ``pres`` [V] or None (present
    everywhere): bcftools' nvalues > 0 for the record."""
    __slots__ = ("vals", "n", "smp", "pres")

    def __init__(self, vals, n, smp, pres=None):
        self.vals, self.n, self.smp, self.pres = vals, n, smp, pres


class _Bool:
    """A logic token: ``site`` [V] (bcftools' pass_site); ``smp`` [V, S] (pass_samples) or
    None for a token without samples (no FORMAT/GT term)."""
    __slots__ = ("site", "smp")

    def __init__(self, site, smp=None):
        self.site, self.smp = site, smp


def _f32(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32).astype(np.float64)


def _and(x, y):
    if x is None:
        return y
    if y is None:
        return x
    return x & y


def _logic(a: _Bool, b: _Bool, sub: int, V: int, S: int) -> _Bool:
    """bcftools 1.16's logic operators on (pass_site, pass_samples) tokens.

    A token has samples when it involves a FORMAT/GT term (static per node, like bcftools'
    ``nsamples``, which once set on a result token stays set); a false token never has a
    sample set. Record truth: ``&``/``&&`` both true, ``|``/``||`` either true. Samples:

    * two site-level operands give a site-level result;
    * ``&&``/``&`` with one site-level operand: the per-sample operand's samples (none when
      the record is false); the record is true when both are (even if no sample is set);
    * ``&&`` two per-sample: union; ``&`` two per-sample: intersection, and the record is true
      only when some sample is;
    * ``|`` with one site-level operand: the per-sample operand's samples (even when only the
      site-level one is true); two per-sample: union;
    * ``||`` with one site-level operand: every sample when it is true, else the per-sample
      operand's samples; two per-sample: every sample of a true record (still a per-sample
      token, so e.g. ``A | (B || C)`` selects every sample, not only A's).
    """
    if sub < 2:
        site = a.site & b.site
    else:
        site = a.site | b.site
    if a.smp is None and b.smp is None:
        return _Bool(site)
    if a.smp is None or b.smp is None:
        t, o = (a, b) if b.smp is None else (b, a)  # t per-sample, o site-level
        if sub == 3:
            smp = t.smp | o.site[:, None]
        else:
            smp = t.smp
    elif sub == 0:
        smp = a.smp & b.smp
        site = K.any_samples(np.ascontiguousarray(smp & site[:, None]))
    elif sub == 3:
        smp = np.ones((V, S), bool)
    else:
        smp = a.smp | b.smp
    smp = np.ascontiguousarray(np.broadcast_to(smp & site[:, None], (V, S)))
    return _Bool(site, smp)


def _num_present(vals: np.ndarray, V: int):
    """present per record: any non-NaN value (vals [V', S', W])."""
    if vals.shape[0] != V:
        return None
    return ~np.isnan(vals).reshape(V, -1).all(axis=1)


def _run(prog: CompiledFilter, chunk: VariantChunk) -> FilterResult:
    V, S = chunk.n_records, chunk.n_samples
    stack: list = []
    clauses = np.zeros((V, len(prog.clauses)), bool)
    gt_cls = None
    for op, sub, arg in prog.code:
        if op == PUSH_CONST:
            stack.append(_Num(np.full((1, 1, 1), prog.consts[arg]), np.ones((1, 1), np.int32),
                              False))
        elif op == PUSH_MISSING:
            stack.append(_Num(np.full((1, 1, 1), np.nan), np.zeros((1, 1), np.int32), False))
        elif op == PUSH_QUAL:
            q = chunk.qual.astype(np.float64)
            stack.append(_Num(q.reshape(V, 1, 1), np.ones((V, 1), np.int32), False,
                              ~np.isnan(q)))
        elif op == PUSH_NALT:
            stack.append(_Num((chunk.n_allele.astype(np.float64) - 1).reshape(V, 1, 1),
                              np.ones((V, 1), np.int32), False))
        elif op == PUSH_INFO:
            f = chunk.info[prog.info_slots[arg]]
            d = f.definition
            if d.type == "Flag":
                vals = f.values[:, :1].reshape(V, 1, 1)
                n = np.ones((V, 1), np.int32)
                pres = None
            else:
                vals = f.values if d.type == "Integer" else _f32(f.values)
                n = f.length.astype(np.int32).reshape(V, 1)
                if d.type == "Integer" and d.number != "1":
                    # bcftools 1.16 reads a '.' inside an Integer INFO vector (Number A, R,
                    # ...) as the number INT32_MIN, not as missing (checked empirically)
                    w = np.arange(vals.shape[1])[None, :] < n
                    vals = np.where(w & np.isnan(vals), INT32_MIN, vals)
                    pres = n[:, 0] > 0
                else:
                    pres = ~np.isnan(vals).all(axis=1) if vals.shape[1] else np.zeros(V, bool)
                vals = vals.reshape(V, 1, -1)
            stack.append(_Num(np.ascontiguousarray(vals), n, False, pres))
        elif op == PUSH_FMT:
            f = chunk.fmt[prog.fmt_slots[arg]]
            t = f.definition.type
            vals = f.values if t == "Integer" else _f32(f.values)
            n = f.length.astype(np.int32)
            if t != "Flag" and vals.shape[2] > 1:
                # BCF stores every sample's vector padded (vector_end) to the record's longest
                # one, and bcftools 1.16 reads the padding as missing values: a haploid PL
                # next to diploid ones passes FMT/PL="." and FMT/PL!=5
                own = np.arange(vals.shape[2])[None, None, :] < n[:, :, None]
                vals = np.where(own, vals, np.nan)
                n = np.ascontiguousarray(np.broadcast_to(n.max(axis=1, keepdims=True), n.shape))
            if t == "Flag":
                n = np.ones((V, S), np.int32)
                pres = None
            elif t == "Integer":
                pres = K.any_value(vals)
            else:
                pres = (n > 0).any(axis=1)
            stack.append(_Num(np.ascontiguousarray(vals), np.ascontiguousarray(n), True, pres))
        elif op == NEG:
            a = stack.pop()
            if a.smp:
                stack.append(_Num(-a.vals, a.n, a.smp, a.pres))
            else:
                # bcftools 1.16 negates a site-level vector like a scalar-vector operation:
                # -INFO/AC with AC=4,1 is [-4, 0] (see ARITH)
                zero = np.zeros((1, 1, 1))
                rv, rn = K.arith(zero, np.ones((1, 1), np.int32), a.vals, a.n, K.OP_SUB,
                                 a.n.shape[0], 1, True)
                pres = (rn > 0).any(axis=1) if rn.shape[0] == V else None
                stack.append(_Num(rv, rn, False, _and(a.pres, pres)))
        elif op == ARITH:
            b = stack.pop()
            a = stack.pop()
            smp = a.smp or b.smp
            # two site-level operands: bcftools 1.16 does not broadcast a scalar over a vector
            # (INFO/AC*30 with AC=4,1 is [120, 0]; 30*INFO/AC is [120, 0]; 2*INFO/AF with
            # AF=.,0.25 is missing): the kernel's ``site_quirk``
            rv, rn = K.arith(a.vals, a.n, b.vals, b.n, sub, V, S if smp else 1, not smp)
            pres = (rn > 0).any(axis=1) if rn.shape[0] == V else None
            pres = _and(_and(a.pres, b.pres), pres)
            stack.append(_Num(rv, rn, smp, pres))
        elif op == CMP:
            b = stack.pop()
            a = stack.pop()
            smp = bool(arg)
            fused = _fused_cmp(a, b, sub)
            if fused is not None:
                stack.append(fused)
                continue
            out = K.cmp_num(a.vals, a.n, b.vals, b.n, sub, V, S if smp else 1)
            stack.append(_cmp_token(a, b, out, smp, V))
        elif op == FILTER:
            r = K.filter_match(chunk.filters, _pad(prog.filter_masks[arg],
                                                   chunk.filters.shape[1]), sub & 1)
            stack.append(_Bool(~r if sub & 2 else r))
        elif op == TYPE:
            vt = chunk.variant_type.astype(np.int64)
            tv = np.where(vt == 0, 1, vt << 1)
            r = (tv & arg) != 0 if sub & 1 else tv == arg
            stack.append(_Bool(~r if sub & 2 else r))
        elif op == GT:
            if gt_cls is None:
                if chunk.gt is None:
                    raise ValueError("the chunk was read without GT (FieldRequest.gt)")
                gt_cls = K.gt_classes(chunk.gt, chunk.has_gt)
            r = (gt_cls & arg) != 0
            if sub & 2:
                r = ~r
            stack.append(_Bool(K.any_samples(r), r))
        elif op == LOGIC:
            b = stack.pop()
            a = stack.pop()
            stack.append(_logic(a, b, sub, V, S))
        elif op == CLAUSE:
            clauses[:, arg] = stack[-1].site
    res = stack.pop()
    assert not stack
    samples = None
    if prog.uses_samples:
        # +setGT: nothing in a false record, every sample of a true site-level result
        samples = (res.site[:, None] if res.smp is None else res.smp) & res.site[:, None]
        samples = np.ascontiguousarray(np.broadcast_to(samples, (V, S)))
    return FilterResult(site=res.site, samples=samples, clauses=clauses)


def _is_const(x: _Num) -> bool:
    return x.vals.shape == (1, 1, 1) and x.n[0, 0] == 1 and not np.isnan(x.vals[0, 0, 0])


def _fused_cmp(a: _Num, b: _Num, op: int):
    """FORMAT single-value tag vs a constant: one fused numba kernel (or None)."""
    if _is_const(b) and a.smp and a.vals.ndim == 3 and a.vals.shape[2] == 1:
        out, site = K.cmp_fmt_const(a.vals, a.n, b.vals[0, 0, 0], op)
        return _Bool(site, out)
    if _is_const(a) and b.smp and b.vals.ndim == 3 and b.vals.shape[2] == 1:
        out, site = K.cmp_fmt_const(b.vals, b.n, a.vals[0, 0, 0], _SWAP[op])
        return _Bool(site, out)
    return None


def _cmp_token(a: _Num, b: _Num, out: np.ndarray, smp: bool, V: int) -> _Bool:
    if not smp:
        return _Bool(out[:, 0])
    return _Bool(K.any_samples(out), out)


def _pad(mask: np.ndarray, n: int) -> np.ndarray:
    if mask.shape[0] >= n:
        return mask[:n]
    return np.concatenate([mask, np.zeros(n - mask.shape[0], bool)])
