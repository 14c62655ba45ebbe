"""File-wide bindings: what names stand for in one JavaScript file.

Name resolution is deliberately file-wide and scope-blind: names are matched by
spelling, which is what small server files need and keeps the result
predictable. A name has a value when it is declared once and never assigned
again, or (an implicit global, as 2012-era code often has) never declared and
assigned once. Modules are known by their ``require``/``import``, servers by the
factory that builds them, and ``app.set('port', ...)`` by its key.
"""

from collections.abc import Iterator

from kit.js.model import ServerKind
from kit.js.syntax import (
    MAX_ALIAS_DEPTH,
    Node,
    bind_query,
    call_args,
    call_of,
    captures,
    locate,
    node_text,
    required_module,
    string_value,
    unwrap,
)

# Modules whose createServer/Server/createSocket build a server, by the kind built.
SERVER_MODULES: dict[str, ServerKind] = {
    "net": "tcp",
    "tls": "tcp",
    "http": "http",
    "https": "http",
    "http2": "http",
    "spdy": "http",
    "dgram": "udp",
    "express": "http",  # express.createServer(), Express 2
    "connect": "http",
    "restify": "http",
}
# Modules whose export itself builds an HTTP app: express(), connect(), new Koa().
APP_FACTORIES = frozenset({"express", "connect", "koa"})
FACTORY_NAMES = frozenset({"createServer", "createSecureServer", "Server", "createSocket"})
# Deeper key paths are not config anyone reads a port from.
MAX_MEMBER_KEYS = 4


