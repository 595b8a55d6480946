//! Account Management: applications on the simulated clock, banking instructions settling into
//! the ledger, and statements that add up to it.

use engine::clock::{ClockMode, ClockSpec};
use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::{Reply, TestApp};

use crate::gateway::managing_with;
use crate::oauth::{CLIENT, RSA_KEY, ask, claims, now, reply, signed, sso_session};

/// Every scope the back office uses.
pub(crate) const SCOPES: &str = "sso-sessions.write accounts.read accounts.write transfers.read transfers.write \
    bank-instructions.read bank-instructions.write instructions.read instructions.write balances.read \
    statements.read statements.write reports.read reports.write validations.read";

/// The gateway tests' world on a manual clock (Tuesday 2026-03-03, 11:00 New York): the
/// client manages `DU1111111` (ann, 1000 USD) but not `DU2222222` (bob); approved unless told
/// not. The directory lives as long as the server.
async fn back_office(approved: bool) -> (TestApp, tempfile::TempDir) {
    let clock = ClockSpec { mode: ClockMode::Manual, start: Some("2026-03-03T16:00:00Z".parse().unwrap()) };
    managing_with(SCOPES, approved, clock).await
}

async fn token(app: &TestApp, jti: &str) -> String {
    let issued = ask(app, &signed(&claims(jti), "main", Algorithm::RS256, RSA_KEY), Some(SCOPES)).await;
    issued.body["access_token"].as_str().unwrap_or_else(|| panic!("a token: {}", issued.text)).to_owned()
}

/// Sends `body` signed by the client (`application/jwt`), or as JSON when `signed_body` is false.
pub(crate) async fn send(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
    signed_body: bool,
) -> Reply {
    let request = reqwest::Client::new().request(method, format!("{}{path}", app.url)).bearer_auth(token);
    let request = if signed_body {
        let mut claims = body;
        claims["iss"] = json!(CLIENT);
        claims["iat"] = json!(now());
        claims["exp"] = json!(now() + 60);
        request.header("content-type", "application/jwt").body(signed(
            &claims,
            "main",
            Algorithm::RS256,
            RSA_KEY,
        ))
    } else {
        request.json(&body)
    };
    reply(request.send().await.unwrap()).await
}

pub(crate) async fn get(app: &TestApp, token: &str, path: &str) -> Reply {
    reply(reqwest::Client::new().get(format!("{}{path}", app.url)).bearer_auth(token).send().await.unwrap())
        .await
}

pub(crate) fn application(username: &str, born: &str) -> Value {
    json!({"application": {
        "customer": {
            "type": "INDIVIDUAL",
            "userName": username,
            "externalId": "cust-42",
            "email": "grace@example.com",
            "accountHolder": {"accountHolderDetails": [{
                "name": {"first": "Grace", "last": "Hopper"},
                "dateOfBirth": born,
            }]},
        },
        "accounts": [{"baseCurrency": "USD", "margin": "Cash", "alias": "Main"}],
        "users": [{"externalUserId": "u-1"}],
    }})
}

pub(crate) async fn advance(app: &TestApp, by: &str) {
    let advanced = app.post_json("/_localbroker/clock", json!({ "advance": by })).await;
    assert_eq!(advanced.status, StatusCode::OK, "{}", advanced.text);
}

