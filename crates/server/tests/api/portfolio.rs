//! The portfolio endpoints agree with each other and with what the account did.

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::quiet_market;

const ACCOUNT: &str = "DU1234567";
const AAPL: u64 = 265_598;
const EUR_USD: u64 = 12_087_792;
const SAP: u64 = 14_204;

async fn trade(app: &TestApp, conid: u64, side: &str, quantity: u32) {
    let ticket =
        json!({"conid": conid, "side": side, "quantity": quantity, "orderType": "MKT", "tif": "DAY"});
    let placed = app
        .post_json(&format!("/v1/api/iserver/account/{ACCOUNT}/orders"), json!({"orders": [ticket]}))
        .await;
    assert_eq!(placed.body[0]["order_status"], "Filled", "{}", placed.text);
}

/// The executions so far, oldest first: (side, size, price, commission).
async fn executions(app: &TestApp) -> Vec<(String, f64, f64, f64)> {
    let trades = app.get("/v1/api/iserver/account/trades?days=7").await.body;
    let mut rows: Vec<(String, f64, f64, f64, String)> = trades
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let number =
                |key: &str| t[key].as_str().map_or_else(|| t[key].as_f64().unwrap(), |s| s.parse().unwrap());
            (
                t["side"].as_str().unwrap().to_owned(),
                number("size"),
                number("price"),
                number("commission"),
                t["execution_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.4.cmp(&b.4));
    rows.into_iter().map(|(side, size, price, commission, _)| (side, size, price, commission)).collect()
}

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() < 0.005, "{what}: {a} and {b} differ");
}

async fn advance(app: &TestApp, by: &str) {
    let moved = app.post_json("/_localbroker/clock", json!({ "advance": by })).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
}

