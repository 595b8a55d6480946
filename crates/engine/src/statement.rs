//! Activity statements: what happened to an account's money and holdings over a period, read
//! from the ledger and the executions. Every cash line of a statement comes from ledger
//! postings, so its ending cash is the ledger's cash at the period's end.

use std::collections::BTreeMap;
use std::ops::Range;

use jiff::Timestamp;
use market::Catalogue;
use model::{AccountId, Conid, Currency, Decimal, ExecutionId, Side};

use crate::ledger::{Book, Cause, Entry};
use crate::orders::Execution;
use crate::portfolio::history::Holdings;
use crate::state::State;

/// An account's activity from `from` (inclusive) to `to` (exclusive), in market time.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The account.
    pub account: AccountId,
    /// The holder's name.
    pub title: String,
    /// Reporting currency.
    pub base_currency: Currency,
    /// The period's first instant.
    pub from: Timestamp,
    /// The instant after the period.
    pub to: Timestamp,
    /// The instant holdings are valued at: the period's end, or now if that is earlier.
    pub valued_at: Timestamp,
    /// Net asset value at the start and at `valued_at`, in the base currency.
    pub starting_value: Decimal,
    /// See `starting_value`.
    pub ending_value: Decimal,
    /// Cash per currency.
    pub cash: Vec<CashReport>,
    /// Money paid in, taken out and moved between accounts, in order.
    pub transfers: Vec<Transfer>,
    /// Holdings at `valued_at`.
    pub positions: Vec<OpenPosition>,
}

/// How one currency's cash changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashReport {
    /// The currency.
    pub currency: Currency,
    /// Cash at the period's start.
    pub starting_cash: Decimal,
    /// Money paid in (the opening balance included).
    pub deposits: Decimal,
    /// Money paid out (negative).
    pub withdrawals: Decimal,
    /// Money moved from (negative) or to other accounts of the broker.
    pub internal_transfers: Decimal,
    /// What trades paid (negative) or brought in, before commissions: `sales` and
    /// `purchases` together.
    pub trades: Decimal,
    /// What trades brought in, before commissions.
    pub sales: Decimal,
    /// What trades paid (negative), before commissions.
    pub purchases: Decimal,
    /// Commissions paid (negative).
    pub commissions: Decimal,
    /// Dividends paid in, or out on short positions.
    pub dividends: Decimal,
    /// Interest earned, or paid (negative).
    pub interest: Decimal,
    /// Anything else, such as cash paid in lieu of fractional shares.
    pub other: Decimal,
    /// Cash at the period's end.
    pub ending_cash: Decimal,
}

impl CashReport {
    fn new(currency: Currency) -> Self {
        let zero = Decimal::ZERO;
        Self {
            currency,
            starting_cash: zero,
            deposits: zero,
            withdrawals: zero,
            internal_transfers: zero,
            trades: zero,
            sales: zero,
            purchases: zero,
            commissions: zero,
            dividends: zero,
            interest: zero,
            other: zero,
            ending_cash: zero,
        }
    }
}

/// One execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    /// Execution id.
    pub execution: ExecutionId,
    /// Order id.
    pub order: u64,
    /// When, in market time.
    pub at: Timestamp,
    /// The instrument.
    pub conid: Conid,
    /// Its symbol.
    pub symbol: String,
    /// Its currency.
    pub currency: Currency,
    /// Bought or sold.
    pub side: Side,
    /// Shares or units.
    pub quantity: Decimal,
    /// Price per share.
    pub price: Decimal,
    /// Cash paid (negative) or received, before commission.
    pub proceeds: Decimal,
    /// Commission paid (negative).
    pub commission: Decimal,
    /// The commission's currency.
    pub commission_currency: Currency,
}

/// One movement of money in or out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// When, in market time.
    pub at: Timestamp,
    /// `DEPOSIT`, `WITHDRAWAL`, `INTERNAL` (cash or shares between accounts of the broker)
    /// or `FOP` (shares from or to another broker, free of payment).
    pub kind: &'static str,
    /// Its currency.
    pub currency: Currency,
    /// Paid in (positive) or out; for shares, the cost that came in or went out.
    pub amount: Decimal,
    /// For shares, which and how many (negative when they left).
    pub shares: Option<(Conid, Decimal)>,
}

/// One holding at the statement's valuation instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPosition {
    /// The instrument.
    pub conid: Conid,
    /// Its symbol.
    pub symbol: String,
    /// Its currency.
    pub currency: Currency,
    /// Shares or units held (negative when short).
    pub quantity: Decimal,
    /// The last trade price at the valuation instant.
    pub mark_price: Decimal,
    /// Quantity times mark price.
    pub market_value: Decimal,
}

impl Statement {
    /// The instant a statement of `[from, to)` read at `now` values holdings at: the period's
    /// end, or now if that is earlier (and not before the period).
    pub fn valued_at(from: Timestamp, to: Timestamp, now: Timestamp) -> Timestamp {
        to.min(now).max(from)
    }
}