/// Submits an application; answers the account it will open.
async fn apply(app: &TestApp, token: &str, username: &str, born: &str) -> String {
    let filed =
        send(app, token, Method::POST, "/gw/api/v1/accounts", application(username, born), true).await;
    assert_eq!(filed.status, StatusCode::OK, "{}", filed.text);
    assert!(filed.body["requestId"].as_u64().is_some(), "{}", filed.text);
    filed.body["fileData"]["data"]["acctId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_unapproved_client_cannot_apply_until_approved() {
    let (app, _world) = back_office(false).await;
    let refused = ask(&app, &signed(&claims("early"), "main", Algorithm::RS256, RSA_KEY), Some(SCOPES)).await;
    assert_eq!(refused.body["error"], "invalid_scope", "{}", refused.text);
    let trading =
        ask(&app, &signed(&claims("t"), "main", Algorithm::RS256, RSA_KEY), Some("sso-sessions.write")).await;
    let trading = trading.body["access_token"].as_str().unwrap().to_owned();
    let forbidden =
        send(&app, &trading, Method::POST, "/gw/api/v1/accounts", application("grace", "1970-01-01"), true)
            .await;
    assert_eq!((forbidden.status, forbidden.body["type"].as_str()), (StatusCode::FORBIDDEN, Some("/simple")));

    let approved = app.post(&format!("/_localbroker/clients/{CLIENT}/approve")).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    let token = token(&app, "late").await;
    apply(&app, &token, "grace", "1970-01-01").await;
}

#[tokio::test]
async fn an_application_is_pending_then_opens_an_account_its_user_trades() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "apply").await;
    let account = apply(&app, &token, "grace", "1970-01-01").await;
    let status = get(&app, &token, &format!("/gw/api/v1/accounts/{account}/status")).await;
    assert_eq!(
        (status.status, status.body["status"].as_str()),
        (StatusCode::OK, Some("P")),
        "{}",
        status.text
    );
    let details = get(&app, &token, &format!("/gw/api/v1/accounts/{account}/details")).await;
    assert_eq!(details.status, StatusCode::NOT_FOUND, "{}", details.text);
    let taken = get(&app, &token, "/gw/api/v1/validations/usernames/grace").await;
    assert_eq!(
        (taken.body["isValid"].as_bool(), taken.body["isAvailable"].as_bool()),
        (Some(true), Some(false))
    );

    advance(&app, "1h").await;
    let status = get(&app, &token, &format!("/gw/api/v1/accounts/{account}/status")).await;
    assert_eq!(status.body["status"], "O", "{}", status.text);
    let details = get(&app, &token, &format!("/gw/api/v1/accounts/{account}/details")).await;
    let data = &details.body["account"];
    assert_eq!(
        (data["primaryUser"].as_str(), data["accountTitle"].as_str(), data["accountAlias"].as_str()),
        (Some("grace"), Some("Grace Hopper"), Some("Main"))
    );

    let session = sso_session(&app, &token, "grace").await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.text);
    let bearer = session.body["access_token"].as_str().unwrap();
    let accounts = reply(
        reqwest::Client::new()
            .get(format!("{}/v1/api/portfolio/accounts", app.url))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(accounts.body[0]["id"].as_str(), Some(account.as_str()), "{}", accounts.text);
    assert_eq!(accounts.body[0]["accountAlias"], "Main", "the alias the application gave");
    let meta = reply(
        reqwest::Client::new()
            .get(format!("{}/v1/api/portfolio/{account}/meta", app.url))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(meta.body["accountAlias"], "Main", "{}", meta.text);
    let brokerage = reply(
        reqwest::Client::new()
            .get(format!("{}/v1/api/iserver/accounts", app.url))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(brokerage.body["aliases"][&account], "Main", "{}", brokerage.text);
}

#[tokio::test]
async fn data_a_broker_refuses_is_rejected_at_review_and_says_why() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "minor").await;
    let account = apply(&app, &token, "kid", "2015-06-01").await;
    advance(&app, "1h").await;
    let status = get(&app, &token, &format!("/gw/api/v1/accounts/{account}/status")).await;
    assert_eq!(status.body["status"], "R", "{}", status.text);
    assert!(status.body["message"].as_str().unwrap().contains("younger than 18"), "{}", status.text);
}

