"""The notebooks on the site: their pages made light and narrow-friendly, their outputs quoted.

mkdocs-jupyter turns a stored notebook into nbconvert's HTML, which inlines
JupyterLab's whole stylesheet (about 600 KB), MathJax and Mermaid set-ups and a
copy-button script into every page, and writes links as they are in the
notebook. :func:`lighten` takes that HTML (pure text in, text out) and:

- drops every inlined ``<style>`` and ``<script>``: ``docs/assets/notebooks.css``
  styles the cells once for the whole site, on Material's own colours;
- turns code cells into Material code blocks (``<pre><code>``), so they get its
  highlighting and copy button, and drops nbconvert's copy widgets;
- rewrites links written as paths in the repository (``05-ports.ipynb``,
  ``../docs/guide.md#step-3``, ``../docs/rules/yaml-tab.md``) into the site's URLs;
- puts a download link to the ``.ipynb`` (copied beside the page by
  mkdocs-jupyter's ``include_source``) under the title.

:func:`cell_output` reads what a tagged cell printed, for the hand-written pages
that quote a notebook (``<!-- notebook: NAME#TAG -->``).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

_STYLE_OR_SCRIPT = re.compile(r"<(style|script)\b[^>]*>.*?</\1>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_CLIPBOARD = re.compile(r'<div class="zeroclipboard-container">.*?</clipboard-copy>\s*</div>', re.S)
_CLIPBOARD_TEXT = re.compile(r'<div class="clipboard-copy-txt"[^>]*>.*?</div>', re.S)
_CODE = re.compile(r'<div class="highlight-ipynb hl-(\w+)"><pre>(.*?)</pre></div>', re.S)
_HREF = re.compile(r'href="([^"]+)"')
_TITLE_END = re.compile(r"</h1>")


class NotebookError(Exception):
    """A page asked for a notebook output that is not there."""


def site_href(href: str) -> str:
    """A link written from the notebooks folder, as a URL from the notebook's page."""
    if re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", href):
        return href
    path, hash_, fragment = href.partition("#")
    if path.startswith("../docs/") and path.endswith(".md"):
        page = path.removeprefix("../docs/").removesuffix(".md")
        page = (
            page.removesuffix("index") if page == "index" or page.endswith("/index") else page + "/"
        )
        path = "../../" + page
    elif re.fullmatch(r"[\w.-]+\.ipynb", path):
        path = f"../{path.removesuffix('.ipynb')}/"
    return path + hash_ + fragment


def lighten(content: str, notebook: str) -> str:
    """The page of the stored notebook ``notebook`` (a file name), light and linked."""
    content = _STYLE_OR_SCRIPT.sub("", content)
    content = _COMMENT.sub("", content)
    content = _CLIPBOARD.sub("", content)
    content = _CLIPBOARD_TEXT.sub("", content)
    content = _CODE.sub(
        lambda m: (
            f'<div class="highlight"><pre><code class="language-{m[1]}">{m[2]}</code></pre></div>'
        ),
        content,
    )
    content = content.replace('class="anchor-link"', 'class="headerlink"')
    content = _HREF.sub(lambda m: f'href="{html.escape(site_href(html.unescape(m[1])))}"', content)
    download = (
        f'<p class="nb-download"><a class="md-button" href="{html.escape(notebook)}" download>'
        f"Download {html.escape(notebook)}</a> and run it in JupyterLab "
        "(<code>scripts/lab.sh</code>); the outputs below are from its last run.</p>"
    )
    return _TITLE_END.sub(lambda m: m[0] + download, content, count=1)


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def cell_output(path: Path, tag: str) -> str:
    """What the cell tagged ``tag`` in the stored notebook ``path`` printed."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for cell in data.get("cells", []):
        if tag in cell.get("metadata", {}).get("tags", []):
            texts = [
                _text(o["text"])
                for o in cell.get("outputs", [])
                if o.get("output_type") == "stream"
            ]
            if not texts:
                raise NotebookError(f"{path.name}: the cell tagged {tag!r} printed nothing")
            return "".join(texts)
    raise NotebookError(f"{path.name}: no cell tagged {tag!r}")
