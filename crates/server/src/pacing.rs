//! IBKR's pacing limits (`reference/endpoints.md` §0.4): a username may make 50 requests a
//! second (10 through the CP Gateway), and some endpoints allow far fewer. A request over a
//! limit is answered 429 and does not count.
//!
//! IBKR states its limits as "N requests per period", and clients are written against that
//! reading: the 11th snapshot within one second is refused however the ten before were
//! spread. A token bucket refilling continuously would let it through, so each limit keeps
//! the instants of the requests it admitted within its period and admits another only while
//! fewer than N remain (a sliding-window log).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Whether IBKR's limits are enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacingMode {
    /// IBKR's documented limits.
    Ibkr,
    /// No limits: tests and benchmarks that want speed.
    Off,
}

impl FromStr for PacingMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "ibkr" => Ok(Self::Ibkr),
            "off" => Ok(Self::Off),
            other => Err(format!("unknown pacing {other:?}: use ibkr or off")),
        }
    }
}

impl fmt::Display for PacingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ibkr => "ibkr",
            Self::Off => "off",
        })
    }
}

/// Which requests a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Scope {
    /// Every request of the user.
    Global,
    /// Requests to paths equal to this one.
    Path(&'static str),
    /// Requests to paths under this prefix.
    Prefix(&'static str),
}

impl Scope {
    fn covers(self, path: &str) -> bool {
        match self {
            Self::Global => true,
            Self::Path(exact) => path == exact,
            Self::Prefix(prefix) => path.starts_with(prefix),
        }
    }
}

/// At most `requests` in any `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Limit {
    scope: Scope,
    requests: usize,
    period: Duration,
}

const fn per_second(scope: Scope, requests: usize) -> Limit {
    Limit { scope, requests, period: Duration::from_secs(1) }
}

const fn one_per(scope: Scope, seconds: u64) -> Limit {
    Limit { scope, requests: 1, period: Duration::from_secs(seconds) }
}

/// IBKR's per-endpoint limits, paths relative to `/v1/api`.
const ENDPOINT_LIMITS: &[Limit] = &[
    per_second(Scope::Path("/iserver/marketdata/snapshot"), 10),
    one_per(Scope::Path("/iserver/scanner/params"), 15 * 60),
    per_second(Scope::Path("/iserver/scanner/run"), 1),
    one_per(Scope::Path("/iserver/account/trades"), 5),
    one_per(Scope::Path("/iserver/account/orders"), 5),
    one_per(Scope::Path("/iserver/account/pnl/partitioned"), 5),
    one_per(Scope::Path("/portfolio/accounts"), 5),
    one_per(Scope::Path("/portfolio/subaccounts"), 5),
    one_per(Scope::Path("/pa/performance"), 15 * 60),
    one_per(Scope::Path("/pa/transactions"), 15 * 60),
    one_per(Scope::Path("/pa/summary"), 15 * 60),
    per_second(Scope::Prefix("/fyi/"), 1),
    per_second(Scope::Path("/tickle"), 1),
    one_per(Scope::Path("/sso/validate"), 60),
];

/// Failed logins per address, and per username, in any minute: each try costs an argon2 hash,
/// and a username should not be guessed at from many addresses either. Failures from anywhere
/// hold a username's logins back for the rest of the minute: the price of that protection.
const LOGIN_LIMIT: Limit = Limit { scope: Scope::Global, requests: 10, period: Duration::from_secs(60) };

/// A Flex token's statement requests: one a second and ten a minute.
const FLEX_LIMITS: [Limit; 2] = [
    per_second(Scope::Global, 1),
    Limit { scope: Scope::Global, requests: 10, period: Duration::from_secs(60) },
];

/// A username's requests per second through OAuth (bearer or login cookie).
const USER_LIMIT: Limit = per_second(Scope::Global, 50);

/// A username's requests per second through the gateway.
const GATEWAY_LIMIT: Limit = per_second(Scope::Global, 10);

/// The source of instants; a test's is manual.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// The instants of the requests each key's limits counted.
type Admitted = HashMap<(String, Limit), VecDeque<Instant>>;

/// Every user's recent requests, per limit.
pub struct Pacing {
    mode: PacingMode,
    clock: Clock,
    admitted: Mutex<Admitted>,
}

/// A login attempt, counted as a failure of its address and its username until it succeeds.
#[derive(Debug)]
#[must_use = "an attempt that is dropped counts as failed"]
pub struct LoginAttempt<'a> {
    pacing: &'a Pacing,
    keys: [String; 2],
    at: Instant,
}

