//! The portfolio in the engine: marks, P&L, settlement and the day's P&L, on a manual clock.

use jiff::SignedDuration;
use model::{AccountId, Conid, Currency, OrderType, Side};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::corporate_actions::{CorporateAction, CorporateActionRefusal};
use crate::market::MarketChange;
use crate::orders::Ticket;
use crate::testing::{AAPL, Broker, d, market_order, new_york};
use crate::{Command, EngineError};

const MSFT: Conid = Conid::new(272_093);
const EUR_USD: Conid = Conid::new(12_087_792);

fn margin_account() -> AccountId {
    "DU1234567".parse().unwrap()
}

fn portfolio(broker: &Broker) -> super::Portfolio {
    let state = broker.engine.state();
    state.portfolio(&margin_account(), state.market_time(broker.wall)).unwrap()
}

#[test]
fn net_liquidation_is_cash_plus_holdings_at_the_last_trade() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker
        .place("DU1234567", vec![market_order(AAPL, Side::Buy, 100), market_order(MSFT, Side::Sell, 20)])
        .unwrap();
    broker.advance(SignedDuration::from_mins(90));
    let portfolio = portfolio(&broker);
    let state = broker.engine.state();
    let at = state.market_time(broker.wall);
    let aapl = portfolio.holding(AAPL).unwrap();
    assert_eq!(aapl.mark, state.mark(AAPL, at), "marked at the last trade");
    let cash = state.ledger().balance(&margin_account(), crate::ledger::Book::Cash, Currency::USD);
    let held = aapl.market_value() + portfolio.holding(MSFT).unwrap().market_value();
    assert_eq!(portfolio.net_liquidation(), cash + held);
    assert!(portfolio.holding(MSFT).unwrap().quantity < Decimal::ZERO, "a short");
    let gross = aapl.market_value().abs() + portfolio.holding(MSFT).unwrap().market_value().abs();
    assert_eq!(portfolio.gross_position_value(), gross);
    let maintenance =
        d("0.25") * aapl.market_value() + d("0.30") * portfolio.holding(MSFT).unwrap().market_value().abs();
    assert_eq!(portfolio.maintenance_margin(), maintenance, "Reg T keeps 25% of a long, 30% of a short");
}

#[test]
fn a_purchase_settles_the_next_business_day() {
    let mut broker = Broker::at("2026-03-06T11:00");
    broker.place("DU1234567", vec![market_order(AAPL, Side::Buy, 100)]).unwrap();
    let usd = |broker: &Broker| portfolio(broker).currencies[&Currency::USD].clone();
    let today = usd(&broker);
    assert_eq!(today.settled_cash, d("1000000"), "Friday's purchase has not settled");
    assert!(today.cash < today.settled_cash);
    broker.apply(Command::SetClock { to: new_york("2026-03-08T12:00") }).unwrap();
    assert_eq!(usd(&broker).settled_cash, d("1000000"), "not over the weekend");
    broker.apply(Command::SetClock { to: new_york("2026-03-09T00:30") }).unwrap();
    let monday = usd(&broker);
    assert_eq!(monday.settled_cash, monday.cash, "settled on Monday");
}

#[test]
fn the_days_pnl_counts_price_moves_and_not_deposits() {
    let mut broker = Broker::at("2026-03-03T10:00");
    broker.place("DU1234567", vec![market_order(AAPL, Side::Buy, 100)]).unwrap();
    broker.apply(Command::SetClock { to: new_york("2026-03-04T10:00") }).unwrap();
    let start = portfolio(&broker);
    let deposit = Command::Deposit { account: margin_account(), currency: Currency::USD, amount: d("5000") };
    broker.apply(deposit).unwrap();
    let mark = start.holding(AAPL).unwrap().mark;
    broker.change(MarketChange::Price(mark + Decimal::TEN));
    let after = portfolio(&broker);
    let moved = Decimal::ONE_HUNDRED
        * (after.holding(AAPL).unwrap().mark
            - broker.engine.state().mark(AAPL, new_york("2026-03-04T00:00")));
    assert_eq!(after.daily_pnl(), moved, "the deposit is not a gain; the price move since midnight is");
    assert_eq!(
        after.net_liquidation() - start.net_liquidation(),
        d("5000") + Decimal::ONE_HUNDRED * (after.holding(AAPL).unwrap().mark - mark)
    );
}

