//! Money paid into and taken out of an account from outside the broker: deposits and
//! withdrawals. Both pass through the `capital` book, like the opening balance.

use jiff::Timestamp;
use model::{AccountId, Currency, Decimal};

use crate::ledger::{Book, Cause, Entry, Posting};
use crate::{Engine, EngineError, Event};

/// The most a single deposit or withdrawal may move: a trillion units.
const MAX_TRANSFER: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

impl Engine {
    /// Credits `amount` of `currency` to the account's cash.
    pub(crate) fn deposit(
        &mut self,
        at: Timestamp,
        account: &AccountId,
        currency: Currency,
        amount: Decimal,
    ) -> Result<Vec<Event>, EngineError> {
        self.check_transfer(account, amount)?;
        if !market::Catalogue::standard().prices_currency(currency) {
            return Err(EngineError::TransferRefused(format!(
                "{currency} is not a currency LocalBroker's pairs price"
            )));
        }
        self.move_cash(at, account, currency, amount, Cause::Deposit)
    }

    /// Pays `amount` of `currency` out of the account's settled cash, if what stays behind
    /// still covers the initial margin of its holdings.
    pub(crate) fn withdraw(
        &mut self,
        at: Timestamp,
        account: &AccountId,
        currency: Currency,
        amount: Decimal,
    ) -> Result<Vec<Event>, EngineError> {
        self.check_transfer(account, amount)?;
        let portfolio = self.state.portfolio(account, at).ok_or_else(|| unknown(account))?;
        let settled = portfolio.currencies.get(&currency).map_or(Decimal::ZERO, |line| line.settled_cash);
        let reserved = self.book.reserved(account, currency);
        let withdrawable = (settled - reserved).max(Decimal::ZERO);
        if amount > withdrawable {
            return Err(EngineError::TransferRefused(format!(
                "the withdrawal of {amount} {currency} exceeds the {withdrawable} {currency} of settled cash that working orders leave free"
            )));
        }
        let rate = portfolio.currencies.get(&currency).map_or(Decimal::ONE, |line| line.rate);
        let available = portfolio.available_funds() - amount * rate;
        if available < Decimal::ZERO {
            return Err(EngineError::TransferRefused(format!(
                "the withdrawal of {amount} {currency} would leave available funds of {:.2} {}",
                available, portfolio.base
            )));
        }
        self.move_cash(at, account, currency, -amount, Cause::Withdrawal)
    }

    fn check_transfer(&self, account: &AccountId, amount: Decimal) -> Result<(), EngineError> {
        if !self.state.accounts.contains_key(account) {
            return Err(unknown(account));
        }
        if amount <= Decimal::ZERO || amount > MAX_TRANSFER {
            return Err(EngineError::TransferRefused(format!(
                "an amount must be above 0 and at most {MAX_TRANSFER}, not {amount}"
            )));
        }
        Ok(())
    }

    fn move_cash(
        &mut self,
        at: Timestamp,
        account: &AccountId,
        currency: Currency,
        amount: Decimal,
        cause: Cause,
    ) -> Result<Vec<Event>, EngineError> {
        let postings =
            vec![Posting::new(Book::Cash, currency, amount), Posting::new(Book::Capital, currency, -amount)];
        self.state.ledger.post(Entry { account: account.clone(), at, cause, postings })?;
        Ok(vec![Event::CashMoved { account: account.clone(), currency, amount }])
    }
}

fn unknown(account: &AccountId) -> EngineError {
    EngineError::TransferRefused(format!("account {account} does not exist"))
}
