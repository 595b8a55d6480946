//! Orders end to end in the engine, on a manual clock: placement, fills against the book and
//! the path, triggers, brackets, expiry, and the ledger behind them.

mod brackets;
mod execution;
mod placement;
mod properties;
mod timing;
