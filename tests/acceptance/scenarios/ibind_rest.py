"""ibind 0.2.2's REST client (IbkrClient): scenarios A1-A11 of the acceptance plan."""

import datetime
import os

from common import check, control, main
from ibind import IbkrClient, OrderRequest, QuestionType
from ibind.support.errors import ExternalBrokerError

ACCOUNT = "DU1234567"


def client():
    return IbkrClient(url=os.environ["IBIND_REST_URL"], account_id=ACCOUNT, auto_register_shutdown=False)


def a1_health():
    ibkr = client()
    check(ibkr.check_health() is True, "check_health")
    check(ibkr.check_auth_status() is True, "check_auth_status")
    session = ibkr.tickle().data["session"]
    check(isinstance(session, str) and session, f"tickle session {session!r}")
    check(isinstance(ibkr.initialize_brokerage_session().data, dict), "ssodh/init returns JSON")
    check(ibkr.validate().data["RESULT"] is True, "sso/validate RESULT")
    ibkr.logout()
    check(ibkr.check_health() is False, "check_health after logout")
    try:
        ibkr.authentication_status()
        raise AssertionError("authentication_status after logout did not raise")
    except ExternalBrokerError as error:
        check(error.status_code == 401, f"status {error.status_code}")
    control("/_localbroker/session/login", {"username": "demo", "password": "demo"})
    check(ibkr.check_health() is True, "check_health after logging in again")


def a2_accounts():
    ibkr = client()
    accounts = ibkr.receive_brokerage_accounts().data
    check(ACCOUNT in accounts["accounts"], f"accounts {accounts['accounts']}")
    check(accounts["selectedAccount"] == ACCOUNT, f"selected {accounts['selectedAccount']}")
    portfolio = ibkr.portfolio_accounts().data
    check(portfolio[0]["id"] == ACCOUNT and portfolio[0]["accountId"] == ACCOUNT, f"portfolio {portfolio}")
    check(isinstance(ibkr.switch_account(ACCOUNT).data, dict), "switch_account returns JSON")


def a3_contracts():
    ibkr = client()
    conids = ibkr.stock_conid_by_symbol(["AAPL", "MSFT"]).data
    check(conids == {"AAPL": 265598, "MSFT": 272093}, f"conids {conids}")
    stocks = ibkr.security_stocks_by_symbol("AAPL").data["AAPL"]
    check(len(stocks) == 1 and stocks[0]["contracts"][0]["isUS"] is True, f"stocks {stocks}")
    found = ibkr.search_contract_by_symbol("AAPL").data
    check(found[0]["conid"] == "265598", f"search {found}")
    for result in (
        ibkr.contract_information_by_conid("265598"),
        ibkr.security_definition_by_conid(["265598", "8314"]),
        ibkr.search_contract_rules("265598"),
        ibkr.info_and_rules_by_conid("265598", True),
    ):
        check(isinstance(result.data, (dict, list)), f"JSON expected, got {result.data!r}")
    check(ibkr.info_and_rules_by_conid("265598", True).data["con_id"] == 265598, "info-and-rules con_id")


def number(text):
    return float(str(text).lstrip("CH").replace(",", ""))


def a4_snapshot():
    ibkr = client()
    ibkr.receive_brokerage_accounts()
    fields = ["31", "84", "86", "6509"]
    opened = ibkr.live_marketdata_snapshot("265598", fields).data
    check(opened[0]["conid"] == 265598, f"pre-flight {opened}")
    quote = ibkr.live_marketdata_snapshot("265598", fields).data[0]
    check(quote["conid"] == 265598, f"snapshot {quote}")
    last, bid, ask = number(quote["31"]), number(quote["84"]), number(quote["86"])
    check(bid <= last <= ask and bid < ask, f"bid {bid} last {last} ask {ask}")
    by_symbol = ibkr.live_marketdata_snapshot_by_symbol("AAPL", ["31", "84", "86"])["AAPL"]
    for key in ("last_price", "bid_price", "ask_price"):
        check(key in by_symbol, f"{key} in {by_symbol}")


