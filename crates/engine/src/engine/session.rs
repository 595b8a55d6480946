//! Sessions: gateway logins, logouts and the selected account.

use std::collections::BTreeSet;

use jiff::Timestamp;
use model::{AccountId, SessionId, Username};

use crate::state::Session;
use sha2::{Digest as _, Sha256};

use super::Engine;
use crate::{EngineError, Event};

impl Engine {
    pub(super) fn gateway_login(
        &mut self,
        at: Timestamp,
        username: &Username,
    ) -> Result<Vec<Event>, EngineError> {
        self.open_session(at, username, true).map(|(_, events)| events)
    }

    /// Logs `username` in through a strict server's login page, with a session reached by the
    /// cookie whose SHA-256 is `token_hash`.
    pub(super) fn browser_login(
        &mut self,
        at: Timestamp,
        username: &Username,
        token_hash: &str,
    ) -> Result<Vec<Event>, EngineError> {
        self.open_token_session(at, username, token_hash).map(|(_, events)| events)
    }

    /// Opens a session for `username` that is reached with a secret token, by the token's
    /// SHA-256: a login page's cookie, or an SSO session's bearer.
    pub(crate) fn open_token_session(
        &mut self,
        at: Timestamp,
        username: &Username,
        token_hash: &str,
    ) -> Result<(SessionId, Vec<Event>), EngineError> {
        let (session, events) = self.open_session(at, username, false)?;
        self.state.oauth.sso_sessions.insert(token_hash.to_owned(), session.clone());
        Ok((session, events))
    }

    /// Opens a session for `username` at wall time `at`; a gateway session replaces the
    /// previous one and becomes the one unauthenticated requests act for. The session takes
    /// the user's brokerage session if no other open session holds it, as a login at IBKR
    /// does when no other platform is connected. Answers the new session's id and the events.
    fn open_session(
        &mut self,
        at: Timestamp,
        username: &Username,
        gateway: bool,
    ) -> Result<(SessionId, Vec<Event>), EngineError> {
        let user =
            self.state.users.get(username).ok_or_else(|| EngineError::UnknownUser(username.clone()))?;
        let selected_account = user.accounts[0].clone();
        let mut events = Vec::new();
        if gateway && let Some(previous) = self.state.gateway_session.clone() {
            events.extend(self.logout(&previous)?);
        }
        let id = self.next_session_id();
        let market_opened_at = self.state.clock.market_time(at);
        let session = Session {
            id: id.clone(),
            user: username.clone(),
            opened_at: at,
            market_opened_at,
            selected_account,
            suppressed_questions: BTreeSet::new(),
        };
        self.state.sessions.insert(id.clone(), session);
        if gateway {
            self.state.gateway_session = Some(id.clone());
        }
        if self.state.brokerage_holder(username, at).is_none() {
            self.state.brokerage.insert(username.clone(), id.clone());
        }
        events.push(Event::SessionOpened { session: id.clone(), user: username.clone() });
        Ok((id, events))
    }

    /// Gives `id` its user's brokerage session. Held by another open session, it is taken
    /// only with `compete`, and that session is told (`BrokerageTaken.from`).
    pub(super) fn init_brokerage(
        &mut self,
        at: Timestamp,
        id: &SessionId,
        compete: bool,
    ) -> Result<Vec<Event>, EngineError> {
        let session = self
            .state
            .sessions
            .get(id)
            .filter(|session| session.is_active(at))
            .ok_or_else(|| EngineError::UnknownSession(id.clone()))?;
        let user = session.user.clone();
        let holder = self.state.brokerage_holder(&user, at).map(|holder| holder.id.clone());
        match holder {
            Some(holder) if holder == *id => Ok(Vec::new()),
            Some(_) if !compete => Err(EngineError::BrokerageHeld(user)),
            from => {
                self.state.brokerage.insert(user, id.clone());
                Ok(vec![Event::BrokerageTaken { session: id.clone(), from }])
            }
        }
    }

    pub(crate) fn logout(&mut self, id: &SessionId) -> Result<Vec<Event>, EngineError> {
        self.state.sessions.remove(id).ok_or_else(|| EngineError::UnknownSession(id.clone()))?;
        if self.state.gateway_session.as_ref() == Some(id) {
            self.state.gateway_session = None;
        }
        self.state.brokerage.retain(|_, holder| holder != id);
        self.state.oauth.session_clients.remove(id);
        Ok(vec![Event::SessionClosed { session: id.clone() }])
    }

