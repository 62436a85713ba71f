"""fetch(): the one way claims reads a page from the web, within strict limits.

Only http and https, no credentials in the address. The host is resolved here and every
address it resolves to is checked (private, loopback, link-local, multicast, reserved,
unique-local and IPv4-mapped forms of those are refused unless
``CLAIMS_FETCH_ALLOW_PRIVATE`` allows them); the connection then goes to the address that
was checked, so a DNS answer that changes between the check and the connect (rebinding)
cannot reach inside. Each redirect is checked the same way. The content type is checked
from the headers before the body is read; the size while it streams; the time limit is
for the whole fetch, redirects included, not per read.

Standard library only: ``http.client`` with a connection that connects to the checked
address and still sends the host name (the Host header, and SNI and the certificate check
for https). ``pinned_connection`` makes that connection, with every check above: ``fetch``
and the webhooks (``claims.webhooks.post``) both go through it. Resolving the host counts
against the time limit too: a resolver that does not answer in time is given up on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import Message
from typing import Any, Self
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECTS = {301, 302, 303, 307, 308}
CHUNK = 64 * 1024
USER_AGENT = "claims-fetcher/1.0 (+https://github.com/claims)"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class FetchRefused(Exception):
    """The page was not fetched; ``message`` says why in one sentence for the user.

    ``status`` is the HTTP status when the server answered with an error (404, 500...),
    so that a caller can tell a page that died from one that could not be reached."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Fetched:
    url: str  # as asked
    final_url: str  # after redirects
    status: int
    content_type: str  # the media type alone, lower case: "text/html"
    charset: str | None
    body: bytes
    fetched_at: dt.datetime  # aware, UTC


def fetch(
    url: str,
    *,
    max_bytes: int | None = None,
    timeout: float | None = None,
    max_redirects: int | None = None,
    accept: frozenset[str] | None = None,
) -> Fetched:
    """GET ``url`` and follow its redirects; the final 2xx answer, or ``FetchRefused``.

    ``accept`` is the set of media types taken (HTML by default); the limits default to
    the ``CLAIMS_FETCH_*`` settings.
    """
    limit = settings.CLAIMS_FETCH_MAX_BYTES if max_bytes is None else max_bytes
    seconds = settings.CLAIMS_FETCH_TIMEOUT if timeout is None else timeout
    hops = settings.CLAIMS_FETCH_MAX_REDIRECTS if max_redirects is None else max_redirects
    types = HTML_TYPES if accept is None else accept
    deadline = time.monotonic() + seconds
    current = url
    for _hop in range(hops + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _too_slow(seconds)
        try:
            connection = pinned_connection(current, remaining)
        except TooSlow:
            raise _too_slow(seconds) from None
        with connection:
            answer = _get(connection, deadline, seconds, limit, types)
        if isinstance(answer, str):
            current = urljoin(current, answer)
            continue
        status, content_type, charset, body = answer
        return Fetched(
            url=url,
            final_url=current,
            status=status,
            content_type=content_type,
            charset=charset,
            body=body,
            fetched_at=dt.datetime.now(dt.UTC),
        )
    raise FetchRefused(f"The page redirected more than {hops} times.")


@dataclass(frozen=True)
class Target:
    """An http(s) address taken apart as it goes on the wire, or ``FetchRefused``."""

    url: str
    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> Target:
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise FetchRefused("The address is not a valid web address.") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            shown = f"{scheme}:" if scheme else "an address without http:// or https://"
            raise FetchRefused(f"Only http and https addresses can be fetched, not {shown}.")
        if parts.username is not None or parts.password is not None:
            raise FetchRefused("Addresses with a user name or password cannot be fetched.")
        if not parts.hostname:
            raise FetchRefused("The address has no host name.")
        try:
            # An international name goes on the wire (DNS, Host header) in its ASCII form.
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise FetchRefused("The address is not a valid web address.") from None
        # Spaces and non-ASCII in the path are sent percent-encoded; what is encoded stays.
        path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
        if parts.query:
            path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
        default = 443 if scheme == "https" else 80
        return cls(url, scheme, host, port or default, path)


class TooSlow(FetchRefused):
    """The time limit ran out before the host's addresses were known."""


def pinned_connection(url: str, timeout: float) -> Pinned:
    """A connection (not yet open) to the http(s) ``url``, pinned to the address its host
    was checked to have: ``FetchRefused`` says why not (the address itself; a host that
    cannot be found; an address that is not public and not allowed by
    ``CLAIMS_FETCH_ALLOW_PRIVATE``), ``TooSlow`` when resolving the host took longer than
    ``timeout``. Whatever DNS answers later (rebinding), the connection goes to the checked
    address and names the host (Host header, SNI, certificate). ``timeout`` bounds its
    whole life, resolving included: at the deadline its socket is shut, whatever read or
    write is under way, so a server sending a byte now and then cannot hold it. Use it in a
    ``with`` block, which closes it and stops that watch on leaving."""
    deadline = time.monotonic() + timeout
    target = Target.parse(url)
    address = _checked_address(target, timeout)
    kind = PinnedHTTPS if target.scheme == "https" else PinnedHTTP
    return kind(target, address, deadline)


def _allowed_networks() -> tuple[Network, ...] | bool:
    """``CLAIMS_FETCH_ALLOW_PRIVATE``: False (public addresses only), True (any), or a
    list of networks ("127.0.0.1/32") that may be reached although they are not public."""
    allow = settings.CLAIMS_FETCH_ALLOW_PRIVATE
    if isinstance(allow, bool):
        return allow
    return tuple(ipaddress.ip_network(n) for n in allow)


def is_public(address: Address) -> bool:
    """Whether an address is on the public internet: not private, loopback, link-local,
    multicast, reserved, unspecified, unique-local, shared (CGNAT), nor any of these
    wrapped in IPv6 (IPv4-mapped, 6to4, Teredo)."""
    if isinstance(address, ipaddress.IPv6Address):
        wrapped = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if wrapped is not None and not is_public(wrapped):
            return False
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_link_local
    )


