"""The Flex Web Service with ibflex 1.1 and ibkr-flex-client 0.1.0: scenarios D1-D4.

A scripted day (a market order, a deposit) is traded through the REST API and the control
plane; both clients then download the demo world's Activity query, ibflex parses it with
warnings as errors, and its values are compared with what the API reports."""

import asyncio
import json
import os
import urllib.request
import warnings

import aiohttp
import ibflex.client
import ibflex.parser
import ibkr_flex_client.client
from common import check, control, main
from ibkr_flex_client import FlexClient

URL = os.environ.get("LOCALBROKER_URL", "")
TOKEN = "123456789012345678901234"
QUERY = "1000001"
ACCOUNT = "DU1234567"
SEND = f"{URL}/AccountManagement/FlexWebService/SendRequest"


def api(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{URL}/v1/api{path}", data=data, method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json", "User-Agent": "Java"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def trade_a_day():
    """A market order for 10 AAPL, filled; a deposit of 2500 USD."""
    api("/iserver/questions/suppress", {"messageIds": ["o163", "o354", "o383", "o451", "o403", "o10151", "o10331"]})
    order = {"conid": 265598, "orderType": "MKT", "side": "BUY", "quantity": 10, "tif": "DAY"}
    placed = api(f"/iserver/account/{ACCOUNT}/orders", {"orders": [order]})
    check(placed[0].get("order_id"), f"order {placed}")
    control("/_localbroker/clock", {"advance": "1m"})
    control(f"/_localbroker/accounts/{ACCOUNT}/deposits", {"currency": "USD", "amount": 2500})


def close(a, b):
    return abs(float(a) - float(b)) < 1e-6


def d1_ibflex():
    trade_a_day()
    ibflex.client.REQUEST_URL = SEND
    data = ibflex.client.download(TOKEN, QUERY)
    warnings.simplefilter("error")
    response = ibflex.parser.parse(data)
    statement = response.FlexStatements[0]
    check(statement.accountId == ACCOUNT, f"account {statement.accountId}")
    trades = api("/iserver/account/trades")
    check(len(statement.Trades) == 1 and len(trades) == 1, f"{statement.Trades} {trades}")
    flex, rest = statement.Trades[0], trades[0]
    check(flex.symbol == "AAPL" and close(flex.quantity, 10) and flex.buySell.name == "BUY", f"trade {flex}")
    check(close(flex.tradePrice, rest["price"]), f"price {flex.tradePrice} vs {rest['price']}")
    check(close(flex.ibCommission, -float(rest["commission"])), f"commission {flex.ibCommission} vs {rest['commission']}")
    positions = api(f"/portfolio/{ACCOUNT}/positions/0")
    position = statement.OpenPositions[0]
    check(close(position.position, positions[0]["position"]), f"position {position} vs {positions[0]}")
    check(close(position.markPrice, positions[0]["mktPrice"]), f"mark {position.markPrice} vs {positions[0]['mktPrice']}")
    ledger = api(f"/portfolio/{ACCOUNT}/ledger")["USD"]
    cash = statement.CashReport[0]
    check(close(cash.endingCash, ledger["cashbalance"]), f"ending cash {cash.endingCash} vs {ledger['cashbalance']}")


def d2_ibkr_flex_client():
    trade_a_day()
    ibkr_flex_client.client._SEND_URL = SEND

    async def fetch(**dates):
        async with aiohttp.ClientSession() as session:
            return await FlexClient(token=TOKEN, query_id=QUERY, backoff_base=0.2, **dates).fetch(session)

    statement = asyncio.run(fetch())
    check(statement.account_id == ACCOUNT, f"account {statement.account_id}")
    check(str(statement.from_date) == "2026-01-01" and str(statement.to_date) == "2026-03-03", "year to date")
    check([trade.get("symbol") for trade in statement.iter("Trade")] == ["AAPL"], "trades")
    today = asyncio.run(fetch(from_date="20260303", to_date="20260303"))
    check(str(today.from_date) == "2026-03-03" and str(today.to_date) == "2026-03-03", "fd and td are honoured")


def d4_errors():
    ibflex.client.REQUEST_URL = SEND
    for token, query, code in [("999", QUERY, "1015"), (TOKEN, "42", "1014")]:
        try:
            ibflex.client.download(token, query)
            raise AssertionError(f"no error for {token} {query}")
        except ibflex.client.ResponseCodeError as error:
            check(error.code == code, f"code {error.code}, expected {code}")
    body = urllib.request.urlopen(
        f"{URL}/AccountManagement/FlexWebService/GetStatement?v=3&t={TOKEN}&q=1234567890", timeout=10
    ).read().decode()
    check("<ErrorCode>1017</ErrorCode>" in body, f"bad reference {body}")
    ibkr_flex_client.client._SEND_URL = SEND

    async def bad_token():
        async with aiohttp.ClientSession() as session:
            await FlexClient(token="999", query_id=QUERY, backoff_base=0.2).fetch(session)

    try:
        asyncio.run(bad_token())
        raise AssertionError("ibkr-flex-client took a bad token")
    except ibkr_flex_client.client.FlexError as error:
        check("1015" in str(error), f"ibkr-flex-client {error}")


def d3_in_progress():
    """The server takes 3 s to generate a statement: GetStatement answers 1019 until then, and
    both clients retry until it is ready."""
    sent = urllib.request.urlopen(f"{SEND}?v=3&t={TOKEN}&q={QUERY}", timeout=10).read().decode()
    reference = sent.split("<ReferenceCode>")[1].split("</ReferenceCode>")[0]
    early = urllib.request.urlopen(
        f"{URL}/AccountManagement/FlexWebService/GetStatement?v=3&t={TOKEN}&q={reference}", timeout=10
    ).read().decode()
    check(early.startswith("<FlexStatementResponse") and "<ErrorCode>1019</ErrorCode>" in early, f"early {early}")
    ibflex.client.REQUEST_URL = SEND
    check(b"<FlexQueryResponse" in ibflex.client.download(TOKEN, QUERY), "ibflex retried")
    ibkr_flex_client.client._SEND_URL = SEND

    async def fetch():
        async with aiohttp.ClientSession() as session:
            return await FlexClient(token=TOKEN, query_id=QUERY, backoff_base=0.2, max_retries=100).fetch(session)

    check(asyncio.run(fetch()).account_id == ACCOUNT, "ibkr-flex-client retried")


if __name__ == "__main__":
    main({"D1": d1_ibflex, "D2": d2_ibkr_flex_client, "D3": d3_in_progress, "D4": d4_errors})
