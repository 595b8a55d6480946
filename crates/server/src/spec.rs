//! IBKR's operations, as its OpenAPI specs (2.28, 2.29) and the 2.39 operation list define them
//! (`spec/ibkr-operations.tsv`). Every one is routed: those LocalBroker implements reach their
//! handlers, the rest answer 501 through [`SpecRoutes`]. The coverage report compares this list
//! with our own generated OpenAPI document.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use axum::http::Method;

/// One IBKR operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// HTTP method.
    pub method: Method,
    /// Path as clients send it, `/v1/api/…` for the Trading API.
    pub path: &'static str,
    /// LocalBroker's grouping of the operation (`orders`, `am-banking`, …).
    pub area: &'static str,
    /// IBKR's reference tag.
    pub tag: &'static str,
    /// Why LocalBroker will not implement it, if it will not.
    pub reason: Option<&'static str>,
}

const TABLE: &str = include_str!("../spec/ibkr-operations.tsv");

/// IBKR's success-answer schemas and examples (`spec/ibkr-responses.json`, extracted from
/// IBKR's OpenAPI documents by `scripts/vendor-response-schemas`), which the conformance test
/// checks every implemented operation's answer against.
const RESPONSES: &str = include_str!("../spec/ibkr-responses.json");

/// The operations (`"GET /v1/api/portfolio/accounts"`) IBKR gives a JSON schema for their
/// success answer.
static WITH_SCHEMA: LazyLock<BTreeSet<String>> = LazyLock::new(|| {
    #[derive(serde::Deserialize)]
    struct Document {
        operations: serde_json::Map<String, serde_json::Value>,
    }
    serde_json::from_str::<Document>(RESPONSES)
        .map(|document| document.operations.into_iter().map(|(name, _)| name).collect())
        .unwrap_or_else(|e| unreachable!("the vendored response schemas parse: {e}"))
});

static OPERATIONS: LazyLock<Vec<Operation>> = LazyLock::new(|| {
    TABLE
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let method = fields.next()?.parse().ok()?;
            Some(Operation {
                method,
                path: fields.next()?,
                area: fields.next()?,
                tag: fields.next()?,
                reason: fields.next(),
            })
        })
        .collect()
});

/// Every IBKR operation.
pub fn operations() -> &'static [Operation] {
    &OPERATIONS
}

impl Operation {
    /// Whether IBKR's document gives a JSON schema for the operation's success answer: the
    /// conformance test validates the answer of every implemented one that has.
    pub fn has_response_schema(&self) -> bool {
        WITH_SCHEMA.contains(&format!("{} {}", self.method, self.path))
    }
}

