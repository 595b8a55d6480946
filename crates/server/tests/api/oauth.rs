//! The OAuth 2.0 token endpoint: a registered client gets a token for a valid assertion, and
//! every forged one is refused with the right error and issues nothing. The keys in
//! `tests/fixtures` are throwaway test keys.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{Reply, TestApp, spawn_app};

pub(crate) const CLIENT: &str = "TESTCLIENT";
pub(crate) const RSA_KEY: &str = include_str!("../fixtures/client-rsa.key");
pub(crate) const RSA_PUB: &str = include_str!("../fixtures/client-rsa.pub");
pub(crate) const OTHER_KEY: &str = include_str!("../fixtures/other-rsa.key");
const EC_KEY: &str = include_str!("../fixtures/client-ec.key");
const EC_PUB: &str = include_str!("../fixtures/client-ec.pub");

pub(crate) fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

pub(crate) fn claims(jti: &str) -> Value {
    json!({"iss": CLIENT, "sub": CLIENT, "aud": "/token", "iat": now() - 10, "exp": now() + 60, "jti": jti})
}

pub(crate) fn signed(claims: &Value, kid: &str, alg: Algorithm, private_pem: &str) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
    };
    encode(&header, claims, &key).unwrap()
}

async fn registered() -> TestApp {
    let app = spawn_app().await;
    register(&app).await;
    app
}

/// Registers the test client's RSA key (`main`) and EC key (`ec`), managing the demo world's
/// accounts.
pub(crate) async fn register(app: &TestApp) {
    let rsa = json!({"clientId": CLIENT, "kid": "main", "publicKey": RSA_PUB, "scopes": "sso-sessions.write accounts.read"});
    assert_eq!(app.post_json("/_localbroker/clients", rsa).await.status, StatusCode::OK);
    let ec = json!({"clientId": CLIENT, "kid": "ec", "publicKey": EC_PUB, "alg": "ES256"});
    assert_eq!(app.post_json("/_localbroker/clients", ec).await.status, StatusCode::OK);
    // The demo users' accounts, so that it may open their sessions.
    let accounts = json!({"accounts": ["DU1234567", "DU7654321"]});
    let managed = app.post_json(&format!("/_localbroker/clients/{CLIENT}/accounts"), accounts).await;
    assert_eq!(managed.status, StatusCode::OK, "{}", managed.text);
}

pub(crate) async fn ask(app: &TestApp, assertion: &str, scope: Option<&str>) -> Reply {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", assertion),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let response = reqwest::Client::new()
        .post(format!("{}/oauth2/api/v1/token", app.url))
        .form(&form)
        .send()
        .await
        .unwrap();
    reply(response).await
}

/// A response as the tests read it.
pub(crate) async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let text = response.text().await.unwrap();
    Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
}

fn refused(reply: &Reply, status: StatusCode, error: &str) {
    assert_eq!((reply.status, reply.body["error"].as_str()), (status, Some(error)), "{}", reply.text);
    assert!(reply.body.get("access_token").is_none());
}

