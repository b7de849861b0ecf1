"""Webhook receivers on 127.0.0.1: a real HTTP server the worker delivers to, and real TCP
servers that misbehave in the ways an endpoint on the internet can."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import struct
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    # Status codes to answer with, in turn; 200 once they run out.
    answers: list[int] = field(default_factory=list)
    # The same, for one event id only (sends to several candidates run concurrently).
    answers_for: dict[int, list[int]] = field(default_factory=dict)

    def url(self, path: str = "/hooks") -> str:
        return self.base_url + path

    def fail_next(self, *statuses: int) -> None:
        self.answers.extend(statuses)

    async def handle(self, request: Request) -> Response:
        self.received.append(
            Received(request.url.path, dict(request.headers), await request.body())
        )
        for_event = self.answers_for.get(int(request.headers.get("mssc-event-id", "0")))
        queue = for_event or self.answers
        status = queue.pop(0) if queue else 200
        headers = {"Location": self.url("/elsewhere")} if 300 <= status < 400 else None
        return Response(status_code=status, headers=headers)

    def event_ids(self, path: str = "/hooks") -> list[int]:
        return [int(r.headers["mssc-event-id"]) for r in self.received if r.path == path]


@contextlib.asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST"])])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    else:
        raise RuntimeError("the receiver did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    receiver.base_url = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task


# How a misbehaving endpoint answers a webhook POST (after reading the request's head).
MISBEHAVIOURS = (
    "reset",  # closes the connection with a TCP reset
    "silent",  # accepts the connection, never answers
    "trickle",  # a status line, then one header byte at a time, forever
    "endless_body",  # 200, then a chunked body that never ends
    "huge_body",  # 200 with Content-Length of a terabyte, sent as fast as it can
    "garbage",  # bytes that are not HTTP
    "self_signed_tls",  # TLS with a certificate nobody signed
)


@contextlib.asynccontextmanager
async def misbehaving_endpoint(behaviour: str) -> AsyncIterator[str]:
    """A real TCP server on 127.0.0.1 that answers as ``behaviour`` says; yields its URL."""
    assert behaviour in MISBEHAVIOURS
    handlers: set[asyncio.Task[Any]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await reader.readuntil(b"\r\n\r\n")
            if behaviour == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif behaviour == "silent":
                await asyncio.sleep(3600)
            elif behaviour == "trickle":
                writer.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while True:
                    writer.write(b"x")
                    await writer.drain()
                    await asyncio.sleep(0.05)
            elif behaviour == "endless_body":
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                while True:
                    writer.write(b"10000\r\n" + b"x" * 0x10000 + b"\r\n")
                    await writer.drain()
            elif behaviour == "huge_body":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n")
                while True:
                    writer.write(b"x" * 0x10000)
                    await writer.drain()
            elif behaviour == "garbage":
                writer.write(b"\x00\x01\x02 SMTP ready\r\n\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the sender hung up: what it should do
        finally:
            writer.close()
            handlers.discard(task)

    tls = _self_signed_context() if behaviour == "self_signed_tls" else None
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}/hooks"
    finally:
        server.close()
        for handler in list(handlers):
            handler.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


def _self_signed_context() -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory() as directory:
        cert_path, key_path = Path(directory, "cert.pem"), Path(directory, "key.pem")
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_path, key_path)
    return context