#[tokio::test]
async fn a_request_that_breaks_ibkrs_schema_names_the_fields() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "schema").await;
    let mut bad = application("grace", "1970-01-01");
    bad["application"]["customer"]["type"] = json!("NEIGHBOUR");
    bad["application"]["accounts"][0]["baseCurrency"] = json!("DOUBLOON");
    let refused = send(&app, &token, Method::POST, "/gw/api/v1/accounts", bad, true).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.body["type"], "/invalid-argument");
    let fields: Vec<&str> = refused.body["invalidArguments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["field"].as_str())
        .collect();
    assert!(fields.contains(&"application.customer.type"), "{fields:?}");
    assert!(fields.contains(&"application.accounts[0].baseCurrency"), "{fields:?}");

    let plain =
        send(&app, &token, Method::POST, "/gw/api/v1/accounts", application("grace", "1970-01-01"), false)
            .await;
    assert_eq!(plain.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", plain.text);
}

pub(crate) fn instruction(kind: &str, instruction: Value) -> Value {
    json!({"instructionType": kind, "instruction": instruction})
}

pub(crate) fn ach(id: u64) -> Value {
    instruction(
        "ACH_INSTRUCTION",
        json!({"clientInstructionId": id, "accountId": "DU1111111", "achType": "DEBIT_CREDIT",
            "bankInstructionCode": "USACH", "bankInstructionName": "Checking", "currency": "USD",
            "clientAccountInfo": {"bankName": "First Bank", "bankRoutingNumber": "021000021",
                "bankAccountNumber": "123456789", "bankAccountTypeCode": 1}}),
    )
}

pub(crate) fn cash(kind: &str, id: u64, amount: f64) -> Value {
    instruction(
        kind,
        json!({"clientInstructionId": id, "accountId": "DU1111111", "currency": "USD", "amount": amount,
            "bankInstructionMethod": "ACH", "bankInstructionName": "Checking"}),
    )
}

pub(crate) async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Reply {
    send(app, token, Method::POST, path, body, false).await
}

async fn statement(app: &TestApp, token: &str, mime_type: &str) -> Reply {
    let request = json!({"accountId": "DU1111111", "startDate": "20260303", "endDate": "20260305", "mimeType": mime_type});
    post(app, token, "/gw/api/v1/statements", request).await
}

#[tokio::test]
async fn a_deposit_settles_into_the_ledger_and_the_statement_adds_up() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "bank").await;
    let saved = post(&app, &token, "/gw/api/v1/bank-instructions", ach(1)).await;
    assert_eq!(saved.status, StatusCode::ACCEPTED, "{}", saved.text);
    assert_eq!(saved.body["instructionResult"]["instructionStatus"], "PROCESSED");

    let deposit = post(&app, &token, "/gw/api/v1/external-cash-transfers", cash("DEPOSIT", 2, 2500.0)).await;
    assert_eq!(deposit.status, StatusCode::ACCEPTED, "{}", deposit.text);
    let result = &deposit.body["instructionResult"];
    assert_eq!(
        (result["instructionStatus"].as_str(), result["instructionType"].as_str()),
        (Some("PENDING"), Some("DEPOSIT"))
    );
    let id = result["instructionId"].as_u64().unwrap();
    let again = post(&app, &token, "/gw/api/v1/external-cash-transfers", cash("DEPOSIT", 2, 2500.0)).await;
    assert_eq!(again.body["instructionResult"]["instructionId"].as_u64(), Some(id), "the same instruction");
    let other = post(&app, &token, "/gw/api/v1/external-cash-transfers", cash("DEPOSIT", 2, 1.0)).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", other.text);

    advance(&app, "1d").await;
    let polled = get(&app, &token, &format!("/gw/api/v1/instructions/{id}")).await;
    assert_eq!(polled.body["instructionResult"]["instructionStatus"], "PROCESSED", "{}", polled.text);
    let by_client = get(&app, &token, "/gw/api/v1/client-instructions/2").await;
    assert_eq!(by_client.body["instructionResult"]["instructionId"].as_u64(), Some(id));

    let too_much =
        post(&app, &token, "/gw/api/v1/external-cash-transfers", cash("WITHDRAWAL", 3, 9999.0)).await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", too_much.text);
    assert_eq!(too_much.body["instructionResult"]["instructionStatus"], "REJECTED");
    let withdrawal =
        post(&app, &token, "/gw/api/v1/external-cash-transfers", cash("WITHDRAWAL", 4, 500.0)).await;
    assert_eq!(withdrawal.body["instructionResult"]["instructionStatus"], "PENDING", "{}", withdrawal.text);
    let query = instruction(
        "QUERY_WITHDRAWABLE_FUNDS",
        json!({"clientInstructionId": 5, "accountId": "DU1111111", "currency": "USD"}),
    );
    let withdrawable = post(&app, &token, "/gw/api/v1/external-cash-transfers/query", query).await;
    assert_eq!(withdrawable.status, StatusCode::CREATED, "{}", withdrawable.text);
    assert_eq!(
        withdrawable.body["instructionResult"]["withdrawableAmount"], 3000.0,
        "the pending withdrawal is held"
    );
    advance(&app, "1d").await;

    let json_statement = statement(&app, &token, "application/json").await;
    assert_eq!(json_statement.status, StatusCode::OK, "{}", json_statement.text);
    assert_eq!(json_statement.body["data"]["encoding"], "json");
    let document: Value =
        serde_json::from_str(json_statement.body["data"]["value"].as_str().unwrap()).unwrap();
    let usd = &document["cashReport"][0];
    assert_eq!(
        (usd["deposits"].as_f64(), usd["withdrawals"].as_f64()),
        (Some(3500.0), Some(-500.0)),
        "{document}"
    );
    assert_eq!(usd["endingCash"], 3000.0);
    let types: Vec<&str> =
        document["transfers"].as_array().unwrap().iter().filter_map(|t| t["type"].as_str()).collect();
    assert_eq!(
        types,
        ["DEPOSIT", "DEPOSIT", "WITHDRAWAL"],
        "the opening balance, the deposit, the withdrawal"
    );

    let html = statement(&app, &token, "text/html").await;
    assert_eq!(html.body["data"]["mimeType"], "text/html");
    use base64::Engine as _;
    let page = base64::engine::general_purpose::STANDARD
        .decode(html.body["data"]["value"].as_str().unwrap())
        .unwrap();
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("<h2>Cash Report</h2>") && page.contains("3000.00"), "{page}");
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn a_cancelled_instruction_says_so_apart_from_a_rejected_one() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "cancel").await;
    post(&app, &token, "/gw/api/v1/bank-instructions", ach(1)).await;
    let deposit = post(&app, &token, "/gw/api/v1/external-cash-transfers", cash("DEPOSIT", 2, 100.0)).await;
    let id = deposit.body["instructionResult"]["instructionId"].as_u64().unwrap();
    let cancel = instruction(
        "CANCEL_INSTRUCTION",
        json!({"clientInstructionId": 3, "instructionId": id, "reason": "typo"}),
    );
    let cancelled = post(&app, &token, "/gw/api/v1/instructions/cancel", cancel).await;
    assert_eq!(cancelled.status, StatusCode::CREATED, "IBKR answers a cancel 201: {}", cancelled.text);
    assert_eq!(cancelled.body["status"], 201);
    assert_eq!(cancelled.body["instructionResult"]["instructionStatus"], "PROCESSED", "{}", cancelled.text);
    let polled = get(&app, &token, &format!("/gw/api/v1/instructions/{id}")).await;
    let result = &polled.body["instructionResult"];
    assert_eq!(result["instructionStatus"], "REJECTED", "{}", polled.text);
    assert_eq!(result["error"], json!({"errorCode": "CANCELLED", "errorMessage": "cancelled: typo"}));

    let too_much =
        post(&app, &token, "/gw/api/v1/external-cash-transfers", cash("WITHDRAWAL", 4, 9999.0)).await;
    assert_eq!(
        too_much.body["instructionResult"]["error"],
        json!({"errorCode": "REJECTED",
            "errorMessage": "the withdrawal of 9999.0 USD exceeds the 1000 USD that can be withdrawn"}),
        "{}",
        too_much.text
    );
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn a_bulk_with_a_rejected_instruction_is_a_multi_status() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "bulk").await;
    post(&app, &token, "/gw/api/v1/bank-instructions", ach(1)).await;
    let bulk = json!({"instructionType": "DEPOSIT", "instructions": [
        cash("DEPOSIT", 10, 100.0)["instruction"].clone(),
        json!({"clientInstructionId": 11, "accountId": "DU2222222", "currency": "USD", "amount": 5,
            "bankInstructionMethod": "WIRE"}),
    ]});
    let filed = post(&app, &token, "/gw/api/v1/external-cash-transfers:bulk", bulk).await;
    assert_eq!(filed.status, StatusCode::MULTI_STATUS, "{}", filed.text);
    let results = filed.body["instructionResults"].as_array().unwrap();
    assert_eq!((results[0]["status"].as_u64(), results[1]["status"].as_u64()), (Some(202), Some(422)));
    assert!(
        results[1]["instructionResult"]["error"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("not one the client manages")
    );
    let set = filed.body["instructionSetId"].as_u64().unwrap();
    let polled = get(&app, &token, &format!("/gw/api/v1/instruction-sets/{set}")).await;
    assert_eq!(polled.body["instructionResults"].as_array().map(Vec::len), Some(2), "{}", polled.text);

    let malformed = json!({"instructionType": "DEPOSIT", "instructions": [{"clientInstructionId": 12}]});
    let refused = post(&app, &token, "/gw/api/v1/external-cash-transfers:bulk", malformed).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.text.contains("instructions[0]"), "{}", refused.text);
}

