"""What a Node.js file listens on, connects to and writes, read from its syntax tree.

nodeSocket apps pick their own port; dotCloud hands one out. Before a ``listen(...)``
can be rewritten we need to know which server it belongs to (HTTP or raw TCP) and
where the number that decides the port sits in the source. ``dotkit verify`` also
wants the code that reaches for a database on ``localhost`` (another container on
dotCloud) and the writes under ``~/data`` (kept per instance, moved on every push).

Name resolution is deliberately file-wide and scope-blind: names are matched by
spelling, which is what small nodeSocket apps need and keeps the result
predictable. Candidates are found at the bytes of their tokens (``listen``, a
loopback address, a write function's name) and judged on the syntax tree, so a
large file costs a parse, not a Python walk over every node.
"""

import re
from collections.abc import Iterator
from functools import cache
from typing import Literal, NamedTuple

import tree_sitter
import tree_sitter_javascript

from kit.platform.facts import HTTP_PORT

ServerKind = Literal["http", "tcp", "unknown"]
PortKind = Literal["literal", "env", "env-default", "computed", "missing"]
# "url": a client URL string; "host": a host handed to a call; "default": no host at
# all, so the library connects to its default, 127.0.0.1.
ConnectionVia = Literal["url", "host", "default"]

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


class LocalConnection(NamedTuple):
    """Code reaching for a service at this container's own loopback address."""

    line: int
    column: int
    target: str  # as written ("mongodb://localhost/app", "127.0.0.1"), or the default used
    protocol: str | None  # "mongodb", "redis", "mysql", "postgresql", "amqp", "memcache", "tcp"...
    via: ConnectionVia
    call: str = ""  # the call that connects, when one is visible ("redis.createClient")


class DataWrite(NamedTuple):
    """A filesystem write whose path lies under ``~/data``."""

    line: int
    column: int
    function: str  # "fs.writeFileSync"
    target: str  # the path as far as it is known: "~/data/db.json", "~/data/…"


class JsAnalysis(NamedTuple):
    listens: tuple[ListenCall, ...]
    syntax_error: tuple[int, int] | None
    connections: tuple[LocalConnection, ...] = ()
    data_writes: tuple[DataWrite, ...] = ()

    @property
    def serves_tcp(self) -> bool:
        return any(call.server == "tcp" for call in self.listens)

    @property
    def serves_http(self) -> bool:
        return any(call.server == "http" for call in self.listens)


@cache
def _language() -> tree_sitter.Language:
    return tree_sitter.Language(tree_sitter_javascript.language())


@cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(_language())


@cache
def _bind_query() -> tree_sitter.Query:
    # Only the nodes that bind names; the query runs in C over the whole tree.
    return tree_sitter.Query(
        _language(),
        "[(variable_declarator) (import_statement) (assignment_expression)"
        " (augmented_assignment_expression) (update_expression)] @bind",
    )


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
        self.bound: dict[str, str] = {}  # `fs` in `var fs = require('fs')` -> "fs"
        self.imported: dict[str, tuple[str, str]] = {}  # `{ homedir: home }` -> ("os", "homedir")

    def bind_module(self, name_node: Node, module: str) -> None:
        kind = _SERVER_MODULES.get(module)
        if name_node.type == "identifier":
            name = _text(self.source, name_node)
            self.bound[name] = module
            if module == "express":
                self.factories[name] = "http"
            elif kind is not None:
                self.modules[name] = kind
        elif name_node.type in {"object_pattern", "named_imports"}:
            for part in name_node.named_children:
                key, local = _pattern_names(self.source, part)
                if key is None or local is None:
                    continue
                self.imported[local] = (module, key)
                if key in _FACTORY_NAMES and kind is not None:
                    self.factories[local] = kind

    def module_name(self, node: Node | None) -> str | None:
        """The module an expression is, by binding or an inline ``require``."""
        node = _unwrap(node)
        if node is not None and node.type == "identifier":
            return self.bound.get(_text(self.source, node))
        return _required_module(self.source, node)

    def resolved(self, node: Node | None) -> Node | None:
        """The one value an identifier is declared with, if it is never reassigned."""
        node = _unwrap(node)
        if node is None or node.type != "identifier":
            return None
        name = _text(self.source, node)
        values = self.declared.get(name, [])
        return values[0] if len(values) == 1 and name not in self.reassigned else None

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


