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
    ibkr.portfolio_accounts()
    cash_before = ibkr.get_ledger().data["USD"]["cashbalance"]
    market = OrderRequest(conid=265598, side="BUY", quantity=10, order_type="MKT", acct_id=ACCOUNT, coid="fill-1")
    order_id = place(ibkr, market)["order_id"]
    filled = [order for order in live(ibkr)["orders"] if str(order["orderId"]) == order_id]
    check(filled and filled[0]["status"] == "Filled" and filled[0]["filledQuantity"] == 10, f"live {filled}")
    trades = ibkr.trades(days="1").data
    mine = [trade for trade in trades if trade["order_ref"] == "fill-1"]
    check(len(mine) >= 1 and sum(trade["size"] for trade in mine) == 10 and mine[0]["side"] == "B", f"trades {trades}")
    check(float(mine[0]["commission"]) > 0, f"commission {mine[0]}")
    price, commission = float(mine[0]["price"]), float(mine[0]["commission"])

    rows = [row for row in ibkr.positions().data if row["conid"] == 265598]
    check(len(rows) == 1 and rows[0]["position"] == 10, f"positions {rows}")
    check(abs(rows[0]["avgCost"] - (10 * price + commission) / 10) < 1e-6, f"avgCost {rows[0]}")
    check(abs(rows[0]["mktValue"] - 10 * rows[0]["mktPrice"]) < 1e-6, f"mktValue {rows[0]}")
    check(any(row["conid"] == "265598" for row in ibkr.positions2().data), "positions2")
    check(ibkr.positions_by_conid(ACCOUNT, "265598").data[0]["position"] == 10, "positions_by_conid")
    check(ibkr.position_and_contract_info("265598").data[ACCOUNT][0]["conid"] == 265598, "position_and_contract_info")
    summary = ibkr.portfolio_summary().data
    net = summary["netliquidation"]["amount"]
    ledger = ibkr.get_ledger().data
    spent = cash_before - ledger["USD"]["cashbalance"]
    check(abs(spent - (10 * price + commission)) < 0.005, f"cash spent {spent}")
    check(abs(ledger["BASE"]["netliquidationvalue"] - net) < 0.01, f"ledger {ledger['BASE']} vs {net}")
    allocation = ibkr.portfolio_account_allocation().data
    check(abs(allocation["assetClass"]["long"]["STK"] - rows[0]["mktValue"]) < 0.01, f"allocation {allocation}")
    both = ibkr.portfolio_account_allocations([ACCOUNT]).data
    check(both["assetClass"] == allocation["assetClass"], f"consolidated allocation {both}")
    pnl = ibkr.account_profit_and_loss().data["upnl"][f"{ACCOUNT}.Core"]
    check(abs(pnl["nl"] - net) < 0.01 and abs(pnl["upl"] - rows[0]["unrealizedPnl"]) < 0.01, f"pnl {pnl}")
    check(round(ibkr.account_summary().data["netLiquidationValue"]) == round(net), "account_summary")
    performance = ibkr.account_performance(ACCOUNT, "1M").data
    check(abs(performance["nav"]["data"][0]["navs"][-1] - net) < 0.01, f"performance {performance['nav']}")
    check(ACCOUNT in ibkr.all_periods(ACCOUNT).data, "all_periods")
    history = ibkr.transaction_history(ACCOUNT, "265598", "USD").data["transactions"]
    check(len(history) == 1 and history[0]["qty"] == 10 and history[0]["type"] == "Buy", f"transactions {history}")


def p1_portfolio_agrees():
    """The issue's scripted sequence, then every portfolio figure agrees to the cent."""
    ibkr = client()
    ibkr.receive_brokerage_accounts()
    ibkr.portfolio_accounts()
    control(f"/_localbroker/accounts/{ACCOUNT}/deposits", {"currency": "USD", "amount": 25000})
    sap, eur_usd = 14204, 12087792
    for conid, side, quantity in ((265598, "BUY", 100), (sap, "BUY", 10), (eur_usd, "BUY", 5000)):
        placed = place(ibkr, OrderRequest(conid=conid, side=side, quantity=quantity, order_type="MKT", acct_id=ACCOUNT))
        check(placed["order_status"] == "Filled", f"{conid}: {placed}")
    control("/_localbroker/clock", {"advance": "30m"})
    control("/_localbroker/market/265598", {"price": 290})
    placed = place(ibkr, OrderRequest(conid=265598, side="SELL", quantity=50, order_type="MKT", acct_id=ACCOUNT))
    check(placed["order_status"] == "Filled", f"sell {placed}")
    control("/_localbroker/corporate-actions", {"kind": "dividend", "conid": 265598, "amount": 0.26, "exDate": "2026-03-04", "payDate": "2026-03-05"})
    control("/_localbroker/clock", {"advance": "2d"})

    summary = ibkr.portfolio_summary().data
    ledger = ibkr.get_ledger().data
    rows = ibkr.positions().data
    pnl = ibkr.account_profit_and_loss().data["upnl"][f"{ACCOUNT}.Core"]
    net = summary["netliquidation"]["amount"]
    base = ledger["BASE"]
    in_base = sum(row["mktValue"] * ledger[row["currency"]]["exchangerate"] for row in rows)
    check(abs(base["netliquidationvalue"] - net) < 0.01, f"ledger {base['netliquidationvalue']} vs summary {net}")
    check(abs(in_base + base["cashbalance"] + base["interest"] + base["dividends"] - net) < 0.01, "positions + cash")
    check(abs(pnl["nl"] - net) < 0.01, f"pnl {pnl['nl']} vs {net}")
    check(abs(ledger["EUR"]["stockmarketvalue"] - next(r["mktValue"] for r in rows if r["conid"] == sap)) < 0.01, "EUR row")
    aapl = next(row for row in rows if row["conid"] == 265598)
    trades = sorted(ibkr.trades(days="7").data, key=lambda t: t["execution_id"])
    bought = next(t for t in trades if t["conid"] == 265598 and t["side"] == "B")
    sold = next(t for t in trades if t["conid"] == 265598 and t["side"] == "S")
    average = (100 * float(bought["price"]) + float(bought["commission"])) / 100
    realized = 50 * (float(sold["price"]) - average) - float(sold["commission"])
    check(abs(aapl["realizedPnl"] - realized) < 0.01, f"realized {aapl['realizedPnl']} vs {realized}")
    check(abs(aapl["unrealizedPnl"] - 50 * (aapl["mktPrice"] - average)) < 0.01, f"unrealized {aapl}")


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
            "P1": p1_portfolio_agrees,
            "bracket": bracket,
            "default": default_health,
        }
    )
