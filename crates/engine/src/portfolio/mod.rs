//! The portfolio: an account's cash and holdings valued at the simulated market, at one market
//! instant, in each currency and in the account's base currency.
//!
//! Every portfolio endpoint reads one [`Portfolio`], built in one engine query, so figures that
//! different endpoints report (net liquidation, cash, market value, P&L) agree at that instant.
//! A holding is marked at the last trade of its market; amounts in other currencies convert to
//! the base currency at the mid of the pair that joins them ([`Rates`]). The surfaces read
//! figures already converted: a holding's in the base currency and the money per currency with
//! its total ([`balances`]), and what one or several accounts are made of ([`allocation`]).

pub mod allocation;
pub mod balances;
mod day_trades;
pub mod history;
pub mod margin;
pub mod rates;
pub mod settlement;

use std::collections::BTreeMap;

use jiff::Timestamp;
use market::Catalogue;
use model::{AccountId, AssetClass, Conid, Currency, Decimal, Instrument, MarginKind};

pub(crate) use self::margin::{Requirement, requirement};
pub(crate) use self::rates::Rates;
use crate::ledger::Book;
use crate::state::State;

/// A holding valued at the market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The instrument.
    pub instrument: &'static Instrument,
    /// Shares or coins held; negative when short.
    pub quantity: Decimal,
    /// What the holding cost, commissions included, signed like the quantity, in the
    /// instrument's currency.
    pub cost: Decimal,
    /// Gains less losses realized while it was held, net of commissions.
    pub realized: Decimal,
    /// The price it is marked at: the market's last trade.
    pub mark: Decimal,
}

impl Holding {
    /// The instrument's conid.
    pub fn conid(&self) -> Conid {
        self.instrument.conid
    }

    /// Quantity times mark, in the instrument's currency; negative for a short.
    pub fn market_value(&self) -> Decimal {
        self.quantity * self.mark
    }

    /// What the holding gained since it was bought (or lost since it was sold short).
    pub fn unrealized(&self) -> Decimal {
        self.market_value() - self.cost
    }

    /// The average price paid per share or coin, commissions included.
    pub fn average_cost(&self) -> Decimal {
        if self.quantity.is_zero() { Decimal::ZERO } else { self.cost / self.quantity }
    }
}

/// An account's money and holdings in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyBalance {
    /// The currency.
    pub currency: Currency,
    /// Units of the base currency per unit of this one.
    pub rate: Decimal,
    /// Cash held; negative when borrowed.
    pub cash: Decimal,
    /// The part of `cash` whose trades have settled.
    pub settled_cash: Decimal,
    /// The holdings denominated in this currency, at the market.
    pub market_value: Decimal,
    /// Their unrealized gains.
    pub unrealized: Decimal,
    /// Gains realized in this currency since the account opened, net of commissions.
    pub realized: Decimal,
    /// Dividends accrued and not yet paid (negative when owed on a short).
    pub dividends: Decimal,
    /// Interest accrued and not yet paid (negative when owed).
    pub interest: Decimal,
}

impl CurrencyBalance {
    fn new(currency: Currency, rate: Decimal) -> Self {
        let zero = Decimal::ZERO;
        Self {
            currency,
            rate,
            cash: zero,
            settled_cash: zero,
            market_value: zero,
            unrealized: zero,
            realized: zero,
            dividends: zero,
            interest: zero,
        }
    }

    /// Cash, holdings, and the dividends and interest accrued, in this currency.
    pub fn net_liquidation(&self) -> Decimal {
        self.cash + self.market_value + self.dividends + self.interest
    }
}

/// An account's cash and holdings, valued at one market instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portfolio {
    /// The account.
    pub account: AccountId,
    /// Cash or margin.
    pub margin: MarginKind,
    /// The currency totals are reported in.
    pub base: Currency,
    /// The market instant.
    pub at: Timestamp,
    /// Holdings, by conid.
    pub holdings: Vec<Holding>,
    /// Balances per currency, the base currency always among them.
    pub currencies: BTreeMap<Currency, CurrencyBalance>,
    /// Net liquidation value when the day began (midnight, New York), in the base currency.
    pub day_start: Decimal,
    /// Money paid in (less money taken out) since the day began, in the base currency.
    pub paid_in_today: Decimal,
}

