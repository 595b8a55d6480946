//! Why an order is refused before anything is written. Each refusal keeps the figures it was
//! judged on, so that callers and tests can tell refusals apart without reading their text;
//! the text is IBKR's where IBKR has one, as clients match on it, and reaches them verbatim.

use model::{AccountId, AssetClass, Conid, Currency, Decimal};

use super::placement::{MAX_PRICE, MAX_QUANTITY};

/// An order the instrument or the account cannot take. Its `Display` is the `error` the
/// trading API answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderRejection {
    /// Nothing can be bought or sold in a quantity of zero or less.
    #[error("The order size must be positive, not {quantity}.")]
    NonPositiveSize { quantity: Decimal },
    /// Instruments trade in whole multiples of their size increment (one share, a fraction of
    /// a coin).
    #[error("The order size {quantity} is not a multiple of the size increment {increment} of {symbol}.")]
    OffIncrement { quantity: Decimal, increment: Decimal, conid: Conid, symbol: String },
    /// A cash quantity is an amount to spend or collect, so it must be positive.
    #[error("The cash quantity must be positive, not {amount}.")]
    NonPositiveCash { amount: Decimal },
    /// Beyond any real order, and where its value and margin could overflow.
    #[error("The order size {quantity} exceeds the largest size LocalBroker takes, {MAX_QUANTITY}.")]
    SizeTooLarge { quantity: Decimal },
    /// Beyond any real order, and where the quantity it buys could overflow.
    #[error("The cash quantity {amount} exceeds the largest LocalBroker takes, {MAX_PRICE}.")]
    CashTooLarge { amount: Decimal },
    /// IBKR takes cash quantities for shares and coins, not for currency pairs.
    #[error("Cash quantity orders are not available for currency pairs.")]
    CashForCurrencyPair { conid: Conid },
    /// A price beyond any real one, where an order's value could overflow.
    #[error("Invalid order price fields: {price} exceeds the largest price LocalBroker takes.")]
    PriceTooLarge { price: Decimal },
    /// Exchanges take only prices on the instrument's tick grid.
    #[error("Invalid order price fields: {price} is not a positive multiple of the tick {tick} of {symbol}.")]
    OffTick { price: Decimal, tick: Decimal, conid: Conid, symbol: String },
    /// A trailing stop limit's offset from its stop is a price difference, on the tick grid.
    #[error("Invalid order price fields: the limit offset {offset} is off the tick grid.")]
    LimitOffsetOffTick { offset: Decimal },
    /// A trailing amount is a price difference, on the tick grid.
    #[error(
        "Invalid order price fields: the trailing amount {amount} is not a positive multiple of the tick."
    )]
    TrailingAmountOffTick { amount: Decimal },
    /// A trailing percentage must leave the stop a positive price.
    #[error("Invalid order price fields: the trailing percentage {percent} is not within 0 and 100.")]
    TrailingPercentOutOfRange { percent: Decimal },
    /// The closing auction is a stock's, and an order for it lives for the day.
    #[error("Market-on-close and limit-on-close orders are for stocks, with a DAY time in force.")]
    OnCloseTerms,
    /// The opening auction is a stock's, and takes market and limit orders only.
    #[error("OPG orders are market or limit orders for stocks.")]
    OpeningTerms,
    /// Coins trade around the clock: a day order would have no end.
    #[error("Crypto orders are IOC or GTC: the crypto market has no trading day to end.")]
    CryptoDay,
    /// IBKR lets only limit-priced stock orders work outside regular trading hours.
    #[error("invalid order attribute : Outside Regular Trading Hours")]
    OutsideRegularHours,
    /// A closed account keeps its history but trades no more.
    #[error("Account {account} is closed.")]
    AccountClosed { account: AccountId },
    /// The market lists no such instrument.
    #[error("No security definition has been found for conid {conid}.")]
    NoSecurityDefinition { conid: Conid },
    /// The cash quantity does not reach one size increment at the order's price.
    #[error("The cash quantity {amount} {currency} buys less than one {} at {price}.", unit_of(*asset_class))]
    CashBuysNothing { amount: Decimal, currency: Currency, asset_class: AssetClass, price: Decimal },
    /// A request must place something.
    #[error("The request has no orders.")]
    NoOrders,
    /// A client order id (`cOID`) names one order of the account for good.
    #[error("Order couldn't be submitted: Local order ID={client_order_id} is already registered.")]
    ClientOrderIdUsed { client_order_id: String },
    /// A bracket's exit names its parent by client order id, earlier in the same request.
    #[error("The parent order {parent} must come before its child in the same request.")]
    ParentMissing { parent: String },
    /// A bracket's exits close what its parent opens, so they trade the same contract.
    #[error("A bracket's orders must be for the same contract.")]
    BracketContracts { parent: Conid, exit: Conid },
    /// A bracket's exits close what its parent opens, so they trade the other side.
    #[error("A bracket's exits must trade the other side of its parent.")]
    BracketSides,
    /// A bracket's exit closes at most what its parent opens.
    #[error("A bracket's exit cannot be larger than its parent.")]
    ExitLargerThanParent { exit: Decimal, parent: Decimal },
    /// A modification changes an order's terms, not what it trades.
    #[error("A modification keeps the order's contract and side.")]
    ModificationChangesContract,
    /// What has filled stays filled: a modification cannot take it back.
    #[error("The order size cannot go below the {filled} already filled.")]
    BelowFilled { quantity: Decimal, filled: Decimal },
    /// The account the risk check was asked about has no record.
    #[error("Unknown account.")]
    UnknownAccount { account: AccountId },
    /// A cash account sells only what it holds and has not promised to other sales.
    #[error(
        "Your account cannot sell short: the order sells {quantity} {symbol} but {available} are available to sell."
    )]
    CannotSellShort { quantity: Decimal, conid: Conid, symbol: String, available: Decimal },
    /// A cash account, and any account buying coins, pays from cash it has and has not
    /// promised to other purchases or withdrawals. `available` is never below zero.
    #[error(
        "Your account has insufficient funds: the order needs {needed:.2} {currency} and {available:.2} {currency} is available."
    )]
    InsufficientFunds { needed: Decimal, currency: Currency, available: Decimal },
    /// A margin account's equity must exceed the Reg T initial margin of everything it holds
    /// and works, the new order filled. In IBKR's words, without a closing period.
    #[error(
        "Your order is not accepted. In order to obtain the desired position your Equity with Loan Value [{equity:.2} USD] must exceed the Initial Margin [{initial:.2} USD]"
    )]
    InitialMargin { equity: Decimal, initial: Decimal },
}

