"""Block text → :class:`~nader.ir.graph.Network`, with the grammar in ``grammars/block.lark``.

The grammar is loaded once per process through :mod:`importlib.resources` (so it works from a
wheel) and run as LALR(1) with an inline transformer, which builds the typed IR directly without
an intermediate parse tree. Every Lark error becomes :class:`~nader.errors.BlockSyntaxError` with
line, column, a caret excerpt and the tokens that were expected. Limits on input size, line length
and nesting keep hostile input cheap to reject.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from nader.errors import BlockSyntaxError
from nader.ir.expr import MAX_DEPTH, BinOp, Const, Expr, Neg, Sym
from nader.ir.graph import Block, Edge, Network, Node, Value

MAX_TEXT_CHARS = 1_000_000
MAX_LINE_CHARS = 2_000
MAX_INT_DIGITS = 12

_TOKEN_WORDS = {
    "_NL": "end of line",
    "HEADER": "##Name## header",
    "INT": "integer",
    "NAME": "name",
    "FLOAT": "number",
    "COLON": "':'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "EQUAL": "'='",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "__ANON_0": "'->'",
    "__ANON_1": "'//'",
    "$END": "end of text",
}


@functools.cache
def grammar_text() -> str:
    """The grammar source, read from the installed package."""
    return resources.files("nader").joinpath("grammars/block.lark").read_text(encoding="utf-8")


def _int(token: Token) -> int:
    if len(token) > MAX_INT_DIGITS:
        raise BlockSyntaxError(
            f"integer {token[:20]}... is too long (at most {MAX_INT_DIGITS} digits)",
            line=token.line or 0,
            column=token.column or 0,
        )
    return int(token)


@v_args(inline=True)
class _ToIR(Transformer[Token, Any]):
    """Builds IR objects while LALR reduces; no tree is materialised."""

    def int_lit(self, token: Token) -> Expr:
        return Const(_int(token))

    def name_ref(self, token: Token) -> Expr:
        return Sym(str(token))

    def add(self, left: Expr, right: Expr) -> Expr:
        return BinOp("+", left, right)

    def sub(self, left: Expr, right: Expr) -> Expr:
        return BinOp("-", left, right)

    def mul(self, left: Expr, right: Expr) -> Expr:
        return BinOp("*", left, right)

    def div(self, left: Expr, right: Expr) -> Expr:
        return BinOp("//", left, right)

    floordiv = div

    def neg(self, operand: Expr) -> Expr:
        if isinstance(operand, Const):
            return Const(-operand.value)
        return Neg(operand)

    def float_lit(self, token: Token) -> float:
        return float(token)

    def tuple_lit(self, *items: Expr | None) -> tuple[Expr, ...]:
        return tuple(item for item in items if item is not None)

    def kwarg(self, name: Token, value: Value) -> tuple[str, Value]:
        return (str(name), value)

    def posarg(self, value: Value) -> tuple[None, Value]:
        return (None, value)

    def call_args(self, *args: tuple[str | None, Value] | None) -> list[tuple[str | None, Value]]:
        return [arg for arg in args if arg is not None]

    def node(self, ident: Token, op: Token, call: list[tuple[str | None, Value]] | None = None) -> Node:
        args: list[Value] = []
        kwargs: list[tuple[str, Value]] = []
        for key, value in call or ():
            if key is None:
                args.append(_literal(value))
            else:
                kwargs.append((key, _literal(value)))
        return Node(
            id=_int(ident),
            op=str(op),
            args=tuple(args),
            kwargs=tuple(kwargs),
            line=ident.line or 0,
            column=ident.column or 0,
            has_call=call is not None,
        )

    def edge(self, *ids: Token) -> Edge:
        numbers = tuple(_int(token) for token in ids)
        return Edge(sources=numbers[:-1], target=numbers[-1], line=ids[0].line or 0)

    def block(self, header: Token, *statements: Node | Edge) -> Block:
        nodes = tuple(s for s in statements if isinstance(s, Node))
        edges = tuple(s for s in statements if isinstance(s, Edge))
        return Block(name=str(header)[2:-2].strip(), nodes=nodes, edges=edges, line=header.line or 0)

    def start(self, *blocks: Block) -> tuple[Block, ...]:
        return blocks


_BOOLEANS = {"True": True, "true": True, "False": False, "false": False}


def _literal(value: Value) -> Value:
    """``True``/``False`` arrive as symbols; turn them into booleans."""
    if isinstance(value, Sym) and value.name in _BOOLEANS:
        return _BOOLEANS[value.name]
    return value


@functools.cache
def _parser() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        transformer=_ToIR(),
        maybe_placeholders=True,
    )


def _excerpt(text: str, line: int, column: int) -> str:
    lines = text.splitlines() or [""]
    if 1 <= line <= len(lines):
        source = lines[line - 1][:200]
        return f"{line:>4} | {source}\n     | {' ' * max(column - 1, 0)}^"
    return ""


def _expected_words(names: set[str] | frozenset[str] | None) -> list[str]:
    return sorted({_TOKEN_WORDS.get(name, name) for name in names or ()})


def _precheck(text: str, source: str | None) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise BlockSyntaxError(
            f"text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}",
            line=1,
            column=1,
            source=source,
        )
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise BlockSyntaxError(
                f"line is {len(line)} characters long; the limit is {MAX_LINE_CHARS}",
                line=number,
                column=MAX_LINE_CHARS,
                source=source,
            )
        depth = 0
        for column, char in enumerate(line, start=1):
            if char in "([":
                depth += 1
                if depth > MAX_DEPTH:
                    raise BlockSyntaxError(
                        f"brackets nested deeper than {MAX_DEPTH} levels",
                        line=number,
                        column=column,
                        excerpt=_excerpt(text, number, column),
                        source=source,
                    )
            elif char in ")]":
                depth -= 1


_HEADER_LINE = re.compile(r"##([^#\r\n]+)##")
_NODE_LINE = re.compile(r"(\d{1,12}):([A-Za-z_][A-Za-z0-9_]*)")
_CALL_LINE = re.compile(r"(\d{1,12}):([A-Za-z_][A-Za-z0-9_]*)(\(.*\))")
_EDGE_LINE = re.compile(r"(\d{1,12}(?:,\d{1,12})*)->(\d{1,12})")
_SPACE = re.compile(r"[\t \f]+")
_INNER_SPACE = re.compile(r"[A-Za-z0-9_.][\t \f]+[A-Za-z0-9_.]")


@functools.lru_cache(maxsize=4096)
def _parse_call(call_text: str) -> Node | None:
    """Arguments of one node line, parsed by the grammar and cached by their text.

    Architectures in a design session share most of their lines, so the grammar runs once per
    distinct argument list. ``None`` when the text is not a well-formed call (the caller then
    falls back to the full parser, which reports the error precisely).
    """
    try:
        blocks = _parser().parse(f"##x##\n0:x{call_text}\n")
    except (UnexpectedInput, BlockSyntaxError):
        return None
    return blocks[0].nodes[0] if blocks and len(blocks[0].nodes) == 1 else None


def _fast_parse(text: str) -> tuple[Block, ...] | None:
    """Line-by-line parse of the common, well-formed case; ``None`` means "use the grammar".

    It accepts a subset of what the grammar accepts and builds the same IR (a property test
    checks the two agree); anything unusual is left to the grammar, which also owns every error
    message.
    """
    blocks: list[Block] = []
    name: str | None = None
    header_line = 0
    nodes: list[Node] = []
    edges: list[Edge] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("##"):
            header = _HEADER_LINE.match(line)
            if header is None:
                return None
            rest = line[header.end() :].strip()
            if rest and not rest.startswith("#"):
                return None
            if name is not None:
                blocks.append(Block(name, tuple(nodes), tuple(edges), header_line, len(blocks)))
            name, header_line, nodes, edges = header.group(1).strip(), number, [], []
            continue
        if "#" in line:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
        if name is None:
            return None
        column = len(raw) - len(raw.lstrip()) + 1
        if _INNER_SPACE.search(line):
            return None  # spaces that separate tokens: the grammar decides
        compact = _SPACE.sub("", line) if (" " in line or "\t" in line or "\f" in line) else line
        match = _EDGE_LINE.fullmatch(compact)
        if match is not None:
            sources = tuple(int(part) for part in match.group(1).split(","))
            edges.append(Edge(sources, int(match.group(2)), number))
            continue
        match = _NODE_LINE.fullmatch(compact)
        if match is not None:
            nodes.append(Node(int(match.group(1)), match.group(2), line=number, column=column))
            continue
        match = _CALL_LINE.fullmatch(line.replace(" ", "")) if "(" in line else None
        if match is None:
            return None
        parsed = _parse_call(match.group(3))
        if parsed is None:
            return None
        nodes.append(
            Node(
                int(match.group(1)),
                match.group(2),
                parsed.args,
                parsed.kwargs,
                line=number,
                column=column,
                has_call=True,
            )
        )
    if name is None:
        return None
    blocks.append(Block(name, tuple(nodes), tuple(edges), header_line, len(blocks)))
    return tuple(blocks)


def parse_network(text: str, source: str | None = None) -> Network:
    """Parse a whole file (one or more blocks).

    Raises :class:`BlockSyntaxError` (and nothing else) for malformed text.
    """
    if not isinstance(text, str):
        raise TypeError("parse_network expects str")
    _precheck(text, source)
    fast = _fast_parse(text)
    if fast is not None:
        return Network(blocks=fast, source=source, text=text)
    try:
        blocks = _parser().parse(text + "\n")
    except UnexpectedInput as err:
        raise _syntax_error(err, text, source) from err
    except BlockSyntaxError as err:
        err.source = source
        err.excerpt = err.excerpt or _excerpt(text, err.line, err.column)
        raise
    except RecursionError as err:  # pragma: no cover - guarded by _precheck
        raise BlockSyntaxError("expression nested too deeply", line=1, column=1, source=source) from err
    numbered = tuple(
        Block(block.name, block.nodes, block.edges, block.line, index)
        for index, block in enumerate(blocks)
    )
    if not numbered:
        raise BlockSyntaxError(
            "no block found: a file starts with a ##Name## header line",
            line=1,
            column=1,
            expected=["##Name## header"],
            source=source,
        )
    return Network(blocks=numbered, source=source, text=text)


def parse_block(text: str, source: str | None = None) -> Block:
    """Parse text holding exactly one block."""
    network = parse_network(text, source)
    if len(network.blocks) != 1:
        raise BlockSyntaxError(
            f"expected exactly one block, found {len(network.blocks)}",
            line=network.blocks[1].line if len(network.blocks) > 1 else 1,
            column=1,
            source=source,
        )
    return network.blocks[0]


def _syntax_error(err: UnexpectedInput, text: str, source: str | None) -> BlockSyntaxError:
    line = max(int(getattr(err, "line", 1) or 1), 1)
    column = max(int(getattr(err, "column", 1) or 1), 1)
    expected: list[str] = []
    if isinstance(err, UnexpectedToken):
        token = err.token
        if token.type == "$END":
            message = "unexpected end of text"
            line = max(text.count("\n") + 1, 1)
        elif token.type == "_NL":
            message = "line ends too early"
        else:
            message = f"unexpected {token!s:.40}"
        expected = _expected_words(err.expected)
    elif isinstance(err, UnexpectedCharacters):
        char = text[err.pos_in_stream] if 0 <= err.pos_in_stream < len(text) else "?"
        message = f"unexpected character {char!r}"
        expected = _expected_words(err.allowed)
    elif isinstance(err, UnexpectedEOF):
        message = "unexpected end of text"
        expected = _expected_words(set(err.expected))
    else:  # pragma: no cover - every UnexpectedInput subclass is handled above
        message = "cannot parse"
    if line == 1 and not text.lstrip().startswith("##"):
        message += "; a block starts with a ##Name## header line"
    return BlockSyntaxError(
        message,
        line=line,
        column=column,
        excerpt=_excerpt(text, line, column),
        expected=expected,
        source=source,
    )
