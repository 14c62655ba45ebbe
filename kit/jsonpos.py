"""JSON with positions, for hand-written config files such as ``.torque``.

The standard ``json`` module gives values but not where they came from, and its
messages ("Expecting ',' delimiter") are written for programmers. This module
keeps a 1-based line and column for every key and value, tolerates the slips
people make in hand-written JSON (``//`` and ``/* */`` comments, trailing commas)
as warnings, and turns everything else into one plain-language problem with an
address. A file cut off in the middle is reported where it ends, naming the
brackets left open. Nesting deeper than :data:`MAX_DEPTH` is refused before any
recursion happens.
"""

import json
import re
from typing import Any, Literal, NamedTuple

MAX_DEPTH = 64

NodeKind = Literal["object", "array", "string", "number", "true", "false", "null"]

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_BAD_NUMBER = re.compile(r"-?[A-Za-z0-9_.+-]+")
_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")
_ESCAPES = frozenset('"\\/bfnrtu')
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_KIND_NAMES = {
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
        return _KIND_NAMES[self.kind]

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


class _Token(NamedTuple):
    kind: str  # one of {}[]:, or "string", "number", "word", "eof"
    text: str
    pos: Pos
    end: Pos


class ParseResult(NamedTuple):
    root: JNode
    tolerated: list[Tolerated]


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.line_start = 0
        self.tolerated: dict[str, Tolerated] = {}

    def pos(self, index: int | None = None) -> Pos:
        index = self.i if index is None else index
        return Pos(self.line, index - self.line_start + 1)

    def _note(self, kind: Literal["comment", "trailing-comma"], pos: Pos) -> None:
        seen = self.tolerated.get(kind)
        if seen is None:
            self.tolerated[kind] = Tolerated(kind, pos, 1)
        else:
            self.tolerated[kind] = Tolerated(kind, seen.pos, seen.occurrences + 1)

    def _newline(self, index: int) -> None:
        self.line += 1
        self.line_start = index + 1

    def tokens(self) -> list[_Token]:
        out: list[_Token] = []
        text, n = self.text, len(self.text)
        while True:
            self._skip_space_and_comments()
            if self.i >= n:
                out.append(_Token("eof", "", self.pos(), self.pos()))
                return out
            ch = text[self.i]
            start = self.pos()
            if ch in "{}[]:,":
                self.i += 1
                out.append(_Token(ch, ch, start, self.pos()))
            elif ch == '"':
                raw = self._string()
                out.append(_Token("string", raw, start, self.pos()))
            elif ch == "-" or ch.isdigit():
                match = _NUMBER.match(text, self.i)
                if match is None or (match.end() < n and text[match.end()].isalnum()):
                    bad = _BAD_NUMBER.match(text, self.i)
                    word = bad.group() if bad else ch
                    raise JsonProblem(
                        f"'{word}' is not a valid number",
                        start,
                        "write numbers as JSON does (3535, 1.5, -2), or put the value in quotes",
                    )
                self.i = match.end()
                out.append(_Token("number", match.group(), start, self.pos()))
            else:
                word_match = _WORD.match(text, self.i)
                if word_match:
                    self.i = word_match.end()
                    out.append(_Token("word", word_match.group(), start, self.pos()))
                elif ch == "'":
                    raise JsonProblem(
                        "single quotes are not JSON",
                        start,
                        "use double quotes around keys and strings",
                    )
                else:
                    raise JsonProblem(
                        f"unexpected character {ch!r}",
                        start,
                        "remove it; a .torque file holds one JSON object",
                    )

    def _skip_space_and_comments(self) -> None:
        text, n = self.text, len(self.text)
        while self.i < n:
            ch = text[self.i]
            if ch == "\n":
                self._newline(self.i)
                self.i += 1
            elif ch in " \t\r":
                self.i += 1
            elif text.startswith("//", self.i):
                self._note("comment", self.pos())
                end = text.find("\n", self.i)
                self.i = n if end < 0 else end
            elif text.startswith("/*", self.i):
                start = self.pos()
                self._note("comment", start)
                end = text.find("*/", self.i + 2)
                if end < 0:
                    raise JsonProblem(
                        "a /* comment is never closed",
                        start,
                        "close it with */ or remove it",
                    )
                for k in range(self.i, end):
                    if text[k] == "\n":
                        self._newline(k)
                self.i = end + 2
            else:
                return

    def _string(self) -> str:
        text, n = self.text, len(self.text)
        start_index = self.i
        start = self.pos()
        self.i += 1
        while self.i < n:
            ch = text[self.i]
            if ch == '"':
                self.i += 1
                return text[start_index : self.i]
            if ch == "\\":
                esc = text[self.i + 1 : self.i + 2]
                if esc not in _ESCAPES or not esc:
                    raise JsonProblem(
                        f"'\\{esc}' is not a JSON escape",
                        self.pos(),
                        'use \\\\ for a backslash, \\" for a quote, \\n for a newline',
                    )
                if esc == "u" and not _HEX4.fullmatch(text, self.i + 2, self.i + 6):
                    raise JsonProblem(
                        "'\\u' must be followed by four hex digits",
                        self.pos(),
                        "write the character itself, or \\u followed by its four-digit code",
                    )
                self.i += 2
            elif ch == "\n" or ord(ch) < 0x20:
                what = "a line break" if ch in "\r\n" else f"the control character {ch!r}"
                raise JsonProblem(
                    f"{what} inside the string that starts at line {start.line}, "
                    f"column {start.column}",
                    self.pos(),
                    "close the string on the same line; write \\n or \\t for line breaks and tabs",
                )
            else:
                self.i += 1
        raise JsonProblem(
            f"the file ends inside the string that starts at line {start.line}, "
            f"column {start.column}",
            self.pos(),
            'close the string with "',
        )


_CLOSER = {"{": "}", "[": "]"}
_OPEN_NAME = {"{": "object", "[": "list"}


def _check_brackets(tokens: list[_Token]) -> None:
    """Report truncation and mismatched brackets before anything else.

    A file cut off mid-way otherwise produces a confusing first error (a
    missing comma, say) far from the real cause: the end of the file.
    """
    stack: list[_Token] = []
    for tok in tokens:
        if tok.kind in ("{", "["):
            if len(stack) >= MAX_DEPTH:
                raise _too_deep(tok)
            stack.append(tok)
        elif tok.kind in ("}", "]"):
            if not stack:
                raise JsonProblem(
                    f"'{tok.kind}' closes nothing",
                    tok.pos,
                    "remove it, or add the opening bracket it belongs to",
                )
            opener = stack.pop()
            if _CLOSER[opener.kind] != tok.kind:
                raise JsonProblem(
                    f"'{tok.kind}' does not match the {_OPEN_NAME[opener.kind]} opened with "
                    f"'{opener.kind}' at line {opener.pos.line}, column {opener.pos.column}",
                    tok.pos,
                    f"close the {_OPEN_NAME[opener.kind]} with '{_CLOSER[opener.kind]}'",
                )
    if stack:
        last = tokens[-2] if len(tokens) > 1 else tokens[-1]
        open_list = " and ".join(
            f"the {_OPEN_NAME[t.kind]} opened at line {t.pos.line}, column {t.pos.column}"
            for t in reversed(stack)
        )
        closers = "".join(_CLOSER[t.kind] for t in reversed(stack))
        raise JsonProblem(
            f"the file ends unexpectedly: {open_list} "
            f"{'is' if len(stack) == 1 else 'are'} never closed",
            last.end,
            f"the file looks cut off; finish it (it needs '{closers}' at least)",
        )


def _too_deep(tok: _Token) -> JsonProblem:
    return JsonProblem(
        f"the JSON is nested more than {MAX_DEPTH} levels deep",
        tok.pos,
        "a .torque file is a flat object of settings; remove the extra nesting",
    )


def _missing_open_brace(tokens: list[_Token]) -> JsonProblem | None:
    if len(tokens) > 2 and tokens[0].kind == "string" and tokens[1].kind == ":":
        return JsonProblem(
            "the file does not start with '{'",
            tokens[0].pos,
            "wrap the keys in one JSON object: add '{' before the first key",
        )
    return None


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.k = 0

    def peek(self) -> _Token:
        return self.tokens[self.k]

    def take(self) -> _Token:
        tok = self.tokens[self.k]
        self.k += 1
        return tok

    def document(self, tolerate: _Lexer) -> JNode:
        first = self.peek()
        if first.kind == "eof":
            raise JsonProblem(
                "the file is empty",
                first.pos,
                'write one JSON object, for example {"start": "server.js"}',
            )
        missing = _missing_open_brace(self.tokens)
        if missing is not None:
            raise missing
        node = self.value(0, tolerate)
        extra = self.peek()
        if extra.kind != "eof":
            raise JsonProblem(
                f"unexpected {self._describe(extra)} after the end of the JSON value",
                extra.pos,
                "a .torque file holds exactly one JSON object; remove what follows it",
            )
        return node

    @staticmethod
    def _describe(tok: _Token) -> str:
        if tok.kind == "string":
            return f"string {tok.text}"
        if tok.kind in ("number", "word"):
            return f"'{tok.text}'"
        if tok.kind == "eof":
            return "end of file"
        return f"'{tok.kind}'"

    def value(self, depth: int, lexer: _Lexer) -> JNode:
        tok = self.take()
        if tok.kind in ("{", "[") and depth >= MAX_DEPTH:
            raise _too_deep(tok)
        if tok.kind == "{":
            return self.obj(tok, depth, lexer)
        if tok.kind == "[":
            return self.arr(tok, depth, lexer)
        if tok.kind == "string":
            return JNode("string", tok.pos, _decode_string(tok), tok.text)
        if tok.kind == "number":
            number: Any = json.loads(tok.text)
            return JNode("number", tok.pos, number, tok.text)
        if tok.kind == "word":
            if tok.text in ("true", "false"):
                return JNode(tok.text, tok.pos, tok.text == "true", tok.text)  # type: ignore[arg-type]
            if tok.text == "null":
                return JNode("null", tok.pos, None, tok.text)
            raise JsonProblem(
                f"'{tok.text}' is not a JSON value",
                tok.pos,
                "put text in double quotes; the only bare words are true, false and null",
            )
        raise JsonProblem(
            f"expected a value, found {self._describe(tok)}",
            tok.pos,
            "give a value: a string in double quotes, a number, true, false, a list or an object",
        )

    def obj(self, opener: _Token, depth: int, lexer: _Lexer) -> JNode:
        node = JNode("object", opener.pos)
        seen: dict[str, Pos] = {}
        while True:
            tok = self.take()
            if tok.kind == "}":
                return node
            if tok.kind != "string":
                hint = (
                    "put the key in double quotes"
                    if tok.kind == "word"
                    else 'write "key": value pairs separated by commas'
                )
                raise JsonProblem(
                    f"expected a key in double quotes, found {self._describe(tok)}", tok.pos, hint
                )
            key = _decode_string(tok)
            colon = self.take()
            if colon.kind != ":":
                raise JsonProblem(
                    f"expected ':' after the key {tok.text}, found {self._describe(colon)}",
                    colon.pos,
                    'separate each key from its value with a colon: "key": value',
                )
            value = self.value(depth + 1, lexer)
            if key in seen:
                first = seen[key]
                raise JsonProblem(
                    f"the key {tok.text} is given twice (first at line {first.line}, "
                    f"column {first.column})",
                    tok.pos,
                    "keep one of them; JSON keeps only the last, silently",
                )
            seen[key] = tok.pos
            node.members.append((key, tok.pos, value))
            sep = self.take()
            if sep.kind == "}":
                return node
            if sep.kind != ",":
                raise JsonProblem(
                    f"expected ',' or '}}' after the value of {tok.text}, "
                    f"found {self._describe(sep)}",
                    sep.pos,
                    "separate entries with commas and close the object with '}'",
                )
            if self.peek().kind == "}":
                lexer._note("trailing-comma", sep.pos)

    def arr(self, opener: _Token, depth: int, lexer: _Lexer) -> JNode:
        node = JNode("array", opener.pos)
        if self.peek().kind == "]":
            self.take()
            return node
        while True:
            node.items.append(self.value(depth + 1, lexer))
            sep = self.take()
            if sep.kind == "]":
                return node
            if sep.kind != ",":
                raise JsonProblem(
                    f"expected ',' or ']' in the list, found {self._describe(sep)}",
                    sep.pos,
                    "separate list items with commas and close the list with ']'",
                )
            if self.peek().kind == "]":
                lexer._note("trailing-comma", sep.pos)
                self.take()
                return node


def _decode_string(tok: _Token) -> str:
    value: str = json.loads(tok.text)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise JsonProblem(
            "the string holds a \\u escape for half a character (a lone surrogate)",
            tok.pos,
            "write the character itself, or both halves of the surrogate pair",
        )
    return value


def parse(text: str) -> ParseResult:
    """Parse JSON text (already decoded) into positioned nodes.

    Raises :class:`JsonProblems`, each problem with a position and a fix. Parsing
    stops at the first grammar problem, but a truncated file also says whether
    its start was missing, since a cut-off excerpt often lacks both ends.
    """
    lexer = _Lexer(text)
    tokens: list[_Token] = []
    try:
        tokens = lexer.tokens()
        _check_brackets(tokens)
        root = _Parser(tokens).document(lexer)
    except JsonProblem as problem:
        problems = [problem]
        if "ends unexpectedly" in problem.message:
            missing = _missing_open_brace(tokens)
            if missing is not None:
                problems.insert(0, missing)
        raise JsonProblems(problems) from None
    return ParseResult(
        root, sorted(lexer.tolerated.values(), key=lambda t: (t.pos.line, t.pos.column))
    )
