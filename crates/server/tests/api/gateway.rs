//! The `/gw/api/v1` door: access tokens and their scopes, signed bodies and IBKR's problem
//! details, through the echo utilities.

use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::json;
use testkit::{Reply, TestApp, spawn_app};

use crate::oauth::{CLIENT, OTHER_KEY, RSA_KEY, RSA_PUB, ask, claims, now, register, reply, signed};

/// The test client, asking also for the echo scopes.
async fn echoing() -> TestApp {
    let app = spawn_app().await;
    register(&app).await;
    let key = include_str!("../fixtures/client-rsa.pub");
    let more = json!({"clientId": CLIENT, "kid": "main", "publicKey": key, "scopes": "echo.read echo.write"});
    assert_eq!(app.post_json("/_localbroker/clients", more).await.status, StatusCode::OK);
    app
}

async fn token(app: &TestApp, jti: &str, scope: &str) -> String {
    let issued = ask(app, &signed(&claims(jti), "main", Algorithm::RS256, RSA_KEY), Some(scope)).await;
    issued.body["access_token"].as_str().unwrap_or_else(|| panic!("a token: {}", issued.text)).to_owned()
}

async fn echo_https(app: &TestApp, token: Option<&str>) -> (Reply, String) {
    let mut request = reqwest::Client::new().get(format!("{}/gw/api/v1/echo/https?symbol=AAPL&n=1", app.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    (reply(response).await, content_type)
}

async fn echo_signed(app: &TestApp, token: &str, body: String) -> Reply {
    let response = reqwest::Client::new()
        .post(format!("{}/gw/api/v1/echo/signed-jwt", app.url))
        .bearer_auth(token)
        .header("content-type", "application/jwt")
        .body(body)
        .send()
        .await
        .unwrap();
    reply(response).await
}

#[tokio::test]
async fn echo_answers_a_token_with_its_scope() {
    let app = echoing().await;
    let token = token(&app, "echo", "echo.read echo.write").await;
    let (echoed, _) = echo_https(&app, Some(&token)).await;
    assert_eq!(echoed.status, StatusCode::OK, "{}", echoed.text);
    assert_eq!(
        echoed.body,
        json!({"requestMethod": "GET", "securityPolicy": "HTTPS", "queryParameters": {"symbol": "AAPL", "n": "1"}})
    );
    let body =
        signed(&json!({"iss": CLIENT, "iat": now(), "exp": now() + 60}), "main", Algorithm::RS256, RSA_KEY);
    let echoed = echo_signed(&app, &token, body).await;
    assert_eq!(echoed.status, StatusCode::OK, "{}", echoed.text);
    assert_eq!(echoed.body["securityPolicy"], "SIGNED_JWT");
    assert_eq!(echoed.body["requestMethod"], "POST");
}

#[tokio::test]
async fn refusals_are_problem_details() {
    let app = echoing().await;
    let (missing, content_type) = echo_https(&app, None).await;
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(
        (
            missing.status,
            missing.body["type"].as_str(),
            missing.body["title"].as_str(),
            missing.body["status"].as_u64()
        ),
        (StatusCode::UNAUTHORIZED, Some("/simple"), Some("Unauthorized"), Some(401))
    );
    assert_eq!(echo_https(&app, Some("forged")).await.0.status, StatusCode::UNAUTHORIZED);

    let narrow = token(&app, "narrow", "sso-sessions.write").await;
    let (forbidden, _) = echo_https(&app, Some(&narrow)).await;
    assert_eq!(
        (forbidden.status, forbidden.body["title"].as_str()),
        (StatusCode::FORBIDDEN, Some("Forbidden"))
    );
    assert!(forbidden.body["detail"].as_str().unwrap().contains("echo.read"), "{}", forbidden.text);

    let token = token(&app, "wide", "echo.write").await;
    for (why, body) in [
        (
            "another key",
            signed(
                &json!({"iss": CLIENT, "iat": now(), "exp": now() + 60}),
                "main",
                Algorithm::RS256,
                OTHER_KEY,
            ),
        ),
        (
            "another issuer",
            signed(
                &json!({"iss": "SOMEONE", "iat": now(), "exp": now() + 60}),
                "main",
                Algorithm::RS256,
                RSA_KEY,
            ),
        ),
        (
            "expired",
            signed(
                &json!({"iss": CLIENT, "iat": now() - 180, "exp": now() - 120}),
                "main",
                Algorithm::RS256,
                RSA_KEY,
            ),
        ),
        ("not a JWT", "{\"iss\": \"TESTCLIENT\"}".to_owned()),
    ] {
        let refused = echo_signed(&app, &token, body).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{why}: {}", refused.text);
        assert_eq!(refused.body["type"], "/invalid-argument", "{why}");
        assert_eq!(refused.body["invalidArguments"][0]["field"], "body", "{why}: {}", refused.text);
    }
}

/// A world whose client manages `DU1111111` but not `DU2222222`; approved unless told not.
/// The world file's directory lives as long as the server.
async fn managing(approved: bool) -> (TestApp, tempfile::TempDir) {
    managing_with("sso-sessions.write accounts.read", approved, engine::clock::ClockSpec::default()).await
}

/// The same world, its client asking for `scopes`, on `clock`: ann (`DU1111111`, managed)
/// and bob (`DU2222222`), 1000 USD each.
pub(crate) async fn managing_with(
    scopes: &str,
    approved: bool,
    clock: engine::clock::ClockSpec,
) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.toml");
    let text = format!(
        r#"
[[users]]
username = "ann"
password = "pw"
accounts = ["DU1111111"]

[[users]]
username = "bob"
password = "pw"
accounts = ["DU2222222"]

[[accounts]]
id = "DU1111111"
title = "Ann"
type = "individual"
margin = "cash"
base_currency = "USD"
cash = {{ USD = "1000" }}

[[accounts]]
id = "DU2222222"
title = "Bob"
type = "individual"
margin = "cash"
base_currency = "USD"
cash = {{ USD = "1000" }}

[[clients]]
client_id = "{CLIENT}"
kid = "main"
scopes = "{scopes}"
approved = {approved}
accounts = ["DU1111111"]
public_key = """
{RSA_PUB}"""
"#
    );
    std::fs::write(&world, text).unwrap();
    let app =
        testkit::spawn_app_with(testkit::AppOptions { world: Some(world), clock, ..Default::default() })
            .await;
    (app, dir)
}

async fn account_status(app: &TestApp, token: &str, account: &str) -> Reply {
    let response = reqwest::Client::new()
        .get(format!("{}/gw/api/v1/accounts/{account}/status", app.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    reply(response).await
}

#[tokio::test]
async fn a_client_sees_the_status_of_the_accounts_it_manages_only() {
    let (app, _world) = managing(true).await;
    let token = token(&app, "am", "accounts.read").await;
    let open = account_status(&app, &token, "DU1111111").await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.text);
    assert_eq!(
        (open.body["accountId"].as_str(), open.body["status"].as_str()),
        (Some("DU1111111"), Some("O"))
    );
    assert!(open.body["dateOpened"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok(), "{}", open.text);
    for other in ["DU2222222", "DU9999999", "not-an-account"] {
        let refused = account_status(&app, &token, other).await;
        assert_eq!(
            (refused.status, refused.body["title"].as_str()),
            (StatusCode::FORBIDDEN, Some("Forbidden")),
            "{other}"
        );
        assert!(!refused.text.contains("Bob"), "nothing of the account: {}", refused.text);
    }
}

#[tokio::test]
async fn an_unapproved_client_has_no_account_management_scope() {
    let (app, _world) = managing(false).await;
    let refused =
        ask(&app, &signed(&claims("early"), "main", Algorithm::RS256, RSA_KEY), Some("accounts.read")).await;
    assert_eq!(refused.body["error"], "invalid_scope", "{}", refused.text);
    let trading = token(&app, "trading", "sso-sessions.write").await;
    let forbidden = account_status(&app, &trading, "DU1111111").await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "{}", forbidden.text);
    assert!(forbidden.body["detail"].as_str().unwrap().contains("accounts.read"));
}

#[tokio::test]
async fn a_client_reads_the_details_of_the_accounts_it_manages_only() {
    let (app, _world) = managing(true).await;
    let token = token(&app, "details", "accounts.read").await;
    let details = |account: &'static str| {
        let url = format!("{}/gw/api/v1/accounts/{account}/details", app.url);
        let token = token.clone();
        async move { reply(reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap()).await }
    };
    let ann = details("DU1111111").await;
    assert_eq!(ann.status, StatusCode::OK, "{}", ann.text);
    assert_eq!(ann.body["hasError"], false);
    let account = &ann.body["account"];
    assert_eq!(
        (account["accountId"].as_str(), account["primaryUser"].as_str(), account["accountTitle"].as_str()),
        (Some("DU1111111"), Some("ann"), Some("Ann"))
    );
    assert_eq!((account["baseCurrency"].as_str(), account["margin"].as_str()), (Some("USD"), Some("Cash")));
    assert_eq!(
        (account["applicantType"].as_str(), account["clearingStatus"].as_str()),
        (Some("INDIVIDUAL"), Some("O"))
    );
    assert_eq!(account["equity"], 1000.0, "the opening cash, as the engine values it");
    let bob = details("DU2222222").await;
    assert_eq!(bob.status, StatusCode::FORBIDDEN);
    assert!(!bob.text.contains("Bob"), "{}", bob.text);
}

#[tokio::test]
async fn a_query_missing_its_parameter_is_a_problem_once_the_caller_is_known() {
    let (app, _world) = managing_with("statements.read", true, engine::clock::ClockSpec::default()).await;
    let url = format!("{}/gw/api/v1/statements/available", app.url);
    let anonymous = reply(reqwest::Client::new().get(&url).send().await.unwrap()).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", anonymous.text);
    let token = token(&app, "query", "statements.read").await;
    for query in ["", "?accountId=DU1111111&accountId=DU1111111"] {
        let response =
            reqwest::Client::new().get(format!("{url}{query}")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let refused = reply(response).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}: {}", refused.text);
        assert_eq!(refused.body["invalidArguments"][0]["field"], "query", "{}", refused.text);
    }
}

#[tokio::test]
async fn an_operation_with_a_body_checks_the_token_before_reading_the_body() {
    let app = echoing().await;
    let narrow = token(&app, "narrow", "echo.read").await;
    // Bytes that are not text: reading them as a body is a 400, but the caller is refused first.
    let not_text = vec![0xff_u8, 0xfe, 0xfd];
    for path in [
        "/gw/api/v1/echo/signed-jwt",
        "/gw/api/v1/accounts",
        "/gw/api/v1/statements",
        "/gw/api/v1/trade-confirmations",
        "/gw/api/v1/bank-instructions",
        "/gw/api/v1/external-cash-transfers/query",
        "/gw/api/v1/instructions/cancel",
        "/gw/api/v1/balances/query",
        "/gw/api/v1/sso-sessions",
    ] {
        for (token, status) in [(None, StatusCode::UNAUTHORIZED), (Some(&narrow), StatusCode::FORBIDDEN)] {
            let mut request =
                reqwest::Client::new().post(format!("{}{path}", app.url)).body(not_text.clone());
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let refused = reply(request.send().await.unwrap()).await;
            assert_eq!(refused.status, status, "{path}: {}", refused.text);
        }
    }
    let mut request = reqwest::Client::new().patch(format!("{}/gw/api/v1/accounts", app.url)).body(not_text);
    request = request.bearer_auth(&narrow);
    assert_eq!(reply(request.send().await.unwrap()).await.status, StatusCode::FORBIDDEN);
}
