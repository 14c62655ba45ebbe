"""The docs site: a strict build, every link checked, and a real browser on four pages.

The build runs once per session (``site`` in conftest.py) and its time is printed at
the end of the run. The browser is Debian's Chromium driven by Playwright; the
browser tests are skipped, with the reason, only where /usr/bin/chromium is missing.
"""

from __future__ import annotations

import html
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import click
import pytest
import yaml

from kit.cli import cli
from kit.terms import TERMS
from kit.verify.catalog import all_rules

from .conftest import ROOT, Site, isolated_env

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LINKCHECKER = Path(sys.executable).with_name("linkchecker")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _text(site: Site, url_path: str) -> str:
    return (site.path / url_path / "index.html").read_text(encoding="utf-8")


# --- The build ---------------------------------------------------------------------------------


def test_build_is_strict_and_quiet(site: Site) -> None:
    assert "WARNING" not in site.log
    assert (site.path / "index.html").is_file()
    assert (site.path / "search" / "search_index.json").is_file()


def test_generated_pages_are_not_committed() -> None:
    docs = ROOT / "docs"
    generated = ["terms.md", "reference/cli.md", "rules", "api", "notebooks"]
    assert [p for p in generated if (docs / p).exists()] == []


def test_every_rule_has_a_page_with_both_examples(site: Site) -> None:
    for rule in all_rules():
        page = _text(site, f"rules/{rule.slug}")
        assert html.escape(rule.summary, quote=False) in page, rule.slug
        for heading in ("Why", "How to fix", "Fails", "Passes"):
            assert f">{heading}<" in page, (rule.slug, heading)
    index = _text(site, "rules")
    assert all(f'href="{r.slug}/"' in index for r in all_rules())


def test_terms_page_is_the_kits_table(site: Site) -> None:
    page = _text(site, "terms")
    for term in TERMS:
        assert html.escape(term.nodesocket, quote=False) in page
        assert html.escape(term.dotcloud, quote=False) in page


def _command_paths(cmd: click.Command, path: str) -> Iterator[str]:
    yield path
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _command_paths(sub, f"{path} {name}")


def test_cli_reference_has_every_command_and_option(site: Site) -> None:
    page = _text(site, "reference/cli")
    for path in _command_paths(cli, "dotkit"):
        assert f">{path}<" in page, path
    for opt in ("--dry-run", "--select", "--clean", "--no-follow", "--assume-yes"):
        assert f"<code>{opt}</code>" in page, opt


def test_notebooks_are_rendered_from_their_stored_outputs(site: Site) -> None:
    assert NOTEBOOKS, "notebooks/00-quickstart.ipynb is missing"
    for notebook in NOTEBOOKS:
        page = _text(site, f"notebooks/{notebook.stem}")
        assert "jp-OutputArea" in page, notebook.name
        assert (site.path / "notebooks" / notebook.stem / notebook.name).is_file()
        # nbconvert's inlined JupyterLab stylesheet and scripts are gone (600 KB a page).
        article = page[page.index("<article") : page.index("</article>")]
        assert "<style" not in article and "<script" not in article, notebook.name
        assert len(page) < 300_000, f"{notebook.name}: {len(page)} bytes"
        # Links written as paths in the repository became the site's URLs.
        assert 'href="../docs/' not in page and '.ipynb"' not in page.replace(
            f'href="{notebook.name}"', ""
        ), notebook.name
    quickstart = _text(site, "notebooks/00-quickstart")
    assert "$ dotkit convert nodesocket-guide -o dotcloudapp --fix" in quickstart
    assert 'href="../01-translating-terms/"' in quickstart


def test_the_quickstart_shows_what_each_step_printed(site: Site) -> None:
    page = _text(site, "quickstart")
    for printed in (
        "Wrote the dotCloud app to dotcloudapp.",
        ".: no problems found.",
        "Application fully deployed",
        '"listening": 8080',
        'Destroyed the application "portedapp".',
    ):
        assert printed in page, printed


