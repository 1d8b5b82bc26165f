from __future__ import annotations

from app.core.schemas import InputSchema
from app.core.types import Name
from app.users.schemas import Email, Password


class ClinicCreate(InputSchema):
    """A new clinic and its first admin: the tenant cannot exist without someone to run it."""

    name: Name
    admin_email: Email
    admin_password: Password
    admin_display_name: Name | None = None