impl LoginAttempt<'_> {
    /// The password was right: the attempt no longer counts.
    pub fn succeeded(self) {
        let mut admitted = self.pacing.admitted.lock().unwrap_or_else(PoisonError::into_inner);
        for key in self.keys {
            if let Some(log) = admitted.get_mut(&(key, LOGIN_LIMIT))
                && let Some(index) = log.iter().rposition(|&at| at == self.at)
            {
                log.remove(index);
            }
        }
    }
}

impl fmt::Debug for Pacing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pacing").field("mode", &self.mode).finish_non_exhaustive()
    }
}

/// A refused request: how long until the limit admits another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paced {
    /// Until the oldest counted request leaves its period.
    pub retry_after: Duration,
}

impl Paced {
    /// The wait in whole seconds, rounded up, as `Retry-After` gives it: at least one.
    pub fn retry_after_seconds(self) -> u64 {
        (self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0)).max(1)
    }
}

impl IntoResponse for Paced {
    fn into_response(self) -> Response {
        let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests").into_response();
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, self.retry_after_seconds().into());
        response
    }
}

impl Pacing {
    /// Pacing in `mode` on the monotonic clock.
    pub fn new(mode: PacingMode) -> Self {
        Self::with_clock(mode, Arc::new(Instant::now))
    }

    /// Pacing in `mode`, reading instants from `clock`.
    pub fn with_clock(mode: PacingMode, clock: Clock) -> Self {
        Self { mode, clock, admitted: Mutex::new(HashMap::new()) }
    }

    /// Whether the pacing limits apply.
    pub fn mode(&self) -> PacingMode {
        self.mode
    }

    /// Counts a request of `user` to `path` (relative to `/v1/api`), or refuses it when one of
    /// its limits is reached; a refused request is not counted. `gateway` says whether it came
    /// through the gateway rather than with a token of its own.
    ///
    /// # Errors
    /// [`Paced`] with the longest wait among the limits reached.
    pub fn admit(&self, user: &str, path: &str, gateway: bool) -> Result<(), Paced> {
        if self.mode == PacingMode::Off {
            return Ok(());
        }
        let global = if gateway { GATEWAY_LIMIT } else { USER_LIMIT };
        let limits =
            std::iter::once(global).chain(ENDPOINT_LIMITS.iter().copied().filter(|l| l.scope.covers(path)));
        self.admit_all(user, limits)
    }

