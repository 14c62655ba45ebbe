"""The package's rooms: each module imports only from its own layer or below.

Read from the source with :mod:`ast` (imports inside functions count too), so a
lazy import cannot hide a call upwards. The table is the architecture in one
place: the platform's facts at the bottom, then the JavaScript analysis and the
platform's Node.js builds (which the engine's image and the sandbox both use), the
platform model, the two pipelines (convert and verify, which do not import each
other), the sandbox, repro, the verify server's client side, the commands, and
the CLI with the processes that run it on top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parent.parent / "kit"

# Longest prefix wins. Modules of one layer may import each other only within
# the same component (the first two parts of the name), except in layer 0.
LAYERS: dict[str, int] = {
    "kit": 0,
    "kit.errors": 0,
    "kit.findings": 0,
    "kit.paths": 0,
    "kit.secrets": 0,
    "kit.terms": 0,
    "kit.console": 0,
    "kit.proc": 0,
    "kit.jsonpos": 0,
    "kit.appfs": 0,
    "kit.files": 0,
    "kit.git": 0,
    "kit.private": 0,
    "kit.platform": 0,
    "kit.platform.facts": 0,
    "kit.platform.names": 0,
    "kit.platform.envkeys": 0,
    "kit.js": 1,
    "kit.nodejs": 1,
    "kit.platform.model": 2,
    "kit.platform.ports": 2,
    "kit.engine": 2,
    "kit.platform.judge": 2,
    "kit.convert": 3,
    "kit.verify": 3,
    "kit.sandbox": 4,
    "kit.export": 4,
    "kit.repro": 5,
    "kit.verifyd": 6,
    "kit.commands": 7,
    "kit.cli": 8,
    "kit.verifyd.server": 9,
    "kit.launch": 9,
    "kit.__main__": 10,
}


def layer(module: str) -> int:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = LAYERS.get(".".join(parts[:end]))
        if found is not None:
            return found
    raise AssertionError(f"{module} has no layer: add it to LAYERS in {__file__}")


def component(module: str) -> str:
    return ".".join(module.split(".")[:2])


def module_name(path: Path) -> str:
    rel = path.relative_to(KIT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, name: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from kit.verify import runner` imports kit.verify.runner
            targets = [f"{base}.{alias.name}" for alias in node.names]
            found += [(node.lineno, t if _is_module(t) else base) for t in targets]
    return [(line, target) for line, target in found if target.split(".")[0] == "kit"]


def _is_module(name: str) -> bool:
    path = KIT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


MODULES = sorted(KIT.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(KIT.parent)))
def test_a_module_imports_only_from_below(path: Path) -> None:
    name = module_name(path)
    mine = layer(name)
    wrong = []
    for line, target in imports(path, name):
        theirs = layer(target)
        if theirs > mine or (theirs == mine and mine > 0 and component(target) != component(name)):
            wrong.append(f"{path.name}:{line} imports {target} (layer {theirs}; {name} is {mine})")
    assert not wrong, "\n".join(wrong)


def test_the_table_knows_every_package() -> None:
    for path in MODULES:
        layer(module_name(path))


def test_the_check_sees_an_import_upwards(tmp_path: Path) -> None:
    # The test itself must be able to fail: a verify module that asks the CLI.
    bad = KIT / "verify" / "output.py"
    tree = imports(bad, "kit.verify.output")
    assert all(layer(t) <= layer("kit.verify.output") for _, t in tree)
    source = tmp_path / "kit" / "verify" / "x.py"
    source.parent.mkdir(parents=True)
    source.write_text("def f():\n    from kit.cli import main\n")
    found = imports(source, "kit.verify.x")
    assert found == [(2, "kit.cli")] and layer("kit.cli") > layer("kit.verify.x")
