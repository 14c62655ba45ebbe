"""The statically known start of a path expression.

``process.env.HOME + '/data/db.json'``, ``path.join(os.homedir(), 'data', name)``
and ``__dirname + '/uploads'`` are followed as far as their parts are known: the
home folder reads as ``~``, the code's own folder (``__dirname``,
``process.cwd()``) as ``.``. Used to tell writes under ``~/data`` from writes into
the code, and to follow ``require('./routes/' + name)`` to a folder.
"""

import re

from kit.js.scope import Scope
from kit.js.syntax import (
    Node,
    call_args,
    env_read,
    literal_text,
    node_text,
    spelled,
    unwrap,
)

_DATA_DIR = re.compile(r"~/data(?:/|$)")
_DOTCLOUD_HOME = re.compile(r"^/home/dotcloud(?=/|$)")
_SLASHES = re.compile(r"/{2,}")
_CODE_DIR = re.compile(r"~/(?:current|code)(?:/|$)")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)
# Paths are built by a few joins and concatenations; deeper ones are not ~/data paths
# anyone wrote, and a bound keeps `a + a + ... + a` (50,000 deep) linear.
MAX_PATH_DEPTH = 24


class PathReader:
    """The statically known start of a path expression, with the home folder as ``~``."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.source = scope.source

    def is_home(self, node: Node | None, depth: int = 0) -> bool:
        node = unwrap(node)
        if node is None or depth > MAX_PATH_DEPTH:
            return False
        if node.type == "member_expression" or node.type == "subscript_expression":
            return env_read(self.source, node) == "HOME"
        if node.type == "call_expression":
            function = unwrap(node.child_by_field_name("function"))
            if function is not None and function.type == "identifier":
                return self.scope.imported.get(node_text(self.source, function)) == (
                    "os",
                    "homedir",
                )
            if function is None or function.type != "member_expression":
                return False
            return spelled(self.source, function.child_by_field_name("property"), "homedir") and (
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
        node = unwrap(node)
        if node is None or depth > MAX_PATH_DEPTH:
            return None
        if node.type == "string":
            return literal_text(self.source, node)[0], True
        if self.is_code_dir(node):
            return ".", True
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
                parts.append(node_text(self.source, child))
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
        if not spelled(self.source, node.child_by_field_name("operator"), "+"):
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
        function = unwrap(node.child_by_field_name("function"))
        if function is None or function.type != "member_expression":
            return None
        prop = function.child_by_field_name("property")
        receiver = unwrap(function.child_by_field_name("object"))
        if not spelled(self.source, prop, "join", "resolve") or not (
            spelled(self.source, receiver, "path")
            or self.scope.module_name(receiver) in {"path", "path/posix"}
        ):
            return None
        resolve = spelled(self.source, prop, "resolve")
        joined = ""
        for arg in call_args(node):
            known = self.prefix(arg, depth + 1)
            if known is None:
                return (joined + "/", False) if joined else None
            part = known[0]
            restart = not joined or (resolve and part.startswith("/"))
            joined = part if restart else joined + "/" + part
            if not known[1]:
                return joined, False
        return joined, True

    def is_code_dir(self, node: Node) -> bool:
        """``__dirname`` and ``process.cwd()``: the code's own folder (the supervisord
        program runs in ~/current)."""
        if node.type == "identifier":
            return spelled(self.source, node, "__dirname")
        if node.type == "call_expression" and not call_args(node):
            return spelled(self.source, node.child_by_field_name("function"), "process.cwd")
        return False

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

    def code_path(self, node: Node | None) -> str | None:
        """How a path inside the code reads ("uploads/…", "./db.json"), else None:
        a relative path, or one under __dirname, ~/current or ~/code."""
        known = self.prefix(node)
        if known is None or not known[0]:
            return None
        path, whole = _DOTCLOUD_HOME.sub("~", _SLASHES.sub("/", known[0])), known[1]
        if _CODE_DIR.match(path):
            return path if whole else path + "…"
        if path.startswith(("/", "~")) or _SCHEME.match(path):
            return None
        return path if whole else path + "…"
