"""Reading tree-sitter's JavaScript syntax tree: the parser and small helpers.

Every analysis in :mod:`kit.js` goes through these: spelling of nodes without
decoding big subtrees, unwrapping parentheses, the arguments of a call, the
value of a plain string, ``require('x')`` and ``process.env.X``, positions in
characters, and the nodes around the bytes of a token (candidates are found at
their tokens and judged on the tree, so a large file costs a parse, not a
Python walk over every node).
"""

import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import NamedTuple

import tree_sitter
import tree_sitter_javascript

from kit.js.model import Span

Node = tree_sitter.Node

FUNCTION_TYPES = frozenset({"function_expression", "function", "arrow_function"})
DIGITS = re.compile(r"[0-9]+")
# Argument text is for messages; capping it keeps nested `listen(listen(...))` linear.
MAX_TEXT_BYTES = 4096
# Deep enough for `const port = PORT` chains, shallow enough that cycles end fast.
MAX_ALIAS_DEPTH = 8
# Queries start no deeper than this in the syntax tree (about 200 levels of nested
# JavaScript): tree-sitter's query cursor slows down badly on trees nested tens of
# thousands deep (a hostile bundle), and no code anyone wrote by hand is that deep.
MAX_QUERY_DEPTH = 1000


def captures(query: tree_sitter.Query, root: Node) -> dict[str, list[Node]]:
    """The captures of ``query`` under ``root``, to :data:`MAX_QUERY_DEPTH`."""
    cursor = tree_sitter.QueryCursor(query)
    cursor.set_max_start_depth(MAX_QUERY_DEPTH)
    return cursor.captures(root)


@cache
def language() -> tree_sitter.Language:
    return tree_sitter.Language(tree_sitter_javascript.language())


@cache
def parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(language())


@cache
def bind_query() -> tree_sitter.Query:
    # Only the nodes that bind names; the query runs in C over the whole tree.
    return tree_sitter.Query(
        language(),
        "[(variable_declarator) (import_statement) (assignment_expression)"
        " (augmented_assignment_expression) (update_expression)] @bind",
    )


def line_column(source: bytes, byte_offset: int) -> tuple[int, int]:
    """1-based line and 1-based column in characters (tree-sitter only knows bytes)."""
    offset = max(0, min(byte_offset, len(source)))
    line_start = source.rfind(b"\n", 0, offset) + 1
    column = len(source[line_start:offset].decode("utf-8", errors="replace")) + 1
    return source.count(b"\n", 0, offset) + 1, column


