//! Flex statements (`FlexQueryResponse`), written from the engine's activity statement of each
//! account of the request, with IBKR's element and attribute names as ibflex knows them.
//!
//! Every section of [`engine::flex::sections`] is written, in that order. A statement is read
//! in one read of the engine, as the broker stands then, except its trades: each account's
//! sections are read whole (they grow with its days and holdings, and its history is walked
//! once), while its trades, which may number millions, are only located, and written a few
//! thousand executions per read. Each part's bytes are taken away to the statement's file
//! between reads, so the engine never writes to disk and no statement's trades are held in
//! memory; the other sections of every account are, until they are written.

mod cash;
mod positions;
mod trades;

use std::collections::VecDeque;

use self::trades::{TradeRun, TradeSection};
use crate::flex::output::{Attributes, Output};
use engine::flex::{FlexQuery, FlexRequest};
use engine::state::State;
use engine::statement::Statement;
use jiff::Timestamp;
use jiff::civil::Date;
use market::calendar::new_york_date;
use model::{AccountId, AccountKind, Decimal};

/// Executions a part of a statement reads at most: the engine writes this many trades'
/// rows in one read (milliseconds) before it serves anyone else.
pub const EXECUTIONS_PER_PART: usize = 8_192;

/// A Flex statement being written.
#[derive(Debug)]
pub struct Generation {
    out: Output,
    query: FlexQuery,
    /// Market time when the statement was read: what it is as of.
    now: Timestamp,
    /// What is left to write, in order.
    parts: VecDeque<Part>,
    /// Executions a part reads at most.
    part: usize,
}

