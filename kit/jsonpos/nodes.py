"""What the reader returns: values with positions, and the problems it found."""

import re
from typing import Any, Literal, NamedTuple

MAX_DEPTH = 64

NodeKind = Literal["object", "array", "string", "number", "true", "false", "null"]

NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
BAD_NUMBER = re.compile(r"-?[A-Za-z0-9_.+-]+")
WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")
ESCAPES = frozenset('"\\/bfnrtu')
HEX4 = re.compile(r"[0-9a-fA-F]{4}")
KIND_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "true": "true",
    "false": "false",
    "null": "null",
}


class Pos(NamedTuple):
    line: int
    column: int


class Tolerated(NamedTuple):
    """A slip the parser accepted: what it was and where it first happened."""

    kind: Literal["comment", "trailing-comma"]
    pos: Pos
    occurrences: int


class JNode:
    """A parsed JSON value with its position and, for scalars, its source text."""

    __slots__ = ("items", "kind", "members", "pos", "raw", "value")

    def __init__(self, kind: NodeKind, pos: Pos, value: Any = None, raw: str = "") -> None:
        self.kind = kind
        self.pos = pos
        self.value = value
        self.raw = raw
        self.members: list[tuple[str, Pos, JNode]] = []
        self.items: list[JNode] = []

    def describe(self) -> str:
        return KIND_NAMES[self.kind]

    def to_python(self) -> Any:
        if self.kind == "object":
            return {key: node.to_python() for key, _, node in self.members}
        if self.kind == "array":
            return [node.to_python() for node in self.items]
        return self.value


class JsonProblems(Exception):
    """Every problem found before parsing had to stop, in file order."""

    def __init__(self, problems: "list[JsonProblem]") -> None:
        super().__init__(problems[0].message)
        self.problems = problems


class JsonProblem(Exception):
    """The text is not usable JSON; ``pos`` says where and ``fix`` what to do."""

    def __init__(self, message: str, pos: Pos, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.fix = fix


class ParseResult(NamedTuple):
    root: JNode
    tolerated: list[Tolerated]
