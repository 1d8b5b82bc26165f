"""The `rehab` command: serve, migrate, and the clinic set-up an operator does from a shell."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import uvicorn
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError

import app.models  # noqa: F401  (every table mapped, whichever routers are loaded)
from app import demo, housekeeping
from app.auth.security import hash_password
from app.clinics import service as clinics_service
from app.clinics.schemas import ClinicCreate
from app.core import migrations
from app.core.config import get_settings
from app.core.db import transaction
from app.core.errors import AppError
from app.core.types import Role
from app.users.schemas import UserCreate

AUDIT_DETAILS = {"via": "cli"}
# The schema fields each command fills, named as its options, for refusal messages.
CLINIC_OPTIONS = {
    "name": "--name",
    "admin_email": "--admin-email",
    "email": "--admin-email",
    "admin_password": "--admin-password",
    "password": "--admin-password",
}
USER_OPTIONS = {
    "clinic_id": "--clinic",
    "email": "--email",
    "password": "--password",
    "role": "--role",
    "patient_id": "--patient",
}


class Refused(Exception):
    """The command will not do what was asked; the message says why."""


def _serve(args: argparse.Namespace) -> int:
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=args.access_log,
        proxy_headers=True,
    )
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    migrations.upgrade()
    return 0


def _create_clinic(args: argparse.Namespace) -> int:
    data = ClinicCreate(
        name=args.name, admin_email=args.admin_email, admin_password=args.admin_password
    )
    password_hash = hash_password(data.admin_password)  # slow: before the write lock
    with transaction(write=True) as session:
        clinic, admin = clinics_service.create(session, data, password_hash, details=AUDIT_DETAILS)
    _print_json({"clinic_id": str(clinic.id), "admin_id": str(admin.id)})
    return 0


def _create_user(args: argparse.Namespace) -> int:
    data = UserCreate(
        email=args.email, password=args.password, role=args.role, patient_id=args.patient
    )
    password_hash = hash_password(data.password)
    with transaction(write=True) as session:
        user = clinics_service.add_user(
            session, args.clinic, data, password_hash, details=AUDIT_DETAILS
        )
    _print_json({"user_id": str(user.id)})
    return 0


def _seed_demo(_args: argparse.Namespace) -> int:
    if get_settings().env == "production":
        raise Refused("its logins have published passwords: refused with REHAB_ENV=production")
    password_hashes = demo.hash_passwords()
    with transaction(write=True) as session:
        existing = demo.find(session)
        seeded = existing or demo.create(session, password_hashes, datetime.now(UTC))
    if existing:
        print("rehab: the demo clinic exists already; its logins:", file=sys.stderr)
    _print_json(seeded.as_json())
    return 0


def _housekeeping(_args: argparse.Namespace) -> int:
    report = housekeeping.run(datetime.now(UTC))
    _print_json(dataclasses.asdict(report))
    return 0


def _print_json(value: dict[str, Any]) -> None:
    print(json.dumps(value, indent=2))


def _add_set_up_commands(commands: Any) -> None:
    clinic = commands.add_parser("create-clinic", help="a clinic and its first admin")
    clinic.add_argument("--name", required=True)
    clinic.add_argument("--admin-email", required=True)
    clinic.add_argument("--admin-password", required=True, help="at least 12 characters")
    clinic.set_defaults(handler=_create_clinic, options=CLINIC_OPTIONS)

    user = commands.add_parser("create-user", help="a user of an existing clinic")
    user.add_argument("--clinic", required=True, type=uuid.UUID, metavar="CLINIC_ID")
    user.add_argument("--email", required=True)
    user.add_argument("--password", required=True, help="at least 12 characters")
    user.add_argument("--role", required=True, choices=[role.value for role in Role])
    user.add_argument(
        "--patient", type=uuid.UUID, metavar="PATIENT_ID", help="required for --role patient"
    )
    user.set_defaults(handler=_create_user, options=USER_OPTIONS)

    seed = commands.add_parser("seed-demo", help="a demo clinic with logins and an assessment")
    seed.set_defaults(handler=_seed_demo)

    daily = commands.add_parser(
        "housekeeping", help="the daily job: re-audit open plans, delete expired keys"
    )
    daily.set_defaults(handler=_housekeeping)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rehab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="apply the database migrations")
    migrate.set_defaults(handler=_migrate)
    _add_set_up_commands(commands)
    return parser


def _describe_invalid(error: ValidationError, options: dict[str, str]) -> str:
    lines = []
    for entry in error.errors():
        field = ".".join(str(part) for part in entry["loc"])
        lines.append(f"{options.get(field, field)}: {entry['msg']}" if field else entry["msg"])
    return "; ".join(lines)


def _describe_refusal(error: AppError, options: dict[str, str]) -> str:
    fields = [
        f"{options.get(name, name)}: {entry['detail']}"
        for entry in error.errors or []
        if (name := entry.get("pointer", "").lstrip("/"))
    ]
    return f"{error.detail} ({'; '.join(fields)})" if fields else error.detail


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options: dict[str, str] = getattr(args, "options", {})
    try:
        return int(args.handler(args))
    except Refused as exc:
        message = str(exc)
    except ValidationError as exc:
        message = _describe_invalid(exc, options)
    except AppError as exc:
        message = _describe_refusal(exc, options)
    except IntegrityError:
        message = "the change conflicts with an existing record"
    except DBAPIError as exc:
        message = f"the database refused: {exc.orig} (is DATABASE_URL right and migrated?)"
    print(f"rehab {args.command}: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
