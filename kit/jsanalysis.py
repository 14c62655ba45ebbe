"""What a Node.js file listens on, read from its syntax tree.

nodeSocket apps pick their own port; dotCloud hands one out. Before a ``listen(...)``
can be rewritten we need to know which server it belongs to (HTTP or raw TCP) and
where the number that decides the port sits in the source. Name resolution is
deliberately file-wide and scope-blind: names are matched by spelling, which is what
small nodeSocket apps need and keeps the result predictable.
"""

import re
from functools import cache
from typing import Literal, NamedTuple

import tree_sitter
import tree_sitter_javascript

ServerKind = Literal["http", "tcp", "unknown"]
PortKind = Literal["literal", "env", "env-default", "computed", "missing"]

Node = tree_sitter.Node

# Modules whose createServer/Server build a server, by the kind of server built.
_SERVER_MODULES: dict[str, ServerKind] = {
    "net": "tcp",
    "tls": "tcp",
    "http": "http",
    "https": "http",
    "http2": "http",
}
_FACTORY_NAMES = frozenset({"createServer", "createSecureServer", "Server"})
_FUNCTION_TYPES = frozenset({"function_expression", "function", "arrow_function"})
_DIGITS = re.compile(r"[0-9]+")
# Argument text is for messages; capping it keeps nested `listen(listen(...))` linear.
_MAX_TEXT_BYTES = 4096
# Deep enough for `const port = PORT` chains, shallow enough that cycles end fast.
_MAX_ALIAS_DEPTH = 8


class Span(NamedTuple):
    """A byte range ``[start, end)`` in the source, for in-place edits."""

    start: int
    end: int


class PortArg(NamedTuple):
    kind: PortKind
    value: int | None
    env_name: str | None
    literal: Span | None
    text: str
    # The whole expression deciding the port (argument or declaration initialiser);
    # the TCP fix replaces an `env || N` expression wholesale.
    expr: Span | None = None


class ListenCall(NamedTuple):
    line: int
    column: int
    server: ServerKind
    port: PortArg
    host: str | None


class JsAnalysis(NamedTuple):
    listens: tuple[ListenCall, ...]
    syntax_error: tuple[int, int] | None

    @property
    def serves_tcp(self) -> bool:
        return any(call.server == "tcp" for call in self.listens)

    @property
    def serves_http(self) -> bool:
        return any(call.server == "http" for call in self.listens)


@cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_javascript.language()))


def line_column(source: bytes, byte_offset: int) -> tuple[int, int]:
    """1-based line and 1-based column in characters (tree-sitter only knows bytes)."""
    offset = max(0, min(byte_offset, len(source)))
    line_start = source.rfind(b"\n", 0, offset) + 1
    column = len(source[line_start:offset].decode("utf-8", errors="replace")) + 1
    return source.count(b"\n", 0, offset) + 1, column


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def _is(source: bytes, node: Node | None, *words: str) -> bool:
    """Whether ``node`` is spelled as one of ``words``, without decoding big subtrees."""
    if node is None or node.end_byte - node.start_byte > 64:
        return False
    return _text(source, node).replace(" ", "") in words


def _unwrap(node: Node | None) -> Node | None:
    while node is not None and node.type == "parenthesized_expression":
        node = next((c for c in node.named_children if c.type != "comment"), None)
    return node


