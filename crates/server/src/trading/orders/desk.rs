//! The order desk's memory of each brokerage session: the questions an order waits on before it
//! is placed, and whether it has read its live orders yet. Like market-data streams, this
//! belongs to the gateway, not to the broker: it is not journaled, and an order whose questions
//! were never confirmed never existed. The questions a session suppressed are the broker's
//! (journaled with the session), since a client that suppresses them once counts on it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use engine::Event;
use engine::orders::Ticket;
use model::{AccountId, OrderId, SessionId};

/// How many unanswered questions the desk keeps; the oldest are forgotten first.
const MAX_PENDING: usize = 1_000;

/// A question a client must confirm: IBKR's message id and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// IBKR's message id, such as `o163`.
    pub id: &'static str,
    /// The text, which clients match answers against.
    pub text: String,
}

/// What waits for the answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRequest {
    /// New orders for an account.
    Place { account: AccountId, tickets: Vec<Ticket>, one_cancels_all: bool },
    /// A change to a working order.
    Modify { account: AccountId, order: OrderId, ticket: Ticket },
}

/// A request and the questions still to answer, the first of them asked.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The session that asked.
    pub session: SessionId,
    /// What to do once every question is confirmed.
    pub request: OrderRequest,
    /// The questions, the one asked first.
    pub questions: Vec<Question>,
    invalidated: bool,
}

/// What a reply id stands for.
#[derive(Debug)]
pub enum Answer {
    /// No such reply id, or it was used.
    Unknown,
    /// Another order request of the session came in between.
    Invalidated,
    /// The request it was asked for.
    Pending(Pending),
}

#[derive(Debug, Default)]
struct Memory {
    pending: HashMap<String, Pending>,
    asked: VecDeque<String>,
    primed: HashSet<SessionId>,
}

/// The order desk.
#[derive(Debug)]
pub struct Desk {
    preflight: bool,
    memory: Mutex<Memory>,
}

impl Desk {
    /// A desk whose sessions first read an empty, unprimed list of live orders (`preflight`),
    /// as IBKR's do, or the list at once.
    pub fn new(preflight: bool) -> Self {
        Self { preflight, memory: Mutex::default() }
    }

    fn memory(&self) -> MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks the first of `questions`, and remembers the request under a new reply id; `None`
    /// when nothing is left to ask. A new request makes the session's earlier unanswered ones
    /// void.
    pub fn ask(
        &self,
        session: &SessionId,
        request: OrderRequest,
        questions: Vec<Question>,
    ) -> Option<(String, Question)> {
        let mut memory = self.memory();
        for pending in memory.pending.values_mut().filter(|pending| &pending.session == session) {
            pending.invalidated = true;
        }
        let first = questions.first()?.clone();
        let id = uuid::Uuid::new_v4().to_string();
        memory
            .pending
            .insert(id.clone(), Pending { session: session.clone(), request, questions, invalidated: false });
        memory.asked.push_back(id.clone());
        while memory.asked.len() > MAX_PENDING {
            if let Some(oldest) = memory.asked.pop_front() {
                memory.pending.remove(&oldest);
            }
        }
        Some((id, first))
    }

    /// Takes the request a reply id was asked for: a reply id is good once.
    pub fn answer(&self, session: &SessionId, reply: &str) -> Answer {
        let mut memory = self.memory();
        match memory.pending.remove(reply) {
            Some(pending) if &pending.session != session => Answer::Unknown,
            Some(pending) if pending.invalidated => Answer::Invalidated,
            Some(pending) => Answer::Pending(pending),
            None => Answer::Unknown,
        }
    }

    /// Whether the session's live orders are primed; the first call of a session primes them
    /// and, with pre-flight, answers an empty list.
    pub fn prime_live_orders(&self, session: &SessionId) -> bool {
        !self.preflight || !self.memory().primed.insert(session.clone())
    }

    /// Forgets the sessions `events` report closed.
    pub fn forget_closed_sessions(&self, events: &[Event]) {
        let mut memory = self.memory();
        for event in events {
            if let Event::SessionClosed { session } = event {
                memory.primed.remove(session);
                memory.pending.retain(|_, pending| &pending.session != session);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use model::{Conid, OrderType, Side, TimeInForce};

    use super::*;

    fn request() -> OrderRequest {
        let ticket = Ticket {
            conid: Conid::new(265_598),
            side: Side::Buy,
            size: engine::orders::Size::Quantity(model::Decimal::ONE),
            order_type: OrderType::Market,
            tif: TimeInForce::Day,
            outside_rth: false,
            client_order_id: None,
            parent_client_order_id: None,
        };
        OrderRequest::Place { account: "DU1".parse().unwrap(), tickets: vec![ticket], one_cancels_all: false }
    }

    fn question(id: &'static str) -> Question {
        Question { id, text: format!("{id}?") }
    }

    #[test]
    fn a_reply_id_is_good_once_and_only_for_its_session() {
        let desk = Desk::new(true);
        let (mine, other) = (SessionId::new("a".into()), SessionId::new("b".into()));
        let (id, asked) = desk.ask(&mine, request(), vec![question("o163"), question("o10151")]).unwrap();
        assert_eq!(asked.id, "o163");
        assert!(matches!(desk.answer(&other, &id), Answer::Unknown));
        let (id, _) = desk.ask(&mine, request(), vec![question("o163")]).unwrap();
        let Answer::Pending(pending) = desk.answer(&mine, &id) else { panic!("pending") };
        assert_eq!(pending.questions.len(), 1);
        assert!(matches!(desk.answer(&mine, &id), Answer::Unknown), "used");
    }

    #[test]
    fn a_new_request_voids_the_sessions_unanswered_ones() {
        let desk = Desk::new(true);
        let session = SessionId::new("a".into());
        let (first, _) = desk.ask(&session, request(), vec![question("o163")]).unwrap();
        desk.ask(&session, request(), vec![question("o163")]).unwrap();
        assert!(matches!(desk.answer(&session, &first), Answer::Invalidated));
    }

    #[test]
    fn live_orders_are_primed_by_the_first_call() {
        let session = SessionId::new("a".into());
        let desk = Desk::new(true);
        assert!(!desk.prime_live_orders(&session));
        assert!(desk.prime_live_orders(&session));
        assert!(Desk::new(false).prime_live_orders(&session));
    }
}