def a5_history():
    ibkr = client()
    bars = ibkr.marketdata_history_by_conid("265598", bar="1min", period="1d", outside_rth=True).data["data"]
    check(len(bars) > 0, "bars")
    times = [bar["t"] for bar in bars]
    check(times == sorted(set(times)), "strictly increasing times")
    check(all(t > 1_600_000_000_000 for t in times), "epoch milliseconds")
    for bar in bars:
        check(bar["l"] <= min(bar["o"], bar["c"]) and max(bar["o"], bar["c"]) <= bar["h"], f"bar {bar}")
        check(isinstance(bar["v"], int), f"volume {bar}")
    history = ibkr.marketdata_history_by_symbols(["AAPL", "MSFT"], period="1d", bar="5min")
    for symbol in ("AAPL", "MSFT"):
        rows = history[symbol]
        check(len(rows) > 0 and all(isinstance(row["date"], datetime.datetime) for row in rows), f"{symbol}: {rows[:2]}")
    beta = ibkr.historical_marketdata_beta("265598", period="1d", bar="1h").data
    check(len(beta["data"]) > 0, f"hmds/history {beta}")


ANSWERS = {
    QuestionType.TRIGGER_AND_FILL: True,
    QuestionType.MISSING_MARKET_DATA: True,
    QuestionType.PRICE_PERCENTAGE_CONSTRAINT: True,
    QuestionType.MARKET_ORDER_CONFIRMATION: True,
    QuestionType.STOP_ORDER_RISKS: True,
    QuestionType.ORDER_VALUE_LIMIT: True,
    QuestionType.ORDER_SIZE_LIMIT: True,
}


def last_price(ibkr):
    ibkr.live_marketdata_snapshot("265598", ["31"])
    return number(ibkr.live_marketdata_snapshot("265598", ["31"]).data[0]["31"])


def limit_order(quantity, price, coid=None, side="BUY", **extra):
    return OrderRequest(
        conid=265598, side=side, quantity=quantity, order_type="LMT", price=price, acct_id=ACCOUNT, coid=coid, **extra
    )


def live(ibkr, **filters):
    """Live orders, called twice as real clients do: IBKR's first call primes the list."""
    first = ibkr.live_orders(**filters).data
    return first if first.get("snapshot") else ibkr.live_orders(**filters).data


def place(ibkr, request):
    placed = ibkr.place_order(request, ANSWERS).data
    return placed if isinstance(placed, dict) else placed[0]


def a6_place_and_questions():
    ibkr = client()
    ibkr.receive_brokerage_accounts()
    below = round(last_price(ibkr) * 0.99, 2)
    placed = place(ibkr, limit_order(10, below, coid="t-1"))
    check(placed["order_status"] in ("Submitted", "PreSubmitted") and placed["order_id"], f"placed {placed}")
    # Without market data for MSFT, a market order asks two questions in a row.
    two = ibkr.place_order(
        OrderRequest(conid=272093, side="BUY", quantity=1, order_type="MKT", acct_id=ACCOUNT), ANSWERS
    ).data
    check(two["order_status"] == "Filled", f"after two questions {two}")
    try:
        declined = ibkr.place_order(
            OrderRequest(conid=8314, side="BUY", quantity=1, order_type="MKT", acct_id=ACCOUNT, coid="t-declined"),
            {**ANSWERS, QuestionType.MISSING_MARKET_DATA: False},
        )
        raise AssertionError(f"a declined question did not raise: {declined.data}")
    except RuntimeError:
        pass
    refs = [order.get("order_ref") for order in live(ibkr)["orders"]]
    check("t-declined" not in refs, f"the declined order exists: {refs}")


def a7_live_orders():
    ibkr = client()
    ibkr.receive_brokerage_accounts()
    below = round(last_price(ibkr) * 0.99, 2)
    order_id = place(ibkr, limit_order(10, below))["order_id"]
    orders = live(ibkr)["orders"]
    mine = [order for order in orders if str(order["orderId"]) == order_id]
    check(len(mine) == 1 and mine[0]["status"] == "Submitted" and mine[0]["remainingQuantity"] == 10, f"live {orders}")
    forced = ibkr.live_orders(filters=["submitted"], force=True).data
    check(forced["orders"] == [] and forced["snapshot"] is False, f"force {forced}")
    filtered = ibkr.live_orders(filters=["submitted"]).data["orders"]
    check([str(order["orderId"]) for order in filtered] == [order_id], f"filtered {filtered}")
    check(ibkr.order_status(order_id).data["order_status"] == "Submitted", "order_status")


def a8_modify():
    ibkr = client()
    ibkr.receive_brokerage_accounts()
    below = round(last_price(ibkr) * 0.99, 2)
    order_id = place(ibkr, limit_order(10, below))["order_id"]
    lower = round(below - 0.5, 2)
    modified = ibkr.modify_order(order_id, limit_order(5, lower), ANSWERS).data
    modified = modified if isinstance(modified, dict) else modified[0]
    check(modified["order_id"] == order_id, f"modified {modified}")
    status = ibkr.order_status(order_id).data
    check(status["total_size"] == "5.0" and float(status["limit_price"]) == lower, f"status {status}")


