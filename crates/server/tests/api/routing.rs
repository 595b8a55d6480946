use reqwest::{Method, StatusCode};
use serde_json::json;
use server::spec::operations;
use testkit::spawn_app;

/// A concrete path for a templated one: every parameter becomes a plausible value.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{accountId}" | "{accountid}" => "DU1234567",
            s if s.starts_with('{') => "265598",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_ibkr_operation_is_routed_and_the_unbuilt_ones_answer_501() {
    let app = spawn_app().await;
    let implemented = server::spec::implemented(&server::app::openapi());
    let mut not_implemented = 0;
    let mut built = 0;
    for operation in operations() {
        if implemented.contains(&(operation.method.to_string(), server::spec::normalize(operation.path))) {
            built += 1;
            continue;
        }
        let reply = app.request(operation.method.clone(), &concrete(operation.path), None).await;
        assert_eq!(reply.status, StatusCode::NOT_IMPLEMENTED, "{} {}", operation.method, operation.path);
        let message = match operation.reason {
            Some(reason) => format!("not implemented in LocalBroker: {reason}"),
            None => "not implemented in LocalBroker yet".to_owned(),
        };
        if operation.path.starts_with("/gw/api/") {
            assert_eq!(
                reply.body,
                json!({"type": "/simple", "title": "Not Implemented", "status": 501, "detail": message}),
                "IBKR's problem details under /gw/api"
            );
        } else {
            assert_eq!(reply.body, json!({"error": message, "statusCode": 501}));
        }
        not_implemented += 1;
    }
    assert!(
        built > 90 && not_implemented > 0,
        "both kinds were walked: {built} built, {not_implemented} not"
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let app = spawn_app().await;
    let unknown = app.get("/v1/api/no/such/endpoint").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["statusCode"], 404);
    assert!(unknown.error().contains("/v1/api/no/such/endpoint"));
    let elsewhere = app.get("/nothing-here").await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    let wrong_method = app.request(Method::DELETE, "/v1/api/tickle", None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.error(), "method DELETE is not allowed on /v1/api/tickle");
    let spec_method = app.request(Method::POST, "/v1/api/portfolio/accounts", None).await;
    assert_eq!(spec_method.status, StatusCode::METHOD_NOT_ALLOWED, "IBKR defines only GET there");
}

#[tokio::test]
async fn trailing_slashes_are_ignored() {
    let app = spawn_app().await;
    assert_eq!(app.post("/v1/api/tickle/").await.status, StatusCode::OK);
    assert_eq!(
        app.get("/v1/api/iserver/account/trades/").await.body,
        serde_json::json!([]),
        "ibind's spelling"
    );
    assert_eq!(app.get("/v1/api/iserver/scanner/params/").await.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(
        app.get("/v1/api/trsrv/stocks/?symbols=IBM").await.body["IBM"][0]["contracts"][0]["conid"],
        8314
    );
}

#[tokio::test]
async fn repeated_slashes_collapse_as_ibkrs_gateway_collapses_them() {
    let app = spawn_app().await;
    app.login("demo", "demo").await;
    let accounts = app.get("/v1/portal//iserver/accounts").await;
    assert_eq!(accounts.status, StatusCode::OK, "{}", accounts.text);
    assert_eq!(accounts.body["selectedAccount"], "DU1234567");
    assert_eq!(app.post("/v1/api//tickle").await.status, StatusCode::OK);
    assert_eq!(app.get("/v1/api/iserver//account//trades//").await.body, serde_json::json!([]));
    let quoted = app.get("/v1/api/trsrv//stocks?symbols=IBM").await;
    assert_eq!(quoted.body["IBM"][0]["contracts"][0]["conid"], 8314, "the query string is kept");
}

#[tokio::test]
async fn our_openapi_document_and_swagger_ui_are_served() {
    let app = spawn_app().await;
    let spec = app.get("/openapi.json").await;
    assert_eq!(spec.status, StatusCode::OK);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3."));
    for path in
        ["/v1/api/tickle", "/v1/api/iserver/accounts", "/v1/api/trsrv/stocks", "/_localbroker/state/digest"]
    {
        assert!(spec.body["paths"].get(path).is_some(), "{path} is documented");
    }
    let client = reqwest::Client::new();
    let page = client.get(format!("{}/docs/", app.url)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("http://") && !html.contains("https://"), "nothing is fetched from elsewhere");
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-initializer.js"] {
        let response = client.get(format!("{}/docs/{asset}", app.url)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
    }
    let initializer = client
        .get(format!("{}/docs/swagger-initializer.js", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(initializer.contains("/openapi.json"));
}

/// Our OpenAPI document is reviewed in the diff like code: any change to a handler's documented
/// shape changes this file. `UPDATE_GOLDEN=1 cargo test -p server` rewrites it.
#[test]
fn the_openapi_document_matches_its_golden_file() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/openapi.json");
    let current = serde_json::to_string_pretty(&server::app::openapi()).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &current).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        golden == current,
        "tests/golden/openapi.json is stale: run UPDATE_GOLDEN=1 cargo test -p server"
    );
}

