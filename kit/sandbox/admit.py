"""What the platform process accepts: what each request may name.

The platform process runs as the sandbox's owner and starts containers, so its
socket is the control plane: only the owner's own processes outside every
container may talk to it (:func:`kit.peers.peer_refusal`), and every request is
checked against the sandbox's layout before anything runs (:func:`check_request`).
A container's spec must place the container where the layout says (its home,
sockets and service folders, of its own app), run the backend the platform
runs, name no other host folder, and carry names and numbers of the platform's
forms; a route listens only on loopback or the app's own service sockets and
forwards only to containers; retiring removes an old container's home and
socket folder, nothing else. A request never names a program: the one a
container starts is fixed (:func:`kit.sandbox.backend.container_argv`).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

from kit.platform.names import ENV_NAME, PORT_NAME
from kit.sandbox.backend import ContainerSpec
from kit.sandbox.fields import Fields, Form, StateError
from kit.sandbox.layout import Layout
from kit.sandbox.records import APP, CID, ROUTE, container_spec

MAX_REQUEST = 16 * 1024 * 1024  # a request line (specs carry whole environments)
MAX_LIST = 256
MAX_TIMEOUT = 600.0
_HOST = re.compile(r"[a-z0-9][a-z0-9_.-]{0,252}")
_BACKEND = re.compile(r"container:([^:]+):([0-9]{1,5})")
_TCP_LISTEN = re.compile(r"tcp:127\.0\.0\.1:([0-9]{1,5})")
# Each op's arguments; a request naming another is refused.
OPS: dict[str, frozenset[str]] = {
    "start": frozenset({"spec"}),
    "stop": frozenset({"cid", "app", "timeout"}),
    "kill": frozenset({"cid", "app"}),
    "route": frozenset({"app", "name", "listen", "backends"}),
    "unroute": frozenset({"app", "name"}),
    "drain": frozenset({"app", "name", "backends", "timeout"}),
    "retire": frozenset({"app", "name", "cids", "backends", "remove"}),
    "limits": frozenset({"app"}),
    "ping": frozenset(),
    "status": frozenset({"app"}),
    "forget": frozenset({"app"}),
    "shutdown": frozenset(),
}


class Refused(ValueError):
    """A request the platform process will not act on, and why."""


# -- what is asked --------------------------------------------------------------------------


def _text(args: Mapping[str, Any], key: str, form: Form | None = None) -> str:
    value = args[key]
    if not isinstance(value, str):
        raise Refused(f"{key} should be a string")
    if form is not None and not form.fullmatch(value):
        raise Refused(f"{key} should be {form.words}, not {json.dumps(value)[:60]}")
    return value


def _texts(args: Mapping[str, Any], key: str, form: Form | None = None) -> list[str]:
    value = args[key]
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise Refused(f"{key} should be a list of at most {MAX_LIST} strings")
    for index, item in enumerate(value):
        _text({f"{key}[{index}]": item}, f"{key}[{index}]", form)
    return list(value)


def _port(text: str, what: str) -> int:
    number = int(text)
    if not 1 <= number <= 65535:
        raise Refused(f"{what}: port {number} is not between 1 and 65535")
    return number


def _backends(values: list[str]) -> None:
    for value in values:
        match = _BACKEND.fullmatch(value)
        if match is None or not CID.fullmatch(match[1]):
            raise Refused(f"backend {value!r} is not container:CID:PORT")
        _port(match[2], value)


def check_route(
    layout: Layout, app: str, name: str, listen: list[str], backends: list[str]
) -> None:
    """A route of ``app`` listens on loopback or on its own service socket, and forwards
    to containers only."""
    own = f"unix:{layout.service_sockets(app)}/{name}.sock"
    for spec in listen:
        match = _TCP_LISTEN.fullmatch(spec)
        if match is not None:
            _port(match[1], spec)
        elif spec != own:
            raise Refused(f"route {name} may listen on tcp:127.0.0.1:PORT or {own}, not {spec!r}")
    _backends(backends)


def check_removals(layout: Layout, app: str, cids: list[str], remove: list[str]) -> None:
    """What retiring may remove: the home and the socket folder of each retired container."""
    allowed = {str(layout.app(app).container(c)) for c in cids}
    allowed |= {str(layout.container_sockets(app, c)) for c in cids}
    for path in remove:
        if path not in allowed:
            raise Refused(f"retiring {', '.join(cids)} may not remove {path!r}")


def _check_env(env: Mapping[str, str]) -> None:
    for key, value in env.items():
        if not ENV_NAME.fullmatch(key):
            raise Refused(f"environment variable name {key!r} is not valid")
        if "\0" in value:
            raise Refused(f"environment variable {key} holds a NUL character")


def _check_network(spec: ContainerSpec) -> None:
    for name, port in spec.tcp_ports.items():
        if not PORT_NAME.fullmatch(name):
            raise Refused(f"port name {name!r} is not valid")
        _port(str(port), f"tcp_ports.{name}")
    for peer in spec.peers:
        if not _HOST.fullmatch(peer.host) or not ROUTE.fullmatch(peer.socket.removesuffix(".sock")):
            raise Refused(f"peer {peer.host!r} ({peer.socket!r}) is not a service endpoint")
        try:
            loopback = ipaddress.IPv4Address(peer.ip).is_loopback
        except ValueError:
            loopback = False
        if not loopback or not peer.socket.endswith(".sock"):
            raise Refused(f"peer {peer.host} should be at a 127.x address, not {peer.ip!r}")
        _port(str(peer.port), f"peer {peer.host}")


def check_spec(layout: Layout, backend: str, text: object) -> ContainerSpec:
    """The container spec in ``text``, if the platform may start it as it stands."""
    if not isinstance(text, str):
        raise Refused("spec should be a container spec in JSON")
    try:
        spec = container_spec(Fields(json.loads(text), "the start request", "not started"))
    except (StateError, ValueError) as exc:
        raise Refused(str(exc)) from None
    app, cid = spec.app, spec.cid
    if not layout.app(app).meta.is_file():
        raise Refused(f"there is no application {app!r}")
    backend = _app_backend(layout, app) or backend
    if not cid.startswith(f"{spec.service}.{spec.instance}-"):
        raise Refused(f"container {cid} is not instance {spec.instance} of {spec.service}")
    places = {
        "home": (spec.home, str(layout.app(app).container(cid))),
        "sockets": (spec.sockets, str(layout.container_sockets(app, cid))),
        "services": (spec.services, str(layout.service_sockets(app))),
        "hidden": (spec.hidden, layout.hidden),
        "backend": (spec.backend, backend),
        "ro_binds": (tuple(spec.ro_binds), ()),
    }
    for key, (found, wanted) in places.items():
        if found != wanted:
            raise Refused(f"container {cid}: {key} should be {wanted!r}, not {found!r}")
    for key in ("memory", "pids", "cpu_shares"):
        value = getattr(spec, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Refused(f"container {cid}: {key} should be a whole number, 0 or more")
    _check_env(spec.env)
    _check_network(spec)
    return spec


def _app_backend(layout: Layout, app: str) -> str | None:
    """The backend the app was created with (``create --backend``), from its own record."""
    from kit.sandbox.state import load_app

    try:
        return load_app(layout, app).backend
    except StateError as exc:
        raise Refused(str(exc)) from None


def _check_args(args: Mapping[str, Any]) -> None:
    """The forms of the arguments every op shares."""
    forms = {"app": APP, "cid": CID, "name": ROUTE}
    for key, form in forms.items():
        if key in args and not (key == "app" and args[key] is None):
            _text(args, key, form)
    if "cids" in args:
        _texts(args, "cids", CID)
    for key in ("listen", "backends", "remove"):
        if key in args:
            _texts(args, key)
    if "timeout" in args:
        value = args["timeout"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Refused("timeout should be a number of seconds")
        if not 0 <= value <= MAX_TIMEOUT:
            raise Refused(f"timeout should be between 0 and {MAX_TIMEOUT:.0f} seconds")


def check_request(layout: Layout, backend: str, request: object) -> tuple[str, dict[str, Any]]:
    """The op and its arguments, if the platform may act on ``request`` as it stands."""
    if not isinstance(request, dict):
        raise Refused("a request is a JSON object")
    args = dict(request)
    op = args.pop("op", None)
    if not isinstance(op, str) or op not in OPS:
        raise Refused(f"there is no op {json.dumps(op)[:40]}")
    unknown = sorted(set(args) - OPS[op])
    if unknown:
        raise Refused(f"{op} takes no argument {unknown[0]!r}")
    _check_args(args)
    try:
        if op == "start":
            check_spec(layout, backend, args.get("spec"))
        elif op == "route":
            check_route(layout, args["app"], args["name"], args["listen"], args["backends"])
        elif op == "retire":
            _backends(args["backends"])
            check_removals(layout, args["app"], args["cids"], args["remove"])
    except KeyError as exc:
        raise Refused(f"{op} needs the argument {exc.args[0]!r}") from None
    return op, args
