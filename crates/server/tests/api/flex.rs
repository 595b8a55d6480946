//! The Flex Web Service: IBKR's envelopes and error codes, and statements of what happened.

use reqwest::StatusCode;
use serde_json::json;
use testkit::TestApp;

use crate::quiet_market;

const TOKEN: &str = "123456789012345678901234";
const QUERY: &str = "1000001";

async fn flex(app: &TestApp, operation: &str, token: &str, q: &str) -> (StatusCode, String) {
    let url = format!("{}/AccountManagement/FlexWebService/{operation}?v=3&t={token}&q={q}", app.url);
    let response = reqwest::get(url).await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The text of the first `<name>` element of an envelope.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

#[tokio::test]
async fn a_requested_statement_holds_the_trades_and_cash_of_the_simulation() {
    let app = quiet_market().await;
    let order = json!({"orders": [{"conid": 265598, "orderType": "MKT", "side": "BUY", "quantity": 5, "tif": "DAY"}]});
    let placed = app.post_json("/v1/api/iserver/account/DU1234567/orders", order).await;
    assert!(placed.body[0]["order_id"].is_string(), "{}", placed.text);
    app.post_json("/_localbroker/clock", json!({"advance": "1m"})).await;

    let (status, envelope) = flex(&app, "SendRequest", TOKEN, QUERY).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        envelope.contains("<FlexStatementResponse timestamp=\"03 March, 2026 11:01 AM EST\">"),
        "{envelope}"
    );
    assert_eq!(element(&envelope, "Status"), Some("Success"), "{envelope}");
    let url = element(&envelope, "Url").unwrap();
    assert!(url.ends_with("/AccountManagement/FlexWebService/GetStatement"), "{url}");
    let reference = element(&envelope, "ReferenceCode").unwrap();

    let (_, statement) = flex(&app, "GetStatement", TOKEN, reference).await;
    assert!(
        statement.contains("<FlexQueryResponse queryName=\"LocalBroker Activity\" type=\"AF\">"),
        "{statement}"
    );
    assert!(statement.contains("<FlexStatements count=\"1\">"), "{statement}");
    assert!(
        statement.contains(
            "accountId=\"DU1234567\" fromDate=\"20260101\" toDate=\"20260303\" period=\"YearToDate\""
        ),
        "{statement}"
    );
    let trade =
        statement.lines().find(|line| line.contains("<Trade ")).unwrap_or_else(|| panic!("{statement}"));
    assert!(
        trade.contains("buySell=\"BUY\"")
            && trade.contains("quantity=\"5\"")
            && trade.contains("symbol=\"AAPL\""),
        "{trade}"
    );
    let position = statement.lines().find(|line| line.contains("<OpenPosition ")).unwrap();
    assert!(position.contains("position=\"5\"") && position.contains("side=\"Long\""), "{position}");
    let cash = statement.lines().find(|line| line.contains("<CashReportCurrency ")).unwrap();
    assert!(cash.contains("currency=\"USD\"") && cash.contains("deposits=\"1000000"), "{cash}");
    let line = |tag: &str| {
        statement.lines().find(|line| line.contains(tag)).unwrap_or_else(|| panic!("{tag}: {statement}"))
    };
    let mtm = line("<MTMPerformanceSummaryUnderlying ");
    assert!(mtm.contains("prevCloseQuantity=\"0\"") && mtm.contains("closeQuantity=\"5\""), "{mtm}");
    assert!(line("<UnbundledCommissionDetail ").contains("brokerExecutionCharge=\"1\""), "IBKR's minimum");
    let equity = line("<EquitySummaryByReportDateInBase ");
    assert!(equity.contains("reportDate=\"20260303\""), "from the day the account opened: {equity}");
    assert!(line("<ConversionRate ").contains("fromCurrency=\"USD\" toCurrency=\"USD\" rate=\"1\""));
}

