//! Sessions: gateway logins, logouts and the selected account.

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
        self.open_session(at, username, true)
    }

    /// Opens a session for `username` at wall time `at`; a gateway session replaces the
    /// previous one and becomes the one unauthenticated requests act for.
    pub(crate) fn open_session(
        &mut self,
        at: Timestamp,
        username: &Username,
        gateway: bool,
    ) -> Result<Vec<Event>, EngineError> {
        let user =
            self.state.users.get(username).ok_or_else(|| EngineError::UnknownUser(username.clone()))?;
        let selected_account = user.accounts[0].clone();
        let mut events = Vec::new();
        if gateway && let Some(previous) = self.state.gateway_session.take() {
            self.state.sessions.remove(&previous);
            events.push(Event::SessionClosed { session: previous });
        }
        let id = self.next_session_id();
        let market_opened_at = self.state.clock.market_time(at);
        let session = Session {
            id: id.clone(),
            user: username.clone(),
            opened_at: at,
            market_opened_at,
            selected_account,
        };
        self.state.sessions.insert(id.clone(), session);
        if gateway {
            self.state.gateway_session = Some(id.clone());
        }
        events.push(Event::SessionOpened { session: id, user: username.clone() });
        Ok(events)
    }

    pub(super) fn logout(&mut self, id: &SessionId) -> Result<Vec<Event>, EngineError> {
        self.state.sessions.remove(id).ok_or_else(|| EngineError::UnknownSession(id.clone()))?;
        if self.state.gateway_session.as_ref() == Some(id) {
            self.state.gateway_session = None;
        }
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
