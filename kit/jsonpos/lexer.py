"""The tokens of hand-written JSON, with positions; comments and trailing commas noted."""

from typing import Literal, NamedTuple

from kit.jsonpos.nodes import BAD_NUMBER, ESCAPES, HEX4, NUMBER, WORD, JsonProblem, Pos, Tolerated


class Token(NamedTuple):
    kind: str  # one of {}[]:, or "string", "number", "word", "eof"
    text: str
    pos: Pos
    end: Pos


class Lexer:
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

    def tokens(self) -> list[Token]:
        out: list[Token] = []
        text, n = self.text, len(self.text)
        while True:
            self._skip_space_and_comments()
            if self.i >= n:
                out.append(Token("eof", "", self.pos(), self.pos()))
                return out
            ch = text[self.i]
            start = self.pos()
            if ch in "{}[]:,":
                self.i += 1
                out.append(Token(ch, ch, start, self.pos()))
            elif ch == '"':
                raw = self._string()
                out.append(Token("string", raw, start, self.pos()))
            elif ch == "-" or ch.isdigit():
                match = NUMBER.match(text, self.i)
                if match is None or (match.end() < n and text[match.end()].isalnum()):
                    bad = BAD_NUMBER.match(text, self.i)
                    word = bad.group() if bad else ch
                    raise JsonProblem(
                        f"'{word}' is not a valid number",
                        start,
                        "write numbers as JSON does (3535, 1.5, -2), or put the value in quotes",
                    )
                self.i = match.end()
                out.append(Token("number", match.group(), start, self.pos()))
            else:
                word_match = WORD.match(text, self.i)
                if word_match:
                    self.i = word_match.end()
                    out.append(Token("word", word_match.group(), start, self.pos()))
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
                if esc not in ESCAPES or not esc:
                    raise JsonProblem(
                        f"'\\{esc}' is not a JSON escape",
                        self.pos(),
                        'use \\\\ for a backslash, \\" for a quote, \\n for a newline',
                    )
                if esc == "u" and not HEX4.fullmatch(text, self.i + 2, self.i + 6):
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
