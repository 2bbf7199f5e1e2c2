"""The security suite (issue 16): one test module a concern, each test named
for what an attacker tried and what they got. Whole-server tests start real
`kompetensbot serve` processes (tests/http/harness.py) and sign their own
tokens against the local stand-in for Microsoft's sign-in service
(tests/http/entra.py); they reach only loopback addresses."""

from tests.http.conftest import database_url  # noqa: F401 - the fixture: a migrated database with the example, as a URL
