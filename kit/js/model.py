"""What the JavaScript analysis finds, as plain values.

Two analyses share these types. :func:`kit.js.analysis.analyze_js` looks at
every file for what the platform's rules are about (a ``listen``, a connection
to the loopback address, a write to a folder) and is cheap for files that hold
none of them. :func:`kit.js.modules.analyze_module` looks at the files node
actually loads: what they require, what they export, and the syntax and APIs
they need from Node.js. Both are encoded to JSON as nested lists (every type is
a tuple), which is how the verifier caches them.
"""

from typing import Any, Literal, NamedTuple

ServerKind = Literal["http", "tcp", "udp", "unknown"]
# "import": the value is read from another module (``config.port``) and is known
# only once that module's exports are (see :mod:`kit.js.link`).
PortKind = Literal["literal", "env", "env-default", "computed", "missing", "import"]
# "url": a client URL string; "host": a host handed to a call; "default": no host at
# all, so the library connects to its default, 127.0.0.1; "env": the address is read
# from an environment variable, whose value the service's settings decide.
ConnectionVia = Literal["url", "host", "default", "env"]
# "data": under ~/data, kept across pushes; "code": inside the code the push
# replaces (a relative path, __dirname, ~/current), lost on the next push.
WriteWhere = Literal["data", "code"]
FeatureKind = Literal["syntax", "api"]


class Span(NamedTuple):
    """A byte range ``[start, end)`` in the source, for in-place edits."""

    start: int
    end: int


class Origin(NamedTuple):
    """Where the value deciding a port is written: file (None: the file of the
    ``listen``), 1-based line and character column."""

    path: str | None
    line: int
    column: int


class PortArg(NamedTuple):
    kind: PortKind
    value: int | None
    env_name: str | None
    literal: Span | None  # in the file of ``origin`` (the listen's own when its path is None)
    text: str
    # The whole expression deciding the port (argument or declaration initialiser);
    # the TCP fix replaces an `env || N` expression wholesale.
    expr: Span | None = None
    origin: Origin | None = None  # of the literal, or of the env read when there is none
    module: str | None = None  # kind "import" (or a fallback read from a module): the require()
    member: tuple[str, ...] = ()  # the keys read from that module's exports


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
    env_name: str | None = None  # via "env": the variable holding the address


class DataWrite(NamedTuple):
    """A filesystem write whose folder matters on the platform."""

    line: int
    column: int
    function: str  # "fs.writeFileSync"; for uploads "multer({dest})", "form.uploadDir"
    target: str  # the path as far as it is known: "~/data/db.json", "uploads/…"
    where: WriteWhere = "data"
    upload: bool = False  # an upload folder handed to middleware, not an fs call


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

    @property
    def serves_udp(self) -> bool:
        return any(call.server == "udp" for call in self.listens)


class Require(NamedTuple):
    """A module a file loads: ``./config``, ``express``; a dynamic
    ``require('./routes/' + name)`` is kept as its known start, with ``prefix``."""

    spec: str
    line: int
    prefix: bool = False


class Export(NamedTuple):
    """A value a module exports: its key path (``("port",)``; ``()`` for the
    whole ``module.exports``) and what it is, as a port would be judged."""

    key: tuple[str, ...]
    value: PortArg


class Feature(NamedTuple):
    """A construct or API a file uses that not every Node.js has."""

    name: str  # "arrow functions (=>)", "Promise"
    kind: FeatureKind
    line: int  # of the first use in the file
    column: int
    uses: int  # in the file


class ModuleFacts(NamedTuple):
    requires: tuple[Require, ...]
    exports: tuple[Export, ...]
    features: tuple[Feature, ...]
    syntax_error: tuple[int, int] | None
    skipped: str | None = None  # why the file was not analysed (binary, too large)


def _span(raw: Any) -> Span | None:
    return Span(*raw) if raw is not None else None


def port_from_json(raw: Any) -> PortArg:
    """A :class:`PortArg` from its JSON encoding (nested lists); raises on anything else."""
    kind, value, env, literal, text, expr, origin, module, member = raw
    where = Origin(*origin) if origin is not None else None
    return PortArg(
        kind, value, env, _span(literal), text, _span(expr), where, module, tuple(member)
    )


def facts_from_json(raw: Any) -> ModuleFacts:
    """:class:`ModuleFacts` from its JSON encoding; raises on anything else."""
    requires, exports, features, error, skipped = raw
    return ModuleFacts(
        requires=tuple(Require(*r) for r in requires),
        exports=tuple(Export(tuple(key), port_from_json(value)) for key, value in exports),
        features=tuple(Feature(*f) for f in features),
        syntax_error=(error[0], error[1]) if error is not None else None,
        skipped=skipped,
    )