impl State {
    /// `account`'s statement for `[from, to)`; holdings and values are read no later than
    /// `now`, so a period that has not ended (or not begun) shows what is known so far, and
    /// never a price of the simulated market's future.
    pub fn statement(
        &self,
        account: &AccountId,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
    ) -> Option<Statement> {
        self.statement_and_holdings(account, from, to, now, &[]).map(|(statement, _)| statement)
    }

    /// [`State::statement`], and what the account held at each of `instants`, read in the
    /// same walk back through history: a statement's daily figures cost no second walk.
    pub(crate) fn statement_and_holdings(
        &self,
        account: &AccountId,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        instants: &[Timestamp],
    ) -> Option<(Statement, Vec<Holdings>)> {
        let spec = self.account(account)?;
        let valued_at = Statement::valued_at(from, to, now);
        let mut asked = vec![from.min(now), valued_at];
        asked.extend_from_slice(instants);
        let mut held = self.holdings_at(account, &asked);
        let rest = held.split_off(2);
        let (start, end) = (&held[0], &held[1]);
        let positions = end
            .quantities
            .iter()
            .filter_map(|(&conid, &quantity)| {
                let instrument = Catalogue::standard().get(conid)?;
                let mark_price = self.mark(conid, valued_at);
                Some(OpenPosition {
                    conid,
                    symbol: instrument.symbol.clone(),
                    currency: instrument.currency,
                    quantity,
                    mark_price,
                    market_value: quantity * mark_price,
                })
            })
            .collect();
        let statement = Statement {
            account: account.clone(),
            title: spec.title.clone(),
            base_currency: spec.base_currency,
            from,
            to,
            valued_at,
            starting_value: start.value(self, spec.base_currency, from.min(now)),
            ending_value: end.value(self, spec.base_currency, valued_at),
            cash: self.cash_reports(account, from, to),
            transfers: self.transfers(account, from, to),
            positions,
        };
        Some((statement, rest))
    }

    fn cash_reports(&self, account: &AccountId, from: Timestamp, to: Timestamp) -> Vec<CashReport> {
        let mut reports: BTreeMap<Currency, CashReport> = BTreeMap::new();
        for entry in self.ledger.entries(account).filter(|entry| entry.at < to) {
            let mut commission = self.commission(entry);
            for posting in entry.postings.iter().filter(|posting| posting.book == Book::Cash) {
                let report =
                    reports.entry(posting.currency).or_insert_with(|| CashReport::new(posting.currency));
                if entry.at < from {
                    report.starting_cash += posting.amount;
                    continue;
                }
                let line = match entry.cause {
                    Cause::Opening | Cause::Deposit => &mut report.deposits,
                    Cause::Withdrawal => &mut report.withdrawals,
                    Cause::InternalTransfer => &mut report.internal_transfers,
                    Cause::Execution { .. } => {
                        // The commission is paid once, though the entry may post cash twice.
                        let paid = commission.take_if(|(currency, _)| *currency == posting.currency);
                        let paid = paid.map_or(Decimal::ZERO, |(_, amount)| amount);
                        report.commissions -= paid;
                        let traded = posting.amount + paid;
                        report.trades += traded;
                        if traded.is_sign_negative() {
                            report.purchases += traded;
                        } else {
                            report.sales += traded;
                        }
                        continue;
                    }
                    Cause::DividendPayment { .. } => &mut report.dividends,
                    Cause::InterestPayment => &mut report.interest,
                    Cause::CashInLieu { .. }
                    | Cause::DividendAccrual { .. }
                    | Cause::InterestAccrual { .. }
                    | Cause::PositionTransfer { .. } => &mut report.other,
                };
                *line += posting.amount;
            }
        }
        reports
            .into_values()
            .map(|mut report| {
                report.ending_cash = report.starting_cash
                    + report.deposits
                    + report.withdrawals
                    + report.internal_transfers
                    + report.trades
                    + report.commissions
                    + report.dividends
                    + report.interest
                    + report.other;
                report
            })
            .collect()
    }

    /// The commission an execution's entry paid, and its currency.
    fn commission(&self, entry: &Entry) -> Option<(Currency, Decimal)> {
        let Cause::Execution { execution } = entry.cause else { return None };
        let fill = self.execution(execution)?;
        Some((fill.commission_currency, fill.commission))
    }

    /// `account`'s executions in `[from, to)`, in order. A statement's trades are read apart
    /// from it, because there may be millions of them.
    pub fn trades<'a>(
        &'a self,
        account: &'a AccountId,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Iterator<Item = Trade> + 'a {
        self.trades_among(account, self.execution_span(from, to))
    }

    /// Where the executions of `[from, to)` (of every account) lie in the order they happened.
    /// A long period can be read a part of this span at a time; executions made later lie
    /// beyond its end, so the parts add up to the period as it stood when the span was taken.
    pub(crate) fn execution_span(&self, from: Timestamp, to: Timestamp) -> Range<usize> {
        // Executions are made in market-time order.
        let start = self.executions.partition_point(|fill| fill.at < from);
        let end = self.executions.partition_point(|fill| fill.at < to).max(start);
        start..end
    }

