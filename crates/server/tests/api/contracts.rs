use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::spawn_app;

#[tokio::test]
async fn stocks_have_one_instrument_with_one_us_contract_each() {
    let app = spawn_app().await;
    let reply = app.get("/v1/api/trsrv/stocks?symbols=AAPL,MSFT,NOSUCH").await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.body.as_object().unwrap();
    assert_eq!(body.len(), 2, "unknown symbols are left out: {body:?}");
    for (symbol, conid) in [("AAPL", 265_598), ("MSFT", 272_093)] {
        let instruments = body[symbol].as_array().unwrap();
        assert_eq!(instruments.len(), 1, "{symbol}");
        let contracts = instruments[0]["contracts"].as_array().unwrap();
        assert_eq!(contracts.len(), 1, "{symbol}");
        assert_eq!(contracts[0], json!({"conid": conid, "exchange": "NASDAQ", "isUS": true}));
        assert_eq!(instruments[0]["assetClass"], "STK");
    }
    assert_eq!(body["AAPL"][0]["name"], "APPLE INC");
    let missing = app.get("/v1/api/trsrv/stocks").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.error().contains("symbols"));
}

#[tokio::test]
async fn security_definitions_are_found_by_a_posted_list_of_conids_too() {
    let app = spawn_app().await;
    let asked = app.get("/v1/api/trsrv/secdef?conids=265598,756733").await;
    let posted = app.post_json("/v1/api/trsrv/secdef", json!({"conids": [265598, 756733]})).await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);
    assert_eq!(posted.body, asked.body);
    let as_text = app.post_json("/v1/api/trsrv/secdef", json!({"conids": ["265598", "756733"]})).await;
    assert_eq!(as_text.body, asked.body, "conids as strings, as clients also send them");
    let too_many: Vec<u32> = (1..=201).collect();
    let refused = app.post_json("/v1/api/trsrv/secdef", json!({"conids": too_many})).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let bad = app.post_json("/v1/api/trsrv/secdef", json!({"conids": ["AAPL"]})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.error().contains("AAPL"), "{}", bad.text);
    let none = app.post_json("/v1/api/trsrv/secdef", json!({})).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    assert!(none.error().contains("conids"), "{}", none.text);
}

#[tokio::test]
async fn security_definitions_are_found_by_conid() {
    let app = spawn_app().await;
    let reply = app.get("/v1/api/trsrv/secdef?conids=265598,756733,12087792,1").await;
    let secdef = reply.body["secdef"].as_array().unwrap();
    assert_eq!(secdef.len(), 3, "conid 1 is not listed");
    let aapl = &secdef[0];
    assert_eq!(aapl["conid"], 265_598);
    assert_eq!(aapl["ticker"], "AAPL");
    assert_eq!(aapl["type"], "COMMON");
    assert_eq!(aapl["isUS"], true);
    assert_eq!(aapl["strike"], "0");
    assert_eq!(aapl["incrementRules"], json!([{"lowerEdge": 0.0, "increment": 0.01}]));
    assert_eq!(secdef[1]["type"], "ETF");
    assert_eq!(secdef[1]["listingExchange"], "ARCA");
    assert_eq!(secdef[2]["assetClass"], "CASH");
    assert_eq!(secdef[2]["incrementRules"][0]["increment"], 0.00005);
    let too_many = (1..=201).map(|n| n.to_string()).collect::<Vec<_>>().join(",");
    assert_eq!(
        app.get(&format!("/v1/api/trsrv/secdef?conids={too_many}")).await.status,
        StatusCode::BAD_REQUEST
    );
    let bad = app.get("/v1/api/trsrv/secdef?conids=AAPL").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.error().contains("AAPL"));
}

