//! Corporate actions: cash dividends and stock splits, announced through the control plane or
//! listed in the world file (announced when the world is created), journaled like every command.
//!
//! A dividend entitles whoever holds the shares when its ex-date begins (midnight, New York:
//! holders at the previous close) to its amount per share, accrued as a receivable then and
//! paid into cash when its pay date begins; a short position owes it. A split changes every
//! holding and the price at once: quantities by `to/from`, prices by `from/to`, the cost of
//! each holding unchanged; a fraction of a share left by a reverse split is paid out as cash
//! in lieu at the new price. Working orders on the shares are cancelled, as a split changes
//! what their sizes and prices mean.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use market::Catalogue;
use market::calendar::new_york_midnight;
use model::{AccountId, AssetClass, Conid, Currency, Decimal};
use serde::{Deserialize, Serialize};

use crate::clock::within_market;
use crate::ledger::{Book, Cause, Entry, Posting};
use crate::market::MarketChange;
use crate::positions::COST_DECIMALS;
use crate::{Engine, EngineError, Event};

/// The most a dividend may pay per share.
const MAX_DIVIDEND: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// The largest number of shares on either side of a split ratio.
const MAX_RATIO_TERM: u32 = 1_000;

/// A corporate action the market cannot take: refused when it is announced, so that what is
/// accepted can always be carried out when its day comes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorporateActionRefusal {
    /// Dividends and splits are for shares only.
    #[error("{symbol} is not a share")]
    NotAShare { conid: Conid, symbol: String },
    /// Corporate actions happen when a New York day begins, and this date has no such instant.
    #[error("{date} is not a day of the simulated market")]
    NotADay { date: Date },
    /// The simulated market has no prices on that day, so nothing could happen on it.
    #[error("{date} is outside the simulated market")]
    OutsideMarket { date: Date },
    /// A split's terms are whole numbers of shares, within reason, and change something.
    #[error("a split turns 1 to {MAX_RATIO_TERM} shares into another number of them")]
    SplitRatio { to: u32, from: u32 },
    /// A split announced for a day takes effect when the day begins, which must be later.
    #[error("the split's day {on} has begun already")]
    SplitDayBegun { on: Date },
    /// The new price must stay above zero at the market's precision.
    #[error("the split would leave the shares without a price")]
    SplitLeavesNoPrice { conid: Conid, to: u32, from: u32 },
    /// A dividend pays something, and no more than any real dividend.
    #[error("a dividend must be above 0 and at most {MAX_DIVIDEND} a share")]
    DividendAmount { amount: Decimal },
    /// What is paid is owed from the ex-date on, so it cannot be paid before.
    #[error("the pay date comes before the ex-date")]
    PayBeforeEx { ex_date: Date, pay_date: Date },
    /// The holders of a dividend are fixed when its ex-date begins, which must be later.
    #[error("the ex-date {ex_date} has begun already")]
    ExDateBegun { ex_date: Date },
}

/// A corporate action as it is announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CorporateAction {
    /// A cash dividend of `amount` per share, in the shares' currency.
    Dividend { conid: Conid, amount: Decimal, ex_date: Date, pay_date: Date },
    /// `from` old shares become `to` new ones: 2 for 1 is `to` 2, `from` 1; a 1-for-10 reverse
    /// split is `to` 1, `from` 10. At once, or when the New York day `on` begins.
    Split {
        conid: Conid,
        to: u32,
        from: u32,
        #[serde(default)]
        on: Option<Date>,
    },
}

/// A split announced for a later day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledSplit {
    /// When: the start of its day.
    pub at: Timestamp,
    /// The shares.
    pub conid: Conid,
    /// New shares per `from` old ones.
    pub to: u32,
    /// Old shares per `to` new ones.
    pub from: u32,
}

/// A dividend announced and not yet past its ex-date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declared {
    /// The shares.
    pub conid: Conid,
    /// Per share, in the shares' currency.
    pub amount: Decimal,
    /// When holders are fixed: the start of the ex-date.
    pub ex_at: Timestamp,
    /// When it is paid: the start of the pay date.
    pub pay_at: Timestamp,
}

/// A dividend an account is owed (or owes, when short), not yet paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receivable {
    /// Whose.
    pub account: AccountId,
    /// On which shares.
    pub conid: Conid,
    /// How much, in `currency`; negative when owed by a short.
    pub amount: Decimal,
    /// The shares' currency.
    pub currency: Currency,
    /// When it is paid.
    pub pay_at: Timestamp,
}

