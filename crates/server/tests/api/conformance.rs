//! Conformance with IBKR's own document: every operation LocalBroker implements, called as a
//! client calls it, answers a body IBKR's response schema accepts, with every field IBKR's
//! examples show. The schemas and examples are IBKR's (`spec/ibkr-responses.json`, extracted by
//! `scripts/vendor-response-schemas`).
//!
//! Where IBKR's document contradicts itself (its example sends what its schema forbids),
//! LocalBroker follows the example, and the schema's node is forgiven below, by name, with the
//! example that contradicts it; the test checks that IBKR's example does break its schema there.
//! One reading of IBKR's schemas is not literal: an answer IBKR types as `oneOf` several shapes
//! (an order placed, a question, a rejection) is checked against the shape it is closest to.
//! IBKR's shapes share their fields and require none, so any answer, IBKR's own examples
//! included, matches several of them, which `oneOf` forbids.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use jsonschema::Validator;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::{Reply, TestApp};

use crate::account_management::advance;

const DOCUMENT: &str = include_str!("../../spec/ibkr-responses.json");

/// IBKR's operations with their schemas and examples.
static RESPONSES: LazyLock<Value> = LazyLock::new(|| serde_json::from_str(DOCUMENT).unwrap());

/// A node of IBKR's schema that IBKR's own example contradicts: the keyword's location in IBKR's
/// schemas (`portfolioSummaryValue/properties/currency/type`, or the operation's own schema
/// after `#`), with the example that breaks it.
struct Forgiven {
    node: &'static str,
    example: &'static str,
}

/// IBKR's document defects, each with the example of IBKR's that contradicts its schema.
const FORGIVEN: &[Forgiven] = &[
    Forgiven {
        node: "liveOrdersResponse/properties/orders/items/properties/conid/type",
        example: "GET /v1/api/iserver/account/orders: \"conid\": 15016138",
    },
    Forgiven {
        node: "liveOrdersResponse/properties/orders/items/properties/filledQuantity/type",
        example: "GET /v1/api/iserver/account/orders: \"filledQuantity\": 2499.99",
    },
    Forgiven {
        node: "liveOrdersResponse/properties/orders/items/properties/lastExecutionTime_r/type",
        example: "GET /v1/api/iserver/account/orders: \"lastExecutionTime_r\": 1714061006000",
    },
    Forgiven {
        node: "liveOrdersResponse/properties/orders/items/properties/remainingQuantity/type",
        example: "GET /v1/api/iserver/account/orders: \"remainingQuantity\": 0.0",
    },
    Forgiven {
        node: "liveOrdersResponse/properties/orders/items/properties/totalSize/type",
        example: "GET /v1/api/iserver/account/orders: \"totalSize\": 2806.46",
    },
    Forgiven {
        node: "ssoValidateResponse/properties/QUALIFIED_FOR_MOBILE_AUTH/type",
        example: "GET /v1/api/sso/validate: \"QUALIFIED_FOR_MOBILE_AUTH\": null",
    },
    Forgiven {
        node: "contractInfo/properties/classifier/type",
        example: "GET /v1/api/iserver/contract/{conid}/info: \"classifier\": null",
    },
    Forgiven {
        node: "contractInfo/properties/contract_clarification_type/type",
        example: "GET /v1/api/iserver/contract/{conid}/info: \"contract_clarification_type\": null",
    },
    Forgiven {
        node: "contractInfo/properties/contract_month/type",
        example: "GET /v1/api/iserver/contract/{conid}/info: \"contract_month\": null",
    },
    Forgiven {
        node: "contractInfo/properties/cusip/type",
        example: "GET /v1/api/iserver/contract/{conid}/info: \"cusip\": null",
    },
    Forgiven {
        node: "contractInfo/properties/expiry_full/type",
        example: "GET /v1/api/iserver/contract/{conid}/info: \"expiry_full\": null",
    },
    Forgiven {
        node: "contractInfo/properties/maturity_date/type",
        example: "GET /v1/api/iserver/contract/{conid}/info: \"maturity_date\": null",
    },
    Forgiven {
        node: "contractInfo/properties/multiplier/type",
        example: "GET /v1/api/iserver/contract/{conid}/info: \"multiplier\": null",
    },
    Forgiven {
        node: "contractInfo/properties/text/type",
        example: "GET /v1/api/iserver/contract/{conid}/info: \"text\": null",
    },
    Forgiven {
        node: "contractInfo/properties/underlying_issuer/type",
        example: "GET /v1/api/iserver/contract/{conid}/info: \"underlying_issuer\": null",
    },
    Forgiven {
        node: "contractRules/properties/cashSize/type",
        example: "GET /v1/api/iserver/contract/{conid}/info-and-rules: \"cashSize\": 0.0",
    },
    Forgiven {
        node: "contractRules/properties/increment/type",
        example: "GET /v1/api/iserver/contract/{conid}/info-and-rules: \"increment\": 0.01",
    },
    Forgiven {
        node: "contractRules/properties/incrementRules/items/properties/increment/type",
        example: "GET /v1/api/iserver/contract/{conid}/info-and-rules: \"increment\": 0.01",
    },
    Forgiven {
        node: "contractRules/properties/incrementRules/items/properties/lowerEdge/type",
        example: "GET /v1/api/iserver/contract/{conid}/info-and-rules: \"lowerEdge\": 0.0",
    },
    Forgiven {
        node: "contractRules/properties/limitPrice/type",
        example: "GET /v1/api/iserver/contract/{conid}/info-and-rules: \"limitPrice\": null",
    },
    Forgiven {
        node: "currencyPairs/additionalProperties/items/properties/ccyPair/type",
        example: "GET /v1/api/iserver/currency/pairs: \"ccyPair\": \"SGD\"",
    },
    Forgiven {
        node: "orderPreview/properties/error/type",
        example: "POST /v1/api/iserver/account/{accountId}/orders/whatif: \"error\": null",
    },
    Forgiven {
        node: "orderStatus/properties/conid/type",
        example: "GET /v1/api/iserver/account/order/status/{orderId}: \"conid\": 265598",
    },
    Forgiven {
        node: "orderStatus/properties/side/enum",
        example: "GET /v1/api/iserver/account/order/status/{orderId}: \"side\": \"S\"",
    },
    Forgiven {
        node: "orderStatus/properties/sub_type/type",
        example: "GET /v1/api/iserver/account/order/status/{orderId}: \"sub_type\": null",
    },
    Forgiven {
        node: "tradesResponse/items/properties/conid/type",
        example: "GET /v1/api/iserver/account/trades: \"conid\": 265598",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/SMA/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"SMA\": 368538.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/accruedInterest/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"accruedInterest\": 0.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/availableFunds/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"availableFunds\": 825903.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/balance/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"balance\": 825903.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/buyingPower/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"buyingPower\": 3307124.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/cashBalances/items/properties/balance/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"balance\": 825903.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/cashBalances/items/properties/settledCash/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"settledCash\": 194.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/equityWithLoanValue/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"equityWithLoanValue\": 1281714.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/excessLiquidity/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"excessLiquidity\": 826781.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/initialMargin/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"initialMargin\": 464586.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/maintenanceMargin/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"maintenanceMargin\": 463709.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/netLiquidationValue/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"netLiquidationValue\": 1290490.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/regTLoan/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"regTLoan\": 0.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/regTMargin/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"regTMargin\": 0.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/securitiesGVP/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"securitiesGVP\": 1793178.0",
    },
    Forgiven {
        node: "accountSummaryResponse/properties/totalCashValue/type",
        example: "GET /v1/api/iserver/account/{accountId}/summary: \"totalCashValue\": -401846.0",
    },
    Forgiven {
        node: "portfolioSummaryValue/properties/currency/type",
        example: "GET /v1/api/portfolio/{accountId}/summary: \"currency\": null",
    },
    Forgiven {
        node: "portfolioSummaryValue/properties/value/type",
        example: "GET /v1/api/portfolio/{accountId}/summary: \"value\": null",
    },
    Forgiven {
        node: "portfolio2Positions/items/properties/conid/type",
        example: "GET /v1/api/portfolio2/{accountId}/positions: \"conid\": \"265598\"",
    },
    Forgiven {
        node: "individualPosition/properties/lastTradingDay/type",
        example: "GET /v1/api/portfolio/{accountId}/positions/{pageId}: \"lastTradingDay\": null",
    },
    Forgiven {
        node: "individualPosition/properties/putOrCall/type",
        example: "GET /v1/api/portfolio/{accountId}/positions/{pageId}: \"putOrCall\": null",
    },
    Forgiven {
        node: "individualPosition/properties/putOrCall/enum",
        example: "GET /v1/api/portfolio/{accountId}/positions/{pageId}: \"putOrCall\": null",
    },
    Forgiven {
        node: "individualPosition/properties/sectorGroup/type",
        example: "GET /v1/api/portfolio/{accountId}/positions/{pageId}: \"sectorGroup\": null",
    },
    Forgiven {
        node: "individualPosition/type",
        example: "GET /v1/api/portfolio/positions/{conid}: \"DU123456\": an array",
    },
    Forgiven {
        node: "performanceResponse/properties/nav/properties/data/items/properties/startNAV/properties/val/type",
        example: "POST /v1/api/pa/performance: \"val\": 202767761.3449",
    },
    Forgiven {
        node: "transactionsResponse/properties/transactions/items/properties/amt/type",
        example: "POST /v1/api/pa/transactions: \"amt\": 961.3",
    },
    Forgiven {
        node: "transactionsResponse/properties/transactions/items/properties/pr/type",
        example: "POST /v1/api/pa/transactions: \"pr\": 192.26",
    },
    Forgiven {
        node: "POST /v1/api/iserver/marketdata/unsubscribe#/properties/success/enum",
        example: "POST /v1/api/iserver/marketdata/unsubscribe: \"success\": true",
    },
    Forgiven {
        node: "GET /v1/api/iserver/marketdata/unsubscribeall#/properties/unsubscribed/enum",
        example: "GET /v1/api/iserver/marketdata/unsubscribeall: \"unsubscribed\": true",
    },
];

