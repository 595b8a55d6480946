//! Fills: a marketable order against the book, and resting limits, stops and trailing stops as
//! the price moves through them (or jumps, or halts); the cash, positions and ledger they leave.

use jiff::SignedDuration;
use model::{AccountId, Currency, OrderStatus, OrderType, Side, Trail};
use rust_decimal::Decimal;

use crate::ledger::Book;
use crate::market::MarketChange;
use crate::testing::{AAPL, Broker, d, ticket};
use crate::{Command, Engine};

#[test]
fn a_marketable_buy_fills_and_pays_price_and_commission() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let ask = broker.quote().ask;
    let id = broker.place("DU1234567", vec![ticket(Side::Buy, 10, OrderType::Market)]).unwrap()[0];
    assert_eq!(broker.status(id), OrderStatus::Filled);
    let order = broker.engine.state().order(id).unwrap();
    assert_eq!((order.filled, order.average_price()), (Decimal::TEN, Some(ask)), "ten shares at the ask");
    assert_eq!(order.commission, Decimal::ONE, "IBKR Pro's minimum");
    assert_eq!(broker.cash("DU1234567"), d("1000000") - Decimal::TEN * ask - Decimal::ONE);
    assert_eq!(broker.position("DU1234567"), Decimal::TEN);
    assert!(broker.engine.state().ledger().is_balanced());
}

#[test]
fn a_round_trip_realizes_the_price_difference_less_commissions() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.place("DU1234567", vec![ticket(Side::Buy, 10, OrderType::Market)]).unwrap();
    broker.advance(SignedDuration::from_mins(30));
    let sold = broker.place("DU1234567", vec![ticket(Side::Sell, 10, OrderType::Market)]).unwrap()[0];
    assert_eq!(broker.status(sold), OrderStatus::Filled);
    let account: AccountId = "DU1234567".parse().unwrap();
    let state = broker.engine.state();
    let executions: Vec<_> = state.executions(&account).collect();
    let gain = Decimal::TEN * (executions[1].price - executions[0].price);
    let ledger = state.ledger();
    let realized = gain - Decimal::TWO;
    assert_eq!(ledger.balance(&account, Book::RealizedPnl, Currency::USD), -realized, "a gain is credited");
    let position = state.positions.get(&account).unwrap().get(&AAPL).unwrap();
    assert_eq!(position.realized, realized, "the price difference less two minimum commissions");
    assert_eq!(broker.cash("DU1234567"), d("1000000") + realized);
    assert_eq!(broker.position("DU1234567"), Decimal::ZERO);
}

#[test]
fn a_resting_limit_fills_at_its_price_once_the_market_trades_through_it() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let bid = broker.quote().bid;
    let limit = bid - d("0.50");
    let id = broker.place("DU1234567", vec![ticket(Side::Buy, 10, OrderType::Limit { limit })]).unwrap()[0];
    assert_eq!(broker.status(id), OrderStatus::Submitted);
    broker.change(MarketChange::Price(limit - d("1.00")));
    assert_eq!(broker.status(id), OrderStatus::Filled, "the jump crossed it");
    let execution = broker.engine.state().executions(&"DU1234567".parse().unwrap()).next().unwrap().clone();
    assert!(execution.price <= limit, "at its limit or the better price it jumped to: {execution:?}");
}

#[test]
fn a_limit_the_path_crosses_later_fills_at_the_instant_it_is_crossed() {
    let mut broker = Broker::at("2026-03-03T10:00");
    let bid = broker.quote().bid;
    let limit = bid - d("0.30");
    let id = broker.place("DU1234567", vec![ticket(Side::Buy, 10, OrderType::Limit { limit })]).unwrap()[0];
    for _ in 0..60 {
        if broker.status(id) == OrderStatus::Filled {
            break;
        }
        broker.advance(SignedDuration::from_mins(30));
    }
    let execution = broker.engine.state().executions(&"DU1234567".parse().unwrap()).next().unwrap().clone();
    assert_eq!(execution.price, limit);
    let venue = broker.engine.state().venue(AAPL).unwrap();
    let at_fill = venue.path.price(execution.at);
    assert!(
        (at_fill - f64::try_from(limit).unwrap()).abs() < 1e-6,
        "the path is at the limit then: {at_fill}"
    );
    let just_before = venue.path.price(execution.at - SignedDuration::from_millis(1));
    assert!(just_before >= f64::try_from(limit).unwrap() - 1e-6, "and had not been below it");
}

#[test]
fn a_stop_is_triggered_by_a_price_override_and_sells_at_the_bid() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.place("DU1234567", vec![ticket(Side::Buy, 10, OrderType::Market)]).unwrap();
    let stop = broker.quote().bid - d("5.00");
    let id = broker.place("DU1234567", vec![ticket(Side::Sell, 10, OrderType::Stop { stop })]).unwrap()[0];
    assert_eq!(broker.status(id), OrderStatus::PreSubmitted, "waiting for its trigger");
    broker.change(MarketChange::Price(stop - d("1.00")));
    assert_eq!(broker.status(id), OrderStatus::Filled);
    let bid = broker.quote().bid;
    let order = broker.engine.state().order(id).unwrap();
    assert_eq!(order.average_price(), Some(bid), "a market order at the bid after the trigger");
}