/// A split that happened: when, and what each account held just before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitRecord {
    /// When.
    pub at: Timestamp,
    /// The shares.
    pub conid: Conid,
    /// New shares per `from` old ones.
    pub to: u32,
    /// Old shares per `to` new ones.
    pub from: u32,
    /// Each holder's quantity just before.
    pub held_before: BTreeMap<AccountId, Decimal>,
    /// How many executions there were before it.
    #[serde(default)]
    pub executions_before: usize,
}

/// What a split of `to` for `from` makes of a holding: the shares it scales to, of which the
/// whole ones are kept and the fraction is paid out as cash in lieu. Statements report a split
/// by this rule, so it lives here once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SplitShares {
    /// The holding times `to` over `from`.
    pub(crate) scaled: Decimal,
    /// The whole shares kept (rounded toward zero, for a short).
    pub(crate) whole: Decimal,
    /// What is left of a share.
    pub(crate) fraction: Decimal,
}

impl SplitShares {
    /// What a split of `to` for `from` makes of `quantity` shares.
    pub(crate) fn of(quantity: Decimal, to: u32, from: u32) -> Self {
        let scaled = quantity * Decimal::from(to) / Decimal::from(from);
        let whole = scaled.trunc();
        Self { scaled, whole, fraction: scaled - whole }
    }
}

/// The corporate actions announced, accrued and done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorporateActions {
    /// Dividends before their ex-date, by ex-date.
    pub declared: Vec<Declared>,
    /// Dividends accrued and not yet paid, by pay date.
    pub receivables: Vec<Receivable>,
    /// Splits done, oldest first.
    pub splits: Vec<SplitRecord>,
    /// Splits announced for a later day, soonest first.
    #[serde(default)]
    pub scheduled_splits: Vec<ScheduledSplit>,
}

impl CorporateActions {
    /// The next instant at which a dividend goes ex or is paid.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        let ex = self.declared.iter().map(|d| d.ex_at);
        let pay = self.receivables.iter().map(|r| r.pay_at);
        let splits = self.scheduled_splits.iter().map(|s| s.at);
        ex.chain(pay).chain(splits).min()
    }
}

/// The instant the New York day `date` begins, if the simulated market reaches it.
fn start_of(date: Date) -> Result<Timestamp, CorporateActionRefusal> {
    let start = new_york_midnight(date).ok_or(CorporateActionRefusal::NotADay { date })?;
    within_market(start).map_err(|_| CorporateActionRefusal::OutsideMarket { date })
}

/// Refuses a ratio outside 1 to 1,000 on either side, or one that changes nothing.
fn check_ratio(to: u32, from: u32) -> Result<(), CorporateActionRefusal> {
    let valid = |term: u32| (1..=MAX_RATIO_TERM).contains(&term);
    if !valid(to) || !valid(from) || to == from {
        return Err(CorporateActionRefusal::SplitRatio { to, from });
    }
    Ok(())
}

impl Engine {
    /// Announces `action` at market instant `now`.
    pub(crate) fn announce(
        &mut self,
        now: Timestamp,
        action: &CorporateAction,
    ) -> Result<Vec<Event>, EngineError> {
        let conid = match action {
            CorporateAction::Dividend { conid, .. } | CorporateAction::Split { conid, .. } => *conid,
        };
        let instrument = Catalogue::standard().get(conid).ok_or(EngineError::UnknownInstrument(conid))?;
        if instrument.asset_class != AssetClass::Stock {
            return Err(CorporateActionRefusal::NotAShare { conid, symbol: instrument.local_symbol() }.into());
        }
        match *action {
            CorporateAction::Dividend { conid, amount, ex_date, pay_date } => {
                self.declare_dividend(now, conid, amount, ex_date, pay_date)
            }
            CorporateAction::Split { conid, to, from, on: None } => self.split(now, conid, to, from),
            CorporateAction::Split { conid, to, from, on: Some(on) } => {
                self.schedule_split(now, conid, to, from, on)
            }
        }
    }

    fn schedule_split(
        &mut self,
        now: Timestamp,
        conid: Conid,
        to: u32,
        from: u32,
        on: Date,
    ) -> Result<Vec<Event>, EngineError> {
        check_ratio(to, from)?;
        let at = start_of(on)?;
        if at <= now {
            return Err(CorporateActionRefusal::SplitDayBegun { on }.into());
        }
        let scheduled = &mut self.state.corporate_actions.scheduled_splits;
        let index = scheduled.partition_point(|s| s.at <= at);
        scheduled.insert(index, ScheduledSplit { at, conid, to, from });
        Ok(vec![Event::SplitScheduled { conid, to, from, on }])
    }