/// Definitions IBKR's document types `object` though their name is that of a JSON array type
/// (Jackson's `ArrayNode`, which its generator wrote out as an object): their lists are lists.
const ARRAYS_NAMED_SO: &[&str] = &["ArrayNode"];

/// Whether `node` is the type of a definition [`ARRAYS_NAMED_SO`] lists, as IBKR's document
/// has it.
fn named_array(node: &str) -> bool {
    ARRAYS_NAMED_SO
        .iter()
        .any(|name| node == format!("{name}/type") && RESPONSES["definitions"][*name]["type"] == "object")
}

/// A field IBKR's example shows that the answer checked here rightly lacks, and why.
struct Absent {
    operation: &'static str,
    field: &'static str,
    why: &'static str,
}

/// Fields of IBKR's examples that do not belong in the answers checked here.
const ABSENT: &[Absent] = &[
    Absent {
        operation: "GET /v1/api/iserver/account/orders",
        field: "/orders/*/totalCashSize",
        why: "the cash an order for a cash quantity was given, as in IBKR's example; LocalBroker's orders are for a number of shares or units",
    },
    Absent {
        operation: "GET /v1/api/iserver/account/orders",
        field: "/orders/*/taxOptimizerId",
        why: "an IBKR Tax Optimizer election; LocalBroker's accounts make none",
    },
    Absent {
        operation: "GET /gw/api/v1/instruction-sets/{instructionSetId}",
        field: "/instructionResults/*/type",
        why: "a rejected instruction's problem fields; every instruction of the set polled was accepted",
    },
    Absent {
        operation: "GET /gw/api/v1/instruction-sets/{instructionSetId}",
        field: "/instructionResults/*/title",
        why: "a rejected instruction's problem fields; every instruction of the set polled was accepted",
    },
    Absent {
        operation: "GET /gw/api/v1/instruction-sets/{instructionSetId}",
        field: "/instructionResults/*/detail",
        why: "a rejected instruction's problem fields; every instruction of the set polled was accepted",
    },
    Absent {
        operation: "GET /gw/api/v1/instruction-sets/{instructionSetId}",
        field: "/instructionResults/*/invalidArguments",
        why: "a rejected instruction's problem fields; every instruction of the set polled was accepted",
    },
    Absent {
        operation: "GET /gw/api/v1/instruction-sets/{instructionSetId}",
        field: "/instructionResults/*/instructionResult/error",
        why: "a rejected instruction's problem fields; every instruction of the set polled was accepted",
    },
    Absent {
        operation: "POST /v1/api/iserver/account",
        field: "/set",
        why: "the demo user's one account is already selected, and IBKR then answers {\"success\": \"Account already set\"}",
    },
    Absent {
        operation: "POST /v1/api/iserver/account",
        field: "/acctId",
        why: "the demo user's one account is already selected, and IBKR then answers {\"success\": \"Account already set\"}",
    },
    Absent {
        operation: "GET /v1/api/iserver/accounts",
        field: "/acctProps/{key}/noFxConv",
        why: "IBKR's schema spells it noFXConv, as LocalBroker sends it",
    },
    Absent {
        operation: "GET /v1/api/iserver/secdef/search",
        field: "/*/bondid",
        why: "a bond's field; LocalBroker lists no bonds",
    },
    Absent {
        operation: "GET /v1/api/iserver/secdef/search",
        field: "/*/issuers",
        why: "a bond's field; LocalBroker lists no bonds",
    },
    Absent {
        operation: "GET /v1/api/iserver/secdef/search",
        field: "/*/sections/*/conid",
        why: "a derivative's section; LocalBroker lists no derivatives yet",
    },
    Absent {
        operation: "GET /v1/api/iserver/secdef/search",
        field: "/*/sections/*/exchange",
        why: "a derivative's section; LocalBroker lists no derivatives yet",
    },
    Absent {
        operation: "GET /v1/api/iserver/secdef/search",
        field: "/*/sections/*/months",
        why: "a derivative's section; LocalBroker lists no derivatives yet",
    },
    Absent {
        operation: "GET /v1/api/iserver/account/order/status/{orderId}",
        field: "/average_price",
        why: "a working order without fills has no average price; IBKR's example is of a filled one",
    },
    Absent {
        operation: "GET /v1/api/portfolio/{accountId}/positions/{pageId}",
        field: "/*/crossCurrency",
        why: "a field of the option position in IBKR's example; LocalBroker lists no options yet",
    },
    Absent {
        operation: "GET /v1/api/portfolio/{accountId}/positions/{pageId}",
        field: "/*/undComp",
        why: "an option's underlying; LocalBroker lists no options yet",
    },
    Absent {
        operation: "GET /v1/api/portfolio/{accountId}/positions/{pageId}",
        field: "/*/undSym",
        why: "an option's underlying; LocalBroker lists no options yet",
    },
];

