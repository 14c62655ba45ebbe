"""The port rule: what a ``listen`` must be on dotCloud, judged once for every command.

An HTTP server must listen on 8080: the router sends a nodejs service's web
traffic there and nowhere else. A raw TCP server must listen on the port the
platform assigns to a port declared under ``ports:`` and passes as
``PORT_<NAME>``. UDP is not supported. :func:`judge_listen` takes what the
JavaScript analysis found at one ``listen`` (a UDP socket's ``bind``), the
service it runs in and where that service's environment values are set, and
returns each problem with its words, the place the wrong value comes from, and
a remedy a tool can apply: a code edit at the syntax node, or dropping an
environment value. ``dotkit verify`` reports the problems; ``dotkit convert``
reports them, drops the port settings it would otherwise write, and with
``--fix`` applies the code edits.

About ``PORT_NODEJS``: apps of the time read it (EtherCalc reads
``PORT_NODEJS`` from environment.json; others use ``process.env.PORT_NODEJS ||
8080``), which suggests the platform set it to 8080 for nodejs services, but no
documentation says so. The rule accepts it, and asks for 8080 as its fallback.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Literal, NamedTuple

from kit.findings import Severity
from kit.js.fix import Edit, Wanted, plan_edits
from kit.js.model import JsAnalysis, ListenCall, Origin, Span
from kit.platform.envkeys import port_var
from kit.platform.facts import BUILD_FILE, ENVIRONMENT_JSON, HTTP_PORT
from kit.platform.model import Service

HTTP_RULE = "http-port-not-8080"
TCP_UNDECLARED_RULE = "tcp-port-undeclared"
TCP_HARDCODED_RULE = "tcp-port-hardcoded"
UDP_RULE = "udp-not-supported"
SEVERITIES: dict[str, Severity] = {
    HTTP_RULE: "error",
    TCP_UNDECLARED_RULE: "error",
    TCP_HARDCODED_RULE: "error",
    UDP_RULE: "error",
}
# Read by apps of the time and believed (not documented) to be 8080 on the platform.
PLATFORM_HTTP_VAR = "PORT_NODEJS"
PLATFORM_OR_8080 = f"process.env.{PLATFORM_HTTP_VAR} || {HTTP_PORT}"
HTTP_FIX = f"listen on {HTTP_PORT}: .listen({HTTP_PORT}) or .listen({PLATFORM_OR_8080})"
DEFAULT_TCP_PORT = "server"  # the port convert declares for a TCP server
_TEXT_SHOWN = 80  # of a port expression, in messages
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


class Setting(NamedTuple):
    """Where an environment value of the service is set (dotcloud.yml, a .torque)."""

    path: str
    line: int | None = None
    column: int | None = None

    def where(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


class Remedy(NamedTuple):
    """What fixes a problem: an edit of ``path`` at ``span`` (code), or dropping
    the environment value ``env_name`` (a setting convert would write)."""

    kind: Literal["code", "env"]
    path: str | None = None
    span: Span | None = None
    replacement: str = ""
    env_name: str | None = None


class PortProblem(NamedTuple):
    rule: str
    severity: Severity
    message: str
    fix: str
    origin: Origin | None  # where the wrong value is written (path always filled in)
    remedy: Remedy | None = None


def env_expression(name: str) -> str:
    """``process.env.NAME``, written so that the analysis reads it back."""
    if _IDENTIFIER.fullmatch(name):
        return f"process.env.{name}"
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'process.env["{escaped}"]'


def _shown(listen: ListenCall) -> str:
    text = " ".join(listen.port.text.split())
    return text if len(text) <= _TEXT_SHOWN else text[: _TEXT_SHOWN - 1] + "…"


def _origin(listen: ListenCall, path: str) -> Origin | None:
    origin = listen.port.origin
    if origin is None:
        return None
    return Origin(origin.path or path, origin.line, origin.column)


def _set_at(listen: ListenCall, path: str) -> str | None:
    """Where the deciding value is written, when that is not at the call itself."""
    origin = _origin(listen, path)
    if origin is None or (origin.path == path and origin.line == listen.line):
        return None
    if origin.path != path:
        return f"set in {origin.path}:{origin.line}"
    return f"set on line {origin.line}"


def _elsewhere(listen: ListenCall, path: str) -> str:
    """`` (set in config.js:3)`` when the deciding value is not at the call."""
    where = _set_at(listen, path)
    return f" ({where})" if where else ""


def _literal_remedy(listen: ListenCall, path: str, replacement: str) -> Remedy | None:
    port = listen.port
    if port.literal is None:
        return None
    where = port.origin.path if port.origin is not None and port.origin.path else path
    return Remedy("code", where, port.literal, replacement)


def _expr_remedy(listen: ListenCall, path: str, replacement: str) -> Remedy | None:
    return Remedy("code", path, listen.port.expr, replacement) if listen.port.expr else None


def _problem(
    rule: str,
    message: str,
    fix: str,
    origin: Origin | None,
    remedy: Remedy | None = None,
    severity: Severity | None = None,
) -> PortProblem:
    return PortProblem(rule, severity or SEVERITIES[rule], message, fix, origin, remedy)


def _from_setting(setting: Setting) -> Origin | None:
    return Origin(setting.path, setting.line, setting.column or 1) if setting.line else None


class _Judge:
    """One listen in one service."""

    def __init__(
        self, listen: ListenCall, path: str, service: Service, settings: Mapping[str, Setting]
    ) -> None:
        self.listen = listen
        self.path = path
        self.service = service
        self.settings = settings
        self.call = f"listen({_shown(listen)})"

    def setting(self, name: str) -> Setting:
        return self.settings.get(name, Setting(BUILD_FILE))

    def http(self) -> list[PortProblem]:
        listen, port = self.listen, self.listen.port
        who = "the HTTP server" if listen.server == "http" else "the server"
        if port.kind == "literal" and port.value != HTTP_PORT:
            message = (
                f"{who} listens on {port.value}{_elsewhere(listen, self.path)}; on dotCloud it "
                f"must listen on {HTTP_PORT}"
            )
            remedy = _literal_remedy(listen, self.path, str(HTTP_PORT))
            return [_problem(HTTP_RULE, message, HTTP_FIX, _origin(listen, self.path), remedy)]
        if port.kind == "missing" and listen.server == "http":
            message = (
                f"{self.call} names no port, so the server listens on a random one; it must "
                f"listen on {HTTP_PORT}"
            )
            return [_problem(HTTP_RULE, message, HTTP_FIX, None)]
        if port.kind not in {"env", "env-default"} or port.env_name is None:
            return []
        return self.http_env(port.env_name, who)

    def http_env(self, name: str, who: str) -> list[PortProblem]:
        listen, port = self.listen, self.listen.port
        if name in self.service.environment:
            value = self.service.environment[name].strip()
            if value == str(HTTP_PORT):
                return []
            setting = self.setting(name)
            message = (
                f"{self.call} reads {name}, which {setting.path} sets to {value!r}; on dotCloud "
                f"{who} must listen on {HTTP_PORT}"
            )
            fix = f"set {name} to {HTTP_PORT} under environment: in {setting.path}, or {HTTP_FIX}"
            if setting.path != BUILD_FILE:
                fix = f"remove {name} from {setting.path}, or {HTTP_FIX}"
            remedy = Remedy("env", env_name=name)
            return [_problem(HTTP_RULE, message, fix, _from_setting(setting), remedy)]
        declared = {port_var(n): (n, kind) for n, kind in self.service.ports.items()}
        if name in declared and declared[name][1] == "http":
            return []
        if name in declared:
            message = (
                f"{self.call} reads {name}, the port dotCloud assigns to the "
                f"{declared[name][1].upper()} port {declared[name][0]!r}; HTTP reaches the "
                f"service only on {HTTP_PORT}"
            )
            return [_problem(HTTP_RULE, message, HTTP_FIX, _origin(listen, self.path))]
        if port.kind == "env-default":
            return self.http_fallback(name)
        if name == PLATFORM_HTTP_VAR:
            return []
        message = (
            f"{self.call} reads {name}, which dotCloud does not set, so the server listens on a "
            f"random port; it must listen on {HTTP_PORT}"
        )
        fallback = None
        if port.expr is not None:
            after = Span(port.expr.end, port.expr.end)
            fallback = Remedy("code", self.path, after, f" || {HTTP_PORT}")
        return [_problem(HTTP_RULE, message, HTTP_FIX, _origin(listen, self.path), fallback)]

    def http_fallback(self, name: str) -> list[PortProblem]:
        listen, port = self.listen, self.listen.port
        if port.value is None or port.value == HTTP_PORT:
            return []
        shown, notes = _shown(listen), []
        if name not in shown:  # `listen(port)`: say what `port` is
            notes.append(f"process.env.{name} || {port.value}")
        where = _set_at(listen, self.path)
        notes += [where] if where else []
        shown += f" ({', '.join(notes)})" if notes else ""
        remedy = _literal_remedy(listen, self.path, str(HTTP_PORT))
        origin = _origin(listen, self.path)
        if name == PLATFORM_HTTP_VAR:
            message = (
                f"{shown} falls back to {port.value}: dotCloud is believed to set {name} to "
                f"{HTTP_PORT}, but no documentation says so, and where it is not set the server "
                f"listens on {port.value}"
            )
            return [_problem(HTTP_RULE, message, HTTP_FIX, origin, remedy, "warning")]
        message = (
            f"{shown} is not {HTTP_PORT} on dotCloud: the platform does not set {name}, "
            f"so the server listens on {port.value}"
        )
        return [_problem(HTTP_RULE, message, HTTP_FIX, origin, remedy)]

    def tcp(self) -> list[PortProblem]:
        listen, service = self.listen, self.service
        declared = service.tcp_ports
        out = []
        if not declared:
            message = (
                f"a TCP server listens here, but the service {service.name!r} declares no TCP "
                "port: dotCloud routes TCP only to ports declared under ports: in dotcloud.yml"
            )
            fix = (
                f"add `ports: {{{DEFAULT_TCP_PORT}: tcp}}` to the service {service.name!r} in "
                f"dotcloud.yml and listen on process.env.{port_var(DEFAULT_TCP_PORT)}"
            )
            out.append(_problem(TCP_UNDECLARED_RULE, message, fix, None))
        found = self.tcp_problem()
        if not declared and (listen.port.env_name or "").startswith("PORT_"):
            found = None  # reads the variable a declared port would set: declaring is the fix
        if found is not None:
            message, remedy_kind = found
            names = declared or (DEFAULT_TCP_PORT,)
            variables = " or ".join(f"process.env.{port_var(n)}" for n in names)
            where = (
                f"the port {names[0]!r} under ports: in dotcloud.yml"
                if len(names) == 1
                else "a port declared under ports: in dotcloud.yml"
            )
            fix = f"listen on {variables} ({where}), or read it from {ENVIRONMENT_JSON}"
            target = env_expression(port_var(names[0]))
            remedy = self.tcp_remedy(remedy_kind, target)
            origin = _origin(listen, self.path)
            if remedy_kind == "env":
                origin = _from_setting(self.setting(listen.port.env_name or ""))
            out.append(_problem(TCP_HARDCODED_RULE, message, fix, origin, remedy))
        return out

    def tcp_remedy(self, kind: str | None, target: str) -> Remedy | None:
        if kind == "literal":
            return _literal_remedy(self.listen, self.path, target)
        if kind == "expr":
            return _expr_remedy(self.listen, self.path, target)
        if kind == "env":
            return Remedy("env", env_name=self.listen.port.env_name)
        return None

    def tcp_problem(self) -> tuple[str, str | None] | None:
        listen, port = self.listen, self.listen.port
        assigned = {port_var(name) for name in self.service.tcp_ports}
        tail = "dotCloud assigns TCP ports when it deploys the service"
        if port.kind == "literal":
            where = _elsewhere(listen, self.path)
            return f"the TCP server listens on {port.value}{where}, but {tail}", "literal"
        if port.kind not in {"env", "env-default"} or port.env_name is None:
            return None
        name = port.env_name
        if name in assigned:
            return None
        if name in self.service.environment:
            value = self.service.environment[name]
            where = self.setting(name).path
            return f"{self.call} reads {name}, which {where} fixes at {value!r}, but {tail}", "env"
        if port.kind == "env-default":
            message = (
                f"{self.call} falls back to {port.value}: the platform does not set {name}, "
                f"and {tail}"
            )
            return message, "expr"
        return f"{self.call} reads {name}, which dotCloud does not set; {tail}", "expr"

    def udp(self) -> list[PortProblem]:
        message = (
            f"a UDP socket binds a port here; dotCloud routes HTTP (to port {HTTP_PORT}) and "
            "TCP (to ports declared under ports:) to a service, never UDP, so nothing reaches it"
        )
        fix = "serve the protocol over TCP or HTTP instead, or run this part somewhere else"
        return [_problem(UDP_RULE, message, fix, None)]


def judge_listen(
    listen: ListenCall, path: str, service: Service, settings: Mapping[str, Setting] = {}
) -> list[PortProblem]:
    """The port problems of one ``listen`` (or UDP ``bind``) at ``path`` in ``service``.

    ``settings`` says where each environment value of the service is set (by
    default, dotcloud.yml)."""
    judge = _Judge(listen, path, service, settings)
    if listen.server == "udp":
        return judge.udp()
    if listen.server == "tcp":
        return judge.tcp()
    return judge.http()


def port_env_names(listens: list[ListenCall]) -> set[str]:
    """The environment variables these listens read their port from."""
    return {call.port.env_name for call in listens if call.port.env_name is not None}


def wanted_edits(
    path: str, judged: Iterable[tuple[ListenCall, PortProblem]]
) -> dict[str, list[Wanted]]:
    """The code edits the problems' remedies ask for, by the file they change.

    ``path`` is the file of the listens; a remedy may change another file (the
    config module a port is read from)."""
    out: dict[str, list[Wanted]] = {}
    for listen, problem in judged:
        remedy = problem.remedy
        if remedy is None or remedy.kind != "code" or remedy.span is None:
            continue
        target = remedy.path or path
        expr = listen.port.expr if target == path else None
        wish = Wanted(remedy.span, remedy.replacement, expr, listen.port.text)
        out.setdefault(target, []).append(wish)
    return out


def plan_port_fixes(source: bytes, analysis: JsAnalysis, *, tcp_port_env: str | None) -> list[Edit]:
    """The port edits for one file on its own: HTTP listens to 8080, TCP listens to
    ``process.env[tcp_port_env]`` (left alone when that is None)."""
    port_name = tcp_port_env.removeprefix("PORT_").lower() if tcp_port_env else None
    service = Service(
        name="www",
        type="nodejs",
        approot=".",
        line=None,
        instances=1,
        ports={port_name: "tcp"} if port_name else {},
        environment={},
        process=None,
        processes={},
        approot_ok=True,
    )
    judged = [
        (listen, problem)
        for listen in analysis.listens
        if listen.server != "tcp" or port_name is not None
        for problem in judge_listen(listen, "", service)
    ]
    return plan_edits(source, wanted_edits("", judged).get("", []))