    fn declare_dividend(
        &mut self,
        now: Timestamp,
        conid: Conid,
        amount: Decimal,
        ex_date: Date,
        pay_date: Date,
    ) -> Result<Vec<Event>, EngineError> {
        if amount <= Decimal::ZERO || amount > MAX_DIVIDEND {
            return Err(CorporateActionRefusal::DividendAmount { amount }.into());
        }
        if pay_date < ex_date {
            return Err(CorporateActionRefusal::PayBeforeEx { ex_date, pay_date }.into());
        }
        let ex_at = start_of(ex_date)?;
        let pay_at = start_of(pay_date)?;
        if ex_at <= now {
            return Err(CorporateActionRefusal::ExDateBegun { ex_date }.into());
        }
        let declared = &mut self.state.corporate_actions.declared;
        let index = declared.partition_point(|d| d.ex_at <= ex_at);
        declared.insert(index, Declared { conid, amount, ex_at, pay_at });
        Ok(vec![Event::DividendDeclared { conid, amount, ex_date, pay_date }])
    }

    /// Accrues the dividends going ex, pays those falling due and splits the shares scheduled
    /// for `at`, exactly.
    pub(crate) fn run_corporate_actions(
        &mut self,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let actions = &mut self.state.corporate_actions;
        let splitting = actions.scheduled_splits.iter().take_while(|s| s.at <= at).count();
        let splits: Vec<ScheduledSplit> = actions.scheduled_splits.drain(..splitting).collect();
        for split in splits {
            // Its ratio was checked when it was announced; a price too small to divide is the
            // only refusal left, and then the shares stay as they are.
            if let Ok(done) = self.split(split.at, split.conid, split.to, split.from) {
                events.extend(done);
            }
        }
        let actions = &mut self.state.corporate_actions;
        let going_ex: Vec<Declared> =
            actions.declared.iter().take_while(|d| d.ex_at <= at).cloned().collect();
        actions.declared.drain(..going_ex.len());
        for dividend in going_ex {
            self.accrue(&dividend, events)?;
        }
        let (due, kept): (Vec<Receivable>, Vec<Receivable>) =
            std::mem::take(&mut self.state.corporate_actions.receivables)
                .into_iter()
                .partition(|r| r.pay_at <= at);
        self.state.corporate_actions.receivables = kept;
        for receivable in due {
            let postings = vec![
                Posting::new(Book::Cash, receivable.currency, receivable.amount),
                Posting::new(Book::DividendsReceivable, receivable.currency, -receivable.amount),
            ];
            let cause = Cause::DividendPayment { conid: receivable.conid };
            let entry = Entry { account: receivable.account.clone(), at: receivable.pay_at, cause, postings };
            self.state.ledger.post(entry)?;
            events.push(Event::DividendPaid {
                account: receivable.account,
                conid: receivable.conid,
                amount: receivable.amount,
            });
        }
        Ok(())
    }

    /// Fixes the holders of `dividend` at its ex instant and books what each is owed.
    fn accrue(&mut self, dividend: &Declared, events: &mut Vec<Event>) -> Result<(), EngineError> {
        let currency = Catalogue::standard().get(dividend.conid).map_or(Currency::USD, |i| i.currency);
        let accounts: Vec<AccountId> = self.state.accounts.keys().cloned().collect();
        for account in accounts {
            let held = self.state.quantities_at(&account, dividend.ex_at).get(&dividend.conid).copied();
            let Some(held) = held.filter(|held| !held.is_zero()) else { continue };
            let amount = held * dividend.amount;
            let postings = vec![
                Posting::new(Book::DividendsReceivable, currency, amount),
                Posting::new(Book::Dividends, currency, -amount),
            ];
            let cause = Cause::DividendAccrual { conid: dividend.conid };
            self.state.ledger.post(Entry {
                account: account.clone(),
                at: dividend.ex_at,
                cause,
                postings,
            })?;
            let receivable = Receivable {
                account: account.clone(),
                conid: dividend.conid,
                amount,
                currency,
                pay_at: dividend.pay_at,
            };
            let receivables = &mut self.state.corporate_actions.receivables;
            let index = receivables.partition_point(|r| r.pay_at <= receivable.pay_at);
            receivables.insert(index, receivable);
            events.push(Event::DividendAccrued { account, conid: dividend.conid, amount });
        }
        Ok(())
    }

