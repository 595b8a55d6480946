//! Looking before placing: the precautions IBKR asks a client to confirm, and what an order
//! would do to the account (IBKR's what-if). Neither changes anything.

use jiff::Timestamp;
use model::{AccountId, AssetClass, Conid, Currency, OrderType, SessionId, Side};
use rust_decimal::Decimal;

use super::risk::Margin;
use super::{Size, Ticket};
use crate::{Engine, EngineError};

/// A share order larger than this asks to be confirmed (IBKR's default size limit).
const SIZE_LIMIT: Decimal = Decimal::from_parts(500, 0, 0, false, 0);

/// An order worth more than this, in dollars, asks to be confirmed (IBKR's default value limit).
const VALUE_LIMIT: Decimal = Decimal::from_parts(100_000, 0, 0, false, 0);

/// A limit further than this percentage from the market asks to be confirmed.
const PRICE_PERCENT: Decimal = Decimal::from_parts(3, 0, 0, false, 0);

/// Something about an order its owner should confirm before it is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precaution {
    /// The limit is further than `percent`% from the market.
    PriceFarFromMarket { percent: Decimal },
    /// More shares than the size limit.
    SizeLimit { limit: Decimal },
    /// Worth more than the value limit.
    ValueLimit { value: Decimal, limit: Decimal },
    /// A stop already reached: the order will trigger and fill at once.
    TriggersNow,
    /// A market order trades at any price.
    MarketOrder,
    /// A stop order, and its risks.
    StopOrder,
    /// A size given as an amount of money.
    CashQuantity,
}

/// What an order would do to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The instrument.
    pub conid: Conid,
    /// Its quantity.
    pub quantity: Decimal,
    /// What it would trade for, in `currency`.
    pub value: Decimal,
    /// The instrument's currency.
    pub currency: Currency,
    /// Its commission, in `commission_currency`.
    pub commission: Decimal,
    /// The currency of its commission schedule.
    pub commission_currency: model::Currency,
    /// The account's figures now.
    pub before: Margin,
    /// And with the order filled.
    pub after: Margin,
    /// The position now.
    pub position: Decimal,
    /// The position after.
    pub position_after: Decimal,
}

impl Engine {
    /// The precautions each of `tickets` calls for at `wall`, in the order IBKR asks them.
    pub fn precautions(&self, wall: Timestamp, tickets: &[Ticket]) -> Vec<Vec<Precaution>> {
        let at = self.state.market_time(wall);
        tickets.iter().map(|ticket| self.precautions_of(ticket, at)).collect()
    }

    fn precautions_of(&self, ticket: &Ticket, at: Timestamp) -> Vec<Precaution> {
        let Ok(checked) = self.check(ticket, at) else {
            return Vec::new();
        };
        let last = self.state.mark(ticket.conid, at);
        let mut found = Vec::new();
        if let Some(limit) = ticket.order_type.limit().filter(|_| !last.is_zero())
            && (limit - last).abs() * Decimal::ONE_HUNDRED > PRICE_PERCENT * last
        {
            found.push(Precaution::PriceFarFromMarket { percent: PRICE_PERCENT });
        }
        if checked.instrument.asset_class == AssetClass::Stock && checked.quantity > SIZE_LIMIT {
            found.push(Precaution::SizeLimit { limit: SIZE_LIMIT });
        }
        let value = self.usd_value(checked.instrument, checked.quantity, checked.reference, at);
        if value > VALUE_LIMIT {
            found.push(Precaution::ValueLimit { value, limit: VALUE_LIMIT });
        }
        let stop = match ticket.order_type {
            OrderType::Stop { stop } | OrderType::StopLimit { stop, .. } => Some(stop),
            _ => None,
        };
        if stop.is_some_and(|stop| match ticket.side {
            Side::Buy => last >= stop,
            Side::Sell => last <= stop,
        }) {
            found.push(Precaution::TriggersNow);
        }
        if ticket.order_type == OrderType::Market {
            found.push(Precaution::MarketOrder);
        }
        if ticket.order_type.is_stop() {
            found.push(Precaution::StopOrder);
        }
        if matches!(ticket.size, Size::Cash(_)) {
            found.push(Precaution::CashQuantity);
        }
        found
    }

    /// What `ticket` would do to `account` at `wall`, checked as placing it would be.
    ///
    /// # Errors
    /// What placing it would answer: an unknown session, an account not entitled, or the
    /// order's rejection.
    pub fn preview(
        &self,
        wall: Timestamp,
        session: &SessionId,
        account: &AccountId,
        ticket: &Ticket,
    ) -> Result<Preview, EngineError> {
        let at = self.state.market_time(wall);
        self.trader(session, account)?;
        let checked = self.check(ticket, at)?;
        self.check_risk(account, std::slice::from_ref(&checked), None, false, at)?;
        let value = checked.quantity * checked.reference;
        let (schedule, base) =
            self.charging(account, checked.instrument, checked.quantity, checked.reference, at);
        let commission = schedule.order_total(checked.quantity, base);
        let signed = ticket.side.sign() * checked.quantity;
        let before = self.margin(account, std::iter::empty(), at);
        let mut after = self.margin(account, std::iter::once((ticket.conid, signed)), at);
        // The trade swaps cash for the position at its price rather than the mark, and pays.
        let mark = self.state.mark(ticket.conid, at);
        after.equity = before.equity
            - self.to_usd(schedule.currency, commission, at)
            - self.to_usd(checked.instrument.currency, signed * (checked.reference - mark), at);
        let position = self
            .state
            .positions(account)
            .find(|(conid, _)| *conid == ticket.conid)
            .map_or(Decimal::ZERO, |(_, held)| held.quantity);
        Ok(Preview {
            conid: ticket.conid,
            quantity: checked.quantity,
            value,
            currency: checked.instrument.currency,
            commission,
            commission_currency: schedule.currency,
            before,
            after,
            position,
            position_after: position + signed,
        })
    }

    /// Whether working orders or corporate actions have something due by `wall`: a realtime or
    /// accelerated clock then needs a tick to let it happen.
    pub fn is_due(&self, wall: Timestamp) -> bool {
        let now = self.state.market_time(wall);
        let orders_due =
            self.state.processed_until.is_some_and(|from| from < now && self.next_happening_in(from, now));
        let actions =
            self.state.corporate_actions.next_due().into_iter().chain(self.state.accrual.next_due());
        orders_due || actions.min().is_some_and(|due| due <= now) || self.liquidation_due(now)
    }
}
