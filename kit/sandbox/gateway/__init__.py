"""The HTTP gateway: the platform's front door for every HTTP service.

It stands where Hipache stood on dotCloud. It reads each request, adds the
headers the platform added (``X-Forwarded-For``, ``-Proto``, ``-Port``,
``X-Real-IP``), picks an instance per request (round-robin, skipping instances
the health check took out of rotation), answers 502 when no instance can be
reached and 504 after 60 seconds without an answer, turns ``Upgrade`` requests
(WebSockets) into byte pipes, and serves HTTPS with certificates from a local
CA. The platform process imports it; nothing in a container does.
"""
