//! The server's integration tests: a real server on a free port, driven over HTTP.

mod accounts;
mod broker;
mod clock;
mod contracts;
mod marketdata;
mod orders;
mod portfolio;
mod recovery;
mod routing;
mod session;

use std::path::PathBuf;

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
