"""What every check shares: the rule type and the app as the checks see it."""

from pathlib import Path
from typing import NamedTuple

from kit.findings import Finding, Severity
from kit.platform.model import App, Service
from kit.verify.disk import Disk


class Rule(NamedTuple):
    """One platform rule: its slug, default severity and the words that explain it."""

    slug: str
    severity: Severity
    category: str  # "build file", "supervisor", "code" or "project"
    summary: str  # one line
    explanation: str  # why the platform cares and what to do, a paragraph
    bad: str = ""  # a failing example, "path:\ncontent" (for the docs and tests)
    good: str = ""  # the same example, fixed

    def finding(
        self,
        path: str,
        line: int | None,
        column: int | None,
        message: str,
        fix: str,
        severity: Severity | None = None,
    ) -> Finding:
        return Finding(
            rule=self.slug,
            severity=severity or self.severity,
            path=path,
            line=line,
            column=column,
            message=message,
            fix=fix,
        )


class Target(NamedTuple):
    """The app as the checks see it; read once by the runner."""

    root: Path
    files: tuple[str, ...]  # posix paths relative to root, .gitignore'd files and .git left out
    services: tuple[Service, ...]
    links: frozenset[str] | None = None  # those of files that are symlinks; None: not known
    # Where the checks ask about the disk beyond ``files``; None: a Disk that forgets.
    disk: Disk | None = None


def disk_of(app: Target) -> Disk:
    return app.disk if app.disk is not None else Disk(app.root)


def target_of(app: App, *, links: frozenset[str] | None = None, disk: Disk | None = None) -> Target:
    """The checks' view of a platform :class:`~kit.platform.model.App`."""
    return Target(app.root, app.files, app.services, links, disk)
