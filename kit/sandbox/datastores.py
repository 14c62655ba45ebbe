"""MySQL (MariaDB) and PostgreSQL data services: one-time initialisation, then a foreground server.

Nothing here starts a process: apart from finding the programs, every
function returns argv lists (and what to feed on standard input) for the
caller to run inside the data service's container as its unprivileged user.
A store keeps its data in ``data_dir`` and its sockets and pid file in
``run_dir`` (both in the container's home: the container has no
``/run/mysqld`` or ``/var/run/postgresql``), and listens on ``bind`` at
``port``: ``127.0.0.1`` in the sandbox, whose relays reach it there; all
interfaces (``0.0.0.0``) in an exported container, which other containers
reach by the engine's network. Passwords travel on standard input, never on a
command line.

As on the platform, the login is ``root`` (the caller passes it) with the
service's generated password, allowed from any host: ``DOTCLOUD_<SVC>_MYSQL_*``
for mysql, ``DOTCLOUD_<SVC>_SQL_*`` (URL scheme ``pgsql``) for postgresql.

Initialisation writes into ``<data_dir>.init`` and renames it to ``data_dir``
as its last step, so a half-done one never looks done (see :func:`initialised`)
and is simply redone by the next push.
"""

from __future__ import annotations

import ipaddress
import posixpath
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

KINDS = ("mysql", "postgresql")
_PROGRAMS = {"mysql": ("mariadbd", "mariadb-install-db"), "postgresql": ("postgres", "initdb")}
PACKAGES = {"mysql": "mariadb-server", "postgresql": "postgresql"}
# supervisord's stopsignal: postgres takes SIGTERM as "wait for every client to leave".
STOP_SIGNAL = {"mysql": "TERM", "postgresql": "INT"}


@dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]
    input: bytes | None = None  # fed on standard input; holds the password where one is needed


@dataclass(frozen=True)
class Store:
    """One data service's server, with paths as the server sees them (inside its container)."""

    kind: str  # "mysql" or "postgresql"
    login: str  # the superuser's name (kit.sandbox.dataservices.LOGIN)
    data_dir: str
    run_dir: str
    port: int
    password: str
    uid: int | None = None  # run as this uid and gid (setpriv), e.g. when the sandbox runs as root
    gid: int | None = None
    # Where the container has the programs, by name (None: where this machine has them).
    programs: Mapping[str, str] | None = None
    bind: str = "127.0.0.1"  # the address it listens on (an IPv4 or IPv6 literal)

    @property
    def remote(self) -> bool:
        """Whether clients come from other hosts, not only through this one's loopback."""
        return not ipaddress.ip_address(self.bind).is_loopback

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"not a store kind: {self.kind!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"not a port: {self.port!r}")
        for path in (self.data_dir, self.run_dir):
            if not posixpath.isabs(path) or "\n" in path:
                raise ValueError(f"not an absolute path: {path!r}")
        if not self.password or any(c in self.password for c in "\0\r\n"):
            raise ValueError("a store password must be one line, not empty")
        if not self.login.isidentifier():
            raise ValueError(f"not a login name: {self.login!r}")
        try:
            ipaddress.ip_address(self.bind)
        except ValueError:
            raise ValueError(f"not an address to listen on: {self.bind!r}") from None


def programs(kind: str) -> dict[str, str] | None:
    """The full paths of the server and its initialiser, or None when either is missing."""
    # MariaDB's daemons live in /usr/sbin, PostgreSQL's in a versioned folder off PATH.
    if kind == "mysql":
        search = ["/usr/sbin", "/usr/bin"]
    else:
        found_dirs = Path("/usr/lib/postgresql").glob("*/bin")
        search = [str(d) for d in sorted(found_dirs, key=_pg_major, reverse=True)]
    found = {}
    for name in _PROGRAMS[kind]:
        path = shutil.which(name, path=":".join(search)) if search else None
        path = path or shutil.which(name)
        if path is None:
            return None
        found[name] = path
    return found


def _pg_major(folder: Path) -> int:
    version = folder.parent.name
    return int(version) if version.isdigit() else 0


def problem(kind: str) -> str | None:
    """Why this machine cannot run a ``kind`` store, naming the Debian package; None when it can."""
    if programs(kind) is not None:
        return None
    server, init = _PROGRAMS[kind]
    return (
        f"{kind} needs {server} and {init}, which are not installed here (the Debian "
        f"package {PACKAGES[kind]}); install it (apt-get install {PACKAGES[kind]}), or "
        "remove the service from dotcloud.yml"
    )


def initialised(kind: str, data_dir: Path) -> bool:
    """Whether ``data_dir`` (a host path) holds an initialised store of ``kind``."""
    marker = data_dir / ("PG_VERSION" if kind == "postgresql" else "mysql")
    return marker.exists()


