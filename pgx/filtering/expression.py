"""bcftools-style filter expressions: tokenizer, recursive-descent parser and type checker.

The supported subset (semantics of ``bcftools view -i/-e`` 1.16; see ``program.py`` for how
values are evaluated):

* values: ``QUAL``, ``N_ALT``, ``INFO/TAG``, ``FMT/TAG``/``FORMAT/TAG`` (numeric or Flag tags),
  bare ``TAG`` (INFO if only INFO defines it, FORMAT if only FORMAT does; defined in both is
  an error, as in bcftools), numbers (``5``, ``-2``, ``0.5``, ``.5``, ``1e3``), ``"."`` (the
  missing value);
* arithmetic ``+ - * /`` and unary minus;
* comparisons ``== = != < <= > >=``; ``FILTER = != ~ !~ "PASS"|"."|"a;b"``;
  ``TYPE = != ~ !~ "snp"|"mnp"|"indel"|"ref"|"other"|"bnd"|"overlap"``;
  ``GT = != "het"|"hom"|"ref"|"alt"|"mis"|"hap"``;
* logic ``&& & || |`` and parentheses.

Precedence (low to high): ``| ||`` < ``& &&`` < comparisons < ``+ -`` < ``* /``. As in bcftools
every binary operator groups to the RIGHT: ``10-2-3`` is ``10-(2-3)`` = 11.

Not supported (clear :class:`ExpressionError`): ``!`` negation (bcftools cannot parse it
either), String/Character tags (other than FILTER), a bare value used as a condition (bcftools
silently treats it as false: write ``DB=1``), operations between two multi-value operands
(e.g. ``AF*10=AC``, ``FMT/AD+FMT/GQ``) and between a FORMAT value and a multi-value INFO tag,
where bcftools' results are inconsistent or it aborts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pgx.errors import UsageError
from pgx.io.vcf_header import VcfHeader

__all__ = ["ExpressionError", "Node", "parse_expression", "compile_filter"]


class ExpressionError(UsageError):
    """A bad filter expression: one line quoting it, the 1-based column and the fix."""

    def __init__(self, option: str, text: str, column: int, what: str, fix: str):
        self.option, self.text, self.column = option, text, column
        super().__init__(f"{option} '{text}': column {column}: {what}; {fix}")


# ---------------------------------------------------------------- tokens

@dataclass
class Token:
    kind: str  # 'num', 'str', 'name', 'op', 'lpar', 'rpar', 'end'
    text: str
    col: int  # 1-based
    end: int  # 1-based column just past the token


_NUM = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"(?:(?:INFO|FORMAT|FMT)/)?[A-Za-z_][A-Za-z0-9_.]*")
_OPS = ("&&", "||", "==", "!=", "<=", ">=", "!~", "&", "|", "=", "<", ">", "~",
        "+", "-", "*", "/")

LOGIC_PREC = {"|": 2, "||": 2, "&": 3, "&&": 3}
CMP_OPS = ("==", "=", "!=", "<", "<=", ">", ">=", "~", "!~")
ADD_OPS = ("+", "-")
MUL_OPS = ("*", "/")

_FIX = "see `bcftools view` EXPRESSIONS for the syntax"


def tokenize(text: str, option: str = "-i") -> list[Token]:
    toks: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        col = i + 1
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            m = _NUM.match(text, i)
            j = m.end()
            if j < n and (text[j].isalnum() or text[j] in "_."):
                raise ExpressionError(option, text, j + 1,
                                      f"unexpected {text[j]!r} after the number {m.group()}",
                                      "separate it with an operator or fix the number")
            toks.append(Token("num", m.group(), col, j + 1))
            i = j
            continue
        if c in "\"'":
            j = text.find(c, i + 1)
            if j < 0:
                raise ExpressionError(option, text, col, f"unterminated string {text[i:]}",
                                      f"close it with {c}")
            toks.append(Token("str", text[i + 1:j], col, j + 2))
            i = j + 1
            continue
        m = _NAME.match(text, i)
        if m:
            toks.append(Token("name", m.group(), col, m.end() + 1))
            i = m.end()
            continue
        if c == "(":
            toks.append(Token("lpar", c, col, col + 1))
            i += 1
            continue
        if c == ")":
            toks.append(Token("rpar", c, col, col + 1))
            i += 1
            continue
        for op in _OPS:
            if text.startswith(op, i):
                toks.append(Token("op", op, col, col + len(op)))
                i += len(op)
                break
        else:
            if c == "!":
                raise ExpressionError(option, text, col, "'!' negation is not supported "
                                      "(bcftools cannot parse it either)",
                                      "use != or !~, or swap -i and -e")
            raise ExpressionError(option, text, col, f"unexpected {c!r}", _FIX)
    toks.append(Token("end", "", n + 1, n + 1))
    return toks


# ---------------------------------------------------------------- AST

@dataclass
class Node:
    """An AST node. ``kind``: 'num', 'missing', 'str', 'field', 'neg', 'arith', 'cmp', 'logic'.

    After :func:`parse_expression` every node also has ``type``: 'num' or 'bool' (or 'str',
    'missing' for literals), ``smp`` (per-sample value) and ``vec`` (may hold several values
    per record or sample).
    """

    kind: str
    col: int
    end: int
    op: str = ""
    value: float = 0.0
    text: str = ""  # string literal / tag name
    source: str = ""  # 'QUAL', 'N_ALT', 'INFO', 'FMT', 'FILTER', 'TYPE', 'GT' for fields
    args: list["Node"] = field(default_factory=list)
    paren: bool = False
    type: str = ""
    smp: bool = False
    vec: bool = False


class _Parser:
    def __init__(self, text: str, header: VcfHeader, option: str):
        self.text, self.header, self.option = text, header, option
        self.toks = tokenize(text, option)
        self.i = 0

    def err(self, col, what, fix=_FIX):
        raise ExpressionError(self.option, self.text, col, what, fix)

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def parse(self) -> Node:
        if self.tok.kind == "end":
            self.err(1, "empty expression", "write a condition such as 'QUAL>=30'")
        node = self.logic(2)
        if self.tok.kind != "end":
            t = self.tok
            if t.kind == "rpar":
                self.err(t.col, "unmatched ')'", "remove it or add the matching '('")
            self.err(t.col, f"unexpected {t.text!r}", "join conditions with && or ||")
        return node

    def _binary(self, ops, sub, same, kind):
        left = sub()
        t = self.tok
        if t.kind == "op" and t.text in ops:
            self.i += 1
            right = same()  # right-associative, as bcftools groups equal precedence
            return Node(kind, left.col, right.end, op=t.text, args=[left, right])
        return left

    def logic(self, prec):
        if prec > 3:
            return self.comparison()
        ops = [o for o, p in LOGIC_PREC.items() if p == prec]
        return self._binary(ops, lambda: self.logic(prec + 1), lambda: self.logic(prec),
                            "logic")

    def comparison(self):
        return self._binary(CMP_OPS, self.additive, self.comparison, "cmp")

    def additive(self):
        return self._binary(ADD_OPS, self.multiplicative, self.additive, "arith")

    def multiplicative(self):
        return self._binary(MUL_OPS, self.unary, self.multiplicative, "arith")

    def unary(self):
        t = self.tok
        if t.kind == "op" and t.text == "-":
            self.i += 1
            arg = self.unary()
            return Node("neg", t.col, arg.end, args=[arg])
        return self.primary()

    def primary(self):
        t = self.tok
        if t.kind == "lpar":
            self.i += 1
            if self.tok.kind == "rpar":
                self.err(self.tok.col, "empty parentheses '()'", "put a condition inside")
            node = self.logic(2)
            if self.tok.kind != "rpar":
                if self.tok.kind == "end":
                    self.err(t.col, "unclosed '('", "add the matching ')'")
                self.err(self.tok.col, f"unexpected {self.tok.text!r}",
                         "join conditions with && or ||, or close the '(' with ')'")
            node.paren = True
            node.col, node.end = t.col, self.tok.end
            self.i += 1
            return node
        if t.kind == "num":
            self.i += 1
            return Node("num", t.col, t.end, value=float(t.text), text=t.text)
        if t.kind == "str":
            self.i += 1
            if t.text == ".":
                return Node("missing", t.col, t.end, text=".")
            return Node("str", t.col, t.end, text=t.text)
        if t.kind == "name":
            self.i += 1
            return self.field(t)
        if t.kind == "end":
            self.err(t.col, "the expression ends too early", "complete the last condition")
        self.err(t.col, f"unexpected {t.text!r}", "a value (a tag, a number or a quoted "
                 "string) must come here")

    def field(self, t: Token) -> Node:
        name = t.text
        node = Node("field", t.col, t.end, text=name)
        prefix, _, tag = name.rpartition("/")
        hdr = self.header
        undefined = ("it is not defined in the VCF header: add a ##{kind} line or fix the "
                     "name")
        if prefix == "INFO":
            if tag not in hdr.info:
                self.err(t.col, f"unknown tag INFO/{tag}", undefined.format(kind="INFO"))
            node.source = "INFO"
        elif prefix in ("FMT", "FORMAT"):
            if tag == "GT":
                node.source = "GT"
            elif tag not in hdr.format:
                self.err(t.col, f"unknown tag FORMAT/{tag}", undefined.format(kind="FORMAT"))
            else:
                node.source = "FMT"
        elif name in ("QUAL", "N_ALT", "FILTER", "TYPE", "GT"):
            node.source = name
        elif name in hdr.info and name in hdr.format:
            self.err(t.col, f"ambiguous tag {name}: both INFO/{name} and FORMAT/{name} are "
                     f"defined in the VCF header", f"write INFO/{name} or FMT/{name}")
        elif name in hdr.info:
            node.source = "INFO"
        elif name in hdr.format:
            node.source = "FMT"
        else:
            self.err(t.col, f"unknown tag {name}",
                     "it is not defined in the VCF header: add a ##INFO or ##FORMAT line or "
                     "fix the name")
        node.text = tag if prefix else name
        if node.source in ("INFO", "FMT"):
            defs = hdr.info if node.source == "INFO" else hdr.format
            fd = defs[node.text]
            if fd.type not in ("Integer", "Float", "Flag"):
                self.err(t.col, f"{name} is a {fd.type} tag: string tags are not supported",
                         "filter on numeric tags, FILTER, TYPE or GT")
            node.vec = fd.type != "Flag" and fd.number != "1"
        return node


# ---------------------------------------------------------------- type checking

GT_CLASSES = ("het", "hom", "ref", "alt", "mis", "hap")
TYPE_NAMES = {"snp": "snp", "snps": "snp", "mnp": "mnp", "mnps": "mnp", "indel": "indel",
              "indels": "indel", "ref": "ref", "other": "other", "bnd": "bnd",
              "overlap": "overlap"}


def _check(node: Node, p: _Parser) -> None:
    for a in node.args:
        _check(a, p)
    k = node.kind
    if k == "num":
        node.type = "num"
    elif k in ("missing", "str"):
        node.type = k
    elif k == "field":
        if node.source in ("FILTER", "TYPE", "GT"):
            node.type = node.source.lower()
        else:
            node.type = "num"
            node.smp = node.source == "FMT"
    elif k == "neg":
        a = node.args[0]
        if a.type != "num":
            p.err(node.col, "'-' needs a number after it", "write e.g. -1 or -QUAL")
        node.type, node.smp, node.vec = "num", a.smp, a.vec
    elif k == "arith":
        a, b = node.args
        for x in (a, b):
            if x.type != "num":
                p.err(x.col, f"{_describe(x)} cannot be used in arithmetic ({node.op})",
                      "only numeric tags, QUAL, N_ALT and numbers can be")
        _check_pair(node, a, b, p)
        node.type, node.smp, node.vec = "num", a.smp or b.smp, a.vec or b.vec
    elif k == "cmp":
        _check_cmp(node, p)
    elif k == "logic":
        for x in node.args:
            if x.type != "bool":
                p.err(x.col, f"{_describe(x)} is a value, not a condition (bcftools treats "
                      f"it as false)", "compare it, e.g. DB=1 or DP>0")
        node.type = "bool"
        node.smp = any(x.smp for x in node.args)


def _describe(x: Node) -> str:
    src = p_text = None
    if x.kind == "field":
        return x.source if x.source in ("QUAL", "N_ALT", "FILTER", "TYPE", "GT") else \
            f"{x.source}/{x.text}"
    if x.kind == "str":
        return f'"{x.text}"'
    if x.kind == "missing":
        return '"."'
    if x.kind == "num":
        return x.text
    del src, p_text
    return "this expression"


def _check_pair(node: Node, a: Node, b: Node, p: _Parser) -> None:
    if a.vec and b.vec:
        p.err(node.col, f"{_describe(a)} and {_describe(b)} both have several values: "
              f"bcftools' element pairing is not supported", "compare each with a number")
    if (a.smp and not b.smp and b.vec) or (b.smp and not a.smp and a.vec):
        p.err(node.col, "a FORMAT value combined with a multi-value INFO tag is not "
              "supported (bcftools aborts)", "compare them separately")


def _check_cmp(node: Node, p: _Parser) -> None:
    a, b = node.args
    op = node.op
    node.type = "bool"
    special = [x for x in (a, b) if x.type in ("filter", "type", "gt")]
    if special:
        f = special[0]
        other = b if f is a else a
        if other.type not in ("str", "missing"):
            p.err(other.col, f"{f.source} must be compared with a quoted string",
                  f'write e.g. {f.source}="{ {"filter": "PASS", "type": "snp", "gt": "het"}[f.type]}"')
        lit = "." if other.type == "missing" else other.text
        node.source, node.text = f.source, lit
        if f.type == "filter":
            if op not in ("=", "==", "!=", "~", "!~"):
                p.err(node.col, f"FILTER cannot be compared with {op}", "use = != ~ or !~")
            if lit != ".":
                for name in lit.split(";"):
                    if p.header.filter_index(name) < 0:
                        p.err(other.col, f'FILTER "{name}" is not defined in the VCF header',
                              "add a ##FILTER line or fix the name")
        elif f.type == "type":
            if op not in ("=", "==", "!=", "~", "!~"):
                p.err(node.col, f"TYPE cannot be compared with {op}", "use = != ~ or !~")
            if lit not in TYPE_NAMES:
                p.err(other.col, f'unknown TYPE "{lit}"',
                      "use snp, mnp, indel, ref, other, bnd or overlap")
            node.text = TYPE_NAMES[lit]
        else:
            if op not in ("=", "==", "!="):
                p.err(node.col, f"GT cannot be compared with {op}", "use = or !=")
            if lit not in GT_CLASSES:
                p.err(other.col, f'GT "{lit}" is not supported',
                      "use het, hom, ref, alt, mis or hap")
            node.smp = True
        return
    for x in (a, b):
        if x.type == "str":
            p.err(x.col, f'string "{x.text}" can only be compared with FILTER, TYPE or GT',
                  'compare numbers, or write "." for the missing value')
        if x.type == "bool":
            p.err(x.col, "a condition cannot be compared with a value",
                  "join conditions with && or ||")
    if op in ("~", "!~"):
        p.err(node.col, f"{op} only works with FILTER and TYPE", "use = or !=")
    if a.type == "missing" and b.type == "missing":
        p.err(node.col, '"." compared with "."', "compare a tag with \".\"")
    if "missing" in (a.type, b.type) and op not in ("=", "==", "!="):
        p.err(node.col, f'the missing value "." can only be compared with = or !=',
              'write TAG="." or TAG!="."')
    for x in (a, b):
        if x.kind == "field" and x.source == "N_ALT" and "missing" in (a.type, b.type):
            p.err(x.col, 'N_ALT is never missing: it cannot be compared with "."',
                  "compare it with a number (bcftools rejects this too)")
    if "missing" not in (a.type, b.type):
        _check_pair(node, a, b, p)
    node.smp = a.smp or b.smp


def parse_expression(text: str, header: VcfHeader, option: str = "-i") -> Node:
    """Parse and type-check ``text``; raise :class:`ExpressionError` on any problem."""
    p = _Parser(text, header, option)
    root = p.parse()
    _check(root, p)
    if root.type != "bool":
        p.err(root.col, f"{_describe(root)} is a value, not a condition (bcftools treats it "
              f"as false)", "compare it, e.g. DB=1 or DP>0")
    return root


def top_level_clauses(root: Node) -> list[Node]:
    """The operands of the top-level chain of logic operators (parenthesised groups whole)."""
    out: list[Node] = []

    def walk(n: Node, top: bool):
        if n.kind == "logic" and (top or not n.paren):
            for a in n.args:
                walk(a, False)
        else:
            out.append(n)

    walk(root, True)
    return out


def compile_filter(text: str, header: VcfHeader, *, option: str = "-i"):
    """See :func:`pgx.filtering.program.compile_filter`."""
    from pgx.filtering.program import compile_filter as _compile
    return _compile(text, header, option=option)
