//! IBKR's conventions for numbers on the wire, in one place: amounts as doubles, text rounded
//! with commas between thousands, quantities as integers when whole.

use model::Decimal;

/// `value` rounded to `decimals` places, with thousands separated by commas: `1,977.60`,
/// `215,415,594`, `-1`.
pub fn grouped(value: Decimal, decimals: u32) -> String {
    let rounded = value.round_dp(decimals);
    let text = format!("{:.*}", decimals as usize, rounded.abs());
    let (units, fraction) = text.split_once('.').map_or((text.as_str(), None), |(u, f)| (u, Some(f)));
    let mut out = String::with_capacity(text.len() + units.len() / 3 + 1);
    if rounded.is_sign_negative() && !rounded.is_zero() {
        out.push('-');
    }
    for (index, digit) in units.chars().enumerate() {
        if index > 0 && (units.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// A decimal as a JSON number: IBKR's amounts are doubles on the wire.
pub fn float(value: Decimal) -> f64 {
    f64::try_from(value).unwrap_or(0.0)
}

/// The double nearest a decimal, for a figure read exactly from the market's doubles (an
/// exchange rate): a price that was a double comes back as that double.
pub fn nearest_float(value: Decimal) -> f64 {
    value.to_string().parse().unwrap_or(0.0)
}

/// A figure as a JSON number the way IBKR writes it: a whole number as an integer (shares,
/// volumes, a quantity sold, an exchange rate of 1), anything else as a double.
pub fn whole_or_double(value: Decimal) -> serde_json::Number {
    match i64::try_from(value) {
        Ok(whole) if value.fract().is_zero() => whole.into(),
        _ => f64::try_from(value).ok().and_then(serde_json::Number::from_f64).unwrap_or_else(|| 0.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated_and_signs_kept() {
        assert_eq!(grouped(Decimal::new(215_415_594, 0), 0), "215,415,594");
        assert_eq!(grouped(Decimal::new(-1, 0), 0), "-1");
        assert_eq!(grouped(Decimal::new(197_760, 2), 2), "1,977.60");
        assert_eq!(grouped(Decimal::new(12_499_500, 2), 2), "124,995.00");
        assert_eq!(grouped(Decimal::new(100, 0), 0), "100");
        assert_eq!(grouped(Decimal::new(-1_234_567, 3), 1), "-1,234.6");
    }

    #[test]
    fn a_double_read_exactly_comes_back_as_itself() {
        for double in [1.1597, 0.834_820_570_786_017_6, 152.814_924_441_773_26, 0.010_168_610_356_091_574] {
            assert_eq!(nearest_float(Decimal::from_f64_retain(double).unwrap()).to_bits(), double.to_bits());
        }
    }

    #[test]
    fn whole_figures_are_integers_and_others_doubles_whatever_their_sign() {
        let json = |value: Decimal| serde_json::to_string(&whole_or_double(value)).unwrap();
        assert_eq!(json(Decimal::new(10, 0)), "10");
        assert_eq!(json(Decimal::new(-5, 0)), "-5");
        assert_eq!(json(Decimal::new(10_000, 4)), "1", "trailing zeros are still whole");
        assert_eq!(json(Decimal::new(15, 1)), "1.5");
        assert_eq!(json(Decimal::new(-25, 4)), "-0.0025");
    }
}