#[test]
fn currency_bought_is_cash_converted_at_the_pairs_mid() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.place("DU1234567", vec![market_order(EUR_USD, Side::Buy, 10_000)]).unwrap();
    let portfolio = portfolio(&broker);
    let eur = &portfolio.currencies[&Currency::EUR];
    assert_eq!(eur.cash, d("10000"));
    let mid =
        Decimal::try_from(broker.engine.state().venue(EUR_USD).unwrap().path.price(portfolio.at)).unwrap();
    assert_eq!(eur.rate, mid.round_dp(super::rates::RATE_DECIMALS));
    assert_eq!(portfolio.total_cash(), portfolio.currencies[&Currency::USD].cash + d("10000") * eur.rate);
    assert!(portfolio.holdings.is_empty(), "a currency is cash, not a position");
}

#[test]
fn deposits_and_withdrawals_move_cash_through_capital() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let account = margin_account();
    broker
        .apply(Command::Deposit { account: account.clone(), currency: Currency::EUR, amount: d("250.50") })
        .unwrap();
    assert_eq!(portfolio(&broker).currencies[&Currency::EUR].cash, d("250.50"));
    let too_much = broker.apply(Command::Withdraw {
        account: account.clone(),
        currency: Currency::EUR,
        amount: d("251"),
    });
    assert!(
        matches!(
            too_much,
            Err(crate::EngineError::TransferRefused(crate::funding::TransferRefusal::ExceedsWithdrawable {
                currency: Currency::EUR,
                ..
            }))
        ),
        "{too_much:?}"
    );
    broker
        .apply(Command::Withdraw { account: account.clone(), currency: Currency::EUR, amount: d("50.50") })
        .unwrap();
    assert_eq!(portfolio(&broker).currencies[&Currency::EUR].cash, d("200"));
    assert!(broker.engine.state().ledger().is_balanced());
    let nowhere = broker.apply(Command::Deposit {
        account: "DU0000001".parse().unwrap(),
        currency: Currency::USD,
        amount: d("1"),
    });
    assert!(nowhere.is_err(), "an unknown account");
}

#[test]
fn a_withdrawal_must_leave_the_initial_margin_covered() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.place("DU1234567", vec![market_order(AAPL, Side::Sell, 3000)]).unwrap();
    broker.advance(SignedDuration::from_hours(48));
    let available = portfolio(&broker).available_funds();
    let settled = portfolio(&broker).currencies[&Currency::USD].settled_cash;
    assert!(available < settled, "a short's proceeds are cash it cannot take out: {available} < {settled}");
    let over = Command::Withdraw {
        account: margin_account(),
        currency: Currency::USD,
        amount: available.round_dp(2) + Decimal::ONE,
    };
    assert!(broker.apply(over).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn unrealized_pnl_is_quantity_times_mark_less_average_cost(
        trades in prop::collection::vec((any::<bool>(), 1i64..300, 0u64..180), 1..8)
    ) {
        let mut broker = Broker::at("2026-03-03T10:00");
        for (buy, quantity, minutes) in trades {
            let side = if buy { Side::Buy } else { Side::Sell };
            let _ = broker.place("DU1234567", vec![market_order(AAPL, side, quantity)]);
            broker.advance(SignedDuration::from_mins(minutes as i64 + 1));
        }
        let portfolio = portfolio(&broker);
        let expected: Decimal = portfolio
            .holdings
            .iter()
            .map(|h| h.quantity * h.mark - h.cost)
            .sum();
        prop_assert_eq!(portfolio.unrealized(), expected);
        for holding in &portfolio.holdings {
            let by_average = holding.quantity * (holding.mark - holding.average_cost());
            prop_assert!((holding.unrealized() - by_average).abs() < d("0.000001"), "{} vs {}", holding.unrealized(), by_average);
        }
        let cash: Decimal = portfolio.currencies.values().map(|line| line.cash * line.rate).sum();
        prop_assert_eq!(portfolio.net_liquidation(), cash + portfolio.market_value());
        let realized = broker.engine.state().positions.get(&margin_account()).map_or(Decimal::ZERO, |held| held.values().map(|p| p.realized).sum());
        prop_assert_eq!(portfolio.realized(), realized);
        prop_assert!(broker.engine.state().ledger().is_balanced());
    }
}

