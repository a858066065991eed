"""The JSON API under ``/api/`` used by the viewer (agent) and the host (customer side).

Every module of this package that defines a module-level ``router`` is included by ``create_app``.
"""
