"""The relay: pairs a customer's host and an agent's viewer by routing id and forwards their end-to-end
encrypted records without being able to read them.

``Relay`` is the framework-free core; ``relay_routes(relay)`` mounts it at ``/relay`` in a Starlette or
FastAPI app; ``serve_relay_only(host, port, config)`` runs it alone on uvicorn. ``RelayConfig`` holds every
limit (see its field comments and ``server/relay/RELAY.md``).
"""

from .config import RelayConfig
from .core import Link, LinkError, Relay, RelayStats
from .transports import relay_routes, serve_relay_only, start_tcp_listener, uvicorn_settings

__all__ = [
    "Link",
    "LinkError",
    "Relay",
    "RelayConfig",
    "RelayStats",
    "relay_routes",
    "serve_relay_only",
    "start_tcp_listener",
    "uvicorn_settings",
]
