"""Code that reaches for a database (or any service) on the loopback address.

On dotCloud every service runs in its own container, so ``localhost`` is the
service itself. Three ways code ends up there: a URL or host naming it
(``'mongodb://localhost/app'``, ``createClient(6379, '127.0.0.1')``); a client
called with no host at all, which connects to its library's default
(``redis.createClient()``, ``mysql.createConnection({user: 'root'})``,
``new pg.Client()``); and a host read from an environment variable, whose value
the service's settings decide (recorded with ``via="env"`` and judged by the
verifier and the converter against ``dotcloud.yml`` or ``.torque``).
"""

import re

from kit.js.model import ConnectionVia, LocalConnection
from kit.js.portexpr import classify
from kit.js.scope import Scope
from kit.js.syntax import (
    FUNCTION_TYPES,
    MAX_TEXT_BYTES,
    Hit,
    Node,
    Positions,
    call_args,
    call_of,
    callee_name,
    callee_text,
    capped,
    env_read,
    literal_text,
    node_text,
    port_value,
    property_value,
    string_value,
    unwrap,
)
from kit.platform.facts import HTTP_PORT

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
PORT_PROTOCOLS = {
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
_ADDRESS_KEYS = ("host", "hostname", "path", "url", "socket", "socketPath", "connectionString")
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
# Clients that connect to the loopback address when given no host, and the port
# their library uses then (None: whatever port the call names).
_DEFAULT_HOST_CALLS: dict[tuple[str, str], int | None] = {
    ("net", "connect"): None,
    ("net", "createConnection"): None,
    ("tls", "connect"): None,
    ("redis", "createClient"): 6379,
    ("ioredis", ""): 6379,  # `new Redis()`: the module is the class
    ("ioredis", "Redis"): 6379,
    ("mysql", "createConnection"): 3306,
    ("mysql", "createPool"): 3306,
    ("mysql2", "createConnection"): 3306,
    ("mysql2", "createPool"): 3306,
    ("pg", "Client"): 5432,
    ("pg", "Pool"): 5432,
}
# Where a value read from the environment would be an address.
_NOT_AN_ADDRESS = re.compile(r"PORT|PASS|USER|LOGIN|NAME|DB$|DATABASE$", re.IGNORECASE)


def _constructed(hit: Hit) -> Node | None:
    """The ``new`` expression whose class is the hit's name: ``new X()``, ``new m.X()``."""
    node, up = hit
    if node.type == "identifier" and up:
        callee, new = node, up[0]
    elif node.type == "property_identifier" and len(up) > 1 and up[0].type == "member_expression":
        callee, new = up[0], up[1]
    else:
        return None
    if new.type != "new_expression" or new.child_by_field_name("constructor") != callee:
        return None
    return new


class ConnectionFinder:
    """Loopback connections among the hits of one file."""

    def __init__(self, scope: Scope, positions: Positions) -> None:
        self.scope = scope
        self.source = scope.source
        self.positions = positions
        self.seen: set[int] = set()
        self.seen_calls: set[int] = set()

    def found(
        self,
        node: Node,
        target: str,
        protocol: str | None,
        via: ConnectionVia,
        call: str = "",
        env_name: str | None = None,
    ) -> LocalConnection:
        line, column = self.positions.of(node)
        return LocalConnection(line, column, capped(target), protocol, via, call, env_name)

    def protocol(self, call: Node | None, port: int | None) -> str | None:
        if port in PORT_PROTOCOLS:
            return PORT_PROTOCOLS[port]
        if call is None:
            return None
        field = "function" if call.type == "call_expression" else "constructor"
        callee = unwrap(call.child_by_field_name(field))
        receiver = callee.child_by_field_name("object") if callee is not None else None
        module = self.scope.module_name(receiver if receiver is not None else callee)
        return _MODULE_PROTOCOLS.get(module or "")

    def _fallback_of(self, node: Node, up: tuple[Node, ...]) -> tuple[tuple[Node, ...], str]:
        """The ancestors of ``process.env.X || 'localhost'`` (the whole expression),
        and the variable whose absence makes it the fallback."""
        if up and up[0].type == "binary_expression":
            operator = up[0].child_by_field_name("operator")
            right = up[0].child_by_field_name("right")
            env = env_read(self.source, up[0].child_by_field_name("left"))
            if operator is not None and operator.type in {"||", "??"} and right == node and env:
                return up[1:], env
        return up, ""

    def string(self, hit: Hit) -> LocalConnection | None:
        node, up = hit
        for _ in range(3):  # from a fragment or escape up to its string
            if node.type in {"string", "template_string"} or not up:
                break
            node, up = up[0], up[1:]
        if node.type not in {"string", "template_string"} or node.start_byte in self.seen:
            return None
        self.seen.add(node.start_byte)  # several addresses in one string count once
        text, whole = literal_text(self.source, node)
        outer_up, env = self._fallback_of(node, up)
        url = _URL.match(text)
        if url is not None:
            scheme = url.group(1).lower()
            if scheme in _WEB_SCHEMES:
                return None
            end = min(node.end_byte - 1, node.start_byte + 1 + MAX_TEXT_BYTES)
            written = self.source[node.start_byte + 1 : end].decode("utf-8", "replace")
            protocol = _SCHEME_PROTOCOLS.get(scheme, scheme)
            return self.found(node, written, protocol, "url", env_name=env or None)
        host = _HOST.fullmatch(text) if whole else None
        if host is None or not outer_up:
            return None
        port = int(host.group(1)) if host.group(1) else None
        if port == HTTP_PORT:
            return None
        found = None
        if outer_up[0].type == "arguments":
            found = self.host_argument(node, outer_up, text, port)
        elif outer_up[0].type == "pair":
            found = self.host_option(node, outer_up, text)
        return found._replace(env_name=env) if found is not None and env else found

    def host_argument(
        self, node: Node, up: tuple[Node, ...], text: str, port: int | None
    ) -> LocalConnection | None:
        """``new Server('localhost', 27017)``, ``createClient(6379, '127.0.0.1')``."""
        call = up[1] if len(up) > 1 else None
        if call is None or call.type not in {"call_expression", "new_expression"}:
            return None
        name = callee_name(self.source, call)
        if name in _NOT_CONNECTING:
            return None
        written_port = port is not None  # `'localhost:11211'`: plainly an address
        if port is None:
            numbers = (port_value(self.source, a) for a in call_args(call) if a.type == "number")
            port = next((n for n in numbers if n is not None), None)
        if port == HTTP_PORT:
            return None
        if name in _CONNECT_NAMES or port in PORT_PROTOCOLS or written_port:
            protocol = self.protocol(call, port)
            return self.found(node, text, protocol, "host", callee_text(self.source, call))
        return None

    def host_option(self, node: Node, up: tuple[Node, ...], text: str) -> LocalConnection | None:
        """``{host: 'localhost', port: 27017}`` handed to a call (or naming a database port)."""
        pair, obj = up[0], up[1] if len(up) > 1 else None
        key = pair.child_by_field_name("key")
        if obj is None or key is None:
            return None
        if (string_value(self.source, key) or node_text(self.source, key)) not in _HOST_KEYS:
            return None
        port_node = property_value(self.source, obj, "port")
        port = port_value(self.source, port_node)
        if port == HTTP_PORT:
            return None
        if port in PORT_PROTOCOLS:
            return self.found(node, text, PORT_PROTOCOLS[port], "host")
        call = _options_call(up)
        if call is None:
            return None
        name = callee_name(self.source, call)
        if name in _NOT_CONNECTING or (port_node is None and name not in _CONNECT_NAMES):
            return None
        protocol = self.protocol(call, port)
        return self.found(node, text, protocol, "host", callee_text(self.source, call))

    def client_call(self, hit: Hit) -> tuple[Node, str, str] | None:
        """The call or ``new`` at a connect token, its module and function name."""
        call = call_of(hit) or _constructed(hit)
        if call is None:
            return None
        name = node_text(self.source, hit.node)
        if hit.node.type == "identifier":
            if name in self.scope.imported:
                return (call, *self.scope.imported[name])
            return call, self.scope.bound.get(name, ""), "" if name in self.scope.bound else name
        callee = hit.up[0]
        module = self.scope.module_name(callee.child_by_field_name("object")) or ""
        return call, module, name

    def default_host(self, hit: Hit) -> LocalConnection | None:
        """``redis.createClient()``, ``net.connect(6379)``: no host, so 127.0.0.1."""
        found = self.client_call(hit)
        if found is None or (found[1], found[2]) not in _DEFAULT_HOST_CALLS:
            return None
        call, module, name = found
        default = _DEFAULT_HOST_CALLS[(module, name)]
        port = self.default_port(call_args(call), default)
        if port == -1:
            return None
        target = "127.0.0.1" + (f":{port}" if port is not None else "")
        protocol = _MODULE_PROTOCOLS.get(module) or PORT_PROTOCOLS.get(port or 0, "tcp")
        return self.found(hit.node, target, protocol, "default", callee_text(self.source, call))

    def default_port(self, args: list[Node], default: int | None) -> int | None:
        """The port a host-less call connects to; -1 when the call names a host."""
        first = unwrap(args[0]) if args else None
        if first is not None and first.type == "identifier":
            resolved = unwrap(self.scope.resolved(first))
            first = resolved if resolved is not None and resolved.type == "object" else first
        if first is None:
            return default if default is not None else -1
        if first.type == "object":
            if any(property_value(self.source, first, key) is not None for key in _ADDRESS_KEYS):
                return -1
            port = classify(self.scope, first, "")
        else:
            port = classify(self.scope, first, "")
            if port.kind not in {"literal", "env", "env-default"}:
                return -1
            if port.kind == "env" and "PORT" not in (port.env_name or "").upper():
                return -1  # `createClient(process.env.REDIS_URL)`: an address, not a port
            second = unwrap(args[1]) if len(args) > 1 else None
            if second is not None and second.type not in FUNCTION_TYPES | {"object"}:
                return -1
        return port.value if port.value is not None else default

    def env_hosts(self, hit: Hit) -> list[LocalConnection]:
        """Addresses a client reads from the environment (``createClient(port,
        process.env.REDIS_HOST)``, ``connect(process.env.MONGO_URL)``), to judge
        against the values the service's settings give them."""
        found = self.client_call(hit)
        if found is None:
            return []
        call, module, name = found
        if name not in _CONNECT_NAMES and (module, name) not in _DEFAULT_HOST_CALLS:
            return []
        if name in _NOT_CONNECTING or call.start_byte in self.seen_calls:
            return []
        self.seen_calls.add(call.start_byte)
        out = []
        for node, env in self._env_addresses(call_args(call)):
            protocol = _MODULE_PROTOCOLS.get(module) or self.protocol(call, None)
            text = callee_text(self.source, call)
            out.append(self.found(node, env, protocol, "env", text, env))
        return out

    def _env_addresses(self, args: list[Node]) -> list[tuple[Node, str]]:
        out: list[tuple[Node, str]] = []
        for arg in args:
            node = unwrap(arg)
            if node is not None and node.type == "object":
                for key in _ADDRESS_KEYS:
                    value = property_value(self.source, node, key)
                    out += self._env_value(value)
            elif node is not None:
                out += self._env_value(node)
        return out

    def _env_value(self, node: Node | None) -> list[tuple[Node, str]]:
        node = unwrap(node)
        if node is not None and node.type == "identifier":
            node = unwrap(self.scope.resolved(node)) or node
        if node is not None and node.type == "binary_expression":
            node = unwrap(node.child_by_field_name("left"))  # a fallback is a string hit
        env = env_read(self.source, node)
        if node is None or env is None or _NOT_AN_ADDRESS.search(env):
            return []
        if env.startswith("DOTCLOUD_"):
            return []  # the platform's own addresses
        return [(node, env)]


def _options_call(up: tuple[Node, ...]) -> Node | None:
    """The call an options object (``{host: ...}``, maybe nested) is handed to."""
    index = 1  # climb `{socket: {host: ...}}` to the arguments it sits in
    while index + 2 < len(up) and up[index + 1].type == "pair" and up[index + 2].type == "object":
        index += 2
    if index + 2 >= len(up) or up[index + 1].type != "arguments":
        return None
    call = up[index + 2]
    return call if call.type in {"call_expression", "new_expression"} else None
