"""easyib 0.2.5 (a second, independent REST client): scenario E1."""

import os

import easyib
from common import check, main


def e1_constructor_and_conid():
    api = easyib.REST(url=os.environ["LOCALBROKER_URL"], ssl=False)
    check(api.id == "DU1234567", f"account id {api.id!r}")
    check(api.get_conid("AAPL") == 265598, "get_conid AAPL")
    check(api.get_conid("IBM") == 8314, "get_conid IBM")


if __name__ == "__main__":
    main({"E1": e1_constructor_and_conid})
