use jiff::SignedDuration;
use jiff::civil::Date;
use model::{AccountId, Currency, OrderType, Side};
use rust_decimal::Decimal;

use super::performance::Period;
use crate::Command;
use crate::corporate_actions::{CorporateAction, SplitShares};
use crate::testing::{AAPL, Broker, d, ticket};

fn margin_account() -> AccountId {
    "DU1234567".parse().unwrap()
}

fn today(broker: &Broker) -> Date {
    market::calendar::new_york_date(broker.engine.state().market_time(broker.wall))
}

#[test]
fn the_split_rule_keeps_whole_shares_and_leaves_the_fraction() {
    let reverse = SplitShares::of(d("25"), 1, 10);
    assert_eq!((reverse.scaled, reverse.whole, reverse.fraction), (d("2.5"), d("2"), d("0.5")));
    let short = SplitShares::of(d("-7"), 2, 3);
    assert_eq!(short.whole, d("-4"), "toward zero");
}

#[test]
fn a_split_reports_the_shares_it_took_and_the_cash_paid_in_lieu() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.place("DU1234567", vec![ticket(Side::Buy, 25, OrderType::Market)]).unwrap();
    let before = broker.cash("DU1234567");
    let split = CorporateAction::Split { conid: AAPL, to: 1, from: 10, on: None };
    broker.apply(Command::AnnounceCorporateAction { action: split }).unwrap();
    let now = broker.engine.state().market_time(broker.wall);
    let day = today(&broker);
    let activity = broker.engine.state().activity(&margin_account(), day, day, now).unwrap();
    let splits = activity.splits();
    assert_eq!(splits.len(), 1);
    assert_eq!(splits[0].quantity, d("-23"), "25 shares became 2");
    assert!(!splits[0].is_forward());
    assert_eq!(splits[0].cash_in_lieu, broker.cash("DU1234567") - before);
}

#[test]
fn the_change_in_nav_is_its_flows_and_the_market() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.place("DU1234567", vec![ticket(Side::Buy, 10, OrderType::Market)]).unwrap();
    broker.advance(SignedDuration::from_hours(1));
    let deposit = Command::Deposit { account: margin_account(), currency: Currency::USD, amount: d("500") };
    broker.apply(deposit).unwrap();
    broker.advance(SignedDuration::from_hours(1));
    let now = broker.engine.state().market_time(broker.wall);
    let day = today(&broker);
    let activity = broker.engine.state().activity(&margin_account(), day, day, now).unwrap();
    let nav = activity.change_in_nav();
    let flows = nav.deposits_withdrawals
        + nav.internal_transfers
        + nav.dividends
        + nav.interest
        + nav.commissions
        + nav.dividend_accruals
        + nav.interest_accruals;
    assert_eq!(nav.starting_value + flows + nav.mtm, nav.ending_value);
    assert!(nav.commissions < Decimal::ZERO);
    let summary = activity.mark_to_market();
    assert_eq!(summary.len(), 1);
    let line = &summary[0];
    assert_eq!(line.close_quantity, d("10"));
    assert_eq!(line.total, line.transaction + line.prior_open + line.commissions);
    assert_eq!(nav.mtm, line.transaction + line.prior_open, "the shares are all the market did");
}

#[test]
fn money_paid_in_is_no_return() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.advance(SignedDuration::from_hours(24));
    let deposit =
        Command::Deposit { account: margin_account(), currency: Currency::USD, amount: d("250000") };
    broker.apply(deposit).unwrap();
    let now = broker.engine.state().market_time(broker.wall);
    let performance =
        broker.engine.state().performance(&[margin_account()], &[Period::OneMonth], now).unwrap();
    let series = performance.series(Period::OneMonth);
    assert_eq!(series.days.len(), 2, "the day it opened and today");
    assert_eq!(series.days[1].paid_in, d("250000"));
    assert!(series.cumulative_returns().iter().all(Decimal::is_zero), "{:?}", series.cumulative_returns());
    let months = series.monthly_returns();
    assert_eq!(months.len(), 1);
    assert!(months[0].value.is_zero());
    assert_eq!(performance.series(Period::OneDay).days.len(), 1);
}
