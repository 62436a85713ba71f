"""Users for the command line: found by name, or created with a password that is
generated and printed once, read from standard input, or set through a one-time link."""

from __future__ import annotations

import secrets
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

GENERATED, STDIN, LINK = "generated", "stdin", "link"


def add_password_arguments(parser: CommandParser) -> None:
    """How a new user gets a password: printed once (the default), read from standard
    input (``--password-stdin``), or set by the person through a one-time link (``--link``)."""
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--password-stdin",
        action="store_const",
        const=STDIN,
        dest="password_from",
        help="read a new user's password from the first line of standard input",
    )
    how.add_argument(
        "--link",
        action="store_const",
        const=LINK,
        dest="password_from",
        help="print a one-time link where a new user sets their own password",
    )
    parser.add_argument(
        "--base-url", default="http://127.0.0.1:8000", help="the site's address, for --link"
    )


def user_for(username: str, password_from: str | None = None) -> tuple[Any, str]:
    """The user named ``username``, and a new password if the user had to be created with a
    generated one (``password_from`` None: printed once by the caller). Nothing is created
    when the name or a password from standard input is refused."""
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
    if password_from == LINK:
        user = User(username=username)
        user.set_unusable_password()
        user.save()
        return user, ""
    if password_from == STDIN:
        password = sys.stdin.readline().rstrip("\r\n")
        try:
            validate_password(password, User(username=username))
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from None
        return User.objects.create_user(username=username, password=password), ""
    password = secrets.token_urlsafe(12)
    return User.objects.create_user(username=username, password=password), password


def set_password_link(user: Any, base_url: str) -> str:
    """A link where ``user`` sets a password: valid once (a changed password invalidates
    it) and for ``PASSWORD_RESET_TIMEOUT`` seconds."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return base_url.rstrip("/") + path
