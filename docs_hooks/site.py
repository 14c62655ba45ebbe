"""The MkDocs hook of the docs site (``hooks:`` in ``mkdocs.yml``).

At build time it adds pages made from the kit's live code (the terms table, the
command line reference, one page per verifier rule, the API index) and from the
notebooks (the claims page), a picture of the stack, puts the stored notebooks
from ``notebooks/`` into the site for mkdocs-jupyter to render (then makes their
pages light and rewrites their links, :mod:`docs_hooks.notebooks`), expands the
nav entries that stand for those page families, and fills the
``<!-- live: NAME -->`` markers with real ``dotkit`` output and the
``<!-- notebook: NAME#TAG -->`` markers with what a notebook's cell printed.
Nothing is written to ``docs/``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page as MkPage

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # MkDocs loads this file by path, not as part of a package
    sys.path.insert(0, str(ROOT))

from docs_hooks import claims, live, notebooks, pages  # noqa: E402
from kit.cli import cli  # noqa: E402
from kit.sandbox import fidelity  # noqa: E402
from kit.terms import TERMS  # noqa: E402
from kit.verify.catalog import CATEGORIES, all_rules  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
STACK_PICTURE = "assets/stack.svg"

# The modules of the API reference: the pure core, the verifier, and the sandbox's
# file renderers. mkdocstrings reads each one from the code.
API_MODULES = (
    "kit.terms",
    "kit.convert.naming",
    "kit.jsonpos",
    "kit.convert.torque",
    "kit.convert.app",
    "kit.convert.gear",
    "kit.convert.environment",
    "kit.convert.rows",
    "kit.convert.gears",
    "kit.convert.code",
    "kit.convert.codeports",
    "kit.convert.codecheck",
    "kit.convert.nodever",
    "kit.convert.render",
    "kit.js.model",
    "kit.js.syntax",
    "kit.js.scope",
    "kit.js.portexpr",
    "kit.js.connections",
    "kit.js.pathexpr",
    "kit.js.writes",
    "kit.js.analysis",
    "kit.js.features",
    "kit.js.modules",
    "kit.js.link",
    "kit.js.semver",
    "kit.js.packages",
    "kit.js.fix",
    "kit.platform.ports",
    "kit.platform.judge",
    "kit.appfs",
    "kit.appfs.write",
    "kit.appfs.manifest",
    "kit.convert.report",
    "kit.findings",
    "kit.errors",
    "kit.verify",
    "kit.verify.model",
    "kit.verify.catalog",
    "kit.verify.runner",
    "kit.verify.buildfile",
    "kit.verify.supervisor",
    "kit.verify.code",
    "kit.verify.loaded",
    "kit.verify.project",
    "kit.verify.packagejson",
    "kit.verify.gitstate",
    "kit.verify.output",
    "kit.verify.yamlpos",
    "kit.verify.disk",
    "kit.verify.fast.jscache",
    "kit.verify.fast.memo",
    "kit.verify.fast.modcache",
    "kit.verifyd.watch",
    "kit.verifyd.server",
    "kit.sandbox.envfile",
    "kit.sandbox.supconf",
    # What the notebooks use; it lives beside the tests, not in the kit.
    "testing.notebook",
)

# Where a page shows the sandbox's differences from the platform (kit.sandbox.fidelity).
_FIDELITY_MARKER = re.compile(r"^<!-- fidelity -->[ \t]*$", re.M)
_LIVE_MARKER = re.compile(r"^(?P<indent>[ \t]*)<!-- live: (?P<name>[a-z0-9-]+) -->[ \t]*$", re.M)
_NOTEBOOK_MARKER = re.compile(
    r"^(?P<indent>[ \t]*)<!-- notebook: (?P<name>[\w.-]+\.ipynb)#(?P<tag>[\w-]+) -->[ \t]*$", re.M
)
# Sphinx roles in the kit's docstrings (":func:`main`"): mkdocstrings shows them as text.
_SPHINX_ROLE = re.compile(r":(?:func|mod|class|meth|attr|data|exc|obj):(<code>)~?")

_state: dict[str, Any] = {}


def _generated() -> list[pages.Page]:
    notebooks = [pages.read_notebook(p) for p in sorted(NOTEBOOKS.glob("*.ipynb"))]
    _state["notebooks"] = notebooks
    titles = {n.path.name: n.title for n in notebooks}
    rules = {r.slug for r in all_rules()}
    return [
        pages.terms_page(TERMS),
        pages.cli_page(cli),
        *pages.rule_pages(all_rules(), CATEGORIES),
        *pages.api_pages(API_MODULES),
        pages.notebooks_index(notebooks),
        claims.claims_page(NOTEBOOKS / "claims.yml", [n.path for n in notebooks], titles, rules),
    ]


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    _state.clear()
    _state["pages"] = _generated()
    _state["live"] = live.Live()
    rules = all_rules()
    families: dict[str, list[Any]] = {
        "rules/index.md": [
            "rules/index.md",
            *(
                {
                    f"{category.capitalize()} rules": [
                        {r.slug: pages.rule_path(r)} for r in rules if r.category == category
                    ]
                }
                for category in CATEGORIES
                if any(r.category == category for r in rules)
            ),
        ],
        "notebooks/index.md": [
            "notebooks/index.md",
            *({n.title: f"notebooks/{n.path.name}"} for n in _state["notebooks"]),
        ],
        "api/index.md": ["api/index.md", *({m: f"api/{m}.md"} for m in API_MODULES)],
    }
    config.nav = _expand(config.nav, families)
    return config


def _expand(item: Any, families: dict[str, list[Any]]) -> Any:
    """The nav with each family's index entry turned into a section of its pages."""
    if isinstance(item, list):
        return [_expand(i, families) for i in item]
    if isinstance(item, dict):
        return {k: _expand(v, families) for k, v in item.items()}
    if isinstance(item, str) and item in families:
        return families[item]
    return item


