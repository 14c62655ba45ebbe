"""Checks of each nodejs service's ``supervisord.conf``.

The file is read with supervisor's own code: its ``UnhosedConfigParser`` for
the INI layer and ``ServerOptions.processes_from_section`` for each
``[program:x]``, so what passes here is what supervisord itself accepts.
configparser keeps no line numbers, so :func:`scan_layout` walks the raw text
the way configparser does and maps every section and key to its line.

Before supervisor sees the file, a validation copy is made host-independent:
``user`` (resolved against this machine's accounts) is dropped, log files become
``AUTO`` (supervisor checks that their folder exists *here*), ``numprocs`` is
capped (supervisor builds every process config up front), ``ENV_x`` names the
platform would know are filled in, and stray ``%`` signs are escaped once they
have been reported with their line and column.
"""

import configparser
import posixpath
import re
import shlex
from collections.abc import Iterator
from typing import Any, NamedTuple

from kit.findings import Finding
from kit.platform.facts import CURRENT, HOME, SUPERVISORD_FILE, USER
from kit.platform.model import Service
from kit.verify.model import Rule, Target, disk_of

MAX_BYTES = 1 << 20  # a real supervisord.conf is a few hundred bytes
CATEGORY = "supervisor"
_BOILERPLATE = "[program:node]\ncommand = node {script}\ndirectory = /home/dotcloud/current\n"

MISSING = Rule(
    "supervisord-missing",
    "error",
    CATEGORY,
    "A nodejs service has no supervisord.conf and no process in dotcloud.yml.",
    "On dotCloud, supervisord starts the processes of a code service. A nodejs service says what "
    "to start either with a supervisord.conf in its approot or with `process:`/`processes:` in "
    "dotcloud.yml. With neither, the push builds and deploys the code but nothing ever runs it, so "
    "every request fails. The three-line file below is all most apps need.",
    bad="Gear1/server.js:\nrequire('http').createServer(app).listen(8080);",
    good="Gear1/supervisord.conf:\n" + _BOILERPLATE.format(script="server.js"),
)
SYNTAX = Rule(
    "supervisord-syntax",
    "error",
    CATEGORY,
    "supervisord.conf cannot be read by supervisord.",
    "supervisord reads the approot's supervisord.conf when the service starts. If the file is not "
    "valid INI text, or a program setting has a value of the wrong kind (a word where a number "
    "belongs, an unknown signal name), supervisord refuses the whole file and the service never "
    "starts. The kit reads the file with supervisor's own parser and reports what it rejects.",
    bad="Gear1/supervisord.conf:\n[program:node]\ncommand = node server.js\nstartsecs = soon\n",
    good="Gear1/supervisord.conf:\n[program:node]\ncommand = node server.js\nstartsecs = 5\n",
)
MISSING_PROGRAM = Rule(
    "supervisord-missing-program",
    "error",
    CATEGORY,
    "supervisord.conf defines no [program:...] section.",
    "Only `[program:<name>]` sections make supervisord start something. A file with other sections "
    "only, or an empty one, is accepted and then starts nothing, so the service never answers. "
    "The name after `program:` is free; `node` is the usual choice.",
    bad="Gear1/supervisord.conf:\n[supervisord]\nloglevel = info\n",
    good="Gear1/supervisord.conf:\n" + _BOILERPLATE.format(script="server.js"),
)
DIRECTORY = Rule(
    "supervisord-directory",
    "warning",
    CATEGORY,
    "A program does not run in /home/dotcloud/current.",
    "The platform maps the service's approot to /home/dotcloud/current. A program without "
    "`directory = /home/dotcloud/current` starts in supervisord's own working folder, so a "
    "relative path in its command (`node server.js`) or in the code (`require('./lib')` is fine, "
    "but `fs.readFile('data.json')` is not) points somewhere else and the program fails.",
    bad="Gear1/supervisord.conf:\n[program:node]\ncommand = node server.js\n",
    good="Gear1/supervisord.conf:\n" + _BOILERPLATE.format(script="server.js"),
)
COMMAND_FILE = Rule(
    "supervisord-command-missing-file",
    "error",
    CATEGORY,
    "The command runs a script that is not in the approot.",
    "The command is run in /home/dotcloud/current, which is the service's approot. If the script "
    "it names (the file after `node`, or a `./program` itself) is not in the approot, or is left "
    "out of the upload by .gitignore, the program exits at once and supervisord gives up on it "
    "after a few retries. Check the spelling and that the path is relative to the approot.",
    bad="Gear1/supervisord.conf:\n[program:node]\ncommand = node app.js\n"
    "directory = /home/dotcloud/current\n",
    good="Gear1/supervisord.conf:\n" + _BOILERPLATE.format(script="server.js"),
)
PERCENT = Rule(
    "supervisord-percent",
    "error",
    CATEGORY,
    "A value holds a % that supervisord would try to expand.",
    "supervisord expands `%(name)s` in every value (`%(program_name)s`, `%(process_num)s`, "
    "`%(here)s`, `%(ENV_HOME)s` and a few more). Any other `%`, such as a percent sign in an "
    "argument or a URL-encoded character, makes it refuse the file and the service never starts. "
    "Write `%%` for a literal percent sign.",
    bad="Gear1/supervisord.conf:\n[program:node]\ncommand = node server.js --quota 80%\n"
    "directory = /home/dotcloud/current\n",
    good="Gear1/supervisord.conf:\n[program:node]\ncommand = node server.js --quota 80%%\n"
    "directory = /home/dotcloud/current\n",
)
RULES: tuple[Rule, ...] = (MISSING, SYNTAX, MISSING_PROGRAM, DIRECTORY, COMMAND_FILE, PERCENT)


