"""A file as node loads it: what it requires, what it exports, what it needs.

:func:`analyze_module` is the second analysis of :mod:`kit.js` (the first,
:func:`kit.js.analysis.analyze_js`, is for every file and skips most of them).
It runs on the files node actually loads, the entry script and what it
requires, and on a module a port is read from (``require('./config').port``):

- **requires**: ``require('./x')``, ``import ... from``, ``import()``;
  ``require('./routes/' + name)`` is kept as its known start, a folder;
- **exports**: the values ``module.exports``/``exports.x``/``export`` give, as
  a port would be judged (a number, an environment variable, another module);
- **features**: syntax and APIs that Node.js 0.4 to 0.8 lack
  (:mod:`kit.js.features`).

Never raises; a binary file or one past :data:`MAX_MODULE_BYTES` is skipped, and
says why.
"""

from functools import cache

import tree_sitter

from kit.js.features import GLOBALS, STATICS, find_features
from kit.js.model import Export, ModuleFacts, Origin, PortArg, Require, Span
from kit.js.pathexpr import PathReader
from kit.js.portexpr import anchor, classify
from kit.js.scope import Scope, scope_of
from kit.js.syntax import (
    Node,
    captures,
    first_error,
    language,
    node_text,
    parser,
    positions_of,
    required_module,
    string_value,
    unwrap,
)
from kit.jsonpos import JNode, JsonProblems, parse

MAX_MODULE_BYTES = 16 << 20
# A config module has a few dozen values; past this, the rest are not ports.
MAX_EXPORTS = 200
MAX_EXPORT_DEPTH = 3
_KEPT = frozenset({"literal", "env", "env-default", "import"})
_SCOPE_WORDS = tuple(name.encode() for name in (*GLOBALS, *STATICS))

_REQUIRES = """
(call_expression function: (identifier) @fn (#eq? @fn "require")
  arguments: (arguments . (_) @spec))
(call_expression function: (import) arguments: (arguments . (_) @spec))
(import_statement source: (string) @spec)
(export_statement source: (string) @spec)
"""


@cache
def _requires_query() -> tree_sitter.Query:
    return tree_sitter.Query(language(), _REQUIRES)


def _requires(source: bytes, root: Node, scope: Scope) -> tuple[Require, ...]:
    reader = PathReader(scope)
    found: list[tuple[int, str, bool]] = []
    for node in captures(_requires_query(), root).get("spec", []):
        spec = string_value(source, node)
        if spec is not None:
            found.append((node.start_byte, spec, False))
            continue
        known = reader.prefix(node)
        if known is not None and known[0].startswith(("./", "../")):
            found.append((node.start_byte, known[0], not known[1]))
    places = positions_of(source, (start for start, _, _ in found))
    return tuple(Require(spec, places[start][0], prefix) for start, spec, prefix in found)


class _Exports:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.found: list[Export] = []

    def add(self, key: tuple[str, ...], node: Node | None, depth: int = 0) -> None:
        node = unwrap(node)
        if node is None or len(self.found) >= MAX_EXPORTS or depth > MAX_EXPORT_DEPTH:
            return
        if node.type == "identifier":
            name = node_text(self.scope.source, node)
            for (root, keys), values in self.scope.members.items():
                if root == name and len(values) == 1:
                    self.add((*key, *keys), values[0], depth + 1)
            resolved = self.scope.resolved(node)
            if resolved is not None:
                self.add(key, resolved, depth + 1)
                return
        if node.type == "object":
            for pair in node.named_children:
                name_node = pair.child_by_field_name("key") if pair.type == "pair" else None
                if name_node is None:
                    continue
                quoted = string_value(self.scope.source, name_node)
                name = quoted if quoted is not None else node_text(self.scope.source, name_node)
                self.add((*key, name), pair.child_by_field_name("value"), depth + 1)
            return
        module = required_module(self.scope.source, node)
        if module is not None and module.startswith(("./", "../")):
            self.found.append(Export(key, PortArg("import", None, None, None, "", module=module)))
            return
        value = classify(self.scope, node, node_text(self.scope.source, node)[:80])
        if value.kind in _KEPT:
            self.found.append(Export(key, value))


