"""Real IBKR clients against LocalBroker, one pytest test per scenario."""

import os
from pathlib import Path

import pytest
from conftest import MARKET_OPEN, OAUTH_CLIENT, REPO, Server, localbroker, oauth_server, run_scenario, strict

IBEAM = os.environ.get("IBEAM_PATH", "")


@pytest.mark.parametrize("scenario", ["A1", "A2", "A3"])
def test_ibind_over_http(http_server, scenario):
    run_scenario("ibind_rest.py", scenario, http_server.env())


@pytest.mark.parametrize("scenario", ["A1", "A2", "A3"])
def test_ibind_over_https(https_server, scenario):
    run_scenario("ibind_rest.py", scenario, https_server.env())


def test_ibind_defaults_reach_a_default_start(default_server):
    assert default_server.url == "https://127.0.0.1:5000"
    env = default_server.env()
    del env["IBIND_REST_URL"]
    run_scenario("ibind_rest.py", "default", env)


@pytest.mark.parametrize("scenario", ["A4", "A5"])
def test_ibind_market_data(market_server, scenario):
    run_scenario("ibind_rest.py", scenario, market_server.env())


@pytest.mark.parametrize("scenario", ["A6", "A7", "A8", "A9", "A10", "A11", "P1", "bracket"])
def test_ibind_orders(market_server, scenario):
    run_scenario("ibind_rest.py", scenario, market_server.env())


def test_easyib_orders(market_server):
    run_scenario("easyib_rest.py", "E2", market_server.env())


def test_easyib(http_server):
    run_scenario("easyib_rest.py", "E1", http_server.env())


def test_easyib_bars(market_server):
    run_scenario("easyib_rest.py", "E3", market_server.env())


def test_easyib_portfolio(market_server):
    run_scenario("easyib_rest.py", "E4", market_server.env())


@pytest.mark.parametrize("scenario", ["F1", "F2"])
def test_ibeam_http_handler(http_server, scenario):
    env = http_server.env(PYTHONPATH=os.pathsep.join(filter(None, [IBEAM, os.environ.get("PYTHONPATH")])))
    run_scenario("ibeam_http.py", scenario, env)


@pytest.mark.parametrize("scenario", ["B1", "B3", "B4", "B5", "B6", "B7"])
def test_ibind_websocket(market_server, scenario):
    run_scenario("ibind_ws.py", scenario, market_server.env(IBIND_WS_TIMEOUT="15"))


@pytest.mark.parametrize("scenario", ["C1", "C3"])
def test_ibauth_oauth(strict_server, scenario):
    run_scenario("ibauth_oauth.py", scenario, strict_server.env())


def test_ibauth_competing_sessions(strict_unpaced_server):
    run_scenario("ibauth_oauth.py", "C4", strict_unpaced_server.env())


def test_ibauth_oauth_over_https(strict_https_server):
    run_scenario("ibauth_oauth.py", "C5", strict_https_server.env())


def test_ibkr_pacing(paced_server):
    run_scenario("ibauth_oauth.py", "pacing", paced_server.env())



AM_SCOPES = (
    "sso-sessions.write accounts.read accounts.write bank-instructions.read bank-instructions.write "
    "transfers.read transfers.write instructions.read statements.read statements.write"
)


def test_back_office(workdir):
    """An introducing broker's back office: refused before review, approved with
    `localbroker clients approve` while the server is down, then onboarding, funding, trading,
    a withdrawal and the statement on the restarted server."""
    server = oauth_server(workdir, "--http", scopes=AM_SCOPES, world=["--clock", "manual", "--start", MARKET_OPEN])
    try:
        run_scenario("back_office.py", "unapproved", server.env())
    finally:
        server.stop()
    localbroker(workdir, "clients", "approve", OAUTH_CLIENT, "--data-dir", "data")
    server = strict(workdir, server.keys, "--http")
    try:
        run_scenario("back_office.py", "onboarding", server.env())
    finally:
        server.stop()


@pytest.mark.parametrize("scenario", ["D1", "D2", "D4"])
def test_flex_web_service(market_server, scenario):
    run_scenario("flex.py", scenario, market_server.env())


def test_flex_statements_in_progress(workdir):
    """D3: the demo world, its statements taking 3 s to generate."""
    demo = (REPO / "crates" / "server" / "src" / "world" / "demo.toml").read_text()
    world = Path(workdir) / "world.toml"
    world.write_text(demo.replace("[flex]\n", "[flex]\ngeneration = \"3s\"\n", 1))
    server = Server(["serve", "--http", "--listen", "127.0.0.1:0", "--data-dir", "data", "--world", str(world)], workdir)
    try:
        run_scenario("flex.py", "D3", server.env())
    finally:
        server.stop()
