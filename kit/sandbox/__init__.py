"""The local sandbox: a small dotCloud on one machine.

The CLI process uploads, builds and orchestrates a push; a per-``$DOTKIT_HOME``
platform process (:mod:`kit.sandbox.daemon`) owns the running containers and the
router, so apps keep running after ``dotkit push`` returns. Containers are
bubblewrap sandboxes with their own network, PID and mount namespaces, or plain
processes where bubblewrap is missing (``dotkit doctor`` says what that loses).
"""