def test_every_claim_is_on_the_claims_page_with_its_notebook_cell(site: Site) -> None:
    claims = yaml.safe_load((ROOT / "notebooks" / "claims.yml").read_text(encoding="utf-8"))
    page = _text(site, "claims")
    for claim in claims["claims"]:
        assert html.escape(claim["statement"], quote=False) in page, claim["id"]
    assert page.count("#cell-id=") >= len(claims["claims"])


def test_migration_guide_quotes_the_real_verifier(site: Site) -> None:
    page = _text(site, "guide")
    assert "yaml-syntax" in page
    assert "no problems found" in page
    assert page.count('class="tabbed-set') >= 5


# --- Links -------------------------------------------------------------------------------------


def test_linkchecker_finds_no_broken_link(
    base_url: str, site: Site, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("linkchecker")
    proc = subprocess.run(
        [str(LINKCHECKER), "-f", str(Path(__file__).with_name("linkcheckerrc")), base_url],
        env=isolated_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report
    assert " 0 errors found" in report, report


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            elif name == "href" and tag == "a":
                self.hrefs.append(value)


def test_every_anchor_exists(site: Site) -> None:
    """Links to a place in a page, notebooks included (MkDocs only checks Markdown pages)."""
    pages: dict[Path, _Anchors] = {}
    for path in site.path.rglob("*.html"):
        parser = _Anchors()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path] = parser
    broken = []
    for path, parser in pages.items():
        for href in parser.hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.fragment:
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if target not in pages:
                continue  # a missing page is LinkChecker's to report
            if unquote(parts.fragment) not in pages[target].ids:
                broken.append(f"{path.relative_to(site.path)}: {href}")
    assert broken == []


# --- In a browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    if not CHROMIUM.exists():
        pytest.skip(
            "/usr/bin/chromium is missing: run scripts/setup-docs.sh as root "
            "(or apt-get install chromium) for the browser tests"
        )
    from playwright.sync_api import sync_playwright

    work = tmp_path_factory.mktemp("chromium")
    env: dict[str, str | float | bool] = {**isolated_env(work / "home")}
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(work / "profile"),  # a fresh profile for every run
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            env=env,
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()


class Visit:
    """One page opened in the browser, with every console error and failed request."""

    def __init__(self, context: BrowserContext, url: str) -> None:
        self.problems: list[str] = []
        self.page: Page = context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on(
            "requestfailed",
            lambda req: self.problems.append(f"request failed: {req.url} ({req.failure})"),
        )
        self.page.goto(url, wait_until="networkidle")

    def _console(self, message: object) -> None:
        if getattr(message, "type", "") == "error":
            self.problems.append(f"console error: {getattr(message, 'text', message)}")

    def text(self, selector: str = "article") -> str:
        return self.page.locator(selector).first.inner_text()

    def close(self) -> list[str]:
        self.page.close()
        return self.problems


def test_home_page(browser: BrowserContext, base_url: str) -> None:
    visit = Visit(browser, base_url)
    assert visit.page.title().startswith("dotkit")
    assert "moves Node.js apps from nodeSocket to dotCloud" in visit.text()
    # A light and a dark palette; the header's toggle switches between them.
    assert visit.page.locator("form[data-md-component=palette] input").count() == 2
    scheme = "() => document.body.dataset.mdColorScheme"
    before = visit.page.evaluate(scheme)
    visit.page.locator("form[data-md-component=palette] label:visible").first.click()
    assert {before, visit.page.evaluate(scheme)} == {"default", "slate"}
    assert visit.close() == []


def test_terms_page(browser: BrowserContext, base_url: str) -> None:
    visit = Visit(browser, base_url + "terms/")
    table = visit.text("article table")
    for term in TERMS:
        assert term.nodesocket in table
        assert term.dotcloud in table
    assert visit.close() == []


def test_notebook_page(browser: BrowserContext, base_url: str) -> None:
    visit = Visit(browser, base_url + "notebooks/00-quickstart/")
    assert "hands-on" in visit.text("article h1")
    assert "$ dotkit convert nodesocket-guide" in visit.text("article")
    # Material's previous/next footer leads on to the next notebook.
    assert "Translating terms" in visit.text("nav.md-footer__inner")
    assert visit.close() == []


# Every element of a notebook page must fit the text column, at a laptop's width and a
# phone's: only code, outputs and tables may be wider, and then they scroll inside a box
# of their own that fits. Nothing wraps inside a word.
_LAYOUT = """() => {
  const column = document.querySelector("article.md-content__inner");
  const limit = column.getBoundingClientRect().right + 2;  // sub-pixel rounding
  // Material lets a table's scroll box reach into the column's margin (0.8rem).
  const bleed = (e) => Math.max(0, -parseFloat(getComputedStyle(e).marginRight));
  const scrolls = (el) => {
    for (let e = el; e && e !== column; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (["auto", "scroll"].includes(style.overflowX)) {
        const right = e.getBoundingClientRect().right;
        if (e.tagName === "PRE" || e.tagName === "CODE" || e.classList.contains("nb-table")) {
          return right <= limit;
        }
        return e.classList.contains("md-typeset__scrollwrap") && right <= limit + bleed(e);
      }
    }
    return false;
  };
  const problems = [];
  if (column.getBoundingClientRect().right > window.innerWidth) problems.push("the column itself");
  for (const el of column.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.right > limit && !scrolls(el)) {
      problems.push(`${el.tagName}.${el.className} reaches ${Math.round(box.right)} > ${Math.round(limit)}`);
    }
  }
  for (const pre of column.querySelectorAll(".jp-OutputArea pre, .highlight pre")) {
    const style = getComputedStyle(pre);
    if (style.whiteSpace !== "pre") problems.push(`a pre wraps (${style.whiteSpace})`);
  }
  for (const el of column.querySelectorAll(".jp-OutputArea *")) {
    const style = getComputedStyle(el);
    if (style.wordBreak === "break-all" || style.overflowWrap === "anywhere") {
      problems.push(`${el.tagName}.${el.className} breaks words`);
    }
  }
  return problems.slice(0, 10);
}"""


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("notebook", [p.stem for p in NOTEBOOKS])
def test_a_notebook_page_fits_the_column_and_offers_its_file(
    browser: BrowserContext, base_url: str, notebook: str, width: int
) -> None:
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    try:
        page.goto(base_url + f"notebooks/{notebook}/", wait_until="networkidle")
        assert page.evaluate(_LAYOUT) == []
        link = page.locator(f'article a[download][href="{notebook}.ipynb"]')
        assert link.count() == 1 and link.is_visible()
        answer = page.request.get(base_url + f"notebooks/{notebook}/{notebook}.ipynb")
        assert answer.status == 200
        assert answer.json()["cells"][0]["cell_type"] == "markdown"
    finally:
        page.close()


def test_rule_page(browser: BrowserContext, base_url: str) -> None:
    visit = Visit(browser, base_url + "rules/http-port-not-8080/")
    article = visit.text()
    assert "http-port-not-8080" in visit.text("article h1")
    for heading in ("Why", "How to fix", "Fails", "Passes"):
        assert heading in article
    assert "app.set('port', process.env.PORT || 3000)" in article
    assert "app.set('port', process.env.PORT_NODEJS || 8080)" in article
    # Material adds a copy button to every code block.
    assert visit.page.locator("article button[data-md-type=copy]").count() >= 2
    assert visit.close() == []


def test_search_for_8080_finds_the_port_rule(browser: BrowserContext, base_url: str) -> None:
    visit = Visit(browser, base_url)
    visit.page.locator("input.md-search__input").click()
    visit.page.keyboard.type("8080")
    hit = visit.page.locator(".md-search-result__list a[href*='rules/http-port-not-8080/']")
    hit.first.wait_for(state="attached")
    assert "matching document" in visit.page.locator(".md-search-result__meta").inner_text()
    assert "http-port-not-8080" in hit.first.inner_text()
    assert visit.close() == []
