"""The platform image: what a dotCloud service container starts from, built here.

Two images come out of one root file system (:mod:`kit.engine.rootfs`):

- ``dotkit/platform:<key>``, the runtime: Debian, supervisor, HAProxy,
  redis-server, the ``dotcloud`` user and home, the platform's Node.js under
  ``/opt/node/<branch>`` and :mod:`kit.engine.start` as the entry point (with
  :mod:`kit.sandbox.datastores` beside it, for the SQL data services);
- ``dotkit/platform-build:<key>``, the same plus a current Node.js and npm under
  ``/opt/node/build`` to run ``npm install`` at image build time (the npm 1.x of
  the platform's builds cannot reach today's registry), trusting the CAs this
  machine trusts;
- ``dotkit/platform-sql:<key>``, the runtime on the root file system with
  MariaDB and PostgreSQL (:func:`kit.engine.rootfs.sql_spec`), built only when
  an app with a mysql or postgresql service asks for it.

``<key>`` hashes every input, so an image is rebuilt only when one changes; no
image is ever pulled. ``node_mode`` ``platform`` carries the builds the sandbox
runs, from its fetcher and cache (:mod:`kit.engine.nodebuild`), and the key
hashes their versions and integrity strings; ``host`` copies this machine's
``node`` for every branch, for machines without the registry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from kit.engine import nodebuild
from kit.engine.docker import Engine, image_exists, import_image
from kit.engine.rootfs import SQL_PROGRAMS, RootfsSpec, build_rootfs, default_spec, sql_spec
from kit.errors import OperationFailed
from kit.nodejs.versions import Release
from kit.platform import envkeys
from kit.platform import facts as f

REPOSITORY = "dotkit/platform"
BUILD_REPOSITORY = "dotkit/platform-build"
SQL_REPOSITORY = "dotkit/platform-sql"
LABEL = "org.dotkit.platform"
NODE_MODES = ("platform", "host")
NODE_ROOT = "/opt/node"
BUILD_NODE = f"{NODE_ROOT}/build"
START = "/opt/dotkit/start.py"
# The one implementation of MySQL's and PostgreSQL's set-up, carried beside start.py, which
# imports it in the container. A file copied, not a module imported: the sandbox sits above
# the engine, and the module uses the standard library only, as start.py does.
DATASTORES = "/opt/dotkit/datastores.py"
DATASTORES_SOURCE = Path(__file__).resolve().parents[1] / "sandbox" / "datastores.py"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


class PlatformImage(NamedTuple):
    key: str
    runtime: str  # image reference of the service containers
    build: str  # image reference of the build stage
    branches: tuple[str, ...]  # node_version branches the image carries
    sql: str  # the runtime with MariaDB and PostgreSQL, for apps with SQL services


def build_ref(runtime: str) -> str:
    """The build image that goes with the runtime image ``runtime`` (same inputs; the
    SQL runtime builds on the same build image)."""
    return f"{BUILD_REPOSITORY}:{runtime.rsplit(':', 1)[1]}"


def node_bin(branch: str) -> str:
    """Where a service's ``config: node_version`` branch lives in the image."""
    return f"{NODE_ROOT}/{branch}/bin"


def platform_facts() -> dict[str, object]:
    """The paths :mod:`kit.engine.start` needs, from the platform model."""
    return {
        "user": f.USER,
        "home": f.HOME,
        "current": f.CURRENT,
        "data": f.DATA,
        "environment_json": f.ENVIRONMENT_JSON,
        "environment_yml": f.ENVIRONMENT_YML,
        "service_id_key": envkeys.SERVICE_ID,
        "postinstall_timeout": f.POSTINSTALL_TIMEOUT_S,
        "build_node_bin": f"{BUILD_NODE}/bin",
        "data_login": envkeys.DATA_LOGIN,
        "sql_programs": SQL_PROGRAMS,
    }


def host_node() -> tuple[Path, Path]:
    """This machine's ``node`` binary and its npm folder."""
    found = shutil.which("node")
    if found is None:
        raise OperationFailed("node is not installed here; the image build needs it to run npm")
    binary = Path(os.path.realpath(found))
    npm = binary.parent.parent / "lib" / "node_modules" / "npm"
    if not (npm / "package.json").is_file():
        raise OperationFailed(f"no npm beside {binary} (looked in {npm})")
    return binary, npm


