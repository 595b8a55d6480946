//! Placing orders: what an account's cash or margin allows, what IBKR refuses outright, the
//! precautions and previews shown before placing, and what a finished order no longer takes.

use model::{AccountId, OrderId, OrderType, Side};
use rust_decimal::Decimal;

use crate::orders::preview::Precaution;
use crate::orders::{OrderRejection, Size};
use crate::testing::{Broker, d, ticket};
use crate::{Command, EngineError};

#[test]
fn a_cash_account_cannot_sell_short_or_spend_more_than_it_has() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let before = broker.engine.digest();
    let short = broker.place("DU7654321", vec![ticket(Side::Sell, 10, OrderType::Market)]);
    assert!(
        matches!(short, Err(EngineError::OrderRejected(OrderRejection::CannotSellShort { .. }))),
        "{short:?}"
    );
    let too_much = broker.place("DU7654321", vec![ticket(Side::Buy, 1000, OrderType::Market)]);
    assert!(
        matches!(too_much, Err(EngineError::OrderRejected(OrderRejection::InsufficientFunds { .. }))),
        "{too_much:?}"
    );
    assert_eq!(broker.engine.digest(), before, "a refused order changes nothing");
    assert_eq!(broker.place("DU7654321", vec![ticket(Side::Buy, 100, OrderType::Market)]).unwrap().len(), 1);
}

#[test]
fn a_margin_account_is_held_to_reg_t() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let within = broker.place("DU1234567", vec![ticket(Side::Buy, 7000, OrderType::Market)]);
    assert!(within.is_ok(), "1.9M of AAPL on 1M of equity: {within:?}");
    let beyond = broker.place("DU1234567", vec![ticket(Side::Buy, 3000, OrderType::Market)]);
    assert!(
        matches!(beyond, Err(EngineError::OrderRejected(OrderRejection::InitialMargin { .. }))),
        "{beyond:?}"
    );
}

#[test]
fn a_finished_order_cannot_be_cancelled_or_modified() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let id = broker.place("DU1234567", vec![ticket(Side::Buy, 10, OrderType::Market)]).unwrap()[0];
    let account: AccountId = "DU1234567".parse().unwrap();
    let cancel = broker.apply(Command::CancelOrder {
        session: broker.session.clone(),
        account: account.clone(),
        order: id,
    });
    assert!(matches!(cancel, Err(EngineError::FinishedOrder { .. })), "{cancel:?}");
    let unknown = broker.apply(Command::CancelOrder {
        session: broker.session.clone(),
        account,
        order: OrderId::new(5),
    });
    assert_eq!(unknown, Err(EngineError::UnknownOrder(OrderId::new(5))));
}

#[test]
fn a_duplicate_client_order_id_is_refused() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let mut first = ticket(Side::Buy, 1, OrderType::Market);
    first.client_order_id = Some("mine".into());
    broker.place("DU1234567", vec![first.clone()]).unwrap();
    let again = broker.place("DU1234567", vec![first]);
    assert_eq!(
        again,
        Err(EngineError::OrderRejected(OrderRejection::ClientOrderIdUsed { client_order_id: "mine".into() }))
    );
    assert_eq!(
        again.unwrap_err().to_string(),
        "Order couldn't be submitted: Local order ID=mine is already registered.",
        "IBKR's words, which clients match on"
    );
}

#[test]
fn precautions_follow_ibkrs_defaults() {
    let broker = Broker::at("2026-03-03T11:00");
    let last = broker.quote().last;
    let tickets = vec![
        ticket(Side::Buy, 10, OrderType::Market),
        ticket(Side::Buy, 10, OrderType::Limit { limit: (last * d("0.9")).round_dp(2) }),
        ticket(Side::Sell, 10, OrderType::Stop { stop: last + d("1") }),
        ticket(Side::Buy, 1000, OrderType::Limit { limit: last }),
    ];
    let found = broker.engine.precautions(broker.wall, &tickets);
    assert_eq!(found[0], [Precaution::MarketOrder]);
    assert_eq!(found[1], [Precaution::PriceFarFromMarket { percent: d("3") }]);
    assert_eq!(found[2], [Precaution::TriggersNow, Precaution::StopOrder]);
    assert!(
        matches!(found[3][..], [Precaution::SizeLimit { .. }, Precaution::ValueLimit { .. }]),
        "{:?}",
        found[3]
    );
}

#[test]
fn a_preview_shows_the_order_filled_and_changes_nothing() {
    let broker = Broker::at("2026-03-03T11:00");
    let before = broker.engine.digest();
    let account: AccountId = "DU1234567".parse().unwrap();
    let preview = broker
        .engine
        .preview(broker.wall, &broker.session, &account, &ticket(Side::Buy, 10, OrderType::Market))
        .unwrap();
    assert_eq!(
        (preview.commission, preview.position, preview.position_after),
        (Decimal::ONE, Decimal::ZERO, Decimal::TEN)
    );
    assert_eq!(preview.before.equity, d("1000000"));
    assert!(preview.after.equity < preview.before.equity && preview.after.initial > preview.before.initial);
    assert_eq!(broker.engine.digest(), before);
    let short = broker.engine.preview(
        broker.wall,
        &broker.session,
        &"DU7654321".parse().unwrap(),
        &ticket(Side::Sell, 1, OrderType::Market),
    );
    assert!(matches!(short, Err(EngineError::OrderRejected(_))));
}

#[test]
fn the_orders_of_one_request_count_against_each_other() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let ask = broker.quote().ask;
    let half = (d("60000") / ask).floor();
    let each = ticket(Side::Buy, half.try_into().unwrap(), OrderType::Limit { limit: ask });
    assert!(
        broker.engine.preview(broker.wall, &broker.session, &"DU7654321".parse().unwrap(), &each).is_ok(),
        "one fits"
    );
    let twice = broker.place("DU7654321", vec![each.clone(), each]);
    assert!(
        matches!(twice, Err(EngineError::OrderRejected(OrderRejection::InsufficientFunds { .. }))),
        "{twice:?}"
    );
}

#[test]
fn absurd_sizes_and_prices_are_refused() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let huge = ticket(Side::Buy, 1, OrderType::Limit { limit: d("0.01") });
    let mut huge = huge;
    huge.size = Size::Quantity(d("1000000000000000000000000000"));
    assert!(matches!(
        broker.place("DU1234567", vec![huge]),
        Err(EngineError::OrderRejected(OrderRejection::SizeTooLarge { .. }))
    ));
    let dear = ticket(Side::Buy, 1, OrderType::Limit { limit: d("10000000000") });
    assert_eq!(
        broker.place("DU1234567", vec![dear]),
        Err(EngineError::OrderRejected(OrderRejection::PriceTooLarge { price: d("10000000000") }))
    );
}
