"""Syntax and APIs a file needs from Node.js that the platform's versions lack.

dotCloud's nodejs service offered Node.js 0.4, 0.6 and 0.8, whose V8 knows the
JavaScript of ES5 (2009). Code written since uses ES2015 and later syntax (arrow
functions, classes, template literals, ``let``, destructuring, ``async``...),
which those versions cannot even parse: the service never starts. ``const``
is the one exception worth knowing: V8 then accepted it outside strict mode
(with function scope), and refused it in strict code. Globals added later
(``Promise``, ``Map``, ``Object.assign``, ``Buffer.from``...) parse, but are
missing when the code runs.

Each construct is found by one tree-sitter query over the parsed file, so the
cost is a parse and a query, whatever the file holds.
"""

from functools import cache
from typing import NamedTuple

import tree_sitter

from kit.js.model import Feature, FeatureKind
from kit.js.scope import Scope
from kit.js.syntax import Node, language, node_text, positions_of
from kit.js.syntax import captures as query_captures


class Construct(NamedTuple):
    label: str  # how a message names it
    edition: str  # the ECMAScript edition that brought it


CONSTRUCTS: dict[str, Construct] = {
    "arrow": Construct("arrow functions (=>)", "ES2015"),
    "class": Construct("classes", "ES2015"),
    "template": Construct("template literals (`...`)", "ES2015"),
    "generator": Construct("generator functions (function*)", "ES2015"),
    "let": Construct("let declarations", "ES2015"),
    "const": Construct("const in strict mode code", "ES2015"),
    "for_of": Construct("for...of loops", "ES2015"),
    "spread": Construct("spread arguments and elements (...x)", "ES2015"),
    "rest": Construct("rest parameters and elements (...x)", "ES2015"),
    "destructuring": Construct("destructuring ({a} = x, [a] = x)", "ES2015"),
    "default": Construct("default parameter values", "ES2015"),
    "shorthand": Construct("shorthand properties ({a, b})", "ES2015"),
    "method": Construct("method shorthand in object literals", "ES2015"),
    "computed": Construct("computed property names ([key]: value)", "ES2015"),
    "new_target": Construct("new.target", "ES2015"),
    "number": Construct(
        "binary, octal (0b, 0o), BigInt (10n) or separated (1_000) numbers", "ES2015+"
    ),
    "regex": Construct("regular expression flags u, y, s or d", "ES2015+"),
    "esm": Construct("import and export statements (ES modules)", "ES2015"),
    "dynamic_import": Construct("import() expressions", "ES2020"),
    "exponent": Construct("the ** operator", "ES2016"),
    "async": Construct("async functions and await", "ES2017"),
    "trailing": Construct("trailing commas in calls and parameter lists", "ES2017"),
    "optional_catch": Construct("catch without a binding (catch {})", "ES2019"),
    "optional": Construct("optional chaining (?.)", "ES2020"),
    "nullish": Construct("the ?? operator", "ES2020"),
    "logical_assign": Construct("logical assignment (??=, ||=, &&=, **=)", "ES2021"),
    "field": Construct("class fields", "ES2022"),
}
# Globals and static methods that came after Node.js 0.8.
GLOBALS = ("Promise", "Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect")
STATICS: dict[str, frozenset[str]] = {
    "Object": frozenset({"assign", "entries", "values", "fromEntries", "getOwnPropertySymbols"}),
    "Array": frozenset({"from", "of"}),
    "Buffer": frozenset({"from", "alloc", "allocUnsafe"}),
    "Number": frozenset({"isInteger", "isSafeInteger", "EPSILON", "MAX_SAFE_INTEGER"}),
    "String": frozenset({"raw", "fromCodePoint"}),
    "Math": frozenset({"trunc", "sign", "cbrt", "log2", "log10", "hypot", "clz32", "fround"}),
}
# Built-in modules added after Node.js 0.8 (and the `node:` scheme).
NEW_CORE_MODULES = frozenset(
    {
        "fs/promises",
        "stream/promises",
        "timers/promises",
        "dns/promises",
        "worker_threads",
        "perf_hooks",
        "async_hooks",
        "http2",
        "inspector",
        "trace_events",
        "diagnostics_channel",
        "test",
    }
)
# A file with thousands of arrows needs one line about them, not thousands.
MAX_STRICT_CHECKS = 200