def check_supervisor(app: Target) -> list[Finding]:
    """Findings for the supervisord.conf of every nodejs service."""
    files = frozenset(app.files)
    findings: list[Finding] = []
    seen: set[str] = set()
    for service in app.services:
        if service.type != "nodejs" or not service.approot_ok or service.approot in seen:
            continue
        seen.add(service.approot)
        findings.extend(_check_service(app, files, service))
    return findings


def _rel(approot: str, name: str) -> str:
    return name if approot in ("", ".") else f"{approot}/{name}"


def _check_service(app: Target, files: frozenset[str], service: Service) -> list[Finding]:
    path = _rel(service.approot, SUPERVISORD_FILE)
    if path not in files:
        if service.process or service.processes:
            return []
        return [_missing(app, files, service, path)]
    try:
        size, data = disk_of(app).read_limited(path, MAX_BYTES)
        if data is None:
            return [_too_big(path, size)]
    except OSError as exc:
        message = f"cannot be read: {exc.strerror or exc}"
        return [SYNTAX.finding(path, None, None, message, "make it a readable file")]
    return ConfCheck(app, files, service, path).run(data)


def _missing(app: Target, files: frozenset[str], service: Service, path: str) -> Finding:
    script = _guess_script(files, service.approot)
    fix = f"create {path} with:\n{_BOILERPLATE.format(script=script)}"
    fix += f"(or add `process: node {script}` to the service in dotcloud.yml)"
    if disk_of(app).is_file(path):
        message = (
            f"{path} is ignored by .gitignore or .dotcloudignore, so push leaves it out; service "
            f"{service.name} has no process or processes in dotcloud.yml, so nothing would start it"
        )
        fix = f"stop ignoring {path} in .gitignore or .dotcloudignore"
    else:
        message = (
            f"service {service.name} (type nodejs) has no {path} and no process or processes in "
            "dotcloud.yml, so nothing would start it"
        )
    return MISSING.finding(path, None, None, message, fix)


def _guess_script(files: frozenset[str], approot: str) -> str:
    for name in ("server.js", "app.js", "index.js", "main.js"):
        if _rel(approot, name) in files:
            return name
    return "server.js"


def _too_big(path: str, size: int) -> Finding:
    return SYNTAX.finding(
        path,
        None,
        None,
        f"is {size / (1 << 20):.1f} MiB, far too large for a supervisord.conf; it does not look "
        "like a configuration file",
        f"replace it with the usual three lines:\n{_BOILERPLATE.format(script='server.js')}",
    )


# --- where things are in the raw text ------------------------------------------------


_COMMENT_PREFIXES = ("#", ";")


class Piece(NamedTuple):
    """One line's part of a value: its text and where that text starts."""

    section: str
    key: str
    line: int
    offset: int  # 0-based index of ``text`` in the raw line
    text: str
    continued: bool  # a continuation line, not the ``key = value`` line


class Layout(NamedTuple):
    sections: dict[str, int]  # section name -> line of its first header
    keys: dict[tuple[str, str], int]  # (section, key) -> line of its last setting
    pieces: list[Piece]


