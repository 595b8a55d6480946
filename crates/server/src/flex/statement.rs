//! Flex statements (`FlexQueryResponse`), written from the engine's activity statement of each
//! account of the request, with IBKR's element and attribute names as ibflex knows them.
//!
//! Every section of [`engine::flex::sections`] is written, in that order.

use crate::flex::output::{Attributes, Output, Written};
use crate::trading::orders::views::execution_id;
use engine::flex::{FlexQuery, FlexRequest, Format};
use engine::portfolio::Rates;
use engine::state::State;
use engine::statement::{Statement, Trade};
use jiff::Timestamp;
use jiff::civil::Date;
use market::Catalogue;
use market::calendar::new_york_date;
use model::{AccountKind, AssetClass, Decimal, Side};

/// Writes the statement `request` asks of `query`, as of market time `now`, in the query's
/// format.
pub fn write(state: &State, query: &FlexQuery, request: &FlexRequest, now: Timestamp) -> String {
    let mut out = match query.format {
        Format::Xml => Output::xml(),
        Format::Csv => Output::csv(),
    };
    let context = Context { query, state, now };
    // Writing into memory cannot fail.
    let _ = context.document(&mut out, request);
    out.finish()
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

    fn document(&self, out: &mut Output, request: &FlexRequest) -> Written {
        let root = vec![("queryName", self.query.name.clone()), ("type", self.query.kind.code().to_owned())];
        out.open("FlexQueryResponse", &root)?;
        let from = market::calendar::new_york_midnight(request.from).unwrap_or(self.now);
        let to = request.to.tomorrow().ok().and_then(market::calendar::new_york_midnight).unwrap_or(self.now);
        let statements: Vec<Statement> = request
            .accounts
            .iter()
            .filter_map(|account| self.state.statement(account, from, to, self.now))
            .collect();
        out.open("FlexStatements", &vec![("count", statements.len().to_string())])?;
        for statement in &statements {
            self.statement(out, request, statement)?;
        }
        out.close("FlexStatements")?;
        out.close("FlexQueryResponse")
    }

    fn statement(&self, out: &mut Output, request: &FlexRequest, statement: &Statement) -> Written {
        let period = format!("{:?}", self.query.period);
        let attributes = vec![
            ("accountId", statement.account.to_string()),
            ("fromDate", self.date(request.from)),
            ("toDate", self.date(request.to)),
            ("period", period),
            ("whenGenerated", self.date_time(self.now)),
        ];
        out.open("FlexStatement", &attributes)?;
        if self.wants("AccountInformation") {
            out.single("AccountInformation", self.account_information(statement))?;
        }
        if self.wants("ChangeInNAV") {
            out.single("ChangeInNAV", self.change_in_nav(request, statement))?;
        }
        if self.wants("CashReport") {
            let lines =
                statement.cash.iter().map(|line| self.cash_report(request, statement, line)).collect();
            out.section("CashReport", "CashReportCurrency", lines)?;
        }
        if self.wants("EquitySummaryInBase") {
            out.section(
                "EquitySummaryInBase",
                "EquitySummaryByReportDateInBase",
                self.equity_summary(request, statement),
            )?;
        }
        if self.wants("MTMPerformanceSummaryInBase") {
            let lines = self.mtm_summary(request, statement);
            out.section("MTMPerformanceSummaryInBase", "MTMPerformanceSummaryUnderlying", lines)?;
        }
        if self.wants("OpenPositions") {
            let lines = statement
                .positions
                .iter()
                .map(|position| self.open_position(request, statement, position))
                .collect();
            out.section("OpenPositions", "OpenPosition", lines)?;
        }
        if self.wants("PriorPeriodPositions") {
            out.section(
                "PriorPeriodPositions",
                "PriorPeriodPosition",
                self.prior_positions(request, statement),
            )?;
        }
        if self.wants("FxPositions") {
            self.fx_positions(out, request, statement)?;
        }
        if self.wants("Trades") {
            let lines = statement.trades.iter().map(|trade| self.trade(statement, trade)).collect();
            out.section("Trades", "Trade", lines)?;
        }
        if self.wants("UnbundledCommissionDetails") {
            let lines =
                statement.trades.iter().map(|trade| self.commission_detail(statement, trade)).collect();
            out.section("UnbundledCommissionDetails", "UnbundledCommissionDetail", lines)?;
        }
        if self.wants("CashTransactions") {
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
            out.section("CashTransactions", "CashTransaction", lines)?;
        }
        if self.wants("Transfers") {
            out.section("Transfers", "Transfer", self.transfers(statement))?;
        }
        if self.wants("CorporateActions") {
            out.section("CorporateActions", "CorporateAction", self.corporate_actions(statement))?;
        }
        if self.wants("InterestAccruals") {
            out.section(
                "InterestAccruals",
                "InterestAccrualsCurrency",
                self.interest_accruals(request, statement),
            )?;
        }
        if self.wants("ConversionRates") {
            out.section("ConversionRates", "ConversionRate", self.conversion_rates(request, statement))?;
        }
        if self.wants("TradeConfirms") {
            let lines =
                statement.trades.iter().map(|trade| confirmation(self.trade(statement, trade))).collect();
            out.section("TradeConfirms", "TradeConfirm", lines)?;
        }
        out.close("FlexStatement")
    }

    /// The New York days of the request that have ended or are today, and the instant each is
    /// valued at: its end, or now.
    fn report_days(&self, request: &FlexRequest, statement: &Statement) -> Vec<(Date, Timestamp)> {
        let mut days = Vec::new();
        // Days before the account was opened hold nothing to report.
        let opened = self.state.account(&statement.account).map(|account| new_york_date(account.opened_at));
        let mut day = opened.map_or(request.from, |opened| opened.max(request.from));
        while day <= request.to {
            let end = day.tomorrow().ok().and_then(market::calendar::new_york_midnight).unwrap_or(self.now);
            let at = end.min(self.now);
            if at < market::calendar::new_york_midnight(day).unwrap_or(self.now) {
                break;
            }
            days.push((day, at));
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        days
    }

    /// Each day's cash, shares and total in the base currency.
    fn equity_summary(&self, request: &FlexRequest, statement: &Statement) -> Vec<Attributes> {
        let base = statement.base_currency;
        self.report_days(request, statement)
            .into_iter()
            .map(|(day, at)| {
                let rates = Rates::new(self.state, base, at);
                let cash: Decimal = self
                    .state
                    .money_at(&statement.account, at)
                    .iter()
                    .map(|(&currency, &amount)| rates.convert(currency, amount))
                    .sum();
                let total = self.state.net_liquidation_at(&statement.account, base, at);
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
    fn mtm_summary(&self, request: &FlexRequest, statement: &Statement) -> Vec<Attributes> {
        let start = market::calendar::new_york_midnight(request.from).unwrap_or(self.now).min(self.now);
        let end = statement.valued_at;
        let before = self.state.quantities_at(&statement.account, start);
        let after = self.state.quantities_at(&statement.account, end);
        let mut conids: Vec<_> = before.keys().chain(after.keys()).copied().collect();
        conids.extend(statement.trades.iter().map(|trade| trade.conid));
        conids.sort_unstable();
        conids.dedup();
        let rates = Rates::new(self.state, statement.base_currency, end);
        conids
            .into_iter()
            .filter_map(|conid| {
                let instrument = Catalogue::standard().get(conid)?;
                let rate = rates.rate(instrument.currency);
                let (held, close_quantity) = (
                    before.get(&conid).copied().unwrap_or_default(),
                    after.get(&conid).copied().unwrap_or_default(),
                );
                let (prev_close, close) = (self.state.mark(conid, start), self.state.mark(conid, end));
                let trades = statement.trades.iter().filter(|trade| trade.conid == conid);
                let transaction: Decimal = trades
                    .clone()
                    .map(|trade| trade.side.sign() * trade.quantity * (close - trade.price))
                    .sum();
                let commissions: Decimal = trades.map(|trade| trade.commission).sum();
                let prior = held * (close - prev_close);
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

    /// What was held at the end of each day of the period, at that day's price.
    fn prior_positions(&self, request: &FlexRequest, statement: &Statement) -> Vec<Attributes> {
        let mut lines = Vec::new();
        for (day, at) in self.report_days(request, statement) {
            let start = market::calendar::new_york_midnight(day).unwrap_or(at);
            let opening = self.state.quantities_at(&statement.account, start);
            for conid in self.state.quantities_at(&statement.account, at).into_keys() {
                let Some(instrument) = Catalogue::standard().get(conid) else { continue };
                let price = self.state.mark(conid, at);
                let held = opening.get(&conid).copied().unwrap_or_default();
                lines.push(vec![
                    ("assetCategory", category(instrument.asset_class).to_owned()),
                    ("accountId", statement.account.to_string()),
                    ("currency", instrument.currency.to_string()),
                    ("symbol", instrument.symbol.clone()),
                    ("description", instrument.name.clone()),
                    ("conid", conid.to_string()),
                    ("listingExchange", instrument.listing_exchange.clone()),
                    ("priorMtmPnl", number((held * (price - self.state.mark(conid, start))).round_dp(2))),
                    ("date", self.date(day)),
                    ("price", number(price)),
                    ("multiplier", "1".to_owned()),
                ]);
            }
        }
        lines
    }

    /// Each foreign currency's cash at the period's end, as IBKR's currency lots.
    fn fx_positions(&self, out: &mut Output, request: &FlexRequest, statement: &Statement) -> Written {
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
            return out.section("FxPositions", "FxLots", Vec::new());
        }
        // IBKR wraps each currency's lots in an FxLots element of their own.
        out.open("FxPositions", &Vec::new())?;
        for lot in lots {
            out.section("FxLots", "FxLot", vec![lot])?;
        }
        out.close("FxPositions")
    }

    /// A trade's commission: LocalBroker charges it whole, as the broker's execution charge.
    fn commission_detail(&self, statement: &Statement, trade: &Trade) -> Attributes {
        let instrument = Catalogue::standard().get(trade.conid);
        let paid = number(-trade.commission);
        vec![
            ("buySell", if trade.side == Side::Buy { "BUY" } else { "SELL" }.to_owned()),
            (
                "assetCategory",
                instrument.map_or("STK", |instrument| category(instrument.asset_class)).to_owned(),
            ),
            ("accountId", statement.account.to_string()),
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
        let mut balances: std::collections::BTreeMap<model::Currency, [Decimal; 3]> = Default::default();
        let from = market::calendar::new_york_midnight(request.from).unwrap_or(self.now);
        for entry in self.state.ledger().entries(&statement.account).filter(|entry| entry.at < statement.to) {
            for posting in entry.postings.iter().filter(|posting| posting.book == Book::InterestAccrued) {
                let [starting, accrued, reversed] = balances.entry(posting.currency).or_default();
                match entry.cause {
                    _ if entry.at < from => *starting += posting.amount,
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

    fn trade(&self, statement: &Statement, trade: &Trade) -> Attributes {
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
            ("accountId", statement.account.to_string()),
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

/// A number as Flex writes it: plain decimal notation, no trailing zeros.
fn number(value: Decimal) -> String {
    value.normalize().to_string()
}
