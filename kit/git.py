"""git on repositories the kit did not make: nothing in them may run a program.

A repository's own ``.git/config`` can name programs git runs by itself:
``core.fsmonitor`` on every ``status``, filter drivers (``filter.<name>.clean``,
``.process``) whenever a file's content is compared, ``diff.external``, hooks,
pagers, credential helpers, ``core.sshCommand``. :func:`run_git` gives git an
environment without the system and global config, and overrides every such key
on the command line, which beats any config file; the filter, diff and merge
drivers the repository declares are read first (reading config runs nothing)
and each is emptied. An emptied command makes git fail rather than run something:
for a diff, pass ``--no-ext-diff --no-textconv``. Git's ``safe.directory`` check
stays on.
"""

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from kit.proc import Completed, run

GIT_TIMEOUT = 30.0
# Keys naming a program git may start, overridden with a harmless value.
NEUTRAL_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", os.devnull),
    ("core.pager", "cat"),
    ("core.editor", "false"),
    ("core.askPass", ""),
    ("core.sshCommand", "false"),
    ("core.gitProxy", ""),
    ("core.alternateRefsCommand", ""),
    ("core.untrackedCache", "false"),
    ("credential.helper", ""),
    ("diff.external", ""),
    ("uploadpack.packObjectsHook", ""),
    ("protocol.allow", "never"),
    ("sequence.editor", "false"),
    ("gpg.program", "false"),
)
# Variables that would make git run a program, or read a config other than the repo's.
_DROPPED = frozenset(
    {
        "GIT_EXTERNAL_DIFF", "GIT_PAGER", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_SSH",
        "GIT_SSH_COMMAND", "GIT_EDITOR", "GIT_CONFIG", "GIT_CONFIG_COUNT",
        "GIT_CONFIG_PARAMETERS", "GIT_EXEC_PATH", "GIT_PROXY_COMMAND", "GIT_TRACE",
        "GIT_TRACE2", "GIT_TRACE2_EVENT",
    }
)  # fmt: skip
# Drivers a repository may declare and name from .gitattributes, with the keys that
# name their programs: each one found is emptied.
_DRIVER_KEYS = {
    "filter": ("clean", "smudge", "process"),
    "diff": ("command", "textconv"),
    "merge": ("driver",),
}
_DRIVER = re.compile(r"^(filter|diff|merge)\.(.+)\.([a-z]+)$")


def git_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every git the kit starts gets."""
    env = {k: v for k, v in (base if base is not None else os.environ).items() if k not in _DROPPED}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_ATTR_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",
        GIT_NO_REPLACE_OBJECTS="1",
        GIT_PAGER="cat",
        LC_ALL="C",
    )
    return env


def _overrides(pairs: Sequence[tuple[str, str]]) -> list[str]:
    return [arg for key, value in pairs for arg in ("-c", f"{key}={value}")]


def drivers(root: Path, env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The (kind, name) of every filter, diff and merge driver the repository's config
    declares, includes followed (reading config runs nothing)."""
    done = run(
        ["git", *_overrides(NEUTRAL_CONFIG), "config", "--includes", "--name-only",
         "--get-regexp", r"^(filter|diff|merge)\."],
        cwd=root, env=env, timeout=GIT_TIMEOUT, check=False,
    )  # fmt: skip
    found = {(m[1], m[2]) for line in done.stdout.splitlines() if (m := _DRIVER.match(line))}
    return sorted(found)


def run_git(
    root: Path,
    *args: str,
    timeout: float = GIT_TIMEOUT,
    env: Mapping[str, str] | None = None,
    check: bool = False,
) -> Completed:
    """``git ARGS`` in ``root``, with everything that could start a program turned off."""
    environment = git_environment(env)
    neutral = list(NEUTRAL_CONFIG)
    for kind, name in drivers(root, environment):
        neutral += [(f"{kind}.{name}.{key}", "") for key in _DRIVER_KEYS[kind]]
        if kind == "filter":
            neutral.append((f"filter.{name}.required", "false"))
    argv = ["git", "--no-pager", *_overrides(neutral), *args]
    return run(argv, cwd=root, timeout=timeout, env=environment, check=check)