def ca_bundle() -> Path:
    """The CA bundle this machine's npm trusts (it may add a proxy's CA)."""
    for name in ("NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"):
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return Path(value)
    return Path(CA_BUNDLE)


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def _file_hash(path: Path) -> bytes:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.digest()


def platform_image(
    node_mode: str, spec: RootfsSpec | None = None, *, node_cache: Path | None = None
) -> PlatformImage:
    """The references the image for ``node_mode`` has on this machine (nothing is built).

    For ``platform``, which builds it carries comes from the release list kept
    in ``node_cache`` (the sandbox's by default): the registry is asked only
    when none is kept there.
    """
    return _image(node_mode, spec or default_spec(), _node_builds(node_mode, node_cache))


def _node_builds(node_mode: str, node_cache: Path | None) -> dict[str, Release]:
    if node_mode not in NODE_MODES:
        raise OperationFailed(f"--node-version must be one of {', '.join(NODE_MODES)}")
    return nodebuild.image_builds(node_cache) if node_mode == "platform" else {}


def _image(node_mode: str, spec: RootfsSpec, builds: dict[str, Release]) -> PlatformImage:
    binary, npm = host_node()
    bundle = ca_bundle()
    parts = [
        spec.key.encode(),
        sql_spec(spec).key.encode(),
        node_mode.encode(),
        nodebuild.key_part(builds),
        Path(__file__).with_name("start.py").read_bytes(),
        DATASTORES_SOURCE.read_bytes(),
        Path(__file__).read_bytes(),  # how the overlay is laid out
        json.dumps(platform_facts(), sort_keys=True).encode(),
        _file_hash(binary),
        (npm / "package.json").read_bytes(),
        _file_hash(bundle) if bundle.is_file() else b"",
    ]
    key = _digest(*parts)
    branches = f.NODE_VERSIONS if node_mode == "host" else tuple(builds)
    return PlatformImage(
        key, f"{REPOSITORY}:{key}", f"{BUILD_REPOSITORY}:{key}", branches, f"{SQL_REPOSITORY}:{key}"
    )


def _root_owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _add_dirs(tar: tarfile.TarFile, *paths: str) -> None:
    """Folders the overlay adds to, as root-owned 0755 entries (an implied folder of a
    tar member would be made 0600 by the engine, and unreadable to the dotcloud user)."""
    seen: set[str] = set()
    for path in paths:
        parts = path.strip("/").split("/")
        for end in range(1, len(parts) + 1):
            name = "/".join(parts[:end])
            if name in seen:
                continue
            seen.add(name)
            info = _root_owned(tarfile.TarInfo(name))
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)


def _add_bytes(tar: tarfile.TarFile, path: str, data: bytes, mode: int) -> None:
    info = _root_owned(tarfile.TarInfo(path.lstrip("/")))
    info.size, info.mode = len(data), mode
    import io

    tar.addfile(info, io.BytesIO(data))


def _norm(name: str) -> str:
    return name.removeprefix("./").strip("/")


def _write_tar(rootfs: Path, dest: Path, overlay: Callable[[tarfile.TarFile], None]) -> None:
    """``rootfs`` with ``overlay``'s entries on top: each path once (the engine refuses
    duplicates), the overlay's version winning."""
    staged = dest.with_name(dest.name + ".overlay")
    try:
        with tarfile.open(staged, "w") as top:
            overlay(top)
        with (
            tarfile.open(staged) as top,
            tarfile.open(rootfs) as src,
            tarfile.open(dest, "w") as out,
        ):
            mine = {_norm(m.name) for m in top.getmembers()}
            for member in src:
                if _norm(member.name) not in mine:
                    out.addfile(member, src.extractfile(member) if member.isfile() else None)
            written: set[str] = set()
            for member in top:
                if _norm(member.name) not in written:
                    written.add(_norm(member.name))
                    out.addfile(member, top.extractfile(member) if member.isfile() else None)
    finally:
        staged.unlink(missing_ok=True)


