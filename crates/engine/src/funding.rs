//! Money paid into and taken out of an account from outside the broker: deposits and
//! withdrawals. Both pass through the `capital` book, like the opening balance.

use jiff::Timestamp;
use model::{AccountId, Currency, Decimal};

use crate::ledger::{Book, Cause, Entry, Posting};
use crate::{Engine, EngineError, Event};

/// The most a single deposit or withdrawal may move: a trillion units.
pub(crate) const MAX_TRANSFER: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

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

    /// Pays `amount` of `currency` out of the account's cash, if no more than
    /// [`Engine::withdrawable`].
    pub(crate) fn withdraw(
        &mut self,
        at: Timestamp,
        account: &AccountId,
        currency: Currency,
        amount: Decimal,
    ) -> Result<Vec<Event>, EngineError> {
        self.check_transfer(account, amount)?;
        let withdrawable = self.withdrawable(account, currency, at);
        if amount > withdrawable {
            return Err(EngineError::TransferRefused(format!(
                "the withdrawal of {amount} {currency} exceeds the {withdrawable} {currency} that can be withdrawn"
            )));
        }
        self.move_cash(at, account, currency, -amount, Cause::Withdrawal)
    }

    fn check_transfer(&self, account: &AccountId, amount: Decimal) -> Result<(), EngineError> {
        if self.state.accounts.get(account).is_none_or(|open| open.closed_at.is_some()) {
            return Err(unknown(account));
        }
        if amount <= Decimal::ZERO || amount > MAX_TRANSFER {
            return Err(EngineError::TransferRefused(format!(
                "an amount must be above 0 and at most {MAX_TRANSFER}, not {amount}"
            )));
        }
        Ok(())
    }

    pub(crate) fn move_cash(
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
    EngineError::TransferRefused(format!("account {account} does not exist or is closed"))
}