def _checked_address(target: Target, timeout: float) -> Address:
    """Resolve the host and check every address it gives; the one to connect to."""
    try:
        literal: Address | None = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    addresses = [literal] if literal is not None else _resolve(target, timeout)
    allow = _allowed_networks()
    for address in addresses:
        if is_public(address) or allow is True:
            continue
        if allow and any(address in network for network in allow):
            continue
        raise FetchRefused(
            f"{target.host} is a private or local address ({address}); "
            "only public web pages can be fetched."
        )
    return addresses[0]


def _resolve(target: Target, timeout: float) -> list[Address]:
    """The host's addresses, asked of the system's resolver within ``timeout`` seconds.

    ``getaddrinfo`` takes no timeout (the resolver's own can be half a minute and more), so
    it runs in a thread of its own that is waited for no longer than that. A lookup given up
    on ends in its own time, its answer dropped: a daemon thread, it never holds up an exit.
    """
    answer: list[Any] = []

    def lookup() -> None:
        try:
            answer.append(socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM))
        except Exception as exc:
            answer.append(exc)

    thread = threading.Thread(target=lookup, name=f"resolve {target.host}", daemon=True)
    thread.start()
    thread.join(max(timeout, 0))
    if not answer:
        raise TooSlow(f"The host {target.host} took longer than {timeout:g} seconds to resolve.")
    infos = answer[0]
    if isinstance(infos, socket.gaierror | UnicodeError):
        raise FetchRefused(f"The host {target.host} could not be found.")
    if isinstance(infos, Exception):
        raise infos
    found: list[Address] = []
    for info in infos:
        # Drop an IPv6 scope ("fe80::1%eth0"): the address itself is what is checked.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise FetchRefused(f"The host {target.host} could not be found.")
    return found


class _Pinned:
    """What both pinned connections add to ``http.client``'s: the checked address to
    connect to, and the deadline past which the socket is shut (watched until the ``with``
    block ends, not until ``close``: http.client closes the connection itself once a
    response without a length has begun, and that response is still being read)."""

    target: Target
    address: Address
    deadline: float
    timeout: float | None
    port: int
    raw: socket.socket | None
    watchdog: threading.Timer | None
    close: Callable[[], None]  # http.client's, in the classes below

    def _pin(self, target: Target, address: Address, deadline: float) -> None:
        self.target, self.address, self.deadline = target, address, deadline
        self.raw = None  # kept: http.client drops ``sock`` early
        self.watchdog = None

    def _open(self) -> socket.socket:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        self.timeout = remaining
        sock = self.raw = socket.create_connection((str(self.address), self.port), remaining)
        self.watchdog = threading.Timer(remaining, _shut, (sock,))
        self.watchdog.daemon = True
        self.watchdog.start()
        return sock

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
        self.close()


