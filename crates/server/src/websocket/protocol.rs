//! The text frames clients send: `TOPIC+TARGET+{json}`, a bare `tic`, `spl`, `upl`, `utr`, or
//! `ech+hb`; and `{"session": "…"}` while a connection waits for its session.

use model::{AccountId, Conid};
use serde_json::{Map, Value};

use crate::error::excerpt;

/// What a client asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientRequest {
    /// `smd+<conid>+{"fields":[…]}`: stream these snapshot fields.
    MarketData { conid: Conid, fields: Vec<String> },
    /// `umd+<conid>+{}`.
    StopMarketData { conid: Conid },
    /// `smh+<conid>+{…}`: bars, once.
    History { conid: Conid, params: Map<String, Value> },
    /// `umh+<serverId>`.
    StopHistory { server_id: String },
    /// `sbd+<acct>+<conid>[+<exchange>]`: the price ladder.
    Depth { account: String, conid: Conid },
    /// `ubd+<acct>`.
    StopDepth,
    /// `sor+{…}`: order updates, optionally only some statuses.
    Orders { filters: Vec<String> },
    /// `uor+{}`.
    StopOrders,
    /// `str+{…}`: executions of the last `days`, then live ones.
    Trades { realtime_only: bool, days: u32 },
    /// `utr`.
    StopTrades,
    /// `spl`.
    Pnl,
    /// `upl`.
    StopPnl,
    /// `ssd+<acct>+{…}`: the account summary.
    Summary { account: String },
    /// `usd+<acct>`.
    StopSummary { account: String },
    /// `sld+<acct>+{…}`: the ledger.
    Ledger { account: String },
    /// `uld+<acct>`.
    StopLedger { account: String },
    /// `tic`: keep the session alive.
    Tic,
    /// `ech+hb`: the client's heartbeat.
    Echo,
    /// `{"session": "…"}`: the session a waiting connection acts for.
    Session(String),
}

impl ClientRequest {
    /// Whether the request starts a stream, which needs the brokerage session.
    pub fn subscribes(&self) -> bool {
        matches!(
            self,
            Self::MarketData { .. }
                | Self::History { .. }
                | Self::Depth { .. }
                | Self::Orders { .. }
                | Self::Trades { .. }
                | Self::Pnl
                | Self::Summary { .. }
                | Self::Ledger { .. }
        )
    }
}

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FrameError(pub String);

fn error(message: impl Into<String>) -> FrameError {
    FrameError(message.into())
}

fn conid(raw: Option<&str>) -> Result<Conid, FrameError> {
    let raw = raw.unwrap_or_default().trim();
    // `conid@EXCHANGE` names the same contract at a venue.
    let digits = raw.split('@').next().unwrap_or_default();
    digits.parse().map_err(|_| error(format!("invalid conid {}", excerpt(raw))))
}

fn body(raw: Option<&str>) -> Result<Map<String, Value>, FrameError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(Map::new()),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(error(format!("invalid JSON body {}", excerpt(text)))),
        },
    }
}

