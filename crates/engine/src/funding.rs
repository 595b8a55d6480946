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

/// A movement of money the account cannot make. Banking instructions that move money are
/// refused for the same reasons, in the same words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferRefusal {
    /// Cash is held only in currencies the market's pairs price, so that it can be valued.
    #[error("{currency} is not a currency LocalBroker's pairs price")]
    UnpricedCurrency { currency: Currency },
    /// A withdrawal takes no more than [`Engine::withdrawable`]: settled cash that working
    /// orders and pending withdrawals do not hold, and that margin does not need.
    #[error(
        "the withdrawal of {amount} {currency} exceeds the {withdrawable} {currency} that can be withdrawn"
    )]
    ExceedsWithdrawable { amount: Decimal, currency: Currency, withdrawable: Decimal },
    /// An amount that moves nothing, or more than any real transfer, where sums could overflow.
    #[error("an amount must be above 0 and at most {MAX_TRANSFER}, not {amount}")]
    AmountOutOfRange { amount: Decimal },
    /// Only an open account takes or pays out money.
    #[error("account {account} does not exist or is closed")]
    AccountUnavailable { account: AccountId },
}

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
            return Err(TransferRefusal::UnpricedCurrency { currency }.into());
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
            return Err(TransferRefusal::ExceedsWithdrawable { amount, currency, withdrawable }.into());
        }
        self.move_cash(at, account, currency, -amount, Cause::Withdrawal)
    }

    fn check_transfer(&self, account: &AccountId, amount: Decimal) -> Result<(), EngineError> {
        if self.state.accounts.get(account).is_none_or(|open| open.closed_at.is_some()) {
            return Err(TransferRefusal::AccountUnavailable { account: account.clone() }.into());
        }
        Ok(check_amount(amount)?)
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

/// Refuses an amount of money that cannot move: it must be above 0 and at most
/// [`MAX_TRANSFER`].
pub(crate) fn check_amount(amount: Decimal) -> Result<(), TransferRefusal> {
    if amount <= Decimal::ZERO || amount > MAX_TRANSFER {
        return Err(TransferRefusal::AmountOutOfRange { amount });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::d;

    /// The texts a refused transfer answers with, written out in full.
    #[test]
    fn refusals_keep_their_words() {
        let cases = [
            (
                TransferRefusal::UnpricedCurrency { currency: Currency::USD },
                "USD is not a currency LocalBroker's pairs price",
            ),
            (
                TransferRefusal::ExceedsWithdrawable {
                    amount: d("2500.5"),
                    currency: Currency::EUR,
                    withdrawable: d("1000.00"),
                },
                "the withdrawal of 2500.5 EUR exceeds the 1000.00 EUR that can be withdrawn",
            ),
            (
                TransferRefusal::AmountOutOfRange { amount: d("-1") },
                "an amount must be above 0 and at most 1000000000000, not -1",
            ),
            (
                TransferRefusal::AccountUnavailable { account: "DU1234567".parse().unwrap() },
                "account DU1234567 does not exist or is closed",
            ),
        ];
        for (refusal, text) in cases {
            assert_eq!(refusal.to_string(), text);
        }
        let refused = EngineError::from(TransferRefusal::AmountOutOfRange { amount: d("0") });
        assert_eq!(
            refused.to_string(),
            "transfer refused: an amount must be above 0 and at most 1000000000000, not 0"
        );
    }
}
