"""Block text → :class:`~nader.ir.graph.Network`, with the grammar in ``grammars/block.lark``.

The grammar is loaded once per process from beside this package's own files (an installed
wheel, an editable install, whatever the working directory) and run as LALR(1) with an inline
transformer, which builds the typed IR directly without an intermediate parse tree. Every Lark error becomes :class:`~nader.errors.BlockSyntaxError` with
line, column, a caret excerpt and the tokens that were expected. Limits on input size, line length
and nesting keep hostile input cheap to reject.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, cast

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from nader.errors import BlockSyntaxError, ExpressionError
from nader.ir.expr import MAX_DEPTH, BinOp, Const, Expr, Neg, Sym, check_size
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
    "_ARROW": "'->'",
    "_FLOORDIV": "'//'",
    "$END": "end of text",
}


#: ``nader/grammars/block.lark``, found from this module's own location: resolving the name
#: ``nader`` instead can land on a ``nader/`` folder in the working directory (a checkout seen
#: as a namespace package when the real package comes from an editable-install finder).
GRAMMAR_PATH = Path(__file__).resolve().parent.parent / "grammars" / "block.lark"


@functools.cache
def grammar_text() -> str:
    """The grammar source, read from the package this parser belongs to."""
    return GRAMMAR_PATH.read_text(encoding="utf-8")


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

    def node(
        self, ident: Token, op: Token, call: list[tuple[str | None, Value]] | None = None
    ) -> Node:
        args: list[Value] = []
        kwargs: list[tuple[str, Value]] = []
        for key, value in call or ():
            _check_value_size(value, op)
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
        name = str(header).strip("#").strip()
        if not name:
            raise BlockSyntaxError(
                "the block name is empty; write ##Name##",
                line=header.line or 0,
                column=header.column or 0,
            )
        nodes = tuple(s for s in statements if isinstance(s, Node))
        edges = tuple(s for s in statements if isinstance(s, Edge))
        return Block(name=name, nodes=nodes, edges=edges, line=header.line or 0)

    def start(self, *blocks: Block) -> tuple[Block, ...]:
        return blocks


def _check_value_size(value: Value, op: Token) -> None:
    """Reject over-deep or over-large expressions before any pass recurses over them."""
    for item in value if isinstance(value, tuple) else (value,):
        if isinstance(item, (BinOp, Neg)):
            try:
                check_size(item)
            except ExpressionError as err:
                raise BlockSyntaxError(
                    f"{op} argument: {err}", line=op.line or 0, column=op.column or 0
                ) from None


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


def _run_grammar(text: str) -> tuple[Block, ...]:
    """The LALR parse; the inline transformer makes its result the blocks themselves."""
    return cast(tuple[Block, ...], _parser().parse(text))


def _excerpt(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    if 1 <= line <= len(lines):
        source = lines[line - 1].rstrip("\r")[:200]
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
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise BlockSyntaxError(
                f"line is {len(line)} characters long; the limit is {MAX_LINE_CHARS}",
                line=number,
                column=MAX_LINE_CHARS,
                source=source,
            )
        if line.count("(") + line.count("[") <= MAX_DEPTH:
            continue  # cannot nest deeper than the limit
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


#: ``##Name##``; models also write ``###Name###``: two or more ``#`` on each side is a header.
_HEADER_LINE = re.compile(r"##+([^#\r\n]+)##+")
_EDGE_LINE = re.compile(r"(\d{1,12}(?:[\t \f]*,[\t \f]*\d{1,12})*)[\t \f]*->[\t \f]*(\d{1,12})")
_NODE_LINE = re.compile(r"(\d{1,12})[\t \f]*:[\t \f]*([A-Za-z_][A-Za-z0-9_]*)[\t \f]*(\(.*\))?")
#: What the fast path leaves to the grammar: non-ASCII or control characters, a lone CR.
_UNUSUAL_TEXT = re.compile(r"[^\x20-\x7e\t\n\r]|\r(?!\n|\Z)")

#: A parsed content line: ("edge", sources, target) or ("node", id, op, args, kwargs, has_call).
_LineIR = tuple[Any, ...]


def _parse_content(content: str, calls: dict[str, _Arguments | None]) -> _LineIR | None:
    """One node or edge line (stripped, comment removed).

    ``None`` when the line is not in the simple form; the caller then falls back to the full
    grammar, which owns every error. ``calls`` holds the argument lists already parsed in this
    text: nodes written alike share one argument tuple, and Lark runs once per distinct list.
    """
    match = _EDGE_LINE.fullmatch(content)
    if match is not None:
        sources = tuple(int(part) for part in match.group(1).replace(",", " ").split())
        return ("edge", sources, int(match.group(2)))
    match = _NODE_LINE.fullmatch(content)
    if match is None:
        return None
    call = match.group(3)
    if call is None:
        return ("node", int(match.group(1)), match.group(2), (), (), False)
    if call not in calls:
        calls[call] = _parse_call(call)
    arguments = calls[call]
    if arguments is None:
        return None
    return ("node", int(match.group(1)), match.group(2), *arguments, True)


_Arguments = tuple[tuple[Value, ...], tuple[tuple[str, Value], ...]]


def _parse_call(call: str) -> _Arguments | None:
    """A node's ``(...)`` arguments through the grammar (None: leave the line to the grammar)."""
    try:
        blocks = _run_grammar(f"##x##\n0:x{call}\n")
    except (UnexpectedInput, BlockSyntaxError):
        return None
    node = blocks[0].nodes[0]
    return node.args, node.kwargs