_QUERY = """
(arrow_function) @arrow
[(class_declaration) (class)] @class
(template_string) @template
[(generator_function_declaration) (generator_function)] @generator
(method_definition "*") @generator
(lexical_declaration "let") @let
(for_in_statement "let") @let
(lexical_declaration "const") @const
(for_in_statement "const") @const
(for_in_statement "of") @for_of
(spread_element) @spread
(rest_pattern) @rest
[(object_pattern) (array_pattern)] @destructuring
(assignment_pattern) @default
(shorthand_property_identifier) @shorthand
(object (method_definition) @method)
(computed_property_name) @computed
(meta_property) @new_target
((number) @number (#match? @number "^0[oObB]|n$|_"))
((regex_flags) @regex (#match? @regex "[uysd]"))
[(import_statement) (export_statement)] @esm
(call_expression function: (import)) @dynamic_import
(binary_expression operator: "**") @exponent
(await_expression) @async
[(function_declaration "async") (function_expression "async")
 (arrow_function "async") (method_definition "async")] @async
(arguments "," @trailing . ")")
(formal_parameters "," @trailing . ")")
(catch_clause !parameter) @optional_catch
(optional_chain) @optional
(binary_expression operator: "??") @nullish
(augmented_assignment_expression operator: ["**=" "??=" "||=" "&&="]) @logical_assign
(field_definition) @field
((identifier) @global (#any-of? @global {globals}))
((member_expression object: (identifier) @static_object) @static
 (#any-of? @static_object {statics}))
"""


@cache
def _query() -> tree_sitter.Query:
    quoted = " ".join(f'"{name}"' for name in GLOBALS)
    statics = " ".join(f'"{name}"' for name in STATICS)
    return tree_sitter.Query(language(), _QUERY.format(globals=quoted, statics=statics))


def _is_directive(source: bytes, statement: Node | None) -> bool:
    if statement is None or statement.type != "expression_statement":
        return False
    string = statement.named_children[0] if statement.named_children else None
    return string is not None and node_text(source, string)[1:-1] == "use strict"


def _first_statement(block: Node) -> Node | None:
    return next(
        (c for c in block.named_children if c.type not in {"comment", "hash_bang_line"}), None
    )


_FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "generator_function_declaration",
        "generator_function",
        "method_definition",
        "arrow_function",
    }
)


def _strict(source: bytes, node: Node) -> bool:
    """Whether ``node`` is strict code: in a class, or under a "use strict" directive
    of the file or of a function around it."""
    current: Node | None = node
    while current is not None:
        if current.type == "class_body":
            return True
        if current.type == "program":
            return _is_directive(source, _first_statement(current))
        parent = current.parent
        in_function = parent is not None and parent.type in _FUNCTIONS
        body = current.type == "statement_block" and in_function
        if body and _is_directive(source, _first_statement(current)):
            return True
        current = parent
    return False


class _Tally:
    def __init__(self, source: bytes) -> None:
        self.source = source
        self.first: dict[tuple[str, FeatureKind], int] = {}
        self.uses: dict[tuple[str, FeatureKind], int] = {}

    def add(self, name: str, kind: FeatureKind, node: Node) -> None:
        key = (name, kind)
        self.uses[key] = self.uses.get(key, 0) + 1
        if key not in self.first or node.start_byte < self.first[key]:
            self.first[key] = node.start_byte

    def features(self) -> tuple[Feature, ...]:
        places = positions_of(self.source, self.first.values())
        out = []
        for (name, kind), start in sorted(self.first.items(), key=lambda item: item[1]):
            out.append(Feature(name, kind, *places[start], self.uses[(name, kind)]))
        return tuple(out)


def _bound(scope: Scope, name: str) -> bool:
    return bool(scope.values(name)) or name in scope.bound or name in scope.imported


def find_features(source: bytes, root: Node, scope: Scope) -> tuple[Feature, ...]:
    """The constructs and APIs in the file that Node.js 0.4 to 0.8 lack."""
    tally = _Tally(source)
    captures = query_captures(_query(), root)
    for key, nodes in captures.items():
        if key in CONSTRUCTS and key != "const" and key != "method":
            for node in nodes:
                tally.add(CONSTRUCTS[key].label, "syntax", node)
    for node in captures.get("method", []):
        if not node.children or node.children[0].type not in {"get", "set"}:
            tally.add(CONSTRUCTS["method"].label, "syntax", node)
    module_code = "esm" in captures  # ES modules are strict throughout
    for node in captures.get("const", [])[:MAX_STRICT_CHECKS]:
        if module_code or _strict(source, node):
            tally.add(CONSTRUCTS["const"].label, "syntax", node)
    for node in captures.get("global", []):
        name = node_text(source, node)
        if not _bound(scope, name):
            tally.add(name, "api", node)
    for node in captures.get("static", []):
        obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
        if obj is None or prop is None:
            continue
        owner, member = node_text(source, obj), node_text(source, prop)
        if member in STATICS.get(owner, frozenset()) and not _bound(scope, owner):
            tally.add(f"{owner}.{member}", "api", node)
    return tally.features()


def module_feature(spec: str) -> str | None:
    """The API a ``require(spec)`` of a built-in module needs, if 0.8 lacks it."""
    if spec.startswith("node:"):
        return f"require('{spec}') (the node: scheme)"
    if spec in NEW_CORE_MODULES:
        return f"the built-in module '{spec}'"
    return None


def edition_of(label: str) -> str | None:
    """The edition of the construct a feature ``label`` names (None for an API)."""
    return next((c.edition for c in CONSTRUCTS.values() if c.label == label), None)