#[test]
fn a_trailing_stop_follows_a_rise_and_triggers_on_the_fall() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.change(MarketChange::Volatility(d("0.0001")));
    broker.change(MarketChange::Price(d("100")));
    broker.place("DU1234567", vec![ticket(Side::Buy, 10, OrderType::Market)]).unwrap();
    let trail = OrderType::TrailingStop { trail: Trail::Amount(d("2.00")) };
    let id = broker.place("DU1234567", vec![ticket(Side::Sell, 10, trail)]).unwrap()[0];
    broker.change(MarketChange::Price(d("110")));
    broker.advance(SignedDuration::from_mins(1));
    assert_eq!(broker.status(id), OrderStatus::PreSubmitted, "it followed the rise");
    assert_eq!(
        broker.engine.state().order(id).unwrap().stop_price().map(|s| s.round_dp(1)),
        Some(d("108.0"))
    );
    broker.change(MarketChange::Price(d("109")));
    assert_eq!(broker.status(id), OrderStatus::PreSubmitted, "a dip above the stop");
    broker.change(MarketChange::Price(d("107")));
    assert_eq!(broker.status(id), OrderStatus::Filled, "the fall below 108 triggered it");
}

#[test]
fn a_large_market_order_walks_the_book_and_pays_for_its_size() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let ask = broker.quote().ask;
    let id = broker.place("DU1234567", vec![ticket(Side::Buy, 6_000, OrderType::Market)]).unwrap()[0];
    let account: AccountId = "DU1234567".parse().unwrap();
    let executions: Vec<_> = broker.engine.state().executions(&account).collect();
    assert!(executions.len() > 3, "{} executions", executions.len());
    assert!(executions.windows(2).all(|w| w[1].price > w[0].price), "each deeper level costs more");
    let order = broker.engine.state().order(id).unwrap();
    assert_eq!(order.filled, d("6000"));
    assert!(order.average_price().unwrap() > ask);
    assert_eq!(order.commission, d("30.00"), "half a cent a share on the whole order");
}

#[test]
fn a_modified_limit_that_becomes_marketable_fills() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let limit = broker.quote().bid - d("10");
    let id = broker.place("DU1234567", vec![ticket(Side::Buy, 10, OrderType::Limit { limit })]).unwrap()[0];
    let higher = broker.quote().ask + d("1");
    let account: AccountId = "DU1234567".parse().unwrap();
    let modify = Command::ModifyOrder {
        session: broker.session.clone(),
        account,
        order: id,
        ticket: ticket(Side::Buy, 5, OrderType::Limit { limit: higher }),
    };
    broker.apply(modify).unwrap();
    let order = broker.engine.state().order(id).unwrap();
    assert_eq!((order.status, order.quantity), (OrderStatus::Filled, d("5")));
}

#[test]
fn replaying_the_commands_reproduces_every_fill() {
    let mut broker = Broker::at("2026-03-03T10:00");
    let limit = broker.quote().bid - d("0.30");
    broker.place("DU1234567", vec![ticket(Side::Buy, 10, OrderType::Limit { limit })]).unwrap();
    broker.advance(SignedDuration::from_hours(3));
    let snapshot = broker.engine.snapshot().unwrap();
    let restored = Engine::from_snapshot(&snapshot).unwrap();
    assert_eq!(restored.digest(), broker.engine.digest());
    assert_eq!(restored.book, broker.engine.book, "the index is rebuilt");
}

#[test]
fn a_limit_resting_beyond_the_market_waits_for_the_price_to_come_back_through_it() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.change(MarketChange::Volatility(d("0.0001")));
    broker.change(MarketChange::Price(d("100")));
    let limit = broker.quote().ask + d("0.01");
    let id =
        broker.place("DU1234567", vec![ticket(Side::Buy, 5_000, OrderType::Limit { limit })]).unwrap()[0];
    let after_book = broker.engine.state().order(id).unwrap().filled;
    assert!(after_book > Decimal::ZERO && after_book < d("5000"), "the book gave {after_book}");
    broker.advance(SignedDuration::from_mins(30));
    assert_eq!(
        broker.engine.state().order(id).unwrap().filled,
        after_book,
        "no more without a trade through it"
    );
    broker.change(MarketChange::Price(limit + d("1")));
    broker.change(MarketChange::Price(limit - d("1")));
    let order = broker.engine.state().order(id).unwrap();
    assert_eq!(order.status, OrderStatus::Filled, "the price came back down through it");
}

#[test]
fn nothing_fills_during_a_halt_and_the_reopening_trades_through() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.change(MarketChange::Volatility(d("0.0001")));
    broker.change(MarketChange::Price(d("100")));
    let id = broker
        .place("DU1234567", vec![ticket(Side::Buy, 10, OrderType::Limit { limit: d("95") })])
        .unwrap()[0];
    broker
        .apply(Command::ChangeMarket {
            conid: AAPL,
            changes: vec![MarketChange::Halt(true), MarketChange::Price(d("90"))],
        })
        .unwrap();
    assert_eq!(broker.status(id), OrderStatus::Submitted, "halted: nothing trades");
    broker.advance(SignedDuration::from_mins(5));
    assert_eq!(broker.status(id), OrderStatus::Submitted);
    broker.change(MarketChange::Halt(false));
    let order = broker.engine.state().order(id).unwrap();
    assert_eq!(
        (order.status, order.average_price()),
        (OrderStatus::Filled, Some(d("90"))),
        "at the reopening price"
    );
}