#[tokio::test]
async fn an_account_without_positions_closes() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "close").await;
    let close = json!({"accountManagementRequests": {"accountClose": {"accountId": "DU1111111", "closeReason": "moving"}}});
    let refused = send(&app, &token, Method::PATCH, "/gw/api/v1/accounts", close.clone(), true).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
    assert!(refused.body["detail"].as_str().unwrap().contains("withdraw"), "{}", refused.text);
    let emptied = app
        .post_json("/_localbroker/accounts/DU1111111/withdrawals", json!({"currency": "USD", "amount": 1000}))
        .await;
    assert_eq!(emptied.status, StatusCode::OK, "{}", emptied.text);
    let closed = send(&app, &token, Method::PATCH, "/gw/api/v1/accounts", close, true).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    let request = closed.body["requestId"].as_u64().unwrap();
    let status = get(&app, &token, &format!("/gw/api/v1/requests/{request}/status?type=response")).await;
    assert_eq!(
        (status.body["requestType"].as_str(), status.body["status"].as_str()),
        (Some("CLOSE_ACCOUNT"), Some("PROCESSED"))
    );
    let account = get(&app, &token, "/gw/api/v1/accounts/DU1111111/status").await;
    assert_eq!(account.body["status"], "C", "{}", account.text);
    let deposit = post(&app, &token, "/gw/api/v1/external-cash-transfers", cash("DEPOSIT", 1, 10.0)).await;
    assert!(
        deposit.body["instructionResult"]["error"]["errorMessage"].as_str().unwrap().contains("not open")
    );
    let unmodelled = json!({"accountManagementRequests": {"enrollInDrip": {"accountId": "DU1111111"}}});
    let refused = send(&app, &token, Method::PATCH, "/gw/api/v1/accounts", unmodelled, true).await;
    assert_eq!(refused.status, StatusCode::NOT_IMPLEMENTED, "{}", refused.text);
}