/// A part of an account that IBKR reports on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// US securities: shares, and all of the account's cash.
    Securities,
    /// Coins held at PAXOS.
    Crypto,
}

impl State {
    /// The account's portfolio at market instant `at`, if the account exists.
    pub fn portfolio(&self, account: &AccountId, at: Timestamp) -> Option<Portfolio> {
        let spec = self.accounts.get(account)?;
        let rates = Rates::new(self, spec.base_currency, at);
        let mut currencies = BTreeMap::new();
        let line = |currencies: &mut BTreeMap<Currency, CurrencyBalance>, currency: Currency| {
            currencies
                .entry(currency)
                .or_insert_with(|| CurrencyBalance::new(currency, rates.rate(currency)));
        };
        line(&mut currencies, spec.base_currency);
        let unsettled = self.unsettled_cash(account, at);
        for (currency, cash) in self.ledger.cash(account) {
            line(&mut currencies, currency);
            if let Some(balance) = currencies.get_mut(&currency) {
                balance.cash = cash;
                balance.settled_cash = cash - unsettled.get(&currency).copied().unwrap_or_default();
            }
        }
        for (currency, owed) in self.ledger.balances(account, Book::DividendsReceivable) {
            line(&mut currencies, currency);
            if let Some(balance) = currencies.get_mut(&currency) {
                balance.dividends = owed;
            }
        }
        for (currency, accrued) in self.ledger.balances(account, Book::InterestAccrued) {
            line(&mut currencies, currency);
            if let Some(balance) = currencies.get_mut(&currency) {
                balance.interest = accrued;
            }
        }
        for (currency, realized) in self.ledger.balances(account, Book::RealizedPnl) {
            line(&mut currencies, currency);
            if let Some(balance) = currencies.get_mut(&currency) {
                balance.realized = -realized;
            }
        }
        let holdings: Vec<Holding> = self
            .positions(account)
            .filter_map(|(conid, position)| {
                Some(Holding {
                    instrument: Catalogue::standard().get(conid)?,
                    quantity: position.quantity,
                    cost: position.cost,
                    realized: position.realized,
                    mark: self.mark(conid, at),
                })
            })
            .collect();
        for holding in &holdings {
            line(&mut currencies, holding.instrument.currency);
            if let Some(balance) = currencies.get_mut(&holding.instrument.currency) {
                balance.market_value += holding.market_value();
                balance.unrealized += holding.unrealized();
            }
        }
        let (day_start, paid_in_today) = self.day_start_value(account, spec.base_currency, at);
        Some(Portfolio {
            account: account.clone(),
            margin: spec.margin,
            base: spec.base_currency,
            at,
            holdings,
            currencies,
            day_start,
            paid_in_today,
        })
    }

    /// The price an instrument is marked at: its market's last trade at `at`.
    pub fn mark(&self, conid: Conid, at: Timestamp) -> Decimal {
        self.venue(conid).map(|venue| venue.activity.touch(&venue.path, at).last).unwrap_or_default()
    }

    /// The account's net liquidation value at the start of `at`'s New York day, and what was
    /// paid in (less taken out) since, in `base`.
    fn day_start_value(&self, account: &AccountId, base: Currency, at: Timestamp) -> (Decimal, Decimal) {
        let new_york = market::calendar::new_york();
        let start = at.to_zoned_datetime(new_york).start_of_day().map_or(at, |day| day.timestamp());
        let mut paid_in: BTreeMap<Currency, Decimal> = BTreeMap::new();
        // What was paid in at the very start belongs to the start's value.
        for entry in self.ledger.entries_since(account, start).filter(|entry| entry.at > start) {
            for posting in entry.postings.iter().filter(|posting| posting.book == Book::Capital) {
                *paid_in.entry(posting.currency).or_default() -= posting.amount;
            }
        }
        let now = Rates::new(self, base, at);
        let paid_in: Decimal = paid_in.iter().map(|(&currency, &amount)| now.convert(currency, amount)).sum();
        (self.net_liquidation_at(account, base, start), paid_in)
    }

