"""Microsoft Graph's address (KOMPETENSBOT_GRAPH_URL, issue 22): the registration's
token goes there, so with credentials only https; without credentials only loopback
(the tests' stand-in), as for KOMPETENSBOT_SERVICE_URLS. A bad one stops `serve` in
one Swedish line; unset and unused, it costs nothing."""

from __future__ import annotations

import pytest

from tests.security.test_modes import CREDENTIALS, _refused, database, serve  # noqa: F401 - fixtures


@pytest.mark.parametrize(
    "url", ["http://graph.example.se/v1.0", "graph.microsoft.com", "https://graph.microsoft.com/v1.0?x=1"]
)
def test_a_graph_url_that_is_not_https_stops_the_server_with_credentials(serve, url: str) -> None:
    _refused(serve(env={**CREDENTIALS, "KOMPETENSBOT_GRAPH_URL": url}), "KOMPETENSBOT_GRAPH_URL")


def test_anonymous_graph_installs_only_reach_a_loopback_graph(serve) -> None:
    refused = serve("--anonymous", env={"KOMPETENSBOT_GRAPH_INSTALL": "1"})  # the real Graph, no token
    _refused(refused, "KOMPETENSBOT_GRAPH_URL", "loopback")
    env = {"KOMPETENSBOT_GRAPH_INSTALL": "1", "KOMPETENSBOT_GRAPH_URL": "http://127.0.0.1:9/v1.0"}
    code, err, served = serve("--anonymous", env=env)
    assert code == 0 and len(served.calls) == 1, err


def test_graph_unused_and_unset_does_not_stop_an_anonymous_server(serve) -> None:
    code, err, served = serve("--anonymous")
    assert code == 0 and len(served.calls) == 1, err
