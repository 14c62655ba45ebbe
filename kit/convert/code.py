"""A Gear's code, analysed once for the conversion.

Every script gets the first analysis (:func:`kit.js.analysis.analyze_js`); the
files node loads, and a module a port is read from, get the second
(:func:`kit.js.modules.analyze_module`) when first asked. Paths are relative to
the app root, as the findings and the written files are.
"""

from kit.convert.gears import GearInput
from kit.js.analysis import analyze_js, not_served, worth_parsing
from kit.js.link import Linker, Loaded, loaded_files, resolve
from kit.js.model import JsAnalysis, ListenCall, ModuleFacts
from kit.js.modules import analyze_json_module, analyze_module

EMPTY = JsAnalysis((), None)  # a file holding nothing the rules look for: not parsed


def join(approot: str, name: str) -> str:
    return name if approot == "." else f"{approot}/{name}"


class GearCode:
    """The scripts and JSON files of one Gear, their analyses, and what links them."""

    def __init__(self, gear: GearInput) -> None:
        self.approot = gear.approot
        self.sources = {join(gear.approot, rel): data for rel, data in gear.scripts}
        self.data = {join(gear.approot, rel): data for rel, data in gear.data}
        self.files = frozenset(join(gear.approot, rel) for rel in gear.files)
        self.analyses: dict[str, JsAnalysis] = {
            path: analyze_js(source) if worth_parsing(source) else EMPTY
            for path, source in self.sources.items()
            if not not_served(path)
        }
        self._facts: dict[str, ModuleFacts | None] = {}
        self.linker = Linker(self.files, self.facts)

    def facts(self, path: str) -> ModuleFacts | None:
        """The module facts of ``path``, analysed on first use; None if not read."""
        if path not in self._facts:
            if path in self.sources:
                self._facts[path] = analyze_module(self.sources[path])
            elif path in self.data:
                self._facts[path] = analyze_json_module(self.data[path])
            else:
                self._facts[path] = None
        return self._facts[path]

    def listens(self) -> list[tuple[str, ListenCall]]:
        """Every listen of the Gear's scripts, its port followed into other modules."""
        out = []
        for path, analysis in sorted(self.analyses.items()):
            for listen in analysis.listens:
                if listen.port.module is not None:
                    listen = listen._replace(port=self.linker.link(path, listen.port))
                out.append((path, listen))
        return out

    @property
    def serves_tcp(self) -> bool:
        return any(a.serves_tcp for a in self.analyses.values())

    def loaded(self, entries: list[str]) -> list[Loaded]:
        return loaded_files(entries, sorted(self.files), self.facts)

    def entry(self, start: str) -> str | None:
        """The app path of the ``.torque``'s start script, as node would find it."""
        here = join(self.approot, "x")
        found = resolve(here, "./" + start.removeprefix("./"), self.files)
        return found


__all__ = ["GearCode", "join"]
