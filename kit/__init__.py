"""dotkit: move Node.js apps from nodeSocket to dotCloud.

The package has a pure core (parsing, converting, rules, rendering) and a thin
shell (the CLI, the filesystem and processes). Nothing here runs at import time.

Modules that define ``NamedTuple`` value types do without
``from __future__ import annotations``: typing compiles every string annotation
of a NamedTuple when the class is created, which cost the CLI's start-up more
than all of its conversion work.
"""

from __future__ import annotations

__version__ = "0.1.0"
