//! Margin requirements: the share of a position's value an account must hold as equity, when
//! the position is opened (initial) and to keep it (maintenance).

use model::{AssetClass, Decimal, MarginKind};

/// The shares of a position's value that opening and keeping it require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// Required when the position is opened.
    pub initial: Decimal,
    /// Required for as long as it is held.
    pub maintenance: Decimal,
}

/// What a position of `asset_class` requires in an account of `kind`, long or `short`.
///
/// Reg T asks half a stock position's value when it is opened, long or short (a short's
/// proceeds plus that half: "150%" as the rule is often put), and a quarter of a long's value
/// or 30% of a short's to keep it. Currencies are margined lightly (3% and 2%, LocalBroker's
/// assumption for the major pairs). Coins are paid in full in any account, and a cash account
/// pays for everything in full.
pub(crate) fn requirement(kind: MarginKind, asset_class: AssetClass, short: bool) -> Requirement {
    let percent = |initial: i64, maintenance: i64| Requirement {
        initial: Decimal::new(initial, 2),
        maintenance: Decimal::new(maintenance, 2),
    };
    match (kind, asset_class) {
        (MarginKind::Cash, _) | (_, AssetClass::Crypto) => percent(100, 100),
        (MarginKind::Margin, AssetClass::Stock) if short => percent(50, 30),
        (MarginKind::Margin, AssetClass::Stock) => percent(50, 25),
        (MarginKind::Margin, AssetClass::Forex) => percent(3, 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_t_keeps_more_of_a_short() {
        let long = requirement(MarginKind::Margin, AssetClass::Stock, false);
        let short = requirement(MarginKind::Margin, AssetClass::Stock, true);
        assert_eq!((long.initial, long.maintenance), (Decimal::new(5, 1), Decimal::new(25, 2)));
        assert_eq!((short.initial, short.maintenance), (Decimal::new(5, 1), Decimal::new(3, 1)));
    }

    #[test]
    fn a_cash_account_and_coins_are_paid_in_full() {
        for (kind, class) in [(MarginKind::Cash, AssetClass::Stock), (MarginKind::Margin, AssetClass::Crypto)]
        {
            assert_eq!(requirement(kind, class, false).initial, Decimal::ONE);
        }
    }
}
