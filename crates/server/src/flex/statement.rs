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

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;

use crate::flex::output::{Attributes, Output, Streamed};
use crate::trading::orders::views::execution_id;
use engine::corporate_actions::SplitRecord;
use engine::flex::{FlexQuery, FlexRequest};
use engine::portfolio::Rates;
use engine::portfolio::history::Holdings;
use engine::state::State;
use engine::statement::{Statement, Trade};
use jiff::Timestamp;
use jiff::civil::Date;
use market::Catalogue;
use market::calendar::new_york_date;
use model::{AccountId, AccountKind, AssetClass, Conid, Decimal, Side};

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

/// The sections with a row per trade.
#[derive(Debug, Clone, Copy)]
enum TradeSection {
    Trades,
    Commissions,
    Confirms,
}

/// A trade-long section being written: the executions of its span yet to read.
#[derive(Debug)]
struct TradeRun {
    section: TradeSection,
    account: AccountId,
    left: Range<usize>,
    streamed: Streamed,
}

impl TradeRun {
    fn new(section: TradeSection, account: &AccountId, span: Range<usize>) -> Self {
        let (container, name) = match section {
            TradeSection::Trades => ("Trades", "Trade"),
            TradeSection::Commissions => ("UnbundledCommissionDetails", "UnbundledCommissionDetail"),
            TradeSection::Confirms => ("TradeConfirms", "TradeConfirm"),
        };
        Self { section, account: account.clone(), left: span, streamed: Streamed::new(container, name) }
    }
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

/// A New York day a statement reports on.
#[derive(Debug, Clone, Copy)]
struct Day {
    date: Date,
    /// Its first instant.
    start: Timestamp,
    /// Its end, or now if it has not ended.
    at: Timestamp,
}

/// What an account held at each instant its statement values it at.
#[derive(Debug)]
struct History {
    /// The period's start, no later than now.
    start: Timestamp,
    /// The instant the period is valued at.
    end: Timestamp,
    /// The days it reports on, from the account's opening.
    days: Vec<Day>,
    held: BTreeMap<Timestamp, Holdings>,
}

impl History {
    /// The holdings at `at`, one of the statement's instants.
    fn held(&self, at: Timestamp) -> &Holdings {
        static NOTHING: Holdings = Holdings { quantities: BTreeMap::new(), money: BTreeMap::new() };
        self.held.get(&at).unwrap_or(&NOTHING)
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
        let from = market::calendar::new_york_midnight(request.from).unwrap_or(self.now);
        let to = request.to.tomorrow().ok().and_then(market::calendar::new_york_midnight).unwrap_or(self.now);
        let days = self.report_days(request, account);
        let (start, end) = (from.min(self.now), Statement::valued_at(from, to, self.now));
        let mut instants = vec![start, end];
        instants.extend(days.iter().flat_map(|day| [day.start, day.at]));
        instants.sort_unstable();
        instants.dedup();
        let read = self.state.statement_and_holdings(account, from, to, self.now, &instants);
        let Some((statement, held)) = read else { return Vec::new() };
        let history = History { start, end, days, held: instants.into_iter().zip(held).collect() };
        let span = self.state.execution_span(statement.from, statement.to);
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
            parts.push(Part::Single("AccountInformation", self.account_information(&statement)));
        }
        if self.wants("ChangeInNAV") {
            parts.push(Part::Single("ChangeInNAV", self.change_in_nav(request, &statement)));
        }
        let mut section = |container, name, rows| parts.push(Part::Section { container, name, rows });
        if self.wants("CashReport") {
            let lines =
                statement.cash.iter().map(|line| self.cash_report(request, &statement, line)).collect();
            section("CashReport", "CashReportCurrency", lines);
        }
        if self.wants("EquitySummaryInBase") {
            let lines = self.equity_summary(&statement, &history);
            section("EquitySummaryInBase", "EquitySummaryByReportDateInBase", lines);
        }
        if self.wants("MTMPerformanceSummaryInBase") {
            let lines = self.mtm_summary(request, &statement, &history, span.clone());
            section("MTMPerformanceSummaryInBase", "MTMPerformanceSummaryUnderlying", lines);
        }
        if self.wants("OpenPositions") {
            let lines = statement
                .positions
                .iter()
                .map(|position| self.open_position(request, &statement, position))
                .collect();
            section("OpenPositions", "OpenPosition", lines);
        }
        if self.wants("PriorPeriodPositions") {
            section(
                "PriorPeriodPositions",
                "PriorPeriodPosition",
                self.prior_positions(&statement, &history),
            );
        }
        if self.wants("FxPositions") {
            parts.extend(self.fx_positions(request, &statement));
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
            section("CashTransactions", "CashTransaction", self.cash_transactions(&statement));
        }
        if self.wants("Transfers") {
            section("Transfers", "Transfer", self.transfers(&statement));
        }
        if self.wants("CorporateActions") {
            section("CorporateActions", "CorporateAction", self.corporate_actions(&statement));
        }
        if self.wants("InterestAccruals") {
            section(
                "InterestAccruals",
                "InterestAccrualsCurrency",
                self.interest_accruals(request, &statement),
            );
        }
        if self.wants("ConversionRates") {
            section("ConversionRates", "ConversionRate", self.conversion_rates(request, &statement));
        }
        if self.wants("TradeConfirms") {
            parts.push(Part::Trades(TradeRun::new(TradeSection::Confirms, account, span)));
        }
        parts.push(Part::Close("FlexStatement"));
        parts
    }

