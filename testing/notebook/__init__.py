"""What the tutorial notebooks use to run the kit and show what happened.

Not part of the kit you install: it lives beside the tests, in ``testing/``, and
the notebooks import it from there. The names below are its stable API; the
modules behind them may change.

Running things

- :class:`Sandbox`: a private ``$DOTKIT_HOME`` in a temporary folder, removed
  however the notebook ends. ``box.terminal()`` gives a prompt where a line runs
  as a user types it (``term("dotkit push")``); ``box.convert``, ``box.verify``
  and ``box.create`` run those commands with ``--format json`` and return
  :class:`Migration`, :class:`Findings` and :class:`App`.
- :class:`App`: an application and its folder. ``app.push()`` returns the
  :class:`Deployment` the push recorded; ``app.load(service)`` makes a
  :class:`Load`, real concurrent requests during a ``with`` block.

Showing things

- :class:`Findings`, :class:`Migration`, :class:`Terms`, :class:`Deployment`,
  :class:`Bundle` and :func:`recap` display as compact tables (HTML in Jupyter and
  on the site, text for nbval), with each rule linked to its page.
- :func:`plot_load` and :func:`stack_diagram` return a :class:`Picture`.
- :func:`tree`, :func:`listing`, :func:`diff` and :func:`edit` show files.

Everything is printed with its real values (process ids, ports, revisions,
timings); ``notebooks/sanitize.cfg`` masks those when nbval compares a new run
with the stored outputs.
"""

from __future__ import annotations

from .bundle import Bundle
from .claims import Claim, load_claims, recap
from .deployments import Deployment, Instance
from .files import diff, edit, listing, tree
from .load import Load, Request
from .pictures import plot_load, stack_diagram, stack_figure
from .reports import Findings, Migration, Terms
from .run import Reply, Run, Terminal
from .sandbox import SAMPLES, App, Program, Sandbox
from .tables import Link, Picture, Table, guide_link, rule_link

__all__ = [
    "SAMPLES",
    "App",
    "Bundle",
    "Claim",
    "Deployment",
    "Findings",
    "Instance",
    "Link",
    "Load",
    "Migration",
    "Picture",
    "Program",
    "Reply",
    "Request",
    "Run",
    "Sandbox",
    "Table",
    "Terminal",
    "Terms",
    "diff",
    "edit",
    "guide_link",
    "listing",
    "load_claims",
    "plot_load",
    "recap",
    "rule_link",
    "stack_diagram",
    "stack_figure",
    "tree",
]
