//! IBKR's request schemas for the Account Management operations that take a body
//! (`spec/account-management-requests.json`, extracted from IBKR's OpenAPI document by
//! `scripts/vendor-am-schemas`). Every such body is checked against its schema before it is
//! read, and each violation becomes an `invalidArguments` entry naming the field.

use std::collections::HashMap;
use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::Value;

use crate::gateway::problem::{InvalidArgument, Problem};

const DOCUMENT: &str = include_str!("../../spec/account-management-requests.json");

/// The most violations one answer lists.
const MAX_REPORTED: usize = 20;

static VALIDATORS: LazyLock<HashMap<String, Validator>> = LazyLock::new(|| {
    let document: Value =
        serde_json::from_str(DOCUMENT).unwrap_or_else(|e| unreachable!("the vendored schemas parse: {e}"));
    let definitions = document["definitions"].clone();
    let Value::Object(operations) = &document["operations"] else {
        unreachable!("the vendored schemas list operations")
    };
    operations
        .iter()
        .map(|(operation, schema)| {
            let root = serde_json::json!({ "allOf": [schema], "definitions": definitions });
            let validator = jsonschema::draft4::options()
                .should_validate_formats(false)
                .build(&root)
                .unwrap_or_else(|e| unreachable!("the vendored schema of {operation} compiles: {e}"));
            (operation.clone(), validator)
        })
        .collect()
});

/// Checks `body` against IBKR's schema of `operation` (`"POST /gw/api/v1/accounts"`).
///
/// # Errors
/// 400 listing the fields that violate it.
pub fn check(operation: &str, body: &Value) -> Result<(), Problem> {
    let Some(validator) = VALIDATORS.get(operation) else {
        unreachable!("no vendored schema for {operation}")
    };
    let arguments: Vec<InvalidArgument> = validator
        .iter_errors(body)
        .take(MAX_REPORTED)
        .map(|error| InvalidArgument {
            field: field(error.instance_path().as_str()),
            message: error.to_string(),
        })
        .collect();
    if arguments.is_empty() {
        return Ok(());
    }
    Err(Problem::invalid("the request does not follow IBKR's schema", arguments))
}

/// A JSON pointer (`/application/accounts/0/baseCurrency`) as a field path
/// (`application.accounts[0].baseCurrency`); the body itself is `body`.
fn field(pointer: &str) -> String {
    let mut path = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.parse::<usize>().is_ok() {
            path.push_str(&format!("[{segment}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&segment);
        }
    }
    if path.is_empty() { "body".into() } else { path }
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_vendored_schema_compiles() {
        assert_eq!(VALIDATORS.len(), 20);
    }

    #[test]
    fn violations_name_their_fields() {
        let body =
            json!({"application": {"customer": {"type": "NEIGHBOUR"}, "accounts": [{"baseCurrency": 5}]}});
        let problem = check("POST /gw/api/v1/accounts", &body).unwrap_err();
        let fields: Vec<&str> = problem.invalid_arguments.iter().map(|a| a.field.as_str()).collect();
        assert!(fields.contains(&"application.customer.type"), "{fields:?}");
        assert!(fields.contains(&"application.accounts[0].baseCurrency"), "{fields:?}");
    }

    #[test]
    fn a_missing_required_field_is_reported_on_its_parent() {
        let body = json!({"instructionType": "DEPOSIT", "instruction": {"accountId": "U1"}});
        let problem = check("POST /gw/api/v1/external-cash-transfers", &body).unwrap_err();
        assert!(!problem.invalid_arguments.is_empty());
        let body = json!({"instructionType": "DEPOSIT", "instruction": {
            "clientInstructionId": 1, "accountId": "U1", "currency": "USD", "amount": 10,
            "bankInstructionMethod": "WIRE"}});
        check("POST /gw/api/v1/external-cash-transfers", &body).unwrap();
    }

    /// IBKR's own example bodies, as `scripts/vendor-am-schemas` extracted them.
    pub(crate) fn ibkr_examples() -> Vec<(String, String, Value)> {
        serde_json::from_str(include_str!("../../spec/account-management-examples.json")).unwrap()
    }

    #[test]
    fn every_example_of_ibkr_follows_the_vendored_schemas() {
        let examples = ibkr_examples();
        assert!(examples.len() >= 30, "{}", examples.len());
        for (operation, name, body) in examples {
            check(&operation, &body).unwrap_or_else(|problem| panic!("{operation} {name}: {problem:?}"));
        }
    }

    #[test]
    fn pointers_become_field_paths() {
        assert_eq!(field(""), "body");
        assert_eq!(field("/a/0/b~1c"), "a[0].b/c");
    }
}