    /// `account`'s executions at `positions` (a part of an [`State::execution_span`]), in
    /// order.
    pub(crate) fn executions_among<'a>(
        &'a self,
        account: &'a AccountId,
        positions: Range<usize>,
    ) -> impl Iterator<Item = &'a Execution> + 'a {
        let fills = self.executions.get(positions).unwrap_or_default().iter();
        fills.filter(move |fill| &fill.account == account)
    }

    /// `account`'s trades among the executions at `positions` (a part of an
    /// `State::execution_span`), in order.
    pub fn trades_among<'a>(
        &'a self,
        account: &'a AccountId,
        positions: Range<usize>,
    ) -> impl Iterator<Item = Trade> + 'a {
        self.executions_among(account, positions).filter_map(|fill| {
            let instrument = Catalogue::standard().get(fill.conid)?;
            Some(Trade {
                execution: fill.id,
                order: fill.order.get(),
                at: fill.at,
                conid: fill.conid,
                symbol: instrument.symbol.clone(),
                currency: instrument.currency,
                side: fill.side,
                quantity: fill.quantity,
                price: fill.price,
                proceeds: -fill.side.sign() * fill.quantity * fill.price,
                commission: -fill.commission,
                commission_currency: fill.commission_currency,
            })
        })
    }

    fn transfers(&self, account: &AccountId, from: Timestamp, to: Timestamp) -> Vec<Transfer> {
        let in_period = self.ledger.entries(account).filter(|entry| entry.at >= from && entry.at < to);
        in_period
            .filter_map(|entry| {
                let (kind, book, shares) = match entry.cause {
                    Cause::Opening | Cause::Deposit => ("DEPOSIT", Book::Cash, None),
                    Cause::Withdrawal => ("WITHDRAWAL", Book::Cash, None),
                    Cause::InternalTransfer => ("INTERNAL", Book::Cash, None),
                    Cause::PositionTransfer { conid, quantity, external } => {
                        let kind = if external { "FOP" } else { "INTERNAL" };
                        (kind, Book::Securities(conid), Some((conid, quantity)))
                    }
                    _ => return None,
                };
                Some(entry.postings.iter().filter(move |posting| posting.book == book).map(move |posting| {
                    Transfer {
                        at: entry.at,
                        kind,
                        currency: posting.currency,
                        amount: posting.amount,
                        shares,
                    }
                }))
            })
            .flatten()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;
    use model::{OrderType, Side};

    use super::*;
    use crate::Command;
    use crate::testing::{Broker, d, new_york, ticket};

    #[test]
    fn a_statement_adds_up_to_the_ledger_and_lists_what_happened() {
        let mut broker = Broker::at("2026-03-02 10:00");
        let account: AccountId = "DU1234567".parse().unwrap();
        broker.place("DU1234567", vec![ticket(Side::Buy, 10, OrderType::Market)]).unwrap();
        broker.advance(SignedDuration::from_mins(1));
        broker
            .apply(Command::Deposit { account: account.clone(), currency: Currency::USD, amount: d("500") })
            .unwrap();
        broker
            .apply(Command::Withdraw { account: account.clone(), currency: Currency::USD, amount: d("200") })
            .unwrap();
        let now = broker.engine.state().market_time(broker.wall);
        let from = new_york("2026-03-02 00:00");
        let to = new_york("2026-03-03 00:00");
        let statement = broker.engine.state().statement(&account, from, to, now).unwrap();

        let usd = &statement.cash[0];
        let trades: Vec<Trade> = broker.engine.state().trades(&account, from, to).collect();
        assert_eq!(usd.ending_cash, broker.cash("DU1234567"));
        assert_eq!(
            (usd.deposits, usd.withdrawals),
            (d("1000500"), d("-200")),
            "the opening balance is paid in"
        );
        let trade = &trades[0];
        assert_eq!(trade.quantity, d("10"));
        assert_eq!(usd.trades, trade.proceeds);
        assert_eq!(usd.commissions, trade.commission);
        assert!(trade.commission < Decimal::ZERO);
        assert_eq!(
            statement.transfers.iter().map(|t| t.kind).collect::<Vec<_>>(),
            ["DEPOSIT", "DEPOSIT", "WITHDRAWAL"]
        );
        assert_eq!(statement.positions[0].quantity, d("10"));
        assert_eq!(statement.valued_at, now, "a period that has not ended is valued now");

        let later =
            broker.engine.state().statement(&account, to, to + SignedDuration::from_hours(24), now).unwrap();
        assert_eq!(later.cash[0].starting_cash, usd.ending_cash);
        assert!(later.transfers.is_empty());
        assert_eq!(
            broker.engine.state().trades(&account, to, to + SignedDuration::from_hours(24)).count(),
            0
        );
    }
}