class Scope:
    """File-wide bindings: modules, server factories, servers and declared values."""

    def __init__(self, source: bytes, root: Node | None = None) -> None:
        self.source = source
        self.root = root
        self.modules: dict[str, ServerKind] = {}  # `net` in `net.createServer()`
        self.factories: dict[str, ServerKind] = {}  # `express`, destructured `createServer`
        self.servers: dict[str, ServerKind] = {}
        self.declared: dict[str, list[Node | None]] = {}
        self.declarators: dict[str, list[Node]] = {}  # where each declaration is
        self.assigned: dict[str, list[Node | None]] = {}  # `x = ...`, declared or not
        self.updated: set[str] = set()  # `x++`, `x += 1`
        self.bound: dict[str, str] = {}  # `fs` in `var fs = require('fs')` -> "fs"
        self.imported: dict[str, tuple[str, str]] = {}  # `{ homedir: home }` -> ("os", "homedir")
        # `config.db.port = 3000` -> ("config", ("db", "port")): [value]
        self.members: dict[tuple[str, tuple[str, ...]], list[Node]] = {}
        self._settings: dict[tuple[str, str], list[Node]] | None = None

    def bind_module(self, name_node: Node, module: str) -> None:
        kind = SERVER_MODULES.get(module)
        if name_node.type == "identifier":
            name = node_text(self.source, name_node)
            self.bound[name] = module
            if module in APP_FACTORIES:
                self.factories[name] = "http"
            if kind is not None:
                self.modules[name] = kind
        elif name_node.type in {"object_pattern", "named_imports"}:
            for part in name_node.named_children:
                key, local = pattern_names(self.source, part)
                if key is None or local is None:
                    continue
                self.imported[local] = (module, key)
                if key in FACTORY_NAMES and kind is not None:
                    self.factories[local] = kind

    def values(self, name: str) -> list[Node | None]:
        """What ``name`` is given: its declarations, unless it is assigned later;
        for a name never declared, its assignments."""
        if name in self.updated:
            return []
        if name in self.declared:
            return [] if name in self.assigned else self.declared[name]
        return self.assigned.get(name, [])

    def value_of(self, name: str, at: Node | None = None) -> Node | None:
        """The one value ``name`` has; with ``at`` (where it is used), a name declared
        in several functions resolves to the declaration of the nearest one around
        ``at`` (Express's ``bin/www`` declares ``port`` at the top and inside
        ``normalizePort``)."""
        values = self.values(name)
        if len(values) == 1:
            return values[0]
        if at is None or not values or len(values) != len(self.declarators.get(name, [])):
            return None
        by_owner: dict[int, list[Node]] = {}
        for declarator in self.declarators[name]:
            by_owner.setdefault(_owner(declarator), []).append(declarator)
        for owner in _owners(at):
            found = by_owner.get(owner, [])
            if found:
                return found[0].child_by_field_name("value") if len(found) == 1 else None
        return None

    def module_name(self, node: Node | None) -> str | None:
        """The module an expression is, by binding or an inline ``require``."""
        node = unwrap(node)
        if node is not None and node.type == "identifier":
            return self.bound.get(node_text(self.source, node))
        return required_module(self.source, node)

    def resolved(self, node: Node | None) -> Node | None:
        """The one value an identifier is given, if it is given only one."""
        node = unwrap(node)
        if node is None or node.type != "identifier":
            return None
        return self.value_of(node_text(self.source, node))

    def module_of(self, node: Node | None) -> ServerKind | None:
        node = unwrap(node)
        if node is None:
            return None
        if node.type == "identifier":
            return self.modules.get(node_text(self.source, node))
        return SERVER_MODULES.get(required_module(self.source, node) or "")

    def server_of(self, node: Node | None) -> ServerKind | None:
        """The kind of server an expression evaluates to, if it visibly builds one."""
        node = unwrap(node)
        # `var app = module.exports = express()`. Every link of a chain is itself a
        # binding, so a bounded look keeps `x = x = ... = y` linear.
        for _ in range(MAX_ALIAS_DEPTH):
            if node is None or node.type != "assignment_expression":
                break
            node = unwrap(node.child_by_field_name("right"))
        if node is None:
            return None
        if node.type == "identifier":
            return self.servers.get(node_text(self.source, node))
        if node.type not in {"call_expression", "new_expression"}:
            return None
        field = "function" if node.type == "call_expression" else "constructor"
        callee = unwrap(node.child_by_field_name(field))
        if callee is None:
            return None
        if callee.type == "identifier":
            return self.factories.get(node_text(self.source, callee))
        if callee.type == "member_expression":
            prop = callee.child_by_field_name("property")
            if prop is not None and node_text(self.source, prop) in FACTORY_NAMES:
                return self.module_of(callee.child_by_field_name("object"))
        if required_module(self.source, callee) in APP_FACTORIES:
            return "http"
        return None

    def setting(self, receiver: str, key: str) -> Node | None:
        """The value of ``receiver.set(key, value)`` when it is set exactly once
        (Express's ``app.set('port', ...)``, read back by ``app.get('port')``)."""
        if self._settings is None:
            self._settings = dict(self._find_settings())
        found = self._settings.get((receiver, key), [])
        return found[0] if len(found) == 1 else None

    def _find_settings(self) -> Iterator[tuple[tuple[str, str], list[Node]]]:
        if self.root is None:
            return
        found: dict[tuple[str, str], list[Node]] = {}
        for hit in locate(self.root, self.source, (b"set",)):
            call = call_of(hit)
            function = call.child_by_field_name("function") if call is not None else None
            if call is None or function is None or function.type != "member_expression":
                continue
            receiver = unwrap(function.child_by_field_name("object"))
            args = call_args(call)
            key = string_value(self.source, args[0]) if len(args) == 2 else None
            if key is None or receiver is None or receiver.type != "identifier":
                continue
            name = node_text(self.source, receiver)
            found.setdefault((name, key), []).append(args[1])
        yield from found.items()


_FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "generator_function",
        "generator_function_declaration",
    }
)
_MAX_OWNER_DEPTH = 256  # deeper than code people write; bounded for hostile input
_UNKNOWN = -2


def _owners(node: Node) -> list[int]:
    """The functions around ``node``, innermost first, by start byte; -1 is the file."""
    owners: list[int] = []
    current = node.parent
    for _ in range(_MAX_OWNER_DEPTH):
        if current is None:
            return [*owners, -1]
        if current.type in _FUNCTIONS:
            owners.append(current.start_byte)
        current = current.parent
    return [_UNKNOWN]


def _owner(declarator: Node) -> int:
    return _owners(declarator)[0]


