"""Is the server up? GET /healthz from outside it, answered with an exit code:
0 when /healthz answers 200 (the server runs and its database answers), 1 when
it does not (as Docker's HEALTHCHECK reads it: 1 is unhealthy, 2 is reserved).

Two ways in, one check: `kompetensbot health [--url URL]` (cli/commands/health.py),
and `python -m cli.health`, the container's HEALTHCHECK (Dockerfile). The latter
imports nothing but the standard library: the whole command line takes over a
second of imports to start, and Docker runs the check every 30 s in every container.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DEFAULT_TIMEOUT = 5.0
"""Seconds the whole check may take: the server answers /healthz within
KOMPETENSBOT_HEALTH_TIMEOUT (2 s by default), whatever its database does."""

EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1


def default_url(env: Mapping[str, str]) -> str:
    """The /healthz of the server this environment starts: the port as `kompetensbot serve`
    reads it (PORT, else KOMPETENSBOT_PORT, else 3978), on loopback when it listens on
    every address (KOMPETENSBOT_HOST 0.0.0.0 or ::, as in the container)."""
    port = env.get("PORT", env.get("KOMPETENSBOT_PORT", "3978"))
    host = env.get("KOMPETENSBOT_HOST", "").strip() or "127.0.0.1"
    if host == "0.0.0.0":
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def url_problem(url: str) -> str | None:
    """Why `url` cannot be checked (Swedish), or None."""
    if not url.startswith(("http://", "https://")):
        return (
            f"--url ska vara en http- eller https-adress, t.ex. http://127.0.0.1:3978/healthz, inte {url!r}"
        )
    return None


@dataclass(frozen=True)
class Health:
    healthy: bool
    message: str  # Swedish, one line

    @property
    def exit_code(self) -> int:
        return EXIT_HEALTHY if self.healthy else EXIT_UNHEALTHY


def _what_the_body_says(body: bytes) -> str:
    """The database's state as /healthz words it ({"database": "svarar inte"}), or ""."""
    try:
        answer = json.loads(body)
    except ValueError:
        return ""
    database = answer.get("database") if isinstance(answer, dict) else None
    return f" (databasen: {database})" if isinstance(database, str) and database else ""


def check(url: str, timeout: float = DEFAULT_TIMEOUT) -> Health:
    """GET `url` once: healthy only on 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, body = response.status, response.read(4096)
    except urllib.error.HTTPError as answer:
        status, body = answer.code, answer.read(4096)
    except urllib.error.URLError as problem:
        reason = problem.reason
        if isinstance(reason, ConnectionRefusedError):
            return Health(
                False,
                f"kompetensbot svarar inte på {url}: ingen server lyssnar där. Starta den med "
                "kompetensbot serve, eller fråga en annan adress med kompetensbot health --url URL.",
            )
        if isinstance(reason, TimeoutError):
            return Health(False, f"kompetensbot svarade inte på {url} inom {timeout:g} s.")
        return Health(False, f"kompetensbot kunde inte nås på {url}: {reason}.")
    except TimeoutError:
        return Health(False, f"kompetensbot svarade inte på {url} inom {timeout:g} s.")
    except (ConnectionError, http.client.HTTPException) as problem:
        return Health(False, f"kompetensbot gav inget svar på {url}: {type(problem).__name__}.")
    if status == 200:
        return Health(True, f"kompetensbot svarar: {url} gav 200{_what_the_body_says(body)}.")
    hint = (
        " (adressen ska sluta med /healthz)"
        if status == 404 and not url.rstrip("/").endswith("/healthz")
        else ""
    )
    return Health(
        False,
        f"kompetensbot mår inte bra: {url} svarade {status}{_what_the_body_says(body)}; väntat 200{hint}.",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m cli.health`: the check of the server this environment starts (default_url)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args:
        print(
            "python -m cli.health tar inga argument: adressen följer PORT och KOMPETENSBOT_HOST. "
            "En annan adress: kompetensbot health --url URL.",
            file=sys.stderr,
        )
        return 2
    result = check(default_url(os.environ))
    print(result.message, file=sys.stdout if result.healthy else sys.stderr)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
