//! Orders end to end in the engine, on a manual clock: placement, fills against the book and
//! the path, triggers, brackets, expiry, and the ledger behind them.

use jiff::SignedDuration;
use model::{AccountId, Currency, OrderId, OrderStatus, OrderType, Side, TimeInForce, Trail};
use rust_decimal::Decimal;

use super::{OrderRejection, Size};
use crate::ledger::Book;
use crate::market::MarketChange;
use crate::testing::{AAPL, Broker, d, new_york, ticket};
use crate::{Command, Engine, EngineError, Event};

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
fn precautions_follow_ibkrs_defaults() {
    use super::preview::Precaution;

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
fn a_modification_decides_anew_what_the_order_waits_for() {
    let mut broker = Broker::at("2026-03-03T11:00");
    let mut loc = ticket(Side::Buy, 10, OrderType::LimitOnClose { limit: d("1.00") });
    loc.tif = TimeInForce::Day;
    let id = broker.place("DU1234567", vec![loc.clone()]).unwrap()[0];
    assert_eq!(broker.engine.state().order(id).unwrap().waiting, Some(super::Waiting::Close));
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

mod properties {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::orders::Order;

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
                |(buy, quantity, market, offset_cents)| Step::CashAccount {
                    buy,
                    quantity,
                    market,
                    offset_cents
                }
            ),
            (any::<bool>(), 1i64..300, 0u8..5, -400i64..400, any::<bool>()).prop_map(
                |(buy, quantity, kind, offset_cents, day)| Step::Place {
                    buy,
                    quantity,
                    kind,
                    offset_cents,
                    day
                }
            ),
            (1i64..200, -300i64..300)
                .prop_map(|(quantity, offset_cents)| Step::Bracket { quantity, offset_cents }),
            any::<usize>().prop_map(|pick| Step::Cancel { pick }),
            (any::<usize>(), -300i64..300)
                .prop_map(|(pick, offset_cents)| Step::Modify { pick, offset_cents }),
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
            &crate::orders::book::Book::of(state.orders.values()),
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