def init_steps(store: Store) -> list[Step]:
    """The one-time initialisation, in order; run each as the store's user, stop at a failure."""
    found = _programs(store)
    staging = store.data_dir.rstrip("/") + ".init"
    steps = [
        Step(("rm", "-rf", "--", staging)),
        Step(("mkdir", "-p", "-m", "0700", "--", staging, store.run_dir)),
    ]
    if store.kind == "mysql":
        steps += [
            Step((
                found["mariadb-install-db"], "--no-defaults", f"--datadir={staging}",
                "--auth-root-authentication-method=normal", "--skip-test-db",
                "--skip-name-resolve", "--force",  # --force: no DNS needed in a container
            )),
            Step(
                (
                    found["mariadbd"], "--no-defaults", "--bootstrap", f"--datadir={staging}",
                    "--skip-networking", f"--socket={store.run_dir}/mysqld-init.sock",
                    "--innodb-use-native-aio=0",
                ),
                _mysql_accounts(store.login, store.password).encode(),
            ),
        ]  # fmt: skip
    else:
        # initdb reads the password from a file it opens by name. /dev/stdin would be
        # the host's pipe, which the container's user may read but not open again; so
        # a shell copies standard input to a private file, runs initdb, removes it.
        pwfile = f"{store.run_dir}/initdb.pw"
        steps.append(
            Step(
                (
                    "/bin/sh", "-c", _WITH_PWFILE, pwfile,
                    found["initdb"], "-D", staging, "-U", store.login, f"--pwfile={pwfile}",
                    "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale",
                ),
                store.password.encode() + b"\n",
            )
        )  # fmt: skip
        if store.remote:
            # initdb's pg_hba.conf lets password logins in from loopback only; a server
            # that other hosts reach takes them from anywhere, as the platform's did.
            steps.append(
                Step(("/bin/sh", "-c", _APPEND, f"{staging}/pg_hba.conf", _PG_HBA_ANYWHERE))
            )
    steps.append(Step(("mv", "-T", "--", staging, store.data_dir)))
    return [_as_user(store, step) for step in steps]


# $0 is the file, $1 the line.
_APPEND = 'printf "%s\\n" "$1" >> "$0"'
_PG_HBA_ANYWHERE = "host all all all scram-sha-256"
# $0 is the password file, "$@" the command that reads it; the file goes whatever happens.
_WITH_PWFILE = 'umask 077 && cat > "$0" || exit 1; "$@"; status=$?; rm -f -- "$0"; exit $status'


def server_argv(store: Store) -> list[str]:
    """The server in the foreground, for supervisord (logs on stderr; ``run_dir`` must exist).

    Stop it with :data:`STOP_SIGNAL` (supervisord's ``stopsignal``).
    """
    found = _programs(store)
    if store.kind == "mysql":
        argv = [
            found["mariadbd"], "--no-defaults", f"--datadir={store.data_dir}",
            f"--bind-address={store.bind}", f"--port={store.port}",
            f"--socket={store.run_dir}/mysqld.sock", f"--pid-file={store.run_dir}/mysqld.pid",
            "--skip-name-resolve", "--innodb-use-native-aio=0",
        ]  # fmt: skip
    else:
        argv = [
            found["postgres"], "-D", store.data_dir, "-p", str(store.port),
            "-k", store.run_dir, "-c", f"listen_addresses={store.bind}",
        ]  # fmt: skip
    return list(_as_user(store, Step(tuple(argv))).argv)


def _programs(store: Store) -> Mapping[str, str]:
    if store.programs is not None:
        return store.programs
    found = programs(store.kind)
    if found is None:
        # Callers check problem() first; this keeps the argv readable where they did not.
        return {name: name for name in _PROGRAMS[store.kind]}
    return found


def _as_user(store: Store, step: Step) -> Step:
    if store.uid is None:
        return step
    gid = store.uid if store.gid is None else store.gid
    prefix = ("setpriv", f"--reuid={store.uid}", f"--regid={gid}", "--clear-groups", "--")
    return Step(prefix + step.argv, step.input)


def _sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _mysql_accounts(login: str, password: str) -> str:
    """SQL for the bootstrap server: ``login`` with the password, from anywhere, and no one else.

    mariadb-install-db makes a passwordless root for localhost, 127.0.0.1, ::1
    and the host name; all but the first go, and that one gets the password.
    """
    secret, user = _sql_string(password), _sql_string(login)
    lines: Sequence[str] = (
        "FLUSH PRIVILEGES;",  # the bootstrap server starts without its grant tables
        "DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host <> 'localhost');",
        "DELETE FROM mysql.proxies_priv WHERE User = 'root' AND Host <> 'localhost';",
        "FLUSH PRIVILEGES;",
        f"ALTER USER 'root'@'localhost' IDENTIFIED BY {secret};",
        f"CREATE USER {user}@'%' IDENTIFIED BY {secret};",
        f"GRANT ALL PRIVILEGES ON *.* TO {user}@'%' WITH GRANT OPTION;",
    )
    return "\n".join(lines) + "\n"
