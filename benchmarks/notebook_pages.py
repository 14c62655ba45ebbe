"""How much a notebook page weighs on the docs site, before and after docs_hooks makes it light.

For each stored notebook, renders it as the site does (mkdocs-jupyter's nbconvert
HTML, with the options of mkdocs.yml) and prints, in one run:
- the notebook's HTML as nbconvert makes it, in KB;
- the same after ``docs_hooks.notebooks.lighten``, in KB, and the ratio;
- how much of the light page is pictures (PNG outputs, embedded as data URIs).
Target (issue 16): well under the 700 KB a page weighed, the pictures aside.
The site's own frame (Material's header, navigation and footer) adds about 50 KB.

Usage: .venv/bin/python benchmarks/notebook_pages.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mkdocs_jupyter import convert  # noqa: E402

from docs_hooks.notebooks import lighten  # noqa: E402

PICTURE = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def main() -> int:
    print(f"{'notebook':<34} {'nbconvert':>10} {'on the site':>12} {'ratio':>6} {'pictures':>9}")
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        raw = convert.nb2html(
            str(path), execute=False, no_prompt=True, custom_mathjax_url="data:text/javascript,"
        )
        light = lighten(raw, path.name)
        pictures = sum(len(m) for m in PICTURE.findall(light))
        print(
            f"{path.name:<34} {len(raw) / 1024:>8.0f} KB {len(light) / 1024:>9.0f} KB "
            f"{len(light) / len(raw):>6.2f} {pictures / 1024:>6.0f} KB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