#[tokio::test]
async fn search_by_get_or_post_returns_string_conids() {
    let app = spawn_app().await;
    let get = app.get("/v1/api/iserver/secdef/search?symbol=AAPL").await;
    assert_eq!(get.status, StatusCode::OK);
    let results = get.body.as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["conid"], "265598");
    assert_eq!(results[0]["companyHeader"], "APPLE INC - NASDAQ");
    assert_eq!(results[0]["sections"], json!([{"secType": "STK"}]));
    let post = app.post_json("/v1/api/iserver/secdef/search", json!({"symbol": "AAPL", "name": false})).await;
    assert_eq!(post.body, get.body);
    let by_name = app.get("/v1/api/iserver/secdef/search?symbol=alphabet&name=TRUE").await;
    let conids: Vec<&str> =
        by_name.body.as_array().unwrap().iter().map(|r| r["conid"].as_str().unwrap()).collect();
    assert_eq!(conids, ["208813720", "208813719"], "GOOG, then GOOGL");
    let pair = app.get("/v1/api/iserver/secdef/search?symbol=EUR.USD").await;
    assert_eq!(pair.body[0]["conid"], "12087792");
    assert_eq!(app.get("/v1/api/iserver/secdef/search?symbol=AAPL&secType=IND").await.body, json!([]));
    assert_eq!(app.get("/v1/api/iserver/secdef/search").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get("/v1/api/iserver/secdef/search?symbol=AAPL&name=maybe").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn contract_info_and_rules_describe_the_instrument() {
    let app = spawn_app().await;
    let info = app.get("/v1/api/iserver/contract/265598/info").await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.body["con_id"], 265_598);
    assert_eq!(info.body["company_name"], "APPLE INC");
    assert_eq!(info.body["trading_class"], "NMS");
    assert_eq!(info.body["instrument_type"], "STK");
    assert!(info.body["valid_exchanges"].as_str().unwrap().starts_with("SMART,"));
    let with_rules = app.get("/v1/api/iserver/contract/265598/info-and-rules?isBuy=True").await;
    assert_eq!(with_rules.body["con_id"], 265_598);
    let rules = &with_rules.body["rules"];
    assert_eq!(rules["canTradeAcctIds"], json!(["DU1234567"]));
    assert_eq!(rules["increment"], 0.01);
    assert_eq!(rules["incrementDigits"], 2);
    assert!(rules["orderTypes"].as_array().unwrap().contains(&json!("limit")));
    assert!(rules.get("stopprice").is_some(), "IBKR's lower-case key");
    let fx = app.get("/v1/api/iserver/contract/15016059/info").await;
    assert_eq!(fx.body["local_symbol"], "USD.JPY");
    assert_eq!(fx.body["currency"], "JPY");
    for bad in ["999999999", "abc", "0"] {
        let reply = app.get(&format!("/v1/api/iserver/contract/{bad}/info")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.body["statusCode"], 400);
    }
}

