//! Reports: the figures of the broker's statements and analyses, read from the ledger, the
//! executions and the simulated market, so that the rules of accounting live here and a
//! surface only writes the figures out.
//!
//! Figures are exact `Decimal`s in the currency each names; a surface rounds them to the
//! precision it shows.
//!
//! # Layout
//! - [`activity`]: an activity statement over New York days ([`State::activity`]), and the
//!   sections that value holdings: equity summary, currency positions, conversion rates.
//! - [`mark_to_market`]: what each instrument gained or lost at the market, over the period
//!   and over each day.
//! - [`income`]: dividends paid, interest accrued and paid.
//! - [`nav`]: the change in net asset value and the flows that explain it.
//! - [`splits`]: splits as corporate actions, with their cash in lieu.
//! - [`performance`]: Portfolio Analyst's daily values and time-weighted returns, consolidated
//!   across accounts and currencies ([`State::performance`]).
//! - [`transactions`]: Portfolio Analyst's trades and the gains and losses they realized
//!   ([`State::transactions`]).
//!
//! [`State::activity`]: crate::state::State::activity
//! [`State::performance`]: crate::state::State::performance
//! [`State::transactions`]: crate::state::State::transactions

pub mod activity;
pub mod income;
pub mod mark_to_market;
pub mod nav;
pub mod performance;
pub mod splits;
pub mod transactions;

#[cfg(test)]
mod tests;