#[tokio::test]
async fn every_endpoint_reports_the_same_account_at_one_instant() {
    let app = quiet_market().await;
    app.get("/v1/api/portfolio/accounts").await;
    let deposit = app
        .post_json(
            &format!("/_localbroker/accounts/{ACCOUNT}/deposits"),
            json!({"currency": "USD", "amount": 50000}),
        )
        .await;
    assert_eq!(deposit.body["cash"], "1050000.00", "{}", deposit.text);
    trade(&app, AAPL, "BUY", 100).await;
    trade(&app, SAP, "BUY", 10).await;
    trade(&app, EUR_USD, "BUY", 20000).await;
    advance(&app, "30m").await;
    let moved = app.post_json(&format!("/_localbroker/market/{AAPL}"), json!({"price": 300})).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    trade(&app, AAPL, "SELL", 50).await;
    let dividend = json!({"kind": "dividend", "conid": AAPL, "amount": 0.26, "exDate": "2026-03-04", "payDate": "2026-03-05"});
    let announced = app.post_json("/_localbroker/corporate-actions", dividend).await;
    assert_eq!(announced.status, StatusCode::OK, "{}", announced.text);
    let cash_before =
        app.get(&format!("/v1/api/portfolio/{ACCOUNT}/ledger")).await.body["USD"]["cashbalance"]
            .as_f64()
            .unwrap();
    advance(&app, "2d").await;
    let cash_after = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/ledger")).await.body["USD"]["cashbalance"]
        .as_f64()
        .unwrap();
    close(cash_after - cash_before, 50.0 * 0.26, "the dividend on 50 shares, paid");

    let summary = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/summary")).await.body;
    let ledger = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/ledger")).await.body;
    let positions = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/positions/0")).await.body;
    let pnl = app.get("/v1/api/iserver/account/pnl/partitioned").await.body;
    let brokerage = app.get(&format!("/v1/api/iserver/account/{ACCOUNT}/summary")).await.body;

    let net = summary["netliquidation"]["amount"].as_f64().unwrap();
    close(net, ledger["BASE"]["netliquidationvalue"].as_f64().unwrap(), "ledger BASE");
    // Positions report their value in their own currency; the ledger's rates bring it to BASE.
    let rate_of = |p: &Value| ledger[p["currency"].as_str().unwrap()]["exchangerate"].as_f64().unwrap();
    let market_value: f64 =
        positions.as_array().unwrap().iter().map(|p| p["mktValue"].as_f64().unwrap() * rate_of(p)).sum();
    // Net liquidation also counts the interest accrued on the cash over the two nights.
    let interest = ledger["BASE"]["interest"].as_f64().unwrap();
    let (usd, eur, rate) = (
        ledger["USD"]["cashbalance"].as_f64().unwrap(),
        ledger["EUR"]["cashbalance"].as_f64().unwrap(),
        ledger["EUR"]["exchangerate"].as_f64().unwrap(),
    );
    let nightly =
        ((usd - 10_000.0) * (0.0388 - 0.005) + (eur - 10_000.0 / rate) * (0.0193 - 0.005) * rate) / 360.0;
    assert!(
        (interest - 2.0 * nightly).abs() < 0.05,
        "two nights of credit interest: {interest} vs {}",
        2.0 * nightly
    );
    close(summary["accruedcash"]["amount"].as_f64().unwrap(), interest, "summary accrued interest");
    close(
        net,
        market_value + ledger["BASE"]["cashbalance"].as_f64().unwrap() + interest,
        "positions, cash and interest",
    );
    let core = &pnl["upnl"][format!("{ACCOUNT}.Core")];
    close(net, core["nl"].as_f64().unwrap(), "pnl nl");
    close(market_value, core["mv"].as_f64().unwrap(), "pnl mv");
    assert_eq!(brokerage["netLiquidationValue"].as_f64().unwrap(), net.round(), "{brokerage}");

    // The SAP purchase and the euros bought show in the EUR row, converted into BASE at its
    // exchange rate.
    let eur = &ledger["EUR"];
    let sap = positions.as_array().unwrap().iter().find(|p| p["conid"] == SAP).unwrap();
    assert_eq!((sap["currency"].as_str(), sap["position"].as_i64()), (Some("EUR"), Some(10)), "{sap}");
    let paid = 10.0 * sap["avgCost"].as_f64().unwrap();
    close(
        eur["cashbalance"].as_f64().unwrap(),
        20000.0 - paid,
        "euros bought less the shares and their commission",
    );
    close(eur["stockmarketvalue"].as_f64().unwrap(), sap["mktValue"].as_f64().unwrap(), "EUR stock value");
    assert!((1.0..1.3).contains(&rate), "EUR.USD near its reference: {rate}");
    close(
        usd + eur["cashbalance"].as_f64().unwrap() * rate,
        ledger["BASE"]["cashbalance"].as_f64().unwrap(),
        "BASE cash",
    );
    let usd_shares: f64 = positions
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["currency"] == "USD")
        .map(|p| p["mktValue"].as_f64().unwrap())
        .sum();
    close(
        ledger["BASE"]["stockmarketvalue"].as_f64().unwrap(),
        usd_shares + sap["mktValue"].as_f64().unwrap() * rate,
        "BASE stock value",
    );

    // P&L by hand: 100 bought, 50 sold; the rest marked at the market.
    let fills = executions(&app).await;
    let aapl: Vec<&(String, f64, f64, f64)> =
        fills.iter().filter(|f| f.1 != 20000.0 && f.1 != 10.0).collect();
    let (bought, sold) = (aapl[0], aapl[1]);
    let average_cost = (100.0 * bought.2 + bought.3) / 100.0;
    let realized = 50.0 * (sold.2 - average_cost) - sold.3;
    let row = positions.as_array().unwrap().iter().find(|p| p["conid"] == AAPL).unwrap();
    assert_eq!(row["position"], 50, "{row}");
    close(row["avgCost"].as_f64().unwrap(), average_cost, "average cost");
    close(row["realizedPnl"].as_f64().unwrap(), realized, "realized");
    let unrealized = 50.0 * (row["mktPrice"].as_f64().unwrap() - average_cost);
    close(row["unrealizedPnl"].as_f64().unwrap(), unrealized, "unrealized");
    let sap_unrealized = sap["unrealizedPnl"].as_f64().unwrap() * rate;
    close(core["upl"].as_f64().unwrap(), unrealized + sap_unrealized, "pnl upl: both holdings, in USD");
    close(ledger["USD"]["realizedpnl"].as_f64().unwrap(), realized, "ledger realized");
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn positions_page_sort_and_look_up_by_conid() {
    let app = quiet_market().await;
    trade(&app, AAPL, "BUY", 10).await;
    trade(&app, 272_093, "BUY", 30).await;
    let by_size =
        app.get(&format!("/v1/api/portfolio/{ACCOUNT}/positions/0?sort=position&direction=d")).await.body;
    let sizes: Vec<i64> =
        by_size.as_array().unwrap().iter().map(|p| p["position"].as_i64().unwrap()).collect();
    assert_eq!(sizes, [30, 10]);
    assert_eq!(app.get(&format!("/v1/api/portfolio/{ACCOUNT}/positions/1")).await.body, json!([]));
    let bad = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/positions/0?direction=up")).await;
    assert_eq!(bad.error(), "Bad Request: direction must be a or d, not \"up\"");
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);

    let one = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/position/{AAPL}")).await;
    assert_eq!(one.text.matches("\"baseMktValue\"").count(), 1, "each field once: {}", one.text);
    let one = one.body;
    assert_eq!(one[0]["position"], 10, "{one}");
    assert_eq!(one[0]["baseMktValue"], one[0]["mktValue"], "a USD account");
    let everywhere = app.get(&format!("/v1/api/portfolio/positions/{AAPL}")).await.body;
    assert_eq!(everywhere[ACCOUNT][0]["conid"], AAPL, "{everywhere}");
    let live = app.get(&format!("/v1/api/portfolio2/{ACCOUNT}/positions")).await.body;
    assert!(live.as_array().unwrap().iter().any(|p| p["conid"] == "265598"), "{live}");
    let invalidated = app.post(&format!("/v1/api/portfolio/{ACCOUNT}/positions/invalidate")).await;
    assert_eq!(invalidated.body, json!({"message": "success"}));
    let foreign = app.get("/v1/api/portfolio/DU7654321/positions/0").await;
    assert_eq!(foreign.status, StatusCode::UNAUTHORIZED, "not demo's account: {}", foreign.text);
}