/// Operations LocalBroker implements that are not JSON answers, with why they are not checked
/// here.
const NOT_JSON: &[(&str, &str)] =
    &[("GET /v1/api/ws", "the websocket's upgrade: its messages are the websocket tests' to check")];

/// Which keys of an object are data rather than field names.
#[derive(Clone, Copy)]
enum Keys {
    /// Every key (symbols, currencies, asset classes, sectors).
    All,
    /// Keys that are account ids (`DU1234567`), beside fields with fixed names.
    Accounts,
}

impl Keys {
    fn covers(self, key: &str) -> bool {
        match self {
            Self::All => true,
            Self::Accounts => {
                let digits = key.trim_start_matches(|c: char| c.is_ascii_uppercase());
                digits.len() < key.len() && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
            }
        }
    }
}

/// Objects whose keys are data, not field names: compared with IBKR's examples through one
/// `{key}` each.
const KEYED: &[(&str, &str, Keys)] = &[
    ("GET /v1/api/iserver/accounts", "/acctProps", Keys::All),
    ("GET /v1/api/iserver/accounts", "/aliases", Keys::All),
    ("GET /v1/api/iserver/accounts", "/chartPeriods", Keys::All),
    ("GET /v1/api/iserver/account/pnl/partitioned", "/upnl", Keys::All),
    ("GET /v1/api/iserver/account/{accountId}/summary/market_value", "", Keys::All),
    ("GET /v1/api/iserver/currency/pairs", "", Keys::All),
    ("GET /v1/api/iserver/contract/{conid}/info-and-rules", "/rules/orderDefaults", Keys::All),
    ("POST /v1/api/iserver/contract/rules", "/orderDefaults", Keys::All),
    ("GET /v1/api/trsrv/stocks", "", Keys::All),
    ("GET /v1/api/portfolio/{accountId}/ledger", "", Keys::All),
    ("GET /v1/api/portfolio/{accountId}/allocation", "/assetClass/long", Keys::All),
    ("GET /v1/api/portfolio/{accountId}/allocation", "/assetClass/short", Keys::All),
    ("GET /v1/api/portfolio/{accountId}/allocation", "/sector/long", Keys::All),
    ("GET /v1/api/portfolio/{accountId}/allocation", "/sector/short", Keys::All),
    ("GET /v1/api/portfolio/{accountId}/allocation", "/group/long", Keys::All),
    ("GET /v1/api/portfolio/{accountId}/allocation", "/group/short", Keys::All),
    ("GET /v1/api/portfolio/positions/{conid}", "", Keys::Accounts),
    ("POST /v1/api/pa/allperiods", "", Keys::Accounts),
];

/// What the sweep found.
#[derive(Default)]
struct Sweep {
    called: BTreeSet<String>,
    problems: Vec<String>,
    forgiven_used: BTreeSet<&'static str>,
    absent_used: BTreeSet<(&'static str, &'static str)>,
}

fn validator(operation: &str, schema: &Value) -> Validator {
    let root = json!({ "allOf": [schema], "definitions": RESPONSES["definitions"] });
    jsonschema::draft4::options()
        .should_validate_formats(false)
        .build(&root)
        .unwrap_or_else(|e| panic!("IBKR's schema of {operation} compiles: {e}"))
}

