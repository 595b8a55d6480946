//! Strict mode, the control plane's admin token, one brokerage session per username, and
//! IBKR's pacing limits.

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{AppOptions, Reply, TestApp, spawn_app, spawn_app_with};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::oauth::{access_token, register, reply, sso_session};

async fn strict() -> TestApp {
    spawn_app_with(AppOptions { strict: true, ..AppOptions::default() }).await
}

/// A client that logged `user` in through the login page, holding its cookie.
pub(crate) async fn logged_in(app: &TestApp, user: &str, password: &str) -> reqwest::Client {
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let page = client.post(format!("{}/", app.url)).form(&[("username", user), ("password", password)]);
    let response = page.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{user} logs in");
    client
}

/// A websocket request carrying the cookie of a fresh login-page login of `user`.
pub(crate) async fn socket_request(
    app: &TestApp,
    user: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let response = reqwest::Client::new()
        .post(format!("{}/", app.url))
        .form(&[("username", user), ("password", "demo")])
        .send()
        .await
        .unwrap();
    let header = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(header.contains("HttpOnly"), "{header}");
    let cookie = header.split(';').next().unwrap().to_owned();
    let mut request =
        format!("{}/v1/api/ws", app.url.replace("http://", "ws://")).into_client_request().unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    request
}

async fn get_with(client: &reqwest::Client, app: &TestApp, path: &str) -> Reply {
    reply(client.get(format!("{}{path}", app.url)).send().await.unwrap()).await
}

async fn post_with(client: &reqwest::Client, app: &TestApp, path: &str, body: Value) -> Reply {
    reply(client.post(format!("{}{path}", app.url)).json(&body).send().await.unwrap()).await
}

fn account_ids(reply: &Reply) -> Vec<&str> {
    reply.body.as_array().unwrap().iter().filter_map(|account| account["accountId"].as_str()).collect()
}