    /// A trade's row in `section`.
    fn trade_row(&self, section: TradeSection, account: &AccountId, trade: &Trade) -> Attributes {
        match section {
            TradeSection::Trades => self.trade(account, trade),
            TradeSection::Commissions => self.commission_detail(account, trade),
            TradeSection::Confirms => confirmation(self.trade(account, trade)),
        }
    }

    /// Deposits, withdrawals and dividends.
    fn cash_transactions(&self, statement: &Statement) -> Vec<Attributes> {
        let mut lines: Vec<Attributes> = statement
            .transfers
            .iter()
            .filter(|transfer| matches!(transfer.kind, "DEPOSIT" | "WITHDRAWAL"))
            .map(|transfer| {
                vec![
                    ("type", "Deposits & Withdrawals".to_owned()),
                    ("assetCategory", "CASH".to_owned()),
                    ("accountId", statement.account.to_string()),
                    ("currency", transfer.currency.to_string()),
                    ("description", transfer.kind.to_owned()),
                    ("amount", number(transfer.amount)),
                    ("dateTime", self.date_time(transfer.at)),
                    ("reportDate", self.date(new_york_date(transfer.at))),
                    ("levelOfDetail", "DETAIL".to_owned()),
                ]
            })
            .collect();
        lines.extend(self.dividends(statement));
        lines
    }

