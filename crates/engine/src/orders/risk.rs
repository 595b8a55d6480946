//! What an account can afford. A cash account may neither borrow nor sell what it does not
//! hold; a margin account must keep its equity above Reg T initial margin with every working
//! order filled; coins are paid in full in either.

use std::collections::BTreeMap;

use jiff::Timestamp;
use market::Catalogue;
use model::{AccountId, AssetClass, Conid, Currency, MarginKind, OrderId, Side};
use rust_decimal::Decimal;

use super::OrderRejection;
use super::book::Commitment;
use super::placement::Checked;
use crate::ledger::Book;
use crate::portfolio::{Rates, requirement};
use crate::{Engine, EngineError};

/// What the orders of one request ahead of the one being checked would spend and sell.
#[derive(Debug, Default)]
struct Ahead {
    spending: BTreeMap<Currency, Decimal>,
    selling: BTreeMap<Conid, Decimal>,
}

/// An account's equity and margin requirements, in US dollars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Margin {
    /// Cash and positions at the market: net liquidation value.
    pub equity: Decimal,
    /// What opening the positions required.
    pub initial: Decimal,
    /// What keeping them requires.
    pub maintenance: Decimal,
}

impl Engine {
    /// The account's equity, and the margin its positions would require with `extra` signed
    /// quantities added to them, at the market at `at`.
    pub(crate) fn margin(
        &self,
        account: &AccountId,
        extra: impl Iterator<Item = (Conid, Decimal)>,
        at: Timestamp,
    ) -> Margin {
        let kind = self.state.accounts.get(account).map_or(MarginKind::Margin, |a| a.margin);
        let mut exposure: BTreeMap<Conid, Decimal> = BTreeMap::new();
        for (conid, position) in self.state.positions(account) {
            *exposure.entry(conid).or_default() += position.quantity;
        }
        let rates = Rates::new(&self.state, Currency::USD, at);
        let cash: Decimal =
            self.state.ledger.cash(account).map(|(currency, amount)| rates.convert(currency, amount)).sum();
        let held: Decimal = exposure
            .iter()
            .filter_map(|(conid, quantity)| {
                let instrument = Catalogue::standard().get(*conid)?;
                Some(rates.convert(instrument.currency, *quantity * self.state.mark(*conid, at)))
            })
            .sum();
        for (conid, quantity) in extra {
            *exposure.entry(conid).or_default() += quantity;
        }
        let mut margin = Margin { equity: cash + held, ..Margin::default() };
        for (conid, quantity) in &exposure {
            let Some(instrument) = Catalogue::standard().get(*conid) else { continue };
            let share = requirement(kind, instrument.asset_class, quantity.is_sign_negative());
            let value = self.usd_value(instrument, quantity.abs(), self.state.mark(*conid, at), at);
            margin.initial += share.initial * value;
            margin.maintenance += share.maintenance * value;
        }
        margin
    }