    pub(super) fn select_account(
        &mut self,
        id: &SessionId,
        account: &AccountId,
    ) -> Result<Vec<Event>, EngineError> {
        let unknown = || EngineError::UnknownSession(id.clone());
        let user = self.state.sessions.get(id).ok_or_else(unknown)?.user.clone();
        if !self.state.is_entitled(&user, account) {
            return Err(EngineError::NotEntitled { user, account: account.clone() });
        }
        self.state.sessions.get_mut(id).ok_or_else(unknown)?.selected_account = account.clone();
        Ok(vec![Event::AccountSelected { session: id.clone(), account: account.clone() }])
    }

    /// Stops asking the session the questions `ids` names, for the rest of its life.
    pub(super) fn suppress_questions(
        &mut self,
        id: &SessionId,
        ids: &BTreeSet<String>,
    ) -> Result<Vec<Event>, EngineError> {
        let session =
            self.state.sessions.get_mut(id).ok_or_else(|| EngineError::UnknownSession(id.clone()))?;
        if let Some(invalid) = ids.iter().find(|id| !is_message_id(id)) {
            let id = invalid.chars().take(MAX_MESSAGE_ID).collect();
            return Err(QuestionRefusal::NotAMessageId { id }.into());
        }
        let mut suppressed = session.suppressed_questions.clone();
        suppressed.extend(ids.iter().cloned());
        if suppressed.len() > MAX_SUPPRESSED {
            return Err(QuestionRefusal::TooMany { count: suppressed.len() }.into());
        }
        session.suppressed_questions = suppressed;
        Ok(Vec::new())
    }

    /// Asks the session every question again.
    pub(super) fn reset_suppressed_questions(&mut self, id: &SessionId) -> Result<Vec<Event>, EngineError> {
        let session =
            self.state.sessions.get_mut(id).ok_or_else(|| EngineError::UnknownSession(id.clone()))?;
        session.suppressed_questions.clear();
        Ok(Vec::new())
    }

    /// Session ids look like IBKR's (32 hex digits) and are derived from the seed and a counter,
    /// so a replay reproduces them.
    fn next_session_id(&mut self) -> SessionId {
        self.state.sessions_opened += 1;
        let mut hasher = Sha256::new();
        hasher.update(b"localbroker/session");
        hasher.update(self.state.seed.to_be_bytes());
        hasher.update(self.state.sessions_opened.to_be_bytes());
        let hash = hex::encode(hasher.finalize());
        SessionId::new(hash[..32].to_owned())
    }
}

/// The longest message id: IBKR's are a letter and a few digits (`o163`, `o10151`).
const MAX_MESSAGE_ID: usize = 16;

/// How many questions one session may suppress: IBKR asks a few dozen kinds.
const MAX_SUPPRESSED: usize = 64;

/// Order questions a session cannot suppress: what it keeps is bounded, as it lives in the
/// state for the session's life.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuestionRefusal {
    /// Only ids shaped like IBKR's message ids are kept. `id` is the refused one's start, so
    /// that the refusal does not repeat an arbitrarily long text.
    #[error("{id:?} is not a message id: a letter and digits, such as o163")]
    NotAMessageId { id: String },
    /// IBKR asks a few dozen kinds of questions; `count` is how many the session would
    /// suppress.
    #[error("a session suppresses at most {MAX_SUPPRESSED} questions")]
    TooMany { count: usize },
}

/// Whether `id` looks like IBKR's message ids: a letter, then digits.
fn is_message_id(id: &str) -> bool {
    match id.as_bytes() {
        [letter, digits @ ..] => {
            id.len() <= MAX_MESSAGE_ID
                && letter.is_ascii_alphabetic()
                && !digits.is_empty()
                && digits.iter().all(u8::is_ascii_digit)
        }
        [] => false,
    }
}

#[cfg(test)]
mod tests {
    use super::QuestionRefusal;

    /// The texts a refused suppression answers with, written out in full.
    #[test]
    fn refusals_keep_their_words() {
        let not_an_id = QuestionRefusal::NotAMessageId { id: "o16\"3".into() };
        assert_eq!(
            not_an_id.to_string(),
            r#""o16\"3" is not a message id: a letter and digits, such as o163"#
        );
        assert_eq!(
            QuestionRefusal::TooMany { count: 65 }.to_string(),
            "a session suppresses at most 64 questions"
        );
    }
}
