//! The simulated clock. It belongs to the engine and changes only by journaled commands, so a
//! replay reproduces every instant the broker ever saw.
//!
//! The clock maps wall time to market time. In `realtime` mode market time runs with the wall
//! clock; in `accelerated` mode N times faster; in `manual` mode it stands still until it is
//! advanced or set. Each change re-anchors the clock at the instant it is made, so market time
//! is continuous and never runs backwards. Market time keeps running while the server is
//! stopped (except in manual mode), as it does for a real market.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use market::timeline;
use serde::{Deserialize, Serialize};

use crate::{Engine, EngineError, Event};

/// How market time moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ClockMode {
    /// With the wall clock.
    #[default]
    Realtime,
    /// This many times faster than the wall clock.
    Accelerated(u32),
    /// Only when advanced or set.
    Manual,
}

impl fmt::Display for ClockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Realtime => f.write_str("realtime"),
            Self::Accelerated(factor) => write!(f, "accelerated:{factor}"),
            Self::Manual => f.write_str("manual"),
        }
    }
}

/// Why a clock mode does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("clock mode must be realtime, manual or accelerated:N with N from 1 to 1000000, got {0:?}")]
pub struct ClockModeError(String);

/// The fastest acceleration: a year of market time in about half a minute.
const MAX_ACCELERATION: u32 = 1_000_000;

impl FromStr for ClockMode {
    type Err = ClockModeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || ClockModeError(s.to_owned());
        match s.trim() {
            "realtime" => Ok(Self::Realtime),
            "manual" => Ok(Self::Manual),
            other => {
                let factor = other.strip_prefix("accelerated:").ok_or_else(error)?;
                match factor.parse::<u32>() {
                    Ok(n) if (1..=MAX_ACCELERATION).contains(&n) => Ok(Self::Accelerated(n)),
                    _ => Err(error()),
                }
            }
        }
    }
}

impl TryFrom<String> for ClockMode {
    type Error = ClockModeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ClockMode> for String {
    fn from(mode: ClockMode) -> String {
        mode.to_string()
    }
}

/// How a new world's clock starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClockSpec {
    /// The mode; realtime when absent.
    #[serde(default)]
    pub mode: ClockMode,
    /// The market time at creation; the wall time of creation when absent.
    #[serde(default)]
    pub start: Option<Timestamp>,
}

/// The span of market time the simulated market covers: from the start of its timeline's first
/// day to the end of its last, UTC. Outside it there are no prices to show.
static MARKET_SPAN: LazyLock<(Timestamp, Timestamp)> = LazyLock::new(|| {
    let midnight = |date: Option<jiff::civil::Date>| {
        date.and_then(|date| date.to_zoned_datetime(TimeZone::UTC).ok()).map(|zoned| zoned.timestamp())
    };
    let first = midnight(Some(timeline::EPOCH)).unwrap_or(Timestamp::MIN);
    let last = midnight(timeline::LAST_DAY.tomorrow().ok()).unwrap_or(Timestamp::MAX);
    (first, last)
});

/// Refuses a market instant outside [`MARKET_SPAN`]: the clock is only ever started or moved
/// inside it.
pub(crate) fn within_market(requested: Timestamp) -> Result<Timestamp, EngineError> {
    let (first, last) = *MARKET_SPAN;
    if (first..=last).contains(&requested) {
        Ok(requested)
    } else {
        Err(EngineError::ClockOutsideMarket { requested, first, last })
    }
}

/// The clock: a mode and an anchor (a market instant and the wall instant it was taken at).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Clock {
    mode: ClockMode,
    market: Timestamp,
    wall: Timestamp,
}

impl Clock {
    /// A clock anchored at `market` when the wall clock reads `wall`.
    pub fn new(mode: ClockMode, market: Timestamp, wall: Timestamp) -> Self {
        Self { mode, market, wall }
    }

    /// The mode.
    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    /// Market time when the wall clock reads `wall`. A wall clock that went backwards (a system
    /// clock correction) does not take market time back with it.
    pub fn market_time(&self, wall: Timestamp) -> Timestamp {
        let elapsed = wall.duration_since(self.wall).max(SignedDuration::ZERO);
        let advanced = match self.mode {
            ClockMode::Manual => SignedDuration::ZERO,
            ClockMode::Realtime => elapsed,
            ClockMode::Accelerated(factor) => {
                elapsed.saturating_mul(i32::try_from(factor).unwrap_or(i32::MAX))
            }
        };
        // A running clock stops where the simulated market ends.
        self.market.saturating_add(advanced).unwrap_or(self.market).min(MARKET_SPAN.1.max(self.market))
    }