fn strings(body: &Map<String, Value>, key: &str) -> Vec<String> {
    body.get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned).or_else(|| v.as_u64().map(|n| n.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn account(raw: Option<&str>) -> Result<String, FrameError> {
    let raw = raw.unwrap_or_default().trim();
    raw.parse::<AccountId>()
        .map(|id| id.to_string())
        .map_err(|_| error(format!("invalid account {}", excerpt(raw))))
}

/// Splits `TARGET+BODY` into its target and its body, if any.
fn two(rest: Option<&str>) -> (Option<&str>, Option<&str>) {
    match rest {
        None => (None, None),
        Some(rest) => match rest.split_once('+') {
            Some((target, body)) => (Some(target), Some(body)),
            None => (Some(rest), None),
        },
    }
}

/// Reads one text frame.
///
/// # Errors
/// [`FrameError`] naming what is wrong with it.
pub fn parse(frame: &str) -> Result<ClientRequest, FrameError> {
    let frame = frame.trim();
    if frame.starts_with('{') {
        let value: Value =
            serde_json::from_str(frame).map_err(|_| error(format!("invalid JSON {}", excerpt(frame))))?;
        return value
            .get("session")
            .and_then(Value::as_str)
            .map(|session| ClientRequest::Session(session.to_owned()))
            .ok_or_else(|| error("a JSON frame names a session"));
    }
    // The JSON body may itself contain `+`: split off at most what the topic needs.
    let (topic, rest) = frame.split_once('+').map_or((frame, None), |(topic, rest)| (topic, Some(rest)));
    match topic {
        "tic" => Ok(ClientRequest::Tic),
        "ech" => Ok(ClientRequest::Echo),
        "spl" => Ok(ClientRequest::Pnl),
        "upl" => Ok(ClientRequest::StopPnl),
        "utr" => Ok(ClientRequest::StopTrades),
        "uor" => Ok(ClientRequest::StopOrders),
        "ubd" => Ok(ClientRequest::StopDepth),
        "sor" => Ok(ClientRequest::Orders { filters: strings(&body(rest)?, "filters") }),
        "str" => {
            let body = body(rest)?;
            let flag =
                ["realtimeUpdatesOnly", "realtime_updates_only"].iter().find_map(|k| body.get(*k)?.as_bool());
            let days =
                body.get("days").and_then(|d| d.as_u64().or_else(|| d.as_str()?.parse().ok())).unwrap_or(1);
            let days = u32::try_from(days.clamp(1, 7)).unwrap_or(1);
            Ok(ClientRequest::Trades { realtime_only: flag.unwrap_or(false), days })
        }
        "smd" => {
            let (target, rest) = two(rest);
            Ok(ClientRequest::MarketData { conid: conid(target)?, fields: strings(&body(rest)?, "fields") })
        }
        "umd" => Ok(ClientRequest::StopMarketData { conid: conid(two(rest).0)? }),
        "smh" => {
            let (target, rest) = two(rest);
            Ok(ClientRequest::History { conid: conid(target)?, params: body(rest)? })
        }
        "umh" => Ok(ClientRequest::StopHistory { server_id: rest.unwrap_or_default().trim().to_owned() }),
        "sbd" => {
            let (target, rest) = two(rest);
            let conid_part = rest.map(|rest| rest.split('+').next().unwrap_or(rest));
            Ok(ClientRequest::Depth { account: account(target)?, conid: conid(conid_part)? })
        }
        "ssd" => Ok(ClientRequest::Summary { account: account(two(rest).0)? }),
        "usd" => Ok(ClientRequest::StopSummary { account: account(two(rest).0)? }),
        "sld" => Ok(ClientRequest::Ledger { account: account(two(rest).0)? }),
        "uld" => Ok(ClientRequest::StopLedger { account: account(two(rest).0)? }),
        other => Err(error(format!("unknown topic {}", excerpt(other)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_as_ibind_sends_them() {
        let aapl = Conid::new(265_598);
        assert_eq!(
            parse(r#"smd+265598+{"fields":["31","84","86"]}"#),
            Ok(ClientRequest::MarketData {
                conid: aapl,
                fields: vec!["31".into(), "84".into(), "86".into()]
            })
        );
        assert_eq!(parse("umd+265598+{}"), Ok(ClientRequest::StopMarketData { conid: aapl }));
        assert_eq!(parse("sor+{}"), Ok(ClientRequest::Orders { filters: Vec::new() }));
        assert_eq!(
            parse(r#"sor+{"filters": ["Submitted"]}"#),
            Ok(ClientRequest::Orders { filters: vec!["Submitted".into()] })
        );
        assert_eq!(
            parse(r#"str+{"realtime_updates_only":true,"days":1}"#),
            Ok(ClientRequest::Trades { realtime_only: true, days: 1 })
        );
        assert_eq!(parse("spl"), Ok(ClientRequest::Pnl));
        assert_eq!(parse("ssd+DU1234567+{}"), Ok(ClientRequest::Summary { account: "DU1234567".into() }));
        assert_eq!(parse("usd+DU1234567"), Ok(ClientRequest::StopSummary { account: "DU1234567".into() }));
        assert_eq!(
            parse("sbd+DU1234567+265598+NASDAQ"),
            Ok(ClientRequest::Depth { account: "DU1234567".into(), conid: aapl })
        );
        assert_eq!(parse("umh+abc123"), Ok(ClientRequest::StopHistory { server_id: "abc123".into() }));
        assert_eq!(parse("tic"), Ok(ClientRequest::Tic));
        assert_eq!(parse("ech+hb"), Ok(ClientRequest::Echo));
        assert_eq!(parse(r#"{"session": "abc"}"#), Ok(ClientRequest::Session("abc".into())));
    }

    #[test]
    fn bad_frames_say_what_is_wrong() {
        assert!(parse("xyz+1").unwrap_err().0.contains("unknown topic"));
        assert!(parse("smd+abc+{}").unwrap_err().0.contains("invalid conid"));
        assert!(parse("smd+265598+{oops").unwrap_err().0.contains("invalid JSON"));
    }

    #[test]
    fn an_error_repeats_only_the_start_of_a_frame() {
        let controls = "\u{1b}".repeat(100_000);
        for frame in [
            controls.clone(),
            format!("{{{controls}"),
            format!("smd+{controls}+{{}}"),
            format!("sor+{{{controls}"),
        ] {
            let message = parse(&frame).unwrap_err().0;
            assert!(message.len() < 300, "{} bytes: {}", message.len(), &message[..80]);
            assert!(message.ends_with('…'), "{message}");
        }
        assert_eq!(parse("xyz").unwrap_err().0, "unknown topic \"xyz\"");
    }
}