def pattern_names(source: bytes, part: Node) -> tuple[str | None, str | None]:
    """(imported key, local name) of one `{key: local}` / `{key as local}` entry."""
    if part.type == "shorthand_property_identifier_pattern":
        name = node_text(source, part)
        return name, name
    if part.type == "pair_pattern":
        key, value = part.child_by_field_name("key"), part.child_by_field_name("value")
        if key is not None and value is not None and value.type == "identifier":
            return node_text(source, key), node_text(source, value)
    if part.type == "import_specifier":
        imported = part.child_by_field_name("name")
        local = part.child_by_field_name("alias") or imported
        if imported is not None and local is not None:
            return node_text(source, imported), node_text(source, local)
    return None, None


def member_path(source: bytes, node: Node | None) -> tuple[str, tuple[str, ...]] | None:
    """``config.db.port`` -> ("config", ("db", "port")); None for anything else."""
    keys: list[str] = []
    node = unwrap(node)
    while node is not None and node.type in {"member_expression", "subscript_expression"}:
        if len(keys) >= MAX_MEMBER_KEYS:
            return None
        if node.type == "member_expression":
            prop = node.child_by_field_name("property")
            if prop is None or prop.type != "property_identifier":
                return None
            keys.append(node_text(source, prop))
        else:
            key = string_value(source, node.child_by_field_name("index"))
            if key is None:
                return None
            keys.append(key)
        node = unwrap(node.child_by_field_name("object"))
    if node is None or node.type != "identifier" or not keys:
        return None
    return node_text(source, node), tuple(reversed(keys))


def _bind_declarator(scope: Scope, node: Node, targets: list[tuple[Node, Node | None]]) -> None:
    name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
    if name is None:
        return
    module = required_module(scope.source, value)
    if module is not None:
        scope.bind_module(name, module)
    if name.type == "identifier":
        scope.declared.setdefault(node_text(scope.source, name), []).append(value)
        scope.declarators.setdefault(node_text(scope.source, name), []).append(node)
        targets.append((name, value))


def _bind_import(scope: Scope, node: Node) -> None:
    module = string_value(scope.source, node.child_by_field_name("source"))
    clause = next((c for c in node.named_children if c.type == "import_clause"), None)
    for part in clause.named_children if clause and module else []:
        if part.type == "namespace_import":
            part = next(iter(reversed(part.named_children)), part)  # `* as name`
        scope.bind_module(part, (module or "").removeprefix("node:"))


def _bind_assignment(scope: Scope, node: Node, targets: list[tuple[Node, Node | None]]) -> None:
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if left is None:
        return
    if left.type == "identifier":
        name = node_text(scope.source, left)
        if node.type == "augmented_assignment_expression":
            scope.updated.add(name)
            return
        module = required_module(scope.source, right)
        if module is not None:  # `net = require('net')`, an implicit global
            scope.bind_module(left, module)
        scope.assigned.setdefault(name, []).append(right)
        targets.append((left, right))
    elif right is not None and node.type == "assignment_expression":
        path = member_path(scope.source, left)
        if path is not None:
            scope.members.setdefault(path, []).append(right)


def bind(scope: Scope, nodes: list[Node]) -> list[tuple[Node, Node | None]]:
    """Record modules and values; return (target, value) pairs to type later."""
    targets: list[tuple[Node, Node | None]] = []
    for node in nodes:
        if node.type == "variable_declarator":
            _bind_declarator(scope, node, targets)
        elif node.type == "import_statement":
            _bind_import(scope, node)
        elif node.type in {"assignment_expression", "augmented_assignment_expression"}:
            _bind_assignment(scope, node, targets)
        elif node.type == "update_expression":
            argument = node.child_by_field_name("argument")
            if argument is not None and argument.type == "identifier":
                scope.updated.add(node_text(scope.source, argument))
    return targets


def scope_of(source: bytes, root: Node) -> Scope:
    """Every binding of the file rooted at ``root``, servers typed."""
    scope = Scope(source, root)
    nodes = captures(bind_query(), root).get("bind", [])
    nodes.sort(key=lambda n: (n.start_byte, -n.end_byte))  # document order, parents first
    for target, value in bind(scope, nodes):
        kind = scope.server_of(value)
        if kind is not None:
            scope.servers.setdefault(node_text(source, target), kind)
    return scope
