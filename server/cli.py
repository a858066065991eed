"""``opensupport server``: run the server, or manage tenants.

    opensupport server [--host H] [--port N] [--data DIR] [--relay-only] [--proxy-headers]
    opensupport server company add --name NAME [--service S] [--pc N] [--mobile N] --admin-id ID [--data DIR]

The database is ``OPENSUPPORT_DATABASE_URL`` when set, else an SQLite file in the data folder.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from opensupport.server.config import ENV_ADMIN_PASSWORD, Settings

#: the new company's administrator password for ``company add`` (else one is generated and printed)
ENV_NEW_ADMIN_PASSWORD = "OPENSUPPORT_NEW_ADMIN_PASSWORD"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opensupport server", description="Run the OpenSupport server.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8080, help="port for the web, API and relay (default 8080)"
    )
    parser.add_argument("--data", default=None, help="data folder (default: the user's data directory)")
    parser.add_argument(
        "--relay-only", action="store_true", help="run only the relay (no admin web, no database)"
    )
    parser.add_argument(
        "--proxy-headers",
        action="store_true",
        help="trust X-Forwarded-For/-Proto from a local reverse proxy (TLS termination)",
    )
    parser.add_argument("--cookie-secure", action="store_true", help="always mark cookies Secure")
    commands = parser.add_subparsers(dest="command")
    company = commands.add_parser("company", help="manage companies (tenants)")
    company_commands = company.add_subparsers(dest="company_command", required=True)
    add = company_commands.add_parser("add", help="add a company with its administrator")
    add.add_argument("--name", required=True, help="company name (회사명)")
    add.add_argument("--service", default="", help="service name (서비스명)")
    add.add_argument("--pc", type=int, default=3, help="PC agent licences")
    add.add_argument("--mobile", type=int, default=0, help="mobile agent licences")
    add.add_argument("--admin-id", required=True, help="the company administrator's login ID")
    add.add_argument("--data", dest="company_data", default=None, help="data folder")
    return parser


def company_add(args: argparse.Namespace) -> int:
    """Create a company and its administrator; print the administrator's password if it was generated."""
    from opensupport.server.bootstrap import TenantError, add_company, ensure_first_company
    from opensupport.server.db import Database

    settings = Settings.from_env(args.company_data or args.data)
    database = Database(settings.database_url)
    try:
        database.upgrade()
        first = ensure_first_company(database, settings.admin_password)
        if first is not None and first.password:
            print(f"created the first company; administrator 'admin' password: {first.password}")
        with database.session() as session:
            created = add_company(
                session,
                name=args.name,
                service_name=args.service,
                pc_licences=args.pc,
                mobile_licences=args.mobile,
                admin_login_id=args.admin_id,
                admin_password=os.environ.get(ENV_NEW_ADMIN_PASSWORD) or None,
            )
    except TenantError as exc:
        print(f"opensupport server company add: {exc}", file=sys.stderr)
        return 1
    finally:
        database.dispose()
    print(
        f"created company {args.name!r} (id {created.company_id}) with administrator {created.admin_login_id!r}"
    )
    if created.password:
        print(f"administrator password (shown only this once): {created.password}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``opensupport server``; returns the exit code."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if args.command == "company":
        return company_add(args)
    if not 0 < args.port < 65536:
        print("opensupport server: --port must be 1..65535", file=sys.stderr)
        return 2
    if args.relay_only:
        from opensupport.server.relay import RelayConfig, serve_relay_only

        asyncio.run(serve_relay_only(args.host, args.port, RelayConfig()))
        return 0
    import dataclasses

    import uvicorn
    from opensupport.server.app import create_app

    settings = Settings.from_env(args.data)
    if args.cookie_secure:
        settings = dataclasses.replace(settings, cookie_secure=True)
    if settings.admin_password is None and ENV_ADMIN_PASSWORD in os.environ:
        print(f"opensupport server: {ENV_ADMIN_PASSWORD} is empty; a random password will be generated")
    extra: dict[str, object] = {}
    relay_config = None
    try:
        from opensupport.server.relay import RelayConfig, uvicorn_settings

        relay_config = RelayConfig()
        extra = uvicorn_settings(relay_config)
    except ImportError:
        pass  # create_app logs that the relay is missing
    app = create_app(settings, relay_config=relay_config)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips="127.0.0.1" if args.proxy_headers else None,
        log_level="info",
        **extra,  # type: ignore[arg-type]
    )
    return 0
