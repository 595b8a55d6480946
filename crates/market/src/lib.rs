//! LocalBroker's simulated market.
//!
//! # Layout
//! - [`catalogue`]: every instrument the market lists, with IBKR's real conids, names,
//!   exchanges and tick sizes.
//! - [`calendar`]: when each market trades: sessions, holidays and early closes.

pub mod bars;
pub mod calendar;
pub mod catalogue;
mod noise;
pub mod path;
pub mod quote;
pub mod timeline;

pub use catalogue::Catalogue;
