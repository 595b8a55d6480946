//! The questions IBKR asks before it places an order, in its words where clients match on
//! them: ibind answers a question by finding one of its known phrases in the text (after
//! dropping newlines), so each text carries that phrase verbatim.

use engine::orders::preview::Precaution;
use engine::orders::{Size, Ticket};
use model::{Instrument, Side};

use super::desk::Question;
use crate::wire::grouped;

/// How IBKR's texts name an order: `BUY 650 AAPL NASDAQ`, with ` @ 150.00` for a limit.
fn describe(instrument: &Instrument, ticket: &Ticket, with_price: bool) -> String {
    let side = match ticket.side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    };
    let size = match ticket.size {
        Size::Quantity(quantity) => quantity.normalize().to_string(),
        Size::Cash(amount) => format!("{} {}", amount.normalize(), instrument.currency),
    };
    let mut text = format!("{side} {size} {} {}", instrument.symbol, instrument.listing_exchange);
    if let Some(limit) = ticket.order_type.limit().filter(|_| with_price) {
        text.push_str(&format!(" @ {limit}"));
    }
    text
}

const CONFIRM: &str = "\nAre you sure you want to submit this order?";

/// The question for one precaution about `ticket`.
pub fn question(instrument: &Instrument, ticket: &Ticket, precaution: Precaution) -> Question {
    let (id, text) = match precaution {
        Precaution::PriceFarFromMarket { percent } => (
            "o163",
            format!(
                "The following order \"{}\" price exceeds \nthe Percentage constraint of {}%.{CONFIRM}",
                describe(instrument, ticket, true),
                percent.normalize()
            ),
        ),
        Precaution::SizeLimit { limit } => (
            "o383",
            format!(
                "The following order \"{}\" size exceeds the Size Limit of {}.{CONFIRM}",
                describe(instrument, ticket, false),
                limit.normalize()
            ),
        ),
        Precaution::ValueLimit { value, limit } => (
            "o451",
            format!(
                "The following order \"{}\" value estimate of {} USD exceeds \nthe Total Value Limit of {} USD.{CONFIRM}",
                describe(instrument, ticket, false),
                grouped(value, 2),
                grouped(limit, 0)
            ),
        ),
        Precaution::TriggersNow => {
            ("o403", format!("This order will most likely trigger and fill immediately.{CONFIRM}"))
        }
        Precaution::MarketOrder => (
            "o10151",
            format!(
                "<h4>Market Order Confirmation</h4>&nbsp;A Market Order is an instruction to trade your order at any \
                 available price: it fills against the book, level by level, as far as its size needs.{CONFIRM}"
            ),
        ),
        Precaution::StopOrder => (
            "o10331",
            format!(
                "You are about to submit a stop order. Please be aware of the various stop order types available and \
                 the risks associated with each one.{CONFIRM}"
            ),
        ),
        Precaution::CashQuantity => (
            "o10223",
            format!(
                "<h4>Cash Quantity Order Confirmation</h4>Orders that express size using a monetary value (cash \
                 quantity) are provided on a non-guaranteed basis. The quantity is worked out from the price when the \
                 order is placed.{CONFIRM}"
            ),
        ),
    };
    Question { id, text }
}

/// The question for an order placed without market data for its instrument in this session.
pub fn missing_market_data() -> Question {
    Question {
        id: "o354",
        text: format!(
            "You are submitting an order without market data. We strongly recommend against this as it may result \
             in erroneous and unexpected trades.{CONFIRM}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use market::Catalogue;
    use model::{Conid, Decimal, OrderType, TimeInForce};

    use super::*;

    /// ibind 0.2.2's phrases (`QuestionType`), which must survive its dropping of newlines.
    const IBIND_PHRASES: &[(&str, &str)] = &[
        ("o163", "price exceeds the Percentage constraint of 3%"),
        (
            "o354",
            "You are submitting an order without market data. We strongly recommend against this as it may result in erroneous and unexpected trades.",
        ),
        ("o383", "size exceeds the Size Limit of"),
        ("o403", "This order will most likely trigger and fill immediately."),
        ("o451", "exceeds the Total Value Limit of"),
        ("o10151", "A Market Order is an instruction to trade your order at any available price"),
        (
            "o10331",
            "You are about to submit a stop order. Please be aware of the various stop order types available and the risks associated with each one.",
        ),
        (
            "o10223",
            "Orders that express size using a monetary value (cash quantity) are provided on a non-guaranteed basis.",
        ),
    ];

    #[test]
    fn every_text_carries_ibinds_phrase() {
        let aapl = Catalogue::standard().get(Conid::new(265_598)).unwrap();
        let ticket = Ticket {
            conid: aapl.conid,
            side: Side::Buy,
            size: Size::Quantity(Decimal::new(650, 0)),
            order_type: OrderType::Limit { limit: Decimal::new(15000, 2) },
            tif: TimeInForce::Day,
            outside_rth: false,
            client_order_id: None,
            parent_client_order_id: None,
        };
        let questions = [
            Precaution::PriceFarFromMarket { percent: Decimal::new(3, 0) },
            Precaution::SizeLimit { limit: Decimal::new(500, 0) },
            Precaution::ValueLimit { value: Decimal::new(9_750_000, 2), limit: Decimal::new(100_000, 0) },
            Precaution::TriggersNow,
            Precaution::MarketOrder,
            Precaution::StopOrder,
            Precaution::CashQuantity,
        ]
        .map(|precaution| question(aapl, &ticket, precaution))
        .into_iter()
        .chain([missing_market_data()]);
        for question in questions {
            let phrase = IBIND_PHRASES.iter().find(|(id, _)| *id == question.id).unwrap().1;
            let seen = question.text.trim().replace('\n', "");
            assert!(seen.contains(phrase), "{}: {seen}", question.id);
        }
    }
}