def _exports(scope: Scope, root: Node) -> tuple[Export, ...]:
    exports = _Exports(scope)
    for (name, keys), values in scope.members.items():
        if len(values) != 1:
            continue
        if name == "module" and keys[:1] == ("exports",):
            exports.add(keys[1:], values[0])
        elif name == "exports":
            exports.add(keys, values[0])
    for statement in root.named_children:
        if statement.type == "export_statement":
            _esm_export(exports, statement)
    return _with_origins(scope.source, exports.found)


def _esm_export(exports: _Exports, statement: Node) -> None:
    value = statement.child_by_field_name("value")
    if value is not None:  # `export default {...}`
        exports.add((), value)
        return
    declaration = statement.child_by_field_name("declaration")
    for declarator in declaration.named_children if declaration is not None else []:
        name = declarator.child_by_field_name("name")
        if declarator.type == "variable_declarator" and name is not None:
            exports.add(
                (node_text(exports.scope.source, name),), declarator.child_by_field_name("value")
            )


def _with_origins(source: bytes, found: list[Export]) -> tuple[Export, ...]:
    places = positions_of(source, (a for a in (anchor(e.value) for e in found) if a is not None))
    out = []
    for export in found:
        at = anchor(export.value)
        value: PortArg = export.value
        if at is not None:
            value = value._replace(origin=Origin(None, *places[at]))
        out.append(Export(export.key, value))
    return tuple(out)


def analyze_module(source: bytes) -> ModuleFacts:
    """Requires, exports and Node.js features of ``source``; never raises."""
    if len(source) > MAX_MODULE_BYTES:
        return ModuleFacts((), (), (), None, f"larger than {MAX_MODULE_BYTES >> 20} MB")
    if b"\0" in source:
        return ModuleFacts((), (), (), None, "a binary file, not JavaScript")
    root = parser().parse(source).root_node
    # The bindings cost a Python step per declaration (a generated file can hold
    # hundreds of thousands): worked out only when exports or a later API may need them.
    needed = b"export" in source or any(name in source for name in _SCOPE_WORDS)
    scope = scope_of(source, root) if needed else Scope(source, root)
    return ModuleFacts(
        requires=_requires(source, root, scope),
        exports=_exports(scope, root),
        features=find_features(source, root, scope),
        syntax_error=first_error(source, root),
    )


def _json_leaves(text: str, node: JNode, key: tuple[str, ...], out: list[Export], bom: int) -> None:
    if len(out) >= MAX_EXPORTS or len(key) > MAX_EXPORT_DEPTH + 1:
        return
    if node.kind == "object":
        for name, _, child in node.members:
            _json_leaves(text, child, (*key, name), out, bom)
        return
    value = node.value
    if node.kind == "string" and isinstance(value, str) and value.isdigit() and len(value) <= 6:
        value, inner = int(value), 1  # "3000": node listens on port 3000
    elif node.kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        inner = 0
    else:
        return
    lines = text.split("\n")
    line_start = sum(len(line.encode()) + 1 for line in lines[: node.pos.line - 1])
    column = len(lines[node.pos.line - 1][: node.pos.column - 1].encode())
    start = bom + line_start + column + inner
    end = start + len(str(value))
    where = Origin(None, node.pos.line, node.pos.column + inner)
    port = PortArg("literal", value, None, Span(start, end), str(value), None, where)
    out.append(Export(key, port))


def analyze_json_module(data: bytes) -> ModuleFacts:
    """The numbers a JSON file gives to ``require('./config.json')``; never raises."""
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[bom:].decode("utf-8")
        root = parse(text).root
    except (UnicodeDecodeError, JsonProblems):
        return ModuleFacts((), (), (), None, "not readable as JSON")
    out: list[Export] = []
    _json_leaves(text, root, (), out, bom)
    return ModuleFacts((), tuple(out), (), None)
