//! An account's past: its net liquidation value at the end of each business day, and the
//! money paid in on each, for Portfolio Analyst's performance figures.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use market::Catalogue;
use market::calendar::{Market, new_york, new_york_midnight};
use model::{AccountId, Conid, Currency, Decimal};

use super::{Rates, is_currency_pair};
use crate::ledger::{Book, Cause, Entry};
use crate::orders::Execution;
use crate::state::State;

/// What an account held at a past instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    /// Shares and units per instrument, none zero.
    pub quantities: BTreeMap<Conid, Decimal>,
    /// Cash, dividends receivable and interest accrued, per currency.
    pub money: BTreeMap<Currency, Decimal>,
}

impl Holdings {
    /// Their net liquidation value in `base` at instant `at`'s prices and rates.
    pub fn value(&self, state: &State, base: Currency, at: Timestamp) -> Decimal {
        let rates = Rates::new(state, base, at);
        let held: Decimal = self
            .quantities
            .iter()
            .filter_map(|(&conid, &quantity)| {
                let instrument = Catalogue::standard().get(conid)?;
                Some(rates.convert(instrument.currency, quantity * state.mark(conid, at)))
            })
            .sum();
        let money: Decimal =
            self.money.iter().map(|(&currency, &amount)| rates.convert(currency, amount)).sum();
        held + money
    }
}

impl State {
    /// What `account` held at each of `instants`, in their order: today's holdings and
    /// balances, less every execution, transfer and ledger entry made after each, with the
    /// splits after it undone. One walk back through the broker's history (every account's
    /// executions and entries, newest first) serves every instant, so a year of days costs
    /// what the earliest of them does.
    pub(crate) fn holdings_at(&self, account: &AccountId, instants: &[Timestamp]) -> Vec<Holdings> {
        let mut order: Vec<usize> = (0..instants.len()).collect();
        order.sort_by_key(|&index| std::cmp::Reverse(instants[index]));
        let mut walk = Walk::new(self, account);
        let mut found = vec![Holdings::default(); instants.len()];
        for index in order {
            found[index] = walk.back_to(instants[index]);
        }
        found
    }
}

/// A walk back in time through one account's history, from now.
struct Walk<'a> {
    state: &'a State,
    account: &'a AccountId,
    /// Holdings at the walk's instant, zeros included.
    holdings: Holdings,
    /// Every account's executions not yet passed, newest first, with their place in the list.
    fills: std::iter::Peekable<std::iter::Rev<std::iter::Enumerate<std::slice::Iter<'a, Execution>>>>,
    /// Every account's ledger entries not yet passed, newest first.
    entries: std::iter::Peekable<std::iter::Rev<std::slice::Iter<'a, Entry>>>,
    /// The splits not yet passed, newest first.
    splits: std::iter::Peekable<std::iter::Rev<std::slice::Iter<'a, crate::corporate_actions::SplitRecord>>>,
}

impl<'a> Walk<'a> {
    fn new(state: &'a State, account: &'a AccountId) -> Self {
        let quantities =
            state.positions(account).map(|(conid, position)| (conid, position.quantity)).collect();
        let mut money: BTreeMap<Currency, Decimal> = state.ledger.cash(account).collect();
        for book in [Book::DividendsReceivable, Book::InterestAccrued] {
            for (currency, owed) in state.ledger.balances(account, book) {
                *money.entry(currency).or_default() += owed;
            }
        }
        Self {
            state,
            account,
            holdings: Holdings { quantities, money },
            fills: state.executions.iter().enumerate().rev().peekable(),
            entries: state.ledger.newest_first().peekable(),
            splits: state.corporate_actions.splits.iter().rev().peekable(),
        }
    }

    /// Walks back to instant `at`, no later than where the walk is, and answers the holdings
    /// there.
    fn back_to(&mut self, at: Timestamp) -> Holdings {
        // A split records how many executions came before it, which an instant alone cannot
        // tell at the same market time, and what each account held just before it.
        while let Some(split) = self.splits.next_if(|split| split.at > at) {
            // Records from before splits counted executions say none came before; the split's
            // instant still bounds them.
            self.undo_fills(|index, fill| index >= split.executions_before && fill.at >= split.at);
            self.undo_entries(|entry| entry.at > split.at);
            let before = split.held_before.get(self.account).copied().unwrap_or_default();
            self.holdings.quantities.insert(split.conid, before);
        }
        self.undo_fills(|_, fill| fill.at > at);
        self.undo_entries(|entry| entry.at > at);
        let mut holdings = self.holdings.clone();
        holdings.quantities.retain(|_, quantity| !quantity.is_zero());
        holdings
    }

    fn undo_fills(&mut self, after: impl Fn(usize, &Execution) -> bool) {
        while let Some((_, fill)) = self.fills.next_if(|(index, fill)| after(*index, fill)) {
            if &fill.account == self.account && !is_currency_pair(fill.conid) {
                *self.holdings.quantities.entry(fill.conid).or_default() -= fill.side.sign() * fill.quantity;
            }
        }
    }

