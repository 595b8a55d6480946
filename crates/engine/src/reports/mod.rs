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
//!
//! [`State::activity`]: crate::state::State::activity

pub mod activity;
pub mod income;
pub mod mark_to_market;
pub mod nav;
pub mod splits;