#[tokio::test]
async fn lists_of_statuses_and_requests_take_their_range_in_any_encoding() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "lists").await;
    let account = apply(&app, &token, "grace", "1970-01-01").await;
    let encodings = [
        "startDate=2026-03-01&endDate=2026-03-31".to_owned(),
        "accountStatusRequest=startDate,2026-03-01,endDate,2026-03-31".to_owned(),
        "accountStatusRequest%5BstartDate%5D=2026-03-01&accountStatusRequest%5BendDate%5D=2026-03-31"
            .to_owned(),
    ];
    for query in &encodings {
        let page = get(&app, &token, &format!("/gw/api/v1/accounts/status?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.text);
        let statuses: Vec<(&str, &str)> = page.body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["accountId"].as_str().unwrap(), a["status"].as_str().unwrap()))
            .collect();
        assert_eq!(statuses, [("DU1111111", "O"), (account.as_str(), "P")], "{query}");
        assert_eq!(page.body["total"], 2);
    }
    let pending =
        get(&app, &token, "/gw/api/v1/accounts/status?startDate=2026-03-01&endDate=2026-03-31&status=P")
            .await;
    assert_eq!(pending.body["total"], 1, "{}", pending.text);
    let april = get(&app, &token, "/gw/api/v1/accounts/status?startDate=2026-04-01&endDate=2026-04-30").await;
    assert_eq!(april.body["total"], 0);
    let missing = get(&app, &token, "/gw/api/v1/accounts/status?startDate=2026-04-01").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);

    let requests =
        get(&app, &token, "/gw/api/v1/requests?requestDetails=startDate,2026-03-03,endDate,2026-03-03").await;
    let detail = &requests.body["requestDetails"][0];
    assert_eq!(
        (detail["accountID"].as_str(), detail["requestType"].as_str(), detail["status"].as_str()),
        (Some(account.as_str()), Some("CREATE_ACCOUNT"), Some("PENDING")),
        "{}",
        requests.text
    );
    let by_reference = get(&app, &token, "/gw/api/v1/accounts?externalId=cust-42").await;
    assert_eq!(
        (by_reference.body["isProcessed"].as_bool(), by_reference.body["data"]["acctId"].as_str()),
        (Some(false), Some(account.as_str())),
        "{}",
        by_reference.text
    );
    advance(&app, "1h").await;
    let processed = get(&app, &token, &format!("/gw/api/v1/accounts?accountId={account}")).await;
    assert_eq!(processed.body["isProcessed"], true, "{}", processed.text);
}