fn announce(broker: &mut Broker, action: CorporateAction) -> Result<Vec<crate::Event>, crate::EngineError> {
    broker.apply(Command::AnnounceCorporateAction { action })
}

fn date(text: &str) -> jiff::civil::Date {
    text.parse().unwrap()
}

#[test]
fn a_dividend_accrues_to_holders_at_the_ex_date_and_is_paid_on_the_pay_date() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker
        .place("DU1234567", vec![market_order(AAPL, Side::Buy, 100), market_order(MSFT, Side::Sell, 10)])
        .unwrap();
    let dividend = |conid| CorporateAction::Dividend {
        conid,
        amount: d("0.26"),
        ex_date: date("2026-03-05"),
        pay_date: date("2026-03-09"),
    };
    announce(&mut broker, dividend(AAPL)).unwrap();
    announce(&mut broker, dividend(MSFT)).unwrap();
    let cash_before = portfolio(&broker).total_cash();
    // Bought after the ex-date began: not entitled.
    broker.apply(Command::SetClock { to: new_york("2026-03-05T10:00") }).unwrap();
    broker.place("DU1234567", vec![market_order(AAPL, Side::Buy, 50)]).unwrap();
    let accrued = portfolio(&broker);
    let owed = d("26.00") - d("2.60");
    assert_eq!(accrued.dividends_receivable(), owed, "100 long are owed, 10 short owe");
    assert_eq!(accrued.net_liquidation(), accrued.total_cash() + accrued.market_value() + owed);
    let excess = accrued.total_cash() + accrued.market_value() - accrued.maintenance_margin();
    assert_eq!(accrued.excess_liquidity(), excess, "IBKR's excess liquidity leaves accruals out");
    let spent = cash_before - accrued.total_cash();
    broker.apply(Command::SetClock { to: new_york("2026-03-09T09:00") }).unwrap();
    let paid = portfolio(&broker);
    assert_eq!(paid.dividends_receivable(), Decimal::ZERO);
    assert_eq!(paid.total_cash(), cash_before - spent + owed, "credited on the pay date");
    let income = broker.engine.state().ledger().balance(
        &margin_account(),
        crate::ledger::Book::Dividends,
        Currency::USD,
    );
    assert_eq!(income, -owed, "dividend income is a credit");
    assert!(broker.engine.state().ledger().is_balanced());
}

#[test]
fn a_dividend_whose_ex_date_has_begun_is_refused() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let late = CorporateAction::Dividend {
        conid: AAPL,
        amount: d("1"),
        ex_date: date("2026-03-03"),
        pay_date: date("2026-03-04"),
    };
    assert_eq!(
        announce(&mut broker, late),
        Err(EngineError::CorporateActionRefused(CorporateActionRefusal::ExDateBegun {
            ex_date: date("2026-03-03")
        }))
    );
    let backwards = CorporateAction::Dividend {
        conid: AAPL,
        amount: d("1"),
        ex_date: date("2026-03-06"),
        pay_date: date("2026-03-05"),
    };
    assert!(matches!(
        announce(&mut broker, backwards),
        Err(EngineError::CorporateActionRefused(CorporateActionRefusal::PayBeforeEx { .. }))
    ));
    let currency = CorporateAction::Dividend {
        conid: EUR_USD,
        amount: d("1"),
        ex_date: date("2026-03-06"),
        pay_date: date("2026-03-06"),
    };
    assert!(
        matches!(
            announce(&mut broker, currency),
            Err(EngineError::CorporateActionRefused(CorporateActionRefusal::NotAShare {
                conid: EUR_USD,
                ..
            }))
        ),
        "only shares pay dividends"
    );
}

