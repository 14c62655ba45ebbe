"""The pure parts of the container boundary: argv, root, names, limits, the filter's shape."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kit.errors import UsageError
from kit.sandbox.isolation import cgroups, limits, nsexec, plan, rootfs, seccomp
from kit.sandbox.isolation.enter import give

BOX = rootfs.Box(
    kind="service",
    home="/state/apps/a/containers/www.0-d1",
    private="/state/apps/a/containers/www.0-d1/.dotkit",
    logs="/state/apps/a/containers/www.0-d1/.dotkit/log",
    sockets="/run/x/a/c/www.0-d1",
    services="/run/x/a/s",
    hostname="www-0",
    netns=True,
    hosts="127.0.0.1\tlocalhost\n",
    env={"PYTHONPATH": rootfs.LIB},
    extra_ro=["/opt/node-v0.8.28"],
    command=["/usr/bin/python3", "-m", "kit.sandbox.cinit", "/home/dotcloud/.dotkit/cinit.json"],
)


def _args(box: rootfs.Box = BOX, **kw: object) -> list[str]:
    staged = {inside: f"/mnt/{i}" for i, (_, inside, _) in enumerate(rootfs.host_binds(box))}
    options: dict = {"staged": staged, "data_fds": {"/etc/passwd": 3}, "seccomp_fd": 9,
                     "info_fd": 7, "system": rootfs.system_args(set(), {"/bin": "usr/bin"})}  # fmt: skip
    options.update(kw)
    return rootfs.bwrap_args(box, **options)  # type: ignore[arg-type]


def _pairs(args: list[str], flag: str) -> list[tuple[str, str]]:
    return [(args[i + 1], args[i + 2]) for i, a in enumerate(args) if a == flag]


def test_a_service_box_is_a_user_namespace_without_capabilities() -> None:
    args = _args()
    head = args[: args.index("--")]
    for flag in ("--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-uts",
                 "--unshare-net", "--die-with-parent", "--new-session", "--clearenv"):  # fmt: skip
        assert flag in head
    assert head[head.index("--uid") + 1] == "1000" and head[head.index("--gid") + 1] == "1000"
    assert head[head.index("--cap-drop") + 1] == "ALL"
    assert head[head.index("--hostname") + 1] == "www-0"
    assert head[head.index("--seccomp") + 1] == "9" and head[head.index("--info-fd") + 1] == "7"
    assert args[args.index("--") + 1 :] == BOX.command
    assert "--dev-bind" not in head and "--cap-add" not in head


def test_the_root_is_read_only_system_folders_and_the_boxs_own() -> None:
    args = _args()
    writable = _pairs(args, "--bind")
    assert writable == [
        ("/mnt/0", "/home/dotcloud"),
        ("/mnt/2", "/home/dotcloud/.dotkit/supervisord.pid"),
        ("/mnt/3", "/var/log/supervisor"),
        ("/mnt/4", "/run/dotkit/self"),
    ]
    read_only = {b: a for a, b in _pairs(args, "--ro-bind")}
    assert read_only["/usr"] == "/usr" and read_only["/home/dotcloud/.dotkit"] == "/mnt/1"
    assert read_only["/run/dotkit/services"] == "/mnt/5" and "/opt/node-v0.8.28" in read_only
    sources = {a for a, _ in _pairs(args, "--ro-bind-try")}
    assert (
        "/etc/ssl" in sources and "/etc/shadow" not in sources and "/etc/resolv.conf" not in sources
    )
    assert not any(s.startswith(("/root", "/work", "/home/", "/state")) for s in sources)
    assert args[args.index("/tmp") - 1] == "--tmpfs"
    assert ("usr/bin", "/bin") in _pairs(args, "--symlink")


def test_a_build_keeps_the_host_network_and_gets_a_resolver() -> None:
    build = BOX._replace(
        kind="build", netns=False, private=None, logs=None, sockets=None, services=None
    )
    args = _args(build)
    assert "--unshare-net" not in args
    assert ("/etc/resolv.conf", "/etc/resolv.conf") in _pairs(args, "--ro-bind-try")
    assert _pairs(args, "--bind") == [("/mnt/0", "/home/dotcloud")]


def test_a_network_made_by_the_launcher_is_not_made_twice() -> None:
    assert "--unshare-net" not in _args(netns_ready=True)


def test_environment_is_set_inside_never_inherited() -> None:
    args = _args()
    env = dict(_pairs(args, "--setenv"))
    assert env["HOME"] == "/home/dotcloud" and env["USER"] == "dotcloud"
    assert env["PYTHONPATH"] == rootfs.LIB and "LD_PRELOAD" not in env
    assert args.index("--clearenv") < args.index("--setenv")


def test_identity_files_name_the_dotcloud_user() -> None:
    assert "dotcloud:x:1000:1000:dotCloud:/home/dotcloud:/bin/bash" in rootfs.passwd()
    assert "dotcloud:x:1000:" in rootfs.group()
    files = rootfs.data_files(BOX, Path(__file__).resolve().parents[2])
    assert set(files) >= {"/etc/passwd", "/etc/group", "/etc/hosts", "/etc/hostname"}
    assert f"{rootfs.LIB}/kit/sandbox/cinit.py" in files
    assert not any("daemon" in name or "deploy" in name for name in files)


@pytest.mark.parametrize(
    ("service", "instance", "expected"),
    [
        ("www", 0, "www-0"),
        ("my_api", 2, "my-api-2"),
        ("../..", 1, "dotcloud-1"),
        ("", None, "dotcloud"),
    ],
)
def test_host_names(service: str, instance: int | None, expected: str) -> None:
    assert rootfs.hostname(service, instance) == expected


@pytest.mark.parametrize("name", ["..", ".", "a/b", "../../etc", "x" * 200, "", "é", "a\nb", "-x"])
def test_hostile_names_become_one_safe_component(name: str) -> None:
    part = cgroups.part(name)
    assert "/" not in part and part not in ("", ".", "..") and len(part) <= 64
    assert cgroups.part(name) == part  # stable


def test_group_paths_sit_under_one_folder_per_sandbox() -> None:
    rel = cgroups.relative("/home/x/.dotkit\0/tmp/dotkit-1", "app", "www.0-d3")
    assert rel.parts[0].startswith("dotkit-") and rel.parts[1:] == ("app", "www.0-d3")
    other = cgroups.relative("/elsewhere", "app", "www.0-d3")
    assert other.parts[0] != rel.parts[0]
    assert ".." not in cgroups.relative("s", "..", "../../x").parts


MOUNTINFO = """\
30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:10 - cgroup cgroup rw,memory
31 25 0:27 / /sys/fs/cgroup/pids rw,relatime shared:11 - cgroup cgroup rw,pids
32 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
33 25 0:29 / /sys/fs/cgroup/unified rw,relatime shared:13 - cgroup2 cgroup2 rw
"""


def test_mounts_and_own_groups_are_read_from_proc() -> None:
    v1, v2 = cgroups._mounts(MOUNTINFO)
    assert v1 == {
        "memory": Path("/sys/fs/cgroup/memory"),
        "pids": Path("/sys/fs/cgroup/pids"),
        "cpu": Path("/sys/fs/cgroup/cpu,cpuacct"),
    }
    assert v2 == Path("/sys/fs/cgroup/unified")
    own = cgroups._own("4:memory:/process_api/abc\n3:cpu,cpuacct:/\n0::/\n")
    assert own == {"memory": "/process_api/abc", "cpu": "/", "cpuacct": "/", "": "/"}


def test_a_group_is_made_limited_read_and_removed(tmp_path: Path) -> None:
    roots = {c: tmp_path / c for c in ("memory", "pids", "cpu")}
    for root in roots.values():
        root.mkdir()
    group = cgroups.Group(cgroups.Hierarchy(1, roots), cgroups.relative("s", "app", "www.0"))
    group.create(limits.Limits(512 * limits.MB, 100, 512))
    memory = group.dirs["memory"]
    assert (memory / "memory.limit_in_bytes").read_text() == str(512 * limits.MB)
    assert (group.dirs["pids"] / "pids.max").read_text() == "100"
    assert (group.dirs["cpu"] / "cpu.shares").read_text() == "512"
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    (memory / "memory.failcnt").write_text("7\n")
    (group.dirs["pids"] / "pids.events").write_text("max 3\n")
    assert group.usage() == cgroups.Usage(2, 7, 3)
    for path in group.dirs.values():  # a real cgroupfs removes its files with the folder
        for child in path.iterdir():
            child.unlink()
    group.remove()
    assert all(not any(root.iterdir()) for root in roots.values())


def test_groups_left_by_killed_launchers_are_swept(tmp_path: Path) -> None:
    root = tmp_path / "memory"
    app = root / "dotkit-x" / "app"
    for name in ("www.0-build-old", "www.0-build-new", "www.0-d1", "www.0-hook-old"):
        (app / name).mkdir(parents=True)
    for name in ("www.0-build-old", "www.0-hook-old"):
        os.utime(app / name, (0, 0))
    group = cgroups.Group(
        cgroups.Hierarchy(1, {"memory": root}), Path("dotkit-x/app/www.0-build-me")
    )
    (app / "www.0-build-me").mkdir()
    assert group.sweep("-build-") == 1
    assert sorted(p.name for p in app.iterdir()) == [
        "www.0-build-me",
        "www.0-build-new",
        "www.0-d1",
        "www.0-hook-old",
    ]


def test_no_hierarchy_means_no_group() -> None:
    group = cgroups.Group(cgroups.Hierarchy(0, {}), Path("x"))
    assert not group.enabled and group.usage() == cgroups.Usage(0, 0, 0)
    assert cgroups.Hierarchy(0, {}).describe().startswith("none:")


@pytest.mark.parametrize(
    ("text", "size"),
    [("512M", 512 * limits.MB), ("1G", 1024 * limits.MB), ("100", 128 * limits.MB),
     ("33M", 64 * limits.MB), ("1.5g", 1536 * limits.MB), ("32mb", 32 * limits.MB)],
)  # fmt: skip
def test_memory_sizes_round_up_to_32m_like_the_cli(text: str, size: int) -> None:
    assert limits.parse_memory(text) == size


@pytest.mark.parametrize("text", ["", "lots", "-5M", "0M", "65G", "1e9"])
def test_bad_memory_sizes_are_refused(text: str) -> None:
    with pytest.raises(UsageError):
        limits.parse_memory(text)


def test_sizes_are_written_as_the_platform_did() -> None:
    assert limits.format_size(64 * limits.MB) == "64M"
    assert limits.format_size(2048 * limits.MB) == "2G"
    assert cgroups.oom_message(limits.SERVICE) == "killed: out of memory (limit 512M)"
    assert limits.for_container() == limits.SERVICE
    assert limits.for_container(memory=64 * limits.MB).memory == 64 * limits.MB


@pytest.mark.skipif(seccomp.unavailable() is not None, reason="libseccomp is not installed")
def test_the_filter_refuses_escapes_and_kills_on_a_foreign_architecture() -> None:
    program = seccomp.program()
    assert program and len(program) % 8 == 0  # whole sock_filter instructions
    text = seccomp.describe()
    for name in ("mount", "umount2", "ptrace", "init_module", "finit_module", "setns", "unshare",
                 "bpf", "keyctl", "open_by_handle_at"):  # fmt: skip
        assert f'"{name}"' in text, name
    assert "action ERRNO(1);" in text and "action ERRNO(38);" in text  # EPERM; clone3: ENOSYS
    assert "# invalid architecture action\naction KILL;" in text
    assert "# default action\n  action ALLOW;" in text


def test_host_users_are_unused_uids_one_per_sandbox() -> None:
    taken = {plan.host_user("a", euid=0, taken=lambda uid: False)[0]}
    uid, gid = plan.host_user("a", euid=0, taken=lambda u: u in taken)
    assert uid == gid and uid == next(iter(taken)) + 1
    assert plan.UID_BASE <= uid < plan.UID_BASE + plan.UID_RANGE + 1
    assert plan.host_user("a", euid=0, taken=lambda u: False) != plan.host_user(
        "b", euid=0, taken=lambda u: False
    )
    assert plan.host_user("a", euid=1000) == (os.getuid(), os.getgid())


def test_run_enters_every_namespace_as_dotcloud_and_reads_the_env_inside() -> None:
    argv = nsexec.nsenter_argv("/usr/bin/nsenter", 42, ["/bin/sh", "-lc", "ls"], 5)
    for flag in ("--user", "--mount", "--net", "--pid", "--uts", "--ipc"):
        assert flag in argv
    assert argv[argv.index("--setuid") + 1] == "1000" and argv[argv.index("--target") + 1] == "42"
    inner = argv[argv.index("--") + 1 :]
    assert inner[0] == "/usr/bin/setpriv" and "--no-new-privs" in inner
    assert "--exec" in inner and inner[inner.index("--seccomp-fd") + 1] == "5"
    assert inner[-3:] == ["/bin/sh", "-lc", "ls"]
    env = nsexec.inner_env("xterm")
    assert set(env) == {"PATH", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "LANG", "TERM"}


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_giving_a_home_never_follows_a_planted_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("host file")
    home = tmp_path / "home"
    (home / "code").mkdir(parents=True)
    (home / "code" / "app.js").write_text("x")
    (home / "link").symlink_to(victim)
    (home / ".dotkit").mkdir()
    give(home, 4242, 4242, skip=frozenset({".dotkit"}))
    assert victim.stat().st_uid == 0
    assert (home / "link").lstat().st_uid == 4242
    assert (home / "code" / "app.js").stat().st_uid == 4242
    assert (home / ".dotkit").stat().st_uid == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_new_code_in_a_home_the_container_owns_is_given_too(tmp_path: Path) -> None:
    # A build restored from its snapshot: the home is already the container's, the
    # code the platform just copied in is root's, node_modules inside is the build's.
    home = tmp_path / "work"
    (home / "code" / "www" / "node_modules").mkdir(parents=True)
    give(home, 4242, 4242)
    (home / "code").rename(home / "old")
    (home / "code" / "www").mkdir(parents=True)
    (home / "old" / "www" / "node_modules").rename(home / "code" / "www" / "node_modules")
    (home / "code" / "www" / "server.js").write_text("x")
    give(home, 4242, 4242)
    assert (home / "code").stat().st_uid == 4242
    assert (home / "code" / "www" / "server.js").stat().st_uid == 4242
