"""The system calls a container may not make, as a seccomp program for ``bwrap --seccomp FD``.

The filter is built by libseccomp (through the ``pyseccomp`` bindings), which
also adds the architecture check: a call made through a foreign ABI (a 32-bit
``int 0x80`` on x86_64, say) kills the process instead of slipping past rules
written for native numbers. Everything not listed is allowed, as Docker's
default profile does; the list is what a container could use to get out or to
reach the host: mounts, namespaces, ptrace, kernel modules, keyrings, BPF and
the like. A refused call fails with EPERM, so programs see an ordinary error.
"""

from __future__ import annotations

import errno
import os
from typing import Any

# Calls refused outright.
DENIED = (
    # mounts and the filesystem tree
    "mount", "umount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    # namespaces
    "setns", "unshare",
    # other processes' memory and state
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # the kernel itself
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "bpf", "perf_event_open", "userfaultfd", "syslog", "acct", "quotactl",
    "reboot", "swapon", "swapoff", "iopl", "ioperm", "lookup_dcookie",
    # keyrings, shared by every process of the host user
    "add_key", "request_key", "keyctl",
    # file handles bypass the mount tree
    "open_by_handle_at", "name_to_handle_at",
    # clocks of the whole machine
    "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
)  # fmt: skip

# clone() with any of these flags would make a namespace.
CLONE_NEW_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
    0x00000080,  # CLONE_NEWTIME
)


class SeccompUnavailable(RuntimeError):
    """libseccomp (or its bindings) cannot be loaded here."""


def _library() -> Any:
    try:
        import pyseccomp
    except (ImportError, OSError, AttributeError, TypeError) as exc:
        # pyseccomp loads libseccomp.so.2 when imported; without it the import fails.
        raise SeccompUnavailable(
            f"libseccomp cannot be loaded ({exc}); install the Debian package libseccomp2"
        ) from None
    return pyseccomp


def unavailable() -> str | None:
    """Why no filter can be built here, or None when it can."""
    try:
        _library()
    except SeccompUnavailable as exc:
        return str(exc)
    return None


def _filter() -> Any:
    sc = _library()
    refuse = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(sc.ALLOW)
    for name in DENIED:
        try:
            flt.add_rule(refuse, name)
        except (OSError, ValueError, RuntimeError):
            continue  # not a call on this architecture (iopl on aarch64, say)
    for flag in CLONE_NEW_FLAGS:
        flt.add_rule(refuse, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    # clone3 passes its flags in memory a filter cannot read: say it does not
    # exist, and libc falls back to clone(), whose flags the rules above see.
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    return flt


def _export(method: str) -> bytes:
    flt = _filter()
    fd = os.memfd_create("dotkit-seccomp")
    try:
        with os.fdopen(os.dup(fd), "rb") as handle:
            getattr(flt, method)(handle)  # libseccomp writes to the descriptor itself
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def program() -> bytes:
    """The filter as a BPF program (the bytes bubblewrap reads from ``--seccomp FD``)."""
    return _export("export_bpf")


def describe() -> str:
    """The same filter in libseccomp's readable pseudo-code."""
    return _export("export_pfc").decode()