#[test]
fn a_split_halves_the_price_and_doubles_the_quantity_with_the_value_unchanged() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.place("DU1234567", vec![market_order(AAPL, Side::Buy, 101)]).unwrap();
    let resting =
        Ticket { order_type: OrderType::Limit { limit: d("1") }, ..market_order(AAPL, Side::Buy, 1) };
    let working = broker.place("DU1234567", vec![resting]).unwrap()[0];
    let earlier = portfolio(&broker).at;
    broker.advance(SignedDuration::from_mins(1));
    let before = portfolio(&broker);
    let held = before.holding(AAPL).unwrap().clone();
    announce(&mut broker, CorporateAction::Split { conid: AAPL, to: 2, from: 1, on: None }).unwrap();
    let after = portfolio(&broker);
    let split = after.holding(AAPL).unwrap();
    assert_eq!(split.quantity, d("202"));
    assert_eq!(split.cost, held.cost, "the cost stays");
    assert_eq!(split.average_cost(), held.average_cost() / Decimal::TWO);
    let halved = Decimal::try_from(broker.engine.state().venue(AAPL).unwrap().path.price(after.at)).unwrap();
    assert!((split.mark - halved).abs() < d("0.02"), "the price halves: {} vs {halved}", split.mark);
    let (was, is) = (before.net_liquidation(), after.net_liquidation());
    // The same value, but for the last trade's rounding to the cent: half a cent on each
    // share before and after.
    let rounding = d("0.005") * (held.quantity + split.quantity);
    assert!((is - was).abs() <= rounding, "the value stays: {was} then {is}");
    assert_eq!(broker.status(working), model::OrderStatus::Cancelled, "working orders are cancelled");
    let state = broker.engine.state();
    assert_eq!(
        state.quantities_at(&margin_account(), earlier).get(&AAPL),
        Some(&d("101")),
        "history undoes the split"
    );
}

#[test]
fn a_reverse_split_pays_the_fraction_in_cash() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.place("DU1234567", vec![market_order(AAPL, Side::Buy, 25)]).unwrap();
    let before = portfolio(&broker);
    announce(&mut broker, CorporateAction::Split { conid: AAPL, to: 1, from: 10, on: None }).unwrap();
    let after = portfolio(&broker);
    assert_eq!(after.holding(AAPL).unwrap().quantity, d("2"), "2.5 new shares, the half paid out");
    assert!(after.total_cash() > before.total_cash(), "cash in lieu");
    assert!(broker.engine.state().ledger().is_balanced());
    let replayed =
        broker.engine.state().positions.get(&margin_account()).unwrap().get(&AAPL).unwrap().clone();
    assert_eq!(replayed.quantity, d("2"));
}

const SAP: Conid = Conid::new(14_204);

#[test]
fn a_euro_share_bought_in_a_dollar_margin_account_borrows_euros() {
    // 11:00 in Frankfurt.
    let mut broker = Broker::at("2026-03-03T05:00");
    broker.place("DU1234567", vec![market_order(SAP, Side::Buy, 10)]).unwrap();
    let portfolio = portfolio(&broker);
    let eur = &portfolio.currencies[&Currency::EUR];
    let sap = portfolio.holding(SAP).unwrap();
    assert_eq!(sap.quantity, d("10"));
    let commission = d("3.00");
    assert_eq!(eur.cash, -(sap.cost), "the price and the EUR 3.00 minimum, borrowed in euros");
    assert_eq!(
        sap.cost,
        broker.engine.state().executions(&margin_account()).last().unwrap().value() + commission
    );
    assert_eq!(eur.market_value, sap.market_value());
    assert_eq!(portfolio.currencies[&Currency::USD].cash, d("1000000"), "dollars untouched");
    let in_base = portfolio.currencies[&Currency::USD].cash + (eur.cash + eur.market_value) * eur.rate;
    assert_eq!(portfolio.net_liquidation(), in_base);
    assert!(broker.engine.state().ledger().is_balanced());
}

