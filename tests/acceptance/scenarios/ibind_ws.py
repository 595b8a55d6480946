"""ibind 0.2.2's websocket client (IbkrWsClient): scenarios B1-B7 of the acceptance plan."""

import os
import time

from common import check, control, main
from ibind import IbkrClient, IbkrWsClient
from ibind.ibkr_ws import ibkr_events as events
from ibind.ibkr_ws.ibkr_subscriptions import (
    AccountLedgerSubscription,
    AccountSummarySubscription,
    MarketDataSubscription,
    MarketHistorySubscription,
    OrdersSubscription,
    PnlSubscription,
    TradesSubscription,
)
from ibind.ws.ws_sinks import QueueSink

ACCOUNT = "DU1234567"


def connect():
    """A started client over plain HTTP, with its queues."""
    rest = IbkrClient(url=os.environ["IBIND_REST_URL"], account_id=ACCOUNT, auto_register_shutdown=False)
    url = os.environ["LOCALBROKER_URL"].replace("http://", "ws://") + "/v1/api/ws"
    sink = QueueSink()
    ws = IbkrWsClient(url=url, ibkr_client=rest, account_id=ACCOUNT, sink=sink)
    check(ws.start() is True, "start() within its timeout")
    return rest, ws, sink


def drain(sink, event_type, seconds):
    """The events of a type that arrive within `seconds`."""
    accessor = sink.new_queue_accessor(event_type)
    found, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        event = accessor.get(block=True, timeout=0.2)
        if event is not None:
            found.append(event)
    return found


def b1_b2_connect_and_stay():
    rest, ws, sink = connect()
    check(ws.get_state().name == "AUTHENTICATED", f"state {ws.get_state()}")
    time.sleep(60)
    check(ws.get_state().name == "AUTHENTICATED", f"still authenticated: {ws.get_state()}")
    check(len(drain(sink, events.AuthenticationStatus, 1)) == 1, "one connection, no reconnect")
    tic = ws.tic()
    check(isinstance(tic, dict) and "lastAccessed" in tic, f"tic {tic}")
    ws.shutdown()


def b3_market_data():
    rest, ws, sink = connect()
    subscription = MarketDataSubscription(conid="265598", fields=["31", "84", "86"])
    handle = ws.subscribe(subscription)
    check(handle.wait(15), "the market data subscription is active")
    control("/_localbroker/clock", {"advance": "1m"})
    updates = drain(sink, events.MarketData, 3)
    check(len(updates) >= 2 and all(u.conid == "265598" for u in updates), f"updates {updates}")
    check(any("last_price" in u.data for u in updates), f"last_price in {updates}")
    ws.unsubscribe(subscription)
    time.sleep(1)
    drain(sink, events.MarketData, 1)
    control("/_localbroker/clock", {"advance": "1m"})
    check(drain(sink, events.MarketData, 2) == [], "nothing after unsubscribing")
    ws.shutdown()


def b4_orders():
    rest, ws, sink = connect()
    ws.subscribe(OrdersSubscription())
    time.sleep(1)
    rest.suppress_messages(["o354", "o163", "o10151"])
    control("/_localbroker/market/265598", {"price": 100, "volatility": 0.0001})
    placed = rest.post(
        f"iserver/account/{ACCOUNT}/orders",
        {"orders": [{"conid": 265598, "side": "BUY", "quantity": 3, "orderType": "LMT", "price": 90, "tif": "GTC"}]},
    ).data
    order_id = int(placed[0]["order_id"])
    control("/_localbroker/market/265598", {"price": 89})
    updates = [u.data for u in drain(sink, events.Orders, 3)]
    statuses = [row["status"] for u in updates for row in u["args"] if row["orderId"] == order_id]
    check(statuses[:1] == ["Submitted"] and "Filled" in statuses, f"statuses {statuses}")
    ws.shutdown()


def b5_account_streams():
    rest, ws, sink = connect()
    handles = [
        ws.subscribe(PnlSubscription()),
        ws.subscribe(TradesSubscription()),
        ws.subscribe(AccountSummarySubscription(account_id=ACCOUNT)),
        ws.subscribe(AccountLedgerSubscription(account_id=ACCOUNT)),
    ]
    check(all(handle.wait(15) for handle in handles), f"active: {[str(h) for h in handles]}")
    pnl = drain(sink, events.Pnl, 2)
    check(pnl and f"{ACCOUNT}.Core" in pnl[0].data["args"], f"pnl {pnl}")
    summary = drain(sink, events.AccountSummary, 1)
    check(summary and summary[0].data["AccountCode"]["value"] == ACCOUNT, f"summary {summary}")
    ledger = drain(sink, events.AccountLedger, 1)
    check(ledger and ledger[0].account_id == ACCOUNT, f"ledger {ledger}")
    rest.suppress_messages(["o354", "o10151"])
    rest.post(
        f"iserver/account/{ACCOUNT}/orders",
        {"orders": [{"conid": 265598, "side": "BUY", "quantity": 1, "orderType": "MKT", "tif": "DAY"}]},
    )
    trades = [t for t in drain(sink, events.Trades, 3) if t.data.get("args")]
    check(trades and trades[0].data["args"][0]["side"] == "B", f"trades {trades}")
    ws.shutdown()


def b6_market_history():
    rest, ws, sink = connect()
    subscription = MarketHistorySubscription(conid="265598", period="1d", bar="1min")
    check(ws.subscribe(subscription).wait(15), "the history subscription is active")
    bars = drain(sink, events.MarketHistory, 2)
    check(bars, "a MarketHistory event")
    check(ws.get_server_id(events.MarketHistory, "265598"), "its server id is known")
    handle = ws.unsubscribe(subscription)
    deadline = time.monotonic() + 10
    while not handle.unsubscribed and time.monotonic() < deadline:
        time.sleep(0.2)
    check(handle.unsubscribed, f"unsubscribed: {handle}")
    ws.shutdown()


def b7_reconnect():
    rest, ws, sink = connect()
    check(ws.subscribe(MarketDataSubscription(conid="265598", fields=["31"])).wait(15), "active")
    drain(sink, events.MarketData, 1)
    dropped = control("/_localbroker/websockets/drop", {})
    check(dropped["dropped"] == 1, f"dropped {dropped}")
    again = drain(sink, events.MarketData, 20)
    check(again and again[0].conid == "265598", "the subscription was sent again after reconnecting")
    check(ws.get_state().name == "AUTHENTICATED", f"state {ws.get_state()}")
    check(len(drain(sink, events.AuthenticationStatus, 1)) == 2, "two connections")
    ws.shutdown()


if __name__ == "__main__":
    main(
        {
            "B1": b1_b2_connect_and_stay,
            "B3": b3_market_data,
            "B4": b4_orders,
            "B5": b5_account_streams,
            "B6": b6_market_history,
            "B7": b7_reconnect,
        }
    )