#[tokio::test]
async fn positions_without_a_page_are_the_first_page() {
    let app = quiet_market().await;
    trade(&app, AAPL, "BUY", 10).await;
    trade(&app, 272_093, "BUY", 30).await;
    let first = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/positions/0?sort=position&direction=d")).await;
    let unpaged = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/positions?sort=position&direction=d")).await;
    assert_eq!(unpaged.status, StatusCode::OK, "{}", unpaged.text);
    assert_eq!(unpaged.body, first.body);
    assert_eq!(unpaged.body.as_array().unwrap().len(), 2);
    let other = app.get("/v1/api/portfolio/DU7654321/positions").await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED, "another user's account, as with a page");
}

#[tokio::test]
async fn summary_values_carry_their_amount_or_their_text() {
    let app = quiet_market().await;
    trade(&app, AAPL, "BUY", 100).await;
    let summary = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/summary")).await.body;
    let entry = &summary["netliquidation"];
    assert_eq!(
        (entry["currency"].as_str(), entry["isNull"].as_bool(), entry["severity"].as_u64()),
        (Some("USD"), Some(false), Some(0))
    );
    assert_eq!(summary["accountcode"]["value"], ACCOUNT);
    assert_eq!(summary["accountcode"]["currency"], Value::Null);
    assert_eq!(summary["daytradesremaining"]["value"], "-1", "over 25,000 of equity");
    let gross = summary["grosspositionvalue"]["amount"].as_f64().unwrap();
    close(summary["initmarginreq"]["amount"].as_f64().unwrap(), gross * 0.5, "Reg T initial");
    close(summary["maintmarginreq"]["amount"].as_f64().unwrap(), gross * 0.25, "Reg T maintenance, long");
    let net = summary["netliquidation"]["amount"].as_f64().unwrap();
    close(summary["availablefunds"]["amount"].as_f64().unwrap(), net - gross * 0.5, "available funds");
    close(summary["buyingpower"]["amount"].as_f64().unwrap(), 4.0 * (net - gross * 0.5), "buying power");
    assert_eq!(summary["netliquidation-s"]["amount"], summary["netliquidation"]["amount"], "no coins");
    assert_eq!(summary["netliquidation-c"]["amount"], 0.0);
}

