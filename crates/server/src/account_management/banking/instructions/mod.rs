//! IBKR's instruction schemas, as far as LocalBroker models them, read into the engine's
//! instruction requests. Each struct is the IBKR definition it is named after, or the two
//! definitions it stands for when IBKR gives both the same fields.

use engine::banking::{BankAccount, BankMethod, Direction, Instruction, InstructionRequest, Query};
use model::{AccountId, Currency};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::fields::{Amount, Field, MethodName, Object, TradingInstrument, Whole};
use crate::gateway::problem::Problem;

/// The methods a deposit or a removed bank instruction may name.
const ACH_OR_WIRE: &[BankMethod] = &[BankMethod::Ach, BankMethod::Wire];
/// The methods a withdrawal, a predefined destination or a query may name.
const ANY_METHOD: &[BankMethod] = &[BankMethod::Ach, BankMethod::Wire, BankMethod::Sepa];

/// Reads `item`, one instruction of `instruction_type`.
pub(super) fn instruction(instruction_type: &str, item: Value) -> Result<InstructionRequest, Problem> {
    match instruction_type {
        "DEPOSIT" => parse::<ExternalCashInstruction>(item)?.deposit(),
        "WITHDRAWAL" => parse::<ExternalCashInstruction>(item)?.withdrawal(),
        "INTERNAL_CASH_TRANSFER" => parse::<InternalCashTransferInstruction>(item)?.request(),
        "ACH_INSTRUCTION" => parse::<AchInstruction>(item)?.request(),
        "PREDEFINED_DESTINATION_INSTRUCTION" => parse::<PredefinedDestinationInstruction>(item)?.request(),
        "DELETE_BANK_INSTRUCTION" => parse::<DeleteBankInstruction>(item)?.request(),
        "FOP" => parse::<FopInstruction>(item)?.request(),
        "INTERNAL_POSITION_TRANSFER" => parse::<InternalPositionTransferInstruction>(item)?.request(),
        "CANCEL_INSTRUCTION" => parse::<CancelInstruction>(item)?.request(),
        "QUERY_WITHDRAWABLE_FUNDS" => {
            parse::<WithdrawableQuery>(item)?.request(|currency| Query::WithdrawableFunds { currency })
        }
        "QUERY_WITHDRAWABLE_CASH_EQUITY" => {
            parse::<WithdrawableQuery>(item)?.request(|currency| Query::WithdrawableCashEquity { currency })
        }
        "QUERY_BANK_INSTRUCTION" => parse::<QueryBankInstruction>(item)?.request(),
        "QUERY_RECENT_INSTRUCTIONS" => parse::<QueryRecentInstructions>(item)?.request(),
        other => Err(Problem::not_implemented(format!(
            "LocalBroker does not model {other} instructions: see the README's coverage table"
        ))),
    }
}

/// `item` as schema `S`: its fields never fail, so only an item that is not an object does.
fn parse<S: DeserializeOwned>(item: Value) -> Result<S, Problem> {
    serde_json::from_value(item).map_err(|_| Problem::field("instruction", "is an object"))
}

/// The request for `instruction`, with its client's id.
fn filed(
    id: Field<Whole>,
    instruction: impl FnOnce() -> Result<Instruction, Problem>,
) -> Result<InstructionRequest, Problem> {
    let Whole(client_instruction_id) = id.required("clientInstructionId")?;
    Ok(InstructionRequest { client_instruction_id, instruction: instruction()? })
}

/// The last four characters of an account number: all LocalBroker keeps of it.
fn tail(number: Option<String>) -> Option<String> {
    number.map(|number| {
        let chars: Vec<char> = number.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    })
}

/// IBKR's `DepositFundsInstruction` and `WithdrawFundsInstruction`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ExternalCashInstruction {
    client_instruction_id: Field<Whole>,
    account_id: Field<AccountId>,
    currency: Field<Currency>,
    amount: Field<Amount>,
    bank_instruction_method: Field<MethodName>,
    bank_instruction_name: Field<String>,
}

impl ExternalCashInstruction {
    fn deposit(self) -> Result<InstructionRequest, Problem> {
        filed(self.client_instruction_id, || {
            Ok(Instruction::Deposit {
                account: self.account_id.required("accountId")?,
                currency: self.currency.required("currency")?,
                amount: self.amount.required("amount")?.0,
                method: self.bank_instruction_method.required("bankInstructionMethod")?.among(ACH_OR_WIRE)?,
                bank: self.bank_instruction_name.optional("bankInstructionName")?,
            })
        })
    }

