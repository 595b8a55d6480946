//! The simulated clock: read it, switch its mode, move it forward.

use axum::Json;
use axum::extract::State;
use engine::clock::ClockModeError;
use engine::{Command, Reply};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

/// The simulated clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockState {
    /// Market time now, RFC 3339.
    now: String,
    /// `realtime`, `accelerated:N` or `manual`.
    mode: String,
}

/// Market time now and how it moves.
#[utoipa::path(
    get,
    path = "/_localbroker/clock",
    operation_id = "getClock",
    tag = "Control plane",
    responses((status = 200, description = "The clock", body = ClockState))
)]
pub async fn clock(State(app): State<AppState>) -> Result<Json<ClockState>, ApiError> {
    let wall = Timestamp::now();
    let clock = app
        .broker
        .read(move |engine| {
            let state = engine.state();
            ClockState { now: state.market_time(wall).to_string(), mode: state.clock().mode().to_string() }
        })
        .await?;
    Ok(Json(clock))
}

/// A change of the clock: exactly one of the three.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockChange {
    /// Switch to `realtime`, `accelerated:N` or `manual`, from the current market time.
    mode: Option<String>,
    /// Jump forward by a duration: a number and a unit, `s`, `m`, `h`, `d` or `w` (`90s`, `5m`,
    /// `7h`, `3d`).
    advance: Option<String>,
    /// Jump forward to an RFC 3339 instant; never backwards.
    set: Option<String>,
}

/// Changes the clock. The change is journaled, so it survives a restart.
#[utoipa::path(
    post,
    path = "/_localbroker/clock",
    operation_id = "changeClock",
    tag = "Control plane",
    request_body = ClockChange,
    responses(
        (status = 200, description = "The clock after the change", body = ClockState),
        (status = 400, description = "Not exactly one valid change, or one that would go backwards", body = ErrorBody),
    )
)]
pub async fn change_clock(
    State(app): State<AppState>,
    JsonBody(change): JsonBody<ClockChange>,
) -> Result<Json<ClockState>, ApiError> {
    let command = match (change.mode, change.advance, change.set) {
        (Some(mode), None, None) => Command::SetClockMode {
            mode: mode.parse().map_err(|e: ClockModeError| ApiError::bad_request(e.to_string()))?,
        },
        (None, Some(by), None) => Command::AdvanceClock { by: parse_duration(&by)? },
        (None, None, Some(to)) => Command::SetClock {
            to: to
                .parse()
                .map_err(|e| ApiError::bad_request(format!("set must be an RFC 3339 instant: {e}")))?,
        },
        _ => return Err(ApiError::bad_request("give exactly one of mode, advance and set")),
    };
    match app.broker.execute(command).await?.reply {
        Reply::Clock { mode, now } => Ok(Json(ClockState { now: now.to_string(), mode: mode.to_string() })),
        _ => Err(ApiError::unavailable()),
    }
}

/// An advance of the clock ([`crate::duration::parse`]).
fn parse_duration(text: &str) -> Result<SignedDuration, ApiError> {
    crate::duration::parse(text).ok_or_else(|| {
        ApiError::bad_request(format!("advance must be a number and s, m, h, d or w, like 5m; got {text:?}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_a_number_and_a_unit() {
        assert_eq!(parse_duration("90s").unwrap(), SignedDuration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), SignedDuration::from_mins(5));
        assert_eq!(parse_duration("7h").unwrap(), SignedDuration::from_hours(7));
        assert_eq!(parse_duration("3d").unwrap(), SignedDuration::from_hours(72));
        for bad in ["", "5", "m", "0s", "-1d", "5 m", "1y", "99999999999999999w"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
