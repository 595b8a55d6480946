//! Random sessions of orders, cancels, modifications, market moves and time passing, checked
//! after every step against the invariants of orders, groups, the book and the ledger.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use model::{AccountId, Currency, OrderId, OrderStatus, OrderType, Side, TimeInForce, Trail};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::ledger::Book;
use crate::market::MarketChange;
use crate::orders::Order;
use crate::testing::{AAPL, Broker, d, ticket};
use crate::{Command, Engine};

/// One step of a random session.
#[derive(Debug, Clone)]
enum Step {
    CashAccount { buy: bool, quantity: i64, market: bool, offset_cents: i64 },
    Place { buy: bool, quantity: i64, kind: u8, offset_cents: i64, day: bool },
    Bracket { quantity: i64, offset_cents: i64 },
    Cancel { pick: usize },
    Modify { pick: usize, offset_cents: i64 },
    Advance { minutes: i64 },
    Jump { percent: i64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (any::<bool>(), 1i64..500, any::<bool>(), -300i64..300).prop_map(
            |(buy, quantity, market, offset_cents)| Step::CashAccount { buy, quantity, market, offset_cents }
        ),
        (any::<bool>(), 1i64..300, 0u8..5, -400i64..400, any::<bool>()).prop_map(
            |(buy, quantity, kind, offset_cents, day)| Step::Place { buy, quantity, kind, offset_cents, day }
        ),
        (1i64..200, -300i64..300)
            .prop_map(|(quantity, offset_cents)| Step::Bracket { quantity, offset_cents }),
        any::<usize>().prop_map(|pick| Step::Cancel { pick }),
        (any::<usize>(), -300i64..300).prop_map(|(pick, offset_cents)| Step::Modify { pick, offset_cents }),
        (1i64..600).prop_map(|minutes| Step::Advance { minutes }),
        (-5i64..6).prop_map(|percent| Step::Jump { percent }),
    ]
}

fn priced(broker: &Broker, offset_cents: i64) -> Decimal {
    (broker.quote().last + Decimal::new(offset_cents, 2)).max(d("1.00"))
}

fn run(broker: &mut Broker, step: &Step) {
    let live: Vec<OrderId> =
        broker.engine.state().orders.values().filter(|o| o.is_live()).map(|o| o.id).collect();
    let account: AccountId = "DU1234567".parse().unwrap();
    let session = broker.session.clone();
    let _ = match *step {
        Step::CashAccount { buy, quantity, market, offset_cents } => {
            let side = if buy { Side::Buy } else { Side::Sell };
            let order_type = if market {
                OrderType::Market
            } else {
                OrderType::Limit { limit: priced(broker, offset_cents) }
            };
            broker.place("DU7654321", vec![ticket(side, quantity, order_type)]).map(|_| ())
        }
        Step::Place { buy, quantity, kind, offset_cents, day } => {
            let side = if buy { Side::Buy } else { Side::Sell };
            let price = priced(broker, offset_cents);
            let order_type = match kind {
                0 => OrderType::Market,
                1 | 2 => OrderType::Limit { limit: price },
                3 => OrderType::Stop { stop: price },
                _ => OrderType::TrailingStop { trail: Trail::Amount(d("1.00")) },
            };
            let mut ticket = ticket(side, quantity, order_type);
            if day {
                ticket.tif = TimeInForce::Day;
            }
            broker.place("DU1234567", vec![ticket]).map(|_| ())
        }
        Step::Bracket { quantity, offset_cents } => {
            let entry_price = priced(broker, offset_cents);
            let mut entry = ticket(Side::Buy, quantity, OrderType::Limit { limit: entry_price });
            let cid = format!("entry-{}", broker.engine.state().orders_placed);
            entry.client_order_id = Some(cid.clone());
            let mut profit =
                ticket(Side::Sell, quantity, OrderType::Limit { limit: entry_price + d("2.00") });
            profit.parent_client_order_id = Some(cid.clone());
            let mut loss = ticket(
                Side::Sell,
                quantity,
                OrderType::Stop { stop: (entry_price - d("2.00")).max(d("0.50")) },
            );
            loss.parent_client_order_id = Some(cid);
            broker.place("DU1234567", vec![entry, profit, loss]).map(|_| ())
        }
        Step::Cancel { pick } if !live.is_empty() => broker
            .apply(Command::CancelOrder { session, account, order: live[pick % live.len()] })
            .map(|_| ()),
        Step::Modify { pick, offset_cents } if !live.is_empty() => {
            let id = live[pick % live.len()];
            let order = broker.engine.state().order(id).unwrap().clone();
            let mut ticket = order.ticket.clone();
            if let OrderType::Limit { .. } = ticket.order_type {
                ticket.order_type = OrderType::Limit { limit: priced(broker, offset_cents) };
            }
            broker.apply(Command::ModifyOrder { session, account, order: id, ticket }).map(|_| ())
        }
        Step::Advance { minutes } => {
            broker.apply(Command::AdvanceClock { by: SignedDuration::from_mins(minutes) }).map(|_| ())
        }
        Step::Jump { percent } => {
            let price = (broker.quote().last * (Decimal::ONE_HUNDRED + Decimal::from(percent))
                / Decimal::ONE_HUNDRED)
                .round_dp(2);
            broker
                .apply(Command::ChangeMarket { conid: AAPL, changes: vec![MarketChange::Price(price)] })
                .map(|_| ())
        }
        Step::Cancel { .. } | Step::Modify { .. } => Ok(()),
    };
}

