"""Existing container engines, driven from the kit: Docker (and its Swarm mode).

The shell around the engines, and nothing home-made: a private ``dockerd`` for
tests (:mod:`kit.engine.daemon`), the ``docker`` command line through
:func:`kit.proc.run` (:mod:`kit.engine.docker`), and the platform image built
here from Debian's package registry with no image registry involved
(:mod:`kit.engine.rootfs`, :mod:`kit.engine.image`), carrying the platform's
Node.js builds that the sandbox runs, from the same fetcher and cache
(:mod:`kit.nodejs`, through :mod:`kit.engine.nodebuild`).
:mod:`kit.engine.start` is the one file that runs *inside* the image.
"""
