//! Object-valued query parameters. IBKR's spec declares some `/gw/api/v1` GETs with one query
//! parameter holding an object (`accountStatusRequest`, `requestDetails`), in OpenAPI's `form`
//! style without `explode`, and no known client shows how it sends one. LocalBroker reads every
//! encoding a client may choose:
//!
//! - exploded, each field its own parameter: `startDate=2026-03-01&endDate=2026-03-31`;
//! - OpenAPI's `form` without `explode`: `accountStatusRequest=startDate,2026-03-01,endDate,…`;
//! - `deepObject`: `accountStatusRequest[startDate]=2026-03-01&…`;
//! - JSON: `accountStatusRequest={"startDate":"2026-03-01",…}`.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::gateway::problem::Problem;

/// The object named `name` in the raw query string `query`, as `T`.
///
/// # Errors
/// 400 naming the parameter when it cannot be read, or the field `T` rejects.
pub fn read<T: DeserializeOwned>(query: Option<&str>, name: &str) -> Result<T, Problem> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|error| Problem::field(name, format!("the query string cannot be read: {error}")))?;
    let mut fields: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for (key, value) in pairs {
        if key == name {
            if let Ok(serde_json::Value::Object(object)) = serde_json::from_str(&value) {
                fields.extend(object);
                continue;
            }
            let parts: Vec<&str> = value.split(',').collect();
            if !parts.len().is_multiple_of(2) {
                return Err(Problem::field(
                    name,
                    "is comma-separated names and values, as OpenAPI's form style has it",
                ));
            }
            for pair in parts.chunks(2) {
                fields.insert(pair[0].to_owned(), typed(pair[1]));
            }
        } else if let Some(inner) =
            key.strip_prefix(&format!("{name}[")).and_then(|rest| rest.strip_suffix(']'))
        {
            fields.insert(inner.to_owned(), typed(&value));
        } else {
            fields.insert(key, typed(&value));
        }
    }
    serde_json::from_value(serde_json::Value::Object(fields.into_iter().collect()))
        .map_err(|error| Problem::field(name, error.to_string()))
}

/// A query value as JSON: numbers as numbers, anything else as text.
fn typed(value: &str) -> serde_json::Value {
    value.parse::<u64>().map_or_else(|_| serde_json::Value::String(value.to_owned()), serde_json::Value::from)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Range {
        start_date: String,
        end_date: String,
        limit: Option<u32>,
    }

    #[test]
    fn every_encoding_reads_alike() {
        let expected =
            Range { start_date: "2026-03-01".into(), end_date: "2026-03-31".into(), limit: Some(5) };
        for query in [
            "startDate=2026-03-01&endDate=2026-03-31&limit=5",
            "r=startDate,2026-03-01,endDate,2026-03-31,limit,5",
            "r%5BstartDate%5D=2026-03-01&r%5BendDate%5D=2026-03-31&r%5Blimit%5D=5",
            "r=%7B%22startDate%22%3A%222026-03-01%22%2C%22endDate%22%3A%222026-03-31%22%2C%22limit%22%3A5%7D",
        ] {
            assert_eq!(read::<Range>(Some(query), "r").unwrap(), expected, "{query}");
        }
    }

    #[test]
    fn a_missing_field_names_the_parameter() {
        let problem = read::<Range>(Some("startDate=2026-03-01"), "r").unwrap_err();
        assert_eq!(problem.invalid_arguments[0].field, "r");
        assert!(problem.invalid_arguments[0].message.contains("endDate"));
        assert!(read::<Range>(Some("r=startDate"), "r").is_err());
    }
}
