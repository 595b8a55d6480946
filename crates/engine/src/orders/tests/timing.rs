//! What an order waits for in time: the open, the closing auction, the end of its day.

use jiff::SignedDuration;
use model::{OrderStatus, OrderType, Side, TimeInForce};

use crate::Command;
use crate::orders::Waiting;
use crate::testing::{Broker, d, new_york, ticket};

#[test]
fn a_day_order_expires_at_the_close() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let limit = broker.quote().bid - d("50");
    let mut day = ticket(Side::Buy, 10, OrderType::Limit { limit });
    day.tif = TimeInForce::Day;
    let id = broker.place("DU1234567", vec![day]).unwrap()[0];
    broker.advance(SignedDuration::from_hours(4) + SignedDuration::from_mins(59));
    assert_eq!(broker.status(id), OrderStatus::Submitted, "15:59");
    broker.advance(SignedDuration::from_mins(2));
    let order = broker.engine.state().order(id).unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(order.updated_at, new_york("2026-03-03T16:00"), "at the close exactly");
}

#[test]
fn an_order_placed_before_the_open_waits_for_it() {
    let mut broker = Broker::at("2026-03-03T08:00");
    let id = broker.place("DU1234567", vec![ticket(Side::Buy, 10, OrderType::Market)]).unwrap()[0];
    assert_eq!(broker.status(id), OrderStatus::PreSubmitted);
    broker.advance(SignedDuration::from_hours(2));
    let order = broker.engine.state().order(id).unwrap();
    assert_eq!(order.status, OrderStatus::Filled);
    assert_eq!(
        broker.engine.state().executions(&"DU1234567".parse().unwrap()).next().unwrap().at,
        new_york("2026-03-03T09:30")
    );
}

#[test]
fn market_on_close_fills_at_the_closing_price() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let mut moc = ticket(Side::Buy, 10, OrderType::MarketOnClose);
    moc.tif = TimeInForce::Day;
    let id = broker.place("DU1234567", vec![moc]).unwrap()[0];
    broker.advance(SignedDuration::from_hours(6));
    let execution = broker.engine.state().executions(&"DU1234567".parse().unwrap()).next().unwrap().clone();
    assert_eq!((broker.status(id), execution.at), (OrderStatus::Filled, new_york("2026-03-03T16:00")));
}

#[test]
fn a_modification_decides_anew_what_the_order_waits_for() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let mut loc = ticket(Side::Buy, 10, OrderType::LimitOnClose { limit: d("1.00") });
    loc.tif = TimeInForce::Day;
    let id = broker.place("DU1234567", vec![loc.clone()]).unwrap()[0];
    assert_eq!(broker.engine.state().order(id).unwrap().waiting, Some(Waiting::Close));
    loc.order_type = OrderType::Limit { limit: d("1.00") };
    broker
        .apply(Command::ModifyOrder {
            session: broker.session.clone(),
            account: "DU1234567".parse().unwrap(),
            order: id,
            ticket: loc,
        })
        .unwrap();
    let order = broker.engine.state().order(id).unwrap();
    assert_eq!((order.status, order.waiting), (OrderStatus::Submitted, None), "a plain limit now, resting");
}
