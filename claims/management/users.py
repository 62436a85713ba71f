"""Users for the command line: found by name, or created with a generated password."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


def user_for(username: str) -> tuple[Any, str]:
    """The user named ``username``, and a new password if the user had to be created."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, ""
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise CommandError(
            f"{username!r} is not a valid username (letters, digits and @.+-_ only)."
        ) from None
    password = secrets.token_urlsafe(12)
    return User.objects.create_user(username=username, password=password), password
