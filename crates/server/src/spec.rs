//! IBKR's operations, as its OpenAPI specs (2.28, 2.29) and the 2.39 operation list define them
//! (`spec/ibkr-operations.tsv`). Every one is routed: those LocalBroker implements reach their
//! handlers, the rest answer 501 through [`SpecRoutes`]. The coverage report compares this list
//! with our own generated OpenAPI document.

use std::collections::HashMap;
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

/// IBKR's operations, indexed for matching requests.
#[derive(Debug)]
pub struct SpecRoutes {
    by_method: HashMap<Method, matchit::Router<Option<&'static str>>>,
}

impl SpecRoutes {
    /// Indexes every operation of [`operations`].
    pub fn load() -> Self {
        let mut by_method: HashMap<Method, matchit::Router<Option<&'static str>>> = HashMap::new();
        for operation in operations() {
            // Distinct operations cannot collide once normalised: the table has no duplicates.
            let _ = by_method
                .entry(operation.method.clone())
                .or_default()
                .insert(normalize(operation.path), operation.reason);
        }
        Self { by_method }
    }

    /// Classifies a request. `/v1/portal` is IBKR's alias of `/v1/api`.
    pub fn classify(&self, method: &Method, path: &str) -> SpecMatch {
        let path = match path.strip_prefix("/v1/portal/") {
            Some(rest) => format!("/v1/api/{rest}"),
            None => path.to_owned(),
        };
        let known = |router: &matchit::Router<Option<&'static str>>| router.at(&path).is_ok();
        if let Some(found) = self.by_method.get(method).and_then(|router| router.at(&path).ok()) {
            SpecMatch::Operation(*found.value)
        } else if self.by_method.values().any(known) {
            SpecMatch::OtherMethod
        } else {
            SpecMatch::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_indexed() {
        let routes = SpecRoutes::load();
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
    fn requests_are_classified_by_path_and_method() {
        let routes = SpecRoutes::load();
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
