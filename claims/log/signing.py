"""The Ed25519 key that signs audit export manifests.

The private key comes from the environment or a file, never the database: whoever holds
the database alone cannot sign a rewritten chain.

- ``CLAIMS_SIGNING_KEY``: the key as PEM text (PKCS#8), or base64 of its 32 raw bytes;
- ``CLAIMS_SIGNING_KEY_FILE``: the path of a PEM file (or a file holding the base64 form).

With ``DEBUG`` on and neither set, a key is generated once into
``VAR_DIR/signing-key.pem`` (mode 0600) so that the demo can export. With ``DEBUG`` off
and no key, exporting a signed format fails with :class:`SigningKeyMissing`.

The key id is the first 16 hex digits of the sha256 of the raw public key: manifests name
it, so that keys can be rotated and a verifier can tell which public key it needs.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from claims.log import verify_export

ENV_KEY = "CLAIMS_SIGNING_KEY"
ENV_KEY_FILE = "CLAIMS_SIGNING_KEY_FILE"
DEBUG_KEY_NAME = "signing-key.pem"

# The key id as the offline verifier derives it: the first 16 hex digits of the sha256 of
# the 32 raw bytes of the public key.
key_id = verify_export.key_id


class SigningKeyMissing(ImproperlyConfigured):
    """No signing key is configured (or the configured one cannot be read)."""


def parse_private_key(text: str | bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM, or from base64 of its 32 raw bytes."""
    data = text.encode("ascii", "replace") if isinstance(text, str) else text
    data = data.strip()
    if data.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as error:
            raise SigningKeyMissing(f"The signing key is not a readable PEM key: {error}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyMissing("The signing key must be an Ed25519 key.")
        return key
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise SigningKeyMissing(
            "The signing key must be PEM text or base64 of the 32 raw bytes of an Ed25519 key."
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def _debug_key_path() -> Path:
    return Path(settings.VAR_DIR) / DEBUG_KEY_NAME


def _generate_debug_key(path: Path) -> Ed25519PrivateKey:
    """Write a fresh key to ``path`` with mode 0600, unless another process just did."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once keep whichever key was written first.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return parse_private_key(path.read_bytes())
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def private_key() -> Ed25519PrivateKey:
    """The configured signing key; see the module docstring for where it comes from."""
    if value := os.environ.get(ENV_KEY, "").strip():
        return parse_private_key(value)
    if filename := os.environ.get(ENV_KEY_FILE, "").strip():
        try:
            return parse_private_key(Path(filename).read_bytes())
        except OSError as error:
            raise SigningKeyMissing(
                f"Cannot read the signing key file {filename}: {error.strerror}."
            ) from None
    if settings.DEBUG:
        path = _debug_key_path()
        if path.exists():
            return parse_private_key(path.read_bytes())
        return _generate_debug_key(path)
    raise SigningKeyMissing(
        f"No signing key: set {ENV_KEY} (PEM, or base64 of 32 raw bytes) or {ENV_KEY_FILE} "
        "to sign audit exports."
    )


def public_key_pem(key: Ed25519PrivateKey | None = None) -> str:
    """The public half of the signing key as PEM (SubjectPublicKeyInfo), to hand out."""
    public = (key or private_key()).public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    """Base64 of the Ed25519 signature of ``message``."""
    return base64.b64encode(key.sign(message)).decode("ascii")
