"""``dotkit export``: a dotCloud app laid out for Docker Compose, Docker Swarm or Kubernetes.

Pure, like the conversion: :func:`kit.export.app.export_app` takes the app's
services and files and returns the files to write (build contexts, the
engine's files, secrets) and a report. The shell that reads the app and writes
the folder is :mod:`kit.commands._export_run`; the images are built by
:mod:`kit.engine`.
"""
