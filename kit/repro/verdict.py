"""The verdict of a reproduction, in one sentence, and the findings that explain it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kit.findings import Finding
from kit.repro.model import Probe


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def judge(
    *, stage: str, problem: str, findings: Sequence[Finding], probes: Sequence[Probe]
) -> tuple[str, bool]:
    """The verdict, and whether the app deployed with every probe answered (exit 0)."""
    errors = sum(f.severity == "error" for f in findings)
    if stage == "convert":
        return f"the app cannot be converted: {first_line(problem)}", False
    if stage == "push":
        line = first_line(problem)
        return (line if line.startswith("the push failed") else f"the push failed: {line}"), False
    failed = [p for p in probes if not p.ok]
    if failed:
        shown = "; ".join(f"{p.service} {p.kind}: {_short(p)}" for p in failed)
        return f"deployed, but {len(failed)} of {len(probes)} probe(s) failed: {shown}", False
    if errors:
        return (
            f"deployed and every service answers, but dotkit verify reports {errors} error(s) "
            "the platform may still trip on",
            True,
        )
    return "deployed and every service answers; dotkit verify reports no errors", True


def _short(probe: Probe) -> str:
    if probe.status is not None:
        return f"HTTP {probe.status}"
    return first_line(probe.detail)


def _names(problem: str, location: str) -> bool:
    """Whether ``problem`` names ``location`` as a whole (a folder ``shop`` is not named
    by ``shop/server.js:31:8``, nor line 3 by line 31)."""
    if not location:
        return False
    whole = re.compile(rf"(?<![\w./-]){re.escape(location)}(?![\w/.-]|:\d)")
    return whole.search(problem) is not None


def explaining(
    stage: str, problem: str, findings: Sequence[Finding]
) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
    """(the findings that explain the verdict, the others).

    After a failed push, the errors the failure names come first (the push quotes
    the verifier's findings for the service that did not answer), then the other
    errors; warnings and notes are the others.
    """
    errors = [f for f in findings if f.severity == "error"]
    rest = tuple(f for f in findings if f.severity != "error")
    if stage == "push":
        named = [f for f in errors if f"[{f.rule}]" in problem or _names(problem, f.location)]
        errors = named + [f for f in errors if f not in named]
    return tuple(errors), rest
