"""In-session support tools (``opensupport.tools``): the GUI-free cores that host and viewer share.

Each tool's wire format and the options that govern it are described in ``tools/TOOLS.md``; the host
enforces the agent's options through :mod:`opensupport.host.policy`.
"""