    /// The same market time from `wall` on, in `mode`.
    pub(crate) fn switched(&self, mode: ClockMode, wall: Timestamp) -> Self {
        Self::new(mode, self.market_time(wall), wall)
    }

    /// Market time set to `market` from `wall` on, in the same mode.
    pub(crate) fn moved_to(&self, market: Timestamp, wall: Timestamp) -> Self {
        Self::new(self.mode, market, wall)
    }
}

impl Engine {
    pub(crate) fn set_clock_mode(&mut self, wall: Timestamp, mode: ClockMode) -> Vec<Event> {
        self.state.clock = self.state.clock.switched(mode, wall);
        vec![self.clock_changed(wall)]
    }

    pub(crate) fn advance_clock(
        &mut self,
        wall: Timestamp,
        by: SignedDuration,
    ) -> Result<Vec<Event>, EngineError> {
        if !by.is_positive() {
            return Err(EngineError::NonPositiveAdvance(by));
        }
        let now = self.state.clock.market_time(wall);
        let to = within_market(now.saturating_add(by).unwrap_or(Timestamp::MAX))?;
        self.jump(wall, now, to)
    }

    /// Moves market time from `now` to `to`; everything that happens to working orders and
    /// corporate actions in between happens, in order, as if the time had passed.
    fn jump(&mut self, wall: Timestamp, now: Timestamp, to: Timestamp) -> Result<Vec<Event>, EngineError> {
        self.state.clock = self.state.clock.moved_to(to, wall);
        let mut events = Vec::new();
        if now < to {
            self.pass_time(to, &mut events)?;
        }
        events.push(self.clock_changed(wall));
        Ok(events)
    }

    pub(crate) fn set_clock(&mut self, wall: Timestamp, to: Timestamp) -> Result<Vec<Event>, EngineError> {
        let now = self.state.clock.market_time(wall);
        if to < now {
            return Err(EngineError::ClockBackwards { now, requested: to });
        }
        within_market(to)?;
        self.jump(wall, now, to)
    }

    fn clock_changed(&self, wall: Timestamp) -> Event {
        Event::ClockChanged { mode: self.state.clock.mode(), now: self.state.clock.market_time(wall) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_772_000_000 + seconds).unwrap()
    }

    #[test]
    fn modes_parse_and_print_alike() {
        for text in ["realtime", "manual", "accelerated:60"] {
            assert_eq!(text.parse::<ClockMode>().unwrap().to_string(), text);
        }
        for bad in ["", "fast", "accelerated:0", "accelerated:x", "accelerated:2000000"] {
            assert!(bad.parse::<ClockMode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn market_time_follows_the_mode() {
        let start = Timestamp::from_second(1_700_000_000).unwrap();
        assert_eq!(
            Clock::new(ClockMode::Realtime, start, t(0)).market_time(t(10)),
            start + SignedDuration::from_secs(10)
        );
        assert_eq!(
            Clock::new(ClockMode::Accelerated(60), start, t(0)).market_time(t(10)),
            start + SignedDuration::from_mins(10)
        );
        assert_eq!(Clock::new(ClockMode::Manual, start, t(0)).market_time(t(10)), start);
        assert_eq!(
            Clock::new(ClockMode::Realtime, start, t(10)).market_time(t(0)),
            start,
            "the wall clock went back"
        );
    }

    #[test]
    fn a_running_clock_stops_where_the_market_ends() {
        let end: Timestamp = "2101-01-01T00:00:00Z".parse().unwrap();
        let start: Timestamp = "2100-12-31T23:00:00Z".parse().unwrap();
        let fast = Clock::new(ClockMode::Accelerated(1_000_000), start, t(0));
        assert_eq!(fast.market_time(t(1)), end, "a wall second is eleven market days, past the end");
        assert_eq!(fast.market_time(t(3_600)), end);
        assert!(within_market(end).is_ok() && within_market(end + SignedDuration::from_secs(1)).is_err());
    }

    #[test]
    fn switching_mode_keeps_market_time_continuous() {
        let start = Timestamp::from_second(1_700_000_000).unwrap();
        let clock = Clock::new(ClockMode::Accelerated(10), start, t(0));
        let manual = clock.switched(ClockMode::Manual, t(6));
        assert_eq!(manual.market_time(t(6)), start + SignedDuration::from_mins(1));
        assert_eq!(manual.market_time(t(600)), start + SignedDuration::from_mins(1));
    }
}
