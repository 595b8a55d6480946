"""easyib 0.2.5 (a second, independent REST client): scenario E1."""

import os

import easyib
from common import check, main


def e1_constructor_and_conid():
    api = easyib.REST(url=os.environ["LOCALBROKER_URL"], ssl=False)
    check(api.id == "DU1234567", f"account id {api.id!r}")
    check(api.get_conid("AAPL") == 265598, "get_conid AAPL")
    check(api.get_conid("IBM") == 8314, "get_conid IBM")


def e3_bars_and_session():
    api = easyib.REST(url=os.environ["LOCALBROKER_URL"], ssl=False)
    bars = api.get_bars("AAPL", period="1d", bar="1min")
    check(len(bars["data"]) > 0, f"bars {bars}")
    check(api.ping_server()["iserver"]["authStatus"]["authenticated"] is True, "ping_server")
    check(api.get_auth_status()["authenticated"] is True, "get_auth_status")


if __name__ == "__main__":
    main({"E1": e1_constructor_and_conid, "E3": e3_bars_and_session})
