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
from typing import Any

from kit.jsonpos.lexer import Lexer, Token
from kit.jsonpos.nodes import (
    MAX_DEPTH,
    JNode,
    JsonProblem,
    JsonProblems,
    NodeKind,
    ParseResult,
    Pos,
    Tolerated,
)

__all__ = [
    "MAX_DEPTH",
    "JNode",
    "JsonProblem",
    "JsonProblems",
    "NodeKind",
    "ParseResult",
    "Pos",
    "Tolerated",
    "parse",
]


_CLOSER = {"{": "}", "[": "]"}
_OPEN_NAME = {"{": "object", "[": "list"}


def _check_brackets(tokens: list[Token]) -> None:
    """Report truncation and mismatched brackets before anything else.

    A file cut off mid-way otherwise produces a confusing first error (a
    missing comma, say) far from the real cause: the end of the file.
    """
    stack: list[Token] = []
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


def _too_deep(tok: Token) -> JsonProblem:
    return JsonProblem(
        f"the JSON is nested more than {MAX_DEPTH} levels deep",
        tok.pos,
        "a .torque file is a flat object of settings; remove the extra nesting",
    )


def _missing_open_brace(tokens: list[Token]) -> JsonProblem | None:
    if len(tokens) > 2 and tokens[0].kind == "string" and tokens[1].kind == ":":
        return JsonProblem(
            "the file does not start with '{'",
            tokens[0].pos,
            "wrap the keys in one JSON object: add '{' before the first key",
        )
    return None


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.k = 0

    def peek(self) -> Token:
        return self.tokens[self.k]

    def take(self) -> Token:
        tok = self.tokens[self.k]
        self.k += 1
        return tok

    def document(self, tolerate: Lexer) -> JNode:
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
    def _describe(tok: Token) -> str:
        if tok.kind == "string":
            return f"string {tok.text}"
        if tok.kind in ("number", "word"):
            return f"'{tok.text}'"
        if tok.kind == "eof":
            return "end of file"
        return f"'{tok.kind}'"

    def value(self, depth: int, lexer: Lexer) -> JNode:
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

    def obj(self, opener: Token, depth: int, lexer: Lexer) -> JNode:
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

    def arr(self, opener: Token, depth: int, lexer: Lexer) -> JNode:
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


def _decode_string(tok: Token) -> str:
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
    lexer = Lexer(text)
    tokens: list[Token] = []
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