def _fast_parse(text: str) -> tuple[Block, ...] | None:
    """Line-by-line parse of the common, well-formed case; ``None`` means "use the grammar".

    It accepts a subset of what the grammar accepts and builds the same IR (a property test
    checks the two agree on generated and mutated texts); anything unusual — non-ASCII or
    control characters, malformed lines — is left to the grammar, which also owns every error
    message. It earns its place by speed: Lark parses the argument lists only (once per
    distinct list), about half the cost of a full LALR parse of a 46-node cell.
    """
    if _UNUSUAL_TEXT.search(text) is not None:
        return None
    blocks: list[Block] = []
    name: str | None = None
    header_line = 0
    nodes: list[Node] = []
    edges: list[Edge] = []
    calls: dict[str, _Arguments | None] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        if line[0] == "#":
            header = _HEADER_LINE.match(line) if line.startswith("##") else None
            if header is None:
                continue  # a comment line
            rest = line[header.end() :].lstrip()
            if (rest and rest[0] != "#") or not header.group(1).strip():
                return None
            if name is not None:
                blocks.append(Block(name, tuple(nodes), tuple(edges), header_line, len(blocks)))
            name, header_line, nodes, edges = header.group(1).strip(), number, [], []
            continue
        if name is None:
            return None
        column = len(raw) - len(raw.lstrip()) + 1
        if "#" in line:
            line = line.split("#", 1)[0].rstrip()
        parsed = _parse_content(line, calls)
        if parsed is None:
            return None
        if parsed[0] == "edge":
            edges.append(Edge(parsed[1], parsed[2], number))
        else:
            _, ident, op, args, kwargs, has_call = parsed
            nodes.append(Node(ident, op, args, kwargs, number, column, has_call))
    if name is None:
        return None
    blocks.append(Block(name, tuple(nodes), tuple(edges), header_line, len(blocks)))
    return tuple(blocks)


def _grammar_parse(text: str, source: str | None) -> tuple[Block, ...]:
    """The full LALR parse; every failure becomes :class:`BlockSyntaxError`."""
    try:
        blocks = _run_grammar(text + "\n")
    except UnexpectedInput as err:
        raise _syntax_error(err, text, source) from err
    except BlockSyntaxError as err:
        err.source = source
        err.excerpt = err.excerpt or _excerpt(text, err.line, err.column)
        err.block = err.block or _block_at(text, err.line)
        raise
    return tuple(
        Block(block.name, block.nodes, block.edges, block.line, index)
        for index, block in enumerate(blocks)
    )


def parse_network(text: str, source: str | None = None) -> Network:
    """Parse a whole file (one or more blocks).

    Raises :class:`BlockSyntaxError` (and nothing else) for malformed text.
    """
    if not isinstance(text, str):
        raise TypeError("parse_network expects str")
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark some editors write
    _precheck(text, source)
    blocks = _fast_parse(text)
    if blocks is None:
        blocks = _grammar_parse(text, source)
    if not blocks:
        raise BlockSyntaxError(
            "no block found: a file starts with a ##Name## header line",
            line=1,
            column=1,
            expected=["##Name## header"],
            source=source,
        )
    return Network(blocks=blocks, source=source, text=text)


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
            message = f"unexpected {str(token.value)[:40]!r}"
        expected = _expected_words(err.expected)
    elif isinstance(err, UnexpectedCharacters):
        position = err.pos_in_stream
        char = text[position] if position is not None and 0 <= position < len(text) else "?"
        message = f"unexpected character {char!r}"
        expected = _expected_words(err.allowed)
    elif isinstance(err, UnexpectedEOF):
        message = "unexpected end of text"
        expected = _expected_words(set(err.expected))
    else:  # pragma: no cover - every UnexpectedInput subclass is handled above
        message = "cannot parse"
    block = _block_at(text, line)
    if block is None:
        message += "; a block starts with a ##Name## header line"
    return BlockSyntaxError(
        message,
        line=line,
        column=column,
        excerpt=_excerpt(text, line, column),
        expected=expected,
        source=source,
        block=block,
    )


def _block_at(text: str, line: int) -> str | None:
    """Name of the block whose header is the last one at or before ``line``."""
    name = None
    for raw in text.split("\n")[:line]:
        header = _HEADER_LINE.match(raw.strip())
        if header is not None and header.group(1).strip():
            name = header.group(1).strip()
    return name
