"""The gateway's host names: which service of which app a ``Host`` header names.

On dotCloud a service answered at ``<app>-<user>.dotcloud.com``. The sandbox has
no users and serves on this machine, so it names each HTTP service
``<service>.<app>.localhost`` and also answers for the ``www`` service at
``<app>.localhost``. RFC 6761 reserves ``.localhost`` for the loopback address:
browsers and curl send every such name to 127.0.0.1 without asking DNS (glibc's
resolver does so only with the ``myhostname`` NSS module). Dots rather than
dashes keep the names unambiguous: application names may contain ``-``, service
names never contain ``.``.
"""

from __future__ import annotations

DOMAIN = "localhost"
WWW = "www"


def host_name(app: str, service: str) -> str:
    """The host name of ``service`` of ``app`` at the gateway."""
    return f"{service}.{app}.{DOMAIN}"


def names_of(app: str, service: str) -> tuple[str, ...]:
    """Every host name the gateway answers for ``service`` of ``app``."""
    if service == WWW:
        return (host_name(app, service), f"{app}.{DOMAIN}")
    return (host_name(app, service),)


def host_only(header: str) -> str:
    """A ``Host`` header's name, lower-cased, without its port or a final dot.

    ``[::1]:8080`` gives ``::1``; anything malformed gives a name no route has.
    """
    value = header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else ""
    name, _, port = value.rpartition(":")
    if name and port.isdigit():
        value = name
    return value.rstrip(".")


def url(scheme: str, app: str, service: str, port: int) -> str:
    """The URL of ``service`` at the gateway: ``www`` by the app's own name, as on dotCloud."""
    name = names_of(app, service)[-1]
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{name}/" if port == default else f"{scheme}://{name}:{port}/"