#[tokio::test]
async fn shares_delivered_free_of_payment_arrive_at_settlement() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "fop").await;
    let fop = instruction(
        "FOP",
        json!({"clientInstructionId": 1, "direction": "IN", "accountId": "DU1111111",
            "contraBrokerAccountId": "12345678A", "contraBrokerDtcCode": "534", "quantity": 25,
            "tradingInstrument": {"conid": 265598, "currency": "USD"}}),
    );
    let filed = post(&app, &token, "/gw/api/v1/external-asset-transfers", fop).await;
    assert_eq!(filed.status, StatusCode::ACCEPTED, "{}", filed.text);
    assert_eq!(filed.body["instructionResult"]["instructionStatus"], "PENDING");
    advance(&app, "1d").await;
    let statement = statement(&app, &token, "application/json").await;
    let document: Value = serde_json::from_str(statement.body["data"]["value"].as_str().unwrap()).unwrap();
    assert_eq!(document["openPositions"][0]["position"], 25.0, "{document}");
    let delivered = document["transfers"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((delivered["type"].as_str(), delivered["quantity"].as_f64()), (Some("FOP"), Some(25.0)));

    let by_isin = instruction(
        "INTERNAL_POSITION_TRANSFER",
        json!({"clientInstructionId": 2, "sourceAccountId": "DU1111111", "targetAccountId": "DU1111111",
            "transferQuantity": 1, "tradingInstrument": {"tradingInstrumentDescription":
                {"securityIdType": "ISIN", "securityId": "US0378331005", "assetType": "STK"}, "currency": "USD"}}),
    );
    let refused = post(&app, &token, "/gw/api/v1/internal-asset-transfers", by_isin).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.body["invalidArguments"][0]["field"], "instruction.tradingInstrument");
}

#[tokio::test]
async fn an_operator_gives_a_client_existing_accounts() {
    let (app, _world) = back_office(true).await;
    let first = token(&app, "assign").await;
    let bob = get(&app, &first, "/gw/api/v1/accounts/DU2222222/status").await;
    assert_eq!(bob.status, StatusCode::FORBIDDEN);
    let path = format!("/_localbroker/clients/{CLIENT}/accounts");
    let unknown = app.post_json(&path, json!({"accounts": ["DU9999999"]})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
    let assigned = app.post_json(&path, json!({"accounts": ["DU2222222"]})).await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.text);
    assert_eq!(assigned.body["accounts"], json!(["DU1111111", "DU2222222"]));
    let bob = get(&app, &first, "/gw/api/v1/accounts/DU2222222/status").await;
    assert_eq!((bob.status, bob.body["status"].as_str()), (StatusCode::OK, Some("O")), "{}", bob.text);
}

#[tokio::test]
async fn enumerations_list_the_permissions_localbrokers_market_has() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "enumerations").await;
    let bundles = get(&app, &token, "/gw/api/v1/enumerations/product-country-bundles").await;
    assert_eq!(bundles.status, StatusCode::OK, "{}", bundles.text);
    let stocks = bundles.body["jsonData"]
        .as_array()
        .unwrap()
        .iter()
        .find(|bundle| bundle["product"] == "STOCKS" && bundle["country"] == "UNITED STATES")
        .cloned()
        .unwrap_or_else(|| panic!("{}", bundles.text));
    assert!(stocks["exchanges"].as_array().unwrap().contains(&json!("NASDAQ")), "{stocks}");
    let exchanges = get(&app, &token, "/gw/api/v1/enumerations/exchange-bundles").await;
    assert!(exchanges.body["jsonData"].as_array().unwrap().iter().any(|e| e["exchangeGroup"] == "IBIS"));
    let theirs = get(&app, &token, "/gw/api/v1/enumerations/fin-info-ranges").await;
    assert_eq!(theirs.status, StatusCode::NOT_IMPLEMENTED, "{}", theirs.text);
    let unknown = get(&app, &token, "/gw/api/v1/enumerations/colours").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
}

