"""What a Node.js file listens on, connects to and writes, read from its syntax tree.

nodeSocket apps pick their own port; dotCloud hands one out. Before a ``listen(...)``
can be rewritten we need to know which server it belongs to (HTTP, raw TCP, or a
UDP socket's ``bind``) and where the value that decides the port is written
(:mod:`kit.js.portexpr`). ``dotkit verify`` also wants the code that reaches for a
database on ``localhost`` (another container on dotCloud; :mod:`kit.js.connections`)
and the writes under ``~/data`` or into the code (:mod:`kit.js.writes`).

Candidates are found at the bytes of their tokens (``listen``, a loopback address,
a write function's name) and judged on the syntax tree, so a file holding none of
those tokens is never parsed (:func:`worth_parsing`), and a large file costs a
parse, not a Python walk over every node.
"""

from kit.js.connections import ConnectionFinder
from kit.js.model import (
    DataWrite,
    JsAnalysis,
    ListenCall,
    LocalConnection,
    Origin,
    PortArg,
    ServerKind,
    Span,
)
from kit.js.pathexpr import PathReader
from kit.js.portexpr import listen_call, with_origins
from kit.js.scope import scope_of
from kit.js.syntax import Hit, Node, Positions, first_error, line_column, locate, parser
from kit.js.writes import file_write, upload_folder

# Where candidates start. Every result of analyze_js is found at one of these tokens,
# which is what makes worth_parsing() safe.
LISTEN_TOKENS = (b"listen",)
UDP_TOKENS = (b"dgram",)  # a UDP socket binds its port with `bind`
BIND_TOKENS = (b"bind",)
LOOPBACK_TOKENS = (b"localhost", b"127.0.0.1", b"::1")
CONNECT_TOKENS = (
    b"connect",
    b"createConnection",
    b"createClient",
    b"createPool",
    b"Client",
    b"Pool",
    b"Redis",
)
# A call connects to the default host only on a module bound by one of these names.
CLIENT_MODULE_TOKENS = (b"net", b"tls", b"redis", b"mysql", b"pg", b"Redis")
ENV_TOKENS = (b"process.env",)
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
UPLOAD_TOKENS = (b"dest", b"uploadDir")
# Folders whose scripts are for browsers (Express serves them with its static
# middleware) or for the test runner, and minified bundles: never what a service's
# node runs, so the scan leaves them out (a file node does load is still followed,
# see kit.js.link).
NOT_SERVED_FOLDERS = frozenset(
    {"public", "static", "assets", "bower_components", "test", "tests", "spec", "__tests__"}
)


def _has_any(source: bytes, tokens: tuple[bytes, ...]) -> bool:
    return any(token in source for token in tokens)


class _Searches:
    """Which candidate searches can find anything in a file."""

    def __init__(self, source: bytes) -> None:
        self.listens = _has_any(source, LISTEN_TOKENS)
        self.binds = _has_any(source, UDP_TOKENS) and _has_any(source, BIND_TOKENS)
        self.loopback = _has_any(source, LOOPBACK_TOKENS)
        connects = _has_any(source, CONNECT_TOKENS)
        self.defaults = connects and _has_any(source, CLIENT_MODULE_TOKENS)
        self.env_hosts = connects and _has_any(source, ENV_TOKENS)
        self.writes = _has_any(source, WRITE_TOKENS)
        self.uploads = _has_any(source, UPLOAD_TOKENS)

    def any(self) -> bool:
        return any(vars(self).values())


def not_served(path: str) -> bool:
    """Whether ``path`` (posix, relative) is code a service's node does not run:
    browser code (under public, static, assets or bower_components, or a minified
    ``.min.js``) or tests (under test, tests, spec or __tests__)."""
    parts = path.split("/")
    return path.endswith(".min.js") or any(part in NOT_SERVED_FOLDERS for part in parts[:-1])


# Coarser tokens that every token above contains ("File" is in writeFile,
# appendFile, copyFile and outputFile): fewer passes over a file that holds none.
_GATE_CONNECT = (b"connect", b"Connection", b"Client", b"Pool", b"Redis")
_GATE_WRITE = (b"File", b"Write", b"mkdir", b"rename", b"writeJson")


