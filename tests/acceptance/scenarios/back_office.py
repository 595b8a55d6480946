"""An introducing broker's back office against Account Management, written as one would be with
PyJWT and httpx: onboarding a customer, funding the account, the customer trading through the
Trading API, a withdrawal, and the statement checked against the trades and the ledger.

The server runs in strict mode on a manual clock; the scenario moves the clock through the
control plane wherever a real back office would wait (the review, a settlement)."""

import json
import os
import time
import uuid
from pathlib import Path

import httpx
import jwt
from common import check, control, main

URL = os.environ.get("LOCALBROKER_URL", "")
CLIENT = os.environ.get("LOCALBROKER_CLIENT", "")
KEY = (Path(os.environ.get("LOCALBROKER_KEYS", ".")) / "main.key").read_text() if os.environ.get(
    "LOCALBROKER_KEYS"
) else ""
AM_SCOPES = (
    "accounts.read accounts.write bank-instructions.read bank-instructions.write transfers.read "
    "transfers.write instructions.read statements.read statements.write"
)
AAPL = 265598


def sign(claims):
    """A JWT of `claims`, signed with the client's registered key `main`."""
    now = int(time.time())
    body = {"iss": CLIENT, "iat": now, "exp": now + 300, **claims}
    return jwt.encode(body, KEY, algorithm="RS256", headers={"kid": "main"})


def access_token(scope):
    """Client credentials with a signed assertion (private_key_jwt), as IBKR's token endpoint
    takes them."""
    assertion = sign({"sub": CLIENT, "aud": f"{URL}/oauth2/api/v1/token", "jti": str(uuid.uuid4())})
    response = httpx.post(
        f"{URL}/oauth2/api/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": scope,
        },
    )
    return response


class BackOffice:
    """The broker's calls to `/gw/api/v1`, with one access token."""

    def __init__(self, token):
        self.http = httpx.Client(base_url=f"{URL}/gw/api/v1", headers={"Authorization": f"Bearer {token}"})

    def signed(self, method, path, claims):
        return self.http.request(method, path, content=sign(claims), headers={"Content-Type": "application/jwt"})

    def instruct(self, path, instruction_type, instruction):
        response = self.http.post(path, json={"instructionType": instruction_type, "instruction": instruction})
        check(response.status_code in (201, 202), f"{path} {instruction_type}: {response.status_code} {response.text}")
        return response.json()["instructionResult"]

    def get(self, path, **params):
        response = self.http.get(path, params=params)
        check(response.status_code == 200, f"GET {path}: {response.status_code} {response.text}")
        return response.json()


def advance(duration):
    control("/_localbroker/clock", {"advance": duration})


def application(username):
    return {
        "application": {
            "customer": {
                "type": "INDIVIDUAL",
                "userName": username,
                "externalId": "crm-0042",
                "email": "ada@example.com",
                "accountHolder": {
                    "accountHolderDetails": [
                        {
                            "name": {"first": "Ada", "last": "Lovelace"},
                            "dateOfBirth": "1985-12-10",
                            "email": "ada@example.com",
                        }
                    ]
                },
            },
            "accounts": [{"baseCurrency": "USD", "margin": "Cash"}],
            "users": [{"externalUserId": "crm-0042-u"}],
        }
    }


def unapproved():
    """Before review, the client gets no Account Management scope: a token asking for one is
    refused, and a trading token cannot create an account."""
    refused = access_token(AM_SCOPES)
    check(refused.status_code == 400 and refused.json()["error"] == "invalid_scope", f"token: {refused.text}")
    trading = access_token("sso-sessions.write").json()["access_token"]
    created = BackOffice(trading).signed("POST", "/accounts", application("ada"))
    check(created.status_code == 403, f"an unapproved client created an account: {created.status_code}")
    check(created.headers["content-type"].startswith("application/problem+json"), "problem details")


