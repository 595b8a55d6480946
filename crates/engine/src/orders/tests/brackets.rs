//! Brackets and one-cancels-all groups: exits that wait for their parent, close no more than it
//! opens, and fill once among their group.

use model::{OrderId, OrderStatus, OrderType, Side};
use rust_decimal::Decimal;

use crate::market::MarketChange;
use crate::orders::{OrderRejection, Size};
use crate::testing::{Broker, d, ticket};
use crate::{Command, EngineError, Event};

#[test]
fn a_bracket_fills_its_parent_then_exactly_one_exit() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.change(MarketChange::Volatility(d("0.0001")));
    broker.change(MarketChange::Price(d("100")));
    let mut parent = ticket(Side::Buy, 10, OrderType::Limit { limit: d("101") });
    parent.client_order_id = Some("entry".into());
    let mut profit = ticket(Side::Sell, 10, OrderType::Limit { limit: d("105") });
    profit.parent_client_order_id = Some("entry".into());
    let mut loss = ticket(Side::Sell, 10, OrderType::Stop { stop: d("95") });
    loss.parent_client_order_id = Some("entry".into());
    let ids = broker.place("DU1234567", vec![parent, profit, loss]).unwrap();
    assert_eq!(broker.status(ids[0]), OrderStatus::Filled, "the entry was marketable");
    assert_eq!(broker.status(ids[1]), OrderStatus::Submitted);
    assert_eq!(broker.status(ids[2]), OrderStatus::PreSubmitted);
    broker.change(MarketChange::Price(d("106")));
    assert_eq!(broker.status(ids[1]), OrderStatus::Filled);
    assert_eq!(broker.status(ids[2]), OrderStatus::Cancelled, "its OCA sibling");
    assert_eq!(broker.position("DU1234567"), Decimal::ZERO);
}

#[test]
fn bracket_exits_wait_for_their_parent() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let limit = broker.quote().bid - d("20");
    let mut parent = ticket(Side::Buy, 10, OrderType::Limit { limit });
    parent.client_order_id = Some("entry".into());
    let mut exit = ticket(Side::Sell, 10, OrderType::Limit { limit: limit + d("40") });
    exit.parent_client_order_id = Some("entry".into());
    let ids = broker.place("DU1234567", vec![parent, exit]).unwrap();
    assert_eq!(broker.status(ids[1]), OrderStatus::PreSubmitted);
    broker
        .apply(Command::CancelOrder {
            session: broker.session.clone(),
            account: "DU1234567".parse().unwrap(),
            order: ids[0],
        })
        .unwrap();
    assert_eq!(broker.status(ids[1]), OrderStatus::Cancelled, "cancelled with its parent");
}

#[test]
fn one_fill_in_an_oca_group_at_a_shared_level_cancels_the_other() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.change(MarketChange::Volatility(d("0.0001")));
    broker.change(MarketChange::Price(d("100")));
    broker.place("DU1234567", vec![ticket(Side::Buy, 20, OrderType::Market)]).unwrap();
    let both = vec![
        ticket(Side::Sell, 10, OrderType::Limit { limit: d("105") }),
        ticket(Side::Sell, 10, OrderType::Limit { limit: d("105") }),
    ];
    let command = Command::PlaceOrders {
        session: broker.session.clone(),
        account: "DU1234567".parse().unwrap(),
        tickets: both,
        one_cancels_all: true,
    };
    let ids: Vec<OrderId> = broker
        .apply(command)
        .unwrap()
        .into_iter()
        .filter_map(|event| match event {
            Event::OrderPlaced { order } => Some(order),
            _ => None,
        })
        .collect();
    broker.change(MarketChange::Price(d("106")));
    let statuses: Vec<OrderStatus> = ids.iter().map(|id| broker.status(*id)).collect();
    assert_eq!(statuses, [OrderStatus::Filled, OrderStatus::Cancelled]);
    assert_eq!(broker.position("DU1234567"), d("10"), "sold once, not twice");
}

#[test]
fn bracket_exits_close_what_their_parent_opens() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let ask = broker.quote().ask;
    let bracket = |exit_side: Side, exit_size: i64| {
        let mut entry = ticket(Side::Buy, 10, OrderType::Limit { limit: ask });
        entry.client_order_id = Some(format!("entry-{exit_size}-{exit_side:?}"));
        let mut exit = ticket(exit_side, exit_size, OrderType::Limit { limit: ask + d("5") });
        exit.parent_client_order_id = entry.client_order_id.clone();
        vec![entry, exit]
    };
    let same_side = broker.place("DU7654321", bracket(Side::Buy, 10));
    assert!(
        matches!(same_side, Err(EngineError::OrderRejected(OrderRejection::BracketSides))),
        "{same_side:?}"
    );
    let larger = broker.place("DU7654321", bracket(Side::Sell, 1000));
    assert_eq!(
        larger,
        Err(EngineError::OrderRejected(OrderRejection::ExitLargerThanParent {
            exit: d("1000"),
            parent: Decimal::TEN
        }))
    );
    let ids = broker.place("DU7654321", bracket(Side::Sell, 10)).unwrap();
    assert_eq!((broker.status(ids[0]), broker.status(ids[1])), (OrderStatus::Filled, OrderStatus::Submitted));
    let again =
        broker.place("DU7654321", vec![ticket(Side::Sell, 10, OrderType::Limit { limit: ask + d("9") })]);
    assert!(
        matches!(
            again,
            Err(EngineError::OrderRejected(OrderRejection::CannotSellShort { available, .. }))
                if available.is_zero()
        ),
        "the exit sells them already: {again:?}"
    );
    let mut bigger_exit = ticket(Side::Sell, 10, OrderType::Limit { limit: ask + d("6") });
    bigger_exit.size = Size::Quantity(d("11"));
    let modified = broker.apply(Command::ModifyOrder {
        session: broker.session.clone(),
        account: "DU7654321".parse().unwrap(),
        order: ids[1],
        ticket: bigger_exit,
    });
    assert_eq!(
        modified,
        Err(EngineError::OrderRejected(OrderRejection::ExitLargerThanParent {
            exit: d("11"),
            parent: Decimal::TEN
        }))
    );
}

#[test]
fn a_parent_cut_to_what_filled_is_filled_and_starts_its_exits() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.change(MarketChange::Volatility(d("0.0001")));
    broker.change(MarketChange::Price(d("100")));
    let limit = broker.quote().ask + d("0.01");
    let mut entry = ticket(Side::Buy, 5_000, OrderType::Limit { limit });
    entry.client_order_id = Some("entry".into());
    let mut exit = ticket(Side::Sell, 5_000, OrderType::Limit { limit: d("110") });
    exit.parent_client_order_id = Some("entry".into());
    let ids = broker.place("DU1234567", vec![entry.clone(), exit]).unwrap();
    let filled = broker.engine.state().order(ids[0]).unwrap().filled;
    assert!(filled < d("5000"), "partly filled: {filled}");
    entry.size = Size::Quantity(filled);
    broker
        .apply(Command::ModifyOrder {
            session: broker.session.clone(),
            account: "DU1234567".parse().unwrap(),
            order: ids[0],
            ticket: entry,
        })
        .unwrap();
    assert_eq!((broker.status(ids[0]), broker.status(ids[1])), (OrderStatus::Filled, OrderStatus::Submitted));
}
