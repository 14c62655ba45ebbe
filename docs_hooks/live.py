"""Outputs of the real ``dotkit`` command, quoted by the hand-written pages.

A page asks for one with a line ``<!-- live: NAME -->``; the hook puts the block
in its place, indented like the marker (so it works inside content tabs and
admonitions). The commands run at build time, so the site shows what the kit
says today, and a command that stops behaving as the page claims fails the build.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from docs_hooks.pages import code_block

ROOT = Path(__file__).resolve().parent.parent
GUIDE_APP = "sample_apps/nodesocket-guide"

# The build file the porting guide prints, with its indentation as the guide has it:
# `approot:` sits two columns deeper than `type:`, so YAML reads it as part of the
# value of `type` and the file does not parse. One copy, shared with the tests.
GUIDE_EXAMPLE = (ROOT / "sample_apps" / "guide-examples" / "dotcloud.yml").read_text()
GUIDE_EXAMPLE_FIXED = GUIDE_EXAMPLE.replace("    approot: Gear1", "  approot: Gear1")


class LiveError(RuntimeError):
    """A command quoted by the docs did not do what the page says it does."""


def run_dotkit(args: list[str], cwd: Path, expect: int) -> str:
    """Run ``dotkit ARGS`` in ``cwd`` and return what it printed; fail on another exit code."""
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "100"}
    proc = subprocess.run(
        [sys.executable, "-m", "kit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != expect:
        raise LiveError(
            f"`dotkit {' '.join(args)}` exited with {proc.returncode}, the docs expect "
            f"{expect}; it printed:\n{output}"
        )
    return output


def _console(command: str, output: str) -> str:
    return code_block(f"$ {command}\n{output}", "console")


def _source_file(relpath: str, lang: str) -> str:
    text = (ROOT / GUIDE_APP / relpath).read_text(encoding="utf-8")
    return code_block(text, lang, title=relpath)


def guide_dry_run() -> str:
    args = ["convert", GUIDE_APP, "--dry-run"]
    return _console("dotkit " + " ".join(args), run_dotkit(args, ROOT, expect=0))


class Live:
    """The outputs of one build. The guide's app is converted once, into a folder
    that :meth:`close` removes at the end of the build."""

    def __init__(self) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def snippets(self) -> dict[str, Callable[[], str]]:
        """Every ``<!-- live: NAME -->`` a page may use."""
        return {
            "guide-example": lambda: code_block(
                GUIDE_EXAMPLE, "yaml", title="dotcloud.yml, as the guide prints it"
            ),
            "guide-example-verify": self.guide_example_verify,
            "guide-example-fixed": lambda: code_block(
                GUIDE_EXAMPLE_FIXED, "yaml", title="dotcloud.yml, fixed"
            ),
            "guide-example-fixed-verify": lambda: self._verify_with(GUIDE_EXAMPLE_FIXED, 0),
            "guide-dry-run": guide_dry_run,
            "gear1-torque": lambda: _source_file("Gear1/.torque", "json"),
            "converted-dotcloud-yml": lambda: self._converted_file("dotcloud.yml", "yaml"),
            "converted-gear1-supervisord": lambda: self._converted_file(
                "Gear1/supervisord.conf", "ini"
            ),
        }

    def guide_example_verify(self) -> str:
        block = self._verify_with(GUIDE_EXAMPLE, 1)
        if "yaml-syntax" not in block:
            raise LiveError("dotkit verify no longer reports the guide's example as yaml-syntax")
        return block

    def _workdir(self) -> Path:
        """A folder holding ``dotcloudapp``: the guide's app converted with ``--fix``."""
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dotkit-docs-")
            out = Path(self._tmp.name) / "dotcloudapp"
            run_dotkit(["convert", GUIDE_APP, "-o", str(out), "--fix"], ROOT, expect=0)
        return Path(self._tmp.name)

    def _converted_file(self, relpath: str, lang: str) -> str:
        path = self._workdir() / "dotcloudapp" / relpath
        if not path.is_file():
            raise LiveError(f"dotkit convert no longer writes {relpath}")
        return code_block(path.read_text(encoding="utf-8"), lang, title=relpath)

    def _verify_with(self, build_file: str, expect: int) -> str:
        """``dotkit verify`` on the converted app with ``build_file`` as its dotcloud.yml."""
        work = self._workdir()
        app_yml = work / "dotcloudapp" / "dotcloud.yml"
        original = app_yml.read_text(encoding="utf-8")
        app_yml.write_text(build_file, encoding="utf-8")
        try:
            output = run_dotkit(["verify", "dotcloudapp", "--no-cache"], work, expect)
        finally:
            app_yml.write_text(original, encoding="utf-8")
        return _console("dotkit verify dotcloudapp", output)
