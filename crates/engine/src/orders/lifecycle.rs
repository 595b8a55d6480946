//! The order state machine: which status an order moves to when something happens to it.
//!
//! Every status change of an order goes through [`next`], one exhaustive
//! `match (status, event)`. An event the table does not allow is an [`IllegalTransition`]: a bug
//! in the engine, refused before it lands. Invariants (property-tested in `orders::tests`):
//! `Filled`, `Cancelled` and `Inactive` are final, except that a just-cancelled order may be
//! made `Inactive`; a live order stays live until it fills, is cancelled or is deactivated.

use model::OrderStatus;
use serde::{Deserialize, Serialize};

/// Something that happens to an order and may change its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEvent {
    /// It works in the market: resting at its limit, triggered, or trading.
    Work,
    /// It waits: for its trigger, its session, its parent's fill, a halt's end or an auction.
    Wait,
    /// Part of it executed; `complete` when nothing is left to fill.
    Fill {
        /// Whether the fill completed it.
        complete: bool,
    },
    /// Its terms changed; `complete` when the new size is what has filled already.
    Modify {
        /// Whether the new size leaves nothing to fill.
        complete: bool,
    },
    /// It is cancelled: by its owner, its group, its time in force, the market or a split.
    Cancel,
    /// It can never trade.
    Deactivate,
}

/// An event the state machine does not allow in an order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {from:?} cannot take {event:?}")]
pub struct IllegalTransition {
    /// The status the order was in.
    pub from: OrderStatus,
    /// What was to happen to it.
    pub event: OrderEvent,
}

/// The status an order in `from` moves to on `event`.
///
/// # Errors
/// [`IllegalTransition`] for an event the order's status does not allow: anything but
/// deactivation of a just-cancelled order, once the order is done.
pub fn next(from: OrderStatus, event: OrderEvent) -> Result<OrderStatus, IllegalTransition> {
    use OrderEvent::{Cancel, Deactivate, Fill, Modify, Wait, Work};
    use OrderStatus::{Cancelled, Filled, Inactive, PreSubmitted, Submitted};
    match (from, event) {
        (PreSubmitted | Submitted, Work) => Ok(Submitted),
        (PreSubmitted | Submitted, Wait) => Ok(PreSubmitted),
        // An auction fills an order that waited for it, still `PreSubmitted`.
        (PreSubmitted | Submitted, Fill { complete: true } | Modify { complete: true }) => Ok(Filled),
        (live @ (PreSubmitted | Submitted), Fill { complete: false } | Modify { complete: false }) => {
            Ok(live)
        }
        (PreSubmitted | Submitted, Cancel) => Ok(Cancelled),
        (PreSubmitted | Submitted, Deactivate) => Ok(Inactive),
        // Deactivation cancels first, so the exits waiting for the order go with it, and then
        // marks the cancelled order inactive: the one way out of a final status.
        (Cancelled, Deactivate) => Ok(Inactive),
        (Cancelled, Work | Wait | Fill { .. } | Modify { .. } | Cancel)
        | (Filled | Inactive, Work | Wait | Fill { .. } | Modify { .. } | Cancel | Deactivate) => {
            Err(IllegalTransition { from, event })
        }
    }
}

/// Why an order was cancelled or made inactive, as its `reason` reports it.
///
/// Kept in the engine's state as the sentence itself (the representation earlier builds wrote),
/// so snapshots and state digests read the same as before the reasons were typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Cancellation {
    /// Its owner cancelled it.
    ByAccount,
    /// Its time in force ended.
    Expired,
    /// A stock split changed its instrument under it.
    StockSplit,
    /// Its bracket parent was cancelled before it could start working.
    ParentCancelled,
    /// Another order of its one-cancels-all group filled.
    OneCancelsAll,
    /// A fill-or-kill order the book could not fill at once, in full.
    NotFilledInFull,
    /// A cash-quantity order whose account could pay for no more.
    CashRanOut,
    /// What an immediate-or-cancel order could not fill at once.
    ImmediateRemainder,
    /// A market order the book ran out under.
    BookExhausted,
    /// The instrument was halted when its auction came.
    AuctionHalted,
    /// Its auction priced beyond its limit.
    AuctionBeyondLimit,
    /// Made inactive: its market never opens again within the simulated calendar.
    MarketClosedForGood,
    /// Made inactive: no closing auction is left in the simulated calendar.
    NoClosingAuction,
    /// Made inactive: no opening auction is left in the simulated calendar.
    NoOpeningAuction,
}

impl Cancellation {
    /// Every reason, for reading one back from its sentence.
    const ALL: [Self; 14] = [
        Self::ByAccount,
        Self::Expired,
        Self::StockSplit,
        Self::ParentCancelled,
        Self::OneCancelsAll,
        Self::NotFilledInFull,
        Self::CashRanOut,
        Self::ImmediateRemainder,
        Self::BookExhausted,
        Self::AuctionHalted,
        Self::AuctionBeyondLimit,
        Self::MarketClosedForGood,
        Self::NoClosingAuction,
        Self::NoOpeningAuction,
    ];