/// The shapes IBKR's schema `schema` offers: each branch of a `oneOf` at its top, or itself.
fn shapes(schema: &Value) -> Vec<Value> {
    let mut top = schema;
    while let Some(name) = top["$ref"].as_str().and_then(|r| r.strip_prefix("#/definitions/")) {
        top = &RESPONSES["definitions"][name];
    }
    match top["oneOf"].as_array() {
        Some(branches) => branches.clone(),
        None => vec![schema.clone()],
    }
}

/// A schema location as [`Forgiven`] names it.
fn schema_node(operation: &str, location: &str) -> String {
    match location.strip_prefix("/definitions/") {
        Some(inside) => inside.to_owned(),
        None => format!("{operation}#{}", location.strip_prefix("/allOf/0").unwrap_or(location)),
    }
}

/// One way an answer breaks IBKR's schema.
struct Violation {
    /// Where in IBKR's schema, as [`Forgiven`] names it.
    node: String,
    /// Where in the answer, array items as `*`.
    at: String,
    message: String,
}

/// Where `body` breaks IBKR's schema of `operation`: against the shape it breaks least.
fn violations(operation: &str, schema: &Value, body: &Value) -> Vec<Violation> {
    shapes(schema)
        .iter()
        .map(|shape| {
            validator(operation, shape)
                .iter_errors(body)
                .map(|error| Violation {
                    node: schema_node(operation, error.schema_path().as_str()),
                    at: node_of(error.instance_path().as_str()),
                    message: error.to_string().chars().take(200).collect(),
                })
                .collect::<Vec<_>>()
        })
        .min_by_key(Vec::len)
        .unwrap_or_default()
}

/// `pointer` with array indices as `*`.
fn node_of(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|segment| if segment.parse::<usize>().is_ok() { "*" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

/// The field paths of `value`: `/a`, `/a/*/b`, …; an array's items are one `*`, and the data
/// keys of an object `keyed` lists one `{key}`.
fn fields(value: &Value, prefix: &str, keyed: &BTreeMap<&str, Keys>, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let data = keyed.get(prefix).is_some_and(|keys| keys.covers(key));
                let path = format!("{prefix}/{}", if data { "{key}" } else { key.as_str() });
                out.insert(path.clone());
                fields(inner, &path, keyed, out);
            }
        }
        Value::Array(items) => {
            let path = format!("{prefix}/*");
            if !items.is_empty() {
                out.insert(path.clone());
            }
            for item in items {
                fields(item, &path, keyed, out);
            }
        }
        _ => {}
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// A JSON value that names no key twice in one object; parsing one that does fails, where a
/// parser into `Value` would keep one of the two silently.
struct UniqueKeys;

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("JSON")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("{key:?} is named twice")));
            }
            map.next_value::<UniqueKeys>()?;
        }
        Ok(UniqueKeys)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }

    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
}

