"""ibind 0.2.2's REST client (IbkrClient): scenarios A1-A5 of the acceptance plan."""

import datetime
import os

from common import check, control, main
from ibind import IbkrClient
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


def default_health():
    """ibind with every setting at its default: https://127.0.0.1:5000/v1/api/, no verification."""
    ibkr = IbkrClient(auto_register_shutdown=False)
    check(ibkr.base_url == "https://127.0.0.1:5000/v1/api/", ibkr.base_url)
    check(ibkr.check_health() is True, "check_health with the defaults")
    check(ibkr.receive_brokerage_accounts().data["selectedAccount"] == ACCOUNT, "accounts")


if __name__ == "__main__":
    main({"A1": a1_health, "A2": a2_accounts, "A3": a3_contracts, "A4": a4_snapshot, "A5": a5_history, "default": default_health})
