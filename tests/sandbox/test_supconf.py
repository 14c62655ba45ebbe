"""The container's supervisord.conf, read back with supervisor's own parser."""

from __future__ import annotations

import json
import shlex
import subprocess
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from supervisor.options import ServerOptions, UnhosedConfigParser

from kit.platform.names import PROGRAM_NAME
from kit.sandbox import supconf
from kit.sandbox.backend import Inside

INSIDE = Inside(
    "/home/dotcloud", "/run/dotkit/self", "/run/dotkit/services", "/var/log/supervisor", True
)


def _argv(text: str, program: str) -> list[str]:
    """The argv supervisord would start ``program`` with (its parser, then its shlex)."""
    parser = UnhosedConfigParser()
    parser.read_string(text)
    (config,) = ServerOptions().processes_from_section(parser, f"program:{program}", program)
    return shlex.split(config.command)


def _render(process: str) -> str:
    return supconf.render(
        INSIDE, include_app_conf=False, process=process, processes={}, service="www"
    )


def test_the_conf_includes_the_app_and_points_at_the_container_socket() -> None:
    text = supconf.render(
        INSIDE,
        include_app_conf=True,
        process=None,
        processes={"worker": "node w.js 100%"},
        service="www",
        app_conf_path="/home/dotcloud/current/supervisord.conf",
    )
    parser = UnhosedConfigParser()
    parser.read_string(text)
    assert parser["include"]["files"] == "/home/dotcloud/current/supervisord.conf"
    assert parser["unix_http_server"]["file"] == "/run/dotkit/self/supervisor.sock"
    assert parser["program:worker"]["command"] == "/bin/sh -lc 'exec node w.js 100%%'"
    assert _argv(text, "worker") == ["/bin/sh", "-lc", "exec node w.js 100%"]


def test_a_command_keeps_its_quoting() -> None:
    """Regression (issue 13): the line was pasted inside double quotes, so its own quotes
    ended them and `node -e "console.log('a  b')"` reached the shell mangled."""
    line = "node -e \"console.log('a  b')\""
    assert _argv(_render(line), "www") == ["/bin/sh", "-lc", f"exec {line}"]


@pytest.mark.parametrize(
    "line",
    ["node a.js ; echo next", "node a.js #not a comment", "x\t;y", "echo %(ENV_HOME)s it's"],
)
def test_what_supervisord_would_take_for_a_comment_or_a_variable_stays(line: str) -> None:
    assert _argv(_render(line), "www") == ["/bin/sh", "-lc", f"exec {line}"]


def test_the_shell_gets_the_line_as_written() -> None:
    line = "printf '%s|' \"a  b\" c 'd #e' ' ;f' 100%"
    argv = _argv(_render(line), "www")
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert done.stdout == "a  b|c|d #e| ;f|100%|"


def test_a_command_of_several_lines_is_refused() -> None:
    with pytest.raises(ValueError, match="a command must be one line"):
        supconf.program_command("node a.js\n[program:other]")


@settings(max_examples=200)
@given(line=st.text(st.characters(blacklist_characters="\n\r\x00"), min_size=1))
def test_any_one_line_command_survives_supervisord(line: str) -> None:
    assert _argv(_render(line), "www")[2] == f"exec {line}"


def _programs(text: str) -> list[str]:
    parser = UnhosedConfigParser()
    parser.read_string(text)
    return [s.split(":", 1)[1] for s in parser.sections() if s.startswith("program:")]


@pytest.mark.parametrize("name", ["web]\n[program:evil", "a b", "../x", "x/y", "-x", "w]", ""])
def test_a_program_name_cannot_open_a_section_or_a_path(name: str) -> None:
    with pytest.raises(ValueError, match="cannot name a program"):
        supconf.render(
            INSIDE, include_app_conf=False, process=None, processes={name: "x"}, service="www"
        )


@settings(max_examples=200)
@given(name=st.from_regex(PROGRAM_NAME, fullmatch=True))
def test_every_program_name_the_schema_takes_is_one_section(name: str) -> None:
    text = supconf.render(
        INSIDE, include_app_conf=False, process=None, processes={name: "x"}, service="www"
    )
    assert _programs(text) == [name]
    assert f"stdout_logfile = /var/log/supervisor/{name}.log\n" in text


def test_the_schema_and_the_sandbox_agree_on_program_names() -> None:
    schema = json.loads(
        resources.files("kit").joinpath("data/dotcloud-yml.schema.json").read_text()
    )
    pattern = schema["$defs"]["service"]["properties"]["processes"]["propertyNames"]["pattern"]
    assert pattern == f"^{PROGRAM_NAME.pattern}$"