#[tokio::test]
async fn refusals_carry_ibkrs_error_codes() {
    let app = quiet_market().await;
    let digest = app.digest().await;
    let code =
        |xml: &str| (element(xml, "Status").map(str::to_owned), element(xml, "ErrorCode").map(str::to_owned));
    let fail = |n: &str| (Some("Fail".to_owned()), Some(n.to_owned()));
    assert_eq!(code(&flex(&app, "SendRequest", "999", QUERY).await.1), fail("1015"));
    assert_eq!(code(&flex(&app, "SendRequest", TOKEN, "42").await.1), fail("1014"));
    assert_eq!(code(&flex(&app, "GetStatement", TOKEN, "1234567890").await.1), fail("1017"));
    let missing =
        reqwest::get(format!("{}/AccountManagement/FlexWebService/SendRequest?v=3", app.url)).await.unwrap();
    assert_eq!(code(&missing.text().await.unwrap()), fail("1020"));
    let url = format!(
        "{}/AccountManagement/FlexWebService/SendRequest?v=3&t={TOKEN}&q={QUERY}&fd=20260310&td=20260301",
        app.url
    );
    assert_eq!(
        code(&reqwest::get(url).await.unwrap().text().await.unwrap()),
        fail("1020"),
        "an upside-down range"
    );
    let envelope = flex(&app, "SendRequest", "999", QUERY).await.1;
    let children: Vec<&str> = envelope
        .lines()
        .filter(|line| {
            line.starts_with('<') && !line.starts_with("<?") && !line.contains("FlexStatementResponse")
        })
        .collect();
    assert_eq!(children.len(), 3, "exactly Status, ErrorCode and ErrorMessage: {envelope}");
    assert_eq!(app.digest().await, digest, "refused requests are not journaled");
    let garbled =
        reqwest::get(format!("{}/AccountManagement/FlexWebService/SendRequest?t=1&t=2&q=1", app.url))
            .await
            .unwrap();
    assert_eq!(code(&garbled.text().await.unwrap()), fail("1020"), "an unreadable query string");
}

#[tokio::test]
async fn a_trade_confirmation_query_confirms_each_execution_in_its_date_format() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.toml");
    let demo = server::world::DEMO.replace(
        "[flex]\n",
        "[flex]\n\n[[flex.queries]]\nid = 2000002\nname = \"Confirms\"\nuser = \"demo\"\ntype = \"trade_confirmation\"\nperiod = \"MonthToDate\"\ndate_format = \"yyyy-MM-dd\"\n",
    );
    std::fs::write(&world, demo).unwrap();
    let clock = engine::clock::ClockSpec {
        mode: engine::clock::ClockMode::Manual,
        start: Some("2026-03-03T16:00:00Z".parse().unwrap()),
    };
    let app = testkit::spawn_app_with(testkit::AppOptions {
        world: Some(world),
        clock,
        no_preflight: true,
        ..Default::default()
    })
    .await;
    app.post_json(
        "/v1/api/iserver/questions/suppress",
        json!({"messageIds": ["o163", "o354", "o383", "o451", "o403", "o10151", "o10331"]}),
    )
    .await;
    let order = json!({"orders": [{"conid": 265598, "orderType": "MKT", "side": "SELL", "quantity": 3, "tif": "DAY"}]});
    let placed = app.post_json("/v1/api/iserver/account/DU1234567/orders", order).await;
    assert!(placed.body[0]["order_id"].is_string(), "{}", placed.text);
    app.post_json("/_localbroker/clock", json!({"advance": "1m"})).await;
    let (_, envelope) = flex(&app, "SendRequest", TOKEN, "2000002").await;
    let reference = element(&envelope, "ReferenceCode").unwrap_or_else(|| panic!("{envelope}")).to_owned();
    let (_, statement) = flex(&app, "GetStatement", TOKEN, &reference).await;
    assert!(
        statement.contains("type=\"TCF\"") && statement.contains("fromDate=\"2026-03-01\""),
        "{statement}"
    );
    let confirm = statement
        .lines()
        .find(|line| line.contains("<TradeConfirm "))
        .unwrap_or_else(|| panic!("{statement}"));
    assert!(confirm.contains("buySell=\"SELL\"") && confirm.contains("quantity=\"-3\""), "{confirm}");
    assert!(!statement.contains("<Trade "), "a confirmation query holds no Trades section");
}