# Where candidates start. Every result of analyze_js is found at one of these tokens,
# which is what makes worth_parsing() safe.
LISTEN_TOKENS = (b"listen",)
LOOPBACK_TOKENS = (b"localhost", b"127.0.0.1", b"::1")
CONNECT_TOKENS = (b"connect", b"createConnection", b"createClient")
# A call connects to the default host only on a module bound by one of these names.
CLIENT_MODULE_TOKENS = (b"net", b"tls", b"redis")
WRITE_TOKENS = (
    b"writeFile",
    b"appendFile",
    b"createWriteStream",
    b"mkdir",
    b"rename",
    b"copyFile",
    b"outputFile",
    b"writeJson",
)
# A path under ~/data is spelled with one of these (`process.env.HOME`, `os.homedir()`).
DATA_TOKENS = (b"/home/dotcloud", b"~/data", b"HOME", b"homedir")


def _has_any(source: bytes, tokens: tuple[bytes, ...]) -> bool:
    return any(token in source for token in tokens)


def _searches(source: bytes) -> tuple[bool, bool, bool, bool]:
    """Which candidate searches can find anything: listens, loopback strings,
    default-host connects, writes under ~/data."""
    return (
        _has_any(source, LISTEN_TOKENS),
        _has_any(source, LOOPBACK_TOKENS),
        _has_any(source, CONNECT_TOKENS) and _has_any(source, CLIENT_MODULE_TOKENS),
        # The rarer half first: most files never get to the second.
        _has_any(source, DATA_TOKENS) and _has_any(source, WRITE_TOKENS),
    )


def worth_parsing(source: bytes) -> bool:
    """False when :func:`analyze_js` is sure to find no listen, connection or write.

    analyze_js looks for candidates only at the tokens above, so a file holding
    none of them cannot produce a finding and need not be parsed (its syntax
    errors go unseen, which ``verify`` does not report anyway).
    """
    return any(_searches(source))


class _Hit(NamedTuple):
    node: Node  # the smallest node holding the token
    up: tuple[Node, ...]  # its ancestors, parent first, a few levels


_ANCESTORS_KEPT = 8


def _offsets(source: bytes, tokens: tuple[bytes, ...]) -> Iterator[tuple[int, int]]:
    for token in tokens:
        start = source.find(token)
        while start >= 0:
            yield start, start + len(token)
            start = source.find(token, start + 1)


def _locate(root: Node, source: bytes, tokens: tuple[bytes, ...]) -> list[_Hit]:
    """The smallest node around each occurrence of ``tokens``, in document order.

    One cursor moves from hit to hit, climbing only as far as the next offset
    needs: ``descendant_for_byte_range`` (and ``Node.parent``) restart from the
    root, which is quadratic on input nested 20,000 deep.
    """
    hits: list[_Hit] = []
    cursor = root.walk()
    path = [root]
    for start, end in sorted(set(_offsets(source, tokens))):
        while len(path) > 1 and not (path[-1].start_byte <= start and end <= path[-1].end_byte):
            cursor.goto_parent()
            path.pop()
        while cursor.goto_first_child_for_byte(start) is not None:
            child = cursor.node
            if child is None or not (child.start_byte <= start and end <= child.end_byte):
                cursor.goto_parent()
                break
            path.append(child)
        ancestors = path[-_ANCESTORS_KEPT - 1 : -1]
        hits.append(_Hit(path[-1], tuple(reversed(ancestors))))
    return hits


def _call_of(hit: _Hit) -> Node | None:
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


def _callee_text(source: bytes, call: Node) -> str:
    field = "function" if call.type == "call_expression" else "constructor"
    callee = call.child_by_field_name(field)
    if callee is None:
        return ""
    text = _text(source, callee) if callee.end_byte - callee.start_byte <= 60 else ""
    if text and "\n" not in text:
        return text
    prop = callee.child_by_field_name("property")
    return _text(source, prop) if prop is not None else ""


def _callee_name(source: bytes, call: Node) -> str:
    """``connect`` for ``a.b.connect(...)``, ``Server`` for ``new Server(...)``."""
    field = "function" if call.type == "call_expression" else "constructor"
    callee = _unwrap(call.child_by_field_name(field))
    if callee is not None and callee.type == "member_expression":
        callee = callee.child_by_field_name("property")
    if callee is None or callee.type not in {"identifier", "property_identifier"}:
        return ""
    return _text(source, callee)


# --- connections to the loopback address ------------------------------------------