    fn undo_entries(&mut self, after: impl Fn(&Entry) -> bool) {
        while let Some(entry) = self.entries.next_if(|entry| after(entry)) {
            if &entry.account != self.account {
                continue;
            }
            for posting in &entry.postings {
                if matches!(posting.book, Book::Cash | Book::DividendsReceivable | Book::InterestAccrued) {
                    *self.holdings.money.entry(posting.currency).or_default() -= posting.amount;
                }
            }
            if let Cause::PositionTransfer { conid, quantity, .. } = entry.cause
                && !self.split_at(conid, entry.at)
            {
                *self.holdings.quantities.entry(conid).or_default() -= quantity;
            }
        }
    }

    /// Whether `conid` split at instant `at`. A transfer at the instant of a split of its
    /// instrument is taken to have come after it (a split records the executions before it,
    /// not the entries): the holding the split recorded does not include it, and walking back
    /// past the split's reset to that holding has already undone it.
    fn split_at(&self, conid: Conid, at: Timestamp) -> bool {
        self.state.corporate_actions.splits.iter().any(|split| split.conid == conid && split.at == at)
    }
}

/// One business day of an account's history, in its base currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayValue {
    /// The New York date.
    pub date: Date,
    /// Net liquidation value at the day's end (or now, for today).
    pub net_liquidation: Decimal,
    /// Money paid in less money taken out since the previous business day ended.
    pub paid_in: Decimal,
}

/// The instant `date` ends in New York.
fn end_of(date: Date) -> Timestamp {
    date.tomorrow().ok().and_then(new_york_midnight).unwrap_or(Timestamp::MAX)
}

/// Whether US shares trade on `date`: Portfolio Analyst's days are business days.
pub(crate) fn is_business_day(date: Date) -> bool {
    !Market::UsEquity.hours_on(date).regular.is_empty()
}

impl State {
    /// The account's value at the end of each business day from `from` to the day of `now`
    /// (that day valued at `now`), in `base`; days before the account opened are left out.
    pub(crate) fn daily_values(
        &self,
        account: &AccountId,
        base: Currency,
        from: Date,
        now: Timestamp,
    ) -> Vec<DayValue> {
        let Some(opened) = self.accounts.get(account).map(|account| account.opened_at) else {
            return Vec::new();
        };
        let today = now.to_zoned_datetime(new_york()).date();
        let opened_on = opened.to_zoned_datetime(new_york()).date();
        let mut days = Vec::new();
        let mut day = from.max(opened_on);
        // Money paid in before the first day shown belongs to the days before it; the opening
        // balance belongs to the first day.
        let just_before_opening =
            opened.saturating_sub(jiff::SignedDuration::from_nanos(1)).unwrap_or(opened);
        let mut previous_end = match self.last_business_day_before(day) {
            Some(before) if day > opened_on => end_of(before).max(just_before_opening),
            _ => just_before_opening,
        };
        while day <= today {
            if is_business_day(day) || day == today {
                let end = if day == today { now } else { end_of(day) };
                days.push((day, (previous_end, end)));
                previous_end = end;
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        let periods: Vec<(Timestamp, Timestamp)> = days.iter().map(|&(_, period)| period).collect();
        let ends: Vec<Timestamp> = periods.iter().map(|&(_, end)| end).collect();
        let held = self.holdings_at(account, &ends);
        let paid_in = self.paid_in_each(account, base, &periods);
        days.into_iter()
            .zip(held)
            .zip(paid_in)
            .map(|(((date, (_, end)), held), paid_in)| DayValue {
                date,
                net_liquidation: held.value(self, base, end),
                paid_in,
            })
            .collect()
    }

    /// The business day before `date`.
    pub(crate) fn last_business_day_before(&self, date: Date) -> Option<Date> {
        std::iter::successors(date.yesterday().ok(), |day| day.yesterday().ok())
            .take(30)
            .find(|d| is_business_day(*d))
    }

    /// Money paid in less money taken out in each of `periods` (`(from, to]`, in order, each
    /// starting where the one before ended), in `base` at the rates at its end: one pass over
    /// the entries since the first began.
    fn paid_in_each(
        &self,
        account: &AccountId,
        base: Currency,
        periods: &[(Timestamp, Timestamp)],
    ) -> Vec<Decimal> {
        let mut paid_in = vec![Decimal::ZERO; periods.len()];
        let Some(&(since, _)) = periods.first() else { return paid_in };
        let rates: Vec<Rates> = periods.iter().map(|&(_, to)| Rates::new(self, base, to)).collect();
        for entry in self.ledger.entries_since(account, since).filter(|entry| entry.at > since) {
            let index = periods.partition_point(|&(_, to)| to < entry.at);
            if index == periods.len() {
                continue;
            }
            for posting in entry.postings.iter().filter(|posting| posting.book == Book::Capital) {
                paid_in[index] -= rates[index].convert(posting.currency, posting.amount);
            }
        }
        paid_in
    }
}
