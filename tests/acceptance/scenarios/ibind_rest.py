"""ibind 0.2.2's REST client (IbkrClient): scenarios A1-A3 of the acceptance plan."""

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


def default_health():
    """ibind with every setting at its default: https://127.0.0.1:5000/v1/api/, no verification."""
    ibkr = IbkrClient(auto_register_shutdown=False)
    check(ibkr.base_url == "https://127.0.0.1:5000/v1/api/", ibkr.base_url)
    check(ibkr.check_health() is True, "check_health with the defaults")
    check(ibkr.receive_brokerage_accounts().data["selectedAccount"] == ACCOUNT, "accounts")


if __name__ == "__main__":
    main({"A1": a1_health, "A2": a2_accounts, "A3": a3_contracts, "default": default_health})
