//! Filing a set of instructions: the checks that refuse the whole set, then each instruction
//! carried out as far as it can be at once (processed, pending until it settles, or rejected).

use jiff::Timestamp;
use market::Catalogue;
use model::{AccountId, Currency, Decimal};

use super::{
    BankInstruction, BankMethod, Direction, FiledInstruction, Instruction, InstructionRefusal,
    InstructionRejection, InstructionRequest, InstructionStatus, MAX_NAME, Query, RECENT_INSTRUCTIONS_DELAY,
    Rejection,
};
use crate::applications::Lifecycle;
use crate::funding::{TransferRefusal, check_amount};
use crate::ledger::Cause;
use crate::{Engine, EngineError, Event};

/// The first instruction id, and the first set id.
const FIRST_ID: u64 = 100_000_001;
/// What an instruction came to when it was filed.
enum Outcome {
    Processed,
    Pending(Timestamp),
}

impl Engine {
    /// Files a set of `client_id`'s instructions, in order; answers
    /// [`Event::InstructionsFiled`] with the set's id.
    ///
    /// # Errors
    /// When the client may not use Account Management, or a `clientInstructionId` names
    /// another instruction than the one filed under it before: then nothing is filed.
    pub(crate) fn file_instructions(
        &mut self,
        now: Timestamp,
        client_id: &str,
        requests: &[InstructionRequest],
    ) -> Result<Vec<Event>, EngineError> {
        self.client_of(client_id)?;
        for (index, request) in requests.iter().enumerate() {
            let reused = requests[..index]
                .iter()
                .find(|earlier| earlier.client_instruction_id == request.client_instruction_id);
            let filed = self.state.banking.by_client_id(client_id, request.client_instruction_id);
            let conflict =
                reused.map(|earlier| &earlier.instruction).or(filed.map(|filed| &filed.instruction));
            if conflict.is_some_and(|earlier| !earlier.asks_the_same(&request.instruction)) {
                let client_instruction_id = request.client_instruction_id;
                return Err(InstructionRefusal::ClientInstructionIdReused { client_instruction_id }.into());
            }
        }
        let set = FIRST_ID + self.state.banking.sets.len() as u64;
        let mut ids = Vec::with_capacity(requests.len());
        // Each instruction applies in turn, later ones seeing what earlier ones did. Nothing in
        // `carry_out` fails once its checks pass (its `?` only carries a ledger imbalance, a
        // bug), so a refused set is one refused above, before anything was filed.
        let mut events = Vec::new();
        for request in requests {
            if let Some(filed) = self.state.banking.by_client_id(client_id, request.client_instruction_id) {
                ids.push(filed.id);
                continue;
            }
            let id = FIRST_ID + self.state.banking.instructions.len() as u64;
            let outcome = self.carry_out(now, client_id, &request.instruction, &mut events)?;
            let (status, due_at, reason) = match outcome {
                Ok(Outcome::Processed) => (InstructionStatus::Processed, None, None),
                Ok(Outcome::Pending(due)) => (InstructionStatus::Pending, Some(due), None),
                Err(rejection) => (InstructionStatus::Rejected, None, Some(rejection.into())),
            };
            let filed = FiledInstruction {
                id,
                set,
                client_id: client_id.to_owned(),
                client_instruction_id: request.client_instruction_id,
                instruction: request.instruction.clone(),
                status,
                submitted_at: now,
                due_at,
                decided_at: (status != InstructionStatus::Pending).then_some(now),
                reason,
            };
            let banking = &mut self.state.banking;
            banking.instructions.insert(id, filed);
            banking
                .by_client
                .entry(client_id.to_owned())
                .or_default()
                .insert(request.client_instruction_id, id);
            ids.push(id);
        }
        self.state.banking.sets.insert(set, ids);
        events.push(Event::InstructionsFiled { set });
        Ok(events)
    }