    /// Counts a login attempt from `address` as `username`, or refuses it while either has
    /// failed ten times in the last minute, whatever the pacing mode. The attempt counts as a
    /// failure until [`LoginAttempt::succeeded`] says otherwise, so that a burst of attempts
    /// is bounded before any of them is decided.
    ///
    /// # Errors
    /// [`Paced`] with the wait.
    pub fn admit_login(&self, address: &str, username: &str) -> Result<LoginAttempt<'_>, Paced> {
        // A name that is no username shares one count, so that made-up names take no room.
        let user = username
            .trim()
            .parse::<model::Username>()
            .map_or_else(|_| "?".to_owned(), |user| user.to_string());
        let keys = [format!("login from {address}"), format!("login as {}", user.to_lowercase())];
        let at = (self.clock)();
        let mut admitted = self.admitted.lock().unwrap_or_else(PoisonError::into_inner);
        let wait = keys.iter().filter_map(|key| Self::wait(&mut admitted, key, LOGIN_LIMIT, at)).max();
        if let Some(retry_after) = wait {
            return Err(Paced { retry_after });
        }
        Self::forget_aged(&mut admitted, at);
        for key in &keys {
            admitted.entry((key.clone(), LOGIN_LIMIT)).or_default().push_back(at);
        }
        Ok(LoginAttempt { pacing: self, keys, at })
    }

    /// Counts a Flex `SendRequest` made with the token hashing to `token_hash`, or refuses it
    /// beyond IBKR's one a second and ten a minute per token.
    ///
    /// # Errors
    /// [`Paced`] with the wait.
    pub fn admit_flex(&self, token_hash: &str) -> Result<(), Paced> {
        if self.mode == PacingMode::Off {
            return Ok(());
        }
        self.admit_all(&format!("flex token {token_hash}"), FLEX_LIMITS.iter().copied())
    }

    /// How long until `limit` admits another request of `key` at `now`, if it is reached;
    /// forgets what aged out of its period.
    fn wait(admitted: &mut Admitted, key: &str, limit: Limit, now: Instant) -> Option<Duration> {
        let log = admitted.get_mut(&(key.to_owned(), limit))?;
        while log.front().is_some_and(|&at| now.saturating_duration_since(at) >= limit.period) {
            log.pop_front();
        }
        (log.len() >= limit.requests).then(|| {
            let oldest = log.front().copied().unwrap_or(now);
            limit.period.saturating_sub(now.saturating_duration_since(oldest))
        })
    }

    /// Forgets the logs whose requests have all aged out: keys nobody uses again (made-up
    /// tokens, addresses gone) leave nothing behind.
    fn forget_aged(admitted: &mut Admitted, now: Instant) {
        admitted.retain(|(_, limit), log| {
            log.back().is_some_and(|&at| now.saturating_duration_since(at) < limit.period)
        });
    }

    fn admit_all(&self, key: &str, limits: impl Iterator<Item = Limit>) -> Result<(), Paced> {
        let now = (self.clock)();
        let mut admitted = self.admitted.lock().unwrap_or_else(PoisonError::into_inner);
        let mut wait = None;
        let mut counted = Vec::new();
        for limit in limits {
            wait = wait.max(Self::wait(&mut admitted, key, limit, now));
            counted.push(limit);
        }
        if let Some(retry_after) = wait {
            return Err(Paced { retry_after });
        }
        Self::forget_aged(&mut admitted, now);
        for limit in counted {
            admitted.entry((key.to_owned(), limit)).or_default().push_back(now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// A clock that moves only when told, in milliseconds from a fixed start.
    fn manual() -> (Clock, Arc<AtomicU64>) {
        let start = Instant::now();
        let elapsed = Arc::new(AtomicU64::new(0));
        let reading = elapsed.clone();
        let clock: Clock = Arc::new(move || start + Duration::from_millis(reading.load(Ordering::SeqCst)));
        (clock, elapsed)
    }

    #[test]
    fn the_eleventh_snapshot_within_a_second_is_refused_and_admitted_after_it() {
        let (clock, elapsed) = manual();
        let pacing = Pacing::with_clock(PacingMode::Ibkr, clock);
        for i in 0..10 {
            elapsed.store(i * 90, Ordering::SeqCst);
            assert_eq!(pacing.admit("demo", "/iserver/marketdata/snapshot", false), Ok(()), "request {i}");
        }
        elapsed.store(950, Ordering::SeqCst);
        let refused = pacing.admit("demo", "/iserver/marketdata/snapshot", false).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_millis(50), "the first leaves the window at 1000 ms");
        elapsed.store(1000, Ordering::SeqCst);
        assert_eq!(pacing.admit("demo", "/iserver/marketdata/snapshot", false), Ok(()));
    }

    #[test]
    fn a_flex_token_requests_once_a_second_and_ten_times_a_minute() {
        let (clock, elapsed) = manual();
        let pacing = Pacing::with_clock(PacingMode::Ibkr, clock);
        pacing.admit_flex("token").unwrap();
        assert!(pacing.admit_flex("token").is_err());
        pacing.admit_flex("another").unwrap();
        for _ in 0..9 {
            elapsed.fetch_add(1_000, Ordering::SeqCst);
            pacing.admit_flex("token").unwrap();
        }
        elapsed.fetch_add(1_000, Ordering::SeqCst);
        let refused = pacing.admit_flex("token").unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(50), "the first of ten was 10 s ago");
        assert!(Pacing::new(PacingMode::Off).admit_flex("token").is_ok());
    }

    #[test]
    fn users_and_endpoints_are_paced_apart() {
        let (clock, _) = manual();
        let pacing = Pacing::with_clock(PacingMode::Ibkr, clock);
        assert_eq!(pacing.admit("demo", "/sso/validate", false), Ok(()));
        assert!(pacing.admit("demo", "/sso/validate", false).is_err());
        assert_eq!(pacing.admit("demo2", "/sso/validate", false), Ok(()));
        assert_eq!(pacing.admit("demo", "/iserver/accounts", false), Ok(()));
    }

    #[test]
    fn the_gateway_allows_ten_a_second_and_oauth_fifty() {
        let (clock, elapsed) = manual();
        let pacing = Pacing::with_clock(PacingMode::Ibkr, clock);
        for _ in 0..10 {
            assert_eq!(pacing.admit("gw", "/iserver/accounts", true), Ok(()));
        }
        assert!(pacing.admit("gw", "/iserver/accounts", true).is_err());
        for _ in 0..50 {
            assert_eq!(pacing.admit("oauth", "/iserver/accounts", false), Ok(()));
        }
        assert!(pacing.admit("oauth", "/iserver/accounts", false).is_err());
        elapsed.store(1000, Ordering::SeqCst);
        assert_eq!(pacing.admit("oauth", "/iserver/accounts", false), Ok(()));
    }

    #[test]
    fn a_refused_request_does_not_count() {
        let (clock, elapsed) = manual();
        let pacing = Pacing::with_clock(PacingMode::Ibkr, clock);
        assert_eq!(pacing.admit("demo", "/iserver/account/orders", false), Ok(()));
        elapsed.store(4000, Ordering::SeqCst);
        assert!(pacing.admit("demo", "/iserver/account/orders", false).is_err());
        elapsed.store(5000, Ordering::SeqCst);
        assert_eq!(
            pacing.admit("demo", "/iserver/account/orders", false),
            Ok(()),
            "5 s after the one admitted"
        );
    }

    #[test]
    fn a_request_refused_by_one_limit_is_counted_by_none() {
        let (clock, _) = manual();
        let pacing = Pacing::with_clock(PacingMode::Ibkr, clock);
        assert_eq!(pacing.admit("demo", "/tickle", true), Ok(()));
        for _ in 0..20 {
            assert!(pacing.admit("demo", "/tickle", true).is_err());
        }
        for _ in 0..9 {
            assert_eq!(
                pacing.admit("demo", "/iserver/accounts", true),
                Ok(()),
                "the refused tickles took none"
            );
        }
    }

    #[test]
    fn failed_logins_are_limited_per_address_and_per_username_even_without_pacing() {
        let (clock, elapsed) = manual();
        let pacing = Pacing::with_clock(PacingMode::Off, clock);
        for _ in 0..10 {
            drop(pacing.admit_login("10.0.0.1", "demo").unwrap());
        }
        assert!(pacing.admit_login("10.0.0.1", "demo2").is_err(), "the address failed ten times");
        assert!(pacing.admit_login("10.0.0.2", "Demo").is_err(), "so did the username, from anywhere");
        pacing.admit_login("10.0.0.2", "demo2").unwrap().succeeded();
        assert!(pacing.admit("10.0.0.1", "/tickle", false).is_ok(), "API pacing is off");
        elapsed.store(60_000, Ordering::SeqCst);
        pacing.admit_login("10.0.0.1", "demo").unwrap().succeeded();
    }

    #[test]
    fn refused_and_made_up_logins_take_no_room() {
        let (clock, elapsed) = manual();
        let pacing = Pacing::with_clock(PacingMode::Off, clock);
        for _ in 0..10 {
            drop(pacing.admit_login("10.0.0.1", "demo").unwrap());
        }
        let held = pacing.admitted.lock().unwrap().len();
        for n in 0..1_000 {
            assert!(pacing.admit_login("10.0.0.1", &format!("user{n}")).is_err());
        }
        assert_eq!(pacing.admitted.lock().unwrap().len(), held, "refusals are not remembered");
        for n in 0..1_000 {
            drop(pacing.admit_login(&format!("10.0.1.{}", n % 250), &format!("not a name {n}")));
        }
        let names =
            pacing.admitted.lock().unwrap().keys().filter(|(key, _)| key.starts_with("login as")).count();
        assert_eq!(names, 2, "demo, and one count for every name that is none");
        elapsed.store(61_000, Ordering::SeqCst);
        pacing.admit_login("10.0.0.9", "demo").unwrap().succeeded();
        assert!(pacing.admitted.lock().unwrap().len() <= 2, "what aged out is forgotten");
    }

    #[test]
    fn successful_logins_do_not_count() {
        let (clock, _) = manual();
        let pacing = Pacing::with_clock(PacingMode::Off, clock);
        for _ in 0..100 {
            pacing.admit_login("10.0.0.1", "demo").unwrap().succeeded();
        }
        let pending: Vec<_> = (0..10).map(|_| pacing.admit_login("10.0.0.1", "demo").unwrap()).collect();
        assert!(
            pacing.admit_login("10.0.0.1", "demo").is_err(),
            "ten undecided attempts are ten failures so far"
        );
        for attempt in pending {
            attempt.succeeded();
        }
        assert!(pacing.admit_login("10.0.0.1", "demo").is_ok());
    }

    #[test]
    fn off_admits_everything() {
        let pacing = Pacing::new(PacingMode::Off);
        for _ in 0..100 {
            assert_eq!(pacing.admit("demo", "/sso/validate", true), Ok(()));
        }
    }
}