    /// The sentence an order's reason shows.
    pub fn text(self) -> &'static str {
        match self {
            Self::ByAccount => "Cancelled by the account",
            Self::Expired => "Cancelled by System: order expired",
            Self::StockSplit => "Cancelled by a stock split",
            Self::ParentCancelled => "its parent order was cancelled",
            Self::OneCancelsAll => "another order of its one-cancels-all group filled",
            Self::NotFilledInFull => "the order could not be filled at once in full",
            Self::CashRanOut => "the account's cash ran out",
            Self::ImmediateRemainder => "the rest of an immediate order",
            Self::BookExhausted => "the book had nothing more to trade against",
            Self::AuctionHalted => "the auction did not take place: trading is halted",
            Self::AuctionBeyondLimit => "the auction price was beyond the order's limit",
            Self::MarketClosedForGood => "the market does not open again",
            Self::NoClosingAuction => "no closing auction is left",
            Self::NoOpeningAuction => "no opening auction is left",
        }
    }

    /// Whether IBKR counts it as cancelled by the system: the reasons it reports in an
    /// order's `order_cancellation_by_system_reason`.
    pub fn is_by_system(self) -> bool {
        matches!(self, Self::Expired)
    }
}

impl std::fmt::Display for Cancellation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

impl From<Cancellation> for String {
    fn from(reason: Cancellation) -> Self {
        reason.text().to_owned()
    }
}

/// A sentence no build ever wrote as an order's reason.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a reason an order is cancelled for")]
pub struct UnknownCancellation(String);

impl TryFrom<String> for Cancellation {
    type Error = UnknownCancellation;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::ALL.into_iter().find(|reason| reason.text() == text).ok_or(UnknownCancellation(text))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn any_event() -> impl Strategy<Value = OrderEvent> {
        prop_oneof![
            Just(OrderEvent::Work),
            Just(OrderEvent::Wait),
            any::<bool>().prop_map(|complete| OrderEvent::Fill { complete }),
            any::<bool>().prop_map(|complete| OrderEvent::Modify { complete }),
            Just(OrderEvent::Cancel),
            Just(OrderEvent::Deactivate),
        ]
    }

    proptest! {
        /// Driven by any sequence of events from placement, an order never leaves a final
        /// status (but for a cancelled one made inactive), a refused event leaves it as it
        /// was, and what is live changes status only as its event says.
        #[test]
        fn final_statuses_stay_final(events in proptest::collection::vec(any_event(), 0..40)) {
            let mut status = OrderStatus::PreSubmitted;
            for event in events {
                match next(status, event) {
                    Ok(then) => {
                        if status.is_final() {
                            prop_assert_eq!((status, event, then), (OrderStatus::Cancelled, OrderEvent::Deactivate, OrderStatus::Inactive));
                        }
                        let expected = match event {
                            OrderEvent::Work => Some(OrderStatus::Submitted),
                            OrderEvent::Wait => Some(OrderStatus::PreSubmitted),
                            OrderEvent::Fill { complete: true } | OrderEvent::Modify { complete: true } => Some(OrderStatus::Filled),
                            OrderEvent::Fill { complete: false } | OrderEvent::Modify { complete: false } => Some(status),
                            OrderEvent::Cancel => Some(OrderStatus::Cancelled),
                            OrderEvent::Deactivate => Some(OrderStatus::Inactive),
                        };
                        prop_assert_eq!(Some(then), expected);
                        status = then;
                    }
                    Err(illegal) => {
                        prop_assert!(status.is_final(), "a live order refused {:?}", event);
                        prop_assert_eq!(illegal, IllegalTransition { from: status, event });
                    }
                }
            }
        }
    }

    #[test]
    fn a_reason_reads_back_from_the_sentence_it_is_kept_as() {
        for reason in Cancellation::ALL {
            let kept = serde_json::to_string(&reason).unwrap();
            assert_eq!(kept, format!("{:?}", reason.text()));
            assert_eq!(serde_json::from_str::<Cancellation>(&kept).unwrap(), reason);
        }
        assert!(serde_json::from_str::<Cancellation>("\"bored\"").is_err());
    }

    #[test]
    fn only_an_expiry_is_a_cancellation_by_the_system() {
        let by_system: Vec<_> =
            Cancellation::ALL.into_iter().filter(|reason| reason.is_by_system()).collect();
        assert_eq!(by_system, [Cancellation::Expired]);
    }

    #[test]
    fn a_done_order_takes_nothing_but_the_deactivation_of_a_cancelled_one() {
        let events = [
            OrderEvent::Work,
            OrderEvent::Wait,
            OrderEvent::Fill { complete: false },
            OrderEvent::Fill { complete: true },
            OrderEvent::Modify { complete: false },
            OrderEvent::Modify { complete: true },
            OrderEvent::Cancel,
            OrderEvent::Deactivate,
        ];
        for from in [OrderStatus::Filled, OrderStatus::Cancelled, OrderStatus::Inactive] {
            for event in events {
                let allowed = from == OrderStatus::Cancelled && event == OrderEvent::Deactivate;
                assert_eq!(next(from, event).is_ok(), allowed, "{from:?} on {event:?}");
            }
        }
    }
}