_URL = re.compile(
    r"([a-z][a-z0-9+.-]*)://(?:[^@/?#\s]*@)?(?:localhost|127\.0\.0\.1|\[::1\])(?::\d*)?(?:[/?#,]|$)",
    re.IGNORECASE,
)
_HOST = re.compile(r"(?:localhost|127\.0\.0\.1|::1|\[::1\])(?::(\d+))?", re.IGNORECASE)
# A browser script talks to its own page's server; only service clients matter here.
_WEB_SCHEMES = frozenset({"http", "https", "ws", "wss"})
_SCHEME_PROTOCOLS = {
    "postgres": "postgresql",
    "mongodb+srv": "mongodb",
    "rediss": "redis",
    "memcached": "memcache",
    "amqps": "amqp",
}
_PORT_PROTOCOLS = {
    27017: "mongodb",
    6379: "redis",
    3306: "mysql",
    5432: "postgresql",
    5672: "amqp",
    11211: "memcache",
}
_MODULE_PROTOCOLS = {
    "redis": "redis",
    "ioredis": "redis",
    "mongodb": "mongodb",
    "mongoose": "mongodb",
    "mongoskin": "mongodb",
    "mysql": "mysql",
    "mysql2": "mysql",
    "pg": "postgresql",
    "amqp": "amqp",
    "amqplib": "amqp",
    "memcached": "memcache",
}
_HOST_KEYS = frozenset({"host", "hostname"})
# Any of these in an options object means the code says where to connect.
_ADDRESS_KEYS = ("host", "hostname", "path", "url", "socket")
_CONNECT_NAMES = frozenset(
    {
        "connect",
        "createConnection",
        "createClient",
        "createPool",
        "Client",
        "Connection",
        "Db",
        "Memcached",
        "MongoClient",
        "Pool",
        "Redis",
        "Server",
    }
)
_NOT_CONNECTING = frozenset({"listen", "log", "info", "warn", "error", "debug", "trace", "format"})
_DEFAULT_HOST_CALLS = frozenset(
    {("net", "connect"), ("net", "createConnection"), ("tls", "connect"), ("redis", "createClient")}
)
_REDIS_PORT = 6379


def _literal_text(source: bytes, node: Node) -> tuple[str, bool]:
    """A string's raw text, or a template's up to its first ``${}``; and whether whole."""
    if node.type == "string":
        return source[node.start_byte + 1 : node.end_byte - 1].decode("utf-8", "replace"), True
    parts: list[str] = []
    for child in node.named_children:
        if child.type == "template_substitution":
            return "".join(parts), False
        parts.append(_text(source, child))
    return "".join(parts), True


def _port_value(source: bytes, node: Node | None) -> int | None:
    """A port written as a number or a string of digits."""
    found = _fallback(source, node)
    return found[0] if found is not None else None