#[tokio::test]
async fn what_can_be_traded_and_withdrawn_shows_beside_the_funds() {
    let app = quiet_market().await;
    trade(&app, AAPL, "BUY", 100).await;
    let summary = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/summary")).await.body;
    let amount = |key: &str| summary[key]["amount"].as_f64().unwrap_or_else(|| panic!("{key} in {summary}"));
    assert_eq!(amount("availabletotrade"), amount("availablefunds"));
    assert_eq!(amount("availabletotrade-s"), amount("availablefunds-s"));
    assert_eq!(amount("availabletotrade-c"), 0.0);
    let withdrawable = amount("availabletowithdraw");
    assert!(withdrawable > 0.0 && withdrawable <= amount("availablefunds"), "{withdrawable}");
    let status = summary["daytradingstatus-s"]["value"].as_str().unwrap();
    assert_eq!(status, format!(": : false: {:.2}: :false", amount("netliquidation")));

    let funds = app.get(&format!("/v1/api/iserver/account/{ACCOUNT}/summary/available_funds")).await.body;
    let total = &funds["total"];
    assert_eq!(total["day_trades_left"], "Unlimited", "over 25,000 of equity");
    assert_eq!(total["Lk Ahd Nxt Chng"], "@ 16:00:00", "the close of Tuesday's session");
    assert_eq!(total["Prdctd Pst-xpry Excss"], "0 USD", "nothing expires");
    let gross = amount("grosspositionvalue");
    assert_eq!(total["leverage"], format!("{:.2}", gross / amount("netliquidation")));
    let balances = app.get(&format!("/v1/api/iserver/account/{ACCOUNT}/summary/balances")).await.body;
    assert_eq!(balances["total"]["Nt Lqdtn Uncrtnty"], "0 USD");
    let margins = app.get(&format!("/v1/api/iserver/account/{ACCOUNT}/summary/margins")).await.body;
    assert_eq!(margins["securities"]["Prdctd Pst-xpry Mrgn @ Opn"], "0 USD");

    let positions = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/positions/0")).await.body;
    let row = &positions[0];
    assert_eq!(row["baseMktValue"], row["mktValue"], "a dollar position of a dollar account");
    assert_eq!(row["displayRule"]["displayRuleStep"][0]["decimalDigits"], 2);
    assert_eq!(row["chineseName"], "");
    let accounts = app.get("/v1/api/portfolio/accounts").await.body;
    assert_eq!(accounts[0]["businessType"], "IB_SALES", "one of the two values IBKR's schema allows");
}

#[tokio::test]
async fn a_withdrawal_beyond_settled_cash_is_refused() {
    let app = quiet_market().await;
    let path = format!("/_localbroker/accounts/{ACCOUNT}/withdrawals");
    let too_much = app.post_json(&path, json!({"currency": "USD", "amount": 1_000_001})).await;
    assert_eq!(too_much.status, StatusCode::BAD_REQUEST, "{}", too_much.text);
    let digest = app.digest().await;
    let negative = app.post_json(&path, json!({"currency": "USD", "amount": -5})).await;
    assert_eq!(negative.status, StatusCode::BAD_REQUEST, "{}", negative.text);
    assert_eq!(app.digest().await, digest, "a refused transfer changes nothing");
    let taken = app.post_json(&path, json!({"currency": "USD", "amount": 1000})).await;
    assert_eq!(taken.body["cash"], "999000.00", "{}", taken.text);
}