#[tokio::test]
async fn a_valid_assertion_gets_a_token_for_the_granted_scopes() {
    let app = registered().await;
    let reply =
        ask(&app, &signed(&claims("a"), "main", Algorithm::RS256, RSA_KEY), Some("sso-sessions.write")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        (reply.body["token_type"].as_str(), reply.body["scope"].as_str()),
        (Some("Bearer"), Some("sso-sessions.write"))
    );
    assert!(reply.body["access_token"].as_str().is_some_and(|t| t.len() >= 32), "at least 128 random bits");
    assert_eq!(reply.body["expires_in"], 86399);
    let ec = ask(&app, &signed(&claims("b"), "ec", Algorithm::ES256, EC_KEY), None).await;
    assert_eq!(ec.body["scope"], "sso-sessions.write", "Account Management waits for approval: {}", ec.text);
    let full_url = json!({"iss": CLIENT, "sub": CLIENT, "aud": "https://api.ibkr.com/oauth2/api/v1/token", "iat": now(), "exp": now() + 60});
    assert_eq!(
        ask(&app, &signed(&full_url, "main", Algorithm::RS256, RSA_KEY), None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn approval_grants_account_management_scopes_and_revocation_ends_them() {
    let app = registered().await;
    let early =
        ask(&app, &signed(&claims("a"), "main", Algorithm::RS256, RSA_KEY), Some("accounts.read")).await;
    refused(&early, StatusCode::BAD_REQUEST, "invalid_scope");
    app.post(&format!("/_localbroker/clients/{CLIENT}/approve")).await;
    let approved =
        ask(&app, &signed(&claims("b"), "main", Algorithm::RS256, RSA_KEY), Some("accounts.read")).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    app.post(&format!("/_localbroker/clients/{CLIENT}/revoke")).await;
    let revoked = ask(&app, &signed(&claims("c"), "main", Algorithm::RS256, RSA_KEY), None).await;
    refused(&revoked, StatusCode::UNAUTHORIZED, "invalid_client");
}

#[tokio::test]
async fn forged_assertions_are_refused_and_issue_nothing() {
    let app = registered().await;
    let digest = app.digest().await;
    let wrong_key = signed(&claims("1"), "main", Algorithm::RS256, OTHER_KEY);
    refused(&ask(&app, &wrong_key, None).await, StatusCode::UNAUTHORIZED, "invalid_client");
    let unknown_kid = signed(&claims("2"), "nope", Algorithm::RS256, RSA_KEY);
    refused(&ask(&app, &unknown_kid, None).await, StatusCode::UNAUTHORIZED, "invalid_client");
    // alg none: a header and claims with no signature.
    let none = {
        use base64::Engine as _;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        format!("{}.{}.", b64(br#"{"alg":"none","kid":"main"}"#), b64(claims("3").to_string().as_bytes()))
    };
    refused(&ask(&app, &none, None).await, StatusCode::UNAUTHORIZED, "invalid_client");
    // HS256 keyed with the public key, the classic confusion.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("main".into());
    let confused = encode(&header, &claims("4"), &EncodingKey::from_secret(RSA_PUB.as_bytes())).unwrap();
    refused(&ask(&app, &confused, None).await, StatusCode::UNAUTHORIZED, "invalid_client");
    let mut expired = claims("5");
    expired["exp"] = json!(now() - 120);
    expired["iat"] = json!(now() - 180);
    refused(
        &ask(&app, &signed(&expired, "main", Algorithm::RS256, RSA_KEY), None).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    let mut future = claims("6");
    future["iat"] = json!(now() + 600);
    refused(
        &ask(&app, &signed(&future, "main", Algorithm::RS256, RSA_KEY), None).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    let mut far = claims("7");
    far["exp"] = json!(now() + 86_400);
    refused(
        &ask(&app, &signed(&far, "main", Algorithm::RS256, RSA_KEY), None).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    let mut audience = claims("8");
    audience["aud"] = json!("https://example.com/other");
    refused(
        &ask(&app, &signed(&audience, "main", Algorithm::RS256, RSA_KEY), None).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    let mut subject = claims("9");
    subject["sub"] = json!("SOMEONEELSE");
    refused(
        &ask(&app, &signed(&subject, "main", Algorithm::RS256, RSA_KEY), None).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    let missing_scope = signed(&claims("10"), "main", Algorithm::RS256, RSA_KEY);
    refused(
        &ask(&app, &missing_scope, Some("transfers.write")).await,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
    );
    assert_eq!(app.digest().await, digest, "nothing was issued");
    let once = signed(&claims("11"), "main", Algorithm::RS256, RSA_KEY);
    assert_eq!(ask(&app, &once, None).await.status, StatusCode::OK);
    refused(&ask(&app, &once, None).await, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a_request_that_is_not_a_client_credentials_grant_is_refused() {
    let app = registered().await;
    let reply = reqwest::Client::new()
        .post(format!("{}/oauth2/api/v1/token", app.url))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
    assert_eq!(reply.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");
}

/// A token with `sso-sessions.write` for the registered test client.
pub(crate) async fn access_token(app: &TestApp) -> String {
    let reply =
        ask(app, &signed(&claims("sso"), "main", Algorithm::RS256, RSA_KEY), Some("sso-sessions.write"))
            .await;
    reply.body["access_token"].as_str().unwrap().to_owned()
}

/// Opens an SSO session for `user` with `token`.
pub(crate) async fn sso_session(app: &TestApp, token: &str, user: &str) -> Reply {
    let body =
        json!({"credential": user, "ip": "127.0.0.1", "iss": CLIENT, "iat": now(), "exp": now() + 86_400});
    sso_with(app, token, &body).await
}

async fn accounts_with(app: &TestApp, bearer: &str) -> Reply {
    let response = reqwest::Client::new()
        .get(format!("{}/v1/api/portfolio/accounts", app.url))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    reply(response).await
}

#[tokio::test]
async fn an_sso_session_acts_for_its_user_through_its_bearer() {
    let app = registered().await;
    let token = access_token(&app).await;
    let opened = sso_session(&app, &token, "demo2").await;
    assert_eq!(
        (opened.status, opened.body["active"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{}",
        opened.text
    );
    let bearer = opened.body["access_token"].as_str().unwrap();
    let accounts = accounts_with(&app, bearer).await;
    let ids: Vec<&str> =
        accounts.body.as_array().unwrap().iter().filter_map(|a| a["accountId"].as_str()).collect();
    assert_eq!(ids, ["DU7654321"], "demo2's account, not the gateway user's: {}", accounts.text);
    assert_eq!(accounts_with(&app, "forged").await.status, StatusCode::UNAUTHORIZED);
    let unknown = sso_session(&app, &token, "nobody").await;
    assert_eq!(unknown.status, StatusCode::FORBIDDEN, "as for a user not the client's: {}", unknown.text);
    let no_token = sso_session(&app, "nonsense", "demo").await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED, "{}", no_token.text);
}

#[tokio::test]
async fn sso_sessions_need_their_scope() {
    let app = registered().await;
    app.post(&format!("/_localbroker/clients/{CLIENT}/approve")).await;
    let reply =
        ask(&app, &signed(&claims("narrow"), "main", Algorithm::RS256, RSA_KEY), Some("accounts.read")).await;
    let token = reply.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(sso_session(&app, &token, "demo").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_websocket_takes_an_sso_bearer() {
    use futures_util::StreamExt;
    let app = registered().await;
    let token = access_token(&app).await;
    let opened = sso_session(&app, &token, "demo2").await;
    let bearer = opened.body["access_token"].as_str().unwrap();
    let url = format!("{}/v1/api/ws?bearer_token={bearer}", app.url.replace("http://", "ws://"));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut topics = Vec::new();
    while topics.len() < 3 {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
            topics.push(serde_json::from_str::<Value>(&text).unwrap());
        }
    }
    assert_eq!(topics[0]["topic"], "sts", "authenticated at once: {:?}", topics[0]);
    assert_eq!(topics[1]["success"], "demo2");
    assert_eq!(topics[2]["args"]["accounts"], json!(["DU7654321"]));
}

#[tokio::test]
async fn a_world_file_registers_its_clients() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.toml");
    let text = format!(
        "{}\n[[clients]]\nclient_id = \"{CLIENT}\"\nkid = \"main\"\nscopes = \"sso-sessions.write accounts.read\"\napproved = true\npublic_key = \"\"\"\n{RSA_PUB}\"\"\"\n",
        r#"
[[users]]
username = "demo"
password = "demo"
accounts = ["DU1234567"]

[[accounts]]
id = "DU1234567"
title = "Demo"
type = "individual"
margin = "margin"
base_currency = "USD"
cash = { USD = "1000" }
"#
    );
    std::fs::write(&world, text).unwrap();
    let app = testkit::spawn_app_with(testkit::AppOptions { world: Some(world), ..Default::default() }).await;
    let reply =
        ask(&app, &signed(&claims("w"), "main", Algorithm::RS256, RSA_KEY), Some("accounts.read")).await;
    assert_eq!(reply.status, StatusCode::OK, "approved in the world file: {}", reply.text);
}

#[tokio::test]
async fn an_assertion_without_a_jti_lives_a_minute_at_most_and_a_jti_is_bounded() {
    let app = registered().await;
    let mut short = claims("x");
    short.as_object_mut().unwrap().remove("jti");
    short["exp"] = json!(now() + 20);
    let ibauths = signed(&short, "main", Algorithm::RS256, RSA_KEY);
    assert_eq!(ask(&app, &ibauths, None).await.status, StatusCode::OK, "as ibauth signs them");
    let mut long = short.clone();
    long["exp"] = json!(now() + 600);
    let replayable = ask(&app, &signed(&long, "main", Algorithm::RS256, RSA_KEY), None).await;
    refused(&replayable, StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(replayable.body["error_description"].as_str().unwrap().contains("jti"), "{}", replayable.text);
    long["jti"] = json!("y".repeat(10_000));
    refused(
        &ask(&app, &signed(&long, "main", Algorithm::RS256, RSA_KEY), None).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    long["jti"] = json!("fine");
    assert_eq!(
        ask(&app, &signed(&long, "main", Algorithm::RS256, RSA_KEY), None).await.status,
        StatusCode::OK
    );
}

/// `sso-sessions` with `claims` signed by the test client.
async fn sso_with(app: &TestApp, token: &str, claims: &Value) -> Reply {
    let response = reqwest::Client::new()
        .post(format!("{}/gw/api/v1/sso-sessions", app.url))
        .bearer_auth(token)
        .header("content-type", "application/jwt")
        .body(signed(claims, "main", Algorithm::RS256, RSA_KEY))
        .send()
        .await
        .unwrap();
    reply(response).await
}

#[tokio::test]
async fn a_signed_body_is_bounded_in_time_and_used_once() {
    let app = registered().await;
    let token = access_token(&app).await;
    let body =
        json!({"credential": "demo2", "ip": "127.0.0.1", "iss": CLIENT, "iat": now(), "exp": now() + 600});
    let mut refusals = Vec::new();
    for (why, remove, set) in [
        ("no iat", Some("iat"), None),
        ("no exp", Some("exp"), None),
        ("decades ahead", None, Some(("exp", json!(now() + 30 * 365 * 86_400)))),
        ("issued in the future", None, Some(("iat", json!(now() + 3_600)))),
        ("a huge jti", None, Some(("jti", json!("j".repeat(10_000))))),
    ] {
        let mut claims = body.clone();
        if let Some(name) = remove {
            claims.as_object_mut().unwrap().remove(name);
        }
        if let Some((name, value)) = set {
            claims[name] = value;
        }
        refusals.push((why, sso_with(&app, &token, &claims).await));
    }
    for (why, refused) in refusals {
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{why}: {}", refused.text);
        assert_eq!(refused.body["invalidArguments"][0]["field"], "body", "{why}");
    }
    let day =
        json!({"credential": "demo2", "ip": "127.0.0.1", "iss": CLIENT, "iat": now(), "exp": now() + 86_400});
    assert_eq!(sso_with(&app, &token, &day).await.status, StatusCode::OK, "a day ahead, as ibauth signs it");
    let replayed = sso_with(&app, &token, &day).await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST, "{}", replayed.text);
    assert_eq!(replayed.body["detail"], "the signed request was already used");
    // ibauth connecting twice in the same second signs the same body, each time with its own
    // access token.
    let other =
        ask(&app, &signed(&claims("again"), "main", Algorithm::RS256, RSA_KEY), Some("sso-sessions.write"))
            .await;
    let other = other.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(sso_with(&app, &other, &day).await.status, StatusCode::OK, "another token, another request");
    let mut with_jti = body.clone();
    with_jti["jti"] = json!("sso-1");
    assert_eq!(sso_with(&app, &token, &with_jti).await.status, StatusCode::OK);
    with_jti["exp"] = json!(now() + 601);
    assert_eq!(
        sso_with(&app, &other, &with_jti).await.status,
        StatusCode::BAD_REQUEST,
        "a jti is used once, whatever else"
    );
    app.assert_journal_replays().await;
}