def _comment_start(line: str) -> int | None:
    """Where configparser (as supervisor sets it up) cuts a comment off ``line``.

    A port of ``RawConfigParser._read``'s loop, quirks included: it looks at the
    next ``#`` and the next ``;`` in rounds and stops at the first round in which
    one of them follows whitespace.
    """
    if line.strip().startswith(_COMMENT_PREFIXES):
        return 0
    found: int | None = None
    indexes = dict.fromkeys(_COMMENT_PREFIXES, -1)
    while found is None and indexes:
        following: dict[str, int] = {}
        for prefix, index in indexes.items():
            index = line.find(prefix, index + 1)
            if index == -1:
                continue
            following[prefix] = index
            if index == 0 or line[index - 1].isspace():
                found = index if found is None else min(found, index)
        indexes = following
    return found


def scan_layout(text: str) -> Layout:
    """Lines of sections, keys and value pieces, found the way configparser reads them."""
    sectcre = configparser.RawConfigParser.SECTCRE
    optcre = configparser.RawConfigParser.OPTCRE
    nonspace = configparser.RawConfigParser.NONSPACECRE
    layout = Layout({}, {}, [])
    section: str | None = None
    key = ""
    indent = 0
    # configparser reads through io.StringIO, which splits lines at "\n" only.
    for lineno, line in enumerate(text.split("\n"), start=1):
        cut = _comment_start(line)
        raw = line if cut is None else line[:cut]
        value = raw.strip()
        if not value:
            continue  # blank and comment lines neither end nor start a value
        lead = len(raw) - len(raw.lstrip())
        first = nonspace.search(line)
        level = first.start() if first else 0
        if section is not None and key and level > indent:
            layout.pieces.append(Piece(section, key, lineno, lead, value, True))
            continue
        indent = level
        header = sectcre.match(value)
        if header:
            section, key = header.group("header"), ""
            layout.sections.setdefault(section, lineno)
        elif section is None:
            break  # configparser stops here too (missing section header)
        else:
            option = optcre.match(value)
            if option:  # a line that is not an option keeps the previous key, as configparser does
                key = option.group("option").rstrip().lower()
                layout.keys[(section, key)] = lineno
                start = lead + option.start("value")
                text = option.group("value")
                layout.pieces.append(Piece(section, key, lineno, start, text, False))
    return layout


# --- % signs ---------------------------------------------------------------------------

_PERCENT = re.compile(
    r"%(?:%|\((?P<name>[^()]*)(?P<close>\))?"
    r"(?P<conv>[#0 +\-]*\d*(?:\.\d+)?[hlL]?[diouxXeEfFgGcrsa])?)?"
)
_KNOWN_NAMES = ("here", "program_name", "host_node_name", "group_name", "process_num", "numprocs")


class BadPercent(NamedTuple):
    at: int
    text: str  # the offending expansion as written
    name: str | None  # the name inside %(...)s when it is well-formed but unknown


def bad_percents(value: str) -> list[BadPercent]:
    """Each ``%`` in ``value`` that supervisord's expansion would reject."""
    bad: list[BadPercent] = []
    for match in _PERCENT.finditer(value):
        text, name = match.group(), match.group("name")
        if text == "%%":
            continue
        if name is not None and match.group("close") and match.group("conv"):
            if name in _KNOWN_NAMES or name.startswith("ENV_"):
                continue
            bad.append(BadPercent(match.start(), text, name))
        else:
            bad.append(BadPercent(match.start(), text, None))
    return bad


def escape_bad_percents(value: str) -> str:
    out = value
    for item in reversed(bad_percents(value)):
        out = out[: item.at] + "%" + out[item.at :]
    return out


def _percent_findings(path: str, layout: Layout) -> list[Finding]:
    findings = []
    for piece in layout.pieces:
        for item in bad_percents(piece.text):
            findings.append(_percent_finding(path, piece, item))
    return findings


def _percent_finding(path: str, piece: Piece, item: BadPercent) -> Finding:
    where = f"the value of {piece.key} in [{piece.section}]"
    if item.name is not None:
        message = (
            f"{item.text} in {where} names {item.name!r}, which supervisord cannot expand "
            f"(it knows {', '.join(_KNOWN_NAMES)} and ENV_<VARIABLE>)"
        )
    elif item.text == "%":
        message = f"a lone % in {where} starts an expansion supervisord cannot make"
    else:
        message = (
            f"{item.text!r} in {where} is not a complete expansion (supervisord expects %(name)s)"
        )
    fixed = escape_bad_percents(piece.text)
    shown = fixed if piece.continued else f"{piece.key} = {fixed}"
    fix = f"write %% for a literal percent sign: {shown}"
    column = piece.offset + item.at + 1
    return PERCENT.finding(path, piece.line, column, message, fix)