    /// The account's net liquidation value at market instant `at` (in the past), in `base`:
    /// its money and holdings then, at that instant's prices and rates.
    pub(crate) fn net_liquidation_at(&self, account: &AccountId, base: Currency, at: Timestamp) -> Decimal {
        self.holdings_at(account, &[at])
            .pop()
            .map_or(Decimal::ZERO, |holdings| holdings.value(self, base, at))
    }

    /// The account's holdings at market instant `at`: today's, less every execution and
    /// transfer after it, with the splits after it undone.
    pub(crate) fn quantities_at(&self, account: &AccountId, at: Timestamp) -> BTreeMap<Conid, Decimal> {
        self.holdings_at(account, &[at]).pop().map(|holdings| holdings.quantities).unwrap_or_default()
    }
}

/// Whether `conid` is a currency pair, whose trades move cash and leave no holding.
fn is_currency_pair(conid: Conid) -> bool {
    Catalogue::standard().get(conid).is_some_and(|instrument| instrument.asset_class == AssetClass::Forex)
}

impl Portfolio {
    /// The sum over currencies of `figure`, in the base currency.
    fn in_base(&self, figure: impl Fn(&CurrencyBalance) -> Decimal) -> Decimal {
        self.currencies.values().map(|line| figure(line) * line.rate).sum()
    }

    /// Cash, holdings at the market, and the dividends and interest accrued, in the base
    /// currency.
    pub fn net_liquidation(&self) -> Decimal {
        self.in_base(CurrencyBalance::net_liquidation)
    }

    /// Cash in every currency, in the base currency.
    pub fn total_cash(&self) -> Decimal {
        self.in_base(|line| line.cash)
    }

    /// Settled cash in every currency, in the base currency.
    pub fn settled_cash(&self) -> Decimal {
        self.in_base(|line| line.settled_cash)
    }

    /// Holdings at the market, longs less shorts, in the base currency.
    pub fn market_value(&self) -> Decimal {
        self.in_base(|line| line.market_value)
    }

    /// Holdings at the market, longs plus shorts, in the base currency.
    pub fn gross_position_value(&self) -> Decimal {
        self.holdings.iter().map(|holding| holding.market_value().abs() * self.rate(holding)).sum()
    }

    /// Holdings of one asset class at the market, in the base currency.
    pub fn market_value_of(&self, asset_class: AssetClass) -> Decimal {
        self.holdings
            .iter()
            .filter(|holding| holding.instrument.asset_class == asset_class)
            .map(|holding| holding.market_value() * self.rate(holding))
            .sum()
    }

    /// Unrealized gains of every holding, in the base currency.
    pub fn unrealized(&self) -> Decimal {
        self.in_base(|line| line.unrealized)
    }

    /// Dividends accrued and not yet paid, in the base currency.
    pub fn dividends_receivable(&self) -> Decimal {
        self.in_base(|line| line.dividends)
    }

    /// Interest accrued and not yet paid, in the base currency.
    pub fn interest_accrued(&self) -> Decimal {
        self.in_base(|line| line.interest)
    }

    /// Gains realized since the account opened, in the base currency.
    pub fn realized(&self) -> Decimal {
        self.in_base(|line| line.realized)
    }

    /// The account's profit or loss since the day began, in the base currency: the change of
    /// its net liquidation value less the money paid in.
    pub fn daily_pnl(&self) -> Decimal {
        self.net_liquidation() - self.day_start - self.paid_in_today
    }

    /// The part of the portfolio in `segment`. Cash and realized gains belong to the
    /// securities segment; the day's start and payments stay the whole account's.
    pub fn segment(&self, segment: Segment) -> Portfolio {
        let crypto = segment == Segment::Crypto;
        let mut part = self.clone();
        part.holdings.retain(|holding| (holding.instrument.asset_class == AssetClass::Crypto) == crypto);
        for line in part.currencies.values_mut() {
            line.market_value = Decimal::ZERO;
            line.unrealized = Decimal::ZERO;
            if crypto {
                line.cash = Decimal::ZERO;
                line.settled_cash = Decimal::ZERO;
                line.realized = Decimal::ZERO;
                line.dividends = Decimal::ZERO;
                line.interest = Decimal::ZERO;
            }
        }
        for holding in &part.holdings {
            if let Some(line) = part.currencies.get_mut(&holding.instrument.currency) {
                line.market_value += holding.market_value();
                line.unrealized += holding.unrealized();
            }
        }
        part
    }

