"""How nodeSocket's ideas map onto dotCloud's: the one table the CLI, docs and notebooks share."""

from typing import NamedTuple


class Term(NamedTuple):
    nodesocket: str
    dotcloud: str
    notes: str
    section: str

    def as_dict(self) -> dict[str, str]:
        return self._asdict()


TERMS: tuple[Term, ...] = (
    Term(
        nodesocket="Machine",
        dotcloud="Service container (instance)",
        notes=(
            "Each service runs in a Linux container of its own (Ubuntu 10.04), usually on a "
            "different host from the others. There is no root login, yet packages can still "
            "be installed through the build file. Containers are replaced on every push."
        ),
        section="Translating Terms",
    ),
    Term(
        nodesocket="Gear",
        dotcloud="Approot",
        notes=(
            "One folder of the app per service, named by approot in dotcloud.yml. Inside the "
            "container ~/current points at it. A service can be scaled out to several "
            "identical instances."
        ),
        section="Translating Terms",
    ),
    Term(
        nodesocket="Lever",
        dotcloud="dotCloud Builder + Supervisor",
        notes=(
            "The builder reads the build file, installs dependencies and prepares the "
            "containers on a separate build host. Inside each container, supervisord starts "
            "the Node.js process and restarts it when it exits unexpectedly."
        ),
        section="Translating Terms",
    ),
    Term(
        nodesocket=".torque",
        dotcloud="dotcloud.yml + supervisord.conf",
        notes=(
            "A single dotcloud.yml at the root of the app describes every service (code, "
            "caches, databases); each Node.js approot keeps a supervisord.conf with the "
            "command to run. Services live on different hosts: never expect another service "
            "on localhost."
        ),
        section="Translating Terms",
    ),
    Term(
        nodesocket="route (host:port)",
        dotcloud="Port 8080, or a declared TCP port",
        notes=(
            "HTTP services listen on 8080 and the platform routes to them. A TCP service "
            "asks for a port under ports: in dotcloud.yml and reads the number it was given "
            "from PORT_<NAME> or /home/dotcloud/environment.json."
        ),
        section="Update Your Code to Listen on Port 8080",
    ),
    Term(
        nodesocket="REST API",
        dotcloud="The dotcloud CLI (dotkit here)",
        notes=(
            "Apps are created, pushed, scaled and inspected from the command line; pushes "
            "upload the code, build it and deploy new containers."
        ),
        section="Some Differences",
    ),
)