/// An answer's body and content type, whatever they are.
async fn raw(request: reqwest::RequestBuilder) -> (StatusCode, String, String) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn what_the_framework_refuses_is_answered_in_each_surfaces_shape() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", app.url);
    let too_big = vec![b'x'; 3 << 20];
    let not_utf8 = vec![0xff, 0xfe, 0xfd];
    // A /gw body is read once the caller is authorized.
    crate::oauth::register(&app).await;
    let token = crate::oauth::access_token(&app).await;
    let cases = [
        (
            "a /gw body that is not UTF-8",
            client.post(url("/gw/api/v1/sso-sessions")).bearer_auth(&token).body(not_utf8.clone()),
            400,
            "application/problem+json",
        ),
        (
            "an oversized /gw body",
            client.post(url("/gw/api/v1/sso-sessions")).bearer_auth(&token).body(too_big.clone()),
            413,
            "application/problem+json",
        ),
        (
            "JSON at the token endpoint",
            client.post(url("/oauth2/api/v1/token")).json(&json!({"grant_type": "client_credentials"})),
            400,
            "application/json",
        ),
        (
            "a token form that is not UTF-8",
            client
                .post(url("/oauth2/api/v1/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(not_utf8.clone()),
            400,
            "application/json",
        ),
        (
            "an oversized token form",
            client
                .post(url("/oauth2/api/v1/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(too_big.clone()),
            413,
            "application/json",
        ),
        (
            "a /gw read without its token or its parameter",
            client.get(url("/gw/api/v1/statements/available")),
            401,
            "application/problem+json",
        ),
        ("the websocket without an upgrade", client.get(url("/v1/api/ws")), 400, "application/json"),
        (
            "an oversized trading body",
            client.post(url("/v1/api/iserver/account/DU1234567/orders")).body(too_big.clone()),
            413,
            "application/json",
        ),
        (
            "a file the API documentation does not have",
            client.get(url("/docs/no-such-file.js")),
            404,
            "application/json",
        ),
        (
            "a login form that cannot be read",
            client.post(url("/")).json(&json!({"username": "demo"})),
            400,
            "text/html",
        ),
    ];
    for (what, request, status, content_type) in cases {
        let (answered, kind, body) = raw(request).await;
        assert_eq!(answered.as_u16(), status, "{what}: {body}");
        assert!(kind.starts_with(content_type), "{what}: {kind}");
        assert!(!body.is_empty(), "{what}");
        if content_type.contains("json") {
            let parsed: serde_json::Value =
                serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: {body}"));
            let code = parsed.get("statusCode").or(parsed.get("status"));
            assert!(code.is_some() || parsed.get("error").is_some(), "{what}: {body}");
        }
    }
}

#[tokio::test]
async fn every_refusal_under_gw_api_is_problem_details_unknown_paths_and_methods_included() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", app.url);
    let cases = [
        ("an unknown /gw path", client.get(url("/gw/api/v1/no-such-operation")), 404),
        ("a /gw path with a method it does not take", client.delete(url("/gw/api/v1/echo/https")), 405),
    ];
    for (what, request, status) in cases {
        let (answered, kind, body) = raw(request).await;
        assert_eq!(answered.as_u16(), status, "{what}: {body}");
        assert!(kind.starts_with("application/problem+json"), "{what}: {kind}");
        let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["status"], status, "{what}: {body}");
        assert!(problem["detail"].is_string(), "{what}: {body}");
    }
    let trading = app.get("/v1/api/no-such-operation").await;
    assert_eq!(trading.body["statusCode"], 404, "the trading surface keeps its own shape");
}

#[tokio::test]
async fn a_static_route_does_not_make_an_implemented_template_answer_501() {
    let app = spawn_app().await;
    for path in [
        "/gw/api/v1/instructions/cancel",
        "/gw/api/v1/instructions/query",
        "/v1/api/portfolio/DU1234567/positions/invalidate",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{path}: {}", reply.text);
    }
}

/// A conid or an order id in a path that is not one is IBKR's 400, quoting what was sent.
#[tokio::test]
async fn a_malformed_id_in_a_path_is_named_in_the_400() {
    let app = spawn_app().await;
    let conid = "Bad Request: invalid conid \"AAPL\"";
    let order = "Bad Request: invalid order id \"first\"";
    for (method, path, expected) in [
        (Method::GET, "/v1/api/iserver/contract/AAPL/info", conid),
        (Method::GET, "/v1/api/iserver/contract/AAPL/info-and-rules", conid),
        (Method::GET, "/v1/api/portfolio/DU1234567/position/AAPL", conid),
        (Method::GET, "/v1/api/portfolio/positions/AAPL", conid),
        (Method::GET, "/v1/api/iserver/account/order/status/first", order),
        (Method::DELETE, "/v1/api/iserver/account/DU1234567/order/first", order),
    ] {
        let reply = app.request(method.clone(), path, None).await;
        assert_eq!((reply.status, reply.error()), (StatusCode::BAD_REQUEST, expected), "{method} {path}");
    }
    let modify = app
        .post_json(
            "/v1/api/iserver/account/DU1234567/order/first",
            json!({"conid": 265598, "side": "BUY", "quantity": 1, "orderType": "LMT", "price": 1, "tif": "DAY"}),
        )
        .await;
    assert_eq!((modify.status, modify.error()), (StatusCode::BAD_REQUEST, order));
}

/// A request wrong in both its query and its conid is refused for its query, as before the conid
/// became a typed segment.
#[tokio::test]
async fn info_and_rules_refuses_a_bad_query_before_a_bad_conid() {
    let app = spawn_app().await;
    let both = app.get("/v1/api/iserver/contract/AAPL/info-and-rules?isBuy=perhaps").await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    assert!(both.error().contains("isBuy"), "{}", both.error());
}