# --- reading one file ------------------------------------------------------------------


class ConfCheck:
    """All checks of one supervisord.conf; :meth:`run` returns its findings."""

    def __init__(self, app: Target, files: frozenset[str], service: Service, path: str) -> None:
        self.app = app
        self.files = files
        self.service = service
        self.path = path
        self.layout = Layout({}, {}, [])

    def run(self, data: bytes) -> list[Finding]:
        text = self._decode(data)
        if isinstance(text, Finding):
            return [text]
        parser, problems = self._parse(text)
        if parser is None:
            return problems
        self.layout = scan_layout(text)
        findings = _percent_findings(self.path, self.layout)
        programs = [s for s in parser.sections() if s.startswith("program:")]
        if not programs:
            findings.append(self._no_program())
        for section in programs:
            findings.extend(self._check_program(parser, section))
        return findings

    def _decode(self, data: bytes) -> str | Finding:
        if b"\x00" in data:
            return SYNTAX.finding(
                self.path,
                None,
                None,
                "is a binary file (it holds NUL bytes), not a text configuration",
                "replace it with a plain-text file:\n" + _BOILERPLATE.format(script="server.js"),
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            return SYNTAX.finding(
                self.path,
                line,
                column,
                f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}, column "
                f"{column}), so supervisord cannot read it reliably",
                "save the file as UTF-8 plain text",
            )
        if text.startswith("\ufeff"):
            return SYNTAX.finding(
                self.path,
                1,
                1,
                "starts with a byte-order mark, which supervisord reads as text before the first "
                "[section] header and rejects",
                "save the file as UTF-8 without a byte-order mark (BOM)",
            )
        return text

    def _parse(self, text: str) -> tuple[Any, list[Finding]]:
        from supervisor.options import UnhosedConfigParser

        parser = UnhosedConfigParser()
        try:
            parser.read_string(text)
        except configparser.MissingSectionHeaderError as exc:
            return None, [self._before_header(exc.lineno)]
        except configparser.ParsingError as exc:
            return None, [self._bad_line(lineno) for lineno, _ in exc.errors]
        except configparser.Error as exc:
            return None, [SYNTAX.finding(self.path, None, None, exc.message, "")]
        return parser, []

    def _before_header(self, line: int) -> Finding:
        return SYNTAX.finding(
            self.path,
            line,
            None,
            f"line {line} comes before any [section] header, so supervisord rejects the file",
            "start the file with a section header such as [program:node], or remove the line",
        )

    def _bad_line(self, line: int) -> Finding:
        return SYNTAX.finding(
            self.path,
            line,
            None,
            f"line {line} is neither a [section] header, a `key = value` setting nor a comment",
            "write it as `key = value` (indent it to continue the previous value), or start it "
            "with ; to make it a comment",
        )

    def _no_program(self) -> Finding:
        if not self.layout.sections and not self.layout.keys:
            message = "is empty: it defines no [program:...] section, so nothing is started"
        else:
            message = "defines no [program:...] section, so supervisord starts nothing"
        fix = "add a program section:\n" + _BOILERPLATE.format(
            script=_guess_script(self.files, self.service.approot)
        )
        return MISSING_PROGRAM.finding(self.path, None, None, message, fix)

    # --- one [program:x] ---------------------------------------------------------------

    def _line(self, section: str, key: str | None) -> int | None:
        if key is not None:
            for owner in (section, "DEFAULT"):
                if (owner, key) in self.layout.keys:
                    return self.layout.keys[(owner, key)]
        return self.layout.sections.get(section)

    def _check_program(self, parser: Any, section: str) -> list[Finding]:
        config, error = _program_config(parser, section, self.service)
        if error is not None and _UNKNOWN_ENV in str(error):
            return []  # a value made of variables only the platform knows
        if error is not None:
            return [self._rejected(parser, section, error)]
        if config is None:
            return []  # numprocs = 0: supervisord starts no process for it
        findings: list[Finding] = []
        directory = config.directory
        problem = self._directory_problem(section, directory)
        if problem is not None:
            findings.append(problem)
        findings.extend(self._command_problems(section, config.command, directory))
        return findings

    def _rejected(self, parser: Any, section: str, error: ValueError) -> Finding:
        detail = _SUFFIX.sub("", str(error))
        key = _failed_key(parser, section, detail)
        plain, fix = plain_supervisor_message(detail)
        where = f"[{section}] {key}" if key else f"[{section}]"
        return SYNTAX.finding(self.path, self._line(section, key), None, f"{where}: {plain}", fix)

    def _directory_problem(self, section: str, directory: str | None) -> Finding | None:
        fix = f"set `directory = {CURRENT}` in [{section}]"
        if directory is None:
            return DIRECTORY.finding(
                self.path,
                self._line(section, None),
                None,
                f"[{section}] sets no directory, so it starts in supervisord's own folder and "
                f"relative paths miss the approot, which is mapped to {CURRENT}",
                f"add `directory = {CURRENT}` to [{section}]",
            )
        if _UNKNOWN_ENV not in directory and _under_current(directory) is None:
            return DIRECTORY.finding(
                self.path,
                self._line(section, "directory"),
                None,
                f"[{section}] runs in {directory}, but the approot is mapped to {CURRENT}",
                fix,
            )
        return None

    def _command_problems(self, section: str, command: str, directory: str | None) -> list[Finding]:
        if _UNKNOWN_ENV in command or (directory and _UNKNOWN_ENV in directory):
            return []  # the command depends on a variable only the platform knows
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            message = f"[{section}] command: cannot be split into words ({str(exc).lower()})"
            fix = "close the quotation mark, or escape it with a backslash"
            return [SYNTAX.finding(self.path, self._line(section, "command"), None, message, fix)]
        script = command_script(argv)
        if script is None:
            return []
        rel = _approot_path(script.path, directory)
        if not rel or rel.split("/")[0] == "node_modules":
            return []  # outside the approot, or installed by npm during the build
        return self._script_problems(section, script, rel)

    def _script_problems(self, section: str, script: "Script", rel: str) -> list[Finding]:
        candidates = [rel]
        if script.by_node:  # node tries these when the name has no extension
            candidates += [rel + ext for ext in (".js", ".json", ".node")]
            candidates += [f"{rel}/index.js", f"{rel}/package.json"]
        approot = self.service.approot
        paths = [_rel(approot, c) for c in candidates]
        if any(p in self.files for p in paths):
            return []
        shown = paths[0]
        if disk_of(self.app).exists(shown):
            message = (
                f"[{section}] command runs {script.path}, but {shown} is ignored by .gitignore or "
                ".dotcloudignore, so push leaves it out"
            )
            fix = f"stop ignoring {shown} in .gitignore or .dotcloudignore"
        else:
            message = f"[{section}] command runs {script.path}, but {shown} does not exist"
            fix = (
                "point the command at the script that starts the app, relative to the approot, "
                f"e.g. `command = node {_guess_script(self.files, approot)}`"
            )
        line = self._line(section, "command")
        return [COMMAND_FILE.finding(self.path, line, None, message, fix)]


