//! Money and shares moved into and out of an account without a trade: deposits, withdrawals
//! and position transfers. They pass through the `capital` book, like the opening balance.

use jiff::Timestamp;
use market::Catalogue;
use model::{AccountId, Conid, Currency, Decimal};

use crate::ledger::{Book, Cause, Entry, Posting};
use crate::positions::COST_DECIMALS;
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
        amount_refusal(amount).map_or(Ok(()), |why| Err(EngineError::TransferRefused(why)))
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

impl Engine {
    /// Moves `quantity` shares of `conid` into (positive) or out of (negative) `account`: in at
    /// `cost` (their value, or what they cost the account they came from), out at the
    /// position's average cost. Answers the cost that left the account (negative when shares
    /// came in). The caller has checked that the shares are held. `external` says whether they
    /// came from or went to another broker.
    pub(crate) fn move_position(
        &mut self,
        at: Timestamp,
        account: &AccountId,
        conid: Conid,
        quantity: Decimal,
        cost: Option<Decimal>,
        external: bool,
    ) -> Result<Decimal, EngineError> {
        let currency = Catalogue::standard()
            .get(conid)
            .map(|instrument| instrument.currency)
            .ok_or(EngineError::UnknownInstrument(conid))?;
        let mut position =
            self.state.positions.get(account).and_then(|held| held.get(&conid)).cloned().unwrap_or_default();
        let moved = match cost {
            Some(cost) => cost,
            None if position.quantity.is_zero() => Decimal::ZERO,
            None if -quantity == position.quantity => -position.cost,
            None => (position.cost * quantity / position.quantity).round_dp(COST_DECIMALS),
        };
        let postings = vec![
            Posting::new(Book::Securities(conid), currency, moved),
            Posting::new(Book::Capital, currency, -moved),
        ];
        let cause = Cause::PositionTransfer { conid, quantity, external };
        self.state.ledger.post(Entry { account: account.clone(), at, cause, postings })?;
        position.quantity += quantity;
        position.cost += moved;
        self.state.positions.entry(account.clone()).or_default().insert(conid, position);
        Ok(-moved)
    }
}

/// Why an amount of money cannot move, if it cannot: it must be above 0 and at most
/// [`MAX_TRANSFER`].
pub(crate) fn amount_refusal(amount: Decimal) -> Option<String> {
    (amount <= Decimal::ZERO || amount > MAX_TRANSFER)
        .then(|| format!("an amount must be above 0 and at most {MAX_TRANSFER}, not {amount}"))
}

fn unknown(account: &AccountId) -> EngineError {
    EngineError::TransferRefused(format!("account {account} does not exist or is closed"))
}
