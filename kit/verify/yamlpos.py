"""Reading a hand-written YAML file safely, keeping where every key came from.

PyYAML builds the node graph first (``compose``), with marks for every node,
and only then turns it into Python values. Between the two steps this module
counts what aliases would expand to, so a "billion laughs" file is refused in
milliseconds instead of eating the machine's memory. Library messages are
rewritten in plain words with 1-based lines and columns.
"""

from typing import Any, NamedTuple

import yaml

MAX_BYTES = 1_000_000
MAX_NODES = 100_000


class YamlProblem(NamedTuple):
    kind: str  # "syntax", "tab", "aliases", "duplicate", "encoding"
    line: int
    column: int
    message: str
    fix: str


class YamlDoc(NamedTuple):
    data: Any
    marks: dict[tuple[str, ...], tuple[int, int]]  # key path -> (line, column) of the key
    value_marks: dict[tuple[str, ...], tuple[int, int]]  # key path -> (line, column) of the value


def tab_problems(text: str) -> list[YamlProblem]:
    """Every line whose indentation holds a tab: YAML forbids them."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            problems.append(
                YamlProblem(
                    "tab",
                    number,
                    indent.index("\t") + 1,
                    "a tab in the indentation; YAML indents with spaces only",
                    "replace the tab with spaces (two per level, as the rest of the file)",
                )
            )
    return problems


def _explain(exc: yaml.MarkedYAMLError, lines: list[str]) -> YamlProblem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    column = mark.column + 1 if mark else 1
    problem = (exc.problem or "the YAML cannot be read").strip()
    fix = "check the indentation and punctuation on this line and the one before"
    if problem == "mapping values are not allowed here":
        here = lines[line - 1] if line <= len(lines) else ""
        prev_no = line - 1
        while prev_no > 0 and not lines[prev_no - 1].strip():
            prev_no -= 1
        prev = lines[prev_no - 1] if prev_no > 0 else ""

        def indent(s: str) -> int:
            return len(s) - len(s.lstrip(" "))

        key = here.strip().split(":", 1)[0]
        prev_key = prev.strip().split(":", 1)[0]
        if prev_no and indent(here) > indent(prev) and ":" in prev:
            return YamlProblem(
                "syntax",
                line,
                indent(here) + 1,
                f"'{key}:' is indented deeper than '{prev_key}:' on line {prev_no}, so YAML "
                f"reads it as part of the value of '{prev_key}'",
                f"indent '{key}:' exactly as far as '{prev_key}:' ({indent(prev)} spaces)",
            )
        return YamlProblem(
            "syntax",
            line,
            column,
            "a ':' where YAML cannot start a new key (is a value missing its quotes?)",
            "quote the value if it holds ': ', or fix the indentation of this key",
        )
    if "could not find expected ':'" in problem:
        return YamlProblem(
            "syntax",
            line,
            column,
            "a line that is neither 'key: value' nor a list item",
            "add the missing ':' after the key, or indent the line under its parent",
        )
    if problem.startswith("expected ',' or"):
        opener = exc.context_mark
        where = f" opened at line {opener.line + 1}" if opener else ""
        return YamlProblem(
            "syntax",
            line,
            column,
            f"a [ or {{ list{where} is never closed",
            "close the bracket, or write the list one '- item' per line",
        )
    if "found undefined alias" in problem:
        return YamlProblem(
            "syntax",
            line,
            column,
            "an alias (*name) with no matching anchor (&name)",
            "define the anchor before using it, or write the value out",
        )
    return YamlProblem("syntax", line, column, problem, fix)


def _expanded_size(root: yaml.Node) -> int | None:
    """Number of nodes once aliases are expanded; None if past the limit or cyclic."""
    sizes: dict[int, int] = {}
    # Post-order walk with an explicit stack: shared nodes are sized once.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1
            for child in _children(node):
                total += sizes[id(child)]
            if total > MAX_NODES:
                return None
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            return None  # a recursive alias
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                return None
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _marks(
    root: yaml.Node, problems: list[YamlProblem]
) -> tuple[dict[tuple[str, ...], tuple[int, int]], dict[tuple[str, ...], tuple[int, int]]]:
    keys: dict[tuple[str, ...], tuple[int, int]] = {}
    values: dict[tuple[str, ...], tuple[int, int]] = {}
    stack: list[tuple[tuple[str, ...], yaml.Node]] = [((), root)]
    seen: set[int] = set()
    while stack:
        path, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if not isinstance(node, yaml.MappingNode):
            continue
        here: dict[str, int] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if name in here:
                dotted = ".".join((*path, name))
                problems.append(
                    YamlProblem(
                        "duplicate",
                        line,
                        column,
                        f"'{dotted}' is given twice (first at line {here[name]}); "
                        "YAML keeps only the last one",
                        "remove one of them",
                    )
                )
            here[name] = line
            keys[(*path, name)] = (line, column)
            values[(*path, name)] = (
                value_node.start_mark.line + 1,
                value_node.start_mark.column + 1,
            )
            stack.append(((*path, name), value_node))
    return keys, values


def load(data: bytes) -> tuple[YamlDoc | None, list[YamlProblem]]:
    """Parse YAML bytes; the document (or None) and every problem found."""
    if len(data) > MAX_BYTES:
        return None, [
            YamlProblem(
                "syntax",
                1,
                1,
                f"the file is {len(data):,} bytes; a build file is a few lines",
                "make sure this is the app's dotcloud.yml",
            )
        ]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            YamlProblem(
                "encoding",
                line,
                column,
                f"byte 0x{data[exc.start]:02x} is not valid UTF-8",
                "save the file as UTF-8",
            )
        ]
    text = text.removeprefix("\ufeff")
    problems = tab_problems(text)
    tab_lines = {p.line for p in problems}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        problem = _explain(exc, text.splitlines())
        if problem.line not in tab_lines:
            problems.append(problem)
        return None, problems
    except yaml.YAMLError as exc:
        problems.append(YamlProblem("syntax", 1, 1, str(exc), "check the file's syntax"))
        return None, problems
    except RecursionError:
        problems.append(
            YamlProblem(
                "syntax",
                1,
                1,
                "the YAML is nested too deeply to read",
                "a build file is a few levels deep; remove the extra nesting",
            )
        )
        return None, problems
    if root is None:
        return YamlDoc(None, {}, {}), problems
    if _expanded_size(root) is None:
        problems.append(
            YamlProblem(
                "aliases",
                1,
                1,
                f"its aliases (*name) expand to more than {MAX_NODES:,} values, or refer to "
                "themselves; such a file would exhaust the memory of whatever reads it",
                "write the values out instead of nesting aliases",
            )
        )
        return None, problems
    marks, value_marks = _marks(root, problems)
    try:
        value = yaml.SafeLoader("").construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(
            YamlProblem(
                "syntax",
                mark.line + 1 if mark else 1,
                mark.column + 1 if mark else 1,
                getattr(exc, "problem", None) or str(exc),
                "check the value on this line",
            )
        )
        return None, problems
    return YamlDoc(value, marks, value_marks), problems
