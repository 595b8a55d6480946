use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::spawn_app;

fn assert_auth_status(status: &Value) {
    assert_eq!(status["authenticated"], true);
    assert_eq!(status["competing"], false);
    assert_eq!(status["connected"], true);
    let mac = status["MAC"].as_str().unwrap();
    assert_eq!(mac.split(':').count(), 6, "{mac}");
    assert!(mac.split(':').all(|octet| octet.len() == 2 && u8::from_str_radix(octet, 16).is_ok()), "{mac}");
    assert!(status["serverInfo"]["serverName"].is_string());
}

#[tokio::test]
async fn tickle_reports_an_authenticated_gateway_session_by_get_and_post() {
    let app = spawn_app().await;
    let post = app.post("/v1/api/tickle").await;
    assert_eq!(post.status, StatusCode::OK);
    let session = post.body["session"].as_str().unwrap();
    assert_eq!(session.len(), 32);
    assert!(post.body["ssoExpires"].as_i64().unwrap() > 0);
    assert_eq!(post.body["collission"], false);
    assert!(post.body["userId"].is_u64());
    assert_auth_status(&post.body["iserver"]["authStatus"]);
    let get = app.get("/v1/api/tickle").await;
    assert_eq!(get.body["session"], session);
}

#[tokio::test]
async fn auth_status_answers_get_and_post_and_ssodh_init_takes_a_body_or_none() {
    let app = spawn_app().await;
    assert_auth_status(&app.post("/v1/api/iserver/auth/status").await.body);
    assert_auth_status(&app.get("/v1/api/iserver/auth/status").await.body);
    let with_body =
        app.post_json("/v1/api/iserver/auth/ssodh/init", json!({"publish": true, "compete": true})).await;
    assert_eq!(with_body.status, StatusCode::OK);
    assert_auth_status(&with_body.body);
    assert_eq!(app.post("/v1/api/iserver/auth/ssodh/init").await.status, StatusCode::OK);
    let reauthenticate = app.post("/v1/api/iserver/reauthenticate").await;
    assert_eq!(reauthenticate.body, json!({"message": "triggered"}));
}

#[tokio::test]
async fn sso_validate_has_every_field_ibauth_requires_with_its_type() {
    let app = spawn_app().await;
    let reply = app.get("/v1/api/sso/validate").await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = &reply.body;
    for key in ["IS_PENDING_APPLICANT", "SF_ENABLED", "IS_FREE_TRIAL", "RESULT", "IS_MASTER"] {
        assert!(body[key].is_boolean(), "{key} is a bool in {body}");
    }
    for key in [
        "HARDWARE_INFO",
        "UNIQUE_LOGIN_ID",
        "SF_CONFIG",
        "USER_NAME",
        "LANDING_APP",
        "COUNTERPARTY",
        "CREDENTIAL",
        "IP",
        "TOKEN",
        "region",
    ] {
        assert!(body[key].is_string(), "{key} is a string in {body}");
    }
    for key in ["AUTH_TIME", "CREDENTIAL_TYPE", "LOGIN_TYPE", "USER_ID", "EXPIRES", "took"] {
        assert!(body[key].is_i64(), "{key} is an integer in {body}");
    }
    for key in ["wlms", "realtime", "bond", "optionChains", "calendar", "newMf"] {
        assert!(body["features"][key].is_boolean(), "features.{key}");
    }
    assert_eq!(body["features"]["env"], "PROD");
    assert_eq!(body["RESULT"], true);
    assert_eq!(body["USER_NAME"], "demo");
    assert_eq!(body["LOGIN_TYPE"], 2, "a paper login");
    assert_eq!(body["IP"], "127.0.0.1");
}

#[tokio::test]
async fn after_logout_everything_is_401_until_a_login() {
    let app = spawn_app().await;
    let first = app.post("/v1/api/tickle").await.body["session"].clone();
    assert_eq!(app.post("/v1/api/logout").await.body, json!({"status": true}));
    for (method, path) in [
        (Method::POST, "/v1/api/tickle"),
        (Method::GET, "/v1/api/tickle"),
        (Method::POST, "/v1/api/iserver/auth/status"),
        (Method::GET, "/v1/api/iserver/accounts"),
        (Method::GET, "/v1/api/portfolio/accounts"),
        (Method::GET, "/v1/api/sso/validate"),
        (Method::POST, "/v1/api/logout"),
        (Method::GET, "/v1/api/trsrv/stocks?symbols=AAPL"),
        (Method::GET, "/v1/api/iserver/secdef/search?symbol=AAPL"),
        (Method::GET, "/v1/api/trsrv/secdef/schedule?assetClass=STK&symbol=AAPL"),
        (Method::GET, "/v1/portal/iserver/contract/265598/info"),
    ] {
        let reply = app.request(method.clone(), path, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(reply.body, json!({"error": "not authenticated", "statusCode": 401}), "{method} {path}");
    }
    let wrong = app.login("demo", "wrong").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("nobody", "demo").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("not a name!", "demo").await.status, StatusCode::UNAUTHORIZED);
    let incomplete = app.post_json("/_localbroker/session/login", json!({"username": "demo"})).await;
    assert_eq!(incomplete.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.post("/v1/api/tickle").await.status,
        StatusCode::UNAUTHORIZED,
        "a failed login changes nothing"
    );
    let login = app.login("demo", "demo").await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.body["authenticated"], true);
    let tickle = app.post("/v1/api/tickle").await;
    assert_eq!(tickle.status, StatusCode::OK);
    assert_eq!(tickle.body["session"], login.body["session"]);
    assert_ne!(tickle.body["session"], first, "a new login is a new session");
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn the_login_page_logs_in_with_a_form() {
    let app = spawn_app().await;
    app.post("/v1/api/logout").await;
    let client = reqwest::Client::new();
    let page = client.get(format!("{}/", app.url)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<form") && html.contains("name=\"password\"") && html.contains("Nobody is logged in")
    );
    let rejected = client
        .post(format!("{}/", app.url))
        .form(&[("username", "demo"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), StatusCode::UNAUTHORIZED);
    let accepted = client
        .post(format!("{}/", app.url))
        .form(&[("username", "demo2"), ("password", "demo")])
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    let confirmation = accepted.text().await.unwrap();
    assert!(confirmation.contains("Client login succeeds") && confirmation.contains("Logged in as demo2"));
    let accounts = app.get("/v1/api/iserver/accounts").await;
    assert_eq!(
        accounts.body["accounts"],
        json!(["DU7654321"]),
        "the second demo user sees only their account"
    );
}

#[tokio::test]
async fn the_portal_prefix_is_an_alias_of_the_api_prefix() {
    let app = spawn_app().await;
    let api = app.get("/v1/api/sso/validate").await;
    let portal = app.get("/v1/portal/sso/validate").await;
    assert_eq!(portal.status, StatusCode::OK);
    assert_eq!(portal.body["USER_NAME"], api.body["USER_NAME"]);
    assert_eq!(
        app.post("/v1/portal/tickle").await.body["session"],
        app.post("/v1/api/tickle").await.body["session"]
    );
}