#[tokio::test]
async fn the_control_plane_issues_tokens_and_defines_queries() {
    let app = quiet_market().await;
    let issued = app.post_json("/_localbroker/flex/tokens", json!({"user": "demo"})).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.text);
    let token = issued.body["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 24);
    let query = json!({"id": 42, "name": "Cash", "user": "demo", "type": "activity", "period": "MonthToDate",
        "sections": ["CashReport"], "dateFormat": "yyyy-MM-dd"});
    let defined = app.post_json("/_localbroker/flex/queries", query.clone()).await;
    assert_eq!(defined.status, StatusCode::OK, "{}", defined.text);
    assert_eq!(app.post_json("/_localbroker/flex/queries", query).await.status, StatusCode::BAD_REQUEST);
    let bad = json!({"id": 43, "name": "x", "user": "demo", "type": "activity", "period": "MonthToDate", "sections": ["Gossip"]});
    assert_eq!(app.post_json("/_localbroker/flex/queries", bad).await.status, StatusCode::BAD_REQUEST);
    let again = app.post_json("/_localbroker/flex/tokens", json!({"user": "demo", "token": token})).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "a token is issued once");

    let (_, envelope) = flex(&app, "SendRequest", &token, "42").await;
    let reference = element(&envelope, "ReferenceCode").unwrap_or_else(|| panic!("{envelope}")).to_owned();
    let (_, statement) = flex(&app, "GetStatement", &token, &reference).await;
    assert!(
        statement.contains("fromDate=\"2026-03-01\"") && statement.contains("<CashReportCurrency "),
        "{statement}"
    );
    assert!(!statement.contains("<Trades"), "only the sections asked for");
    let (_, theirs) = flex(&app, "SendRequest", TOKEN, "42").await;
    assert_eq!(element(&theirs, "ErrorCode"), None, "demo's other token reaches demo's queries: {theirs}");
}

/// Every element with attributes of an XML statement: its name and attributes.
fn xml_records(xml: &str) -> Vec<(String, std::collections::BTreeMap<String, String>)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut records = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(element) | quick_xml::events::Event::Empty(element) => {
                let attributes: std::collections::BTreeMap<String, String> = element
                    .attributes()
                    .map(|attribute| {
                        let attribute = attribute.unwrap();
                        let value = attribute.unescape_value().unwrap().into_owned();
                        (String::from_utf8(attribute.key.as_ref().to_vec()).unwrap(), value)
                    })
                    .collect();
                if !attributes.is_empty() {
                    records.push((String::from_utf8(element.name().as_ref().to_vec()).unwrap(), attributes));
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    records
}

/// Every DATA record of a CSV statement, with its section's HEADER names.
fn csv_records(text: &str) -> Vec<(String, std::collections::BTreeMap<String, String>)> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut header: Vec<String> = Vec::new();
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        let fields: Vec<String> = record.iter().map(str::to_owned).collect();
        match fields[1].as_str() {
            "HEADER" => header = fields[2..].to_vec(),
            _ => {
                let values = header
                    .iter()
                    .cloned()
                    .zip(fields[2..].iter().cloned())
                    .filter(|(_, value)| !value.is_empty());
                records.push((fields[0].clone(), values.collect()));
            }
        }
    }
    records
}

#[tokio::test]
async fn a_csv_statement_holds_what_the_xml_one_does() {
    let app = quiet_market().await;
    let order = json!({"orders": [{"conid": 265598, "orderType": "MKT", "side": "BUY", "quantity": 4, "tif": "DAY"}]});
    app.post_json("/v1/api/iserver/account/DU1234567/orders", order).await;
    app.post_json("/_localbroker/clock", json!({"advance": "1m"})).await;
    let query = |id: u64, format: &str| json!({"id": id, "name": "Same", "user": "demo", "type": "activity", "period": "MonthToDate", "format": format});
    assert_eq!(app.post_json("/_localbroker/flex/queries", query(51, "xml")).await.status, StatusCode::OK);
    assert_eq!(app.post_json("/_localbroker/flex/queries", query(52, "csv")).await.status, StatusCode::OK);
    let fetch = |q: &'static str| {
        let app = &app;
        async move {
            let (_, envelope) = flex(app, "SendRequest", TOKEN, q).await;
            let reference =
                element(&envelope, "ReferenceCode").unwrap_or_else(|| panic!("{envelope}")).to_owned();
            flex(app, "GetStatement", TOKEN, &reference).await.1
        }
    };
    let (xml, csv) = (fetch("51").await, fetch("52").await);
    let from_xml: Vec<_> = xml_records(&xml)
        .into_iter()
        .filter(|(name, _)| name != "FlexQueryResponse" && name != "FlexStatements")
        .collect();
    let from_csv: Vec<_> = csv_records(&csv)
        .into_iter()
        .filter(|(name, _)| name != "FlexQueryResponse" && name != "FlexStatements")
        .collect();
    assert!(from_xml.iter().any(|(name, _)| name == "Trade"), "{xml}");
    let strip = |records: Vec<(String, std::collections::BTreeMap<String, String>)>| -> Vec<_> {
        records
            .into_iter()
            .map(|(name, mut attributes)| {
                attributes.remove("whenGenerated");
                attributes.retain(|_, value| !value.is_empty());
                (name, attributes)
            })
            .collect()
    };
    assert_eq!(strip(from_csv), strip(from_xml), "{csv}");
}