def onboarding():
    token = access_token(f"{AM_SCOPES} sso-sessions.write")
    check(token.status_code == 200, f"token after approval: {token.text}")
    office = BackOffice(token.json()["access_token"])

    # Onboarding: submit the application and poll until the account is open.
    submitted = office.signed("POST", "/accounts", application("ada"))
    check(submitted.status_code == 200, f"application: {submitted.status_code} {submitted.text}")
    account = submitted.json()["fileData"]["data"]["acctId"]
    request = submitted.json()["requestId"]
    status = office.get(f"/accounts/{account}/status")["status"]
    polls = 0
    while status != "O":
        check(status == "P" and polls < 6, f"status {status} after {polls} polls")
        advance("15m")
        polls += 1
        status = office.get(f"/accounts/{account}/status")["status"]
    processed = office.get(f"/requests/{request}/status", type="response")
    check(processed["status"] == "PROCESSED" and processed["acctId"] == account, f"request {processed}")

    # Funding: save the customer's bank account, deposit, wait for settlement.
    saved = office.instruct(
        "/bank-instructions",
        "ACH_INSTRUCTION",
        {
            "clientInstructionId": 1001,
            "accountId": account,
            "achType": "DEBIT_CREDIT",
            "bankInstructionCode": "USACH",
            "bankInstructionName": "Checking",
            "currency": "USD",
            "clientAccountInfo": {
                "bankName": "First Bank",
                "bankRoutingNumber": "021000021",
                "bankAccountNumber": "000123456789",
                "bankAccountTypeCode": 0,
            },
        },
    )
    check(saved["instructionStatus"] == "PROCESSED", f"bank instruction {saved}")
    deposit = {
        "clientInstructionId": 1002,
        "accountId": account,
        "currency": "USD",
        "amount": 10000,
        "bankInstructionMethod": "ACH",
        "bankInstructionName": "Checking",
    }
    filed = office.instruct("/external-cash-transfers", "DEPOSIT", deposit)
    check(filed["instructionStatus"] == "PENDING", f"deposit {filed}")
    again = office.instruct("/external-cash-transfers", "DEPOSIT", deposit)
    check(again["instructionId"] == filed["instructionId"], "a resubmitted clientInstructionId is the same deposit")
    advance("1d")
    settled = office.get(f"/instructions/{filed['instructionId']}")["instructionResult"]
    check(settled["instructionStatus"] == "PROCESSED", f"settled deposit {settled}")

    # Trading: the customer's own session through the client's SSO, ordering in the account.
    session = office.signed("POST", "/sso-sessions", {"credential": "ada", "ip": "127.0.0.1"})
    check(session.status_code == 200, f"sso session: {session.text}")
    trading = httpx.Client(
        base_url=f"{URL}/v1/api", headers={"Authorization": f"Bearer {session.json()['access_token']}"}
    )
    init = trading.post("/iserver/auth/ssodh/init", json={"publish": True, "compete": True}).json()
    check(init.get("authenticated"), f"brokerage session {init}")
    accounts = trading.get("/iserver/accounts").json()["accounts"]
    check(accounts == [account], f"the customer sees their account only: {accounts}")
    answer = trading.post(
        f"/iserver/account/{account}/orders",
        json={"orders": [{"conid": AAPL, "orderType": "MKT", "side": "BUY", "quantity": 10, "tif": "DAY"}]},
    ).json()
    while isinstance(answer, list) and answer and "id" in answer[0] and "order_id" not in answer[0]:
        answer = trading.post(f"/iserver/reply/{answer[0]['id']}", json={"confirmed": True}).json()
    check(isinstance(answer, list) and answer[0].get("order_id"), f"order {answer}")
    advance("1m")
    trades = trading.get("/iserver/account/trades").json()
    order = trading.get(f"/iserver/account/order/status/{answer[0]['order_id']}").json()
    check(len(trades) == 1 and float(trades[0]["size"]) == 10, f"trades {trades} {order} {control('/_localbroker/clock')}")

    # A withdrawal, within what can be withdrawn.
    withdrawable = office.instruct(
        "/external-cash-transfers/query",
        "QUERY_WITHDRAWABLE_FUNDS",
        {"clientInstructionId": 1003, "accountId": account, "currency": "USD"},
    )
    check(0 < withdrawable["withdrawableAmount"] < 10000, f"withdrawable {withdrawable}")
    withdrawal = office.instruct(
        "/external-cash-transfers",
        "WITHDRAWAL",
        {
            "clientInstructionId": 1004,
            "accountId": account,
            "currency": "USD",
            "amount": 1000,
            "bankInstructionMethod": "ACH",
            "bankInstructionName": "Checking",
        },
    )
    advance("1d")
    done = office.get(f"/instructions/{withdrawal['instructionId']}")["instructionResult"]
    check(done["instructionStatus"] == "PROCESSED", f"withdrawal {done}")

    # Reporting: the statement's numbers against the trades and the ledger.
    today = control("/_localbroker/clock")["now"][:10].replace("-", "")
    response = office.http.post(
        "/statements", json={"accountId": account, "startDate": "20260303", "endDate": today, "mimeType": "application/json"}
    )
    check(response.status_code == 200, f"statement: {response.status_code} {response.text}")
    statement = json.loads(response.json()["data"]["value"])
    usd = statement["cashReport"][0]
    trade = trades[0]
    reported = statement["trades"]
    check(len(reported) == 1, f"statement trades {reported}")
    check(reported[0]["quantity"] == 10 and reported[0]["tradePrice"] == float(trade["price"]), f"{reported} {trade}")
    check(abs(reported[0]["commission"] + float(trade["commission"])) < 1e-9, f"commission {reported} {trade}")
    check((usd["deposits"], usd["withdrawals"]) == (10000, -1000), f"cash report {usd}")
    check(abs(usd["trades"] + 10 * float(trade["price"])) < 1e-6, f"trade cash {usd}")
    ledger = trading.get(f"/portfolio/{account}/ledger").json()
    check(abs(usd["endingCash"] - ledger["USD"]["cashbalance"]) < 1e-6, f"ending cash {usd} vs ledger {ledger['USD']}")
    expected = 10000 - 1000 + usd["trades"] + usd["commissions"]
    check(abs(usd["endingCash"] - expected) < 1e-6, f"ending cash {usd}")


if __name__ == "__main__":
    main({"unapproved": unapproved, "onboarding": onboarding})
