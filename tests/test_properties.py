"""Property tests: whatever env values and parameters a .torque holds, they arrive unchanged."""

from __future__ import annotations

import json
import shlex

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from supervisor.options import ServerOptions, UnhosedConfigParser

from kit.convert.app import GearInput, Options, convert_app
from kit.convert.render import _UNCARRIABLE
from kit.errors import InputError
from kit.platform.names import normalize_env_key

TRICKY = [
    "%",
    "%(here)s",
    "100%",
    "'",
    '"',
    "\\",
    "$HOME",
    "${X}",
    "#",
    "a #b",
    ";",
    "a ;b",
    " ",
    "  padded  ",
    "café",
    "日本語",
    "😀",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "true",
    "False",
    "null",
    "~",
    "0755",
    "0x1F",
    "1.10",
    "1e3",
    ".inf",
    "-.nan",
    "12:30",
    "2024-01-01",
    "",
    "- item",
    "key: value",
    "[a]",
    "{b}",
    "*ref",
    "&anchor",
    "!tag",
    "|",
    ">",
    "@",
    "`",
]
values = st.one_of(st.sampled_from(TRICKY), st.text(max_size=40))
keys = st.from_regex(r"[a-z][a-z0-9_.-]{0,15}", fullmatch=True).filter(
    lambda k: k != "port" and not normalize_env_key(k).startswith("DOTCLOUD_")
)


def _env_mappings() -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(keys, values, max_size=8).filter(
        lambda d: len({normalize_env_key(k) for k in d}) == len(d)
    )


def _convert(torque: dict[str, object]) -> dict[str, bytes]:
    gear = GearInput(
        dirname="web",
        approot="web",
        torque=json.dumps(torque).encode(),
        files=frozenset({"server.js"}),
    )
    conversion = convert_app([gear], Options(), root_label="app")
    return {f.path: f.content for f in conversion.files}


def _supervisor_argv(conf: str) -> list[str]:
    parser = UnhosedConfigParser()
    parser.read_string(conf)
    options = ServerOptions()
    (program,) = options.processes_from_section(parser, "program:node", "node")
    return shlex.split(program.command)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(env=_env_mappings())
def test_env_values_survive_to_dotcloud_yml(env: dict[str, str]) -> None:
    files = _convert({"start": "server.js", "env": env})
    data = yaml.safe_load(files["dotcloud.yml"].decode())
    assert data["web"].get("environment", {}) == {normalize_env_key(k): v for k, v in env.items()}


@settings(max_examples=100)
@given(number=st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_numbers_are_written_as_the_text_of_the_torque(number: float) -> None:
    text = json.dumps(number)
    gear = GearInput(
        dirname="web",
        approot="web",
        torque=b'{"start": "server.js", "env": {"n": ' + text.encode() + b"}}",
        files=frozenset({"server.js"}),
    )
    files = {f.path: f.content for f in convert_app([gear], Options(), root_label="app").files}
    assert yaml.safe_load(files["dotcloud.yml"])["web"]["environment"] == {"N": text}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(params=st.lists(values, max_size=6))
def test_parameters_survive_to_supervisord_conf(params: list[str]) -> None:
    torque = {"start": "server.js", "parameters": params}
    if any(_UNCARRIABLE.search(p) for p in params):
        with pytest.raises(InputError) as info:
            _convert(torque)
        assert [f.rule for f in info.value.findings] == ["supervisord-value"]
        return
    conf = _convert(torque)["web/supervisord.conf"].decode()
    assert _supervisor_argv(conf) == ["node", "server.js", *params]


def test_percent_is_doubled_for_supervisord() -> None:
    conf = _convert({"start": "server.js", "parameters": ["--rate=100%"]})["web/supervisord.conf"]
    assert b"command = node server.js --rate=100%%\n" in conf
    assert _supervisor_argv(conf.decode()) == ["node", "server.js", "--rate=100%"]


def test_inline_comment_characters_stay_in_the_argument() -> None:
    conf = _convert({"start": "server.js", "parameters": ["a ;b", "c #d"]})["web/supervisord.conf"]
    assert _supervisor_argv(conf.decode()) == ["node", "server.js", "a ;b", "c #d"]
