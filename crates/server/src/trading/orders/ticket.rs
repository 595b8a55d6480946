//! IBKR's order ticket (`singleOrderSubmissionRequest`) and its reading into the engine's
//! [`Ticket`]. Real clients send numbers as numbers or strings, `outsideRTH` in two spellings,
//! and many fields LocalBroker has no use for (`listingExchange`, `referrer`, `useAdaptive`,
//! ...), which are accepted and ignored.

use engine::orders::{Size, Ticket};
use model::{Conid, Decimal, OrderType, Side, TimeInForce, Trail};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::excerpt;
use crate::extract::lenient_bool;

/// One order, as IBKR's clients send it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderTicket {
    /// The contract, as a number or a string.
    #[schema(value_type = Option<u32>)]
    conid: Option<Value>,
    /// `conid@EXCHANGE`, instead of `conid`.
    conidex: Option<String>,
    /// The account; when given, it must be the path's.
    acct_id: Option<String>,
    /// `BUY` or `SELL`.
    side: Option<String>,
    /// `MKT`, `LMT`, `STP`, `STOP_LIMIT`, `TRAIL`, `TRAILLMT`, `MIDPRICE`, `MOC` or `LOC`.
    order_type: Option<String>,
    /// Shares, units or coins.
    #[schema(value_type = Option<f64>)]
    quantity: Option<Value>,
    /// An amount of money to trade instead of a quantity.
    #[schema(value_type = Option<f64>)]
    cash_qty: Option<Value>,
    /// The limit price; the stop price of `STP` and `TRAIL`.
    #[schema(value_type = Option<f64>)]
    price: Option<Value>,
    /// The stop price of `STOP_LIMIT`; the limit offset of `TRAILLMT`.
    #[schema(value_type = Option<f64>)]
    aux_price: Option<Value>,
    /// How far a trailing stop trails.
    #[schema(value_type = Option<f64>)]
    trailing_amt: Option<Value>,
    /// `amt` or `%`.
    trailing_type: Option<String>,
    /// `DAY`, `GTC`, `IOC`, `OPG`, `FOK` or `PAX`.
    tif: Option<String>,
    /// Whether the order may work outside regular trading hours.
    #[serde(rename = "outsideRTH", alias = "outsideRth", default, deserialize_with = "lenient_bool")]
    outside_rth: Option<bool>,
    /// The client's id for the order, unique per account.
    #[serde(rename = "cOID")]
    c_oid: Option<String>,
    /// For a bracket exit, its parent's `cOID`.
    #[schema(value_type = Option<String>)]
    parent_id: Option<Value>,
    /// Whether all the request's orders form one one-cancels-all group.
    #[serde(default, deserialize_with = "lenient_bool")]
    is_single_group: Option<bool>,
}

/// A problem reading a ticket: IBKR answers some with 400 and the rest inside a 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketError {
    /// Answered with HTTP 400.
    Malformed(String),
    /// Answered with HTTP 200 and `{"error": ...}`.
    Rejected(String),
}