impl Sweep {
    /// Checks `reply` as the answer of `operation` (`"GET /v1/api/portfolio/accounts"`).
    fn check(&mut self, operation: &str, reply: &Reply) {
        self.called.insert(operation.to_owned());
        if !reply.status.is_success() {
            self.problems.push(format!("{operation}: answered {}: {}", reply.status, reply.text));
            return;
        }
        if let Err(error) = serde_json::from_str::<UniqueKeys>(&reply.text) {
            self.problems.push(format!("{operation}: {error}"));
        }
        let Some(spec) = RESPONSES["operations"].get(operation) else { return };
        if spec["status"].as_u64() != Some(u64::from(reply.status.as_u16())) {
            self.problems
                .push(format!("{operation}: answered {}, IBKR answers {}", reply.status, spec["status"]));
        }
        for violation in violations(operation, &spec["schema"], &reply.body) {
            match FORGIVEN.iter().find(|f| f.node == violation.node) {
                Some(entry) => {
                    self.forgiven_used.insert(entry.node);
                }
                None if named_array(&violation.node) => {}
                None => self.problems.push(format!(
                    "{operation}: {}: {} [{}]",
                    violation.at, violation.message, violation.node
                )),
            }
        }
        let keyed: BTreeMap<&str, Keys> =
            KEYED.iter().filter(|(op, ..)| *op == operation).map(|(_, node, keys)| (*node, *keys)).collect();
        let mut ours = BTreeSet::new();
        fields(&reply.body, "", &keyed, &mut ours);
        // Against the example closest to the answer: IBKR's examples of one operation show
        // different answers (an order placed, a question, an error).
        let missing = spec["examples"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|example| {
                let mut theirs = BTreeSet::new();
                fields(example, "", &keyed, &mut theirs);
                theirs
                    .difference(&ours)
                    .filter(|field| {
                        let parent = parent(field);
                        (parent.is_empty() || ours.contains(parent))
                            && !field.ends_with("/*")
                            && !field.ends_with("/{key}")
                    })
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .min_by_key(Vec::len)
            .unwrap_or_default();
        for field in missing {
            let absent = ABSENT.iter().find(|a| a.operation == operation && a.field == field);
            match absent {
                Some(entry) => {
                    self.absent_used.insert((entry.operation, entry.field));
                }
                None => self.problems.push(format!("{operation}: {field}: in IBKR's example, not in ours")),
            }
        }
    }

    async fn call(&mut self, app: &TestApp, operation: &str, path: &str, body: Option<Value>) -> Reply {
        let method: Method = operation.split(' ').next().unwrap().parse().unwrap();
        let reply = app.request(method, path, body).await;
        self.check(operation, &reply);
        reply
    }

    async fn get(&mut self, app: &TestApp, operation: &str, path: &str) -> Reply {
        self.call(app, operation, path, None).await
    }

    async fn post(&mut self, app: &TestApp, operation: &str, path: &str, body: Value) -> Reply {
        self.call(app, operation, path, Some(body)).await
    }
}

const ACCOUNT: &str = "DU1234567";

/// The Trading API, in the order a client's day goes.
async fn trading(sweep: &mut Sweep) {
    let app = testkit::spawn_app_with(testkit::AppOptions {
        clock: engine::clock::ClockSpec {
            mode: engine::clock::ClockMode::Manual,
            start: Some("2026-03-03T16:00:00Z".parse().unwrap()),
        },
        ..testkit::AppOptions::default()
    })
    .await;
    app.login("demo", "demo").await;
    let s = sweep;
    s.get(&app, "GET /v1/api/iserver/auth/status", "/v1/api/iserver/auth/status").await;
    s.post(&app, "POST /v1/api/iserver/auth/status", "/v1/api/iserver/auth/status", json!({})).await;
    s.post(
        &app,
        "POST /v1/api/iserver/auth/ssodh/init",
        "/v1/api/iserver/auth/ssodh/init",
        json!({"publish": true, "compete": true}),
    )
    .await;
    s.post(&app, "POST /v1/api/iserver/reauthenticate", "/v1/api/iserver/reauthenticate", json!({})).await;
    s.get(&app, "GET /v1/api/tickle", "/v1/api/tickle").await;
    s.post(&app, "POST /v1/api/tickle", "/v1/api/tickle", json!({})).await;
    s.get(&app, "GET /v1/api/sso/validate", "/v1/api/sso/validate").await;
    s.get(&app, "GET /v1/api/iserver/accounts", "/v1/api/iserver/accounts").await;
    s.post(&app, "POST /v1/api/iserver/account", "/v1/api/iserver/account", json!({"acctId": ACCOUNT})).await;
    s.get(&app, "GET /v1/api/iserver/account/search/{searchPattern}", "/v1/api/iserver/account/search/DU")
        .await;

    s.get(&app, "GET /v1/api/iserver/secdef/search", "/v1/api/iserver/secdef/search?symbol=AAPL").await;
    s.post(
        &app,
        "POST /v1/api/iserver/secdef/search",
        "/v1/api/iserver/secdef/search",
        json!({"symbol": "AAPL"}),
    )
    .await;
    s.get(&app, "GET /v1/api/trsrv/stocks", "/v1/api/trsrv/stocks?symbols=AAPL,MSFT").await;
    s.get(&app, "GET /v1/api/trsrv/secdef", "/v1/api/trsrv/secdef?conids=265598,272093").await;
    s.get(
        &app,
        "GET /v1/api/trsrv/secdef/schedule",
        "/v1/api/trsrv/secdef/schedule?assetClass=STK&symbol=AAPL",
    )
    .await;
    s.get(&app, "GET /v1/api/iserver/contract/{conid}/info", "/v1/api/iserver/contract/265598/info").await;
    s.get(
        &app,
        "GET /v1/api/iserver/contract/{conid}/info-and-rules",
        "/v1/api/iserver/contract/265598/info-and-rules?isBuy=true",
    )
    .await;
    s.post(
        &app,
        "POST /v1/api/iserver/contract/rules",
        "/v1/api/iserver/contract/rules",
        json!({"conid": 265598, "isBuy": true}),
    )
    .await;
    s.get(&app, "GET /v1/api/iserver/currency/pairs", "/v1/api/iserver/currency/pairs?currency=USD").await;
    s.get(&app, "GET /v1/api/iserver/exchangerate", "/v1/api/iserver/exchangerate?source=EUR&target=USD")
        .await;

    let snapshot =
        "/v1/api/iserver/marketdata/snapshot?conids=265598,12087792&fields=31,55,84,85,86,88,7059,7295";
    s.get(&app, "GET /v1/api/iserver/marketdata/snapshot", snapshot).await;
    s.get(&app, "GET /v1/api/iserver/marketdata/snapshot", snapshot).await;
    let legacy = "/v1/api/md/snapshot?conids=265598&fields=31,84,86";
    s.get(&app, "GET /v1/api/md/snapshot", legacy).await;
    s.get(&app, "GET /v1/api/md/snapshot", legacy).await;
    s.get(&app, "GET /v1/api/md/regsnapshot", "/v1/api/md/regsnapshot?conid=265598").await;
    s.get(
        &app,
        "GET /v1/api/iserver/marketdata/history",
        "/v1/api/iserver/marketdata/history?conid=265598&period=1w&bar=1d",
    )
    .await;
    s.get(&app, "GET /v1/api/hmds/history", "/v1/api/hmds/history?conid=265598&period=1d&bar=1h").await;

    let orders = format!("/v1/api/iserver/account/{ACCOUNT}/orders");
    let buy = json!({"orders": [{"conid": 265598, "side": "BUY", "quantity": 10, "orderType": "MKT", "tif": "DAY", "cOID": "buy-1"}]});
    let mut placed = s.post(&app, "POST /v1/api/iserver/account/{accountId}/orders", &orders, buy).await;
    while let Some(id) = placed.body[0]["id"].as_str().map(str::to_owned) {
        placed = s
            .post(
                &app,
                "POST /v1/api/iserver/reply/{replyId}",
                &format!("/v1/api/iserver/reply/{id}"),
                json!({"confirmed": true}),
            )
            .await;
    }
    s.post(
        &app,
        "POST /v1/api/iserver/questions/suppress",
        "/v1/api/iserver/questions/suppress",
        json!({"messageIds": ["o163", "o354", "o383", "o451", "o10151", "o10331"]}),
    )
    .await;
    let limit = json!({"orders": [{"conid": 265598, "side": "BUY", "quantity": 5, "orderType": "LMT", "price": 100, "tif": "GTC", "cOID": "limit-1"}]});
    let resting = s.post(&app, "POST /v1/api/iserver/account/{accountId}/orders", &orders, limit).await;
    let order_id =
        resting.body[0]["order_id"].as_str().unwrap_or_else(|| panic!("{}", resting.text)).to_owned();
    let whatif = json!({"orders": [{"conid": 265598, "side": "SELL", "quantity": 5, "orderType": "LMT", "price": 500, "tif": "GTC"}]});
    s.post(
        &app,
        "POST /v1/api/iserver/account/{accountId}/orders/whatif",
        &format!("{orders}/whatif"),
        whatif,
    )
    .await;
    s.get(&app, "GET /v1/api/iserver/account/orders", "/v1/api/iserver/account/orders").await;
    // IBKR's first answer of a session primes the list; clients ask again.
    s.get(&app, "GET /v1/api/iserver/account/orders", "/v1/api/iserver/account/orders").await;
    s.get(
        &app,
        "GET /v1/api/iserver/account/order/status/{orderId}",
        &format!("/v1/api/iserver/account/order/status/{order_id}"),
    )
    .await;
    let filled = placed.body[0]["order_id"].as_str().unwrap_or_else(|| panic!("{}", placed.text)).to_owned();
    s.get(
        &app,
        "GET /v1/api/iserver/account/order/status/{orderId}",
        &format!("/v1/api/iserver/account/order/status/{filled}"),
    )
    .await;
    let modify = json!({"conid": 265598, "side": "BUY", "quantity": 5, "orderType": "LMT", "price": 101, "tif": "GTC"});
    let order = format!("/v1/api/iserver/account/{ACCOUNT}/order/{order_id}");
    s.post(&app, "POST /v1/api/iserver/account/{accountId}/order/{orderId}", &order, modify).await;
    s.call(&app, "DELETE /v1/api/iserver/account/{accountId}/order/{orderId}", &order, None).await;
    s.post(
        &app,
        "POST /v1/api/iserver/questions/suppress/reset",
        "/v1/api/iserver/questions/suppress/reset",
        json!({}),
    )
    .await;
    advance(&app, "1h").await;
    s.get(&app, "GET /v1/api/iserver/account/trades", "/v1/api/iserver/account/trades").await;

    let account = |path: &str| path.replace("{accountId}", ACCOUNT).replace("{accountid}", ACCOUNT);
    for operation in [
        "GET /v1/api/iserver/account/pnl/partitioned",
        "GET /v1/api/iserver/account/{accountId}/summary",
        "GET /v1/api/iserver/account/{accountId}/summary/available_funds",
        "GET /v1/api/iserver/account/{accountId}/summary/balances",
        "GET /v1/api/iserver/account/{accountId}/summary/margins",
        "GET /v1/api/iserver/account/{accountId}/summary/market_value",
        "GET /v1/api/portfolio/accounts",
        "GET /v1/api/portfolio/subaccounts",
        "GET /v1/api/portfolio/{accountId}/meta",
        "GET /v1/api/portfolio/{accountId}/summary",
        "GET /v1/api/portfolio/{accountId}/ledger",
        "GET /v1/api/portfolio/{accountId}/allocation",
        "GET /v1/api/portfolio/{accountId}/combo/positions",
        "GET /v1/api/portfolio2/{accountId}/positions",
    ] {
        let path = account(operation.split(' ').nth(1).unwrap());
        s.get(&app, operation, &path).await;
    }
    s.get(&app, "GET /v1/api/portfolio/subaccounts2", "/v1/api/portfolio/subaccounts2?page=0").await;
    s.post(
        &app,
        "POST /v1/api/portfolio/{accountId}/positions/invalidate",
        &account("/v1/api/portfolio/{accountId}/positions/invalidate"),
        json!({}),
    )
    .await;
    s.get(
        &app,
        "GET /v1/api/portfolio/{accountId}/positions/{pageId}",
        &account("/v1/api/portfolio/{accountId}/positions/0"),
    )
    .await;
    s.get(
        &app,
        "GET /v1/api/portfolio/{accountid}/position/{conid}",
        &account("/v1/api/portfolio/{accountid}/position/265598"),
    )
    .await;
    s.get(&app, "GET /v1/api/portfolio/positions/{conid}", "/v1/api/portfolio/positions/265598").await;
    s.post(
        &app,
        "POST /v1/api/portfolio/allocation",
        "/v1/api/portfolio/allocation",
        json!({"acctIds": [ACCOUNT]}),
    )
    .await;
    s.post(
        &app,
        "POST /v1/api/pa/performance",
        "/v1/api/pa/performance",
        json!({"acctIds": [ACCOUNT], "period": "1M"}),
    )
    .await;
    s.post(&app, "POST /v1/api/pa/allperiods", "/v1/api/pa/allperiods", json!({"acctIds": [ACCOUNT]})).await;
    s.post(
        &app,
        "POST /v1/api/pa/transactions",
        "/v1/api/pa/transactions",
        json!({"acctIds": [ACCOUNT], "conids": [265598], "currency": "USD", "days": 90}),
    )
    .await;

    s.post(
        &app,
        "POST /v1/api/iserver/marketdata/unsubscribe",
        "/v1/api/iserver/marketdata/unsubscribe",
        json!({"conid": 12087792}),
    )
    .await;
    s.get(&app, "GET /v1/api/iserver/marketdata/unsubscribeall", "/v1/api/iserver/marketdata/unsubscribeall")
        .await;
    s.post(&app, "POST /v1/api/logout", "/v1/api/logout", json!({})).await;
}

/// The forgiven nodes that none of IBKR's examples breaks: forgiving them would hide a fault of
/// ours, not a defect of IBKR's.
fn unfounded() -> Vec<String> {
    let mut broken = BTreeSet::new();
    let Value::Object(operations) = &RESPONSES["operations"] else { panic!("IBKR's operations") };
    for (operation, spec) in operations {
        for example in spec["examples"].as_array().into_iter().flatten() {
            broken.extend(violations(operation, &spec["schema"], example).into_iter().map(|v| v.node));
        }
    }
    FORGIVEN
        .iter()
        .filter(|entry| !broken.contains(entry.node))
        .map(|entry| format!("{} ({})", entry.node, entry.example))
        .collect()
}

/// Account Management and its authorization, as a back office's day goes: a client that
/// manages ann's account (`DU1111111`) opens an account for a new customer and moves money and
/// shares between them.
async fn account_management(sweep: &mut Sweep) {
    use crate::account_management::{SCOPES, ach, application, cash, get, instruction, post, send};
    let clock = engine::clock::ClockSpec {
        mode: engine::clock::ClockMode::Manual,
        start: Some("2026-03-03T16:00:00Z".parse().unwrap()),
    };
    let scopes = format!("{SCOPES} echo.read echo.write");
    let (app, _world) = crate::gateway::managing_with(&scopes, true, clock).await;
    let s = sweep;
    let assertion = crate::oauth::signed(
        &crate::oauth::claims("sweep"),
        "main",
        jsonwebtoken::Algorithm::RS256,
        crate::oauth::RSA_KEY,
    );
    let issued = crate::oauth::ask(&app, &assertion, Some(&scopes)).await;
    s.check("POST /oauth2/api/v1/token", &issued);
    let token = issued.body["access_token"].as_str().unwrap_or_else(|| panic!("{}", issued.text)).to_owned();
    let t = token.as_str();
    let sso = crate::oauth::sso_session(&app, t, "ann").await;
    s.check("POST /gw/api/v1/sso-sessions", &sso);
    s.check("GET /gw/api/v1/echo/https", &get(&app, t, "/gw/api/v1/echo/https?symbol=AAPL").await);
    let echoed =
        send(&app, t, Method::POST, "/gw/api/v1/echo/signed-jwt", json!({"symbol": "AAPL"}), true).await;
    s.check("POST /gw/api/v1/echo/signed-jwt", &echoed);
    let bundles = get(&app, t, "/gw/api/v1/enumerations/exchange-bundles").await;
    s.check("GET /gw/api/v1/enumerations/{enumerationType}", &bundles);
    s.check(
        "GET /gw/api/v1/validations/usernames/{username}",
        &get(&app, t, "/gw/api/v1/validations/usernames/grace").await,
    );

    let filed =
        send(&app, t, Method::POST, "/gw/api/v1/accounts", application("grace", "1970-01-01"), true).await;
    s.check("POST /gw/api/v1/accounts", &filed);
    let grace = filed.body["fileData"]["data"]["acctId"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", filed.text))
        .to_owned();
    let request = filed.body["requestId"].as_u64().unwrap();
    let status = get(&app, t, &format!("/gw/api/v1/requests/{request}/status?type=response")).await;
    s.check("GET /gw/api/v1/requests/{requestId}/status", &status);
    advance(&app, "1d").await;
    s.check(
        "GET /gw/api/v1/accounts",
        &get(&app, t, &format!("/gw/api/v1/accounts?accountId={grace}")).await,
    );
    s.check(
        "GET /gw/api/v1/accounts/{accountId}/status",
        &get(&app, t, &format!("/gw/api/v1/accounts/{grace}/status")).await,
    );
    s.check(
        "GET /gw/api/v1/accounts/{accountId}/details",
        &get(&app, t, &format!("/gw/api/v1/accounts/{grace}/details")).await,
    );
    let statuses = get(&app, t, "/gw/api/v1/accounts/status?startDate=2026-03-01&endDate=2026-03-31").await;
    s.check("GET /gw/api/v1/accounts/status", &statuses);
    s.check(
        "GET /gw/api/v1/requests",
        &get(&app, t, "/gw/api/v1/requests?startDate=2026-03-01&endDate=2026-03-31").await,
    );

    s.check(
        "POST /gw/api/v1/bank-instructions",
        &post(&app, t, "/gw/api/v1/bank-instructions", ach(1)).await,
    );
    let mut second = ach(2)["instruction"].clone();
    second["bankInstructionName"] = json!("Savings");
    let bulk = json!({"instructionType": "ACH_INSTRUCTION", "instructions": [second]});
    s.check(
        "POST /gw/api/v1/bank-instructions:bulk",
        &post(&app, t, "/gw/api/v1/bank-instructions:bulk", bulk).await,
    );
    let query = instruction(
        "QUERY_BANK_INSTRUCTION",
        json!({"clientInstructionId": 3, "accountId": "DU1111111", "bankInstructionMethod": "ACH"}),
    );
    s.check(
        "POST /gw/api/v1/bank-instructions/query",
        &post(&app, t, "/gw/api/v1/bank-instructions/query", query).await,
    );

    let deposit = post(&app, t, "/gw/api/v1/external-cash-transfers", cash("DEPOSIT", 4, 2500.0)).await;
    s.check("POST /gw/api/v1/external-cash-transfers", &deposit);
    let id = deposit.body["instructionResult"]["instructionId"]
        .as_u64()
        .unwrap_or_else(|| panic!("{}", deposit.text));
    s.check(
        "GET /gw/api/v1/instructions/{instructionId}",
        &get(&app, t, &format!("/gw/api/v1/instructions/{id}")).await,
    );
    s.check(
        "GET /gw/api/v1/client-instructions/{clientInstructionId}",
        &get(&app, t, "/gw/api/v1/client-instructions/4").await,
    );
    let deposits = json!({"instructionType": "DEPOSIT", "instructions": [cash("DEPOSIT", 5, 100.0)["instruction"].clone(), cash("DEPOSIT", 6, 200.0)["instruction"].clone()]});
    let filed = post(&app, t, "/gw/api/v1/external-cash-transfers:bulk", deposits).await;
    s.check("POST /gw/api/v1/external-cash-transfers:bulk", &filed);
    let set = filed.body["instructionSetId"].as_u64().unwrap_or_else(|| panic!("{}", filed.text));
    s.check(
        "GET /gw/api/v1/instruction-sets/{instructionSetId}",
        &get(&app, t, &format!("/gw/api/v1/instruction-sets/{set}")).await,
    );
    let pending: Vec<u64> = filed.body["instructionResults"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|result| result["instructionResult"]["instructionId"].as_u64())
        .collect();
    let cancel = instruction(
        "CANCEL_INSTRUCTION",
        json!({"clientInstructionId": 7, "instructionId": pending[0], "reason": "typo"}),
    );
    s.check(
        "POST /gw/api/v1/instructions/cancel",
        &post(&app, t, "/gw/api/v1/instructions/cancel", cancel).await,
    );
    let cancels = json!({"instructionType": "CANCEL_INSTRUCTION", "instructions": [{"clientInstructionId": 8, "instructionId": pending[1], "reason": "typo"}]});
    s.check(
        "POST /gw/api/v1/instructions/cancel:bulk",
        &post(&app, t, "/gw/api/v1/instructions/cancel:bulk", cancels).await,
    );
    let withdrawable = instruction(
        "QUERY_WITHDRAWABLE_FUNDS",
        json!({"clientInstructionId": 9, "accountId": "DU1111111", "currency": "USD"}),
    );
    s.check(
        "POST /gw/api/v1/external-cash-transfers/query",
        &post(&app, t, "/gw/api/v1/external-cash-transfers/query", withdrawable).await,
    );
    let recent = instruction(
        "QUERY_RECENT_INSTRUCTIONS",
        json!({"clientInstructionId": 10, "accountId": "DU1111111", "transactionHistory": {"daysToGoBack": 3}}),
    );
    s.check(
        "POST /gw/api/v1/instructions/query",
        &post(&app, t, "/gw/api/v1/instructions/query", recent).await,
    );
    let balances = instruction(
        "QUERY_WITHDRAWABLE_CASH_EQUITY",
        json!({"clientInstructionId": 11, "accountId": "DU1111111", "currency": "USD"}),
    );
    s.check("POST /gw/api/v1/balances/query", &post(&app, t, "/gw/api/v1/balances/query", balances).await);

    let fop = |id: u64, quantity: u32| {
        json!({"clientInstructionId": id, "direction": "IN", "accountId": "DU1111111",
        "contraBrokerAccountId": "12345678A", "contraBrokerDtcCode": "534", "quantity": quantity,
        "tradingInstrument": {"conid": 265598, "currency": "USD"}})
    };
    let delivered = post(
        &app,
        t,
        "/gw/api/v1/external-asset-transfers",
        json!({"instructionType": "FOP", "instruction": fop(12, 25)}),
    )
    .await;
    s.check("POST /gw/api/v1/external-asset-transfers", &delivered);
    let fops = json!({"instructionType": "FOP", "instructions": [fop(13, 5)]});
    s.check(
        "POST /gw/api/v1/external-asset-transfers:bulk",
        &post(&app, t, "/gw/api/v1/external-asset-transfers:bulk", fops).await,
    );
    advance(&app, "2d").await;
    let shares = |id: u64| {
        json!({"clientInstructionId": id, "sourceAccountId": "DU1111111", "targetAccountId": grace,
        "transferQuantity": 5, "tradingInstrument": {"conid": 265598, "currency": "USD"}})
    };
    let moved = post(
        &app,
        t,
        "/gw/api/v1/internal-asset-transfers",
        json!({"instructionType": "INTERNAL_POSITION_TRANSFER", "instruction": shares(14)}),
    )
    .await;
    s.check("POST /gw/api/v1/internal-asset-transfers", &moved);
    let bulk = json!({"instructionType": "INTERNAL_POSITION_TRANSFER", "instructions": [shares(15)]});
    s.check(
        "POST /gw/api/v1/internal-asset-transfers:bulk",
        &post(&app, t, "/gw/api/v1/internal-asset-transfers:bulk", bulk).await,
    );
    let money = |id: u64| {
        json!({"clientInstructionId": id, "sourceAccountId": "DU1111111", "targetAccountId": grace,
        "amount": 100, "currency": "USD"})
    };
    let moved = post(
        &app,
        t,
        "/gw/api/v1/internal-cash-transfers",
        json!({"instructionType": "INTERNAL_CASH_TRANSFER", "instruction": money(16)}),
    )
    .await;
    s.check("POST /gw/api/v1/internal-cash-transfers", &moved);
    let bulk = json!({"instructionType": "INTERNAL_CASH_TRANSFER", "instructions": [money(17)]});
    s.check(
        "POST /gw/api/v1/internal-cash-transfers:bulk",
        &post(&app, t, "/gw/api/v1/internal-cash-transfers:bulk", bulk).await,
    );
    advance(&app, "1d").await;

    let period = json!({"accountId": "DU1111111", "startDate": "20260303", "endDate": "20260306", "mimeType": "application/json"});
    s.check("POST /gw/api/v1/statements", &post(&app, t, "/gw/api/v1/statements", period.clone()).await);
    s.check(
        "GET /gw/api/v1/statements/available",
        &get(&app, t, "/gw/api/v1/statements/available?accountId=DU1111111").await,
    );
    s.check(
        "POST /gw/api/v1/trade-confirmations",
        &post(&app, t, "/gw/api/v1/trade-confirmations", period).await,
    );
    let available = get(&app, t, "/gw/api/v1/trade-confirmations/available?accountId=DU1111111").await;
    s.check("GET /gw/api/v1/trade-confirmations/available", &available);

    let hedy =
        send(&app, t, Method::POST, "/gw/api/v1/accounts", application("hedy", "1980-01-01"), true).await;
    let hedy = hedy.body["fileData"]["data"]["acctId"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", hedy.text))
        .to_owned();
    advance(&app, "1d").await;
    let close =
        json!({"accountManagementRequests": {"accountClose": {"accountId": hedy, "closeReason": "moving"}}});
    s.check(
        "PATCH /gw/api/v1/accounts",
        &send(&app, t, Method::PATCH, "/gw/api/v1/accounts", close, true).await,
    );
}

#[tokio::test]
async fn every_implemented_operation_answers_as_ibkrs_schema_and_examples_have_it() {
    let mut sweep = Sweep::default();
    trading(&mut sweep).await;
    account_management(&mut sweep).await;
    let implemented = server::spec::implemented(&server::app::openapi());
    let mut unchecked = Vec::new();
    for operation in server::spec::operations() {
        let key = (operation.method.to_string(), server::spec::normalize(operation.path));
        let name = format!("{} {}", operation.method, operation.path);
        if implemented.contains(&key)
            && !sweep.called.contains(&name)
            && !NOT_JSON.iter().any(|(skipped, _)| *skipped == name)
        {
            unchecked.push(name);
        }
    }
    let stale = FORGIVEN.iter().filter(|f| !sweep.forgiven_used.contains(f.node)).map(|f| f.node.to_owned());
    let stale_absent = ABSENT
        .iter()
        .filter(|a| !sweep.absent_used.contains(&(a.operation, a.field)))
        .map(|a| format!("{} {} ({})", a.operation, a.field, a.why));
    let report: BTreeMap<&str, Vec<String>> = BTreeMap::from([
        ("problems", sweep.problems.clone()),
        ("implemented operations not called", unchecked),
        ("forgiven nodes that no longer differ", stale.collect()),
        ("absent fields that are there now", stale_absent.collect()),
        ("forgiven nodes IBKR's examples do not break", unfounded()),
    ]);
    assert!(report.values().all(Vec::is_empty), "{report:#?}");
}