@event_priority(50)  # before mkdocs-jupyter, which must see the notebooks
def on_files(files: Files, config: MkDocsConfig) -> Files:
    for page in _state["pages"]:
        if files.get_file_from_path(page.path) is not None:
            raise PluginError(
                f"docs/{page.path} exists, but that page is generated at build time; remove it"
            )
        files.append(File.generated(config, page.path, content=page.content))
    from testing.notebook.pictures import stack_figure, svg

    files.append(File.generated(config, STACK_PICTURE, content=svg(stack_figure())))
    # A notebook is a real file whose source folder is the repository, so it lands at
    # notebooks/NAME/ in the site. (mkdocs-jupyter cannot read File.generated files.)
    for notebook in _state["notebooks"]:
        files.append(
            File(
                notebook.path.relative_to(ROOT).as_posix(),
                src_dir=str(ROOT),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    return files


def on_page_markdown(markdown: str, page: MkPage, config: MkDocsConfig, files: Files) -> str:
    snippets = _state["live"].snippets()

    def fill(match: re.Match[str]) -> str:
        name, indent = match["name"], match["indent"]
        if name not in snippets:
            raise PluginError(f"{page.file.src_uri}: no live output named {name!r}")
        try:
            block = snippets[name]()
        except live.LiveError as exc:
            raise PluginError(f"{page.file.src_uri}: {exc}") from None
        return _indent(block, indent)

    def quote(match: re.Match[str]) -> str:
        try:
            text = notebooks.cell_output(NOTEBOOKS / match["name"], match["tag"])
        except (OSError, notebooks.NotebookError) as exc:
            raise PluginError(f"{page.file.src_uri}: {exc}") from None
        return _indent(pages.code_block(text, "console"), match["indent"])

    markdown = _FIDELITY_MARKER.sub(lambda _match: fidelity.markdown(), markdown)
    markdown = _LIVE_MARKER.sub(fill, markdown)
    return _NOTEBOOK_MARKER.sub(quote, markdown)


def _indent(block: str, indent: str) -> str:
    return "\n".join(indent + line if line else line for line in block.splitlines())


def on_page_content(html: str, page: MkPage, config: MkDocsConfig, files: Files) -> str:
    if page.file.src_uri.startswith("api/"):
        return _SPHINX_ROLE.sub(r"\1", html)
    if page.file.src_uri.startswith("notebooks/") and page.file.src_uri.endswith(".ipynb"):
        return notebooks.lighten(html, Path(page.file.src_uri).name)
    return html


def on_post_build(config: MkDocsConfig) -> None:
    if "live" in _state:
        _state["live"].close()
