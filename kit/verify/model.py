"""What every check shares: the rule type, the app as checks see it, and findings."""

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from kit.findings import Finding, Severity
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


class Service(NamedTuple):
    """One service of ``dotcloud.yml``, as far as the build file could be read."""

    name: str
    type: str
    approot: str  # posix, relative to the app root; "." by default
    line: int | None  # of the service's key in dotcloud.yml
    instances: int
    ports: Mapping[str, str]  # port name -> http | tcp | udp
    environment: Mapping[str, str]
    process: str | None
    processes: Mapping[str, str]
    approot_ok: bool  # the approot exists inside the app

    @property
    def is_code(self) -> bool:
        return self.type in CODE_TYPES

    @property
    def tcp_ports(self) -> tuple[str, ...]:
        return tuple(name for name, kind in self.ports.items() if kind in ("tcp", "udp"))


class App(NamedTuple):
    """The app as the checks see it; read once by the runner."""

    root: Path
    files: tuple[str, ...]  # posix paths relative to root, .gitignore'd files and .git left out
    services: tuple[Service, ...]
    links: frozenset[str] | None = None  # those of files that are symlinks; None: not known
    # Where the checks ask about the disk beyond ``files``; None: a Disk that forgets.
    disk: Disk | None = None


def disk_of(app: App) -> Disk:
    return app.disk if app.disk is not None else Disk(app.root)


BUILD_FILE = "dotcloud.yml"
CODE_TYPES = frozenset(
    {
        "custom",
        "java",
        "nodejs",
        "perl",
        "perl-worker",
        "php",
        "php-worker",
        "python",
        "python-worker",
        "ruby",
        "ruby-worker",
        "static",
        "opa",
    }
)
DATA_TYPES = frozenset(
    {
        "mongodb",
        "mysql",
        "mysql-masterslave",
        "postgis",
        "postgresql",
        "redis",
        "smtp",
        "solr",
        "rabbitmq",
    }
)
SERVICE_TYPES = CODE_TYPES | DATA_TYPES
NODE_VERSIONS = ("v0.4.x", "v0.6.x", "v0.8.x")
