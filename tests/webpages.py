"""Web pages served on 127.0.0.1 by the tests themselves, for the fetcher and what calls it.

``serve({path: Page(...)})`` starts a threaded HTTP server on a free port of a loopback
address and stops it on leaving. A page is a status, headers and a body; a callable body
is given the handler and writes the answer itself (slow pages, endless pages). Every
request is recorded (``server.requests``: path and Host header) for the tests to check.
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Page:
    body: bytes | Callable[[BaseHTTPRequestHandler], None] = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html"})


def redirect(location: str, status: int = 302) -> Page:
    return Page(status=status, headers={"Location": location})


class Served(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, host: str, pages: dict[str, Page]) -> None:
        super().__init__((host, 0), _Handler)
        self.pages = pages
        self.requests: list[tuple[str, str]] = []
        # Set on leaving ``serve``: slow pages wait on it, so none outlives its test.
        self.stopping = threading.Event()

    scheme = "http"

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path


class _Handler(BaseHTTPRequestHandler):
    server: Served

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Host", "")))
        page = self.server.pages.get(self.path)
        if page is None:
            page = Page(b"<h1>Not here</h1>", status=404)
        if callable(page.body):
            page.body(self)
            return
        self.send_response(page.status)
        for name, value in page.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(page.body)))
        self.end_headers()
        self.wfile.write(page.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the tests say what went wrong


@contextmanager
def serve(
    pages: dict[str, Page], host: str = "127.0.0.1", *, tls: Path | None = None
) -> Iterator[Served]:
    """Serve ``pages``; over https with ``tls``, a PEM file of certificate and key."""
    server = Served(host, pages)
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()


def self_signed(hostname: str, folder: Path) -> Path:
    """A PEM file holding a key and a self-signed certificate for ``hostname``: a server
    may use it, and a client trusts it only if told to (``ssl`` cafile)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = folder / f"{hostname}.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + certificate.public_bytes(serialization.Encoding.PEM)
    )
    return path


ARTICLE_PAGE = b"""<!doctype html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Harbour dredging doubled the port's traffic | The Coastal Ledger</title>
<meta name="author" content="Dana Whitfield">
<meta property="article:published_time" content="2024-03-05T08:00:00Z">
<meta property="og:title" content="Harbour dredging doubled the port's traffic">
</head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/politics">Politics</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/subscribe">Subscribe now</a></li></ul>
</nav></header>
<div class="ad banner" id="ad-top">ADVERTISEMENT: Buy the new SuperPhone today, 99 pounds!</div>
<main><article>
<h1>Harbour dredging doubled the port's traffic</h1>
<p class="byline">By Dana Whitfield, 5 March 2024</p>
<p>The harbour authority said on Monday that container traffic doubled in the year after
the dredging was finished, according to figures it published in its annual report.</p>
<p>The mayor claimed that the project created 400 jobs in the town, a figure the local
chamber of commerce disputed in a statement (Coastal Times, 2 March 2024).</p>
<h2>What the figures show</h2>
<p>Shipping records show that 212 vessels called at the port last year, compared with
105 the year before, while the average ship was a third larger than in 2022.</p>
<p>Critics argue that most of the new traffic was diverted from a neighbouring port and
that the region as a whole gained little from the expensive works.</p>
</article></main>
<aside class="ad sidebar">Sponsored: Cheap flights to the sun, book today and save.</aside>
<footer><p>Copyright 2024 The Coastal Ledger. All rights reserved.</p>
<p><a href="/privacy">Privacy policy</a> | <a href="/contact">Contact us</a></p></footer>
</body></html>
"""