#[tokio::test]
async fn a_joint_account_and_an_advisors_client_account_open_for_their_users() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "joint").await;
    let holder = |first: &str, last: &str| json!([{"name": {"first": first, "last": last}, "dateOfBirth": "1970-05-05"}]);
    let joint = json!({"application": {
        "customer": {"type": "JOINT", "userName": "pair", "jointHolders": {
            "type": "joint_tenants",
            "firstHolderDetails": holder("Pierre", "Curie"),
            "secondHolderDetails": holder("Marie", "Curie"),
        }},
        "accounts": [{"baseCurrency": "EUR", "margin": "Margin"}],
    }});
    let filed = send(&app, &token, Method::POST, "/gw/api/v1/accounts", joint, true).await;
    assert_eq!(filed.status, StatusCode::OK, "{}", filed.text);
    let joint_account = filed.body["fileData"]["data"]["acctId"].as_str().unwrap().to_owned();

    let mut client = application("carla", "1960-01-01");
    client["application"]["masterAccountId"] = json!("DU1111111");
    client["application"]["paperAccount"] = json!(true);
    let filed = send(&app, &token, Method::POST, "/gw/api/v1/accounts", client, true).await;
    let client_account = filed.body["fileData"]["data"]["acctId"].as_str().unwrap().to_owned();
    assert!(client_account.starts_with("DU"), "a paper account: {client_account}");

    advance(&app, "1h").await;
    let details = get(&app, &token, &format!("/gw/api/v1/accounts/{joint_account}/details")).await;
    let account = &details.body["account"];
    assert_eq!(
        (
            account["accountTitle"].as_str(),
            account["applicantType"].as_str(),
            account["baseCurrency"].as_str()
        ),
        (Some("Pierre Curie and Marie Curie"), Some("JOINT"), Some("EUR")),
        "{}",
        details.text
    );
    assert_eq!(account["margin"], "Margin");
    let status = get(&app, &token, &format!("/gw/api/v1/accounts/{client_account}/status")).await;
    assert_eq!(
        (status.body["status"].as_str(), status.body["masterAccountId"].as_str()),
        (Some("O"), Some("DU1111111"))
    );
    let details = get(&app, &token, &format!("/gw/api/v1/accounts/{client_account}/details")).await;
    assert_eq!(
        details.body["account"]["primaryUser"], "carla",
        "the applicant, not the advisor: {}",
        details.text
    );
    let advisor = app.login("ann", "pw").await;
    assert_eq!(advisor.status, StatusCode::OK, "{}", advisor.text);
    let accounts = app.get("/v1/api/portfolio/accounts").await;
    let ids: Vec<&str> = accounts.body.as_array().unwrap().iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(ids, ["DU1111111", client_account.as_str()], "the advisor sees the client account");
}

#[tokio::test]
async fn a_signed_application_is_filed_once_however_often_it_is_sent() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "replay").await;
    let mut claims = application("grace", "1906-12-09");
    claims["iss"] = json!(CLIENT);
    claims["iat"] = json!(now());
    claims["exp"] = json!(now() + 300);
    let body = signed(&claims, "main", Algorithm::RS256, RSA_KEY);
    let post = || {
        reqwest::Client::new()
            .post(format!("{}/gw/api/v1/accounts", app.url))
            .bearer_auth(&token)
            .header("content-type", "application/jwt")
            .body(body.clone())
            .send()
    };
    assert_eq!(reply(post().await.unwrap()).await.status, StatusCode::OK);
    let replayed = reply(post().await.unwrap()).await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST, "{}", replayed.text);
    assert_eq!(replayed.body["invalidArguments"][0]["field"], "body");
    let requests = get(&app, &token, "/gw/api/v1/requests?startDate=2026-03-01&endDate=2026-03-31").await;
    assert_eq!(requests.body["total"], 1, "{}", requests.text);
}