# --- supervisor's view of one program ----------------------------------------------------

_SUFFIX = re.compile(r" in section '[^\n]*' \(file: [^\n]*\)$")
_UNKNOWN_ENV = "{dotkit-unknown-variable}"  # survives repr() in supervisor's messages
# supervisor checks that a log file's folder exists on *this* machine, and expands the
# value twice; the raw-text % check covers these values instead.
_LOGFILES = ("stdout_logfile", "stderr_logfile")
_MAX_CHECKED_PROCS = 2
# The environment supervisord has on the platform, as far as the kit can know it.
_PLATFORM_ENV = {"HOME": HOME, "USER": USER, "LOGNAME": USER}


def _program_config(parser: Any, section: str, service: Service) -> tuple[Any, ValueError | None]:
    """supervisor's config of the first process of ``section``, or the error it raised."""
    from supervisor.options import ServerOptions

    _make_host_independent(parser, section)
    options = ServerOptions()
    options.here = CURRENT
    options.configfile = SUPERVISORD_FILE
    options.environ_expansions = _environ_expansions(parser, service)
    parser.expansions = options.environ_expansions  # as supervisord's process_config does
    name = section.split(":", 1)[1]
    try:
        configs = options.processes_from_section(parser, section, name)
    except ValueError as exc:
        return None, exc
    return (configs[0] if configs else None), None


