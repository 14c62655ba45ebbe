"""``dotkit push``: upload, build, start new containers, switch the router, retire the old.

The CLI process runs the push and asks the platform process to start and stop
containers and to switch routes. A push is a short sequence of steps
(:func:`kit.sandbox.push.orchestrate.deploy`), one module each:

- :mod:`~kit.sandbox.push.upload`: the code arrives (an upload, or a stored revision);
- :mod:`~kit.sandbox.push.plan`: dotcloud.yml is checked; ports and passwords assigned;
- :mod:`~kit.sandbox.push.build`: each code service is built;
- :mod:`~kit.sandbox.push.stores`: data services are created once and kept;
- :mod:`~kit.sandbox.push.home`, :mod:`~kit.sandbox.push.postinstall`,
  :mod:`~kit.sandbox.push.datamove`, :mod:`~kit.sandbox.push.launch`: new containers
  are written, prepared, given ``~/data`` and started, then awaited;
- :mod:`~kit.sandbox.push.switch`: the router switches, the app record commits, the
  old containers retire;
- :mod:`~kit.sandbox.push.recover`: what a failed or killed push changed is put back;
- :mod:`~kit.sandbox.push.background`: the push in a process of its own, which the
  command only follows, so that it outlives Ctrl-C, a closed terminal or a broken pipe.

The clock, the programs the push runs and the platform process are passed in
(:class:`kit.sandbox.seams.Seams`).
"""

from kit.sandbox.push.context import PushFailed, Request
from kit.sandbox.push.lock import push_lock
from kit.sandbox.push.orchestrate import READY_TIMEOUT, push
from kit.sandbox.push.recover import cleanup_stale

__all__ = [
    "READY_TIMEOUT",
    "PushFailed",
    "Request",
    "cleanup_stale",
    "push",
    "push_lock",
    "recover",
]
