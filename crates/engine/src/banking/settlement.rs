//! What pending instructions hold of an account, what may be withdrawn from it, and settling
//! deposits, withdrawals and deliveries when they fall due.

use jiff::Timestamp;
use market::Catalogue;
use model::{AccountId, AssetClass, Conid, Currency, Decimal};

use super::{Direction, Instruction, InstructionRejection, InstructionStatus, MAX_SHARES};
use crate::ledger::Cause;
use crate::{Engine, EngineError, Event};

impl Engine {
    /// What can be withdrawn from `account` in `currency` at `at`: its settled cash less what
    /// working orders and pending withdrawals hold, and no more than keeps the initial margin
    /// of its holdings covered.
    pub fn withdrawable(&self, account: &AccountId, currency: Currency, at: Timestamp) -> Decimal {
        let Some(portfolio) = self.state.portfolio(account, at) else { return Decimal::ZERO };
        let settled = portfolio.currencies.get(&currency).map_or(Decimal::ZERO, |line| line.settled_cash);
        let withdrawing = self.state.banking.held(account, currency);
        let held = self.book.reserved(account, currency) + withdrawing;
        let by_margin = self.available_equity(account, currency, at) - withdrawing;
        (settled - held).min(by_margin).max(Decimal::ZERO).round_dp(2)
    }

    /// The account's available funds (equity above the initial margin of its holdings), in
    /// `currency`, at `at`; never below zero.
    pub fn available_equity(&self, account: &AccountId, currency: Currency, at: Timestamp) -> Decimal {
        let Some(portfolio) = self.state.portfolio(account, at) else { return Decimal::ZERO };
        let rate = portfolio.currencies.get(&currency).map_or(Decimal::ONE, |line| line.rate);
        let funds = if rate > Decimal::ZERO { portfolio.available_funds() / rate } else { Decimal::ZERO };
        funds.max(Decimal::ZERO).round_dp(2)
    }

    /// Settles every pending deposit, withdrawal, delivery and deferred query due by `now`, in
    /// the order they fall due. One whose client was revoked, or whose account closed, since is
    /// rejected.
    pub(crate) fn settle_instructions(
        &mut self,
        now: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let mut due: Vec<(Timestamp, u64)> = self
            .state
            .banking
            .pending()
            .filter_map(|filed| filed.due_at.filter(|at| *at <= now).map(|at| (at, filed.id)))
            .collect();
        due.sort_unstable();
        for (at, id) in due {
            let Some(filed) = self.state.banking.instructions.get(&id).cloned() else { continue };
            let refusal = match self.client_of(&filed.client_id) {
                Ok(_) => self.unusable_account(&filed.client_id, &filed.instruction),
                Err(_) => {
                    Some(InstructionRejection::ClientNotApproved { client_id: filed.client_id.clone() })
                }
            };
            let outcome = match (refusal, &filed.instruction) {
                (Some(refusal), _) => Err(refusal),
                (None, Instruction::Deposit { account, currency, amount, .. }) => {
                    events.extend(self.move_cash(at, account, *currency, *amount, Cause::Deposit)?);
                    Ok(())
                }
                (None, Instruction::Withdrawal { account, currency, amount, .. }) => {
                    self.release(id);
                    let check = self.check_withdrawable(account, *currency, *amount, at);
                    if check.is_ok() {
                        events.extend(self.move_cash(at, account, *currency, -*amount, Cause::Withdrawal)?);
                    }
                    check
                }
                (None, Instruction::FreeOfPayment { account, conid, quantity, direction, .. }) => {
                    self.release(id);
                    let value = quantity.checked_mul(self.state.mark(*conid, at));
                    let check =
                        self.check_deliverable(account, *conid, *quantity, *direction).and_then(|()| {
                            value.map(drop).ok_or(InstructionRejection::ValueOverflow {
                                conid: *conid,
                                quantity: *quantity,
                            })
                        });
                    if let Ok(()) = check {
                        let (signed, cost) = match direction {
                            Direction::In => (*quantity, value),
                            Direction::Out => (-*quantity, None),
                        };
                        self.move_position(at, account, *conid, signed, cost, true)?;
                        let (from, to) = match direction {
                            Direction::In => (None, Some(account.clone())),
                            Direction::Out => (Some(account.clone()), None),
                        };
                        events.push(Event::PositionsTransferred { from, to, conid: *conid });
                    }
                    check
                }
                (None, _) => Ok(()),
            };
            if let Some(stored) = self.state.banking.instructions.get_mut(&id) {
                stored.decided_at = Some(at);
                match outcome {
                    Ok(()) => stored.status = InstructionStatus::Processed,
                    Err(rejection) => {
                        stored.status = InstructionStatus::Rejected;
                        stored.reason = Some(rejection.into());
                    }
                }
            }
            events.push(Event::InstructionSettled { instruction: id });
        }
        Ok(())
    }

    /// Why `quantity` of `conid` cannot move into or out of `account`, if it cannot: only
    /// shares LocalBroker lists move, and only shares held long and not promised to working
    /// sell orders (nor to pending deliveries) leave.
    pub(super) fn check_deliverable(
        &self,
        account: &AccountId,
        conid: Conid,
        quantity: Decimal,
        direction: Direction,
    ) -> Result<(), InstructionRejection> {
        let instrument =
            Catalogue::standard().get(conid).ok_or(InstructionRejection::UnlistedConid { conid })?;
        if instrument.asset_class != AssetClass::Stock {
            return Err(InstructionRejection::NotAShare { conid, symbol: instrument.symbol.clone() });
        }
        if quantity <= Decimal::ZERO || quantity > MAX_SHARES || quantity != quantity.trunc() {
            return Err(InstructionRejection::ShareCount { quantity });
        }
        let held = self
            .state
            .positions(account)
            .find(|(held, _)| *held == conid)
            .map_or(Decimal::ZERO, |(_, p)| p.quantity);
        if direction == Direction::In && held < Decimal::ZERO {
            return Err(InstructionRejection::ShortInto {
                account: account.clone(),
                conid,
                symbol: instrument.symbol.clone(),
            });
        }
        if direction == Direction::Out {
            let free =
                held - self.book.selling(account, conid) - self.state.banking.delivering(account, conid);
            if quantity > free {
                return Err(InstructionRejection::NotFreeToDeliver {
                    account: account.clone(),
                    conid,
                    symbol: instrument.symbol.clone(),
                    free: free.max(Decimal::ZERO),
                    quantity,
                });
            }
        }
        Ok(())
    }

    /// Marks instruction `id` as no longer holding what it moves while it is checked once more.
    fn release(&mut self, id: u64) {
        if let Some(filed) = self.state.banking.instructions.get_mut(&id) {
            filed.status = InstructionStatus::Processed;
        }
    }
}