def _args(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return []
    return [c for c in arguments.named_children if c.type != "comment"]


def _string(source: bytes, node: Node | None) -> str | None:
    """The value of a plain string literal; None for anything dynamic."""
    if node is None or node.type != "string":
        return None
    if any(c.type == "escape_sequence" for c in node.named_children):
        return None
    return source[node.start_byte + 1 : node.end_byte - 1].decode("utf-8", errors="replace")


def _required_module(source: bytes, node: Node | None) -> str | None:
    """``require('node:net')`` -> ``"net"``."""
    node = _unwrap(node)
    if node is None or node.type != "call_expression":
        return None
    function = node.child_by_field_name("function")
    if function is None or function.type != "identifier" or not _is(source, function, "require"):
        return None
    args = _args(node)
    name = _string(source, args[0]) if len(args) == 1 else None
    return name.removeprefix("node:") if name is not None else None


def _env_read(source: bytes, node: Node | None) -> str | None:
    """``process.env.PORT`` / ``process.env['PORT']`` -> ``"PORT"``, through casts."""
    node = _unwrap(node)
    # A loop, not recursion: `+(+(+...))` may nest as deep as the parser allows.
    while node is not None and node.type in {"unary_expression", "call_expression"}:
        if node.type == "unary_expression":
            if not _is(source, node.child_by_field_name("operator"), "+"):
                return None
            node = _unwrap(node.child_by_field_name("argument"))
            continue
        function, args = node.child_by_field_name("function"), _args(node)
        if not _is(source, function, "Number", "parseInt") or not args:
            return None
        node = _unwrap(args[0])
    obj = node.child_by_field_name("object") if node is not None else None
    if node is None or not _is(source, obj, "process.env"):
        return None
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        return _text(source, prop) if prop is not None else None
    if node.type == "subscript_expression":
        return _string(source, node.child_by_field_name("index"))
    return None


class _Scope:
    """File-wide bindings: modules, server factories, servers and declared values."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.modules: dict[str, ServerKind] = {}  # `net` in `net.createServer()`
        self.factories: dict[str, ServerKind] = {}  # `express`, destructured `createServer`
        self.servers: dict[str, ServerKind] = {}
        self.declared: dict[str, list[Node | None]] = {}
        self.reassigned: set[str] = set()

    def bind_module(self, name_node: Node, module: str) -> None:
        kind = _SERVER_MODULES.get(module)
        if name_node.type == "identifier":
            name = _text(self.source, name_node)
            if module == "express":
                self.factories[name] = "http"
            elif kind is not None:
                self.modules[name] = kind
        elif name_node.type in {"object_pattern", "named_imports"} and kind is not None:
            for part in name_node.named_children:
                key, local = _pattern_names(self.source, part)
                if key in _FACTORY_NAMES and local is not None:
                    self.factories[local] = kind

    def module_of(self, node: Node | None) -> ServerKind | None:
        node = _unwrap(node)
        if node is None:
            return None
        if node.type == "identifier":
            return self.modules.get(_text(self.source, node))
        return _SERVER_MODULES.get(_required_module(self.source, node) or "")

    def server_of(self, node: Node | None) -> ServerKind | None:
        """The kind of server an expression evaluates to, if it visibly builds one."""
        node = _unwrap(node)
        # `var app = module.exports = express()`. Every link of a chain is itself a
        # binding, so a bounded look keeps `x = x = ... = y` linear.
        for _ in range(_MAX_ALIAS_DEPTH):
            if node is None or node.type != "assignment_expression":
                break
            node = _unwrap(node.child_by_field_name("right"))
        if node is None:
            return None
        if node.type == "identifier":
            return self.servers.get(_text(self.source, node))
        if node.type not in {"call_expression", "new_expression"}:
            return None
        callee = _unwrap(
            node.child_by_field_name(
                "function" if node.type == "call_expression" else "constructor"
            )
        )
        if callee is None:
            return None
        if callee.type == "identifier":
            return self.factories.get(_text(self.source, callee))
        if callee.type == "member_expression":
            prop = callee.child_by_field_name("property")
            if prop is not None and _text(self.source, prop) in _FACTORY_NAMES:
                return self.module_of(callee.child_by_field_name("object"))
        if _required_module(self.source, callee) == "express":
            return "http"
        return None


def _pattern_names(source: bytes, part: Node) -> tuple[str | None, str | None]:
    """(imported key, local name) of one `{key: local}` / `{key as local}` entry."""
    if part.type == "shorthand_property_identifier_pattern":
        name = _text(source, part)
        return name, name
    if part.type == "pair_pattern":
        key, value = part.child_by_field_name("key"), part.child_by_field_name("value")
        if key is not None and value is not None and value.type == "identifier":
            return _text(source, key), _text(source, value)
    if part.type == "import_specifier":
        imported = part.child_by_field_name("name")
        local = part.child_by_field_name("alias") or imported
        if imported is not None and local is not None:
            return _text(source, imported), _text(source, local)
    return None, None


def _int(text: str) -> int | None:
    try:
        return int(text, 0)  # rejects floats, BigInts and legacy octal alike
    except ValueError:
        return None


def _fallback(source: bytes, node: Node | None) -> tuple[int, Span] | None:
    """The integer in `|| 3000` (or `|| '3000'`, edited inside its quotes)."""
    node = _unwrap(node)
    if node is not None and node.type == "number":
        value = _int(_text(source, node))
        return None if value is None else (value, Span(node.start_byte, node.end_byte))
    digits = _string(source, node)
    if node is not None and digits is not None and _DIGITS.fullmatch(digits):
        return int(digits), Span(node.start_byte + 1, node.end_byte - 1)
    return None


def _classify(scope: _Scope, raw: Node | None, text: str, depth: int = 0) -> PortArg:
    source = scope.source
    node = _unwrap(raw)
    if node is None or node.type in _FUNCTION_TYPES:
        return PortArg("missing", None, None, None, text)
    expr = Span(node.start_byte, node.end_byte)
    computed = PortArg("computed", None, None, None, text, expr)
    if node.type == "number":
        value = _int(_text(source, node))
        return computed if value is None else PortArg("literal", value, None, expr, text, expr)
    env = _env_read(source, node)
    if env is not None:
        return PortArg("env", None, env, None, text, expr)
    if node.type == "binary_expression":
        operator = node.child_by_field_name("operator")
        env = _env_read(source, node.child_by_field_name("left"))
        fallback = _fallback(source, node.child_by_field_name("right"))
        if operator is not None and operator.type in {"||", "??"} and env and fallback:
            return PortArg("env-default", fallback[0], env, fallback[1], text, expr)
        return computed
    if node.type in {"identifier", "shorthand_property_identifier"}:
        name = _text(source, node)
        values = scope.declared.get(name, [])
        if len(values) != 1 or name in scope.reassigned or depth >= _MAX_ALIAS_DEPTH:
            return computed
        inner = _classify(scope, values[0], text, depth + 1)
        return computed if inner.kind in {"computed", "missing"} else inner
    if node.type == "object":
        value_node = _property(source, node, "port")
        if value_node is None:
            return PortArg("missing", None, None, None, text)
        return _classify(scope, value_node, text, depth + 1)
    return computed


def _property(source: bytes, obj: Node, key: str) -> Node | None:
    for part in obj.named_children:
        if part.type == "shorthand_property_identifier" and _text(source, part) == key:
            return part
        name = part.child_by_field_name("key") if part.type == "pair" else None
        if name is not None and key in {_text(source, name), _string(source, name)}:
            return part.child_by_field_name("value")
    return None


def _not_a_port(scope: _Scope, node: Node) -> bool:
    """Arguments that show an unresolved `x.listen(...)` is not a server listening."""
    node = _unwrap(node) or node
    if node.type == "object":
        return _property(scope.source, node, "port") is None
    if node.type == "identifier":  # socket.io style `io.listen(server)`
        return _text(scope.source, node) in scope.servers
    return node.type in _FUNCTION_TYPES | {"string", "template_string", "array", "class"}


def _walk(root: Node) -> list[Node]:
    """Every node in document order, iteratively: inputs may nest 50,000 deep."""
    found: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(reversed(node.children))
    return found


def _first_error(source: bytes, root: Node) -> tuple[int, int] | None:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            return line_column(source, node.start_byte)
        # has_error covers the subtree, so clean branches are never entered.
        stack.extend(reversed([c for c in node.children if c.has_error]))
    return None


def _bind(scope: _Scope, nodes: list[Node]) -> list[tuple[Node, Node | None]]:
    """Record modules and declared values; return (target, value) pairs to type later."""
    source = scope.source
    targets: list[tuple[Node, Node | None]] = []
    for node in nodes:
        if node.type == "variable_declarator":
            name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            if name is None:
                continue
            module = _required_module(source, value)
            if module is not None:
                scope.bind_module(name, module)
            if name.type == "identifier":
                scope.declared.setdefault(_text(source, name), []).append(value)
                targets.append((name, value))
        elif node.type == "import_statement":
            module = _string(source, node.child_by_field_name("source"))
            clause = next((c for c in node.named_children if c.type == "import_clause"), None)
            for part in clause.named_children if clause and module else []:
                if part.type == "namespace_import":
                    part = next(iter(reversed(part.named_children)), part)  # `* as name`
                scope.bind_module(part, (module or "").removeprefix("node:"))
        elif node.type in {"assignment_expression", "augmented_assignment_expression"}:
            left = node.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                scope.reassigned.add(_text(source, left))
                targets.append((left, node.child_by_field_name("right")))
        elif node.type == "update_expression":
            argument = node.child_by_field_name("argument")
            if argument is not None and argument.type == "identifier":
                scope.reassigned.add(_text(source, argument))
    return targets


class _Positions:
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


def _listen_call(scope: _Scope, positions: _Positions, call: Node) -> ListenCall | None:
    source = scope.source
    function = call.child_by_field_name("function")
    if function is None or function.type != "member_expression":
        return None
    prop = function.child_by_field_name("property")
    if prop is None or not _is(source, prop, "listen"):
        return None
    args = _args(call)
    server = scope.server_of(function.child_by_field_name("object"))
    if server is None and args and _not_a_port(scope, args[0]):
        return None
    first = args[0] if args else None
    text = ""
    if first is not None:
        end = min(first.end_byte, first.start_byte + _MAX_TEXT_BYTES)
        text = source[first.start_byte : end].decode("utf-8", errors="replace")
    port = _classify(scope, first, text)
    host: str | None = None
    unwrapped = _unwrap(first)
    if unwrapped is not None and unwrapped.type == "object":
        host = _string(source, _property(source, unwrapped, "host"))
    elif len(args) > 1:
        host = _string(source, args[1])
    line, column = positions.of(prop)
    return ListenCall(line, column, server or "unknown", port, host)


def analyze_js(source: bytes) -> JsAnalysis:
    """Every `listen(...)` in ``source`` with its server kind and port; never raises."""
    tree = _parser().parse(source)
    nodes = _walk(tree.root_node)
    scope = _Scope(source)
    for target, value in _bind(scope, nodes):
        kind = scope.server_of(value)
        if kind is not None:
            scope.servers.setdefault(_text(source, target), kind)
    positions = _Positions(source)
    listens = (_listen_call(scope, positions, n) for n in nodes if n.type == "call_expression")
    return JsAnalysis(
        listens=tuple(call for call in listens if call is not None),
        syntax_error=_first_error(source, tree.root_node),
    )
