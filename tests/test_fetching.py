"""claims.fetching against pages served on 127.0.0.1 by the tests.

Reaching 127.0.0.1 at all needs ``CLAIMS_FETCH_ALLOW_PRIVATE``: most tests allow exactly
127.0.0.1/32, so that any other private address (127.0.0.2, a redirect's target) is still
refused, as every address is in production.
"""

from __future__ import annotations

import gzip
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from claims.extraction import extract_html
from claims.fetching import FetchRefused, TooSlow, fetch, is_public, pinned_connection
from tests.webpages import ARTICLE_PAGE, Page, redirect, self_signed, serve

LOOPBACK = ["127.0.0.1/32"]


@pytest.fixture(autouse=True)
def loopback_only(settings: Any) -> None:
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = LOOPBACK


def refusal(url: str, **limits: Any) -> FetchRefused:
    with pytest.raises(FetchRefused) as caught:
        fetch(url, **limits)
    return caught.value


def test_an_article_page_is_fetched_and_its_main_text_extracted() -> None:
    with serve({"/story": Page(ARTICLE_PAGE)}) as server:
        fetched = fetch(server.url("/story"))
    assert (fetched.status, fetched.content_type, fetched.body) == (200, "text/html", ARTICLE_PAGE)
    assert fetched.url == fetched.final_url == server.url("/story")
    assert fetched.fetched_at.utcoffset() is not None
    extracted = extract_html(fetched)
    assert extracted.title == "Harbour dredging doubled the port's traffic"
    assert (extracted.author, str(extracted.date)) == ("Dana Whitfield", "2024-03-05")
    assert extracted.text.startswith("# Harbour dredging doubled the port's traffic\n\n")
    assert "\n\n## What the figures show\n\n" in extracted.text
    assert "212 vessels called at the port" in extracted.text
    for chrome in (
        "Subscribe now",
        "SuperPhone",
        "Cheap flights",
        "All rights reserved",
        "Privacy",
    ):
        assert chrome not in extracted.text


def test_a_redirect_chain_is_followed_to_the_final_address() -> None:
    pages = {"/a": redirect("/b", 301), "/b": redirect("/c", 307), "/c": Page(b"<p>here</p>")}
    with serve(pages) as server:
        fetched = fetch(server.url("/a"))
        assert [path for path, _host in server.requests] == ["/a", "/b", "/c"]
    assert (fetched.url, fetched.final_url) == (server.url("/a"), server.url("/c"))


def test_too_many_redirects_are_refused() -> None:
    pages = {f"/{i}": redirect(f"/{i + 1}") for i in range(10)}
    with serve(pages) as server:
        refused = refusal(server.url("/0"), max_redirects=3)
        assert len(server.requests) == 4
    assert refused.message == "The page redirected more than 3 times."


def test_a_path_with_spaces_and_accents_is_sent_percent_encoded() -> None:
    with serve({"/caf%C3%A9%20du%20port?q=a%20b": Page(b"<p>ok</p>")}) as server:
        fetched = fetch(server.url("/café du port?q=a%20b"))
    assert fetched.body == b"<p>ok</p>"


def test_a_missing_page_is_refused_with_its_status() -> None:
    with serve({}) as server:
        refused = refusal(server.url("/gone"))
    assert (refused.message, refused.status) == ("The page answered 404 Not Found.", 404)


def test_a_page_declaring_more_than_the_limit_is_refused_before_its_body() -> None:
    with serve({"/big": Page(b"x" * 5000)}) as server:
        refused = refusal(server.url("/big"), max_bytes=1000)
    assert refused.message == "The page is larger than the limit of 1000 bytes."


def endless(handler: BaseHTTPRequestHandler) -> None:
    """A body without a length that never ends: only a limit counted while reading stops it."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.end_headers()
    try:
        while not handler.server.stopping.is_set():  # type: ignore[attr-defined]
            handler.wfile.write(b"<p>more and more</p>" * 500)
    except OSError:
        pass  # the fetcher hung up, as it should


def test_an_endless_page_is_refused_while_it_streams() -> None:
    with serve({"/endless": Page(endless)}) as server:
        refused = refusal(server.url("/endless"), max_bytes=100_000, timeout=30)
    assert refused.message == "The page is larger than the limit of 100000 bytes."


def test_a_compressed_page_is_limited_by_its_expanded_size() -> None:
    bomb = gzip.compress(b" " * 5_000_000)
    headers = {"Content-Type": "text/html", "Content-Encoding": "gzip"}
    small = gzip.compress(b"<p>Fine.</p>")
    with serve({"/bomb": Page(bomb, headers=headers), "/ok": Page(small, headers=headers)}) as s:
        refused = refusal(s.url("/bomb"), max_bytes=100_000)
        fetched = fetch(s.url("/ok"))
    assert refused.message == "The page is larger than the limit of 100000 bytes."
    assert fetched.body == b"<p>Fine.</p>"


def stalled(handler: BaseHTTPRequestHandler) -> None:
    handler.server.stopping.wait(30)  # type: ignore[attr-defined]


def dribbling(handler: BaseHTTPRequestHandler) -> None:
    """A byte at a time, each well within a per-read timeout, for longer than the whole."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.end_headers()
    try:
        while not handler.server.stopping.wait(0.05):  # type: ignore[attr-defined]
            handler.wfile.write(b"x")
            handler.wfile.flush()
    except OSError:
        pass


