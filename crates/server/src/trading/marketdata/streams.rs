//! The market-data streams each session has open, as IBKR's gateway keeps them: the first
//! snapshot of a conid only opens its stream and answers a skeleton (the "pre-flight"); later
//! snapshots answer values, for every field ever asked of that stream. Streams belong to the
//! connection between client and gateway, not to the broker's state: they are not journaled
//! and a restart closes them, as a gateway restart does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use engine::Event;
use model::{Conid, SessionId};

/// Every session's open streams and the fields asked of each.
#[derive(Debug)]
pub struct Streams {
    preflight: bool,
    open: Mutex<HashMap<SessionId, BTreeMap<Conid, BTreeSet<String>>>>,
}

impl Streams {
    /// Streams that answer the first snapshot with a skeleton (`preflight`), or at once.
    pub fn new(preflight: bool) -> Self {
        Self { preflight, open: Mutex::new(HashMap::new()) }
    }

    /// Notes a snapshot of `conid` asking for `fields`; answers the fields to deliver, or `None`
    /// when this call only opened the stream.
    pub fn request(&self, session: &SessionId, conid: Conid, fields: &[String]) -> Option<BTreeSet<String>> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let streams = open.entry(session.clone()).or_default();
        let opened_now = !streams.contains_key(&conid);
        let asked = streams.entry(conid).or_default();
        asked.extend(fields.iter().cloned());
        (!(opened_now && self.preflight)).then(|| asked.clone())
    }

    /// Whether the session has a stream of `conid` open: whether it has market data for it.
    pub fn is_open(&self, session: &SessionId, conid: Conid) -> bool {
        let open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.get(session).is_some_and(|streams| streams.contains_key(&conid))
    }

    /// Closes one stream; false when it was not open.
    pub fn close(&self, session: &SessionId, conid: Conid) -> bool {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.get_mut(session).is_some_and(|streams| streams.remove(&conid).is_some())
    }

    /// Closes every stream of the session.
    pub fn close_all(&self, session: &SessionId) {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.remove(session);
    }

    /// Closes the streams of every session `events` report closed: a logout, or a new login
    /// that replaced the session.
    pub fn forget_closed_sessions(&self, events: &[Event]) {
        for event in events {
            if let Event::SessionClosed { session } = event {
                self.close_all(session);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_request_opens_the_stream_and_later_ones_answer_every_field_asked() {
        let streams = Streams::new(true);
        let session = SessionId::new("s".into());
        let aapl = Conid::new(265_598);
        assert_eq!(streams.request(&session, aapl, &["31".into()]), None);
        let answered = streams.request(&session, aapl, &["84".into()]).unwrap();
        assert_eq!(answered.into_iter().collect::<Vec<_>>(), ["31", "84"]);
        assert!(streams.close(&session, aapl));
        assert!(!streams.close(&session, aapl));
        assert!(Streams::new(false).request(&session, aapl, &["31".into()]).is_some(), "no pre-flight");
    }

    #[test]
    fn a_closed_session_leaves_no_streams_behind() {
        let streams = Streams::new(true);
        let (replaced, other) = (SessionId::new("old".into()), SessionId::new("other".into()));
        let aapl = Conid::new(265_598);
        streams.request(&replaced, aapl, &["31".into()]);
        streams.request(&other, aapl, &["31".into()]);
        let login = [
            Event::SessionClosed { session: replaced.clone() },
            Event::SessionOpened { session: SessionId::new("new".into()), user: "demo".parse().unwrap() },
        ];
        streams.forget_closed_sessions(&login);
        assert!(!streams.close(&replaced, aapl), "the replaced session's streams are gone");
        assert!(streams.close(&other, aapl), "another session's stay open");
    }
}
