"""The positioned JSON reader behind .torque: values, positions, and problems."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.convert.torque import parse_torque
from kit.jsonpos import JsonProblems, Pos, parse


def _problems(text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(JsonProblems) as info:
        parse(text)
    return [(p.pos.line, p.pos.column, p.message) for p in info.value.problems]


def test_values_and_positions() -> None:
    result = parse('{\n  "a": [1, 2.5, "x"],\n  "b": {"c": null, "d": true}\n}')
    assert result.root.to_python() == {"a": [1, 2.5, "x"], "b": {"c": None, "d": True}}
    assert [(key, pos) for key, pos, _ in result.root.members] == [
        ("a", Pos(2, 3)),
        ("b", Pos(3, 3)),
    ]
    assert result.tolerated == []


def test_numbers_keep_their_source_text() -> None:
    node = parse('{"v": 1.10}').root.members[0][2]
    assert (node.value, node.raw) == (1.1, "1.10")


def test_comments_and_trailing_commas_are_counted() -> None:
    result = parse('{\n // one\n "a": [1,],\n /* two */ "b": 2,\n}')
    assert [(t.kind, t.pos, t.occurrences) for t in result.tolerated] == [
        ("comment", Pos(2, 2), 2),
        ("trailing-comma", Pos(3, 9), 2),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1]', [(1, 8, "']' does not match the object opened with '{' at line 1, column 1")]),
        ("}", [(1, 1, "'}' closes nothing")]),
        ('{"a": "x', [(1, 9, "the file ends inside the string that starts at line 1, column 7")]),
        ('{"a": "\\q"}', [(1, 8, "'\\q' is not a JSON escape")]),
        ('{"a": "\\u12"}', [(1, 8, "'\\u' must be followed by four hex digits")]),
        (
            '{"a": "\\ud800"}',
            [(1, 7, "the string holds a \\u escape for half a character (a lone surrogate)")],
        ),
        ("{a: 1}", [(1, 2, "expected a key in double quotes, found 'a'")]),
        ('{"a": 1} {}', [(1, 10, "unexpected '{' after the end of the JSON value")]),
        ('{"a": 1, /* open', [(1, 10, "a /* comment is never closed")]),
        ('{"a": \x01}', [(1, 7, "unexpected character '\\x01'")]),
        ("", [(1, 1, "the file is empty")]),
        ("// only a comment\n", [(2, 1, "the file is empty")]),
    ],
)
def test_problems_have_addresses(text: str, expected: list[tuple[int, int, str]]) -> None:
    assert _problems(text) == expected


@settings(max_examples=400)
@given(
    st.text(alphabet=st.sampled_from('{}[]:,"\\ \n\t/*truefalsnu0123456789.-eE\x00é'), max_size=60)
)
def test_any_text_parses_or_gives_problems(text: str) -> None:
    try:
        result = parse(text)
    except JsonProblems as exc:
        assert exc.problems and all(p.pos.line >= 1 and p.pos.column >= 1 for p in exc.problems)
    else:
        stripped_ok = result.tolerated or json.loads(text) == result.root.to_python()
        assert stripped_ok


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_any_bytes_give_findings_never_a_traceback(data: bytes) -> None:
    torque, findings = parse_torque(data, "g/.torque")
    if torque is None:
        assert any(f.severity == "error" for f in findings)
    for finding in findings:
        assert finding.path == "g/.torque" and finding.message and finding.fix


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=5), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_agrees_with_the_json_module(value: object) -> None:
    text = json.dumps(value)
    assert parse(text).root.to_python() == json.loads(text)
