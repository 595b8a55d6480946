//! The server's integration tests: a real server on a free port, driven over HTTP.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account_management;
mod accounts;
mod broker;
mod clock;
mod conformance;
mod connections;
mod contracts;
mod entitlements;
mod flex;
mod gateway;
mod marketdata;
mod oauth;
mod orders;
mod portfolio;
mod recovery;
mod routing;
mod security;
mod session;
mod websocket;

use std::path::PathBuf;

use engine::clock::{ClockMode, ClockSpec};
use serde_json::json;
use testkit::{AppOptions, TestApp, spawn_app_with};

/// A server on a manual clock on Tuesday 2026-03-03 at 11:00 New York, without IBKR's
/// first-call quirks, with every order question suppressed.
pub async fn quiet_market() -> TestApp {
    let clock = ClockSpec { mode: ClockMode::Manual, start: Some("2026-03-03T16:00:00Z".parse().unwrap()) };
    let app = spawn_app_with(AppOptions { clock, no_preflight: true, ..AppOptions::default() }).await;
    let all = ["o163", "o354", "o383", "o451", "o403", "o10151", "o10331", "o10223"];
    app.post_json("/v1/api/iserver/questions/suppress", json!({ "messageIds": all })).await;
    app
}

/// A world where `alice` has two accounts and `bob` one, for switching and entitlement tests.
pub fn two_account_world(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("world.toml");
    std::fs::write(
        &path,
        r#"
[[users]]
username = "alice"
password = "wonderland"
accounts = ["DU1000001", "DU1000002"]

[[users]]
username = "bob"
password = "builder"
accounts = ["U2000001"]

[[accounts]]
id = "DU1000001"
title = "Alice Margin"
type = "individual"
margin = "margin"
base_currency = "USD"
cash = { USD = "50000" }

[[accounts]]
id = "DU1000002"
title = "Alice Joint"
type = "joint"
margin = "cash"
base_currency = "EUR"
cash = { EUR = "20000", USD = "100" }

[[accounts]]
id = "U2000001"
title = "Bob Live"
type = "organization"
margin = "margin"
base_currency = "USD"
cash = { USD = "1" }
"#,
    )
    .expect("the world file is written");
    path
}
