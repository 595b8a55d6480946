//! The fields of IBKR's instruction schemas, typed. Reading a field never fails the body: it
//! keeps the value or what is wrong with it, so an instruction names its first wrong field in
//! its own order, whatever order the client's JSON lists them in.

use std::str::FromStr;

use engine::banking::{BankMethod, Direction};
use model::{AccountId, Conid, Currency, Decimal};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::gateway::problem::Problem;

/// A problem with `instruction.{field}`.
pub(super) fn rejected_field(field: &str, message: impl Into<String>) -> Problem {
    Problem::field(format!("instruction.{field}"), message)
}

/// One field of an instruction as the client sent it.
#[derive(Debug, Default)]
pub(super) enum Field<T> {
    /// Not sent, or null where null means nothing.
    #[default]
    Absent,
    Sent(T),
    /// Sent, but not a `T`: what is wrong, in the words the answer uses.
    Wrong(String),
}

impl<T> Field<T> {
    /// The value of field `name`, which the schema requires.
    pub(super) fn required(self, name: &str) -> Result<T, Problem> {
        self.optional(name)?.ok_or_else(|| rejected_field(name, "is required"))
    }

    /// What a sent value reads as next (`read` may find it wrong); absence and a wrong value
    /// stay as they are.
    fn and_then<U>(self, read: impl FnOnce(T) -> Field<U>) -> Field<U> {
        match self {
            Self::Absent => Field::Absent,
            Self::Sent(value) => read(value),
            Self::Wrong(message) => Field::Wrong(message),
        }
    }

    /// The value of field `name`, if sent.
    pub(super) fn optional(self, name: &str) -> Result<Option<T>, Problem> {
        match self {
            Self::Absent => Ok(None),
            Self::Sent(value) => Ok(Some(value)),
            Self::Wrong(message) => Err(rejected_field(name, message)),
        }
    }
}

impl<'de, T: FromWire> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(T::from_wire)
    }
}

/// A type one JSON value of an instruction reads as.
pub(super) trait FromWire: Sized {
    fn from_wire(value: Value) -> Field<Self>;
}

impl FromWire for String {
    fn from_wire(value: Value) -> Field<Self> {
        match value {
            Value::Null => Field::Absent,
            Value::String(text) => Field::Sent(text),
            _ => Field::Wrong("is a string".into()),
        }
    }
}

/// Text that names a `T` (`FromStr`), refused as "`text` is not `what`".
fn parsed<T: FromStr>(value: Value, what: &str) -> Field<T> {
    String::from_wire(value).and_then(|text| match text.parse() {
        Ok(parsed) => Field::Sent(parsed),
        Err(_) => Field::Wrong(format!("{text} is not {what}")),
    })
}

impl FromWire for AccountId {
    fn from_wire(value: Value) -> Field<Self> {
        parsed(value, "an account id")
    }
}

impl FromWire for Currency {
    fn from_wire(value: Value) -> Field<Self> {
        parsed(value, "a currency")
    }
}

/// An amount, sent as a JSON number or as text; null is not one.
#[derive(Debug)]
pub(super) struct Amount(pub(super) Decimal);

impl FromWire for Amount {
    fn from_wire(value: Value) -> Field<Self> {
        let text = match value {
            Value::Number(number) => number.to_string(),
            Value::String(text) => text,
            _ => return Field::Wrong("is a number".into()),
        };
        match Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)) {
            Ok(amount) => Field::Sent(Self(amount)),
            Err(_) => Field::Wrong(format!("{text} is not an amount")),
        }
    }
}

/// A whole number of at least 0 (ids, counts), sent as an amount.
#[derive(Debug)]
pub(super) struct Whole(pub(super) u64);

impl FromWire for Whole {
    fn from_wire(value: Value) -> Field<Self> {
        Amount::from_wire(value).and_then(|Amount(amount)| {
            let whole = amount.trunc();
            match (whole == amount).then(|| u64::try_from(whole).ok()).flatten() {
                Some(whole) => Field::Sent(Self(whole)),
                None => Field::Wrong("is a whole number of at least 0".into()),
            }
        })
    }
}

/// `bankInstructionMethod` as sent: each instruction takes only some methods.
#[derive(Debug)]
pub(super) struct MethodName(String);

impl FromWire for MethodName {
    fn from_wire(value: Value) -> Field<Self> {
        String::from_wire(value).and_then(|text| Field::Sent(Self(text)))
    }
}

impl MethodName {
    /// The method, if it is one of `allowed` (IBKR's `USACH` and `CAACH` are ACH).
    pub(super) fn among(self, allowed: &[BankMethod]) -> Result<BankMethod, Problem> {
        let method = match self.0.as_str() {
            "ACH" | "USACH" | "CAACH" => Some(BankMethod::Ach),
            "WIRE" => Some(BankMethod::Wire),
            "SEPA" => Some(BankMethod::Sepa),
            _ => None,
        };
        method.filter(|method| allowed.contains(method)).ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(method_name).collect();
            rejected_field(
                "bankInstructionMethod",
                format!("LocalBroker takes {} here, not {}", names.join(", "), self.0),
            )
        })
    }
}

/// IBKR's name of a bank method.
pub(super) fn method_name(method: &BankMethod) -> &'static str {
    match method {
        BankMethod::Ach => "ACH",
        BankMethod::Wire => "WIRE",
        BankMethod::Sepa => "SEPA",
    }
}

impl FromWire for Direction {
    fn from_wire(value: Value) -> Field<Self> {
        String::from_wire(value).and_then(|text| match text.as_str() {
            "IN" => Field::Sent(Direction::In),
            "OUT" => Field::Sent(Direction::Out),
            other => Field::Wrong(format!("is IN or OUT, not {other}")),
        })
    }
}

/// A nested object of the schema (its own fields are `Field`s, so reading it fails only when
/// it is not an object).
#[derive(Debug)]
pub(super) struct Object<T>(pub(super) T);

impl<T: DeserializeOwned> FromWire for Object<T> {
    fn from_wire(value: Value) -> Field<Self> {
        match value {
            Value::Object(_) => match serde_json::from_value(value) {
                Ok(inner) => Field::Sent(Self(inner)),
                Err(_) => Field::Wrong("is required".into()),
            },
            _ => Field::Wrong("is required".into()),
        }
    }
}

/// IBKR's `tradingInstrument`: LocalBroker's instruments have a conid, no CUSIP or ISIN.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TradingInstrument {
    conid: Field<Whole>,
}

impl TradingInstrument {
    /// The instrument's conid, from `instruction.tradingInstrument`.
    pub(super) fn conid(instrument: Field<Object<Self>>) -> Result<Conid, Problem> {
        let Object(instrument) = instrument.required("tradingInstrument")?;
        let conid = match instrument.conid {
            Field::Absent => {
                return Err(rejected_field(
                    "tradingInstrument",
                    "LocalBroker identifies instruments by conid, not by tradingInstrumentDescription",
                ));
            }
            Field::Sent(Whole(conid)) => conid,
            Field::Wrong(_) => return Err(rejected_field("tradingInstrument.conid", "is a conid")),
        };
        u32::try_from(conid)
            .map(Conid::new)
            .map_err(|_| rejected_field("tradingInstrument.conid", format!("{conid} is not a conid")))
    }
}
