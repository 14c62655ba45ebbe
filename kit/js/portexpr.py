"""What decides the port of a ``listen`` call, followed through the file.

A port is a number (``3000``, ``'3000'``), an environment variable
(``process.env.PORT``), a variable with a fallback (``process.env.PORT || 3000``),
or something read from another module (``config.port``, resolved later by
:mod:`kit.js.link`). The value is followed through the idioms real apps use:
single declarations and implicit globals, ``Number()``/``parseInt()`` and
``normalizePort()``-style wrappers, Express's ``app.set('port', ...)`` read back
with ``app.get('port')``, object properties, and options objects
(``listen({port: 3000})``).
"""

from kit.js.model import ListenCall, Origin, PortArg, Span
from kit.js.scope import Scope, member_path
from kit.js.syntax import (
    DIGITS,
    FUNCTION_TYPES,
    MAX_ALIAS_DEPTH,
    MAX_TEXT_BYTES,
    Node,
    Positions,
    call_args,
    env_read,
    int_value,
    node_text,
    positions_of,
    property_value,
    required_module,
    spelled,
    string_value,
    unwrap,
)

# Calls that hand their first argument through as the port.
_CASTS = frozenset({"Number", "parseInt", "String", "parseFloat"})


def _missing(text: str) -> PortArg:
    return PortArg("missing", None, None, None, text)


def _literal(scope: Scope, node: Node, text: str) -> PortArg | None:
    """``3000``, or ``'3000'`` (node treats a string of digits as a port)."""
    expr = Span(node.start_byte, node.end_byte)
    if node.type == "number":
        value = int_value(node_text(scope.source, node))
        return None if value is None else PortArg("literal", value, None, expr, text, expr)
    digits = string_value(scope.source, node)
    if digits is not None and DIGITS.fullmatch(digits) and len(digits) <= 6:
        inside = Span(node.start_byte + 1, node.end_byte - 1)
        return PortArg("literal", int(digits), None, inside, text, expr)
    return None


def _relative(module: str | None) -> bool:
    return module is not None and module.startswith(("./", "../"))


def _either(scope: Scope, node: Node, text: str, depth: int) -> PortArg | None:
    """``env || N``, ``env ?? N`` and ``env || config.port``."""
    operator = node.child_by_field_name("operator")
    if operator is None or operator.type not in {"||", "??"}:
        return None
    env = env_read(scope.source, node.child_by_field_name("left"))
    if env is None:
        left = classify(scope, node.child_by_field_name("left"), text, depth + 1)
        return left if left.kind == "import" else None
    expr = Span(node.start_byte, node.end_byte)
    right = classify(scope, node.child_by_field_name("right"), text, depth + 1)
    if right.kind == "literal":
        return PortArg("env-default", right.value, env, right.literal, text, expr)
    if right.kind == "import":
        return PortArg(
            "env-default", None, env, None, text, expr, module=right.module, member=right.member
        )
    return None


def _member(scope: Scope, node: Node, text: str, depth: int) -> PortArg | None:
    """``config.port``: from a required module, a local object, or an assignment."""
    source = scope.source
    path = member_path(source, node)
    if path is None:
        return _inline_require(scope, node, text)
    root, keys = path
    module = scope.bound.get(root)
    if _relative(module):
        return PortArg("import", None, None, None, text, module=module, member=keys)
    assigned = scope.members.get(path, [])
    if len(assigned) == 1:
        return classify(scope, assigned[0], text, depth + 1)
    value = scope.value_of(root)
    for key in keys:
        value = unwrap(value)
        if value is not None and value.type == "identifier":
            value = scope.resolved(value)
        if value is None or value.type != "object":
            return None
        value = property_value(source, value, key)
    return classify(scope, value, text, depth + 1) if value is not None else None


def _inline_require(scope: Scope, node: Node, text: str) -> PortArg | None:
    """``require('./config').port``."""
    keys: list[str] = []
    while node.type == "member_expression":
        prop = node.child_by_field_name("property")
        inner = unwrap(node.child_by_field_name("object"))
        if prop is None or inner is None:
            return None
        keys.append(node_text(scope.source, prop))
        node = inner
    module = required_module(scope.source, node)
    if not _relative(module) or not keys:
        return None
    return PortArg("import", None, None, None, text, module=module, member=tuple(reversed(keys)))


