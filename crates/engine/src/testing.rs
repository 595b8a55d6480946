//! A broker on a manual clock for the engine's scenario tests.

use jiff::{SignedDuration, Timestamp, ZonedDateTime};
use model::{
    AccountId, Conid, Currency, MarginKind, OrderId, OrderStatus, OrderType, SessionId, Side, TimeInForce,
};
use rust_decimal::Decimal;

use crate::fixtures;
use crate::interest::InterestRates;
use crate::ledger::Book;
use crate::market::MarketChange;
use crate::orders::{Size, Ticket};
use crate::world::{AccountSpec, World};
use crate::{Command, Engine, EngineError, Event};

pub(crate) const AAPL: Conid = Conid::new(265_598);

pub(crate) fn new_york(text: &str) -> Timestamp {
    format!("{text}[America/New_York]").parse::<ZonedDateTime>().unwrap().timestamp()
}

pub(crate) fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// A broker on a manual clock at `start`, `demo` logged in with a margin account
/// (`DU1234567`, 1,000,000 USD) and a cash account (`DU7654321`, 100,000 USD).
pub(crate) struct Broker {
    pub(crate) engine: Engine,
    pub(crate) session: SessionId,
    pub(crate) wall: Timestamp,
}

pub(crate) fn account(id: &str, margin: MarginKind, cash: i64) -> AccountSpec {
    fixtures::account(id, margin, Decimal::new(cash, 0))
}

impl Broker {
    pub(crate) fn at(start: &str) -> Self {
        Self::with_world(start, InterestRates::default(), false)
    }

    /// The same broker, its world accruing interest at `interest`.
    pub(crate) fn with_interest(start: &str, interest: InterestRates) -> Self {
        Self::with_world(start, interest, false)
    }

    /// The same broker, its world accruing interest at `interest` and liquidating margin
    /// deficits if `liquidation`.
    pub(crate) fn with_world(start: &str, interest: InterestRates, liquidation: bool) -> Self {
        let world = World {
            interest,
            liquidation,
            ..fixtures::world(
                vec![fixtures::user("demo", &["DU1234567", "DU7654321"])],
                vec![
                    account("DU1234567", MarginKind::Margin, 1_000_000),
                    account("DU7654321", MarginKind::Cash, 100_000),
                ],
            )
        };
        let wall = Timestamp::from_second(1_772_000_000).unwrap();
        let (engine, session) = fixtures::started(world, 7, wall, new_york(start), "demo");
        Self { engine, session, wall }
    }

    pub(crate) fn apply(&mut self, command: Command) -> Result<Vec<Event>, EngineError> {
        self.wall = self.wall.saturating_add(SignedDuration::from_millis(1)).unwrap();
        self.engine.apply(self.wall, &command)
    }

    pub(crate) fn place(&mut self, account: &str, tickets: Vec<Ticket>) -> Result<Vec<OrderId>, EngineError> {
        let command = Command::PlaceOrders {
            session: self.session.clone(),
            account: account.parse().unwrap(),
            tickets,
            one_cancels_all: false,
        };
        let events = self.apply(command)?;
        Ok(events
            .into_iter()
            .filter_map(|event| match event {
                Event::OrderPlaced { order } => Some(order),
                _ => None,
            })
            .collect())
    }

    pub(crate) fn advance(&mut self, by: SignedDuration) {
        self.apply(Command::AdvanceClock { by }).unwrap();
    }

    pub(crate) fn change(&mut self, change: MarketChange) {
        self.apply(Command::ChangeMarket { conid: AAPL, changes: vec![change] }).unwrap();
    }

    pub(crate) fn status(&self, id: OrderId) -> OrderStatus {
        self.engine.state().order(id).unwrap().status
    }

    pub(crate) fn cash(&self, account: &str) -> Decimal {
        self.engine.state().ledger().balance(&account.parse().unwrap(), Book::Cash, Currency::USD)
    }

    pub(crate) fn position(&self, account: &str) -> Decimal {
        let account: AccountId = account.parse().unwrap();
        self.engine
            .state()
            .positions(&account)
            .find(|(conid, _)| *conid == AAPL)
            .map_or(Decimal::ZERO, |(_, p)| p.quantity)
    }

    pub(crate) fn quote(&self) -> market::quote::Quote {
        let state = self.engine.state();
        let venue = state.venue(AAPL).unwrap();
        venue.activity.quote(&venue.path, state.market_time(self.wall))
    }
}

/// A good-till-cancelled market order for `quantity` of `conid`.
pub(crate) fn market_order(conid: Conid, side: Side, quantity: i64) -> Ticket {
    Ticket { conid, ..ticket(side, quantity, OrderType::Market) }
}

pub(crate) fn ticket(side: Side, quantity: i64, order_type: OrderType) -> Ticket {
    Ticket {
        conid: AAPL,
        side,
        size: Size::Quantity(Decimal::new(quantity, 0)),
        order_type,
        tif: TimeInForce::GoodTillCancelled,
        outside_rth: false,
        client_order_id: None,
        parent_client_order_id: None,
    }
}
