"""ibauth 0.1.6 (IBKR's OAuth 2.0 flow) and ibind with its bearer against a strict server whose
client was registered with `localbroker clients add`: scenarios C1-C5, and IBKR's pacing."""

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import jwt
from common import check, main
from ibauth import IBAuth
from ibind import IbkrClient

CLIENT = os.environ.get("LOCALBROKER_CLIENT", "")
KEYS = Path(os.environ.get("LOCALBROKER_KEYS", "."))


class LocalIBAuth(IBAuth):
    """ibauth pointed at the server under test, without its public-IP lookup."""

    @property
    def url_oauth2(self):
        return os.environ["LOCALBROKER_URL"] + "/oauth2"

    @property
    def url_gateway(self):
        return os.environ["LOCALBROKER_URL"] + "/gw"

    @property
    def url_client_portal(self):
        return os.environ["LOCALBROKER_URL"]

    async def _check_ip(self):
        self.IP = "127.0.0.1"
        return self.IP


def bearer_client(header):
    """ibind with ibauth's bearer on every request: the hook survives ibind's session resets."""

    class BearerClient(IbkrClient):
        def _get_headers(self, request_method, request_url):
            return header

    return BearerClient(url=os.environ["IBIND_REST_URL"], account_id="DU1234567", auto_register_shutdown=False)


def status_code(error):
    return getattr(error, "status_code", None) or getattr(getattr(error, "response", None), "status_code", None)


def c1_connect_tickle_logout():
    anonymous = IbkrClient(url=os.environ["IBIND_REST_URL"], account_id="DU1234567", auto_register_shutdown=False)
    try:
        anonymous.portfolio_accounts()
        raise AssertionError("a strict server served a caller without credentials")
    except Exception as error:  # noqa: BLE001 - ibind raises its own error type for 401
        check("401" in str(error) or status_code(error) == 401, f"anonymous: {error!r}")

    auth = LocalIBAuth(CLIENT, "main", "demo", str(KEYS / "main.key"))

    async def flow():
        await auth.connect()
        check(auth.access_token and auth.bearer_token, "both tokens")
        session = await auth.tickle()
        check(session, f"tickle session {session!r}")
        status = await auth.status()
        check(status.authenticated and status.connected and not status.competing, f"status {status}")

    asyncio.run(flow())
    ibkr = bearer_client(auth.header)
    accounts = ibkr.portfolio_accounts().data
    check([account["accountId"] for account in accounts] == ["DU1234567"], f"accounts through the bearer {accounts}")
    asyncio.run(auth.logout())
    try:
        ibkr.tickle()
        raise AssertionError("tickle with a logged-out bearer did not fail")
    except Exception as error:  # noqa: BLE001 - ibind raises its own error type for 401
        check("401" in str(error) or status_code(error) == 401, f"after logout: {error!r}")


def assertion(claims, key="main", kid="main"):
    """A client assertion built with PyJWT directly, as a harness forging one would."""
    private = (KEYS / f"{key}.key").read_text()
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


def token_request(client_assertion):
    return httpx.post(
        os.environ["LOCALBROKER_URL"] + "/oauth2/api/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion,
            "scope": "sso-sessions.write",
        },
    )


def c3_refusals():
    auth = LocalIBAuth(CLIENT, "main", "demo", str(KEYS / "unregistered.key"))
    try:
        asyncio.run(auth.get_access_token())
        raise AssertionError("a token was issued for an assertion signed with another key")
    except httpx.HTTPStatusError as error:
        check(error.response.status_code in (400, 401), f"refused: {error!r}")
    now = int(time.time())
    good = {"iss": CLIENT, "sub": CLIENT, "aud": "/token", "iat": now - 10, "exp": now + 20}
    for name, claims in [
        ("wrong aud", {**good, "aud": "/elsewhere"}),
        ("expired", {**good, "iat": now - 120, "exp": now - 60}),
    ]:
        reply = token_request(assertion(claims))
        check(reply.status_code in (400, 401) and "access_token" not in reply.json(), f"{name}: {reply.text}")
        check(reply.json()["error"] in ("invalid_client", "invalid_grant"), f"{name}: {reply.text}")
    check(token_request(assertion(good)).status_code == 200, "the same assertion, well formed, is accepted")


def c4_bearer_reuse_and_competing_sessions():
    first = LocalIBAuth(CLIENT, "main", "demo", str(KEYS / "main.key"))
    asyncio.run(first.connect())
    ibkr = bearer_client(first.header)
    check(ibkr.check_auth_status(), "ibind sees the bearer's session authenticated")
    check(ibkr.portfolio_accounts().data[0]["accountId"] == "DU1234567", "portfolio through the bearer")
    # A second connection of the same username takes the brokerage session over (ibauth's
    # ssodh/init sends compete: true); the first then competes and loses /iserver.
    second = LocalIBAuth(CLIENT, "main", "demo", str(KEYS / "main.key"))
    asyncio.run(second.connect())
    taken = asyncio.run(second.status())
    check(taken.authenticated and not taken.competing, f"the newcomer holds it: {taken}")
    lost = asyncio.run(first.status())
    check(not lost.authenticated and lost.competing, f"the first competes: {lost}")
    try:
        ibkr.live_orders()
        raise AssertionError("a competing session kept /iserver")
    except Exception as error:  # noqa: BLE001 - ibind raises its own error type for 401
        check("401" in str(error) or status_code(error) == 401, f"competing: {error!r}")
    check(ibkr.portfolio_accounts().data, "the read-only session still answers /portfolio")


class DomainIBAuth(IBAuth):
    """ibauth as shipped, pointed at the server only through its domain (C5): every URL is
    https://<domain>/..., and the certificate is trusted through SSL_CERT_FILE."""

    async def _check_ip(self):
        self.IP = "127.0.0.1"
        return self.IP


def c5_https():
    check(os.environ["LOCALBROKER_URL"].startswith("https://"), "an HTTPS server")
    auth = DomainIBAuth(CLIENT, "main", "demo", str(KEYS / "main.key"))
    auth._domain = os.environ["LOCALBROKER_URL"].removeprefix("https://")

    async def flow():
        await auth.connect()
        check(await auth.tickle(), "tickle over HTTPS")
        status = await auth.status()
        check(status.authenticated, f"status {status}")
        await auth.logout()

    asyncio.run(flow())


def pacing_snapshots():
    url = os.environ["IBIND_REST_URL"] + "iserver/marketdata/snapshot?conids=265598&fields=31"
    with httpx.Client() as client:
        client.get(os.environ["IBIND_REST_URL"] + "iserver/accounts")
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=11) as pool:
            replies = list(pool.map(lambda _: client.get(url), range(11)))
        elapsed = time.monotonic() - started
    statuses = [reply.status_code for reply in replies]
    # Ten a second for snapshots, and ten for everything through the gateway, which the
    # accounts call above already used one of.
    check(statuses.count(429) >= 1, f"statuses {statuses} in {elapsed:.2f} s")
    refused = next(reply for reply in replies if reply.status_code == 429)
    check(int(refused.headers["retry-after"]) >= 1, f"Retry-After {refused.headers}")
    check("error" in refused.json(), f"IBKR's error body {refused.text}")


if __name__ == "__main__":
    main({
        "C1": c1_connect_tickle_logout,
        "C3": c3_refusals,
        "C4": c4_bearer_reuse_and_competing_sessions,
        "C5": c5_https,
        "pacing": pacing_snapshots,
    })
