//! The double-entry ledger: every movement of money or securities is an entry whose postings
//! balance in each currency, so cash and positions always reconcile with what the owner paid
//! in, what trading gained or lost and what it cost.
//!
//! Debits are positive, credits negative. A purchase of shares debits `securities` at cost and
//! credits `cash`; a commission debits `commissions` and credits `cash`; a gain on a closing
//! trade is credited to `realized_pnl`; opening balances and deposits are credited to
//! `capital`; a currency trade passes each currency through `exchange`.
//!
//! Books, postings and entries are the engine's own: outside it, the ledger answers balances
//! ([`Ledger::cash`], [`Ledger::cash_balance`], [`Ledger::is_balanced`]), and every figure
//! built from entries is a query of the engine ([`crate::statement`], [`crate::reports`]), so
//! the rules that read postings live in one crate.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use model::{AccountId, Conid, Currency, ExecutionId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A book of an account's ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) enum Book {
    /// Money held, per currency.
    Cash,
    /// An instrument's position at cost, in the instrument's currency.
    Securities(Conid),
    /// What the owner paid in: opening balances and deposits.
    Capital,
    /// Commissions paid.
    Commissions,
    /// Gains (credits) and losses (debits) realized by closing positions.
    RealizedPnl,
    /// The counterpart of currency bought and sold.
    Exchange,
    /// Dividends accrued on the ex-date and not yet paid.
    DividendsReceivable,
    /// Dividend income (credits), or dividends paid on short positions (debits).
    Dividends,
    /// Interest accrued and not yet paid: owed to the account (debits) or by it (credits).
    InterestAccrued,
    /// Interest earned (credits) or paid (debits).
    Interest,
}

impl fmt::Display for Book {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cash => f.write_str("cash"),
            Self::Securities(conid) => write!(f, "securities:{conid}"),
            Self::Capital => f.write_str("capital"),
            Self::Commissions => f.write_str("commissions"),
            Self::RealizedPnl => f.write_str("realized_pnl"),
            Self::Exchange => f.write_str("exchange"),
            Self::DividendsReceivable => f.write_str("dividends_receivable"),
            Self::Dividends => f.write_str("dividends"),
            Self::InterestAccrued => f.write_str("interest_accrued"),
            Self::Interest => f.write_str("interest"),
        }
    }
}

/// Why a string names no book.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no ledger book is called {0:?}")]
pub(crate) struct BookError(String);

impl FromStr for Book {
    type Err = BookError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cash" => Ok(Self::Cash),
            "capital" => Ok(Self::Capital),
            "commissions" => Ok(Self::Commissions),
            "realized_pnl" => Ok(Self::RealizedPnl),
            "exchange" => Ok(Self::Exchange),
            "dividends_receivable" => Ok(Self::DividendsReceivable),
            "dividends" => Ok(Self::Dividends),
            "interest_accrued" => Ok(Self::InterestAccrued),
            "interest" => Ok(Self::Interest),
            other => other
                .strip_prefix("securities:")
                .and_then(|conid| conid.parse().ok())
                .map(Self::Securities)
                .ok_or_else(|| BookError(other.to_owned())),
        }
    }
}

impl TryFrom<String> for Book {
    type Error = BookError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Book> for String {
    fn from(book: Book) -> String {
        book.to_string()
    }
}

/// One line of an entry: an amount debited (positive) or credited (negative) to a book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Posting {
    /// The book.
    pub(crate) book: Book,
    /// The currency of the amount.
    pub(crate) currency: Currency,
    /// Debit (positive) or credit (negative).
    pub(crate) amount: Decimal,
}

impl Posting {
    /// A posting of `amount` in `currency` to `book`. A zero amount is posted as plain zero,
    /// never as the `-0` that negating zero gives: a snapshot reads `-0` back as `0`, so a
    /// state holding it would not restore to its own digest.
    pub(crate) fn new(book: Book, currency: Currency, amount: Decimal) -> Self {
        let amount = if amount.is_zero() { Decimal::ZERO } else { amount };
        Self { book, currency, amount }
    }
}

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub(crate) enum Cause {
    /// The account's opening balance.
    Opening,
    /// An execution and its commission.
    Execution { execution: ExecutionId },
    /// Money paid in from outside the broker.
    Deposit,
    /// Money paid out of the broker.
    Withdrawal,
    /// Money moved between two accounts of the broker.
    InternalTransfer,
    /// Shares moved into (positive) or out of an account without a trade: from or to another
    /// broker when `external`, else between accounts of this one.
    PositionTransfer {
        conid: Conid,
        quantity: Decimal,
        #[serde(default)]
        external: bool,
    },
    /// A dividend accrued to holders on its ex-date.
    DividendAccrual { conid: Conid },
    /// A dividend paid on its pay date.
    DividendPayment { conid: Conid },
    /// A fraction of a share a split left, paid out in cash.
    CashInLieu { conid: Conid },
    /// A day's interest accrued.
    InterestAccrual { day: jiff::civil::Date },
    /// A month's accrued interest paid into (or out of) cash.
    InterestPayment,
}

/// A balanced set of postings to one account, at one market instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// Whose books.
    pub(crate) account: AccountId,
    /// When, in market time.
    pub(crate) at: Timestamp,
    /// What it records.
    pub(crate) cause: Cause,
    /// Its postings; in each currency they sum to zero.
    pub(crate) postings: Vec<Posting>,
}

/// An entry whose postings do not sum to zero in some currency: a bug, never a user error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry for {account} does not balance in {currency}: off by {off}")]
pub struct Unbalanced {
    /// The account.
    pub account: AccountId,
    /// The currency that does not balance.
    pub currency: Currency,
    /// The sum of its postings.
    pub off: Decimal,
}