/// The invariants every state keeps.
fn check(broker: &Broker, finished: &mut BTreeMap<OrderId, Order>) -> Result<(), TestCaseError> {
    let state = broker.engine.state();
    let account: AccountId = "DU1234567".parse().unwrap();
    let mut filled: BTreeMap<OrderId, Decimal> = BTreeMap::new();
    let cash_account: AccountId = "DU7654321".parse().unwrap();
    for execution in state.executions(&account).chain(state.executions(&cash_account)) {
        *filled.entry(execution.order).or_default() += execution.quantity;
    }
    for order in state.orders.values() {
        prop_assert!(order.filled <= order.quantity, "overfilled {order:?}");
        prop_assert_eq!(order.filled + order.remaining(), order.quantity);
        prop_assert_eq!(
            order.filled,
            filled.get(&order.id).copied().unwrap_or_default(),
            "fills of {:?}",
            order.id
        );
        if let Some(before) = finished.get(&order.id) {
            prop_assert_eq!(before, order, "a finished order changed");
        } else if order.status.is_final() {
            finished.insert(order.id, order.clone());
        }
        if let Some(parent) = order.parent.and_then(|id| state.order(id)) {
            let working = matches!(order.status, OrderStatus::Submitted | OrderStatus::Filled)
                || !order.filled.is_zero();
            prop_assert!(
                !working || parent.status == OrderStatus::Filled,
                "a child worked before its parent filled"
            );
        }
    }
    let mut groups: BTreeMap<OrderId, usize> = BTreeMap::new();
    for order in state.orders.values().filter(|o| !o.filled.is_zero()) {
        if let Some(group) = order.oca_group {
            *groups.entry(group).or_default() += 1;
        }
    }
    prop_assert!(groups.values().all(|filled| *filled <= 1), "two fills in one OCA group: {groups:?}");
    prop_assert_eq!(
        &broker.engine.book,
        &crate::orders::book::OrderBook::of(state.orders.values()),
        "the index matches the orders"
    );
    let ledger = state.ledger();
    prop_assert!(ledger.is_balanced());
    let cash = ledger.balance(&account, Book::Cash, Currency::USD);
    let (cost, realized) = state
        .positions
        .get(&account)
        .map(|held| {
            held.values().fold((Decimal::ZERO, Decimal::ZERO), |(c, r), p| (c + p.cost, r + p.realized))
        })
        .unwrap_or_default();
    // Commissions are part of the positions' cost and come off what closing them realized.
    prop_assert_eq!(cash + cost, d("1000000") + realized, "cash and positions reconcile");
    let paid: Decimal = state.executions(&account).map(|e| e.commission).sum();
    let cash_out: Decimal = state.executions(&account).map(|e| e.side.sign() * e.value()).sum();
    prop_assert_eq!(cash, d("1000000") - cash_out - paid, "cash moved by every fill and commission");
    let cash_account: AccountId = "DU7654321".parse().unwrap();
    prop_assert!(
        ledger.balance(&cash_account, Book::Cash, Currency::USD) >= Decimal::ZERO,
        "a cash account never borrows"
    );
    prop_assert!(
        state.positions(&cash_account).all(|(_, held)| !held.quantity.is_sign_negative()),
        "nor goes short"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn orders_and_the_ledger_keep_their_invariants(steps in prop::collection::vec(step(), 1..25)) {
        let mut broker = Broker::at("2026-03-03T10:00");
        let mut finished = BTreeMap::new();
        for step in &steps {
            run(&mut broker, step);
            check(&broker, &mut finished)?;
        }
        let snapshot = broker.engine.snapshot().unwrap();
        let restored = Engine::from_snapshot(&snapshot).unwrap();
        prop_assert_eq!(restored.digest(), broker.engine.digest());
    }
}
