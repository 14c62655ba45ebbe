"""supervisor's own view of one ``[program:x]``, made independent of this host.

Before supervisor sees the file, a validation copy drops ``user`` (resolved against
this machine's accounts), makes log files ``AUTO`` (supervisor checks that their folder
exists *here*), caps ``numprocs``, fills in the ``ENV_x`` names the platform would
know and escapes stray ``%`` signs once they have been reported. Its messages are
rewritten in plain words by :func:`plain_supervisor_message`.
"""

import re
from typing import Any

from kit.platform.facts import CURRENT, HOME, SUPERVISORD_FILE, USER
from kit.platform.model import Service
from kit.verify.supervisor.percent import escape_bad_percents

SUFFIX = re.compile(r" in section '[^\n]*' \(file: [^\n]*\)$")
UNKNOWN_ENV = "{dotkit-unknown-variable}"  # survives repr() in supervisor's messages
# supervisor checks that a log file's folder exists on *this* machine, and expands the
# value twice; the raw-text % check covers these values instead.
_LOGFILES = ("stdout_logfile", "stderr_logfile")
_MAX_CHECKED_PROCS = 2
# The environment supervisord has on the platform, as far as the kit can know it.
_PLATFORM_ENV = {"HOME": HOME, "USER": USER, "LOGNAME": USER}


def program_config(parser: Any, section: str, service: Service) -> tuple[Any, ValueError | None]:
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
                env.setdefault(name, UNKNOWN_ENV)
    return env


def failed_key(parser: Any, section: str, detail: str) -> str | None:
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