    fn withdrawal(self) -> Result<InstructionRequest, Problem> {
        filed(self.client_instruction_id, || {
            Ok(Instruction::Withdrawal {
                account: self.account_id.required("accountId")?,
                currency: self.currency.required("currency")?,
                amount: self.amount.required("amount")?.0,
                method: self.bank_instruction_method.required("bankInstructionMethod")?.among(ANY_METHOD)?,
                bank: self.bank_instruction_name.required("bankInstructionName")?,
            })
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct InternalCashTransferInstruction {
    client_instruction_id: Field<Whole>,
    source_account_id: Field<AccountId>,
    target_account_id: Field<AccountId>,
    currency: Field<Currency>,
    amount: Field<Amount>,
}

impl InternalCashTransferInstruction {
    fn request(self) -> Result<InstructionRequest, Problem> {
        filed(self.client_instruction_id, || {
            Ok(Instruction::InternalCashTransfer {
                from: self.source_account_id.required("sourceAccountId")?,
                to: self.target_account_id.required("targetAccountId")?,
                currency: self.currency.required("currency")?,
                amount: self.amount.required("amount")?.0,
            })
        })
    }
}

/// IBKR's `clientAccountInfo` of an ACH instruction.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ClientAccountInfo {
    bank_name: Field<String>,
    bank_routing_number: Field<String>,
    bank_account_number: Field<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AchInstruction {
    client_instruction_id: Field<Whole>,
    client_account_info: Field<Object<ClientAccountInfo>>,
    account_id: Field<AccountId>,
    bank_instruction_name: Field<String>,
    currency: Field<Currency>,
}

impl AchInstruction {
    fn request(self) -> Result<InstructionRequest, Problem> {
        filed(self.client_instruction_id, || {
            let Object(info) = self.client_account_info.required("clientAccountInfo")?;
            Ok(Instruction::AddBankInstruction {
                account: self.account_id.required("accountId")?,
                name: self.bank_instruction_name.required("bankInstructionName")?,
                currency: self.currency.required("currency")?,
                method: BankMethod::Ach,
                bank: BankAccount {
                    bank_name: info.bank_name.optional("bankName")?,
                    routing_number: info.bank_routing_number.optional("bankRoutingNumber")?,
                    account_number_tail: tail(info.bank_account_number.optional("bankAccountNumber")?),
                },
                predefined: false,
            })
        })
    }
}

/// IBKR's `financialInstitution` of a predefined destination.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct FinancialInstitution {
    name: Field<String>,
    identifier: Field<String>,
    client_account_id: Field<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PredefinedDestinationInstruction {
    client_instruction_id: Field<Whole>,
    financial_institution: Field<Object<FinancialInstitution>>,
    account_id: Field<AccountId>,
    bank_instruction_name: Field<String>,
    currency: Field<Currency>,
    bank_instruction_method: Field<MethodName>,
}

impl PredefinedDestinationInstruction {
    fn request(self) -> Result<InstructionRequest, Problem> {
        filed(self.client_instruction_id, || {
            let Object(institution) = self.financial_institution.required("financialInstitution")?;
            Ok(Instruction::AddBankInstruction {
                account: self.account_id.required("accountId")?,
                name: self.bank_instruction_name.required("bankInstructionName")?,
                currency: self.currency.required("currency")?,
                method: self.bank_instruction_method.required("bankInstructionMethod")?.among(ANY_METHOD)?,
                bank: BankAccount {
                    bank_name: institution.name.optional("name")?,
                    routing_number: institution.identifier.optional("identifier")?,
                    account_number_tail: tail(institution.client_account_id.optional("clientAccountId")?),
                },
                predefined: true,
            })
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct DeleteBankInstruction {
    client_instruction_id: Field<Whole>,
    account_id: Field<AccountId>,
    bank_instruction_name: Field<String>,
    currency: Field<Currency>,
    bank_instruction_method: Field<MethodName>,
}

impl DeleteBankInstruction {
    fn request(self) -> Result<InstructionRequest, Problem> {
        filed(self.client_instruction_id, || {
            Ok(Instruction::DeleteBankInstruction {
                account: self.account_id.required("accountId")?,
                name: self.bank_instruction_name.required("bankInstructionName")?,
                currency: self.currency.required("currency")?,
                method: self.bank_instruction_method.required("bankInstructionMethod")?.among(ACH_OR_WIRE)?,
            })
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct FopInstruction {
    client_instruction_id: Field<Whole>,
    account_id: Field<AccountId>,
    trading_instrument: Field<Object<TradingInstrument>>,
    quantity: Field<Amount>,
    direction: Field<Direction>,
    contra_broker_dtc_code: Field<String>,
}

impl FopInstruction {
    fn request(self) -> Result<InstructionRequest, Problem> {
        filed(self.client_instruction_id, || {
            Ok(Instruction::FreeOfPayment {
                account: self.account_id.required("accountId")?,
                conid: TradingInstrument::conid(self.trading_instrument)?,
                quantity: self.quantity.required("quantity")?.0,
                direction: self.direction.required("direction")?,
                contra_broker: self.contra_broker_dtc_code.required("contraBrokerDtcCode")?,
            })
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct InternalPositionTransferInstruction {
    client_instruction_id: Field<Whole>,
    source_account_id: Field<AccountId>,
    target_account_id: Field<AccountId>,
    trading_instrument: Field<Object<TradingInstrument>>,
    transfer_quantity: Field<Amount>,
}

impl InternalPositionTransferInstruction {
    fn request(self) -> Result<InstructionRequest, Problem> {
        filed(self.client_instruction_id, || {
            Ok(Instruction::InternalPositionTransfer {
                from: self.source_account_id.required("sourceAccountId")?,
                to: self.target_account_id.required("targetAccountId")?,
                conid: TradingInstrument::conid(self.trading_instrument)?,
                quantity: self.transfer_quantity.required("transferQuantity")?.0,
            })
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CancelInstruction {
    client_instruction_id: Field<Whole>,
    instruction_id: Field<Whole>,
    reason: Field<String>,
}

impl CancelInstruction {
    fn request(self) -> Result<InstructionRequest, Problem> {
        filed(self.client_instruction_id, || {
            Ok(Instruction::Cancel {
                instruction: self.instruction_id.required("instructionId")?.0,
                reason: self.reason.required("reason")?,
            })
        })
    }
}

/// IBKR's `QueryWithdrawableFunds` and `QueryWithdrawableCashEquity`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WithdrawableQuery {
    client_instruction_id: Field<Whole>,
    account_id: Field<AccountId>,
    currency: Field<Currency>,
}

impl WithdrawableQuery {
    /// The query `asked` makes of the currency.
    fn request(self, asked: fn(Currency) -> Query) -> Result<InstructionRequest, Problem> {
        filed(self.client_instruction_id, || {
            Ok(Instruction::Query {
                account: self.account_id.required("accountId")?,
                query: asked(self.currency.required("currency")?),
            })
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct QueryBankInstruction {
    client_instruction_id: Field<Whole>,
    account_id: Field<AccountId>,
    bank_instruction_method: Field<MethodName>,
}

impl QueryBankInstruction {
    fn request(self) -> Result<InstructionRequest, Problem> {
        filed(self.client_instruction_id, || {
            Ok(Instruction::Query {
                account: self.account_id.required("accountId")?,
                query: Query::BankInstructions {
                    method: self
                        .bank_instruction_method
                        .required("bankInstructionMethod")?
                        .among(ANY_METHOD)?,
                },
            })
        })
    }
}

/// IBKR's `transactionHistory` of a recent-instructions query.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct TransactionHistory {
    days_to_go_back: Field<Whole>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct QueryRecentInstructions {
    client_instruction_id: Field<Whole>,
    account_id: Field<AccountId>,
    transaction_history: Field<Object<TransactionHistory>>,
}

impl QueryRecentInstructions {
    fn request(self) -> Result<InstructionRequest, Problem> {
        filed(self.client_instruction_id, || {
            let Object(history) = self.transaction_history.required("transactionHistory")?;
            let Whole(days) = history.days_to_go_back.required("daysToGoBack")?;
            Ok(Instruction::Query {
                account: self.account_id.required("accountId")?,
                query: Query::RecentInstructions {
                    days: u32::try_from(days.clamp(1, 3_650)).unwrap_or(3_650),
                    deferred: true,
                },
            })
        })
    }
}

#[cfg(test)]
mod tests;