#[test]
fn a_cash_account_cannot_buy_a_euro_share_without_euros() {
    let mut broker = Broker::at("2026-03-03T05:00");
    let refused = broker.place("DU7654321", vec![market_order(SAP, Side::Buy, 10)]);
    assert!(
        matches!(
            refused,
            Err(crate::EngineError::OrderRejected(crate::orders::OrderRejection::InsufficientFunds {
                currency: Currency::EUR,
                ..
            }))
        ),
        "{refused:?}"
    );
}

#[test]
fn xetra_is_closed_in_the_new_york_afternoon() {
    let mut broker = Broker::at("2026-03-03T14:00");
    let placed = broker.place("DU1234567", vec![market_order(SAP, Side::Buy, 10)]).unwrap()[0];
    assert_ne!(broker.status(placed), model::OrderStatus::Filled, "20:00 in Frankfurt: the order waits");
    broker.apply(Command::SetClock { to: new_york("2026-03-04T03:30") }).unwrap();
    assert_eq!(broker.status(placed), model::OrderStatus::Filled, "filled when Xetra opens at 09:00");
}

#[test]
fn a_split_announced_for_a_day_happens_when_the_day_begins() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.place("DU1234567", vec![market_order(AAPL, Side::Buy, 10)]).unwrap();
    let split = CorporateAction::Split { conid: AAPL, to: 4, from: 1, on: Some(date("2026-03-05")) };
    announce(&mut broker, split.clone()).unwrap();
    broker.apply(Command::SetClock { to: new_york("2026-03-04T23:00") }).unwrap();
    assert_eq!(portfolio(&broker).holding(AAPL).unwrap().quantity, d("10"), "not yet");
    broker.apply(Command::SetClock { to: new_york("2026-03-05T10:00") }).unwrap();
    assert_eq!(portfolio(&broker).holding(AAPL).unwrap().quantity, d("40"));
    assert_eq!(
        announce(&mut broker, split),
        Err(EngineError::CorporateActionRefused(CorporateActionRefusal::SplitDayBegun {
            on: date("2026-03-05")
        })),
        "its day has begun"
    );
}

#[test]
fn a_pair_priced_near_zero_converts_nothing_and_panics_nothing() {
    let mut broker = Broker::at("2026-03-03T05:00");
    broker
        .apply(Command::ChangeMarket { conid: EUR_USD, changes: vec![MarketChange::Price(d("0.000000001"))] })
        .unwrap();
    broker.place("DU1234567", vec![market_order(SAP, Side::Buy, 1)]).unwrap();
    let valued = portfolio(&broker);
    assert!(valued.currencies[&Currency::EUR].rate > Decimal::ZERO);
    assert!(broker.engine.state().ledger().is_balanced());
}

#[test]
fn dates_beyond_the_simulated_market_are_refused() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let far = CorporateAction::Dividend {
        conid: AAPL,
        amount: d("1"),
        ex_date: date("2026-03-05"),
        pay_date: date("9999-12-31"),
    };
    let refused = announce(&mut broker, far);
    assert_eq!(
        refused,
        Err(EngineError::CorporateActionRefused(CorporateActionRefusal::NotADay {
            date: date("9999-12-31")
        }))
    );
    assert_eq!(
        refused.unwrap_err().to_string(),
        "corporate action refused: 9999-12-31 is not a day of the simulated market"
    );
}

#[test]
fn a_one_for_three_split_of_three_hundred_shares_leaves_a_hundred_and_no_cash() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker.place("DU1234567", vec![market_order(AAPL, Side::Buy, 300)]).unwrap();
    let entries = broker.engine.state().ledger().len();
    announce(&mut broker, CorporateAction::Split { conid: AAPL, to: 1, from: 3, on: None }).unwrap();
    assert_eq!(portfolio(&broker).holding(AAPL).unwrap().quantity, d("100"));
    assert_eq!(broker.engine.state().ledger().len(), entries, "no fraction, no cash in lieu");
}

#[test]
fn history_undoes_a_fill_made_at_the_instant_of_a_split() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let before = portfolio(&broker).at;
    broker.advance(SignedDuration::from_mins(1));
    broker.place("DU1234567", vec![market_order(AAPL, Side::Buy, 10)]).unwrap();
    announce(&mut broker, CorporateAction::Split { conid: AAPL, to: 2, from: 1, on: None }).unwrap();
    let state = broker.engine.state();
    assert_eq!(state.quantities_at(&margin_account(), before).get(&AAPL), None, "nothing was held before");
    assert_eq!(portfolio(&broker).holding(AAPL).unwrap().quantity, d("20"));
}