@pytest.mark.parametrize("page", [stalled, dribbling])
def test_a_slow_page_is_refused_at_the_time_limit(page: Any) -> None:
    with serve({"/slow": Page(page)}) as server:
        refused = refusal(server.url("/slow"), timeout=0.5)
    assert refused.message == "The page took longer than 0.5 seconds to fetch."


def test_a_page_of_another_type_is_refused_before_its_body_is_read() -> None:
    png = Page(b"\x89PNG" + b"\0" * 100, headers={"Content-Type": "image/png"})
    with serve({"/logo.png": png}) as server:
        refused = refusal(server.url("/logo.png"))
        fetched = fetch(server.url("/logo.png"), accept=frozenset({"image/png"}))
    assert refused.message == "The page is image/png, not application/xhtml+xml, text/html."
    assert fetched.content_type == "image/png"


def test_charset_is_read_from_the_content_type() -> None:
    page = Page(b"<p>caf\xe9</p>", headers={"Content-Type": "text/html; charset=ISO-8859-1"})
    with serve({"/": page}) as server:
        assert fetch(server.url("/")).charset == "iso-8859-1"


def test_a_redirect_to_a_private_address_is_refused_unless_allowed(settings: Any) -> None:
    inside = Page(b"<p>secret</p>")
    with serve({"/inside": inside}, host="127.0.0.2") as private, serve({}) as public:
        public.pages["/go"] = redirect(private.url("/inside"))
        refused = refusal(public.url("/go"))
        assert private.requests == []
        settings.CLAIMS_FETCH_ALLOW_PRIVATE = True
        fetched = fetch(public.url("/go"))
    assert refused.message == (
        "127.0.0.2 is a private or local address (127.0.0.2); only public web pages can be fetched."
    )
    assert fetched.body == b"<p>secret</p>"


def test_loopback_is_refused_by_default(settings: Any) -> None:
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = False
    with serve({"/": Page(b"<p>hi</p>")}) as server:
        refused = refusal(server.url("/"))
        assert server.requests == []
    assert "is a private or local address (127.0.0.1)" in refused.message


def test_a_host_name_resolving_to_loopback_is_refused(settings: Any) -> None:
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = False
    with serve({"/": Page(b"<p>hi</p>")}) as server:
        port = server.server_address[1]
        refused = refusal(f"http://localhost:{port}/")
        assert server.requests == []
    assert refused.message.startswith("localhost is a private or local address (")


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch: Any) -> None:
    """DNS rebinding: the name answers 127.0.0.1 when checked, then an address inside;
    the fetcher resolves once and connects to what it checked, naming the host."""
    answers = iter(["127.0.0.1", "10.0.0.1", "10.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "news.example":
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with serve({"/": Page(b"<p>hi</p>")}) as server:
        port = server.server_address[1]
        fetched = fetch(f"http://news.example:{port}/")
        assert server.requests == [("/", f"news.example:{port}")]
    assert fetched.body == b"<p>hi</p>"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/a.html", "Only http and https addresses can be fetched, not ftp:."),
        ("file:///etc/passwd", "Only http and https addresses can be fetched, not file:."),
        ("javascript:alert(1)", "Only http and https addresses can be fetched, not javascript:."),
        (
            "example.org/a",
            "Only http and https addresses can be fetched, not an address "
            "without http:// or https://.",
        ),
        (
            "http://user:pw@example.org/",
            "Addresses with a user name or password cannot be fetched.",
        ),
        ("http:///path", "The address has no host name."),
        ("http://example.org:99999/", "The address is not a valid web address."),
        (
            "http://[::1]/",
            "::1 is a private or local address (::1); only public web pages can be fetched.",
        ),
    ],
)
def test_addresses_that_are_not_public_web_pages_are_refused(url: str, message: str) -> None:
    assert refusal(url).message == message


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "100.64.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",
    ],
)
def test_private_and_special_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_internet_addresses_are_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_a_closed_port_is_reported_as_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    refused = refusal(f"http://127.0.0.1:{port}/", timeout=5)
    assert refused.message == "127.0.0.1 could not be reached (connection refused)."