def _has(source: bytes, tokens: tuple[bytes, ...]) -> bool:
    return any(token in source for token in tokens)


def worth_parsing(source: bytes) -> bool:
    """False when :func:`analyze_js` is sure to find no listen, connection or write.

    analyze_js looks for candidates only at the tokens above, so a file holding
    none of them cannot produce a finding and need not be parsed (its syntax
    errors go unseen, which ``verify`` reports only for the files node loads,
    through :mod:`kit.js.modules`).
    """
    if _has(source, LISTEN_TOKENS) or _has(source, LOOPBACK_TOKENS) or b"dgram" in source:
        return _Searches(source).any()
    if _has(source, _GATE_WRITE) or _has(source, UPLOAD_TOKENS) or _has(source, _GATE_CONNECT):
        return _Searches(source).any()
    return False


def _listens(source: bytes, root: Node, searches: _Searches) -> list[tuple[Node, str]]:
    calls: list[tuple[Node, str]] = []
    for wanted, tokens, method in (
        (searches.listens, LISTEN_TOKENS, "listen"),
        (searches.binds, BIND_TOKENS, "bind"),
    ):
        for hit in locate(root, source, tokens) if wanted else []:
            if hit.node.type == "property_identifier" and len(hit.up) > 1:
                call = hit.up[1] if hit.up[0].type == "member_expression" else None
                if call is not None and call.type == "call_expression":
                    calls.append((call, method))
    return calls


def analyze_js(source: bytes) -> JsAnalysis:
    """Listens, loopback connections and writes in ``source``; never raises."""
    searches = _Searches(source)
    root = parser().parse(source).root_node
    syntax_error = first_error(source, root)

    def hits(wanted: bool, tokens: tuple[bytes, ...]) -> list[Hit]:
        return locate(root, source, tokens) if wanted else []

    listen_calls = _listens(source, root, searches)
    string_hits = hits(searches.loopback, LOOPBACK_TOKENS)
    connect_hits = hits(searches.defaults or searches.env_hosts, CONNECT_TOKENS)
    write_hits = hits(searches.writes, WRITE_TOKENS)
    upload_hits = hits(searches.uploads, UPLOAD_TOKENS)
    if not (listen_calls or string_hits or connect_hits or write_hits or upload_hits):
        return JsAnalysis((), syntax_error)  # the tokens were in comments or other names
    scope = scope_of(source, root)
    listen_positions = Positions(source)
    found = [listen_call(scope, listen_positions, call, how) for call, how in listen_calls]
    listens = with_origins(source, [call for call in found if call is not None])
    finder = ConnectionFinder(scope, Positions(source))
    connections = [finder.string(hit) for hit in string_hits]
    if searches.defaults:
        connections += [finder.default_host(hit) for hit in connect_hits]
    if searches.env_hosts:
        connections += [c for hit in connect_hits for c in finder.env_hosts(hit)]
    reader = PathReader(scope)
    write_positions, upload_positions = Positions(source), Positions(source)
    writes = [file_write(reader, write_positions, hit) for hit in write_hits]
    writes += [upload_folder(reader, upload_positions, hit) for hit in upload_hits]
    return JsAnalysis(
        listens=tuple(sorted(listens, key=lambda c: (c.line, c.column))),
        syntax_error=syntax_error,
        connections=unique_sorted(connections),
        data_writes=tuple(sorted({w for w in writes if w is not None}, key=_where)),
    )


def _where(write: DataWrite) -> tuple[int, int]:
    return write.line, write.column


def unique_sorted(found: list[LocalConnection | None]) -> tuple[LocalConnection, ...]:
    return tuple(sorted({c for c in found if c is not None}, key=lambda c: (c.line, c.column)))


__all__ = [
    "DataWrite",
    "JsAnalysis",
    "ListenCall",
    "LocalConnection",
    "Origin",
    "PortArg",
    "ServerKind",
    "Span",
    "analyze_js",
    "line_column",
    "not_served",
    "worth_parsing",
]