#[tokio::test]
async fn contract_rules_take_the_conid_as_number_or_string() {
    // A manual clock: the rules carry the price, which a running market moves between calls.
    let app = crate::quiet_market().await;
    let by_number =
        app.post_json("/v1/api/iserver/contract/rules", json!({"conid": 8314, "isBuy": true})).await;
    assert_eq!(by_number.status, StatusCode::OK);
    let by_string =
        app.post_json("/v1/api/iserver/contract/rules", json!({"conid": "8314", "exchange": "SMART"})).await;
    assert_eq!(by_string.body, by_number.body);
    assert_eq!(by_number.body["tifDefaults"]["SIZE"], "100.00");
    let fx = app.post_json("/v1/api/iserver/contract/rules", json!({"conid": 12087792})).await;
    assert_eq!(fx.body["cashCcy"], "USD");
    assert_eq!(fx.body["incrementDigits"], 5);
    for bad in [json!({"conid": 0}), json!({}), json!({"conid": "x"})] {
        assert_eq!(
            app.post_json("/v1/api/iserver/contract/rules", bad.clone()).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

fn day<'a>(schedule: &'a Value, date: &str) -> &'a Value {
    schedule["schedules"].as_array().unwrap().iter().find(|d| d["tradingScheduleDate"] == date).unwrap()
}

#[tokio::test]
async fn the_schedule_gives_the_week_and_its_exceptions() {
    let app = spawn_app().await;
    let reply = app.get("/v1/api/trsrv/secdef/schedule?assetClass=STK&symbol=AAPL").await;
    assert_eq!(reply.status, StatusCode::OK);
    let venue = &reply.body[0];
    assert_eq!(venue["exchange"], "NASDAQ");
    assert_eq!(venue["timezone"], "America/New_York");
    let monday = day(venue, "20000103");
    assert_eq!(monday["sessions"], json!([{"openingTime": "0930", "closingTime": "1600", "prop": "LIQUID"}]));
    assert_eq!(
        monday["tradingtimes"],
        json!([{"openingTime": "0400", "closingTime": "2000", "prop": "LIQUID", "cancelDayOrders": "Y"}])
    );
    assert_eq!(day(venue, "20000101")["sessions"], json!([]), "Saturday");
    let dated: Vec<&Value> = venue["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| !d["tradingScheduleDate"].as_str().unwrap().starts_with("2000"))
        .collect();
    assert!(!dated.is_empty(), "a year ahead always holds NYSE holidays");
    let fx = app.get("/v1/api/trsrv/secdef/schedule?assetClass=CASH&symbol=EUR.USD").await;
    assert_eq!(fx.body[0]["exchange"], "IDEALPRO");
    assert_eq!(day(&fx.body[0], "20000102")["sessions"][0]["openingTime"], "1700", "Sunday evening");
    assert_eq!(
        app.get("/v1/api/trsrv/secdef/schedule?assetClass=STK&symbol=AAPL&exchange=SMART").await.body,
        json!([])
    );
    let island =
        app.get("/v1/api/trsrv/secdef/schedule?assetClass=STK&symbol=AAPL&exchangeFilter=ISLAND,NYSE").await;
    assert_eq!(island.body.as_array().unwrap().len(), 1);
    assert_eq!(app.get("/v1/api/trsrv/secdef/schedule?symbol=AAPL").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get("/v1/api/trsrv/secdef/schedule?assetClass=STK&symbol=NOSUCH").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn currency_pairs_include_the_currency_on_either_side() {
    let app = spawn_app().await;
    let reply = app.get("/v1/api/iserver/currency/pairs?currency=usd").await;
    let pairs = reply.body["USD"].as_array().unwrap();
    assert!(pairs.contains(&json!({"symbol": "EUR.USD", "conid": 12_087_792, "ccyPair": "EUR"})));
    assert!(pairs.contains(&json!({"symbol": "USD.JPY", "conid": 15_016_059, "ccyPair": "JPY"})));
    assert!(pairs.iter().all(|p| p["symbol"].as_str().unwrap().contains("USD")));
    assert_eq!(app.get("/v1/api/iserver/currency/pairs").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn coins_are_found_described_and_scheduled() {
    let app = spawn_app().await;
    let found = app.get("/v1/api/iserver/secdef/search?symbol=BTC&secType=CRYPTO").await;
    assert_eq!(found.body[0]["conid"], "479624278", "{}", found.text);
    assert_eq!(found.body[0]["symbol"], "BTC");
    assert_eq!(found.body[0]["sections"], json!([{"secType": "CRYPTO", "exchange": "PAXOS;"}]));
    let secdef = app.get("/v1/api/trsrv/secdef?conids=479624278").await;
    let btc = &secdef.body["secdef"][0];
    assert_eq!((&btc["assetClass"], &btc["listingExchange"]), (&json!("CRYPTO"), &json!("PAXOS")), "{btc}");
    assert_eq!(btc["incrementRules"], json!([{"lowerEdge": 0.0, "increment": 0.25}]));
    let rules = app.post_json("/v1/api/iserver/contract/rules", json!({"conid": 495759171})).await.body;
    assert_eq!(rules["sizeIncrement"], 1e-8, "fractions of a coin: {rules}");
    assert_eq!(rules["increment"], 0.05);
    assert_eq!(rules["tifDefaults"]["TIF"], "GTC", "a market without days: {rules}");
    let schedule = app.get("/v1/api/trsrv/secdef/schedule?assetClass=CRYPTO&symbol=BTC").await;
    let venue = &schedule.body[0];
    assert_eq!(
        (&venue["exchange"], &venue["timezone"]),
        (&json!("PAXOS"), &json!("UTC")),
        "{}",
        schedule.text
    );
    for date in ["20000101", "20000102", "20000105"] {
        assert_eq!(
            day(venue, date)["sessions"],
            json!([{"openingTime": "0000", "closingTime": "2400", "prop": "LIQUID"}]),
            "{date}"
        );
    }
}

#[tokio::test]
async fn is_buy_is_a_boolean_or_refused() {
    let app = crate::quiet_market().await;
    for query in ["", "?isBuy=true", "?isBuy=False"] {
        let answered = app.get(&format!("/v1/api/iserver/contract/265598/info-and-rules{query}")).await;
        assert_eq!(answered.status, StatusCode::OK, "{query}: {}", answered.text);
    }
    let refused = app.get("/v1/api/iserver/contract/265598/info-and-rules?isBuy=maybe").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    let body =
        app.post_json("/v1/api/iserver/contract/rules", json!({"conid": 8314, "isBuy": "maybe"})).await;
    assert_eq!(body.status, StatusCode::BAD_REQUEST, "{}", body.text);
}
