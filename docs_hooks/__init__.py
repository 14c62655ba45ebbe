"""Build-time code of the docs site: pages generated from the kit's own code.

``site.py`` is the MkDocs hook (named in ``mkdocs.yml``); ``pages.py`` turns the
kit's data into Markdown; ``live.py`` runs the real CLI for the outputs some pages
quote. Nothing here is written to ``docs/``: generated pages exist only in memory
during a build.
"""
