"""The container boundary and the platform's limits.

- :mod:`.rootfs`: what a container sees (read-only system folders, its own
  home, generated ``/etc/passwd``, ``/etc/hosts``, a private ``/tmp``) and
  the bubblewrap flags (user, PID, mount, UTS, IPC and network namespaces, no
  capabilities, ``no_new_privs``).
- :mod:`.seccomp`: the system calls refused inside (mount, ptrace, modules,
  namespaces...), built with libseccomp.
- :mod:`.limits`: memory, process and CPU limits as values (``512M``).
- :mod:`.cgroups`: those limits enforced with control groups, and the kernel's
  out-of-memory kills read back.
- :mod:`.plan` and :mod:`.enter`: the launch plan and the host-side launcher
  that applies it and becomes bubblewrap.
- :mod:`.watch`: the platform process's side (kills noticed, groups removed).
- :mod:`.nsexec`: ``dotkit run`` and ``ssh`` entering a running container.
"""