    fn split(&mut self, now: Timestamp, conid: Conid, to: u32, from: u32) -> Result<Vec<Event>, EngineError> {
        check_ratio(to, from)?;
        let ratio = Decimal::from(to) / Decimal::from(from);
        let price = self.state.venue(conid).map(|venue| venue.path.price(now)).unwrap_or_default();
        let new_price = (Decimal::try_from(price).unwrap_or_default() / ratio).round_dp(4);
        if new_price <= Decimal::ZERO {
            return Err(CorporateActionRefusal::SplitLeavesNoPrice { conid, to, from }.into());
        }
        let mut events = Vec::new();
        let working: Vec<model::OrderId> = self
            .state
            .orders
            .values()
            .filter(|order| order.ticket.conid == conid && order.is_live())
            .map(|order| order.id)
            .collect();
        for id in working {
            self.cancel(id, crate::orders::lifecycle::Cancellation::StockSplit, now, &mut events)?;
        }
        let mut held_before = BTreeMap::new();
        let accounts: Vec<AccountId> = self.state.positions.keys().cloned().collect();
        for account in accounts {
            let Some(position) = self.state.positions.get_mut(&account).and_then(|held| held.get_mut(&conid))
            else {
                continue;
            };
            if position.quantity.is_zero() {
                continue;
            }
            held_before.insert(account.clone(), position.quantity);
            let SplitShares { scaled, whole, fraction } = SplitShares::of(position.quantity, to, from);
            position.quantity = whole;
            if fraction.is_zero() {
                continue;
            }
            // The fraction is sold at the new price: cash in lieu.
            let cost_removed = (position.cost * fraction / scaled).round_dp(COST_DECIMALS);
            let proceeds = (fraction * new_price).round_dp(2);
            let gain = proceeds - cost_removed;
            position.cost -= cost_removed;
            position.realized += gain;
            let currency = Catalogue::standard().get(conid).map_or(Currency::USD, |i| i.currency);
            let postings = vec![
                Posting::new(Book::Cash, currency, proceeds),
                Posting::new(Book::Securities(conid), currency, -cost_removed),
                Posting::new(Book::RealizedPnl, currency, -gain),
            ];
            let entry =
                Entry { account: account.clone(), at: now, cause: Cause::CashInLieu { conid }, postings };
            self.state.ledger.post(entry)?;
        }
        let change = MarketChange::Price(new_price);
        self.state.overrides.entry(conid).or_default().push((now, change));
        events.push(Event::MarketChanged { conid, change, at: now });
        let executions_before = self.state.executions.len();
        let record = SplitRecord { at: now, conid, to, from, held_before, executions_before };
        self.state.corporate_actions.splits.push(record);
        events.push(Event::SharesSplit { conid, to, from });
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{AAPL, d};

    /// The texts a refused announcement answers with, written out in full.
    #[test]
    fn refusals_keep_their_words() {
        let date = |text: &str| text.parse::<Date>().unwrap();
        let cases = [
            (
                CorporateActionRefusal::NotAShare { conid: Conid::new(12_087_792), symbol: "EUR.USD".into() },
                "EUR.USD is not a share",
            ),
            (
                CorporateActionRefusal::NotADay { date: date("2026-03-08") },
                "2026-03-08 is not a day of the simulated market",
            ),
            (
                CorporateActionRefusal::OutsideMarket { date: date("2031-01-02") },
                "2031-01-02 is outside the simulated market",
            ),
            (
                CorporateActionRefusal::SplitRatio { to: 1, from: 1 },
                "a split turns 1 to 1000 shares into another number of them",
            ),
            (
                CorporateActionRefusal::SplitDayBegun { on: date("2026-03-05") },
                "the split's day 2026-03-05 has begun already",
            ),
            (
                CorporateActionRefusal::SplitLeavesNoPrice { conid: AAPL, to: 1000, from: 1 },
                "the split would leave the shares without a price",
            ),
            (
                CorporateActionRefusal::DividendAmount { amount: d("0") },
                "a dividend must be above 0 and at most 10000 a share",
            ),
            (
                CorporateActionRefusal::PayBeforeEx {
                    ex_date: date("2026-03-06"),
                    pay_date: date("2026-03-05"),
                },
                "the pay date comes before the ex-date",
            ),
            (
                CorporateActionRefusal::ExDateBegun { ex_date: date("2026-03-03") },
                "the ex-date 2026-03-03 has begun already",
            ),
        ];
        for (refusal, text) in cases {
            assert_eq!(refusal.to_string(), text);
        }
    }
}