    /// The New York days of the request that have ended or are today, the instant each
    /// began, and the instant it is valued at: its end, or now.
    fn report_days(&self, request: &FlexRequest, account: &AccountId) -> Vec<Day> {
        let mut days = Vec::new();
        // Days before the account was opened hold nothing to report.
        let opened = self.state.account(account).map(|account| new_york_date(account.opened_at));
        let mut day = opened.map_or(request.from, |opened| opened.max(request.from));
        while day <= request.to {
            let end = day.tomorrow().ok().and_then(market::calendar::new_york_midnight).unwrap_or(self.now);
            let at = end.min(self.now);
            let start = market::calendar::new_york_midnight(day).unwrap_or(self.now);
            if at < start {
                break;
            }
            days.push(Day { date: day, start, at });
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        days
    }

    /// Each day's cash, shares and total in the base currency.
    fn equity_summary(&self, statement: &Statement, history: &History) -> Vec<Attributes> {
        let base = statement.base_currency;
        history
            .days
            .iter()
            .map(|&Day { date: day, at, .. }| {
                let held = history.held(at);
                let rates = Rates::new(self.state, base, at);
                let cash: Decimal =
                    held.money.iter().map(|(&currency, &amount)| rates.convert(currency, amount)).sum();
                let total = held.value(self.state, base, at);
                vec![
                    ("accountId", statement.account.to_string()),
                    ("currency", base.to_string()),
                    ("reportDate", self.date(day)),
                    ("cash", number(cash.round_dp(2))),
                    ("stock", number((total - cash).round_dp(2))),
                    ("total", number(total.round_dp(2))),
                ]
            })
            .collect()
    }

    /// Each instrument's mark-to-market over the period, in the base currency: on what was held
    /// at its start, on what traded in it, and the commissions.
    fn mtm_summary(
        &self,
        request: &FlexRequest,
        statement: &Statement,
        history: &History,
        span: Range<usize>,
    ) -> Vec<Attributes> {
        let (start, end) = (history.start, history.end);
        let before = &history.held(start).quantities;
        let after = &history.held(end).quantities;
        let splits = self.splits(start, end);
        // Per instrument: the shares bought less sold (as many as they became by the period's
        // end), what they cost, and their commissions.
        let mut traded: BTreeMap<Conid, [Decimal; 3]> =
            before.keys().chain(after.keys()).map(|&conid| (conid, Default::default())).collect();
        for fill in self.state.executions_among(&statement.account, span) {
            let [shares, cost, commissions] = traded.entry(fill.conid).or_default();
            let signed = fill.side.sign() * fill.quantity;
            let position = State::execution_position(fill.id).unwrap_or(usize::MAX);
            // A split recorded before splits counted executions is told apart by its instant.
            let later =
                splits.iter().filter(|split| split.executions_before > position || fill.at < split.at);
            *shares += signed * split_factor(later, fill.conid);
            *cost += signed * fill.price;
            *commissions -= fill.commission;
        }
        let rates = Rates::new(self.state, statement.base_currency, end);
        traded
            .into_iter()
            .filter_map(|(conid, [shares, cost, commissions])| {
                let instrument = Catalogue::standard().get(conid)?;
                let rate = rates.rate(instrument.currency);
                let (held, close_quantity) = (
                    before.get(&conid).copied().unwrap_or_default(),
                    after.get(&conid).copied().unwrap_or_default(),
                );
                let (prev_close, close) = (self.state.mark(conid, start), self.state.mark(conid, end));
                let transaction = shares * close - cost;
                let prior = held * split_factor(splits.iter(), conid) * close - held * prev_close;
                let base = |value: Decimal| number((value * rate).round_dp(2));
                Some(vec![
                    ("assetCategory", category(instrument.asset_class).to_owned()),
                    ("accountId", statement.account.to_string()),
                    ("symbol", instrument.symbol.clone()),
                    ("description", instrument.name.clone()),
                    ("conid", conid.to_string()),
                    ("listingExchange", instrument.listing_exchange.clone()),
                    ("reportDate", self.date(request.to)),
                    ("prevCloseQuantity", number(held)),
                    ("prevClosePrice", number(prev_close)),
                    ("closeQuantity", number(close_quantity)),
                    ("closePrice", number(close)),
                    ("transactionMtm", base(transaction)),
                    ("priorOpenMtm", base(prior)),
                    ("commissions", base(commissions)),
                    ("total", base(transaction + prior + commissions)),
                ])
            })
            .collect()
    }

    /// The splits after `start` up to `end`: what a holding at `start` went through by `end`,
    /// as its quantities and marks there tell.
    fn splits(&self, start: Timestamp, end: Timestamp) -> Vec<&SplitRecord> {
        let splits = self.state.corporate_actions().splits.iter();
        splits.filter(|split| split.at > start && split.at <= end).collect()
    }

    /// What was held at the end of each day of the period, at that day's price; its
    /// mark-to-market on what was held when the day began, as many shares as those became.
    fn prior_positions(&self, statement: &Statement, history: &History) -> Vec<Attributes> {
        let mut lines = Vec::new();
        for &Day { date: day, start, at } in &history.days {
            let opening = &history.held(start).quantities;
            let splits = self.splits(start, at);
            for &conid in history.held(at).quantities.keys() {
                let Some(instrument) = Catalogue::standard().get(conid) else { continue };
                let price = self.state.mark(conid, at);
                let held = opening.get(&conid).copied().unwrap_or_default();
                let mtm =
                    held * split_factor(splits.iter(), conid) * price - held * self.state.mark(conid, start);
                lines.push(vec![
                    ("assetCategory", category(instrument.asset_class).to_owned()),
                    ("accountId", statement.account.to_string()),
                    ("currency", instrument.currency.to_string()),
                    ("symbol", instrument.symbol.clone()),
                    ("description", instrument.name.clone()),
                    ("conid", conid.to_string()),
                    ("listingExchange", instrument.listing_exchange.clone()),
                    ("priorMtmPnl", number(mtm.round_dp(2))),
                    ("date", self.date(day)),
                    ("price", number(price)),
                    ("multiplier", "1".to_owned()),
                ]);
            }
        }
        lines
    }

    /// Each foreign currency's cash at the period's end, as IBKR's currency lots.
    fn fx_positions(&self, request: &FlexRequest, statement: &Statement) -> Vec<Part> {
        let rates = Rates::new(self.state, statement.base_currency, statement.valued_at);
        let lots: Vec<Attributes> = statement
            .cash
            .iter()
            .filter(|line| line.currency != statement.base_currency && !line.ending_cash.is_zero())
            .map(|line| {
                let rate = rates.rate(line.currency);
                vec![
                    ("assetCategory", "CASH".to_owned()),
                    ("accountId", statement.account.to_string()),
                    ("reportDate", self.date(request.to)),
                    ("functionalCurrency", statement.base_currency.to_string()),
                    ("fxCurrency", line.currency.to_string()),
                    ("quantity", number(line.ending_cash)),
                    ("closePrice", number(rate)),
                    ("value", number((line.ending_cash * rate).round_dp(2))),
                    ("levelOfDetail", "SUMMARY".to_owned()),
                ]
            })
            .collect();
        if lots.is_empty() {
            return vec![Part::Section { container: "FxPositions", name: "FxLots", rows: Vec::new() }];
        }
        // IBKR wraps each currency's lots in an FxLots element of their own.
        let each =
            lots.into_iter().map(|lot| Part::Section { container: "FxLots", name: "FxLot", rows: vec![lot] });
        std::iter::once(Part::Open("FxPositions", Vec::new()))
            .chain(each)
            .chain([Part::Close("FxPositions")])
            .collect()
    }

    /// A trade's commission: LocalBroker charges it whole, as the broker's execution charge.
    fn commission_detail(&self, account: &AccountId, trade: &Trade) -> Attributes {
        let instrument = Catalogue::standard().get(trade.conid);
        let paid = number(-trade.commission);
        vec![
            ("buySell", if trade.side == Side::Buy { "BUY" } else { "SELL" }.to_owned()),
            (
                "assetCategory",
                instrument.map_or("STK", |instrument| category(instrument.asset_class)).to_owned(),
            ),
            ("accountId", account.to_string()),
            ("currency", trade.commission_currency.to_string()),
            ("symbol", trade.symbol.clone()),
            ("conid", trade.conid.to_string()),
            ("dateTime", self.date_time(trade.at)),
            ("quantity", number(trade.side.sign() * trade.quantity)),
            ("price", number(trade.price)),
            ("tradeID", trade.execution.get().to_string()),
            ("totalCommission", paid.clone()),
            ("brokerExecutionCharge", paid),
            ("brokerClearingCharge", "0".to_owned()),
            ("thirdPartyExecutionCharge", "0".to_owned()),
            ("thirdPartyClearingCharge", "0".to_owned()),
            ("thirdPartyRegulatoryCharge", "0".to_owned()),
            ("other", "0".to_owned()),
        ]
    }

    /// Shares that came in or left without a trade.
    fn transfers(&self, statement: &Statement) -> Vec<Attributes> {
        statement
            .transfers
            .iter()
            .filter_map(|transfer| {
                let (conid, quantity) = transfer.shares?;
                let instrument = Catalogue::standard().get(conid)?;
                Some(vec![
                    ("type", transfer.kind.to_owned()),
                    ("direction", if quantity.is_sign_negative() { "OUT" } else { "IN" }.to_owned()),
                    ("assetCategory", category(instrument.asset_class).to_owned()),
                    ("accountId", statement.account.to_string()),
                    ("currency", transfer.currency.to_string()),
                    ("symbol", instrument.symbol.clone()),
                    ("description", instrument.name.clone()),
                    ("conid", conid.to_string()),
                    ("reportDate", self.date(new_york_date(transfer.at))),
                    ("date", self.date(new_york_date(transfer.at))),
                    ("dateTime", self.date_time(transfer.at)),
                    ("quantity", number(quantity)),
                    ("positionAmount", number(transfer.amount.round_dp(2))),
                    ("cashTransfer", "0".to_owned()),
                ])
            })
            .collect()
    }

    /// The dividends paid into (or, short, out of) the account's cash in the period.
    fn dividends(&self, statement: &Statement) -> Vec<Attributes> {
        use engine::ledger::{Book, Cause};
        let entries = self.state.ledger().entries(&statement.account);
        let in_period = entries.filter(|entry| entry.at >= statement.from && entry.at < statement.to);
        in_period
            .filter_map(|entry| {
                let Cause::DividendPayment { conid } = entry.cause else { return None };
                let instrument = Catalogue::standard().get(conid)?;
                let cash = entry.postings.iter().find(|posting| posting.book == Book::Cash)?;
                Some(vec![
                    ("type", "Dividends".to_owned()),
                    ("assetCategory", category(instrument.asset_class).to_owned()),
                    ("accountId", statement.account.to_string()),
                    ("currency", cash.currency.to_string()),
                    ("description", format!("{} CASH DIVIDEND", instrument.symbol)),
                    ("conid", conid.to_string()),
                    ("symbol", instrument.symbol.clone()),
                    ("amount", number(cash.amount)),
                    ("dateTime", self.date_time(entry.at)),
                    ("reportDate", self.date(new_york_date(entry.at))),
                    ("levelOfDetail", "DETAIL".to_owned()),
                ])
            })
            .collect()
    }

    /// The splits of shares the account held, in the period: what each did to the holding,
    /// and the cash paid in lieu of a fraction.
    fn corporate_actions(&self, statement: &Statement) -> Vec<Attributes> {
        use engine::ledger::{Book, Cause};
        let splits = self.state.corporate_actions().splits.iter();
        let in_period = splits.filter(|split| split.at >= statement.from && split.at < statement.to);
        in_period
            .filter_map(|split| {
                let held =
                    split.held_before.get(&statement.account).copied().filter(|held| !held.is_zero())?;
                let instrument = Catalogue::standard().get(split.conid)?;
                let after = (held * Decimal::from(split.to) / Decimal::from(split.from)).trunc();
                let in_lieu: Decimal = self
                    .state
                    .ledger()
                    .entries(&statement.account)
                    .filter(|entry| {
                        entry.at == split.at && entry.cause == Cause::CashInLieu { conid: split.conid }
                    })
                    .flat_map(|entry| entry.postings.iter().filter(|posting| posting.book == Book::Cash))
                    .map(|posting| posting.amount)
                    .sum();
                let description = format!("{} SPLIT {} FOR {}", instrument.symbol, split.to, split.from);
                Some(vec![
                    ("assetCategory", category(instrument.asset_class).to_owned()),
                    ("accountId", statement.account.to_string()),
                    ("currency", instrument.currency.to_string()),
                    ("symbol", instrument.symbol.clone()),
                    ("description", description.clone()),
                    ("conid", split.conid.to_string()),
                    ("actionDescription", description),
                    ("dateTime", self.date_time(split.at)),
                    ("reportDate", self.date(new_york_date(split.at))),
                    ("quantity", number(after - held)),
                    ("proceeds", number(in_lieu)),
                    ("amount", number(in_lieu)),
                    ("type", if split.to >= split.from { "FS" } else { "RS" }.to_owned()),
                ])
            })
            .collect()
    }

    /// Each currency's interest accrued and not yet paid: at the start, accrued, reversed by
    /// payments, at the end.
    fn interest_accruals(&self, request: &FlexRequest, statement: &Statement) -> Vec<Attributes> {
        use engine::ledger::{Book, Cause};
        let mut balances: BTreeMap<model::Currency, [Decimal; 3]> = BTreeMap::new();
        for entry in self.state.ledger().entries(&statement.account).filter(|entry| entry.at < statement.to) {
            for posting in entry.postings.iter().filter(|posting| posting.book == Book::InterestAccrued) {
                let [starting, accrued, reversed] = balances.entry(posting.currency).or_default();
                match entry.cause {
                    _ if entry.at < statement.from => *starting += posting.amount,
                    Cause::InterestPayment => *reversed += posting.amount,
                    _ => *accrued += posting.amount,
                }
            }
        }
        balances
            .into_iter()
            .map(|(currency, [starting, accrued, reversed])| {
                vec![
                    ("accountId", statement.account.to_string()),
                    ("currency", currency.to_string()),
                    ("fromDate", self.date(request.from)),
                    ("toDate", self.date(request.to)),
                    ("startingAccrualBalance", number(starting)),
                    ("interestAccrued", number(accrued)),
                    ("accrualReversal", number(reversed)),
                    ("endingAccrualBalance", number(starting + accrued + reversed)),
                ]
            })
            .collect()
    }

    /// The rate of each currency of the statement to the base currency at the period's end.
    fn conversion_rates(&self, request: &FlexRequest, statement: &Statement) -> Vec<Attributes> {
        let rates = Rates::new(self.state, statement.base_currency, statement.valued_at);
        let mut currencies: Vec<_> = statement.cash.iter().map(|line| line.currency).collect();
        currencies.extend(statement.positions.iter().map(|position| position.currency));
        currencies.sort_unstable_by_key(ToString::to_string);
        currencies.dedup();
        currencies
            .into_iter()
            .map(|currency| {
                vec![
                    ("reportDate", self.date(request.to)),
                    ("fromCurrency", currency.to_string()),
                    ("toCurrency", statement.base_currency.to_string()),
                    ("rate", number(rates.rate(currency))),
                ]
            })
            .collect()
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

    fn change_in_nav(&self, request: &FlexRequest, statement: &Statement) -> Attributes {
        // Flows in the base currency; others show in the mark-to-market remainder.
        let base = statement.cash.iter().find(|line| line.currency == statement.base_currency);
        let flow = |pick: fn(&engine::statement::CashReport) -> Decimal| base.map_or(Decimal::ZERO, pick);
        let deposits = flow(|line| line.deposits + line.withdrawals);
        let internal = flow(|line| line.internal_transfers);
        let dividends = flow(|line| line.dividends);
        let interest = flow(|line| line.interest);
        let commissions = flow(|line| line.commissions);
        let accrued = |book| self.accrual_change(statement, book);
        let dividend_accruals = accrued(engine::ledger::Book::DividendsReceivable);
        let interest_accruals = accrued(engine::ledger::Book::InterestAccrued);
        let change = statement.ending_value - statement.starting_value;
        let flows =
            deposits + internal + dividends + interest + commissions + dividend_accruals + interest_accruals;
        let mtm = change - flows;
        vec![
            ("accountId", statement.account.to_string()),
            ("fromDate", self.date(request.from)),
            ("toDate", self.date(request.to)),
            ("startingValue", number(statement.starting_value.round_dp(2))),
            ("mtm", number(mtm.round_dp(2))),
            ("depositsWithdrawals", number(deposits)),
            ("internalCashTransfers", number(internal)),
            ("dividends", number(dividends)),
            ("interest", number(interest)),
            ("changeInDividendAccruals", number(dividend_accruals)),
            ("changeInInterestAccruals", number(interest_accruals)),
            ("commissions", number(commissions)),
            ("endingValue", number(statement.ending_value.round_dp(2))),
            ("currency", statement.base_currency.to_string()),
        ]
    }

    /// How much `book` (dividends receivable, interest accrued) changed over the statement's
    /// period, in its base currency's postings: part of the net asset value that is no cash
    /// flow yet.
    fn accrual_change(&self, statement: &Statement, book: engine::ledger::Book) -> Decimal {
        let entries = self.state.ledger().entries(&statement.account);
        let in_period = entries.filter(|entry| entry.at >= statement.from && entry.at <= statement.valued_at);
        in_period
            .flat_map(|entry| entry.postings.iter())
            .filter(|posting| posting.book == book && posting.currency == statement.base_currency)
            .map(|posting| posting.amount)
            .sum()
    }

    fn cash_report(
        &self,
        request: &FlexRequest,
        statement: &Statement,
        line: &engine::statement::CashReport,
    ) -> Attributes {
        vec![
            ("accountId", statement.account.to_string()),
            ("currency", line.currency.to_string()),
            ("fromDate", self.date(request.from)),
            ("toDate", self.date(request.to)),
            ("startingCash", number(line.starting_cash)),
            ("commissions", number(line.commissions)),
            ("depositWithdrawals", number(line.deposits + line.withdrawals)),
            ("deposits", number(line.deposits)),
            ("withdrawals", number(line.withdrawals)),
            ("internalTransfers", number(line.internal_transfers)),
            ("dividends", number(line.dividends)),
            ("brokerInterest", number(line.interest)),
            ("netTradesSales", number(line.sales)),
            ("netTradesPurchases", number(line.purchases)),
            ("otherFees", number(line.other)),
            ("endingCash", number(line.ending_cash)),
        ]
    }

    fn open_position(
        &self,
        request: &FlexRequest,
        statement: &Statement,
        position: &engine::statement::OpenPosition,
    ) -> Attributes {
        let instrument = Catalogue::standard().get(position.conid);
        vec![
            ("side", if position.quantity.is_sign_negative() { "Short" } else { "Long" }.to_owned()),
            (
                "assetCategory",
                instrument.map_or("STK", |instrument| category(instrument.asset_class)).to_owned(),
            ),
            ("accountId", statement.account.to_string()),
            ("currency", position.currency.to_string()),
            ("reportDate", self.date(request.to)),
            ("symbol", position.symbol.clone()),
            ("description", instrument.map(|instrument| instrument.name.clone()).unwrap_or_default()),
            ("conid", position.conid.to_string()),
            (
                "listingExchange",
                instrument.map(|instrument| instrument.listing_exchange.clone()).unwrap_or_default(),
            ),
            ("multiplier", "1".to_owned()),
            ("position", number(position.quantity)),
            ("markPrice", number(position.mark_price)),
            ("positionValue", number(position.market_value.round_dp(2))),
            ("levelOfDetail", "SUMMARY".to_owned()),
        ]
    }

    fn trade(&self, account: &AccountId, trade: &Trade) -> Attributes {
        let instrument = Catalogue::standard().get(trade.conid);
        let signed = trade.side.sign() * trade.quantity;
        let day = self.date(new_york_date(trade.at));
        vec![
            ("transactionType", "ExchTrade".to_owned()),
            ("openCloseIndicator", "-".to_owned()),
            ("buySell", if trade.side == Side::Buy { "BUY" } else { "SELL" }.to_owned()),
            (
                "assetCategory",
                instrument.map_or("STK", |instrument| category(instrument.asset_class)).to_owned(),
            ),
            ("accountId", account.to_string()),
            ("currency", trade.currency.to_string()),
            ("symbol", trade.symbol.clone()),
            ("conid", trade.conid.to_string()),
            ("description", instrument.map(|instrument| instrument.name.clone()).unwrap_or_default()),
            (
                "listingExchange",
                instrument.map(|instrument| instrument.listing_exchange.clone()).unwrap_or_default(),
            ),
            ("multiplier", "1".to_owned()),
            ("tradeID", trade.execution.get().to_string()),
            ("reportDate", day.clone()),
            ("tradeDate", day),
            ("dateTime", self.date_time(trade.at)),
            ("quantity", number(signed)),
            ("tradePrice", number(trade.price)),
            ("tradeMoney", number(signed * trade.price)),
            ("proceeds", number(trade.proceeds)),
            ("netCash", number(trade.proceeds + trade.commission)),
            ("ibCommission", number(trade.commission)),
            ("ibCommissionCurrency", trade.commission_currency.to_string()),
            ("levelOfDetail", "EXECUTION".to_owned()),
            ("ibOrderID", trade.order.to_string()),
            ("ibExecID", execution_id(self.state.seed(), trade.execution)),
        ]
    }
}

/// A `Trade`'s attributes as a `TradeConfirm`'s: the ones IBKR's confirmations carry.
fn confirmation(trade: Attributes) -> Attributes {
    const CONFIRMED: [&str; 20] = [
        "transactionType",
        "buySell",
        "assetCategory",
        "accountId",
        "currency",
        "symbol",
        "description",
        "conid",
        "multiplier",
        "tradeID",
        "reportDate",
        "tradeDate",
        "quantity",
        "tradePrice",
        "tradeMoney",
        "proceeds",
        "netCash",
        "ibCommission",
        "ibCommissionCurrency",
        "levelOfDetail",
    ];
    trade.into_iter().filter(|(name, _)| CONFIRMED.contains(name)).collect()
}

/// IBKR's `assetCategory` of an asset class.
fn category(asset_class: AssetClass) -> &'static str {
    match asset_class {
        AssetClass::Stock => "STK",
        AssetClass::Forex => "CASH",
        AssetClass::Crypto => "CRYPTO",
    }
}

/// How many shares one share of `conid` became through `splits`. Marks before a split are of
/// the shares before it, so a holding is valued across one as the shares it became.
fn split_factor<'a>(splits: impl Iterator<Item = &'a &'a SplitRecord>, conid: Conid) -> Decimal {
    splits
        .filter(|split| split.conid == conid)
        .fold(Decimal::ONE, |factor, split| factor * Decimal::from(split.to) / Decimal::from(split.from))
}

/// A number as Flex writes it: plain decimal notation, no trailing zeros.
fn number(value: Decimal) -> String {
    value.normalize().to_string()
}

#[cfg(test)]
mod tests {
    use engine::clock::{ClockMode, ClockSpec};
    use engine::orders::{Size, Ticket};
    use engine::{Command, Engine, Event};
    use model::{OrderType, SessionId, TimeInForce};

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