def a9_whatif():
    ibkr = client()
    ibkr.receive_brokerage_accounts()
    preview = ibkr.whatif_order(limit_order(10, round(last_price(ibkr), 2))).data
    for path in (("amount", "commission"), ("equity", "after"), ("initial", "change")):
        check(preview[path[0]][path[1]], f"{path} in {preview}")
    check(live(ibkr)["orders"] == [], "whatif placed nothing")


def a10_cancel():
    ibkr = client()
    ibkr.receive_brokerage_accounts()
    below = round(last_price(ibkr) * 0.99, 2)
    order_id = place(ibkr, limit_order(10, below))["order_id"]
    place(ibkr, limit_order(1, below))
    check(ibkr.cancel_order(order_id).data["msg"] == "Request was submitted", "cancel")
    statuses = {str(order["orderId"]): order["status"] for order in live(ibkr)["orders"]}
    check(statuses[order_id] == "Cancelled", f"statuses {statuses}")
    check(ibkr.cancel_order("-1").data["msg"] == "Request was submitted", "cancel all")
    working = [order for order in ibkr.live_orders().data["orders"] if order["status"] in ("Submitted", "PreSubmitted")]
    check(working == [], f"still working {working}")


def a11_fill_and_trades():
    ibkr = client()
    ibkr.receive_brokerage_accounts()
    market = OrderRequest(conid=265598, side="BUY", quantity=10, order_type="MKT", acct_id=ACCOUNT, coid="fill-1")
    order_id = place(ibkr, market)["order_id"]
    filled = [order for order in live(ibkr)["orders"] if str(order["orderId"]) == order_id]
    check(filled and filled[0]["status"] == "Filled" and filled[0]["filledQuantity"] == 10, f"live {filled}")
    trades = ibkr.trades(days="1").data
    mine = [trade for trade in trades if trade["order_ref"] == "fill-1"]
    check(len(mine) >= 1 and sum(trade["size"] for trade in mine) == 10 and mine[0]["side"] == "B", f"trades {trades}")
    check(float(mine[0]["commission"]) > 0, f"commission {mine[0]}")


def bracket():
    """A bracket through ibind: the entry fills, then exactly one exit, on a scripted path."""
    ibkr = client()
    ibkr.receive_brokerage_accounts()
    control("/_localbroker/market/265598", {"price": 100, "volatility": 0.0001})
    entry = limit_order(10, 101.0, coid="entry")
    profit = limit_order(10, 105.0, side="SELL", parent_id="entry")
    loss = OrderRequest(
        conid=265598, side="SELL", quantity=10, order_type="STP", price=95.0, acct_id=ACCOUNT, parent_id="entry"
    )
    placed = ibkr.place_order([entry, profit, loss], ANSWERS).data
    check(isinstance(placed, list) and len(placed) == 3, f"placed {placed}")
    ids = [row["order_id"] for row in placed]
    check(placed[0]["order_status"] == "Filled", f"the entry was marketable: {placed}")
    control("/_localbroker/market/265598", {"price": 106})
    statuses = [ibkr.order_status(order_id).data["order_status"] for order_id in ids]
    check(statuses == ["Filled", "Filled", "Cancelled"], f"statuses {statuses}")


def default_health():
    """ibind with every setting at its default: https://127.0.0.1:5000/v1/api/, no verification."""
    ibkr = IbkrClient(auto_register_shutdown=False)
    check(ibkr.base_url == "https://127.0.0.1:5000/v1/api/", ibkr.base_url)
    check(ibkr.check_health() is True, "check_health with the defaults")
    check(ibkr.receive_brokerage_accounts().data["selectedAccount"] == ACCOUNT, "accounts")


if __name__ == "__main__":
    main(
        {
            "A1": a1_health,
            "A2": a2_accounts,
            "A3": a3_contracts,
            "A4": a4_snapshot,
            "A5": a5_history,
            "A6": a6_place_and_questions,
            "A7": a7_live_orders,
            "A8": a8_modify,
            "A9": a9_whatif,
            "A10": a10_cancel,
            "A11": a11_fill_and_trades,
            "bracket": bracket,
            "default": default_health,
        }
    )