/// What one size increment of an asset class is called.
fn unit_of(asset_class: AssetClass) -> &'static str {
    if asset_class == AssetClass::Stock { "share" } else { "unit" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{AAPL, d};

    /// The texts clients see, written out in full: a change to any of them is a change to
    /// what the trading API answers.
    #[test]
    fn rejections_say_what_ibkr_says() {
        let cases = [
            (
                OrderRejection::NonPositiveSize { quantity: d("-5") },
                "The order size must be positive, not -5.",
            ),
            (
                OrderRejection::OffIncrement {
                    quantity: d("1.5"),
                    increment: d("1"),
                    conid: AAPL,
                    symbol: "AAPL".into(),
                },
                "The order size 1.5 is not a multiple of the size increment 1 of AAPL.",
            ),
            (
                OrderRejection::SizeTooLarge { quantity: d("2000000000") },
                "The order size 2000000000 exceeds the largest size LocalBroker takes, 1000000000.",
            ),
            (
                OrderRejection::CashTooLarge { amount: d("2000000000.5") },
                "The cash quantity 2000000000.5 exceeds the largest LocalBroker takes, 1000000000.",
            ),
            (
                OrderRejection::OffTick {
                    price: d("187.123"),
                    tick: d("0.01"),
                    conid: AAPL,
                    symbol: "AAPL".into(),
                },
                "Invalid order price fields: 187.123 is not a positive multiple of the tick 0.01 of AAPL.",
            ),
            (OrderRejection::OutsideRegularHours, "invalid order attribute : Outside Regular Trading Hours"),
            (
                OrderRejection::CashBuysNothing {
                    amount: d("10"),
                    currency: Currency::USD,
                    asset_class: AssetClass::Stock,
                    price: d("187.25"),
                },
                "The cash quantity 10 USD buys less than one share at 187.25.",
            ),
            (
                OrderRejection::CashBuysNothing {
                    amount: d("1"),
                    currency: Currency::USD,
                    asset_class: AssetClass::Crypto,
                    price: d("65000"),
                },
                "The cash quantity 1 USD buys less than one unit at 65000.",
            ),
            (
                OrderRejection::ClientOrderIdUsed { client_order_id: "mine".into() },
                "Order couldn't be submitted: Local order ID=mine is already registered.",
            ),
            (
                OrderRejection::BelowFilled { quantity: d("3"), filled: d("4") },
                "The order size cannot go below the 4 already filled.",
            ),
            (
                OrderRejection::CannotSellShort {
                    quantity: d("10"),
                    conid: AAPL,
                    symbol: "AAPL".into(),
                    available: d("0"),
                },
                "Your account cannot sell short: the order sells 10 AAPL but 0 are available to sell.",
            ),
            (
                OrderRejection::InsufficientFunds {
                    needed: d("187251.5"),
                    currency: Currency::USD,
                    available: d("100000"),
                },
                "Your account has insufficient funds: the order needs 187251.50 USD and 100000.00 USD is available.",
            ),
            (
                OrderRejection::InitialMargin { equity: d("999990.1"), initial: d("1310000") },
                "Your order is not accepted. In order to obtain the desired position your Equity with Loan Value [999990.10 USD] must exceed the Initial Margin [1310000.00 USD]",
            ),
        ];
        for (rejection, text) in cases {
            assert_eq!(rejection.to_string(), text);
        }
    }
}