def _make_host_independent(parser: Any, section: str) -> None:
    from supervisor.datatypes import integer

    for key, value in parser.items(section):
        parser.set(section, key, escape_bad_percents(value))
    if parser.has_option(section, "user"):
        parser.remove_option(section, "user")
    for key in _LOGFILES:
        if parser.has_option(section, key):
            parser.set(section, key, "AUTO")
    if parser.has_option(section, "numprocs"):
        try:
            numprocs = integer(parser.get(section, "numprocs"))
        except ValueError:
            return  # supervisor reports it
        parser.set(section, "numprocs", str(min(numprocs, _MAX_CHECKED_PROCS)))


def _environ_expansions(parser: Any, service: Service) -> dict[str, str]:
    """``ENV_x`` names: the platform's, the service's, and a marker for any other one used."""
    env = {f"ENV_{k}": v for k, v in _PLATFORM_ENV.items()}
    env.update({f"ENV_{k}": v for k, v in service.environment.items()})
    for section in parser.sections():
        for _, value in parser.items(section):
            for name in re.findall(r"%\((ENV_[^()]*)\)", value):
                env.setdefault(name, _UNKNOWN_ENV)
    return env


def _failed_key(parser: Any, section: str, detail: str) -> str | None:
    """The setting that made supervisor raise ``detail``, found with its own converters."""
    from supervisor import datatypes

    named = re.match(r"Format string .* for '(?:[^']*\.)?([^'.]*)'", detail)
    if named:
        return named.group(1)
    if "must be present within process_name" in detail:
        return "numprocs"
    if detail.startswith("Cannot set stopasgroup"):
        return "stopasgroup"
    for key, converter_name in _CONVERTERS.items():
        if not parser.has_option(section, key):
            continue
        try:
            getattr(datatypes, converter_name)(parser.get(section, key))
        except ValueError as exc:
            if str(exc) == detail:
                return key
    return None


_CONVERTER_KEYS = (
    ("integer", "priority startsecs startretries stopwaitsecs numprocs numprocs_start"),
    ("integer", "stdout_logfile_backups stderr_logfile_backups"),
    ("boolean", "autostart stopasgroup killasgroup redirect_stderr stdout_syslog stderr_syslog"),
    ("boolean", "stdout_events_enabled stderr_events_enabled"),
    ("byte_size", "stdout_capture_maxbytes stderr_capture_maxbytes"),
    ("byte_size", "stdout_logfile_maxbytes stderr_logfile_maxbytes"),
    ("auto_restart", "autorestart"),
    ("signal_number", "stopsignal"),
    ("list_of_exitcodes", "exitcodes"),
    ("octal_type", "umask"),
    ("dict_of_key_value_pairs", "environment"),
    ("process_or_group_name", "process_name"),
)
# The supervisor.datatypes converter that _processes_from_section applies to each key.
_CONVERTERS = {key: name for name, keys in _CONVERTER_KEYS for key in keys.split()}

_PLAIN: tuple[tuple[str, str, str], ...] = (
    (
        r"invalid literal for int\(\) with base 10: (?P<v>.*)",
        "{v} is not a whole number",
        "write a whole number",
    ),
    (
        r"not a valid boolean value: (?P<v>.*)",
        "{v} is not true or false",
        "write true or false",
    ),
    (
        r"invalid 'autorestart' value (?P<v>.*)",
        "{v} is not true, false or unexpected",
        "write true, false or unexpected",
    ),
    (
        r"value (?P<v>.*) is not a valid signal (?:name|number)",
        "{v} is not a signal name",
        "write a signal name such as TERM, INT, QUIT, HUP or KILL",
    ),
    (
        r"not a valid list of exit codes: (?P<v>.*)",
        "{v} is not a comma-separated list of exit codes",
        "write exit codes such as 0,2",
    ),
    (
        r"(?P<v>.*) can not be converted to an octal type",
        "{v} is not an octal number",
        "write an octal number such as 022",
    ),
    (
        r"Unexpected end of key/value pairs in value (?P<v>.*)",
        '{v} is not a list of KEY="value" pairs',
        'write pairs separated by commas: NODE_ENV="production",DEBUG="0"',
    ),
    (
        r"No closing quotation",
        "a quotation mark is never closed",
        "close the quotation mark",
    ),
    (
        r"Invalid name: (?P<v>.*) because of character: (?P<c>.*)",
        "the name {v} contains {c}, which supervisord does not allow in names",
        "use only letters, digits, - and _ in program names",
    ),
    (
        r"program section (?P<s>\S+) does not specify a command",
        "there is no command line, so supervisord has nothing to start",
        "add `command = node server.js` (your start script)",
    ),
    (
        r"%\(process_num\) must be present.*",
        "more than one process needs a process_name with %(process_num)s in it, to tell the "
        "processes apart",
        "set `process_name = %(program_name)s_%(process_num)s`",
    ),
    (
        r"Cannot set stopasgroup=true and killasgroup=false",
        "stopasgroup = true needs killasgroup = true as well",
        "set `killasgroup = true`, or remove stopasgroup",
    ),
    (
        r"Format string .* contains names \('?(?P<n>.*?)'?\) which cannot be expanded\. "
        r"Available names: (?P<a>.*)",
        "%({n})s cannot be expanded in this setting (available here: {a})",
        "use one of the available names, or write %% for a literal percent sign",
    ),
    (
        r"Format string .* is badly formatted: (?P<e>.*)",
        "an expansion cannot be made ({e})",
        "use %(name)s with a name supervisord knows, or %% for a literal percent sign",
    ),
)