def node_text(source: bytes, node: Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def spelled(source: bytes, node: Node | None, *words: str) -> bool:
    """Whether ``node`` is spelled as one of ``words``, without decoding big subtrees."""
    if node is None or node.end_byte - node.start_byte > 64:
        return False
    return node_text(source, node).replace(" ", "") in words


def unwrap(node: Node | None) -> Node | None:
    while node is not None and node.type == "parenthesized_expression":
        node = next((c for c in node.named_children if c.type != "comment"), None)
    return node


def call_args(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return []
    return [c for c in arguments.named_children if c.type != "comment"]


def string_value(source: bytes, node: Node | None) -> str | None:
    """The value of a plain string literal; None for anything dynamic."""
    if node is None or node.type != "string":
        return None
    if any(c.type == "escape_sequence" for c in node.named_children):
        return None
    return source[node.start_byte + 1 : node.end_byte - 1].decode("utf-8", errors="replace")


def required_module(source: bytes, node: Node | None) -> str | None:
    """``require('node:net')`` -> ``"net"``."""
    node = unwrap(node)
    if node is None or node.type != "call_expression":
        return None
    function = node.child_by_field_name("function")
    if (
        function is None
        or function.type != "identifier"
        or not spelled(source, function, "require")
    ):
        return None
    args = call_args(node)
    name = string_value(source, args[0]) if len(args) == 1 else None
    return name.removeprefix("node:") if name is not None else None


def env_read(source: bytes, node: Node | None) -> str | None:
    """``process.env.PORT`` / ``process.env['PORT']`` -> ``"PORT"``, through casts."""
    node = unwrap(node)
    # A loop, not recursion: `+(+(+...))` may nest as deep as the parser allows.
    while node is not None and node.type in {"unary_expression", "call_expression"}:
        if node.type == "unary_expression":
            if not spelled(source, node.child_by_field_name("operator"), "+"):
                return None
            node = unwrap(node.child_by_field_name("argument"))
            continue
        function, args = node.child_by_field_name("function"), call_args(node)
        if not spelled(source, function, "Number", "parseInt") or not args:
            return None
        node = unwrap(args[0])
    obj = node.child_by_field_name("object") if node is not None else None
    if node is None or not spelled(source, obj, "process.env"):
        return None
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        return node_text(source, prop) if prop is not None else None
    if node.type == "subscript_expression":
        return string_value(source, node.child_by_field_name("index"))
    return None


def int_value(text: str) -> int | None:
    try:
        return int(text, 0)  # rejects floats, BigInts and legacy octal alike
    except ValueError:
        return None


def port_fallback(source: bytes, node: Node | None) -> tuple[int, Span] | None:
    """The integer in `|| 3000` (or `|| '3000'`, edited inside its quotes)."""
    node = unwrap(node)
    if node is not None and node.type == "number":
        value = int_value(node_text(source, node))
        return None if value is None else (value, Span(node.start_byte, node.end_byte))
    digits = string_value(source, node)
    if node is not None and digits is not None and DIGITS.fullmatch(digits):
        return int(digits), Span(node.start_byte + 1, node.end_byte - 1)
    return None


def property_value(source: bytes, obj: Node, key: str) -> Node | None:
    for part in obj.named_children:
        if part.type == "shorthand_property_identifier" and node_text(source, part) == key:
            return part
        name = part.child_by_field_name("key") if part.type == "pair" else None
        if name is not None and key in {node_text(source, name), string_value(source, name)}:
            return part.child_by_field_name("value")
    return None


def first_error(source: bytes, root: Node) -> tuple[int, int] | None:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            return line_column(source, node.start_byte)
        # has_error covers the subtree, so clean branches are never entered.
        stack.extend(reversed([c for c in node.children if c.has_error]))
    return None


def positions_of(source: bytes, offsets: Iterable[int]) -> dict[int, tuple[int, int]]:
    """1-based (line, character column) of each byte offset, counted in one sweep
    through the file (a minified file is one long line: never decode it twice)."""
    places: dict[int, tuple[int, int]] = {}
    line, cursor, column = 1, 0, 0
    for offset in sorted(set(offsets)):
        newlines = source.count(b"\n", cursor, offset)
        if newlines:
            line += newlines
            cursor, column = source.rfind(b"\n", cursor, offset) + 1, 0
        column += len(source[cursor:offset].decode("utf-8", errors="replace"))
        cursor = offset
        places[offset] = (line, column + 1)
    return places


class Positions:
    """1-based (line, character column) of nodes met in roughly document order.

    Columns are counted on from the previous node on the same line, so a minified
    one-line file with many calls is not decoded from its start every time.
    """

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.row, self.byte, self.column = -1, 0, 0

    def of(self, node: Node) -> tuple[int, int]:
        row, byte_column = node.start_point
        if row != self.row or node.start_byte < self.byte:
            self.row, self.byte, self.column = row, node.start_byte - byte_column, 0
        chunk = self.source[self.byte : node.start_byte]
        self.column += len(chunk.decode("utf-8", errors="replace"))
        self.byte = node.start_byte
        return row + 1, self.column + 1


class Hit(NamedTuple):
    node: Node  # the smallest node holding the token
    up: tuple[Node, ...]  # its ancestors, parent first, a few levels


ANCESTORS_KEPT = 8


def token_offsets(source: bytes, tokens: tuple[bytes, ...]) -> Iterator[tuple[int, int]]:
    for token in tokens:
        start = source.find(token)
        while start >= 0:
            yield start, start + len(token)
            start = source.find(token, start + 1)


def locate(root: Node, source: bytes, tokens: tuple[bytes, ...]) -> list[Hit]:
    """The smallest node around each occurrence of ``tokens``, in document order.

    One cursor moves from hit to hit, climbing only as far as the next offset
    needs: ``descendant_for_byte_range`` (and ``Node.parent``) restart from the
    root, which is quadratic on input nested 20,000 deep.
    """
    hits: list[Hit] = []
    cursor = root.walk()
    path = [root]
    for start, end in sorted(set(token_offsets(source, tokens))):
        while len(path) > 1 and not (path[-1].start_byte <= start and end <= path[-1].end_byte):
            cursor.goto_parent()
            path.pop()
        while cursor.goto_first_child_for_byte(start) is not None:
            child = cursor.node
            if child is None or not (child.start_byte <= start and end <= child.end_byte):
                cursor.goto_parent()
                break
            path.append(child)
        ancestors = path[-ANCESTORS_KEPT - 1 : -1]
        hits.append(Hit(path[-1], tuple(reversed(ancestors))))
    return hits


def call_of(hit: Hit) -> Node | None:
    """The call whose callee is the hit's name: ``name(...)`` or ``x.name(...)``."""
    node, up = hit
    if node.type == "identifier" and up:
        callee, call = node, up[0]
    elif node.type == "property_identifier" and len(up) > 1 and up[0].type == "member_expression":
        callee, call = up[0], up[1]
    else:
        return None
    if call.type != "call_expression" or call.child_by_field_name("function") != callee:
        return None
    return call


def callee_text(source: bytes, call: Node) -> str:
    field = "function" if call.type == "call_expression" else "constructor"
    callee = call.child_by_field_name(field)
    if callee is None:
        return ""
    text = node_text(source, callee) if callee.end_byte - callee.start_byte <= 60 else ""
    if text and "\n" not in text:
        return text
    prop = callee.child_by_field_name("property")
    return node_text(source, prop) if prop is not None else ""


def callee_name(source: bytes, call: Node) -> str:
    """``connect`` for ``a.b.connect(...)``, ``Server`` for ``new Server(...)``."""
    field = "function" if call.type == "call_expression" else "constructor"
    callee = unwrap(call.child_by_field_name(field))
    if callee is not None and callee.type == "member_expression":
        callee = callee.child_by_field_name("property")
    if callee is None or callee.type not in {"identifier", "property_identifier"}:
        return ""
    return node_text(source, callee)


def literal_text(source: bytes, node: Node) -> tuple[str, bool]:
    """A string's raw text, or a template's up to its first ``${}``; and whether whole."""
    if node.type == "string":
        return source[node.start_byte + 1 : node.end_byte - 1].decode("utf-8", "replace"), True
    parts: list[str] = []
    for child in node.named_children:
        if child.type == "template_substitution":
            return "".join(parts), False
        parts.append(node_text(source, child))
    return "".join(parts), True


def port_value(source: bytes, node: Node | None) -> int | None:
    """A port written as a number or a string of digits."""
    found = port_fallback(source, node)
    return found[0] if found is not None else None


def capped(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
