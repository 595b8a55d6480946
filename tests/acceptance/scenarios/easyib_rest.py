"""easyib 0.2.5 (a second, independent REST client): scenarios E1-E4."""

import os

import easyib
from common import check, main


def e1_constructor_and_conid():
    api = easyib.REST(url=os.environ["LOCALBROKER_URL"], ssl=False)
    check(api.id == "DU1234567", f"account id {api.id!r}")
    check(api.get_conid("AAPL") == 265598, "get_conid AAPL")
    check(api.get_conid("IBM") == 8314, "get_conid IBM")


def e2_orders():
    api = easyib.REST(url=os.environ["LOCALBROKER_URL"], ssl=False)
    bars = api.get_bars("AAPL", period="1d", bar="1min")["data"]
    below = round(bars[-1]["c"] * 0.99, 2)
    order = {"conid": 265598, "orderType": "LMT", "price": below, "side": "BUY", "quantity": 7, "tif": "DAY"}
    placed = api.submit_orders([order])
    order_id = placed["order_id"]
    check(placed["order_status"] == "Submitted", f"submitted {placed}")
    check(api.get_order(order_id)["order_status"] == "Submitted", "get_order")
    api.get_live_orders()  # IBKR's first call primes the list
    listed = [str(o["orderId"]) for o in api.get_live_orders()["orders"]]
    check(order_id in listed, f"live {listed}")
    modified = api.modify_order(order_id, {**order, "quantity": 3})
    check(modified["order_id"] == order_id, f"modified {modified}")
    check(api.get_order(order_id)["total_size"] == "3.0", "modified size")
    check(api.cancel_order(order_id)["msg"] == "Request was submitted", "cancel")
    check(api.get_order(order_id)["order_status"] == "Cancelled", "cancelled")


def e4_portfolio():
    api = easyib.REST(url=os.environ["LOCALBROKER_URL"], ssl=False)
    cash = api.get_cash()
    order = {"conid": 265598, "orderType": "MKT", "side": "BUY", "quantity": 5, "tif": "DAY"}
    check(api.submit_orders([order])["order_status"] == "Filled", "bought")
    check(api.get_portfolio().get("AAPL") == 5, f"portfolio {api.get_portfolio()}")
    check(api.get_cash() < cash, f"cash {api.get_cash()} after {cash}")
    check(api.get_netvalue() > api.get_cash(), "net value counts the shares")


def e3_bars_and_session():
    api = easyib.REST(url=os.environ["LOCALBROKER_URL"], ssl=False)
    bars = api.get_bars("AAPL", period="1d", bar="1min")
    check(len(bars["data"]) > 0, f"bars {bars}")
    check(api.ping_server()["iserver"]["authStatus"]["authenticated"] is True, "ping_server")
    check(api.get_auth_status()["authenticated"] is True, "get_auth_status")


if __name__ == "__main__":
    main({"E1": e1_constructor_and_conid, "E2": e2_orders, "E3": e3_bars_and_session, "E4": e4_portfolio})