def _short_names(names: str) -> str:
    """supervisor's list of expansion names, with every ENV_x folded into one entry."""
    listed = [n for n in names.split(", ") if not n.startswith("ENV_")]
    if len(listed) < len(names.split(", ")):
        listed.append("ENV_<VARIABLE>")
    return ", ".join(listed)


def plain_supervisor_message(detail: str) -> tuple[str, str]:
    """supervisor's message in the kit's words, and a fix."""
    for pattern, message, fix in _PLAIN:
        match = re.fullmatch(pattern, detail, re.DOTALL)
        if match:
            parts = match.groupdict()
            if "a" in parts:
                parts["a"] = _short_names(parts["a"])
            return message.format(**parts), fix
    return detail, "correct the setting; supervisord refuses the file as it is"


# --- which file a command runs ---------------------------------------------------------

_NODES = frozenset({"node", "nodejs"})
_NODE_VALUE_OPTIONS = frozenset({"-r", "--require", "--loader", "--import", "--title"})
_NODE_NO_SCRIPT = frozenset({"-e", "--eval", "-p", "--print", "-i", "--interactive", "-v"})
_NODE_NO_SCRIPT |= {"--version", "-h", "--help"}


class Script(NamedTuple):
    path: str  # as written in the command
    by_node: bool  # node adds .js, .json, .node or /index.js when the name has none


def command_script(argv: list[str]) -> Script | None:
    """The file a command needs: node's script, or a relative program itself."""
    args = list(_skip_env(argv))
    if not args:
        return None
    program = args[0]
    if posixpath.basename(program) in _NODES:
        script = _node_script(args[1:])
        return Script(script, True) if script else None
    if "/" in program:
        return Script(program, False)
    return None  # a program found on PATH


def _skip_env(argv: list[str]) -> Iterator[str]:
    """``env A=1 node x.js`` runs ``node x.js``."""
    if argv and posixpath.basename(argv[0]) == "env":
        rest = argv[1:]
        while rest and ("=" in rest[0] or rest[0].startswith("-")):
            rest = rest[1:]
        yield from rest
    else:
        yield from argv


def _node_script(args: list[str]) -> str | None:
    it = iter(args)
    for arg in it:
        if arg == "--":
            return next(it, None)
        if arg in _NODE_NO_SCRIPT:
            return None
        if arg in _NODE_VALUE_OPTIONS:
            next(it, None)
            continue
        if not arg.startswith("-") or arg == "-":
            return None if arg == "-" else arg
    return None


def _under_current(path: str) -> str | None:
    """``path`` relative to the approot if it lies in /home/dotcloud/current, else None."""
    norm = posixpath.normpath(path)
    if norm == CURRENT:
        return ""
    if norm.startswith(CURRENT + "/"):
        return norm[len(CURRENT) + 1 :]
    return None


def _approot_path(script: str, directory: str | None) -> str | None:
    """Where ``script`` is, relative to the approot; None if it is elsewhere."""
    if script.startswith("/"):
        return _under_current(script)
    base = _under_current(directory) if directory else None
    base = base if base is not None else ""
    rel = posixpath.normpath(posixpath.join(base, script)) if base else posixpath.normpath(script)
    if rel == ".." or rel.startswith("../"):
        return None
    return "" if rel == "." else rel
