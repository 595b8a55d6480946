//! The coverage report in the README and in docs/coverage.md is the one the code produces.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_localbroker");

fn coverage(args: &[&str]) -> String {
    let output = Command::new(BINARY).arg("coverage").args(args).output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

fn repo_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(name)).unwrap()
}

#[test]
fn the_readme_holds_the_current_coverage_table() {
    let readme = repo_file("README.md");
    let start = readme.find("<!-- coverage:start -->\n").expect("the README has coverage markers") + 24;
    let end = readme.find("<!-- coverage:end -->").unwrap();
    assert_eq!(&readme[start..end], coverage(&[]), "stale: run scripts/coverage");
}

#[test]
fn the_coverage_page_is_current() {
    assert_eq!(repo_file("docs/coverage.md"), coverage(&["--document"]), "stale: run scripts/coverage");
}

#[test]
fn the_summary_counts_every_operation() {
    let summary = coverage(&[]);
    let total = summary.lines().last().unwrap();
    assert!(total.starts_with("| **total: 195 operations** |"), "{total}");
    assert!(summary.contains("| auth-session | 8 | 5 | 0 |"), "{summary}");
}
