use reqwest::StatusCode;
use serde_json::json;
use testkit::{AppOptions, TestApp, spawn_app, spawn_app_with};

use crate::two_account_world;

async fn alices_world() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let world = two_account_world(dir.path());
    let app = spawn_app_with(AppOptions { world: Some(world), ..AppOptions::default() }).await;
    drop(dir);
    app
}

#[tokio::test]
async fn brokerage_accounts_list_the_users_accounts_and_the_selected_one() {
    let app = spawn_app().await;
    let reply = app.get("/v1/api/iserver/accounts").await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = &reply.body;
    assert_eq!(body["accounts"], json!(["DU1234567"]));
    assert_eq!(body["selectedAccount"], "DU1234567");
    assert_eq!(body["aliases"]["DU1234567"], "DU1234567");
    assert_eq!(body["acctProps"]["DU1234567"]["supportsCashQty"], true);
    assert_eq!(body["isPaper"], true);
    assert_eq!(body["isFT"], false);
    assert!(body["allowFeatures"]["snapshotRefreshTimeout"].is_u64());
    let session_id = body["sessionId"].as_str().unwrap();
    assert!(session_id.contains('.'), "{session_id}");
}

#[tokio::test]
async fn switching_to_the_selected_account_says_it_is_already_set() {
    let app = spawn_app().await;
    let reply = app.post_json("/v1/api/iserver/account", json!({"acctId": "DU1234567"})).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"success": "Account already set"}));
}

#[tokio::test]
async fn only_entitled_accounts_can_be_selected() {
    let app = spawn_app().await;
    let before = app.digest().await;
    for account in ["DU7654321", "DU0000000"] {
        let reply = app.post_json("/v1/api/iserver/account", json!({"acctId": account})).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{account}");
        assert_eq!(reply.error(), format!("Bad Request: accountId is not valid: {account}"));
        assert_eq!(reply.body["statusCode"], 400);
    }
    let malformed = app.post_json("/v1/api/iserver/account", json!({"acctId": "du 1"})).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let missing = app.post_json("/v1/api/iserver/account", json!({})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.error().contains("acctId"), "{}", missing.error());
    assert_eq!(app.digest().await, before, "refused switches change nothing");
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn malformed_json_is_a_400_in_ibkrs_shape() {
    let app = spawn_app().await;
    let reply = app.request(reqwest::Method::POST, "/v1/api/iserver/account", None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "an empty body has no acctId");
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{}/v1/api/iserver/account", app.url))
        .header("content-type", "application/json")
        .body("{\"acctId\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().starts_with("Bad Request: invalid JSON body"), "{body}");
    assert_eq!(body["statusCode"], 400);
}

#[tokio::test]
async fn a_user_with_two_accounts_switches_between_them() {
    let app = alices_world().await;
    let accounts = app.get("/v1/api/iserver/accounts").await;
    assert_eq!(accounts.body["accounts"], json!(["DU1000001", "DU1000002"]));
    assert_eq!(accounts.body["selectedAccount"], "DU1000001");
    let switched = app.post_json("/v1/api/iserver/account", json!({"acctId": "DU1000002"})).await;
    assert_eq!(switched.body, json!({"set": true, "acctId": "DU1000002"}));
    assert_eq!(app.get("/v1/api/iserver/accounts").await.body["selectedAccount"], "DU1000002");
    let bobs = app.post_json("/v1/api/iserver/account", json!({"acctId": "U2000001"})).await;
    assert_eq!(bobs.status, StatusCode::BAD_REQUEST, "another user's account");
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn account_search_finds_only_the_callers_accounts() {
    let app = alices_world().await;
    let by_id = app.get("/v1/api/iserver/account/search/DU1000").await;
    let ids: Vec<&str> = by_id.body["matchedAccounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["accountId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["DU1000001", "DU1000002"]);
    assert_eq!(by_id.body["pattern"], "DU1000");
    let by_name = app.get("/v1/api/iserver/account/search/joint").await;
    assert_eq!(by_name.body["matchedAccounts"][0]["accountId"], "DU1000002");
    let others = app.get("/v1/api/iserver/account/search/U2000001").await;
    assert_eq!(others.body["matchedAccounts"], json!([]));
}

#[tokio::test]
async fn portfolio_accounts_describe_each_account_with_ibkrs_spellings_and_types() {
    let app = alices_world().await;
    for path in ["/v1/api/portfolio/accounts", "/v1/api/portfolio/subaccounts"] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        let accounts = reply.body.as_array().unwrap();
        assert_eq!(accounts.len(), 2, "{path}");
        let joint = &accounts[1];
        assert_eq!(joint["id"], "DU1000002");
        assert_eq!(joint["accountId"], "DU1000002");
        assert_eq!(joint["accountTitle"], "Alice Joint");
        assert_eq!(joint["currency"], "EUR");
        assert_eq!(joint["type"], "DEMO", "paper accounts are DEMO");
        assert_eq!(joint["acctCustType"], "JOINT");
        assert_eq!(joint["faclient"], false);
        assert_eq!(joint["PrepaidCrypto-Z"], false);
        assert!(joint["accountStatus"].as_i64().unwrap() > 1_600_000_000_000, "epoch milliseconds");
        assert!(joint["accountAlias"].is_null());
        assert_eq!(joint["parent"]["mmc"], json!([]));
    }
}

#[tokio::test]
async fn account_meta_answers_for_own_accounts_only() {
    let app = alices_world().await;
    let own = app.get("/v1/api/portfolio/DU1000001/meta").await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.body["accountId"], "DU1000001");
    assert_eq!(own.body["acctCustType"], "INDIVIDUAL");
    for other in ["U2000001", "DU9999999", "not-an-id"] {
        let reply = app.get(&format!("/v1/api/portfolio/{other}/meta")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{other}");
        assert!(reply.error().contains(other), "{}", reply.error());
    }
    app.login("bob", "builder").await;
    let live = app.get("/v1/api/portfolio/U2000001/meta").await;
    assert_eq!(live.body["type"], "ORG", "a live account reports its ownership type");
}

#[tokio::test]
async fn every_trading_path_reads_an_account_id_by_one_rule() {
    let app = alices_world().await;
    // Blanks around the id are not part of it, in each area alike.
    for path in [
        "portfolio/%20DU1000001/meta",
        "portfolio/%20DU1000001/summary",
        "iserver/account/%20DU1000001/summary",
    ] {
        let reply = app.get(&format!("/v1/api/{path}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    }
    // A malformed id is refused as an account the caller may not use, quoting it: 401 in the
    // portfolio, 400 in the brokerage session's account paths.
    for (path, status) in [
        ("portfolio/DU%2A1/meta", StatusCode::UNAUTHORIZED),
        ("portfolio/DU%2A1/summary", StatusCode::UNAUTHORIZED),
        ("iserver/account/DU%2A1/summary", StatusCode::BAD_REQUEST),
    ] {
        let reply = app.get(&format!("/v1/api/{path}")).await;
        assert_eq!(reply.status, status, "{path}");
        assert!(reply.error().contains("DU*1"), "{path}: {}", reply.error());
    }
}
