"""supervisord.conf checks: each rule failing and passing, positions, and fuzzed input."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit.appfs import list_app_files
from kit.convert.render import UncarriableValue, render_supervisord
from kit.findings import Finding
from kit.platform.model import Service
from kit.verify.model import Target as App
from kit.verify.supervisor import (
    RULES,
    bad_percents,
    check_supervisor,
    command_script,
    scan_layout,
)
from testing.apps import make_service, write_files

GOOD = "[program:node]\ncommand = node server.js\ndirectory = /home/dotcloud/current\n"


def service(
    approot: str = ".",
    *,
    type: str = "nodejs",
    process: str | None = None,
    processes: Mapping[str, str] | None = None,
    environment: Mapping[str, str] | None = None,
    approot_ok: bool = True,
) -> Service:
    return make_service(
        type=type,
        approot=approot,
        line=2,
        environment=environment or {},
        process=process,
        processes=processes or {},
        approot_ok=approot_ok,
    )


def make_app(root: Path, files: Mapping[str, str | bytes], *services: Service) -> App:
    write_files(root, files)
    return App(
        root=root,
        files=tuple(list_app_files(root)),
        services=services or (service(),),
    )


def check(root: Path, conf: str | bytes, **extra: str) -> list[Finding]:
    """Findings for an app at the root with this supervisord.conf and a server.js."""
    return check_supervisor(make_app(root, {"supervisord.conf": conf, "server.js": "", **extra}))


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def test_rules_are_documented() -> None:
    slugs = [rule.slug for rule in RULES]
    assert slugs == [
        "supervisord-missing",
        "supervisord-syntax",
        "supervisord-missing-program",
        "supervisord-directory",
        "supervisord-command-missing-file",
        "supervisord-percent",
    ]
    for rule in RULES:
        assert rule.category == "supervisor"
        assert "\n" not in rule.summary
        assert len(rule.explanation) > 150
        assert rule.bad.split(":\n")[0].endswith(("supervisord.conf", ".js"))
        assert rule.good.startswith("Gear1/supervisord.conf:\n")


def test_rule_examples_behave_as_documented(tmp_path: Path) -> None:
    for rule in RULES:
        for example, should_fire in ((rule.bad, True), (rule.good, False)):
            root = tmp_path / f"{rule.slug}-{should_fire}"
            path, content = example.split(":\n", 1)
            app = make_app(root, {path: content, "Gear1/server.js": ""}, service("Gear1"))
            fired = {f.rule for f in check_supervisor(app)}
            assert (rule.slug in fired) is should_fire, (rule.slug, example, fired)


# --- supervisord-missing ---------------------------------------------------------------


def test_missing_file_and_no_process(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"Gear1/app.js": ""}, service("Gear1"))
    f = only(check_supervisor(app))
    assert f == Finding(
        rule="supervisord-missing",
        severity="error",
        path="Gear1/supervisord.conf",
        line=None,
        column=None,
        message="service www (type nodejs) has no Gear1/supervisord.conf and no process or "
        "processes in dotcloud.yml, so nothing would start it",
        fix="create Gear1/supervisord.conf with:\n[program:node]\ncommand = node app.js\n"
        "directory = /home/dotcloud/current\n(or add `process: node app.js` to the service in "
        "dotcloud.yml)",
    )


def test_ignored_file_counts_as_missing(tmp_path: Path) -> None:
    app = make_app(tmp_path, {".gitignore": "*.conf\n", "supervisord.conf": GOOD, "server.js": ""})
    f = only(check_supervisor(app))
    assert (f.rule, f.path) == ("supervisord-missing", "supervisord.conf")
    assert f.message == (
        "supervisord.conf is ignored by .gitignore or .dotcloudignore, so push leaves it out; "
        "service www has no process or processes in dotcloud.yml, so nothing would start it"
    )


@pytest.mark.parametrize(
    "svc",
    [
        service(process="node server.js"),
        service(processes={"web": "node server.js"}),
        service(type="python"),
        service(approot_ok=False),
    ],
)
def test_missing_file_is_fine(tmp_path: Path, svc: Service) -> None:
    assert check_supervisor(make_app(tmp_path, {"server.js": ""}, svc)) == []


def test_present_file_passes(tmp_path: Path) -> None:
    assert check(tmp_path, GOOD) == []


def test_one_check_per_approot(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"x.js": ""}, service(), service())
    assert len(check_supervisor(app)) == 1


# --- supervisord-syntax ----------------------------------------------------------------


def test_line_before_any_section(tmp_path: Path) -> None:
    f = only(check(tmp_path, "; header\ncommand = node server.js\n[program:node]\n"))
    assert (f.rule, f.severity, f.line, f.column) == ("supervisord-syntax", "error", 2, None)
    assert f.message == "line 2 comes before any [section] header, so supervisord rejects the file"


def test_lines_that_are_not_settings(tmp_path: Path) -> None:
    text = "[program:node]\ncommand = node server.js\njust words\ndirectory = /home/dotcloud/current\n[\n"
    findings = check(tmp_path, text)
    assert [(f.rule, f.line) for f in findings] == [
        ("supervisord-syntax", 3),
        ("supervisord-syntax", 5),
    ]
    assert findings[0].message == (
        "line 3 is neither a [section] header, a `key = value` setting nor a comment"
    )


def test_bad_value_is_reported_at_its_key(tmp_path: Path) -> None:
    text = GOOD + "autostart = true\nstartsecs = soon\n"
    f = only(check(tmp_path, text))
    assert (f.rule, f.line, f.column) == ("supervisord-syntax", 5, None)
    assert f.message == "[program:node] startsecs: 'soon' is not a whole number"
    assert f.fix == "write a whole number"


@pytest.mark.parametrize(
    ("setting", "line", "message"),
    [
        ("stopsignal = NAP", 4, "[program:node] stopsignal: 'NAP' is not a signal name"),
        (
            "autorestart = sometimes",
            4,
            "[program:node] autorestart: 'sometimes' is not true, false or unexpected",
        ),
        (
            "redirect_stderr = maybe",
            4,
            "[program:node] redirect_stderr: 'maybe' is not true or false",
        ),
        (
            "environment = NODE_ENV",
            4,
            "[program:node] environment: 'NODE_ENV' is not a list of KEY=\"value\" pairs",
        ),
        (
            "numprocs = 3",
            4,
            "[program:node] numprocs: more than one process needs a process_name with "
            "%(process_num)s in it, to tell the processes apart",
        ),
        (
            "priority = %(process_num)s",
            4,
            "[program:node] priority: %(process_num)s cannot be expanded in this setting "
            "(available here: group_name, here, host_node_name, program_name, ENV_<VARIABLE>)",
        ),
    ],
)
def test_values_supervisor_rejects(tmp_path: Path, setting: str, line: int, message: str) -> None:
    f = only(check(tmp_path, GOOD + setting + "\n"))
    assert (f.rule, f.line, f.message) == ("supervisord-syntax", line, message)


def test_program_without_command(tmp_path: Path) -> None:
    f = only(check(tmp_path, "[program:node]\ndirectory = /home/dotcloud/current\n"))
    assert (f.rule, f.line) == ("supervisord-syntax", 1)
    assert (
        f.message == "[program:node]: there is no command line, so supervisord has nothing to start"
    )


def test_bad_program_name(tmp_path: Path) -> None:
    f = only(check(tmp_path, GOOD.replace("program:node", "program:my app")))
    assert (f.rule, f.line) == ("supervisord-syntax", 1)
    assert f.message == (
        "[program:my app]: the name 'my app' contains ' ', which supervisord does not allow in names"
    )


def test_unbalanced_quote_in_command(tmp_path: Path) -> None:
    f = only(check(tmp_path, GOOD.replace("server.js", "'server.js")))
    assert (f.rule, f.line) == ("supervisord-syntax", 2)
    assert f.message == "[program:node] command: cannot be split into words (no closing quotation)"


def test_not_utf8(tmp_path: Path) -> None:
    f = only(check(tmp_path, b"[program:node]\ncommand = node caf\xe9.js\n"))
    assert (f.rule, f.line, f.column) == ("supervisord-syntax", 2, 19)
    assert f.message == (
        "is not UTF-8 text (byte 0xe9 at line 2, column 19), so supervisord cannot read it reliably"
    )


def test_binary_file(tmp_path: Path) -> None:
    f = only(check(tmp_path, b"\x7fELF\x02\x01\x00\x00"))
    assert (f.rule, f.line) == ("supervisord-syntax", None)
    assert f.message == "is a binary file (it holds NUL bytes), not a text configuration"


def test_byte_order_mark(tmp_path: Path) -> None:
    f = only(check(tmp_path, "\ufeff" + GOOD))
    assert (f.rule, f.line, f.column) == ("supervisord-syntax", 1, 1)


def test_huge_file(tmp_path: Path) -> None:
    f = only(check(tmp_path, b";" * (2 << 20)))
    assert f.rule == "supervisord-syntax"
    assert f.message.startswith("is 2.0 MiB, far too large for a supervisord.conf")


def test_settings_from_default_section_are_checked(tmp_path: Path) -> None:
    f = only(check(tmp_path, "[DEFAULT]\nstartsecs = x\n" + GOOD))
    assert (f.rule, f.line) == ("supervisord-syntax", 2)


def test_host_dependent_settings_are_not_errors(tmp_path: Path) -> None:
    text = GOOD + (
        "user = dotcloud\n"
        "stdout_logfile = /var/log/supervisor/%(program_name)s.log\n"
        "stderr_logfile = /nowhere/at/all/err.log\n"
        'environment = NODE_ENV="production",HOME="%(ENV_HOME)s",X="%(ENV_DOTCLOUD_DB_URL)s"\n'
        "numprocs = 100000000000\n"
        "startsecs = %(ENV_STARTSECS)s\n"
        "process_name = %(program_name)s_%(process_num)02d\n"
    )
    assert check(tmp_path, text) == []


# --- supervisord-missing-program -------------------------------------------------------


def test_no_program_section(tmp_path: Path) -> None:
    f = only(check(tmp_path, "[supervisord]\nloglevel = info\n[group:x]\nprograms = a\n"))
    assert f == Finding(
        rule="supervisord-missing-program",
        severity="error",
        path="supervisord.conf",
        line=None,
        column=None,
        message="defines no [program:...] section, so supervisord starts nothing",
        fix="add a program section:\n[program:node]\ncommand = node server.js\n"
        "directory = /home/dotcloud/current\n",
    )


@pytest.mark.parametrize("text", ["", "\n\n", "; only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    f = only(check(tmp_path, text))
    assert f.rule == "supervisord-missing-program"
    assert f.message == "is empty: it defines no [program:...] section, so nothing is started"


def test_other_sections_are_allowed(tmp_path: Path) -> None:
    text = "[supervisorctl]\nserverurl = unix:///var/dotcloud/supervisor.sock\n" + GOOD
    text += "[include]\nfiles = %(here)s/more/*.conf\n"
    assert check(tmp_path, text) == []


# --- supervisord-directory -------------------------------------------------------------


def test_directory_missing(tmp_path: Path) -> None:
    f = only(check(tmp_path, "; web\n[program:node]\ncommand = node server.js\n"))
    assert f == Finding(
        rule="supervisord-directory",
        severity="warning",
        path="supervisord.conf",
        line=2,
        column=None,
        message="[program:node] sets no directory, so it starts in supervisord's own folder and "
        "relative paths miss the approot, which is mapped to /home/dotcloud/current",
        fix="add `directory = /home/dotcloud/current` to [program:node]",
    )


def test_directory_elsewhere(tmp_path: Path) -> None:
    text = "[program:node]\ncommand = node /home/dotcloud/current/server.js\ndirectory = /srv/app\n"
    f = only(check(tmp_path, text))
    assert (f.rule, f.severity, f.line) == ("supervisord-directory", "warning", 3)
    assert f.message == (
        "[program:node] runs in /srv/app, but the approot is mapped to /home/dotcloud/current"
    )
    assert f.fix == "set `directory = /home/dotcloud/current` in [program:node]"


@pytest.mark.parametrize(
    "directory", ["/home/dotcloud/current", "/home/dotcloud/current/", "%(here)s"]
)
def test_directory_current(tmp_path: Path, directory: str) -> None:
    text = f"[program:node]\ncommand = node server.js\ndirectory = {directory}\n"
    assert check(tmp_path, text) == []


def test_subfolder_of_current_is_fine(tmp_path: Path) -> None:
    text = "[program:node]\ncommand = node app.js\ndirectory = /home/dotcloud/current/src\n"
    assert check(tmp_path, text, **{"src/app.js": ""}) == []


# --- supervisord-command-missing-file --------------------------------------------------


def test_command_script_missing(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {"Gear1/supervisord.conf": GOOD.replace("server.js", "app.js"), "Gear1/server.js": ""},
        service("Gear1"),
    )
    f = only(check_supervisor(app))
    assert f == Finding(
        rule="supervisord-command-missing-file",
        severity="error",
        path="Gear1/supervisord.conf",
        line=2,
        column=None,
        message="[program:node] command runs app.js, but Gear1/app.js does not exist",
        fix="point the command at the script that starts the app, relative to the approot, "
        "e.g. `command = node server.js`",
    )


def test_command_script_ignored(tmp_path: Path) -> None:
    f = only(
        check(
            tmp_path,
            GOOD.replace("server.js", "dist/app.js"),
            **{".gitignore": "dist/\n", "dist/app.js": ""},
        )
    )
    assert f.rule == "supervisord-command-missing-file"
    assert f.message == (
        "[program:node] command runs dist/app.js, but dist/app.js is ignored by .gitignore or "
        ".dotcloudignore, so push leaves it out"
    )


def test_relative_program_missing(tmp_path: Path) -> None:
    f = only(check(tmp_path, GOOD.replace("node server.js", "./bin/start --fast")))
    assert (f.rule, f.line) == ("supervisord-command-missing-file", 2)
    assert f.message == "[program:node] command runs ./bin/start, but bin/start does not exist"


@pytest.mark.parametrize(
    ("command", "files"),
    [
        ("node server.js", {}),
        ("node server", {}),
        ("nodejs --harmony server.js 8080", {}),
        ("node lib", {"lib/index.js": ""}),
        ("node -r dotenv/config server.js", {}),
        ("/usr/bin/env NODE_ENV=production node server.js", {}),
        ("node /home/dotcloud/current/server.js", {}),
        ("node /opt/elsewhere/x.js", {}),
        ("node node_modules/.bin/coffee app.coffee", {}),
        ("node -e 'require(1)'", {}),
        ("./run", {"run": ""}),
        ("npm start", {}),
        ("/bin/sh -c 'node app.js'", {}),
        ("node %(ENV_APP_SCRIPT)s", {}),
        ("node '%(program_name)s.js'", {"node.js": ""}),
    ],
)
def test_command_file_found_or_skipped(tmp_path: Path, command: str, files: dict[str, str]) -> None:
    text = f"[program:node]\ncommand = {command}\ndirectory = /home/dotcloud/current\n"
    assert check(tmp_path, text, **files) == []


def test_command_uses_service_environment(tmp_path: Path) -> None:
    text = "[program:node]\ncommand = node %(ENV_MAIN)s\ndirectory = /home/dotcloud/current\n"
    app = make_app(tmp_path, {"supervisord.conf": text}, service(environment={"MAIN": "main.js"}))
    f = only(check_supervisor(app))
    assert f.message == "[program:node] command runs main.js, but main.js does not exist"


@pytest.mark.parametrize(
    ("argv", "script"),
    [
        (["node", "x.js"], ("x.js", True)),
        (["node", "--harmony", "--", "-odd.js"], ("-odd.js", True)),
        (["node", "--require", "a", "b.js"], ("b.js", True)),
        (["node"], None),
        (["node", "-p", "1"], None),
        (["bin/run"], ("bin/run", False)),
        (["env"], None),
        ([], None),
        (["python", "x.py"], None),
    ],
)
def test_command_script(argv: list[str], script: tuple[str, bool] | None) -> None:
    found = command_script(argv)
    assert (tuple(found) if found else None) == script


# --- supervisord-percent ---------------------------------------------------------------


def test_lone_percent(tmp_path: Path) -> None:
    text = (
        "[program:node]\ncommand = node server.js --quota 80%\ndirectory = /home/dotcloud/current\n"
    )
    f = only(check(tmp_path, text))
    assert f == Finding(
        rule="supervisord-percent",
        severity="error",
        path="supervisord.conf",
        line=2,
        column=36,
        message="a lone % in the value of command in [program:node] starts an expansion "
        "supervisord cannot make",
        fix="write %% for a literal percent sign: command = node server.js --quota 80%%",
    )


def test_unknown_expansion_name(tmp_path: Path) -> None:
    text = "[program:node]\ncommand=node server.js %(port)s\ndirectory = /home/dotcloud/current\n"
    f = only(check(tmp_path, text))
    assert (f.rule, f.line, f.column) == ("supervisord-percent", 2, 24)
    assert f.message == (
        "%(port)s in the value of command in [program:node] names 'port', which supervisord "
        "cannot expand (it knows here, program_name, host_node_name, group_name, process_num, "
        "numprocs and ENV_<VARIABLE>)"
    )


def test_percent_in_continuation_line_and_other_sections(tmp_path: Path) -> None:
    text = (
        "[supervisord]\n"
        "logfile = /tmp/50%.log ; a comment with 100% is fine\n"
        "[program:node]\n"
        "command = node server.js\n"
        "directory = /home/dotcloud/current\n"
        'environment = A="1",\n'
        '    B="%(x"\n'
    )
    findings = check(tmp_path, text)
    assert [(f.rule, f.line, f.column) for f in findings] == [
        ("supervisord-percent", 2, 18),
        ("supervisord-percent", 7, 8),
    ]
    assert findings[1].message == (
        "'%(x\"' in the value of environment in [program:node] is not a complete expansion "
        "(supervisord expects %(name)s)"
    )
    assert findings[1].fix == 'write %% for a literal percent sign: B="%%(x"'


@pytest.mark.parametrize(
    "value",
    ["100%%", "%(program_name)s", "%(process_num)02d", "%(ENV_PORT)s", "%%(here)s", "no percent"],
)
def test_percent_allowed(value: str) -> None:
    assert bad_percents(value) == []


@pytest.mark.parametrize(
    ("value", "at"),
    [("50%", [2]), ("%s", [0]), ("%(here)", [0]), ("a%%%b", [3]), ("%(x)s %", [0, 6])],
)
def test_percent_rejected(value: str, at: list[int]) -> None:
    assert [b.at for b in bad_percents(value)] == at


def test_percent_is_not_also_a_syntax_error(tmp_path: Path) -> None:
    findings = check(tmp_path, GOOD + "stdout_logfile = /var/log/%(nope)s.log\n")
    assert [f.rule for f in findings] == ["supervisord-percent"]


# --- where things are ------------------------------------------------------------------


def test_layout_follows_configparser() -> None:
    text = (
        "; comment\n"
        "[program:a]\n"
        "command = node x.js ; trailing\n"
        'environment = A="1",\n'
        "\n"
        "  ; a comment inside a value\n"
        '  B="2"\n'
        "Directory: /x\n"
        "[program:a]\n"
        "command=node y.js\n"
    )
    layout = scan_layout(text)
    assert layout.sections == {"program:a": 2}
    assert layout.keys == {
        ("program:a", "command"): 10,
        ("program:a", "environment"): 4,
        ("program:a", "directory"): 8,
    }
    assert [(p.line, p.offset, p.text, p.continued) for p in layout.pieces] == [
        (3, 10, "node x.js", False),
        (4, 14, 'A="1",', False),
        (7, 2, 'B="2"', True),
        (8, 11, "/x", False),
        (10, 8, "node y.js", False),
    ]


# --- the kit's own output, and anything at all -----------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            min_size=1,
            max_size=12,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_rendered_files_pass(tmp_path_factory: pytest.TempPathFactory, args: list[str]) -> None:
    try:
        text, _ = render_supervisord(("node", "server.js", *args), source="Gear1/.torque")
    except UncarriableValue:
        return
    root = tmp_path_factory.mktemp("rendered")
    assert check(root, text) == []


_INI_LINES = st.one_of(
    st.sampled_from(
        [
            "[program:node]",
            "[program:w]",
            "[supervisord]",
            "[DEFAULT]",
            "[program:]",
            "[",
            "command = node server.js",
            "command = ./run",
            "command = node 'x",
            "directory = /home/dotcloud/current",
            "directory=/srv",
            "numprocs = 2",
            "numprocs = 99999999999999999999",
            "numprocs = -1",
            "process_name = %(program_name)s_%(process_num)s",
            'environment = A="1"',
            "stopsignal = QUIT",
            "user = nobody-at-all",
            "exitcodes = 0,2",
            "umask = 999",
            "  continued",
            "; comment",
            "= novalue",
            "",
        ]
    ),
    st.text(alphabet=st.sampled_from("[]=:;#% ()sdab\t\\\"'x\r\x0b"), max_size=30),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_INI_LINES, max_size=12))
def test_random_ini_never_raises(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    root = tmp_path_factory.mktemp("ini")
    for finding in check(root, "\n".join(lines)):
        assert finding.rule.startswith("supervisord-")
        assert finding.line is None or finding.line >= 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_random_bytes_never_raise(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    root = tmp_path_factory.mktemp("bytes")
    for finding in check(root, data):
        assert finding.rule.startswith("supervisord-")
