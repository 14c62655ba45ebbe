"""dotkit: move Node.js apps from nodeSocket to dotCloud.

The package has a pure core (parsing, converting, rules, rendering) and a thin
shell (the CLI, the filesystem and processes). Nothing here runs at import time.
"""

from __future__ import annotations

__version__ = "0.1.0"
