//! LocalBroker's simulated market.
//!
//! # Layout
//! - [`catalogue`]: every instrument the market lists, with IBKR's real conids, names,
//!   exchanges and tick sizes.
//! - [`calendar`]: when each market trades: sessions, holidays and early closes.
//! - [`timeline`]: the minutes in which a market trades, numbered, which prices move along.
//! - [`path`]: the price path, a pure function of the seed, the instrument and the time, with
//!   the control plane's overrides.
//! - [`quote`]: what the market shows at an instant: bid, ask, sizes, last, the day's range.
//! - [`bars`]: bars of any size, aggregated from minute bars so every size agrees.

pub mod bars;
pub mod calendar;
pub mod catalogue;
mod noise;
pub mod path;
pub mod quote;
pub mod timeline;

pub use catalogue::Catalogue;
