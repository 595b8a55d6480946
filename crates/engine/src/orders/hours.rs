//! When a lane's orders may trade: regular hours for orders that keep to them, the whole
//! session (pre-market and after-hours included) for the others. Currency pairs and coins have
//! only one kind of hours.

use std::ops::Range;

use jiff::Timestamp;
use market::timeline::{LAST_DAY, Timeline, TradingDay};

/// The active minutes of `day` a lane's orders trade in.
pub(crate) fn working_minutes(day: &TradingDay, regular_only: bool) -> Range<u32> {
    if regular_only { day.regular.clone() } else { day.session.clone() }
}

/// Whether a lane's orders may trade at `at`.
pub(crate) fn is_open(timeline: &Timeline, regular_only: bool, at: Timestamp) -> bool {
    let position = timeline.position(at);
    position.open
        && timeline
            .trading_day(at)
            .is_some_and(|day| working_minutes(&day, regular_only).contains(&position.minute))
}

/// The trading days from the one `at` falls in (or the last one begun) to the end of the
/// market's axis, lazily: callers stop as soon as they have what they look for.
pub(crate) fn days_from(timeline: &Timeline, at: Timestamp) -> impl Iterator<Item = TradingDay> + '_ {
    let first = timeline.trading_day(at).map(|day| day.date);
    first.into_iter().flat_map(move |date| timeline.trading_days(date, LAST_DAY))
}

/// When a day's working minutes begin and end.
fn bounds(timeline: &Timeline, minutes: &Range<u32>) -> Option<(Timestamp, Timestamp)> {
    (!minutes.is_empty())
        .then(|| (timeline.start_of(minutes.start), timeline.instant_at(minutes.end - 1, 1.0)))
}

/// The first instant at or after `after` a lane's orders may trade.
pub(crate) fn next_open(timeline: &Timeline, regular_only: bool, after: Timestamp) -> Option<Timestamp> {
    days_from(timeline, after).find_map(|day| {
        let (start, end) = bounds(timeline, &working_minutes(&day, regular_only))?;
        (after < end).then_some(start.max(after))
    })
}

/// The first start of a lane's hours strictly after `after`: the next opening auction.
pub(crate) fn next_start(timeline: &Timeline, regular_only: bool, after: Timestamp) -> Option<Timestamp> {
    days_from(timeline, after).find_map(|day| {
        let (start, _) = bounds(timeline, &working_minutes(&day, regular_only))?;
        (start > after).then_some(start)
    })
}

/// The first end of a lane's hours strictly after `after`: when a day order placed at `after`
/// expires, and when the next closing auction happens.
pub(crate) fn next_end(timeline: &Timeline, regular_only: bool, after: Timestamp) -> Option<Timestamp> {
    days_from(timeline, after).find_map(|day| {
        let (_, end) = bounds(timeline, &working_minutes(&day, regular_only))?;
        (end > after).then_some(end)
    })
}

#[cfg(test)]
mod tests {
    use jiff::ZonedDateTime;
    use market::calendar::Market;

    use super::*;

    fn new_york(text: &str) -> Timestamp {
        format!("{text}[America/New_York]").parse::<ZonedDateTime>().unwrap().timestamp()
    }

    #[test]
    fn stock_hours_open_and_close_with_their_sessions() {
        let timeline = Timeline::of(Market::UsEquity);
        let morning = new_york("2026-03-03T08:00");
        assert!(!is_open(timeline, true, morning) && is_open(timeline, false, morning));
        assert_eq!(next_open(timeline, true, morning), Some(new_york("2026-03-03T09:30")));
        assert_eq!(next_open(timeline, false, morning), Some(morning), "pre-market is open");
        assert_eq!(next_end(timeline, true, morning), Some(new_york("2026-03-03T16:00")));
        assert_eq!(next_end(timeline, false, morning), Some(new_york("2026-03-03T20:00")));
        let evening = new_york("2026-03-03T17:00");
        assert_eq!(next_end(timeline, true, evening), Some(new_york("2026-03-04T16:00")), "tomorrow's close");
        assert_eq!(
            next_start(timeline, true, new_york("2026-03-03T10:00")),
            Some(new_york("2026-03-04T09:30"))
        );
        let friday_night = new_york("2026-12-24T21:00");
        assert_eq!(
            next_open(timeline, true, friday_night),
            Some(new_york("2026-12-28T09:30")),
            "past Christmas"
        );
    }

    #[test]
    fn the_days_ahead_reach_as_far_as_a_scan_needs() {
        let timeline = Timeline::of(Market::UsEquity);
        let day = days_from(timeline, new_york("2026-03-03T11:00")).nth(60).unwrap();
        assert_eq!(day.date, jiff::civil::date(2026, 5, 28), "sixty trading days on, past any fixed window");
    }

    #[test]
    fn currency_days_end_at_five_and_weekends_close() {
        let timeline = Timeline::of(Market::Forex);
        let saturday = new_york("2026-03-07T12:00");
        assert!(!is_open(timeline, true, saturday));
        assert_eq!(next_open(timeline, true, saturday), Some(new_york("2026-03-08T17:00")));
        assert_eq!(
            next_end(timeline, true, new_york("2026-03-04T10:00")),
            Some(new_york("2026-03-04T17:00"))
        );
    }
}
