"""ibauth 0.1.6 (IBKR's OAuth 2.0 flow) and ibind with its bearer: scenarios C1-C4."""

import asyncio
import os
import subprocess
import tempfile

from common import check, main
from ibauth import IBAuth
from ibind import IbkrClient

CLIENT = "ACCEPTANCECLIENT"


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


def key_pair(directory):
    """A fresh RSA key pair, its private key file and its public PEM."""
    private = os.path.join(directory, "client.key")
    subprocess.run(["openssl", "genrsa", "-out", private, "2048"], check=True, capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", private, "-pubout"], check=True, capture_output=True, text=True)
    return private, public.stdout


def register(public_pem, kid="main"):
    import json
    import urllib.request

    body = json.dumps({"clientId": CLIENT, "kid": kid, "publicKey": public_pem, "scopes": "sso-sessions.write"}).encode()
    request = urllib.request.Request(os.environ["LOCALBROKER_URL"] + "/_localbroker/clients", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    urllib.request.urlopen(request).read()


def c1_c2_connect_tickle_logout():
    with tempfile.TemporaryDirectory() as directory:
        private, public = key_pair(directory)
        register(public)
        auth = LocalIBAuth(CLIENT, "main", "demo", private)

        async def flow():
            await auth.connect()
            check(auth.access_token and auth.bearer_token, "both tokens")
            session = await auth.tickle()
            check(session, f"tickle session {session!r}")
            status = await auth.status()
            check(status.authenticated and not status.competing, f"status {status}")
            return auth.header

        header = asyncio.run(flow())

        class BearerClient(IbkrClient):
            def _get_headers(self, request_method, request_url):
                return header

        ibkr = BearerClient(url=os.environ["IBIND_REST_URL"], account_id="DU1234567", auto_register_shutdown=False)
        accounts = ibkr.portfolio_accounts().data
        check(accounts[0]["accountId"] == "DU1234567", f"accounts through the bearer {accounts}")
        asyncio.run(auth.logout())
        try:
            ibkr.tickle()
            raise AssertionError("tickle with a logged-out bearer did not fail")
        except Exception as error:  # noqa: BLE001 - ibind raises its own error type for 401
            check("401" in str(error) or getattr(error, "status_code", None) == 401, f"after logout: {error!r}")


def c3_wrong_key():
    with tempfile.TemporaryDirectory() as directory:
        _, public = key_pair(directory)
        register(public, kid="other")
        wrong, _ = key_pair(tempfile.mkdtemp())
        auth = LocalIBAuth(CLIENT, "other", "demo", wrong)
        try:
            asyncio.run(auth.get_access_token())
            raise AssertionError("a token was issued for an assertion signed with another key")
        except Exception as error:  # noqa: BLE001 - httpx.HTTPStatusError, whatever wraps it
            check("401" in str(error) or "400" in str(error), f"refused: {error!r}")


if __name__ == "__main__":
    main({"C1": c1_c2_connect_tickle_logout, "C3": c3_wrong_key})