def _cap(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _ConnectionFinder:
    """Loopback connections among the hits of one file."""

    def __init__(self, scope: _Scope, positions: _Positions) -> None:
        self.scope = scope
        self.source = scope.source
        self.positions = positions
        self.seen: set[int] = set()

    def found(
        self, node: Node, target: str, protocol: str | None, via: ConnectionVia, call: str = ""
    ) -> LocalConnection:
        line, column = self.positions.of(node)
        return LocalConnection(line, column, _cap(target), protocol, via, call)

    def protocol(self, call: Node | None, port: int | None) -> str | None:
        if port in _PORT_PROTOCOLS:
            return _PORT_PROTOCOLS[port]
        if call is None:
            return None
        field = "function" if call.type == "call_expression" else "constructor"
        callee = _unwrap(call.child_by_field_name(field))
        receiver = callee.child_by_field_name("object") if callee is not None else None
        module = self.scope.module_name(receiver) if receiver is not None else None
        return _MODULE_PROTOCOLS.get(module or "")

    def string(self, hit: _Hit) -> LocalConnection | None:
        node, up = hit
        for _ in range(3):  # from a fragment or escape up to its string
            if node.type in {"string", "template_string"} or not up:
                break
            node, up = up[0], up[1:]
        if node.type not in {"string", "template_string"} or node.start_byte in self.seen:
            return None
        self.seen.add(node.start_byte)  # several addresses in one string count once
        text, whole = _literal_text(self.source, node)
        url = _URL.match(text)
        if url is not None:
            scheme = url.group(1).lower()
            if scheme in _WEB_SCHEMES:
                return None
            end = min(node.end_byte - 1, node.start_byte + 1 + _MAX_TEXT_BYTES)
            written = self.source[node.start_byte + 1 : end].decode("utf-8", "replace")
            return self.found(node, written, _SCHEME_PROTOCOLS.get(scheme, scheme), "url")
        host = _HOST.fullmatch(text) if whole else None
        if host is None or not up:
            return None
        port = int(host.group(1)) if host.group(1) else None
        if port == HTTP_PORT:
            return None
        if up[0].type == "arguments":
            return self.host_argument(node, up, text, port)
        if up[0].type == "pair":
            return self.host_option(node, up, text)
        return None

    def host_argument(
        self, node: Node, up: tuple[Node, ...], text: str, port: int | None
    ) -> LocalConnection | None:
        """``new Server('localhost', 27017)``, ``createClient(6379, '127.0.0.1')``."""
        call = up[1] if len(up) > 1 else None
        if call is None or call.type not in {"call_expression", "new_expression"}:
            return None
        name = _callee_name(self.source, call)
        if name in _NOT_CONNECTING:
            return None
        written_port = port is not None  # `'localhost:11211'`: plainly an address
        if port is None:
            numbers = (_port_value(self.source, a) for a in _args(call) if a.type == "number")
            port = next((n for n in numbers if n is not None), None)
        if port == HTTP_PORT:
            return None
        if name in _CONNECT_NAMES or port in _PORT_PROTOCOLS or written_port:
            protocol = self.protocol(call, port)
            return self.found(node, text, protocol, "host", _callee_text(self.source, call))
        return None

    def host_option(self, node: Node, up: tuple[Node, ...], text: str) -> LocalConnection | None:
        """``{host: 'localhost', port: 27017}`` handed to a call (or naming a database port)."""
        pair, obj = up[0], up[1] if len(up) > 1 else None
        key = pair.child_by_field_name("key")
        if obj is None or key is None:
            return None
        if (_string(self.source, key) or _text(self.source, key)) not in _HOST_KEYS:
            return None
        port_node = _property(self.source, obj, "port")
        port = _port_value(self.source, port_node)
        if port == HTTP_PORT:
            return None
        if port in _PORT_PROTOCOLS:
            return self.found(node, text, _PORT_PROTOCOLS[port], "host")
        index = 1  # climb `{socket: {host: ...}}` to the arguments it sits in
        while (
            index + 2 < len(up) and up[index + 1].type == "pair" and up[index + 2].type == "object"
        ):
            index += 2
        if index + 2 >= len(up) or up[index + 1].type != "arguments":
            return None
        call = up[index + 2]
        if call.type not in {"call_expression", "new_expression"}:
            return None
        name = _callee_name(self.source, call)
        if name in _NOT_CONNECTING or (port_node is None and name not in _CONNECT_NAMES):
            return None
        protocol = self.protocol(call, port)
        return self.found(node, text, protocol, "host", _callee_text(self.source, call))

    def default_host(self, hit: _Hit) -> LocalConnection | None:
        """``redis.createClient()``, ``net.connect(6379)``: no host, so 127.0.0.1."""
        call = _call_of(hit)
        if call is None:
            return None
        name = _text(self.source, hit.node)
        function = call.child_by_field_name("function")
        if hit.node.type == "identifier":
            module, name = self.scope.imported.get(name, ("", name))
        else:
            receiver = function.child_by_field_name("object") if function is not None else None
            module = self.scope.module_name(receiver) or ""
        if (module, name) not in _DEFAULT_HOST_CALLS:
            return None
        port = self.default_port(_args(call), module)
        if port == -1:
            return None
        target = "127.0.0.1" + (f":{port}" if port is not None else "")
        protocol = "redis" if module == "redis" else _PORT_PROTOCOLS.get(port or 0, "tcp")
        return self.found(hit.node, target, protocol, "default", _callee_text(self.source, call))

    def default_port(self, args: list[Node], module: str) -> int | None:
        """The port a host-less call connects to; -1 when the call names a host."""
        first = _unwrap(args[0]) if args else None
        default = _REDIS_PORT if module == "redis" else None
        if first is None:
            return default if module == "redis" else -1
        if first.type == "object":
            if any(_property(self.source, first, key) is not None for key in _ADDRESS_KEYS):
                return -1
            port = _classify(self.scope, first, "")
        else:
            port = _classify(self.scope, first, "")
            if port.kind not in {"literal", "env", "env-default"}:
                return -1
            if port.kind == "env" and "PORT" not in (port.env_name or "").upper():
                return -1  # `createClient(process.env.REDIS_URL)`: an address, not a port
            second = _unwrap(args[1]) if len(args) > 1 else None
            if second is not None and second.type not in _FUNCTION_TYPES | {"object"}:
                return -1
        return port.value if port.value is not None else default


# --- writes under ~/data ----------------------------------------------------------

# Write functions (fs, fs.promises, fs-extra, mkdirp) and which arguments are written.
_WRITE_ARGS: dict[str, tuple[int, ...]] = {
    "writeFile": (0,),
    "writeFileSync": (0,),
    "appendFile": (0,),
    "appendFileSync": (0,),
    "createWriteStream": (0,),
    "mkdir": (0,),
    "mkdirSync": (0,),
    "mkdirp": (0,),
    "rename": (0, 1),
    "renameSync": (0, 1),
    "copyFile": (1,),
    "copyFileSync": (1,),
    "outputFile": (0,),
    "outputFileSync": (0,),
    "writeJson": (0,),
    "writeJsonSync": (0,),
}
_DATA_DIR = re.compile(r"~/data(?:/|$)")
_DOTCLOUD_HOME = re.compile(r"^/home/dotcloud(?=/|$)")
_SLASHES = re.compile(r"/{2,}")
# Paths are built by a few joins and concatenations; deeper ones are not ~/data paths
# anyone wrote, and a bound keeps `a + a + ... + a` (50,000 deep) linear.
_MAX_PATH_DEPTH = 24


class _PathReader:
    """The statically known start of a path expression, with the home folder as ``~``."""

    def __init__(self, scope: _Scope) -> None:
        self.scope = scope
        self.source = scope.source

    def is_home(self, node: Node | None, depth: int = 0) -> bool:
        node = _unwrap(node)
        if node is None or depth > _MAX_PATH_DEPTH:
            return False
        if node.type == "member_expression" or node.type == "subscript_expression":
            return _env_read(self.source, node) == "HOME"
        if node.type == "call_expression":
            function = _unwrap(node.child_by_field_name("function"))
            if function is not None and function.type == "identifier":
                return self.scope.imported.get(_text(self.source, function)) == ("os", "homedir")
            if function is None or function.type != "member_expression":
                return False
            return _is(self.source, function.child_by_field_name("property"), "homedir") and (
                self.scope.module_name(function.child_by_field_name("object")) == "os"
            )
        if node.type == "binary_expression":  # `process.env.HOME || '/home/dotcloud'`
            operator = node.child_by_field_name("operator")
            return (
                operator is not None
                and operator.type in {"||", "??"}
                and (self.is_home(node.child_by_field_name("left"), depth + 1))
            )
        return self.is_home(self.scope.resolved(node), depth + 1)

    def prefix(self, node: Node | None, depth: int = 0) -> tuple[str, bool] | None:
        """(known start, whether that is the whole path), or None if nothing is known."""
        node = _unwrap(node)
        if node is None or depth > _MAX_PATH_DEPTH:
            return None
        if node.type == "string":
            return _literal_text(self.source, node)[0], True
        if node.type == "template_string":
            return self.template(node, depth)
        if self.is_home(node, depth + 1):
            return "~", True
        if node.type == "binary_expression":
            return self.concatenation(node, depth)
        if node.type == "call_expression":
            return self.path_call(node, depth)
        return self.prefix(self.scope.resolved(node), depth + 1)

    def template(self, node: Node, depth: int) -> tuple[str, bool] | None:
        parts: list[str] = []
        for child in node.named_children:
            if child.type != "template_substitution":
                parts.append(_text(self.source, child))
                continue
            inner = next((c for c in child.named_children if c.type != "comment"), None)
            known = self.prefix(inner, depth + 1)
            if known is None:
                return ("".join(parts), False) if parts else None
            parts.append(known[0])
            if not known[1]:
                return "".join(parts), False
        return "".join(parts), True

    def concatenation(self, node: Node, depth: int) -> tuple[str, bool] | None:
        if not _is(self.source, node.child_by_field_name("operator"), "+"):
            return None
        left = self.prefix(node.child_by_field_name("left"), depth + 1)
        if left is None or not left[1]:
            return left
        right = self.prefix(node.child_by_field_name("right"), depth + 1)
        if right is None:
            return left[0], False
        return left[0] + right[0], right[1]

    def path_call(self, node: Node, depth: int) -> tuple[str, bool] | None:
        """``path.join(home, 'data', name)`` and ``path.resolve(...)``."""
        function = _unwrap(node.child_by_field_name("function"))
        if function is None or function.type != "member_expression":
            return None
        prop = function.child_by_field_name("property")
        receiver = _unwrap(function.child_by_field_name("object"))
        if not _is(self.source, prop, "join", "resolve") or not (
            _is(self.source, receiver, "path")
            or self.scope.module_name(receiver) in {"path", "path/posix"}
        ):
            return None
        resolve = _is(self.source, prop, "resolve")
        joined = ""
        for arg in _args(node):
            known = self.prefix(arg, depth + 1)
            if known is None:
                return (joined + "/", False) if joined else None
            part = known[0]
            restart = not joined or (resolve and part.startswith("/"))
            joined = part if restart else joined + "/" + part
            if not known[1]:
                return joined, False
        return joined, True

    def data_path(self, node: Node | None) -> str | None:
        """How a path under ~/data reads ("~/data/db.json", "~/data/…"), else None."""
        known = self.prefix(node)
        if known is None:
            return None
        path, whole = _DOTCLOUD_HOME.sub("~", _SLASHES.sub("/", known[0])), known[1]
        if whole:
            return path if _DATA_DIR.match(path) else None
        # `~/data` + something unknown might be `~/database`; `~/data/` + it is inside.
        return path + "…" if path.startswith("~/data/") else None


def _data_write(reader: _PathReader, positions: _Positions, hit: _Hit) -> DataWrite | None:
    source = reader.source
    written = _WRITE_ARGS.get(_text(source, hit.node))
    call = _call_of(hit) if written is not None else None
    if call is None or written is None:
        return None
    args = _args(call)
    for index in written:
        where = reader.data_path(args[index]) if index < len(args) else None
        if where is not None:
            line, column = positions.of(hit.node)
            return DataWrite(line, column, _callee_text(source, call), _cap(where))
    return None


# --- the whole file -----------------------------------------------------------------


def _listen_target(source: bytes, hit: _Hit) -> Node | None:
    if hit.node.type != "property_identifier" or not _is(source, hit.node, "listen"):
        return None
    return _call_of(hit)


def _scope_of(source: bytes, root: Node) -> _Scope:
    scope = _Scope(source)
    nodes = tree_sitter.QueryCursor(_bind_query()).captures(root).get("bind", [])
    nodes.sort(key=lambda n: (n.start_byte, -n.end_byte))  # document order, parents first
    for target, value in _bind(scope, nodes):
        kind = scope.server_of(value)
        if kind is not None:
            scope.servers.setdefault(_text(source, target), kind)
    return scope


def analyze_js(source: bytes) -> JsAnalysis:
    """Listens, loopback connections and ~/data writes in ``source``; never raises."""
    root = _parser().parse(source).root_node
    listens, loopback, connects, writes = _searches(source)

    def hits(wanted: bool, tokens: tuple[bytes, ...]) -> list[_Hit]:
        return _locate(root, source, tokens) if wanted else []

    listen_calls = [
        call
        for call in (_listen_target(source, hit) for hit in hits(listens, LISTEN_TOKENS))
        if call is not None
    ]
    string_hits = hits(loopback, LOOPBACK_TOKENS)
    connect_hits = hits(connects, CONNECT_TOKENS)
    write_hits = hits(writes, WRITE_TOKENS)
    syntax_error = _first_error(source, root)
    if not (listen_calls or string_hits or connect_hits or write_hits):
        return JsAnalysis((), syntax_error)  # the tokens were in comments or other names
    scope = _scope_of(source, root)
    listen_positions = _Positions(source)
    found_listens = [_listen_call(scope, listen_positions, call) for call in listen_calls]
    finder = _ConnectionFinder(scope, _Positions(source))
    connections = [finder.string(hit) for hit in string_hits]
    connections += [finder.default_host(hit) for hit in connect_hits]
    reader, write_positions = _PathReader(scope), _Positions(source)
    writes_found = [_data_write(reader, write_positions, hit) for hit in write_hits]
    return JsAnalysis(
        listens=tuple(call for call in found_listens if call is not None),
        syntax_error=syntax_error,
        connections=_unique_sorted(connections),
        data_writes=tuple(write for write in writes_found if write is not None),
    )


def _unique_sorted(found: list[LocalConnection | None]) -> tuple[LocalConnection, ...]:
    return tuple(sorted({c for c in found if c is not None}, key=lambda c: (c.line, c.column)))
