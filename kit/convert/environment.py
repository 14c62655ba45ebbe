"""A Gear's ``env``, as the ``environment:`` of its service.

Names are upper-cased with ``-`` and ``.`` turned into ``_``; values are carried as
strings (the renderer quotes them). A port setting is left behind: the ``port``
key, and any variable the code reads its listen port from, since on dotCloud an
HTTP server listens on 8080 and a TCP port is assigned. Names that cannot be a
variable, or that collide once normalised, are errors.
"""

from typing import NamedTuple

from kit.convert.migration import GUIDE_PORTS
from kit.convert.rows import Rows
from kit.convert.torque import EnvVar, Torque
from kit.findings import Finding
from kit.platform.facts import BUILD_FILE, HTTP_PORT
from kit.platform.names import env_key_problem, normalize_env_key
from kit.platform.ports import Setting
from kit.secrets import has_secret, is_secret_key, shown_value


class Environment(NamedTuple):
    values: list[tuple[str, str]]
    secret_keys: set[str]
    settings: dict[str, Setting]
    ok: bool


def _drop_port(rows: Rows, findings: list[Finding], var: EnvVar, listened: str | None) -> None:
    if listened is None:
        reason = (
            f"HTTP services listen on port {HTTP_PORT} on dotCloud; a port setting has no "
            "meaning there"
        )
    else:
        reason = (
            f"the code listens on it ({listened}); on dotCloud an HTTP server listens on "
            f"{HTTP_PORT} and a TCP port is assigned, so a port setting is not carried over"
        )
    rows.add(
        f"env.{var.key}",
        "dropped",
        var.value,
        "",
        var.pos.line,
        (None, None, None),
        reason,
        GUIDE_PORTS,
    )
    findings.append(
        Finding(
            "port-dropped",
            "info",
            rows.torque.path,
            var.pos.line,
            var.pos.column,
            f'env "{var.key}" ({var.value}) was dropped: on dotCloud an HTTP service must listen '
            f"on port {HTTP_PORT}, and TCP ports are assigned by the platform",
            f"make the code listen on {HTTP_PORT} (dotkit convert --fix does it for a literal "
            "port)",
        )
    )


def _env_error(
    findings: list[Finding], torque: Torque, var: EnvVar, message: str, fix: str
) -> None:
    rule = "env-key-collision" if "both become" in message else "env-key-invalid"
    findings.append(Finding(rule, "error", torque.path, var.pos.line, var.pos.column, message, fix))


def environment(
    rows: Rows, findings: list[Finding], secrets: set[str], port_reads: dict[str, str]
) -> Environment:
    """The ``env`` keys as dotcloud.yml environment; port settings left behind."""
    torque = rows.torque
    out = Environment([], set(), {}, True)
    seen: dict[str, EnvVar] = {}
    for var in torque.env:
        norm = normalize_env_key(var.key)
        if var.key.lower() == "port" or norm in port_reads:
            _drop_port(rows, findings, var, port_reads.get(norm))
            continue
        problem = env_key_problem(norm)
        if problem or norm in seen:
            first = seen.get(norm)
            message = (
                f'env "{var.key}" cannot become an environment variable: {problem}'
                if problem or first is None
                else f'env "{var.key}" and "{first.key}" (line {first.pos.line}) both become {norm}'
            )
            fix = (
                "rename the key to letters, digits, - . and _ (not starting with a digit)"
                if problem
                else "rename or remove one of them"
            )
            _env_error(findings, torque, var, message, fix)
            out = out._replace(ok=False)
            continue
        seen[norm] = var
        out.values.append((norm, var.value))
        out.settings[norm] = Setting(torque.path, var.pos.line, var.pos.column)
        if has_secret(var.key, var.value):
            secrets.add(var.value)
        if is_secret_key(var.key):
            out.secret_keys.add(norm)
        _env_row(rows, var, norm)
    return out


def _env_row(rows: Rows, var: EnvVar, norm: str) -> None:
    shown = shown_value(var.key, var.value)
    notes = []
    if norm != var.key:
        notes.append(f"variable names are upper-case with _ ({var.key} -> {norm})")
    if var.source_kind != "string":
        notes.append(f"the {var.source_kind} is written as the string {shown!r}")
    rows.add(
        f"env.{var.key}",
        "changed" if notes else "converted",
        f"{var.key}={shown}",
        f"{norm}={shown}",
        var.pos.line,
        (BUILD_FILE, (rows.service, "environment", norm), None),
        "; ".join(notes) or "carried over as is",
    )