/// Compares `text` with the golden file `name`; `UPDATE_GOLDEN=1 cargo test -p server`
/// rewrites it.
fn golden(name: &str, text: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == text,
        "tests/golden/{name} is stale: run UPDATE_GOLDEN=1 cargo test -p server\n{text}"
    );
}

/// The envelopes are byte for byte what ibflex and ibkr-flex-client were checked against.
#[tokio::test]
async fn the_envelopes_match_their_golden_files() {
    let app = quiet_market().await;
    let (_, success) = flex(&app, "SendRequest", TOKEN, QUERY).await;
    golden("flex-send-request.xml", &success.replace(app.url.trim_start_matches("http://"), "HOST"));
    golden("flex-token-invalid.xml", &flex(&app, "SendRequest", "999", QUERY).await.1);
    let reference = element(&success, "ReferenceCode").unwrap().to_owned();
    golden(
        "flex-reference-invalid.xml",
        &flex(&app, "GetStatement", TOKEN, &format!("{reference}0")).await.1,
    );
}

#[tokio::test]
async fn splits_are_corporate_actions_and_dividends_cash_transactions() {
    let app = quiet_market().await;
    let order = json!({"orders": [{"conid": 265598, "orderType": "MKT", "side": "BUY", "quantity": 10, "tif": "DAY"}]});
    app.post_json("/v1/api/iserver/account/DU1234567/orders", order).await;
    app.post_json("/_localbroker/clock", json!({"advance": "1m"})).await;
    let split = app
        .post_json(
            "/_localbroker/corporate-actions",
            json!({"kind": "split", "conid": 265598, "to": 3, "from": 1}),
        )
        .await;
    assert_eq!(split.status, StatusCode::OK, "{}", split.text);
    let dividend = json!({"kind": "dividend", "conid": 265598, "amount": 0.25, "exDate": "2026-03-04", "payDate": "2026-03-05"});
    assert_eq!(app.post_json("/_localbroker/corporate-actions", dividend).await.status, StatusCode::OK);
    app.post_json("/_localbroker/clock", json!({"advance": "2d"})).await;
    let (_, envelope) = flex(&app, "SendRequest", TOKEN, QUERY).await;
    let reference = element(&envelope, "ReferenceCode").unwrap_or_else(|| panic!("{envelope}")).to_owned();
    let (_, statement) = flex(&app, "GetStatement", TOKEN, &reference).await;
    let action = statement
        .lines()
        .find(|line| line.contains("<CorporateAction "))
        .unwrap_or_else(|| panic!("{statement}"));
    assert!(
        action.contains("type=\"FS\"") && action.contains("quantity=\"20\""),
        "ten shares became thirty: {action}"
    );
    let paid = statement
        .lines()
        .find(|line| line.contains("<CashTransaction ") && line.contains("type=\"Dividends\""))
        .unwrap_or_else(|| panic!("{statement}"));
    assert!(paid.contains("amount=\"7.5\""), "0.25 on thirty shares: {paid}");
}

#[tokio::test]
async fn a_statement_is_written_once_and_fetched_as_written() {
    let app = quiet_market().await;
    let buy = json!({"orders": [{"conid": 265598, "orderType": "MKT", "side": "BUY", "quantity": 5, "tif": "DAY"}]});
    app.post_json("/v1/api/iserver/account/DU1234567/orders", buy.clone()).await;
    let (_, envelope) = flex(&app, "SendRequest", TOKEN, QUERY).await;
    let reference = element(&envelope, "ReferenceCode").unwrap().to_owned();

    let url =
        format!("{}/AccountManagement/FlexWebService/GetStatement?v=3&t={TOKEN}&q={reference}", app.url);
    let first = reqwest::get(&url).await.unwrap();
    let length = first.headers()[reqwest::header::CONTENT_LENGTH].to_str().unwrap().parse::<usize>().unwrap();
    let first = first.text().await.unwrap();
    assert_eq!(first.len(), length, "the statement's length is announced");
    assert_eq!(first.matches("<Trade ").count(), 1, "{first}");

    app.post_json("/v1/api/iserver/account/DU1234567/orders", buy).await;
    app.post_json("/_localbroker/clock", json!({"advance": "1m"})).await;
    let (_, again) = flex(&app, "GetStatement", TOKEN, &reference).await;
    assert_eq!(again, first, "a statement is what it was when first written");

    let stranger = app.post_json("/_localbroker/flex/tokens", json!({"user": "demo2"})).await;
    let stranger = stranger.body["token"].as_str().unwrap().to_owned();
    let (_, refused) = flex(&app, "GetStatement", &stranger, &reference).await;
    assert_eq!(element(&refused, "ErrorCode"), Some("1017"), "{refused}");
    let (_, again) = flex(&app, "GetStatement", TOKEN, &reference).await;
    assert_eq!(again, first, "another user's token asking for it changes nothing");

    let (_, envelope) = flex(&app, "SendRequest", TOKEN, QUERY).await;
    let (_, later) = flex(&app, "GetStatement", TOKEN, element(&envelope, "ReferenceCode").unwrap()).await;
    assert_eq!(later.matches("<Trade ").count(), 2, "a new request sees the new trade: {later}");
}

