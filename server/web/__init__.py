"""The admin web (``/manage/``) and the customer page (``/s/<agent-id>``).

Every module of this package that defines a module-level ``router`` (a FastAPI ``APIRouter``) is included
by :func:`opensupport.server.app.create_app`; see server/README.md for how to add a page.
"""