#[tokio::test]
async fn a_query_of_recent_instructions_is_pending_until_polled_a_minute_later() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "recent").await;
    post(&app, &token, "/gw/api/v1/bank-instructions", ach(1)).await;
    let deposit = post(&app, &token, "/gw/api/v1/external-cash-transfers", cash("DEPOSIT", 2, 100.0)).await;
    assert_eq!(deposit.body["instructionResult"]["ibReferenceId"], 0, "no reference while pending");
    let query = instruction(
        "QUERY_RECENT_INSTRUCTIONS",
        json!({"clientInstructionId": 3, "accountId": "DU1111111", "transactionHistory": {"daysToGoBack": 3}}),
    );
    let asked = post(&app, &token, "/gw/api/v1/instructions/query", query).await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "IBKR answers 202, to poll: {}", asked.text);
    let result = &asked.body["instructionResult"];
    assert_eq!(
        (result["instructionStatus"].as_str(), result["code"].as_str()),
        (Some("PENDING"), Some("PENDING"))
    );
    assert!(result["instructionHistory"].is_null(), "no answer yet: {}", asked.text);
    let id = result["instructionId"].as_u64().unwrap();
    advance(&app, "1m").await;
    let polled = get(&app, &token, &format!("/gw/api/v1/instructions/{id}")).await;
    let result = &polled.body["instructionResult"];
    assert_eq!(result["instructionStatus"], "PROCESSED", "{}", polled.text);
    assert_eq!(result["instructionHistory"]["result"].as_array().map(Vec::len), Some(2), "{}", polled.text);
    assert!(result["ibReferenceId"].as_u64().is_some_and(|reference| reference > 0), "{}", polled.text);
    assert!(result["description"].as_str().unwrap().starts_with("processed at "), "{}", polled.text);

    app.assert_journal_replays().await;
}

#[tokio::test]
async fn account_details_give_back_the_application_and_what_the_broker_knows() {
    let (app, _world) = back_office(true).await;
    let token = token(&app, "details").await;
    let mut form = application("grace", "1970-01-01");
    let customer = &mut form["application"]["customer"];
    customer["accountHolder"]["accountHolderDetails"][0]["email"] = json!("grace@example.com");
    customer["accountHolder"]["accountHolderDetails"][0]["residenceAddress"] = json!({"street1": "1 Navy Way", "city": "Arlington", "state": "VA", "postalCode": "22201", "country": "USA"});
    customer["accountHolder"]["financialInformation"] =
        json!([{"netWorth": 250000, "liquidNetWorth": 100000, "investmentObjectives": ["Growth", "Income"]}]);
    let filed = send(&app, &token, Method::POST, "/gw/api/v1/accounts", form, true).await;
    assert_eq!(filed.status, StatusCode::OK, "{}", filed.text);
    let account = filed.body["fileData"]["data"]["acctId"].as_str().unwrap().to_owned();
    advance(&app, "2h").await;
    let moved = instruction(
        "INTERNAL_CASH_TRANSFER",
        json!({"clientInstructionId": 1, "sourceAccountId": "DU1111111", "targetAccountId": account,
            "amount": 500, "currency": "USD"}),
    );
    let funded = post(&app, &token, "/gw/api/v1/internal-cash-transfers", moved).await;
    assert_eq!(funded.status, StatusCode::CREATED, "{}", funded.text);

    let details = get(&app, &token, &format!("/gw/api/v1/accounts/{account}/details")).await;
    assert_eq!(details.status, StatusCode::OK, "{}", details.text);
    let data = &details.body["account"];
    assert_eq!(
        (data["externalId"].as_str(), data["emailAddress"].as_str()),
        (Some("cust-42"), Some("grace@example.com"))
    );
    assert_eq!(data["dateApproved"], "2026-03-03T17:00:00Z", "an hour's review");
    assert_eq!(data["dateFunded"], "2026-03-03T18:00:00Z", "the transfer in, not the empty opening");
    assert_eq!(data["investmentObjectives"], json!(["Growth", "Income"]));
    assert_eq!(data["registeredAddress"]["city"], "Arlington");
    let person = &details.body["associatedPersons"][0];
    assert_eq!(
        (person["firstName"].as_str(), person["lastName"].as_str(), person["dateOfBirth"].as_str()),
        (Some("Grace"), Some("Hopper"), Some("1970-01-01"))
    );
    assert_eq!(
        (person["username"].as_str(), person["residence"]["postalCode"].as_str()),
        (Some("grace"), Some("22201"))
    );
    assert_eq!(details.body["financialInformation"]["netWorth"]["amount"], 250_000);
    let bundles = details.body["tradeBundles"].as_array().unwrap();
    assert!(bundles.iter().any(|bundle| bundle == "NASDAQ"), "{bundles:?}");
    app.assert_journal_replays().await;
}