/// What is left of a statement.
#[derive(Debug)]
enum Part {
    /// The start of an element holding others.
    Open(&'static str, Attributes),
    /// An element without children.
    Single(&'static str, Attributes),
    /// A section, read with its account's statement.
    Section { container: &'static str, name: &'static str, rows: Vec<Attributes> },
    /// A section as long as an account's trades, written some executions at a time.
    Trades(TradeRun),
    /// The end of an element.
    Close(&'static str),
}

impl Generation {
    /// Reads the statement `request` asks of `query` from `state`, as of market time `now`:
    /// every account's sections, and where its trades lie among the executions made so far.
    /// Executions made later lie beyond, so the statement stays as it was read. Nothing is
    /// written yet.
    pub fn start(state: &State, query: FlexQuery, request: &FlexRequest, now: Timestamp) -> Self {
        let context = Context { query: &query, state, now };
        let accounts: Vec<&AccountId> =
            request.accounts.iter().filter(|account| state.account(account).is_some()).collect();
        let root = vec![("queryName", query.name.clone()), ("type", query.kind.code().to_owned())];
        let mut parts = VecDeque::from([
            Part::Open("FlexQueryResponse", root),
            Part::Open("FlexStatements", vec![("count", accounts.len().to_string())]),
        ]);
        for account in accounts {
            parts.extend(context.statement(request, account));
        }
        parts.extend([Part::Close("FlexStatements"), Part::Close("FlexQueryResponse")]);
        let out = Output::new(query.format);
        Self { out, query, now, parts, part: EXECUTIONS_PER_PART }
    }

    /// The same statement, written `executions` at a time instead of
    /// [`EXECUTIONS_PER_PART`], so that a test sees a few trades split across parts.
    #[cfg(test)]
    #[must_use]
    fn in_parts_of(self, executions: usize) -> Self {
        Self { part: executions.max(1), ..self }
    }

    /// Writes the next part of the statement, its trades read from `state`, and what follows
    /// it up to the next trades: whether the statement is whole.
    pub fn advance(&mut self, state: &State) -> std::io::Result<bool> {
        let context = Context { query: &self.query, state, now: self.now };
        let mut read = false;
        while let Some(part) = self.parts.pop_front() {
            match part {
                Part::Trades(run) if read && !run.left.is_empty() => {
                    self.parts.push_front(Part::Trades(run));
                    return Ok(false);
                }
                Part::Trades(mut run) => {
                    read = true;
                    let upto = run.left.end.min(run.left.start.saturating_add(self.part));
                    for trade in state.trades_among(&run.account, run.left.start..upto) {
                        let row = context.trade_row(run.section, &run.account, &trade);
                        self.out.row(&mut run.streamed, &row)?;
                    }
                    run.left.start = upto;
                    if run.left.is_empty() {
                        self.out.end(run.streamed)?;
                    } else {
                        self.parts.push_front(Part::Trades(run));
                        return Ok(false);
                    }
                }
                Part::Open(name, attributes) => self.out.open(name, &attributes)?,
                Part::Single(name, attributes) => self.out.single(name, attributes)?,
                Part::Section { container, name, rows } => self.out.section(container, name, rows)?,
                Part::Close(name) => self.out.close(name)?,
            }
        }
        Ok(true)
    }

    /// What the parts written since the last call wrote, to append to the statement's file.
    pub fn take(&mut self) -> std::io::Result<Vec<u8>> {
        self.out.take()
    }
}

struct Context<'a> {
    query: &'a FlexQuery,
    state: &'a State,
    now: Timestamp,
}

impl Context<'_> {
    fn date(&self, date: Date) -> String {
        date.strftime(&self.query.date_format).to_string()
    }

    fn date_time(&self, at: Timestamp) -> String {
        let zoned = at.to_zoned_datetime(market::calendar::new_york());
        format!(
            "{};{}",
            zoned.date().strftime(&self.query.date_format),
            zoned.strftime(&self.query.time_format)
        )
    }

    fn wants(&self, section: &str) -> bool {
        self.query.sections.contains(section)
    }

    /// `account`'s statement: its sections, read now, and its trade-long sections, to be
    /// written a part at a time.
    fn statement(&self, request: &FlexRequest, account: &AccountId) -> Vec<Part> {
        let Some(activity) = self.state.activity(account, request.from, request.to, self.now) else {
            return Vec::new();
        };
        let statement = &activity.statement;
        let span = activity.executions.clone();
        let period = format!("{:?}", self.query.period);
        let attributes = vec![
            ("accountId", statement.account.to_string()),
            ("fromDate", self.date(request.from)),
            ("toDate", self.date(request.to)),
            ("period", period),
            ("whenGenerated", self.date_time(self.now)),
        ];
        let mut parts = vec![Part::Open("FlexStatement", attributes)];
        if self.wants("AccountInformation") {
            parts.push(Part::Single("AccountInformation", self.account_information(statement)));
        }
        if self.wants("ChangeInNAV") {
            parts.push(Part::Single("ChangeInNAV", self.change_in_nav(request, &activity)));
        }
        let mut section = |container, name, rows| parts.push(Part::Section { container, name, rows });
        if self.wants("CashReport") {
            let lines =
                statement.cash.iter().map(|line| self.cash_report(request, statement, line)).collect();
            section("CashReport", "CashReportCurrency", lines);
        }
        if self.wants("EquitySummaryInBase") {
            let lines = self.equity_summary(&activity);
            section("EquitySummaryInBase", "EquitySummaryByReportDateInBase", lines);
        }
        if self.wants("MTMPerformanceSummaryInBase") {
            let lines = self.mtm_summary(request, &activity);
            section("MTMPerformanceSummaryInBase", "MTMPerformanceSummaryUnderlying", lines);
        }
        if self.wants("OpenPositions") {
            let lines = statement
                .positions
                .iter()
                .map(|position| self.open_position(request, statement, position))
                .collect();
            section("OpenPositions", "OpenPosition", lines);
        }
        if self.wants("PriorPeriodPositions") {
            section("PriorPeriodPositions", "PriorPeriodPosition", self.prior_positions(&activity));
        }
        if self.wants("FxPositions") {
            parts.extend(self.fx_positions(request, &activity));
        }
        let mut trades = |section| parts.push(Part::Trades(TradeRun::new(section, account, span.clone())));
        if self.wants("Trades") {
            trades(TradeSection::Trades);
        }
        if self.wants("UnbundledCommissionDetails") {
            trades(TradeSection::Commissions);
        }
        let mut section = |container, name, rows| parts.push(Part::Section { container, name, rows });
        if self.wants("CashTransactions") {
            section("CashTransactions", "CashTransaction", self.cash_transactions(&activity));
        }
        if self.wants("Transfers") {
            section("Transfers", "Transfer", self.transfers(statement));
        }
        if self.wants("CorporateActions") {
            section("CorporateActions", "CorporateAction", self.corporate_actions(&activity));
        }
        if self.wants("InterestAccruals") {
            section(
                "InterestAccruals",
                "InterestAccrualsCurrency",
                self.interest_accruals(request, &activity),
            );
        }
        if self.wants("ConversionRates") {
            section("ConversionRates", "ConversionRate", self.conversion_rates(request, &activity));
        }
        if self.wants("TradeConfirms") {
            parts.push(Part::Trades(TradeRun::new(TradeSection::Confirms, account, span)));
        }
        parts.push(Part::Close("FlexStatement"));
        parts
    }

    fn account_information(&self, statement: &Statement) -> Attributes {
        let account = self.state.account(&statement.account);
        let kind = match account.map(|account| account.kind) {
            Some(AccountKind::Joint) => "Joint",
            Some(AccountKind::Organization) => "Organization",
            _ => "Individual",
        };
        let mut attributes = vec![
            ("accountId", statement.account.to_string()),
            ("acctAlias", account.and_then(|account| account.alias.clone()).unwrap_or_default()),
            ("currency", statement.base_currency.to_string()),
            ("name", statement.title.clone()),
            ("accountType", kind.to_owned()),
            ("customerType", kind.to_owned()),
        ];
        if let Some(account) = account {
            attributes.push(("dateOpened", self.date(new_york_date(account.opened_at))));
            if let Some(closed) = account.closed_at {
                attributes.push(("dateClosed", self.date(new_york_date(closed))));
            }
        }
        attributes
    }
}

/// IBKR's `assetCategory` of an asset class.
/// A number as Flex writes it: plain decimal notation, no trailing zeros.
fn number(value: Decimal) -> String {
    value.normalize().to_string()
}

#[cfg(test)]
mod tests {
    use engine::clock::{ClockMode, ClockSpec};
    use engine::orders::{Size, Ticket};
    use engine::{Command, Engine, Event};
    use model::{OrderType, SessionId, Side, TimeInForce};