fn number(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(n) => {
            n.to_string().parse().ok().or_else(|| n.as_f64().and_then(|f| Decimal::try_from(f).ok()))
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn field(value: Option<&Value>, name: &str) -> Result<Option<Decimal>, TicketError> {
    value
        .filter(|value| !value.is_null())
        .map(|value| {
            number(value).ok_or_else(|| {
                TicketError::Malformed(format!(
                    "orders request includes parameter with incorrect type: {name}"
                ))
            })
        })
        .transpose()
}

/// The longest client order id. IBKR documents no limit for `cOID`; its order reference is a
/// short label, and every id is kept with its order and checked against the others, so a
/// client that sends a megabyte learns it is wrong at once.
pub const MAX_CLIENT_ORDER_ID: usize = 64;

/// A client order id (`cOID`, or a child's `parentId`), if it is one: at most
/// [`MAX_CLIENT_ORDER_ID`] characters, none of them a control character.
fn client_order_id(name: &str, id: Option<String>) -> Result<Option<String>, TicketError> {
    match id {
        Some(id) if id.chars().count() > MAX_CLIENT_ORDER_ID || id.chars().any(char::is_control) => {
            Err(TicketError::Malformed(format!(
                "{name} is at most {MAX_CLIENT_ORDER_ID} characters, none of them a control character: {}",
                excerpt(&id)
            )))
        }
        id => Ok(id),
    }
}

fn price_fields() -> TicketError {
    TicketError::Rejected("Invalid order price fields".into())
}

impl OrderTicket {
    /// Whether the request asks for one OCA group of all its orders.
    pub fn is_single_group(&self) -> bool {
        self.is_single_group.unwrap_or(false)
    }

    /// The account the ticket names, if any.
    pub fn account(&self) -> Option<&str> {
        self.acct_id.as_deref()
    }

    /// The engine's ticket.
    ///
    /// # Errors
    /// [`TicketError`] naming the first field that does not read.
    pub fn read(&self) -> Result<Ticket, TicketError> {
        let conid = self.conid()?;
        let side = match self.side.as_deref().map(|s| s.trim().to_ascii_uppercase()).as_deref() {
            Some("BUY") => Side::Buy,
            Some("SELL") => Side::Sell,
            _ => return Err(TicketError::Malformed("Invalid Side (must be 'BUY' or 'SELL').".into())),
        };
        let size =
            match (field(self.quantity.as_ref(), "quantity")?, field(self.cash_qty.as_ref(), "cashQty")?) {
                (Some(quantity), _) if !quantity.is_zero() => Size::Quantity(quantity),
                (_, Some(cash)) => Size::Cash(cash),
                (Some(quantity), None) => Size::Quantity(quantity),
                (None, None) => {
                    return Err(TicketError::Rejected(
                        "The order size is missing: give quantity or cashQty.".into(),
                    ));
                }
            };
        let tif = match self.tif.as_deref().map(|t| t.trim().to_ascii_uppercase()).as_deref() {
            Some("DAY") => TimeInForce::Day,
            Some("GTC") => TimeInForce::GoodTillCancelled,
            Some("IOC" | "PAX") => TimeInForce::ImmediateOrCancel,
            Some("FOK") => TimeInForce::FillOrKill,
            Some("OPG") => TimeInForce::AtTheOpening,
            _ => {
                return Err(TicketError::Rejected(
                    "null time in force is not supported for this order".into(),
                ));
            }
        };
        Ok(Ticket {
            conid,
            side,
            size,
            order_type: self.order_type()?,
            tif,
            outside_rth: self.outside_rth.unwrap_or(false),
            client_order_id: client_order_id("cOID", self.c_oid.clone().filter(|id| !id.trim().is_empty()))?,
            parent_client_order_id: client_order_id(
                "parentId",
                match &self.parent_id {
                    Some(Value::String(id)) if !id.trim().is_empty() => Some(id.clone()),
                    Some(Value::Number(id)) => Some(id.to_string()),
                    _ => None,
                },
            )?,
        })
    }

    fn conid(&self) -> Result<Conid, TicketError> {
        let raw = match (&self.conid, &self.conidex) {
            (Some(Value::Number(n)), _) => n.to_string(),
            (Some(Value::String(s)), _) => s.clone(),
            (_, Some(conidex)) => conidex.split('@').next().unwrap_or_default().to_owned(),
            _ => return Err(TicketError::Malformed("conid or conidex is required".into())),
        };
        raw.trim().parse().map_err(|_| TicketError::Malformed(format!("Invalid conid: {}", excerpt(&raw))))
    }

    fn order_type(&self) -> Result<OrderType, TicketError> {
        let price = field(self.price.as_ref(), "price")?;
        let aux = field(self.aux_price.as_ref(), "auxPrice")?;
        let trail = || -> Result<Trail, TicketError> {
            let amount = field(self.trailing_amt.as_ref(), "trailingAmt")?.ok_or_else(price_fields)?;
            match self.trailing_type.as_deref().map(str::trim) {
                Some("amt") | None => Ok(Trail::Amount(amount)),
                Some("%") => Ok(Trail::Percent(amount)),
                Some(_) => Err(price_fields()),
            }
        };
        let kind = self.order_type.as_deref().map(|t| t.trim().to_ascii_uppercase()).unwrap_or_default();
        Ok(match kind.as_str() {
            "MKT" | "MARKET" => OrderType::Market,
            "LMT" | "LIMIT" => OrderType::Limit { limit: price.ok_or_else(price_fields)? },
            "STP" | "STOP" => OrderType::Stop { stop: price.ok_or_else(price_fields)? },
            "STOP_LIMIT" | "STPLMT" | "STP LMT" => OrderType::StopLimit {
                stop: aux.ok_or_else(price_fields)?,
                limit: price.ok_or_else(price_fields)?,
            },
            "TRAIL" | "TRAILING_STOP" => OrderType::TrailingStop { trail: trail()? },
            "TRAILLMT" | "TRAILING_STOP_LIMIT" => {
                OrderType::TrailingStopLimit { trail: trail()?, offset: aux.unwrap_or_default() }
            }
            "MIDPRICE" => OrderType::MidPrice { limit: price },
            "MOC" | "MARKETONCLOSE" => OrderType::MarketOnClose,
            "LOC" | "LIMITONCLOSE" => OrderType::LimitOnClose { limit: price.ok_or_else(price_fields)? },
            _ => return Err(TicketError::Malformed("Unknown order type".into())),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(value: Value) -> Result<Ticket, TicketError> {
        serde_json::from_value::<OrderTicket>(value).unwrap().read()
    }

    #[test]
    fn ibinds_and_easyibs_tickets_read() {
        let ibind = read(json!({"conid": 265598, "side": "BUY", "quantity": 10, "orderType": "LMT",
            "price": 150.25, "acctId": "DU1234567", "cOID": "t-1", "tif": "GTC", "outsideRTH": true}))
        .unwrap();
        assert_eq!(ibind.order_type, OrderType::Limit { limit: "150.25".parse().unwrap() });
        assert_eq!((ibind.client_order_id.as_deref(), ibind.outside_rth), (Some("t-1"), true));
        let easyib =
            read(json!({"conid": "265598", "orderType": "STOP_LIMIT", "price": 101, "auxPrice": 100,
            "side": "sell", "quantity": "7", "tif": "DAY", "outsideRth": false}))
            .unwrap();
        assert_eq!(
            easyib.order_type,
            OrderType::StopLimit { stop: Decimal::ONE_HUNDRED, limit: Decimal::new(101, 0) }
        );
        let cash = read(json!({"conidex": "479624278@PAXOS", "side": "BUY", "cashQty": 500, "orderType": "MKT", "tif": "IOC"})).unwrap();
        assert_eq!((cash.conid, cash.size), (Conid::new(479_624_278), Size::Cash(Decimal::new(500, 0))));
    }

    #[test]
    fn ibkrs_errors_come_back_in_ibkrs_words() {
        let base = json!({"conid": 265598, "side": "BUY", "quantity": 1, "orderType": "LMT", "price": 1, "tif": "DAY"});
        let with = |key: &str, value: Value| {
            let mut ticket = base.clone();
            ticket[key] = value;
            read(ticket)
        };
        assert_eq!(
            with("side", json!("HOLD")),
            Err(TicketError::Malformed("Invalid Side (must be 'BUY' or 'SELL').".into()))
        );
        assert_eq!(with("orderType", json!("XYZ")), Err(TicketError::Malformed("Unknown order type".into())));
        assert_eq!(
            with("price", Value::Null),
            Err(TicketError::Rejected("Invalid order price fields".into()))
        );
        assert!(
            matches!(with("tif", json!("SOMETIME")), Err(TicketError::Rejected(m)) if m.contains("time in force"))
        );
        assert!(matches!(with("quantity", json!({"a": 1})), Err(TicketError::Malformed(_))));
        let mut no_conid = base.clone();
        no_conid.as_object_mut().unwrap().remove("conid");
        assert_eq!(read(no_conid), Err(TicketError::Malformed("conid or conidex is required".into())));
    }
}