#[tokio::test]
async fn a_statement_whose_file_is_gone_is_written_again() {
    let app = quiet_market().await;
    let (_, envelope) = flex(&app, "SendRequest", TOKEN, QUERY).await;
    let reference = element(&envelope, "ReferenceCode").unwrap().to_owned();
    let (_, first) = flex(&app, "GetStatement", TOKEN, &reference).await;
    assert!(first.contains("<FlexQueryResponse "), "{first}");
    let directory = app.dir.path().join("flex-statements");
    for file in std::fs::read_dir(&directory).unwrap() {
        std::fs::remove_file(file.unwrap().path()).unwrap();
    }

    let (_, gone) = flex(&app, "GetStatement", TOKEN, &reference).await;
    assert_eq!(element(&gone, "ErrorCode"), Some("1021"), "{gone}");
    let (_, again) = flex(&app, "GetStatement", TOKEN, &reference).await;
    assert_eq!(again, first, "the retry writes it again");
    assert_eq!(std::fs::read_dir(&directory).unwrap().count(), 1);
}

/// An attribute's value in one element's line.
fn attribute<'a>(line: &'a str, name: &str) -> &'a str {
    let start =
        line.find(&format!(" {name}=\"")).unwrap_or_else(|| panic!("{name} in {line}")) + name.len() + 3;
    &line[start..start + line[start..].find('"').unwrap()]
}

fn decimal(text: &str) -> rust_decimal::Decimal {
    text.parse().unwrap_or_else(|_| panic!("{text} is a number"))
}

#[tokio::test]
async fn mark_to_market_follows_the_shares_through_a_split() {
    let app = quiet_market().await;
    let order = json!({"orders": [{"conid": 265598, "orderType": "MKT", "side": "BUY", "quantity": 10, "tif": "DAY"}]});
    app.post_json("/v1/api/iserver/account/DU1234567/orders", order).await;
    app.post_json("/_localbroker/clock", json!({"advance": "1d"})).await;
    let split = json!({"kind": "split", "conid": 265598, "to": 3, "from": 1});
    assert_eq!(app.post_json("/_localbroker/corporate-actions", split).await.status, StatusCode::OK);
    app.post_json("/_localbroker/clock", json!({"advance": "1h"})).await;

    let (_, envelope) = flex(&app, "SendRequest", TOKEN, QUERY).await;
    let (_, statement) =
        flex(&app, "GetStatement", TOKEN, element(&envelope, "ReferenceCode").unwrap()).await;
    let line = |name: &str| {
        statement
            .lines()
            .find(|line| line.contains(&format!("<{name} ")))
            .unwrap_or_else(|| panic!("{statement}"))
    };
    let (trade, summary) = (line("Trade"), line("MTMPerformanceSummaryUnderlying"));
    assert_eq!(attribute(summary, "closeQuantity"), "30", "{summary}");
    // Over the period, the shares gained what they are worth now less what they cost.
    let gained = decimal(attribute(summary, "closeQuantity")) * decimal(attribute(summary, "closePrice"))
        - decimal(attribute(trade, "quantity")) * decimal(attribute(trade, "tradePrice"));
    assert_eq!(decimal(attribute(summary, "transactionMtm")), gained.round_dp(2), "{summary}");

    // The split's day: ten shares at the day's start, thirty at its end.
    let split_day = statement
        .lines()
        .find(|line| line.contains("<PriorPeriodPosition ") && line.contains("date=\"20260304\""))
        .unwrap_or_else(|| panic!("{statement}"));
    let opening_mark = decimal(attribute(line("PriorPeriodPosition"), "price"));
    let day_mtm = decimal("30") * decimal(attribute(split_day, "price")) - decimal("10") * opening_mark;
    assert_eq!(decimal(attribute(split_day, "priorMtmPnl")), day_mtm.round_dp(2), "{split_day}");
}