    /// Does what `instruction` asks that can be done now; the inner result says how it came
    /// out, or why it was rejected.
    fn carry_out(
        &mut self,
        now: Timestamp,
        client_id: &str,
        instruction: &Instruction,
        events: &mut Vec<Event>,
    ) -> Result<Result<Outcome, InstructionRejection>, EngineError> {
        if let Some(rejection) = self.unusable_account(client_id, instruction) {
            return Ok(Err(rejection));
        }
        let settles = now + self.state.requests.timing.settlement;
        Ok(match instruction {
            Instruction::Deposit { account, currency, amount, method, bank } => self
                .check_amount(*currency, *amount)
                .and_then(|()| match (method, bank) {
                    (BankMethod::Ach, None) => Err(InstructionRejection::AchWithoutBank),
                    (BankMethod::Ach, Some(name)) => {
                        self.saved_bank(account, name, *method, *currency).map(drop)
                    }
                    _ => Ok(()),
                })
                .map(|()| Outcome::Pending(settles)),
            Instruction::Withdrawal { account, currency, amount, method, bank } => self
                .check_amount(*currency, *amount)
                .and_then(|()| self.saved_bank(account, bank, *method, *currency).map(drop))
                .and_then(|()| self.check_withdrawable(account, *currency, *amount, now))
                .map(|()| Outcome::Pending(settles)),
            Instruction::InternalCashTransfer { from, to, currency, amount } => {
                match self.check_internal(from, to, *currency, *amount, now) {
                    Ok(()) => {
                        events.extend(self.move_cash(
                            now,
                            from,
                            *currency,
                            -*amount,
                            Cause::InternalTransfer,
                        )?);
                        events.extend(self.move_cash(
                            now,
                            to,
                            *currency,
                            *amount,
                            Cause::InternalTransfer,
                        )?);
                        Ok(Outcome::Processed)
                    }
                    Err(reason) => Err(reason),
                }
            }
            Instruction::AddBankInstruction { account, name, currency, method, bank, predefined } => {
                let saved = BankInstruction {
                    name: name.clone(),
                    currency: *currency,
                    method: *method,
                    bank: bank.clone(),
                    predefined: *predefined,
                    saved_at: now,
                };
                self.save_bank(account, saved)
            }
            Instruction::DeleteBankInstruction { account, name, method, currency } => {
                match self.saved_bank(account, name, *method, *currency) {
                    Ok(_) => {
                        if let Some(banks) = self.state.banking.banks.get_mut(account) {
                            banks.remove(name);
                        }
                        Ok(Outcome::Processed)
                    }
                    Err(reason) => Err(reason),
                }
            }
            Instruction::Cancel { instruction, reason } => {
                self.cancel_instruction(now, client_id, *instruction, reason)
            }
            Instruction::FreeOfPayment { account, conid, quantity, direction, .. } => self
                .check_deliverable(account, *conid, *quantity, *direction)
                .map(|()| Outcome::Pending(settles)),
            Instruction::InternalPositionTransfer { from, to, conid, quantity } => {
                let check = if from == to {
                    Err(InstructionRejection::SameAccount { account: from.clone() })
                } else {
                    self.check_deliverable(from, *conid, *quantity, Direction::Out)
                        .and_then(|()| self.check_deliverable(to, *conid, *quantity, Direction::In))
                };
                match check {
                    Ok(()) => {
                        let cost = self.move_position(now, from, *conid, -*quantity, None, false)?;
                        self.move_position(now, to, *conid, *quantity, Some(cost), false)?;
                        events.push(Event::PositionsTransferred {
                            from: Some(from.clone()),
                            to: Some(to.clone()),
                            conid: *conid,
                        });
                        Ok(Outcome::Processed)
                    }
                    Err(reason) => Err(reason),
                }
            }
            Instruction::Query { query: Query::RecentInstructions { deferred: true, .. }, .. } => {
                Ok(Outcome::Pending(now + RECENT_INSTRUCTIONS_DELAY))
            }
            Instruction::Query { .. } => Ok(Outcome::Processed),
        })
    }