    /// What Reg T's initial requirement asks of the account's shares, whatever kind the account
    /// is: half their value.
    pub fn reg_t_margin(&self) -> Decimal {
        self.holdings
            .iter()
            .filter(|holding| holding.instrument.asset_class == AssetClass::Stock)
            .map(|holding| {
                requirement(MarginKind::Margin, AssetClass::Stock, false).initial
                    * holding.market_value().abs()
                    * self.rate(holding)
            })
            .sum()
    }

    /// Special memorandum account, simplified: equity beyond Reg T's initial requirement,
    /// never below zero. IBKR carries a high-water mark from day to day; LocalBroker does not.
    pub fn sma(&self) -> Decimal {
        (self.equity_with_loan() - self.reg_t_margin()).max(Decimal::ZERO)
    }

    /// Units of the base currency per unit of the holding's currency. The engine's own: the
    /// surfaces read figures already converted ([`Portfolio::holding_in_base`]).
    pub(crate) fn rate(&self, holding: &Holding) -> Decimal {
        self.currencies.get(&holding.instrument.currency).map_or(Decimal::ONE, |line| line.rate)
    }

    /// Equity with loan value: cash and holdings, without the accruals net liquidation counts
    /// (as IBKR's differ by the accrued interest).
    pub fn equity_with_loan(&self) -> Decimal {
        self.total_cash() + self.market_value()
    }

    fn requirement_total(&self, pick: impl Fn(Requirement) -> Decimal) -> Decimal {
        self.holdings
            .iter()
            .map(|holding| {
                let share = requirement(
                    self.margin,
                    holding.instrument.asset_class,
                    holding.quantity < Decimal::ZERO,
                );
                pick(share) * holding.market_value().abs() * self.rate(holding)
            })
            .sum()
    }

    /// The margin the holdings required when they were opened, at today's prices.
    pub fn initial_margin(&self) -> Decimal {
        self.requirement_total(|share| share.initial)
    }

    /// The margin the holdings require to be kept.
    pub fn maintenance_margin(&self) -> Decimal {
        self.requirement_total(|share| share.maintenance)
    }

    /// Equity beyond the initial margin: what new positions can be opened with.
    pub fn available_funds(&self) -> Decimal {
        self.equity_with_loan() - self.initial_margin()
    }

    /// Equity with loan beyond the maintenance margin, as IBKR computes it (recorded responses);
    /// below zero, positions are liquidated.
    pub fn excess_liquidity(&self) -> Decimal {
        self.equity_with_loan() - self.maintenance_margin()
    }

    /// What the account can buy: four times its available funds in a margin account (IBKR's
    /// intraday buying power), its available funds in a cash account; never below zero.
    pub fn buying_power(&self) -> Decimal {
        let funds = self.available_funds().max(Decimal::ZERO);
        match self.margin {
            MarginKind::Margin => funds * Decimal::from(4),
            MarginKind::Cash => funds,
        }
    }

    /// Excess liquidity as a share of net liquidation: how far the account is from a margin
    /// call.
    pub fn cushion(&self) -> Decimal {
        let net = self.net_liquidation();
        if net.is_zero() { Decimal::ZERO } else { self.excess_liquidity() / net }
    }

    /// Gross position value over net liquidation.
    pub fn leverage(&self) -> Decimal {
        let net = self.net_liquidation();
        if net.is_zero() { Decimal::ZERO } else { self.gross_position_value() / net }
    }

    /// Whether equity has fallen below the maintenance margin.
    pub fn is_margin_deficient(&self) -> bool {
        self.excess_liquidity() < Decimal::ZERO
    }

    /// The holding of `conid`, if there is one.
    pub fn holding(&self, conid: Conid) -> Option<&Holding> {
        self.holdings.iter().find(|holding| holding.conid() == conid)
    }
}

#[cfg(test)]
mod tests;