def _runtime_overlay(
    node_mode: str, branches: tuple[str, ...], node_dirs: dict[str, Path]
) -> Callable[[tarfile.TarFile], None]:
    def overlay(tar: tarfile.TarFile) -> None:
        bins = [f"{NODE_ROOT}/{b}/bin" for b in branches]
        folders = [*(bins if node_mode == "host" else [NODE_ROOT]), str(Path(CA_BUNDLE).parent)]
        _add_dirs(tar, "/opt/dotkit", *folders)
        tar.add(str(Path(__file__).with_name("start.py")), START.lstrip("/"), filter=_root_owned)
        tar.add(str(DATASTORES_SOURCE), DATASTORES.lstrip("/"), filter=_root_owned)
        facts = json.dumps(platform_facts(), indent=2).encode()
        _add_bytes(tar, "/opt/dotkit/platform.json", facts, 0o644)
        _add_bytes(tar, CA_BUNDLE, ca_bundle().read_bytes(), 0o644)
        binary, _ = host_node()
        for branch in branches:
            target = f"{NODE_ROOT}/{branch}".lstrip("/")
            if node_mode == "host":
                tar.add(str(binary), f"{target}/bin/node", filter=_root_owned)
            else:
                tar.add(str(node_dirs[branch]), target, filter=_root_owned)

    return overlay


def _build_overlay(runtime: Callable[[tarfile.TarFile], None]) -> Callable[[tarfile.TarFile], None]:
    def overlay(tar: tarfile.TarFile) -> None:
        runtime(tar)
        binary, npm = host_node()
        base = BUILD_NODE.lstrip("/")
        _add_dirs(tar, f"{BUILD_NODE}/bin", f"{BUILD_NODE}/etc", f"{BUILD_NODE}/lib/node_modules")
        tar.add(str(binary), f"{base}/bin/node", filter=_root_owned)
        tar.add(str(npm), f"{base}/lib/node_modules/npm", filter=_root_owned)
        link = _root_owned(tarfile.TarInfo(f"{base}/bin/npm"))
        link.type, link.linkname = tarfile.SYMTYPE, "../lib/node_modules/npm/bin/npm-cli.js"
        tar.addfile(link)
        npmrc = f"cafile={CA_BUNDLE}\nfund=false\naudit=false\nupdate-notifier=false\n"
        _add_bytes(tar, f"{BUILD_NODE}/etc/npmrc", npmrc.encode(), 0o644)

    return overlay


def _changes(image: PlatformImage, role: str) -> list[str]:
    return [
        f"WORKDIR {f.HOME}",
        f"ENV HOME={f.HOME} PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8",
        f'ENTRYPOINT ["/usr/bin/python3", "{START}"]',
        'CMD ["run"]',
        f"LABEL {LABEL}={image.key} org.dotkit.role={role}",
    ]


def build_platform_image(
    engine: Engine,
    node_mode: str,
    cache: Path,
    say: Callable[[str], None],
    *,
    node_cache: Path | None = None,
    sql: bool = False,
) -> tuple[PlatformImage, bool]:
    """Build and import the images the engine lacks; (image, whether any was built).

    The runtime and build images always; with ``sql``, the SQL runtime too.
    ``cache`` keeps the root file systems; the Node.js builds are fetched into
    ``node_cache`` (the sandbox's by default, so each is downloaded once).
    """
    spec = default_spec()
    builds = _node_builds(node_mode, node_cache)
    image = _image(node_mode, spec, builds)
    wanted = [(image.runtime, "runtime"), (image.build, "build")]
    wanted += [(image.sql, "sql")] if sql else []
    missing = [(ref, role) for ref, role in wanted if not image_exists(engine, ref)]
    if not missing:
        say(f"{image.runtime}: already in the engine (inputs unchanged)")
        return image, False
    node_dirs = nodebuild.fetch_builds(builds, node_cache, say)
    runtime = _runtime_overlay(node_mode, image.branches, node_dirs)
    for ref, role in missing:
        rootfs = build_rootfs(sql_spec(spec) if role == "sql" else spec, cache, say)
        overlay = _build_overlay(runtime) if role == "build" else runtime
        tarball = cache / f".{role}-{image.key}.tar"
        try:
            _write_tar(rootfs, tarball, overlay)
            say(f"docker import {ref}")
            import_image(engine, tarball, ref, _changes(image, role))
        finally:
            tarball.unlink(missing_ok=True)
    return image, True