@pytest.fixture
def resolving(monkeypatch: Any) -> None:
    """news.example and other.example resolve to 127.0.0.1 (names for certificates)."""
    real = socket.getaddrinfo

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        named = host in ("news.example", "other.example")
        return real("127.0.0.1" if named else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def trusting(monkeypatch: Any, certificate: Path) -> None:
    """The client trusts ``certificate`` as if a public authority had signed it."""
    create = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda: create(cafile=str(certificate)))


def test_https_is_fetched_from_the_checked_address_with_the_host_s_certificate(
    resolving: None, monkeypatch: Any, tmp_path: Path
) -> None:
    certificate = self_signed("news.example", tmp_path)
    trusting(monkeypatch, certificate)
    with serve({"/": Page(b"<p>secure</p>")}, tls=certificate) as server:
        port = server.server_address[1]
        fetched = fetch(f"https://news.example:{port}/")
        refused = refusal(f"https://other.example:{port}/")
    assert fetched.body == b"<p>secure</p>"
    assert refused.message == "The certificate of other.example could not be verified."


def test_https_with_an_untrusted_certificate_is_refused(resolving: None, tmp_path: Path) -> None:
    with serve({"/": Page(b"<p>hi</p>")}, tls=self_signed("news.example", tmp_path)) as server:
        refused = refusal(f"https://news.example:{server.server_address[1]}/")
        assert server.requests == []
    assert refused.message == "The certificate of news.example could not be verified."


# Resolving the host counts against the time limit -------------------------------------------


@pytest.fixture
def slow_resolver(monkeypatch: Any) -> Iterator[threading.Event]:
    """slow.example answers (127.0.0.1) only once the test sets the event it is given.

    A stand-in for a resolver that does not answer: the system's own cannot be made slow
    without the network (its servers come from /etc/resolv.conf), so the lookup function
    itself is replaced here; what is tested is that nobody waits on it past the limit."""
    answer = threading.Event()
    real = socket.getaddrinfo

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "slow.example":
            answer.wait(30)
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    yield answer
    answer.set()  # the lookup given up on ends now, not 30 s later


def test_a_host_that_resolves_too_slowly_is_refused_at_the_time_limit(
    slow_resolver: threading.Event,
) -> None:
    with serve({"/": Page(b"<p>hi</p>")}) as server:
        started = time.monotonic()
        refused = refusal(f"http://slow.example:{server.server_address[1]}/", timeout=0.5)
        took = time.monotonic() - started
        assert server.requests == []
    assert refused.message == "The page took longer than 0.5 seconds to fetch."
    assert took < 3


def test_a_redirect_to_a_host_that_resolves_too_slowly_counts_against_the_whole_fetch(
    slow_resolver: threading.Event,
) -> None:
    with serve({}) as server:
        server.pages["/go"] = redirect(f"http://slow.example:{server.server_address[1]}/")
        started = time.monotonic()
        refused = refusal(server.url("/go"), timeout=0.5)
        took = time.monotonic() - started
        assert [path for path, _host in server.requests] == ["/go"]
    assert refused.message == "The page took longer than 0.5 seconds to fetch."
    assert took < 3


def test_the_public_connection_checks_the_address_and_bounds_resolving(
    slow_resolver: threading.Event, settings: Any
) -> None:
    """``pinned_connection`` is what fetch and the webhooks share: the same refusals."""
    with pytest.raises(TooSlow) as slow:
        pinned_connection("http://slow.example/", 0.3)
    assert slow.value.message == "The host slow.example took longer than 0.3 seconds to resolve."
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = False
    with pytest.raises(FetchRefused) as private:
        pinned_connection("https://10.1.2.3/in", 5)
    assert "private or local address (10.1.2.3)" in private.value.message
    slow_resolver.set()
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = LOOPBACK
    connection = pinned_connection("https://slow.example:8443/a b?q=1", 5)
    assert (str(connection.address), connection.host, connection.port) == (
        "127.0.0.1",
        "slow.example",
        8443,
    )
    assert (connection.target.scheme, connection.target.path) == ("https", "/a%20b?q=1")
