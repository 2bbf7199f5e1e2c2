"""A local stand-in for Microsoft's sign-in service, for testing the bot with a
client id configured, without the internet and without touching the SDK.

The SDK's JWT validator (1.9) cannot be pointed at a metadata URL: it builds
the key-set address itself, https://login.botframework.com/v1/.well-known/keys
for Bot Framework tokens (https://login.microsoftonline.com/<tenant>/discovery/
v2.0/keys for Entra tokens), and MSAL only accepts an https authority. So the
stand-in answers on those real host names: the server under test gets
HTTPS_PROXY pointing at a local CONNECT proxy that tunnels every https
connection to a local TLS server, whose certificate (for those names) is
signed by a certificate authority made here and trusted through
SSL_CERT_FILE (urllib, used by PyJWT) and REQUESTS_CA_BUNDLE (requests, used
by MSAL). Nothing in the server process is patched.

It serves the OpenID metadata and token endpoint MSAL asks for (counting the
tokens it hands out, per scope) and the key set the validator fetches; tokens
for the bot are signed with `key` (kid "kompetensbot-test"). A tenant given a
key of its own (`tenant_key`) serves only that key at its key-set address, so a
token signed with it is accepted only when checked against that tenant's keys;
`key_sets` lists the key-set addresses asked for."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.http.harness import free_port

HOSTS = ("login.microsoftonline.com", "login.botframework.com")
KID = "kompetensbot-test"
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for HOSTS signed by it: (ca.pem, server.pem, server.key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("kompetensbot test CA"))
        .issuer_name(_name("kompetensbot test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server = (
        x509.CertificateBuilder()
        .subject_name(_name(HOSTS[0]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(h) for h in HOSTS] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


class FakeEntra:
    """The TLS server behind the names in HOSTS, and the CONNECT proxy in front of it."""

    def __init__(self, folder: Path):
        self.ca, cert, key_file = make_certificates(folder)
        self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ssl.load_cert_chain(cert, key_file)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.tls_port = free_port()
        self.proxy_port = free_port()
        self.expires_in = 3600
        self.token_requests: list[dict[str, str]] = []
        self.tunnels: list[str] = []
        self.unexpected: list[str] = []
        self.key_sets: list[str] = []
        self.tenant_keys: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    # -- what the server under test needs ----------------------------------------

    def env(self) -> dict[str, str]:
        proxy = f"http://127.0.0.1:{self.proxy_port}"
        return {
            "HTTPS_PROXY": proxy,
            "https_proxy": proxy,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "SSL_CERT_FILE": str(self.ca),
            "REQUESTS_CA_BUNDLE": str(self.ca),
        }

    def jwks(self, key: Any = None) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk((key or self.key).public_key()))
        return {"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}

    def tenant_key(self, tenant: str) -> Any:
        """A signing key served only at `tenant`'s key-set address (made on first use)."""
        with self._lock:
            if tenant not in self.tenant_keys:
                self.tenant_keys[tenant] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self.tenant_keys[tenant]

    def client_of(self, authorization: str | None) -> str | None:
        """The client id that asked for the outgoing token in `authorization`
        ("Bearer outgoing-token-<n>", as `_token` hands them out)."""
        prefix = "Bearer outgoing-token-"
        if not authorization or not authorization.startswith(prefix):
            return None
        with self._lock:
            return self.token_requests[int(authorization[len(prefix) :]) - 1].get("client_id")

    def token(
        self,
        audience: str,
        *,
        key: Any = None,
        kid: str = KID,
        lifetime: int = 3600,
        issuer: str = BOT_FRAMEWORK_ISSUER,
        **claims: Any,
    ) -> str:
        """A token as the Bot Framework channel sends it to the bot, signed by `key`
        (default: the key in the key set)."""
        now = int(time.time())
        payload = {
            "iss": issuer,
            "aud": audience,
            "nbf": now - 10,
            "iat": now - 10,
            "exp": now + lifetime,
            **claims,
        }
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": kid})

    def issued(self, scope: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.token_requests if scope is None or r.get("scope") == scope)

    # -- the servers --------------------------------------------------------------

    async def _openid(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        base = f"https://login.microsoftonline.com/{tenant}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        with self._lock:
            self.token_requests.append({k: str(v) for k, v in form.items()})
            number = len(self.token_requests)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "ext_expires_in": self.expires_in,
                "access_token": f"outgoing-token-{number}",
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        tenant = request.match_info.get("tenant")
        with self._lock:
            self.key_sets.append(request.path)
            own = self.tenant_keys.get(tenant) if tenant else None
        return web.json_response(self.jwks(own))

    async def _other(self, request: web.Request) -> web.Response:
        with self._lock:
            self.unexpected.append(f"{request.method} {request.host}{request.path_qs}")
        return web.json_response({"error": "not_found"}, status=404)

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        method, target = head.split(b" ", 2)[:2]
        host = target.decode().rsplit(":", 1)[0]
        if method != b"CONNECT" or host not in HOSTS:
            with self._lock:
                self.unexpected.append(f"proxy {head.splitlines()[0].decode(errors='replace')}")
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        with self._lock:
            self.tunnels.append(host)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.tls_port)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/{tenant}/discovery/v2.0/keys", self._keys)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        app.router.add_route("*", "/{tail:.*}", self._other)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", self.tls_port, ssl_context=self._ssl)
        self._loop.run_until_complete(site.start())
        self._loop.run_until_complete(asyncio.start_server(self._tunnel, "127.0.0.1", self.proxy_port))
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> FakeEntra:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        """Ends the open tunnels first (a client may keep one alive), then the loop."""

        async def end_tasks() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(end_tasks(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