#[tokio::test]
async fn a_split_shows_in_positions_at_once() {
    let app = quiet_market().await;
    trade(&app, AAPL, "BUY", 10).await;
    let before = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/position/{AAPL}")).await.body[0].clone();
    let split = app
        .post_json(
            "/_localbroker/corporate-actions",
            json!({"kind": "split", "conid": AAPL, "to": 3, "from": 1}),
        )
        .await;
    assert_eq!(split.body, json!({"kind": "split", "conid": AAPL}), "{}", split.text);
    let after = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/position/{AAPL}")).await.body[0].clone();
    assert_eq!(after["position"], 30);
    close(
        after["avgCost"].as_f64().unwrap() * 3.0,
        before["avgCost"].as_f64().unwrap(),
        "a third of the cost per share",
    );
    let refused = app
        .post_json(
            "/_localbroker/corporate-actions",
            json!({"kind": "split", "conid": EUR_USD, "to": 2, "from": 1}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn performance_counts_price_moves_as_returns_and_deposits_as_money_paid_in() {
    let app = quiet_market().await;
    trade(&app, AAPL, "BUY", 1000).await;
    advance(&app, "1d").await;
    app.post_json(
        &format!("/_localbroker/accounts/{ACCOUNT}/deposits"),
        json!({"currency": "USD", "amount": 100000}),
    )
    .await;
    advance(&app, "1d").await;
    let performance =
        app.post_json("/v1/api/pa/performance", json!({"acctIds": [ACCOUNT], "period": "1M"})).await.body;
    let navs = performance["nav"]["data"][0]["navs"].as_array().unwrap().clone();
    assert_eq!(performance["nav"]["dates"], json!(["20260303", "20260304", "20260305"]), "{performance}");
    assert_eq!(performance["nav"]["data"][0]["startNAV"]["val"], 0.0, "the account opened in the period");
    let net = app.get(&format!("/v1/api/portfolio/{ACCOUNT}/summary")).await.body["netliquidation"]["amount"]
        .as_f64()
        .unwrap();
    close(navs[2].as_f64().unwrap(), net, "today's value is now's");
    // Time-weighted: the deposit of the second day is no gain.
    let nav = |i: usize| navs[i].as_f64().unwrap();
    let cumulative = performance["cps"]["data"][0]["returns"].as_array().unwrap();
    let expected = (nav(0) / 1_000_000.0) * (nav(1) / (nav(0) + 100_000.0)) * (nav(2) / nav(1)) - 1.0;
    assert!((cumulative[2].as_f64().unwrap() - expected).abs() < 1e-7, "{cumulative:?} vs {expected}");
    assert_eq!(performance["tpps"]["dates"], json!(["202603"]));
    assert_eq!(performance["nd"], 3, "from March 3, when the account opened, to March 5");
    let bad = app.post_json("/v1/api/pa/performance", json!({"acctIds": [ACCOUNT], "period": "2W"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);

    let all = app.post_json("/v1/api/pa/allperiods", json!({"acctIds": [ACCOUNT]})).await.body;
    assert_eq!(all[ACCOUNT]["1D"]["dates"], json!(["20260305"]), "{all}");
    assert_eq!(all[ACCOUNT]["1D"]["nav"][0], navs[2]);
    assert_eq!(all[ACCOUNT]["periods"], json!(["1D", "7D", "MTD", "1M", "YTD", "1Y"]));
}

#[tokio::test]
async fn transactions_list_the_trades_and_what_they_realized() {
    let app = quiet_market().await;
    trade(&app, AAPL, "BUY", 20).await;
    advance(&app, "1h").await;
    trade(&app, AAPL, "SELL", 5).await;
    let body = json!({"acctIds": [ACCOUNT], "conids": [AAPL.to_string()], "currency": "USD", "days": "7"});
    let listed = app.post_json("/v1/api/pa/transactions", body).await.body;
    let trades = listed["transactions"].as_array().unwrap();
    assert_eq!(trades.len(), 2, "{listed}");
    assert_eq!((trades[0]["type"].as_str(), trades[0]["qty"].as_f64()), (Some("Buy"), Some(20.0)));
    assert_eq!((trades[1]["type"].as_str(), trades[1]["qty"].as_f64()), (Some("Sell"), Some(-5.0)));
    // Whole numbers are JSON integers, as in IBKR's example (`"qty": -5`, `"fxRate": 1`).
    assert_eq!((trades[1]["qty"].as_i64(), trades[1]["fxRate"].as_i64()), (Some(-5), Some(1)), "{listed}");
    assert_eq!(listed["rpnl"]["data"][0]["fxRate"].as_i64(), Some(1), "{listed}");
    close(trades[0]["amt"].as_f64().unwrap(), -20.0 * trades[0]["pr"].as_f64().unwrap(), "a purchase spends");
    let realized =
        app.get(&format!("/v1/api/portfolio/{ACCOUNT}/position/{AAPL}")).await.body[0]["realizedPnl"]
            .as_f64()
            .unwrap();
    close(listed["rpnl"]["amt"].as_str().unwrap().parse().unwrap(), realized, "realized P&L");
    assert_eq!(listed["rpnl"]["data"].as_array().unwrap().len(), 1);
    let none = app.post_json("/v1/api/pa/transactions", json!({"acctIds": [ACCOUNT], "conids": []})).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST, "{}", none.text);
}

#[tokio::test]
async fn large_structures_page_their_accounts_and_combos_are_empty() {
    let app = quiet_market().await;
    let page = app.get("/v1/api/portfolio/subaccounts2?page=0").await.body;
    assert_eq!(page["metadata"], json!({"pageNum": 0, "pageSize": 20, "total": 1}), "{page}");
    assert_eq!(page["subaccounts"][0]["accountId"], ACCOUNT);
    assert_eq!(app.get("/v1/api/portfolio/subaccounts2?page=1").await.body["subaccounts"], json!([]));
    assert_eq!(app.get("/v1/api/portfolio/subaccounts2?page=x").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get(&format!("/v1/api/portfolio/{ACCOUNT}/combo/positions")).await.body, json!([]));
    assert_eq!(app.get("/v1/api/portfolio/DU7654321/combo/positions").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_control_plane_moves_money_in_cents() {
    let app = testkit::spawn_app().await;
    let path = "/_localbroker/accounts/DU1234567/deposits";
    let refused = app.post_json(path, serde_json::json!({"currency": "USD", "amount": 10.001})).await;
    assert_eq!(refused.status, reqwest::StatusCode::BAD_REQUEST, "{}", refused.text);
    let paid = app.post_json(path, serde_json::json!({"currency": "USD", "amount": 10.01})).await;
    assert_eq!(paid.status, reqwest::StatusCode::OK, "{}", paid.text);
    assert_eq!(paid.body["cash"], "1000010.01");
}