    /// Refuses what the account cannot afford: a cash account may neither borrow nor sell what
    /// it does not hold; a margin account must keep its equity above Reg T initial margin
    /// with every working order filled. `replacing` is an order a modification replaces.
    /// Bracket exits close what their parent opens and add no exposure, so they are left out,
    /// unless `exits` asks for a working exit to be checked as the sale it is.
    pub(super) fn check_risk(
        &self,
        account_id: &AccountId,
        orders: &[Checked<'_>],
        replacing: Option<OrderId>,
        exits: bool,
        at: Timestamp,
    ) -> Result<(), EngineError> {
        let account = self
            .state
            .accounts
            .get(account_id)
            .ok_or_else(|| OrderRejection::UnknownAccount { account: account_id.clone() })?;
        let opening: Vec<&Checked<'_>> =
            orders.iter().filter(|order| exits || order.ticket.parent_client_order_id.is_none()).collect();
        let replaced = replacing.and_then(|id| self.book.commitment(id)).cloned();
        let cash_only = account.margin == MarginKind::Cash;
        // The request's own orders count against each other, in order.
        let mut ahead = Ahead::default();
        for order in
            opening.iter().filter(|order| cash_only || order.instrument.asset_class == AssetClass::Crypto)
        {
            self.check_paid_in_full(account_id, order, replaced.as_ref(), &mut ahead, at)?;
        }
        if cash_only {
            return Ok(());
        }
        self.check_margin(account_id, &opening, replaced.as_ref(), at)
    }

    /// A purchase must be paid from cash already held, and a sale of securities must not sell
    /// more than is held, counting the account's other working orders (not the one a
    /// modification `replaced`) and the request's orders `ahead` of this one.
    fn check_paid_in_full(
        &self,
        account: &AccountId,
        order: &Checked<'_>,
        replaced: Option<&Commitment>,
        ahead: &mut Ahead,
        at: Timestamp,
    ) -> Result<(), EngineError> {
        let ticket = order.ticket;
        let instrument = order.instrument;
        let (spend_currency, spend, sell_held) = match (instrument.asset_class, ticket.side) {
            (AssetClass::Forex, Side::Buy) => (instrument.currency, order.quantity * order.reference, None),
            (AssetClass::Forex, Side::Sell) => {
                (instrument.symbol.parse().unwrap_or(instrument.currency), order.quantity, None)
            }
            (_, Side::Buy) => (instrument.currency, order.quantity * order.reference, None),
            (_, Side::Sell) => (instrument.currency, Decimal::ZERO, Some(ticket.conid)),
        };
        if let Some(conid) = sell_held {
            let held =
                self.state.positions.get(account).and_then(|held| held.get(&conid)).map(|p| p.quantity);
            let replaced_selling =
                replaced.filter(|c| c.conid() == conid).map_or(Decimal::ZERO, |c| c.selling);
            let selling = self.book.selling(account, conid) - replaced_selling
                + self.state.banking.delivering(account, conid)
                + ahead.selling.get(&conid).copied().unwrap_or_default();
            let available = held.unwrap_or_default() - selling;
            if order.quantity > available {
                return Err(OrderRejection::CannotSellShort {
                    quantity: order.quantity,
                    conid,
                    symbol: instrument.local_symbol(),
                    available,
                }
                .into());
            }
            *ahead.selling.entry(conid).or_default() += order.quantity;
            return Ok(());
        }
        let (schedule, value) = self.charging(account, instrument, order.quantity, order.reference, at);
        let commission = schedule.order_total(order.quantity, value);
        let replaced_reserve = replaced
            .and_then(|c| c.reserved)
            .filter(|(currency, _)| *currency == spend_currency)
            .map_or(Decimal::ZERO, |(_, amount)| amount);
        let reserved = self.book.reserved(account, spend_currency) - replaced_reserve
            + self.state.banking.held(account, spend_currency)
            + ahead.spending.get(&spend_currency).copied().unwrap_or_default();
        let cash = self.state.ledger.balance(account, Book::Cash, spend_currency);
        let needed = spend + if spend_currency == schedule.currency { commission } else { Decimal::ZERO };
        if needed > cash - reserved {
            return Err(OrderRejection::InsufficientFunds {
                needed,
                currency: spend_currency,
                available: (cash - reserved).max(Decimal::ZERO),
            }
            .into());
        }
        *ahead.spending.entry(spend_currency).or_default() += needed;
        Ok(())
    }

    /// The account's commission plan.
    pub(super) fn plan_of(&self, account: &AccountId) -> crate::commissions::CommissionPlan {
        self.state.accounts.get(account).map(|a| a.commission_plan).unwrap_or_default()
    }

    /// Equity must exceed the initial margin of every position and working order, the new
    /// ones filled (and the one a modification `replaced` left out).
    fn check_margin(
        &self,
        account: &AccountId,
        opening: &[&Checked<'_>],
        replaced: Option<&Commitment>,
        at: Timestamp,
    ) -> Result<(), EngineError> {
        let working = self.book.exposure(account);
        let unworking = replaced.map(|c| (c.conid(), -c.signed));
        let opening =
            opening.iter().map(|order| (order.ticket.conid, order.ticket.side.sign() * order.quantity));
        let Margin { equity, initial, .. } =
            self.margin(account, working.chain(unworking).chain(opening), at);
        if initial > equity {
            return Err(OrderRejection::InitialMargin { equity, initial }.into());
        }
        Ok(())
    }
}