impl Entry {
    /// Checks that the postings balance in every currency.
    ///
    /// # Errors
    /// [`Unbalanced`] naming the first currency that does not.
    pub(crate) fn check(&self) -> Result<(), Unbalanced> {
        let mut sums: BTreeMap<Currency, Decimal> = BTreeMap::new();
        for posting in &self.postings {
            *sums.entry(posting.currency).or_default() += posting.amount;
        }
        match sums.into_iter().find(|(_, sum)| !sum.is_zero()) {
            Some((currency, off)) => Err(Unbalanced { account: self.account.clone(), currency, off }),
            None => Ok(()),
        }
    }
}

/// Every entry ever made, and each account's balances per book and currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    entries: Vec<Entry>,
    balances: BTreeMap<AccountId, BTreeMap<Book, BTreeMap<Currency, Decimal>>>,
}

impl Ledger {
    /// Records `entry` if it balances.
    ///
    /// # Errors
    /// [`Unbalanced`]; the ledger is then unchanged.
    pub(crate) fn post(&mut self, entry: Entry) -> Result<(), Unbalanced> {
        entry.check()?;
        let books = self.balances.entry(entry.account.clone()).or_default();
        for posting in &entry.postings {
            let balance = books.entry(posting.book).or_default().entry(posting.currency).or_default();
            *balance += posting.amount;
        }
        self.entries.push(entry);
        Ok(())
    }

    /// The balance of `book` in `currency` (debits minus credits).
    pub(crate) fn balance(&self, account: &AccountId, book: Book, currency: Currency) -> Decimal {
        self.balances
            .get(account)
            .and_then(|books| books.get(&book))
            .and_then(|by_currency| by_currency.get(&currency))
            .copied()
            .unwrap_or_default()
    }

    /// The balances of `book`, per currency.
    pub(crate) fn balances(
        &self,
        account: &AccountId,
        book: Book,
    ) -> impl Iterator<Item = (Currency, Decimal)> + '_ {
        self.balances
            .get(account)
            .and_then(|books| books.get(&book))
            .into_iter()
            .flatten()
            .map(|(currency, amount)| (*currency, *amount))
    }

    /// The cash the account holds, per currency.
    pub fn cash(&self, account: &AccountId) -> impl Iterator<Item = (Currency, Decimal)> + '_ {
        self.balances(account, Book::Cash)
    }

    /// The cash the account holds in `currency`: what a deposit or withdrawal left, without
    /// naming the ledger's books outside the engine.
    pub fn cash_balance(&self, account: &AccountId, currency: Currency) -> Decimal {
        self.balance(account, Book::Cash, currency)
    }

    /// The account's entries, oldest first.
    pub(crate) fn entries<'a>(&'a self, account: &'a AccountId) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |entry| &entry.account == account)
    }

    /// Every account's entries, newest first.
    pub(crate) fn newest_first(&self) -> std::iter::Rev<std::slice::Iter<'_, Entry>> {
        self.entries.iter().rev()
    }

    /// The account's entries made at or after `since`, newest first. Entries are made in
    /// market-time order, so this reads only the recent end of the ledger.
    pub(crate) fn entries_since<'a>(
        &'a self,
        account: &'a AccountId,
        since: Timestamp,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .iter()
            .rev()
            .take_while(move |entry| entry.at >= since)
            .filter(move |entry| &entry.account == account)
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether every book of every account sums to zero in each currency, as balanced entries
    /// guarantee.
    pub fn is_balanced(&self) -> bool {
        self.balances.values().all(|books| {
            let mut sums: BTreeMap<Currency, Decimal> = BTreeMap::new();
            for by_currency in books.values() {
                for (currency, amount) in by_currency {
                    *sums.entry(*currency).or_default() += amount;
                }
            }
            sums.values().all(Decimal::is_zero)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountId {
        "DU1234567".parse().unwrap()
    }

    fn at() -> Timestamp {
        Timestamp::from_second(1_772_000_000).unwrap()
    }

    #[test]
    fn books_are_named_in_the_snapshot() {
        for book in [Book::Cash, Book::Securities(Conid::new(265_598)), Book::RealizedPnl, Book::Exchange] {
            assert_eq!(book.to_string().parse::<Book>().unwrap(), book);
        }
        assert!("securities:x".parse::<Book>().is_err());
    }

    #[test]
    fn an_unbalanced_entry_is_refused_and_changes_nothing() {
        let mut ledger = Ledger::default();
        let usd = Currency::USD;
        let opening = Entry {
            account: account(),
            at: at(),
            cause: Cause::Opening,
            postings: vec![
                Posting::new(Book::Cash, usd, Decimal::new(1000, 0)),
                Posting::new(Book::Capital, usd, Decimal::new(-1000, 0)),
            ],
        };
        ledger.post(opening).unwrap();
        let lopsided = Entry {
            account: account(),
            at: at(),
            cause: Cause::Opening,
            postings: vec![Posting::new(Book::Cash, usd, Decimal::new(5, 0))],
        };
        let before = ledger.clone();
        assert_eq!(ledger.post(lopsided).unwrap_err().off, Decimal::new(5, 0));
        assert_eq!(ledger, before);
        assert_eq!(ledger.cash(&account()).collect::<Vec<_>>(), [(usd, Decimal::new(1000, 0))]);
        assert!(ledger.is_balanced());
        let json = serde_json::to_string(&ledger).unwrap();
        assert_eq!(serde_json::from_str::<Ledger>(&json).unwrap(), ledger);
    }
}