    use super::*;
    use crate::world::WorldFile;

    /// The demo world on a manual clock in a regular session, `demo` logged in.
    fn demo() -> (Engine, SessionId, Timestamp) {
        let world = WorldFile::demo().into_world().unwrap();
        let wall: Timestamp = "2026-03-03T16:00:00Z".parse().unwrap();
        let clock = ClockSpec { mode: ClockMode::Manual, start: Some(wall) };
        let mut engine = Engine::new();
        engine.apply(wall, &Command::CreateWorld { seed: 42, world, clock }).unwrap();
        let events = engine.apply(wall, &Command::GatewayLogin { user: "demo".parse().unwrap() }).unwrap();
        let session = events.into_iter().find_map(|event| match event {
            Event::SessionOpened { session, .. } => Some(session),
            _ => None,
        });
        (engine, session.unwrap(), wall)
    }

    fn buy_one_share(engine: &mut Engine, session: &SessionId, wall: Timestamp) {
        let ticket = Ticket {
            conid: model::Conid::new(265_598),
            side: Side::Buy,
            size: Size::Quantity(Decimal::ONE),
            order_type: OrderType::Market,
            tif: TimeInForce::Day,
            outside_rth: false,
            client_order_id: None,
            parent_client_order_id: None,
        };
        let account = "DU1234567".parse().unwrap();
        let place = Command::PlaceOrders {
            session: session.clone(),
            account,
            tickets: vec![ticket],
            one_cancels_all: false,
        };
        engine.apply(wall, &place).unwrap();
    }

    /// The demo world's Activity query of this year, asked of `DU1234567`.
    fn year_to_date(engine: &Engine, wall: Timestamp) -> (FlexQuery, FlexRequest) {
        let query = engine.state().flex().queries[&1_000_001].clone();
        let request = FlexRequest {
            reference: "1".into(),
            token_hash: String::new(),
            query: query.id,
            accounts: vec!["DU1234567".parse().unwrap()],
            from: "2026-01-01".parse().unwrap(),
            to: "2026-03-03".parse().unwrap(),
            ready_at: wall,
        };
        (query, request)
    }

    fn write_whole(engine: &Engine, query: FlexQuery, request: &FlexRequest, now: Timestamp) -> String {
        let state = engine.state();
        let mut generation = Generation::start(state, query, request, now);
        let mut written = Vec::new();
        loop {
            let whole = generation.advance(state).unwrap();
            written.extend(generation.take().unwrap());
            if whole {
                return String::from_utf8(written).unwrap();
            }
        }
    }

    #[test]
    fn a_statement_written_in_parts_is_the_broker_as_it_stood_when_it_was_read() {
        let (mut engine, session, wall) = demo();
        for _ in 0..5 {
            buy_one_share(&mut engine, &session, wall);
        }
        let now = engine.state().market_time(wall);
        let (query, request) = year_to_date(&engine, wall);
        let whole = write_whole(&engine, query.clone(), &request, now);
        assert_eq!(whole.matches("<Trade ").count(), 5, "{whole}");
        assert_eq!(whole.matches("<UnbundledCommissionDetail ").count(), 5, "{whole}");

        let mut generation = Generation::start(engine.state(), query, &request, now).in_parts_of(2);
        let mut written = Vec::new();
        let mut reads = 0;
        loop {
            // Trades at the same market instant, made while the statement is being written.
            buy_one_share(&mut engine, &session, wall);
            reads += 1;
            let whole = generation.advance(engine.state()).unwrap();
            written.extend(generation.take().unwrap());
            if whole {
                break;
            }
        }
        assert_eq!(
            String::from_utf8(written).unwrap(),
            whole,
            "later trades stay out of a statement read before them"
        );
        assert_eq!(reads, 3 + 3, "five trades two at a time, twice");
    }
}