class PinnedHTTP(_Pinned, http.client.HTTPConnection):
    """Connects to the checked address; the Host header still names the host."""

    def __init__(self, target: Target, address: Address, deadline: float) -> None:
        super().__init__(target.host, target.port)
        self._pin(target, address, deadline)

    def connect(self) -> None:
        self.sock = self._open()


class PinnedHTTPS(_Pinned, http.client.HTTPSConnection):
    """As ``PinnedHTTP``, with SNI and the certificate checked against the host name."""

    def __init__(self, target: Target, address: Address, deadline: float) -> None:
        super().__init__(target.host, target.port, context=ssl.create_default_context())
        self._pin(target, address, deadline)

    def connect(self) -> None:
        self.sock = self._context.wrap_socket(self._open(), server_hostname=self.host)  # type: ignore[attr-defined]


Pinned = PinnedHTTP | PinnedHTTPS
Answer = tuple[int, str, str | None, bytes]


def _get(
    connection: Pinned,
    deadline: float,
    seconds: float,
    limit: int,
    types: frozenset[str],
) -> Answer | str:
    """One request: the answer, or the Location of a redirect."""
    target = connection.target
    try:
        connection.request(
            "GET",
            target.path,
            headers={
                "User-Agent": USER_AGENT,
                "Accept": ", ".join([*sorted(types), "*/*;q=0.1"]),
                "Accept-Encoding": "gzip, deflate, identity",
            },
        )
        response = connection.getresponse()
        if response.status in REDIRECTS:
            location = response.getheader("Location")
            if not location:
                raise FetchRefused(f"The page redirected ({response.status}) to no address.")
            return location
        if not 200 <= response.status < 300:
            reason = f" {response.reason}" if response.reason else ""
            raise FetchRefused(
                f"The page answered {response.status}{reason}.", status=response.status
            )
        content_type, charset = _content_type(response.getheader("Content-Type", ""))
        if content_type not in types:
            wanted = ", ".join(sorted(types))
            raise FetchRefused(
                f"The page is {content_type or 'of no stated type'}, not {wanted}.",
                status=response.status,
            )
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        body = _read(response, limit, response.getheader("Content-Encoding", ""))
        if time.monotonic() > deadline:
            raise _too_slow(seconds)
        return response.status, content_type, charset, body
    except FetchRefused:
        raise
    except (TimeoutError, OSError, http.client.HTTPException, ssl.SSLError) as exc:
        if time.monotonic() >= deadline - 0.01:
            raise _too_slow(seconds) from None
        if isinstance(exc, ssl.SSLCertVerificationError):
            raise FetchRefused(f"The certificate of {target.host} could not be verified.") from None
        raise FetchRefused(f"{target.host} could not be reached ({_why(exc)}).") from None


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _content_type(header: str) -> tuple[str, str | None]:
    message = Message()
    message["Content-Type"] = header or "application/octet-stream"
    charset = message.get_param("charset")
    return message.get_content_type().lower(), str(charset).lower() if charset else None


def _read(response: http.client.HTTPResponse, limit: int, encoding: str) -> bytes:
    """The body, counted as it streams (decompressed, if the server compressed it)."""
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        # wbits: 16+ for a gzip header, + for zlib's; max_length keeps a bomb from growing.
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS)
        return _collect(_inflated(response, inflate, limit), limit)
    if encoding not in ("", "identity"):
        raise FetchRefused(f"The page is sent with an unknown encoding ({encoding}).")
    return _collect(iter(lambda: response.read(CHUNK), b""), limit)


def _inflated(response: http.client.HTTPResponse, inflate: Any, limit: int) -> Iterable[bytes]:
    try:
        for chunk in iter(lambda: response.read(CHUNK), b""):
            yield inflate.decompress(chunk, limit + 1)
            if inflate.unconsumed_tail:
                raise _too_large(limit)
        yield inflate.flush()
    except zlib.error:
        raise FetchRefused("The page's compressed body is damaged.") from None


def _collect(chunks: Iterable[bytes], limit: int) -> bytes:
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> FetchRefused:
    size = f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
    return FetchRefused(f"The page is larger than the limit of {size}.")


def _too_slow(seconds: float) -> FetchRefused:
    return FetchRefused(f"The page took longer than {seconds:g} seconds to fetch.")


def _why(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return str(exc) or type(exc).__name__