#[tokio::test]
async fn strict_mode_serves_only_callers_that_name_their_session() {
    let app = strict().await;
    let anonymous = reqwest::Client::new();
    let refused = get_with(&anonymous, &app, "/v1/api/portfolio/accounts").await;
    assert_eq!(
        (refused.status, refused.body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("not authenticated"))
    );
    assert_eq!(get_with(&anonymous, &app, "/v1/api/tickle").await.status, StatusCode::UNAUTHORIZED);
    let page = anonymous.get(format!("{}/", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Nobody is logged in."), "the gateway's session is no one's: {page}");

    let demo = logged_in(&app, "demo", "demo").await;
    let demo2 = logged_in(&app, "demo2", "demo").await;
    assert_eq!(account_ids(&get_with(&demo, &app, "/v1/api/portfolio/accounts").await), ["DU1234567"]);
    assert_eq!(account_ids(&get_with(&demo2, &app, "/v1/api/portfolio/accounts").await), ["DU7654321"]);
    let accounts = get_with(&demo2, &app, "/v1/api/iserver/accounts").await;
    assert_eq!(accounts.status, StatusCode::OK, "a login holds its brokerage session: {}", accounts.text);

    let wrong = anonymous
        .post(format!("{}/", app.url))
        .form(&[("username", "demo"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none(), "no cookie for a wrong password");
}

#[tokio::test]
async fn a_strict_websocket_needs_a_token_and_takes_the_login_cookie() {
    let app = strict().await;
    let ws = format!("{}/v1/api/ws", app.url.replace("http://", "ws://"));
    let refused = tokio_tungstenite::connect_async(&ws).await.unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");

    let (mut socket, _) =
        tokio_tungstenite::connect_async(socket_request(&app, "demo2").await).await.unwrap();
    let first = next_message(&mut socket).await;
    assert_eq!((first["topic"].as_str(), first["args"]["username"].as_str()), (Some("sts"), Some("demo2")));
}

#[tokio::test]
async fn the_control_plane_needs_the_admin_token_in_strict_mode() {
    let app = strict().await;
    let client = reqwest::Client::new();
    let url = format!("{}/_localbroker/state/digest", app.url);
    assert_eq!(client.get(&url).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(client.get(&url).bearer_auth("guess").send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(
        client.get(&url).bearer_auth(testkit::ADMIN_TOKEN).send().await.unwrap().status(),
        StatusCode::OK
    );
    let gateway = spawn_app().await;
    let open = client.get(format!("{}/_localbroker/state/digest", gateway.url)).send().await.unwrap();
    assert_eq!(open.status(), StatusCode::OK, "open on loopback in gateway mode");
}

/// The next JSON text frame, within five seconds.
async fn next_message<S>(socket: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next()).await;
        if let Message::Text(text) = frame.expect("a frame within 5 s").expect("open").expect("a frame") {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

fn brokerage(reply: &Reply) -> (bool, bool) {
    (reply.body["authenticated"].as_bool().unwrap(), reply.body["competing"].as_bool().unwrap())
}

#[tokio::test]
async fn one_brokerage_session_per_username_taken_over_with_compete() {
    let app = spawn_app().await;
    register(&app).await;
    // The gateway's session (demo) holds the brokerage session and streams.
    let session = app.post("/v1/api/tickle").await.body["session"].as_str().unwrap().to_owned();
    let mut request =
        format!("{}/v1/api/ws", app.url.replace("http://", "ws://")).into_client_request().unwrap();
    request.headers_mut().insert("cookie", format!("api={session}").parse().unwrap());
    let (mut gateway_socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(next_message(&mut gateway_socket).await["args"]["authenticated"], true);

    let token = access_token(&app).await;
    let opened = sso_session(&app, &token, "demo").await;
    let bearer = opened.body["access_token"].as_str().unwrap().to_owned();
    let sso = reqwest::Client::builder()
        .default_headers(
            [("authorization".parse().unwrap(), format!("Bearer {bearer}").parse().unwrap())]
                .into_iter()
                .collect(),
        )
        .build()
        .unwrap();
    assert_eq!(
        brokerage(&post_with(&sso, &app, "/v1/api/iserver/auth/status", json!({})).await),
        (false, true)
    );
    assert_eq!(get_with(&sso, &app, "/v1/api/iserver/accounts").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        get_with(&sso, &app, "/v1/api/portfolio/accounts").await.status,
        StatusCode::OK,
        "read-only works"
    );

    let polite =
        post_with(&sso, &app, "/v1/api/iserver/auth/ssodh/init", json!({"publish": true, "compete": false}))
            .await;
    assert_eq!(brokerage(&polite), (false, true), "{}", polite.text);
    assert_eq!(app.get("/v1/api/iserver/accounts").await.status, StatusCode::OK, "the gateway keeps it");

    let digest = app.digest().await;
    let taken =
        post_with(&sso, &app, "/v1/api/iserver/auth/ssodh/init", json!({"publish": true, "compete": true}))
            .await;
    assert_eq!(brokerage(&taken), (true, false), "{}", taken.text);
    assert_ne!(app.digest().await, digest, "the takeover is journaled");
    assert_eq!(get_with(&sso, &app, "/v1/api/iserver/accounts").await.status, StatusCode::OK);
    assert_eq!(app.get("/v1/api/iserver/accounts").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(brokerage(&app.post("/v1/api/iserver/auth/status").await), (false, true));
    let tickle = app.post("/v1/api/tickle").await;
    assert_eq!(tickle.body["iserver"]["authStatus"]["competing"], true, "{}", tickle.text);
    assert_eq!(app.get("/v1/api/portfolio/accounts").await.status, StatusCode::OK);
    let told = loop {
        let message = next_message(&mut gateway_socket).await;
        if message["topic"] == "sts" {
            break message;
        }
    };
    assert_eq!(
        (told["args"]["authenticated"].as_bool(), told["args"]["competing"].as_bool()),
        (Some(false), Some(true))
    );
    gateway_socket.send(Message::text("smd+265598+{\"fields\":[\"31\"]}")).await.unwrap();
    let refused = next_message(&mut gateway_socket).await;
    assert!(
        refused["error"].as_str().unwrap().starts_with("not authenticated"),
        "no streams while competing: {refused}"
    );

    let again =
        app.post_json("/v1/api/iserver/auth/ssodh/init", json!({"publish": true, "compete": true})).await;
    assert_eq!(brokerage(&again), (true, false), "and back: {}", again.text);
    assert_eq!(get_with(&sso, &app, "/v1/api/iserver/accounts").await.status, StatusCode::UNAUTHORIZED);
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn ibkr_pacing_answers_429_with_a_retry_after() {
    let app = spawn_app_with(AppOptions { pacing: true, ..AppOptions::default() }).await;
    assert_eq!(app.get("/v1/api/sso/validate").await.status, StatusCode::OK);
    let paced = app.get("/v1/api/sso/validate").await;
    assert_eq!((paced.status, paced.error()), (StatusCode::TOO_MANY_REQUESTS, "Too many requests"));
    assert_eq!(paced.body["statusCode"], 429);
    let response = reqwest::get(format!("{}/v1/api/sso/validate", app.url)).await.unwrap();
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        app.get("/v1/api/iserver/accounts").await.status,
        StatusCode::OK,
        "other endpoints are not held"
    );

    let unpaced = spawn_app().await;
    for _ in 0..3 {
        assert_eq!(unpaced.get("/v1/api/sso/validate").await.status, StatusCode::OK, "off in gateway mode");
    }
}

#[tokio::test]
async fn cookie_requests_from_other_sites_are_refused() {
    let app = strict().await;
    let demo = logged_in(&app, "demo", "demo").await;
    let select = |headers: &[(&'static str, &'static str)]| {
        let mut request =
            demo.post(format!("{}/v1/api/iserver/account", app.url)).json(&json!({"acctId": "DU1234567"}));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    assert_eq!(
        select(&[("origin", "https://elsewhere.example")]).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(select(&[("sec-fetch-site", "same-site")]).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(
        select(&[]).await.unwrap().status(),
        StatusCode::OK,
        "clients other than browsers send neither"
    );
    let host = app.url.trim_start_matches("http://").to_owned();
    let same = demo
        .post(format!("{}/v1/api/iserver/account", app.url))
        .header("origin", format!("http://{host}"))
        .json(&json!({"acctId": "DU1234567"}))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::OK, "the page's own origin");
    let mut socket = socket_request(&app, "demo").await;
    socket.headers_mut().insert("origin", "https://elsewhere.example".parse().unwrap());
    let hijack = tokio_tungstenite::connect_async(socket).await.unwrap_err();
    assert!(hijack.to_string().contains("403"), "{hijack}");
}

#[tokio::test]
async fn a_strict_websocket_refuses_an_ended_session_before_upgrading() {
    let app = strict().await;
    let request = socket_request(&app, "demo").await;
    let cookie = request.headers()["cookie"].to_str().unwrap().to_owned();
    let logout = reqwest::Client::new()
        .post(format!("{}/v1/api/logout", app.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(logout.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"), "the cookie is cleared");
    let refused = tokio_tungstenite::connect_async(request).await.unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");
}

#[tokio::test]
async fn the_control_plane_login_of_a_strict_server_answers_a_bearer() {
    let app = strict().await;
    let login = app.login("demo2", "demo").await;
    let bearer =
        login.body["bearer"].as_str().unwrap_or_else(|| panic!("a bearer: {}", login.text)).to_owned();
    let accounts = reqwest::Client::new()
        .get(format!("{}/v1/api/portfolio/accounts", app.url))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(accounts.status(), StatusCode::OK);
    assert_eq!(
        app.get("/v1/api/portfolio/accounts").await.status,
        StatusCode::UNAUTHORIZED,
        "no gateway session"
    );
}

#[tokio::test]
async fn revoking_a_client_ends_its_sessions() {
    let app = spawn_app().await;
    register(&app).await;
    let token = access_token(&app).await;
    let bearer = sso_session(&app, &token, "demo2").await.body["access_token"].as_str().unwrap().to_owned();
    let accounts = |bearer: String| {
        let url = format!("{}/v1/api/portfolio/accounts", app.url);
        async move { reqwest::Client::new().get(url).bearer_auth(bearer).send().await.unwrap().status() }
    };
    assert_eq!(accounts(bearer.clone()).await, StatusCode::OK);
    app.post(&format!("/_localbroker/clients/{}/revoke", crate::oauth::CLIENT)).await;
    assert_eq!(accounts(bearer).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/v1/api/portfolio/accounts").await.status,
        StatusCode::OK,
        "the gateway's session stays"
    );
}

#[tokio::test]
async fn a_request_refused_for_want_of_the_brokerage_session_is_not_paced() {
    let app = spawn_app_with(AppOptions { pacing: true, ..AppOptions::default() }).await;
    register(&app).await;
    let token = access_token(&app).await;
    let bearer = sso_session(&app, &token, "demo").await.body["access_token"].as_str().unwrap().to_owned();
    let orders = || {
        reqwest::Client::new()
            .get(format!("{}/v1/api/iserver/account/orders", app.url))
            .bearer_auth(&bearer)
            .send()
    };
    assert_eq!(orders().await.unwrap().status(), StatusCode::UNAUTHORIZED, "the gateway holds it");
    let init = reqwest::Client::new()
        .post(format!("{}/v1/api/iserver/auth/ssodh/init", app.url))
        .bearer_auth(&bearer)
        .json(&json!({"compete": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(init.status(), StatusCode::OK);
    assert_eq!(orders().await.unwrap().status(), StatusCode::OK, "one a 5 s, and the refused call took none");
}

#[tokio::test]
async fn login_attempts_are_limited_per_address_in_strict_mode() {
    let app = strict().await;
    let attempt = || {
        reqwest::Client::new()
            .post(format!("{}/", app.url))
            .form(&[("username", "demo"), ("password", "guess")])
            .send()
    };
    for _ in 0..10 {
        assert_eq!(attempt().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt().await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn reauthenticate_and_a_bare_init_take_the_brokerage_session_back() {
    let app = spawn_app().await;
    register(&app).await;
    let token = access_token(&app).await;
    let bearer = sso_session(&app, &token, "demo").await.body["access_token"].as_str().unwrap().to_owned();
    let sso = |path: &'static str| {
        reqwest::Client::new().post(format!("{}/v1/api{path}", app.url)).bearer_auth(&bearer).send()
    };
    // ssodh/init without a body competes, as IBKR's documented body does.
    assert_eq!(sso("/iserver/auth/ssodh/init").await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.get("/v1/api/iserver/accounts").await.status, StatusCode::UNAUTHORIZED);
    // ibeam's legacy call takes it back for the gateway.
    assert_eq!(app.post("/v1/api/iserver/reauthenticate").await.body["message"], "triggered");
    assert_eq!(app.get("/v1/api/iserver/accounts").await.status, StatusCode::OK);
    let status = sso("/iserver/auth/status").await.unwrap().json::<Value>().await.unwrap();
    assert_eq!((status["authenticated"].as_bool(), status["competing"].as_bool()), (Some(false), Some(true)));
}

#[tokio::test]
async fn the_strict_login_page_shows_who_its_cookie_logged_in() {
    let app = strict().await;
    let demo2 = logged_in(&app, "demo2", "demo").await;
    let page = demo2.get(format!("{}/", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Logged in as demo2."), "{page}");
}

#[tokio::test]
async fn in_gateway_mode_no_web_page_can_act_or_read_through_the_server() {
    let app = crate::quiet_market().await;
    let before = app.digest().await;
    let client = reqwest::Client::new();
    let order = r#"{"orders":[{"conid":265598,"orderType":"MKT","side":"BUY","quantity":1,"tif":"DAY"}]}"#;
    let forged = [
        // A form or fetch() of another site: a CORS simple request, sent without preflight.
        (
            "/v1/api/iserver/account/DU1234567/orders",
            vec![("origin", "https://evil.example"), ("content-type", "text/plain")],
            order,
        ),
        (
            "/_localbroker/clock",
            vec![("sec-fetch-site", "cross-site"), ("content-type", "text/plain")],
            r#"{"advance":"1d"}"#,
        ),
        (
            "/_localbroker/accounts/DU1234567/withdrawals",
            vec![("sec-fetch-site", "same-site")],
            r#"{"currency":"USD","amount":1000}"#,
        ),
        ("/v1/api/iserver/account/DU1234567/orders", vec![("origin", "null")], order),
        // DNS rebinding: the page's own name, resolved to 127.0.0.1.
        ("/v1/api/iserver/account/DU1234567/orders", vec![("host", "evil.example:5000")], order),
    ];
    for (path, headers, body) in forged {
        let mut request = client.post(format!("{}{path}", app.url)).body(body);
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        let refused = reply(request.send().await.unwrap()).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path} {headers:?}: {}", refused.text);
        assert!(refused.body["error"].is_string(), "{}", refused.text);
    }
    let rebound =
        client.get(format!("{}/v1/api/portfolio/accounts", app.url)).header("host", "evil.example:5000");
    assert_eq!(rebound.send().await.unwrap().status(), StatusCode::FORBIDDEN, "nothing to read either");
    let gw = client.post(format!("{}/gw/api/v1/sso-sessions", app.url)).header("host", "evil.example");
    let problem = gw.send().await.unwrap();
    assert_eq!(problem.headers()["content-type"], "application/problem+json", "in the surface's shape");
    assert_eq!(app.digest().await, before, "nothing changed");

    // IBKR's clients send no Origin, and a page of the server itself is its own origin.
    let placed =
        client.post(format!("{}/v1/api/iserver/account/DU1234567/orders", app.url)).body(order).send();
    assert_eq!(placed.await.unwrap().status(), StatusCode::OK);
    let host = app.url.trim_start_matches("http://").to_owned();
    let own = client
        .post(format!("{}/v1/api/tickle", app.url))
        .header("origin", format!("http://{host}"))
        .header("sec-fetch-site", "same-origin");
    assert_eq!(own.send().await.unwrap().status(), StatusCode::OK);
    let localhost =
        client.get(format!("{}/v1/api/portfolio/accounts", app.url)).header("host", "localhost:5000");
    assert_eq!(localhost.send().await.unwrap().status(), StatusCode::OK);

    let mut socket =
        format!("{}/v1/api/ws", app.url.replace("http://", "ws://")).into_client_request().unwrap();
    socket.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    let hijack = tokio_tungstenite::connect_async(socket).await.unwrap_err();
    assert!(hijack.to_string().contains("403"), "{hijack}");
}

#[tokio::test]
async fn a_client_opens_sessions_only_for_users_it_onboarded_manages_or_was_given() {
    let app = strict().await;
    let client = crate::oauth::CLIENT;
    let key = json!({"clientId": client, "kid": "main", "publicKey": crate::oauth::RSA_PUB, "scopes": "sso-sessions.write"});
    assert_eq!(app.post_json("/_localbroker/clients", key).await.status, StatusCode::OK);
    let token = access_token(&app).await;
    // Registered, holding sso-sessions.write, managing nothing: no user of the world is its.
    for user in ["demo", "demo2", "nobody"] {
        let refused = sso_session(&app, &token, user).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{user}: {}", refused.text);
        assert_eq!(
            refused.body["detail"],
            format!("client \"{client}\" may not open sessions for user {user}")
        );
    }
    let demo = json!({"accounts": ["DU1234567"]});
    assert_eq!(
        app.post_json(&format!("/_localbroker/clients/{client}/accounts"), demo).await.status,
        StatusCode::OK
    );
    let opened = sso_session(&app, &token, "demo").await;
    assert_eq!(opened.status, StatusCode::OK, "once it manages demo's account: {}", opened.text);
    assert_eq!(sso_session(&app, &token, "demo2").await.status, StatusCode::FORBIDDEN, "still not demo2");
}

#[tokio::test]
async fn a_world_file_names_the_users_its_client_acts_for() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.toml");
    let text = format!(
        "[[users]]\nusername = \"ann\"\npassword = \"pw\"\naccounts = [\"DU1\"]\n\n\
         [[users]]\nusername = \"bob\"\npassword = \"pw\"\naccounts = [\"DU2\"]\n\n\
         [[accounts]]\nid = \"DU1\"\ntitle = \"Ann\"\ntype = \"individual\"\nmargin = \"cash\"\nbase_currency = \"USD\"\ncash = {{ USD = \"10\" }}\n\n\
         [[accounts]]\nid = \"DU2\"\ntitle = \"Bob\"\ntype = \"individual\"\nmargin = \"cash\"\nbase_currency = \"USD\"\ncash = {{ USD = \"10\" }}\n\n\
         [[clients]]\nclient_id = \"{}\"\nkid = \"main\"\nscopes = \"sso-sessions.write\"\nusers = [\"ann\"]\npublic_key = \"\"\"\n{}\"\"\"\n",
        crate::oauth::CLIENT,
        crate::oauth::RSA_PUB
    );
    std::fs::write(&world, text).unwrap();
    let app = spawn_app_with(AppOptions { world: Some(world), strict: true, ..AppOptions::default() }).await;
    let token = access_token(&app).await;
    assert_eq!(sso_session(&app, &token, "ann").await.status, StatusCode::OK);
    assert_eq!(sso_session(&app, &token, "bob").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn failed_logins_are_limited_in_gateway_mode_too_and_successes_do_not_count() {
    let app = spawn_app().await;
    let page = |password: &'static str| {
        reqwest::Client::new()
            .post(format!("{}/", app.url))
            .form(&[("username", "demo2"), ("password", password)])
            .send()
    };
    for _ in 0..20 {
        assert_eq!(page("demo").await.unwrap().status(), StatusCode::OK);
    }
    for _ in 0..10 {
        assert_eq!(page("guess").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let refused = page("demo").await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "even with the right password, unchecked");
    assert!(refused.headers().contains_key("retry-after"));
    assert!(refused.text().await.unwrap().contains("Too many failed logins"), "the page says so");
    let control = app.login("demo", "demo").await;
    assert_eq!(
        control.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the control plane's login counts the same failures"
    );
}
