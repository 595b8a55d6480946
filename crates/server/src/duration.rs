//! Durations as people type them in world files and control-plane requests.

use jiff::SignedDuration;

/// `90s`, `5m`, `7h`, `3d`, `2w`: a positive whole number and a unit; `None` for anything else.
pub fn parse(text: &str) -> Option<SignedDuration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    number.checked_mul(seconds).map(SignedDuration::from_secs).filter(|d| d.is_positive())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_and_a_unit() {
        assert_eq!(parse("90s"), Some(SignedDuration::from_secs(90)));
        assert_eq!(parse(" 2d "), Some(SignedDuration::from_hours(48)));
        for bad in ["", "5", "m", "0h", "-1h", "1.5h", "1y", "99999999999999999w"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