#[test]
fn money_paid_in_at_midnight_belongs_to_the_days_start() {
    let broker = Broker::at("2026-03-04T00:00");
    assert_eq!(portfolio(&broker).daily_pnl(), Decimal::ZERO, "the opening balance is no loss");
}

#[test]
fn one_walk_through_history_finds_what_each_instant_held() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let mut instants = vec![broker.engine.state().market_time(broker.wall)];
    let step = |broker: &mut Broker, instants: &mut Vec<jiff::Timestamp>| {
        broker.advance(SignedDuration::from_mins(7));
        instants.push(broker.engine.state().market_time(broker.wall));
    };
    broker
        .place("DU1234567", vec![market_order(AAPL, Side::Buy, 30), market_order(MSFT, Side::Buy, 5)])
        .unwrap();
    step(&mut broker, &mut instants);
    broker.place("DU7654321", vec![market_order(AAPL, Side::Buy, 4)]).unwrap();
    announce(&mut broker, CorporateAction::Split { conid: AAPL, to: 3, from: 2, on: None }).unwrap();
    broker.place("DU1234567", vec![market_order(AAPL, Side::Sell, 7)]).unwrap();
    step(&mut broker, &mut instants);
    broker
        .apply(Command::Deposit { account: margin_account(), currency: Currency::EUR, amount: d("250") })
        .unwrap();
    step(&mut broker, &mut instants);
    announce(&mut broker, CorporateAction::Split { conid: AAPL, to: 1, from: 5, on: None }).unwrap();
    broker.place("DU1234567", vec![market_order(MSFT, Side::Sell, 5)]).unwrap();
    step(&mut broker, &mut instants);

    let state = broker.engine.state();
    instants.push(instants[0] - SignedDuration::from_hours(1));
    instants.sort_unstable();
    let together = state.holdings_at(&margin_account(), &instants);
    for (at, holdings) in instants.iter().zip(&together) {
        assert_eq!(holdings, &state.holdings_at(&margin_account(), &[*at])[0], "at {at}");
    }
    let held = |index: usize, conid| together[index].quantities.get(&conid).copied();
    assert_eq!(together[0].quantities, Default::default(), "nothing was held an hour before");
    assert_eq!((held(1, AAPL), held(1, MSFT)), (Some(d("30")), Some(d("5"))), "bought, not yet split");
    assert_eq!(held(2, AAPL), Some(d("38")), "45 after the split, 7 sold");
    assert_eq!(together[3].money.get(&Currency::EUR), Some(&d("250")));
    assert_eq!((held(4, AAPL), held(4, MSFT)), (Some(d("7")), None), "38 became 7.6, the fraction paid");
    assert_eq!(together[5], together[4], "nothing happened since");
}

#[test]
fn a_split_recorded_before_splits_counted_executions_undoes_only_later_fills() {
    let mut broker = Broker::at("2026-03-03T11:00");
    broker
        .place("DU1234567", vec![market_order(MSFT, Side::Buy, 4), market_order(AAPL, Side::Buy, 4)])
        .unwrap();
    broker.advance(SignedDuration::from_mins(5));
    let before_split = broker.engine.state().market_time(broker.wall);
    broker.advance(SignedDuration::from_mins(1));
    broker.place("DU1234567", vec![market_order(AAPL, Side::Buy, 2)]).unwrap();
    broker.advance(SignedDuration::from_mins(1));
    announce(&mut broker, CorporateAction::Split { conid: AAPL, to: 2, from: 1, on: None }).unwrap();
    // Journals from before splits counted executions replay them as having none before.
    broker.engine.state.corporate_actions.splits[0].executions_before = 0;
    let state = broker.engine.state();
    let held = state.quantities_at(&margin_account(), before_split);
    assert_eq!((held.get(&MSFT), held.get(&AAPL)), (Some(&d("4")), Some(&d("4"))));
}
