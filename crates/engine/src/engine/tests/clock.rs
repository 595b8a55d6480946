//! Time and the market: the clock moves only forward, by commands, within the market's dates;
//! the market's overrides are kept with their instant.

use jiff::Timestamp;
use rust_decimal::Decimal;

use super::{at, created, world};
use crate::clock::ClockSpec;
use crate::market::MarketChangeRefusal;
use crate::{Command, Engine, EngineError, Event};

#[test]
fn time_never_moves_backwards() {
    let mut engine = created();
    engine.apply(at(10), &Command::GatewayLogin { user: "demo".parse().unwrap() }).unwrap();
    engine.apply(at(5), &Command::GatewayLogin { user: "demo".parse().unwrap() }).unwrap();
    assert_eq!(engine.state().wall(), Some(at(10)));
    assert_eq!(engine.state().gateway_session().unwrap().opened_at, at(10));
}

#[test]
fn the_clock_moves_only_forward_and_only_by_commands() {
    use crate::clock::ClockMode;
    use jiff::SignedDuration;

    let start: Timestamp = "2026-03-02T14:30:00Z".parse().unwrap();
    let manual = ClockSpec { mode: ClockMode::Manual, start: Some(start) };
    let mut engine = Engine::new();
    engine.apply(at(0), &Command::CreateWorld { seed: 7, world: world(), clock: manual }).unwrap();
    assert_eq!(engine.state().market_time(at(1_000)), start, "manual time stands still");

    let minutes = |m: i64| start + SignedDuration::from_mins(m);
    engine.apply(at(1), &Command::AdvanceClock { by: SignedDuration::from_mins(5) }).unwrap();
    assert_eq!(engine.state().market_time(at(2)), minutes(5));
    let before = engine.digest();
    let back = engine.apply(at(3), &Command::SetClock { to: minutes(4) });
    assert_eq!(back, Err(EngineError::ClockBackwards { now: minutes(5), requested: minutes(4) }));
    let zero = engine.apply(at(3), &Command::AdvanceClock { by: SignedDuration::ZERO });
    assert_eq!(zero, Err(EngineError::NonPositiveAdvance(SignedDuration::ZERO)));
    assert_eq!(engine.digest(), before, "refusals change nothing");

    engine.apply(at(4), &Command::SetClock { to: minutes(60) }).unwrap();
    let events = engine.apply(at(10), &Command::SetClockMode { mode: ClockMode::Accelerated(60) }).unwrap();
    assert_eq!(events, vec![Event::ClockChanged { mode: ClockMode::Accelerated(60), now: minutes(60) }]);
    assert_eq!(engine.state().market_time(at(11)), minutes(61), "a wall second is a market minute");
}

#[test]
fn a_world_without_a_start_begins_at_the_wall_time() {
    let engine = created();
    assert_eq!(engine.state().market_time(at(0)), at(0));
    assert_eq!(engine.state().market_time(at(30)), at(30), "realtime by default");
}

#[test]
fn market_changes_are_kept_with_their_market_instant() {
    use crate::market::MarketChange;

    let mut engine = created();
    let aapl = model::Conid::new(265_598);
    let both = vec![MarketChange::Price(Decimal::new(150, 0)), MarketChange::Halt(true)];
    let changed = engine.apply(at(5), &Command::ChangeMarket { conid: aapl, changes: both }).unwrap();
    assert_eq!(
        changed,
        vec![
            Event::MarketChanged {
                conid: aapl,
                change: MarketChange::Price(Decimal::new(150, 0)),
                at: at(5)
            },
            Event::MarketChanged { conid: aapl, change: MarketChange::Halt(true), at: at(5) },
        ]
    );
    assert_eq!(
        engine.state().overrides(aapl),
        [(at(5), MarketChange::Price(Decimal::new(150, 0))), (at(5), MarketChange::Halt(true))]
    );
    let before = engine.digest();
    let unknown =
        Command::ChangeMarket { conid: model::Conid::new(1), changes: vec![MarketChange::Halt(true)] };
    assert_eq!(engine.apply(at(6), &unknown), Err(EngineError::UnknownInstrument(model::Conid::new(1))));
    let none = engine.apply(at(6), &Command::ChangeMarket { conid: aapl, changes: vec![] });
    assert_eq!(none, Err(EngineError::InvalidMarketChange(MarketChangeRefusal::NoChange)));
    let price = MarketChangeRefusal::NonPositivePrice { price: Decimal::ZERO };
    let volatility = MarketChangeRefusal::VolatilityOutOfRange { volatility: Decimal::new(11, 0) };
    for (bad, expected) in [
        (MarketChange::Price(Decimal::ZERO), price),
        (MarketChange::Volatility(Decimal::new(11, 0)), volatility),
    ] {
        let changes = vec![MarketChange::Halt(false), bad];
        let refused = engine.apply(at(7), &Command::ChangeMarket { conid: aapl, changes });
        assert_eq!(refused, Err(EngineError::InvalidMarketChange(expected)), "{bad:?}");
    }
    assert_eq!(engine.digest(), before, "a refused change applies none of its parts");
}

#[test]
fn the_clock_stays_where_the_market_has_prices() {
    use crate::clock::ClockMode;
    use jiff::SignedDuration;

    let start: Timestamp = "2100-12-30T00:00:00Z".parse().unwrap();
    let manual = |start| ClockSpec { mode: ClockMode::Manual, start: Some(start) };
    let too_early: Timestamp = "1999-12-31T00:00:00Z".parse().unwrap();
    let early = Engine::new()
        .apply(at(0), &Command::CreateWorld { seed: 7, world: world(), clock: manual(too_early) });
    assert!(matches!(early, Err(EngineError::ClockOutsideMarket { .. })), "{early:?}");

    let mut engine = Engine::new();
    engine.apply(at(0), &Command::CreateWorld { seed: 7, world: world(), clock: manual(start) }).unwrap();
    let before = engine.digest();
    let past_end = engine.apply(at(1), &Command::AdvanceClock { by: SignedDuration::from_hours(49) });
    assert!(matches!(past_end, Err(EngineError::ClockOutsideMarket { .. })), "{past_end:?}");
    let far = engine.apply(at(1), &Command::SetClock { to: Timestamp::MAX });
    assert!(matches!(far, Err(EngineError::ClockOutsideMarket { .. })), "{far:?}");
    assert_eq!(engine.digest(), before);
    engine.apply(at(2), &Command::AdvanceClock { by: SignedDuration::from_hours(48) }).unwrap();
    assert_eq!(engine.state().market_time(at(3)), "2101-01-01T00:00:00Z".parse::<Timestamp>().unwrap());
}