def _call(scope: Scope, node: Node, text: str, depth: int) -> PortArg | None:
    """``Number(x)``, ``normalizePort(x)`` and ``app.get('port')``."""
    function = unwrap(node.child_by_field_name("function"))
    args = call_args(node)
    if function is None or not args:
        return None
    if function.type == "identifier":
        name = node_text(scope.source, function)
        if name in _CASTS or "port" in name.lower():
            return classify(scope, args[0], text, depth + 1)
        return None
    if function.type != "member_expression" or len(args) != 1:
        return None
    receiver = unwrap(function.child_by_field_name("object"))
    key = string_value(scope.source, args[0])
    if not spelled(scope.source, function.child_by_field_name("property"), "get"):
        return None
    if key is None or receiver is None or receiver.type != "identifier":
        return None
    value = scope.setting(node_text(scope.source, receiver), key)
    return classify(scope, value, text, depth + 1) if value is not None else None


def classify(scope: Scope, raw: Node | None, text: str, depth: int = 0) -> PortArg:
    """What the expression ``raw`` makes the port; ``text`` is kept for messages."""
    node = unwrap(raw)
    if node is None or node.type in FUNCTION_TYPES:
        return _missing(text)
    expr = Span(node.start_byte, node.end_byte)
    computed = PortArg("computed", None, None, None, text, expr)
    if depth >= MAX_ALIAS_DEPTH:
        return computed
    found = _literal(scope, node, text)
    if found is not None:
        return found
    env = env_read(scope.source, node)
    if env is not None:
        return PortArg("env", None, env, None, text, expr)
    if node.type == "binary_expression":
        found = _either(scope, node, text, depth)
    elif node.type in {"identifier", "shorthand_property_identifier"}:
        value = scope.value_of(node_text(scope.source, node), node)
        inner = classify(scope, value, text, depth + 1) if value is not None else computed
        found = None if inner.kind in {"computed", "missing"} else inner
    elif node.type == "object":
        value_node = property_value(scope.source, node, "port")
        return (
            _missing(text) if value_node is None else classify(scope, value_node, text, depth + 1)
        )
    elif node.type in {"member_expression", "subscript_expression"}:
        found = _member(scope, node, text, depth)
    elif node.type == "call_expression":
        found = _call(scope, node, text, depth)
    if found is None or found.kind in {"computed", "missing"}:
        return computed
    return found


def not_a_port(scope: Scope, node: Node) -> bool:
    """Arguments that show an unresolved `x.listen(...)` is not a server listening."""
    node = unwrap(node) or node
    if node.type == "object":
        return property_value(scope.source, node, "port") is None
    if node.type == "identifier":  # socket.io style `io.listen(server)`
        return node_text(scope.source, node) in scope.servers
    if node.type == "string":
        digits = string_value(scope.source, node)
        return digits is None or not DIGITS.fullmatch(digits)
    return node.type in FUNCTION_TYPES | {"template_string", "array", "class"}


def _argument_text(source: bytes, node: Node | None) -> str:
    if node is None:
        return ""
    end = min(node.end_byte, node.start_byte + MAX_TEXT_BYTES)
    return source[node.start_byte : end].decode("utf-8", errors="replace")


def listen_call(scope: Scope, positions: Positions, call: Node, method: str) -> ListenCall | None:
    """The server's ``listen(...)`` (a UDP socket's ``bind(...)``), if ``call`` is one."""
    source = scope.source
    function = call.child_by_field_name("function")
    if function is None or function.type != "member_expression":
        return None
    prop = function.child_by_field_name("property")
    if prop is None or not spelled(source, prop, method):
        return None
    args = call_args(call)
    server = scope.server_of(function.child_by_field_name("object"))
    if method == "bind" and server != "udp":
        return None  # `fn.bind(this)` is everywhere; only a UDP socket binds a port
    if method == "listen" and server == "udp":
        return None
    if server is None and args and not_a_port(scope, args[0]):
        return None
    first = args[0] if args else None
    port = classify(scope, first, _argument_text(source, first))
    host: str | None = None
    unwrapped = unwrap(first)
    if unwrapped is not None and unwrapped.type == "object":
        host = string_value(source, property_value(source, unwrapped, "host"))
    elif len(args) > 1:
        host = string_value(source, args[1])
    line, column = positions.of(prop)
    return ListenCall(line, column, server or "unknown", port, host)


def anchor(port: PortArg) -> int | None:
    """The byte where a port's deciding value is written in its own file."""
    if port.literal is not None:
        return port.literal.start
    if port.kind == "env" and port.expr is not None:
        return port.expr.start
    return None


def with_origins(source: bytes, listens: list[ListenCall]) -> list[ListenCall]:
    """``listens`` with the line and column of each port's deciding value filled in."""
    places = positions_of(source, (a for a in map(anchor, (c.port for c in listens)) if a))
    out = []
    for call in listens:
        at = anchor(call.port)
        if at is not None:
            where = Origin(None, *places[at])
            call = call._replace(port=call.port._replace(origin=where))
        out.append(call)
    return out