    /// Why an account the instruction names cannot be used by the client, if one cannot.
    pub(super) fn unusable_account(
        &self,
        client_id: &str,
        instruction: &Instruction,
    ) -> Option<InstructionRejection> {
        let managed = &self.state.oauth.clients.get(client_id)?.accounts;
        instruction.accounts().into_iter().find_map(|account| {
            if !managed.contains(account) {
                Some(InstructionRejection::NotManaged { account: account.clone() })
            } else if !matches!(self.state.lifecycle(account), Some(Lifecycle::Open { .. })) {
                Some(InstructionRejection::NotOpen { account: account.clone() })
            } else {
                None
            }
        })
    }

    fn check_amount(&self, currency: Currency, amount: Decimal) -> Result<(), InstructionRejection> {
        check_amount(amount)?;
        if !Catalogue::standard().prices_currency(currency) {
            return Err(TransferRefusal::UnpricedCurrency { currency }.into());
        }
        Ok(())
    }

    /// The saved bank account of `account` named `name`, if it moves money by `method` in
    /// `currency`.
    fn saved_bank(
        &self,
        account: &AccountId,
        name: &str,
        method: BankMethod,
        currency: Currency,
    ) -> Result<&BankInstruction, InstructionRejection> {
        self.state
            .banking
            .banks(account)
            .find(|bank| bank.name == name && bank.method == method && bank.currency == currency)
            .ok_or_else(|| InstructionRejection::NoSuchBank {
                account: account.clone(),
                method,
                currency,
                name: name.to_owned(),
            })
    }

    /// Why `amount` of `currency` cannot be withdrawn from `account` at `at`, if it cannot.
    pub(super) fn check_withdrawable(
        &self,
        account: &AccountId,
        currency: Currency,
        amount: Decimal,
        at: Timestamp,
    ) -> Result<(), InstructionRejection> {
        let withdrawable = self.withdrawable(account, currency, at);
        if amount > withdrawable {
            return Err(TransferRefusal::ExceedsWithdrawable { amount, currency, withdrawable }.into());
        }
        Ok(())
    }

    fn check_internal(
        &self,
        from: &AccountId,
        to: &AccountId,
        currency: Currency,
        amount: Decimal,
        at: Timestamp,
    ) -> Result<(), InstructionRejection> {
        if from == to {
            return Err(InstructionRejection::SameAccount { account: from.clone() });
        }
        self.check_amount(currency, amount)?;
        self.check_withdrawable(from, currency, amount, at)
    }

    fn save_bank(
        &mut self,
        account: &AccountId,
        saved: BankInstruction,
    ) -> Result<Outcome, InstructionRejection> {
        if saved.name.trim().is_empty() || saved.name.chars().count() > MAX_NAME {
            return Err(InstructionRejection::BankNameLength { length: saved.name.chars().count() });
        }
        let banks = self.state.banking.banks.entry(account.clone()).or_default();
        if banks.contains_key(&saved.name) {
            return Err(InstructionRejection::BankExists { account: account.clone(), name: saved.name });
        }
        banks.insert(saved.name.clone(), saved);
        Ok(Outcome::Processed)
    }

    fn cancel_instruction(
        &mut self,
        now: Timestamp,
        client_id: &str,
        target: u64,
        reason: &str,
    ) -> Result<Outcome, InstructionRejection> {
        let filed = self
            .state
            .banking
            .instructions
            .get_mut(&target)
            .filter(|filed| filed.client_id == client_id)
            .ok_or(InstructionRejection::NoSuchInstruction { instruction: target })?;
        if filed.status != InstructionStatus::Pending {
            return Err(InstructionRejection::NotCancellable { instruction: target, status: filed.status });
        }
        filed.status = InstructionStatus::Rejected;
        filed.decided_at = Some(now);
        filed.reason = Some(Rejection::Cancelled { reason: reason.to_owned() });
        Ok(Outcome::Processed)
    }
}