/// A path with each `{parameter}` renamed by position, so that paths that differ only in
/// parameter names compare equal and share one route.
pub fn normalize(path: &str) -> String {
    let mut index = 0;
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                index += 1;
                format!("{{p{index}}}")
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The operations of an OpenAPI document (ours), as `(METHOD, normalised path)`.
pub fn implemented(api: &utoipa::openapi::OpenApi) -> BTreeSet<(String, String)> {
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

/// What IBKR's spec says about a request that no handler took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecMatch {
    /// An IBKR operation LocalBroker does not implement, and why, if it never will.
    Operation(Option<&'static str>),
    /// An IBKR path, but not with this method.
    OtherMethod,
    /// Not an IBKR path.
    Unknown,
}

/// What a request no handler took matches in the spec: an operation not built (and why, if
/// it never will be), or one that is, which a route of the same path with another method
/// shadows.
#[derive(Debug, Clone, Copy)]
enum Known {
    Unbuilt(Option<&'static str>),
    Shadowed,
}

/// IBKR's operations, indexed for matching requests.
#[derive(Debug)]
pub struct SpecRoutes {
    by_method: HashMap<Method, matchit::Router<Known>>,
}

impl SpecRoutes {
    /// Indexes every operation of [`operations`], knowing which of them LocalBroker
    /// implements (`(METHOD, normalised path)`, as [`implemented`] lists them).
    pub fn new(implemented: &BTreeSet<(String, String)>) -> Self {
        let mut by_method: HashMap<Method, matchit::Router<Known>> = HashMap::new();
        for operation in operations() {
            let path = normalize(operation.path);
            let known = if implemented.contains(&(operation.method.to_string(), path.clone())) {
                Known::Shadowed
            } else {
                Known::Unbuilt(operation.reason)
            };
            // Distinct operations cannot collide once normalised: the table has no duplicates.
            let _ = by_method.entry(operation.method.clone()).or_default().insert(path, known);
        }
        Self { by_method }
    }

    /// Classifies a request. `/v1/portal` is IBKR's alias of `/v1/api`. A request that
    /// matches an implemented operation only through a template (`GET /instructions/cancel`
    /// against `GET /instructions/{instructionId}`, where `POST /instructions/cancel` is a
    /// route of its own) is told the path does not take its method, never 501.
    pub fn classify(&self, method: &Method, path: &str) -> SpecMatch {
        let path = match path.strip_prefix("/v1/portal/") {
            Some(rest) => format!("/v1/api/{rest}"),
            None => path.to_owned(),
        };
        let known = |router: &matchit::Router<Known>| router.at(&path).is_ok();
        match self.by_method.get(method).and_then(|router| router.at(&path).ok()).map(|found| *found.value) {
            Some(Known::Unbuilt(reason)) => SpecMatch::Operation(reason),
            Some(Known::Shadowed) => SpecMatch::OtherMethod,
            None if self.by_method.values().any(known) => SpecMatch::OtherMethod,
            None => SpecMatch::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_indexed() {
        let routes = SpecRoutes::new(&BTreeSet::new());
        assert!(operations().len() >= 190);
        for operation in operations() {
            assert_eq!(
                routes.classify(&operation.method, operation.path),
                SpecMatch::Operation(operation.reason),
                "{operation:?}"
            );
        }
    }

    #[test]
    fn an_implemented_operation_reached_through_a_template_is_never_501() {
        let implemented =
            BTreeSet::from([("GET".to_owned(), normalize("/gw/api/v1/instructions/{instructionId}"))]);
        let routes = SpecRoutes::new(&implemented);
        assert_eq!(routes.classify(&Method::GET, "/gw/api/v1/instructions/cancel"), SpecMatch::OtherMethod);
        assert_eq!(
            SpecRoutes::new(&BTreeSet::new()).classify(&Method::GET, "/gw/api/v1/instructions/cancel"),
            SpecMatch::Operation(None)
        );
    }

    #[test]
    fn requests_are_classified_by_path_and_method() {
        let routes = SpecRoutes::new(&BTreeSet::new());
        assert_eq!(
            routes.classify(&Method::POST, "/v1/api/iserver/account/DU1/orders"),
            SpecMatch::Operation(None)
        );
        assert_eq!(
            routes.classify(&Method::POST, "/v1/portal/iserver/account/DU1/orders"),
            SpecMatch::Operation(None)
        );
        assert_eq!(
            routes.classify(&Method::PATCH, "/v1/api/iserver/account/DU1/orders"),
            SpecMatch::OtherMethod
        );
        assert_eq!(routes.classify(&Method::GET, "/v1/api/no/such/thing"), SpecMatch::Unknown);
        assert!(matches!(
            routes.classify(&Method::POST, "/gw/api/v1/tax-documents"),
            SpecMatch::Operation(Some(reason)) if reason.contains("tax")
        ));
        assert_eq!(
            routes.classify(&Method::POST, "/gw/api/v1/external-cash-transfers"),
            SpecMatch::Operation(None)
        );
    }

    #[test]
    fn parameters_are_renamed_by_position() {
        assert_eq!(normalize("/a/{accountId}/b/{orderId}"), "/a/{p1}/b/{p2}");
    }
}
