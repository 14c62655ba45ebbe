"""All checks of one supervisord.conf, read with supervisor's own parser."""

import configparser
import shlex
from typing import Any

from kit.findings import Finding
from kit.platform.facts import CURRENT
from kit.platform.model import Service
from kit.verify.model import Target, disk_of
from kit.verify.supervisor.command import (
    Script,
    approot_file,
    approot_path,
    command_script,
    guess_script,
    under_current,
)
from kit.verify.supervisor.layout import Layout, scan_layout
from kit.verify.supervisor.library import (
    SUFFIX,
    UNKNOWN_ENV,
    failed_key,
    plain_supervisor_message,
    program_config,
)
from kit.verify.supervisor.percent import percent_findings
from kit.verify.supervisor.rules import (
    BOILERPLATE,
    COMMAND_FILE,
    DIRECTORY,
    MISSING_PROGRAM,
    SYNTAX,
)


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
        findings = percent_findings(self.path, self.layout)
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
                "replace it with a plain-text file:\n" + BOILERPLATE.format(script="server.js"),
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
        fix = "add a program section:\n" + BOILERPLATE.format(
            script=guess_script(self.files, self.service.approot)
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
        config, error = program_config(parser, section, self.service)
        if error is not None and UNKNOWN_ENV in str(error):
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
        detail = SUFFIX.sub("", str(error))
        key = failed_key(parser, section, detail)
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
        if UNKNOWN_ENV not in directory and under_current(directory) is None:
            return DIRECTORY.finding(
                self.path,
                self._line(section, "directory"),
                None,
                f"[{section}] runs in {directory}, but the approot is mapped to {CURRENT}",
                fix,
            )
        return None

    def _command_problems(self, section: str, command: str, directory: str | None) -> list[Finding]:
        if UNKNOWN_ENV in command or (directory and UNKNOWN_ENV in directory):
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
        rel = approot_path(script.path, directory)
        if not rel or rel.split("/")[0] == "node_modules":
            return []  # outside the approot, or installed by npm during the build
        return self._script_problems(section, script, rel)

    def _script_problems(self, section: str, script: "Script", rel: str) -> list[Finding]:
        candidates = [rel]
        if script.by_node:  # node tries these when the name has no extension
            candidates += [rel + ext for ext in (".js", ".json", ".node")]
            candidates += [f"{rel}/index.js", f"{rel}/package.json"]
        approot = self.service.approot
        paths = [approot_file(approot, c) for c in candidates]
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
                f"e.g. `command = node {guess_script(self.files, approot)}`"
            )
        line = self._line(section, "command")
        return [COMMAND_FILE.finding(self.path, line, None, message, fix)]
