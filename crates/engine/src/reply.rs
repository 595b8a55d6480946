//! What a command answers the one who sent it: the session it opened, the orders it placed and
//! the status each was left in, the request, set or reference it filed. Typed here, once, so
//! that no caller searches the events for its own result.

use jiff::Timestamp;
use model::{OrderId, OrderStatus, SessionId};

use crate::clock::ClockMode;
use crate::{Command, Engine, Event};

/// A command's answer to its caller, beside the events it caused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Its events are all it did.
    Done,
    /// A login, or a client acting for a user, opened this session.
    SessionOpened(SessionId),
    /// Orders placed or modified, in the order of the command, each with the status the command
    /// left it in.
    Orders(Vec<(OrderId, OrderStatus)>),
    /// The clock after the change: its mode and market time.
    Clock {
        /// How it moves from now on.
        mode: ClockMode,
        /// Market time.
        now: Timestamp,
    },
    /// An Account Management request was submitted under this id.
    RequestSubmitted(u64),
    /// A set of banking instructions was filed under this id.
    InstructionsFiled(u64),
    /// A Flex statement was requested under this reference code.
    FlexRequested(String),
}

/// A command carried out: its events, for subscribers, and its reply, for its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executed {
    /// Everything the command changed, in order.
    pub events: Vec<Event>,
    /// What it answers its caller.
    pub reply: Reply,
}

impl Engine {
    /// The reply of `command`, which has just been applied with `events`.
    pub(crate) fn reply(&self, command: &Command, events: &[Event]) -> Reply {
        let found = |pick: fn(&Event) -> Option<Reply>| events.iter().find_map(pick).unwrap_or(Reply::Done);
        match command {
            Command::Signed { command: Some(signed), .. } => self.reply(signed, events),
            Command::GatewayLogin { .. }
            | Command::BrowserLogin { .. }
            | Command::OpenClientSession { .. }
            | Command::OpenSsoSession { .. } => found(|event| match event {
                Event::SessionOpened { session, .. } => Some(Reply::SessionOpened(session.clone())),
                _ => None,
            }),
            Command::PlaceOrders { .. } => {
                let placed = events.iter().filter_map(|event| match event {
                    Event::OrderPlaced { order } => Some(*order),
                    _ => None,
                });
                Reply::Orders(placed.filter_map(|id| self.status(id)).collect())
            }
            Command::ModifyOrder { order, .. } => Reply::Orders(self.status(*order).into_iter().collect()),
            Command::SetClockMode { .. } | Command::AdvanceClock { .. } | Command::SetClock { .. } => {
                found(|event| match event {
                    Event::ClockChanged { mode, now } => Some(Reply::Clock { mode: *mode, now: *now }),
                    _ => None,
                })
            }
            Command::SubmitApplication { .. } | Command::ChangeAccount { .. } => found(|event| match event {
                Event::RequestSubmitted { request, .. } => Some(Reply::RequestSubmitted(*request)),
                _ => None,
            }),
            Command::FileInstructions { .. } => found(|event| match event {
                Event::InstructionsFiled { set } => Some(Reply::InstructionsFiled(*set)),
                _ => None,
            }),
            Command::RequestFlexStatement { .. } => found(|event| match event {
                Event::FlexRequested { reference } => Some(Reply::FlexRequested(reference.clone())),
                _ => None,
            }),
            _ => Reply::Done,
        }
    }

    /// Order `id` with the status it is in now.
    fn status(&self, id: OrderId) -> Option<(OrderId, OrderStatus)> {
        self.state().order(id).map(|order| (id, order.status))
    }
}

#[cfg(test)]
mod tests {
    use model::{OrderStatus, OrderType, Side};

    use super::*;
    use crate::testing::{Broker, d, ticket};

    #[test]
    fn a_placement_answers_each_order_with_the_status_it_was_left_in() {
        let mut broker = Broker::at("2026-03-03T11:00");
        let resting = ticket(Side::Buy, 1, OrderType::Limit { limit: d("1.00") });
        let filled = ticket(Side::Buy, 1, OrderType::Market);
        let command = Command::PlaceOrders {
            session: broker.session.clone(),
            account: "DU1234567".parse().unwrap(),
            tickets: vec![resting, filled],
            one_cancels_all: false,
        };
        let executed = broker.engine.execute(broker.wall, &command).unwrap();
        let Reply::Orders(orders) = executed.reply else { panic!("{:?}", executed.reply) };
        let statuses: Vec<OrderStatus> = orders.iter().map(|(_, status)| *status).collect();
        assert_eq!(statuses, [OrderStatus::Submitted, OrderStatus::Filled]);
        for (id, status) in orders {
            assert_eq!(broker.engine.state().order(id).map(|order| order.status), Some(status));
        }
    }

    #[test]
    fn a_login_answers_the_session_it_opened_and_a_selection_answers_nothing_more() {
        let mut broker = Broker::at("2026-03-03T11:00");
        let login = Command::GatewayLogin { user: "demo".parse().unwrap() };
        let executed = broker.engine.execute(broker.wall, &login).unwrap();
        let session = broker.engine.state().gateway_session().map(|session| session.id.clone());
        assert_eq!(Some(executed.reply), session.map(Reply::SessionOpened));
        let select = Command::SelectAccount {
            session: broker.engine.state().gateway_session().unwrap().id.clone(),
            account: "DU7654321".parse().unwrap(),
        };
        assert_eq!(broker.engine.execute(broker.wall, &select).unwrap().reply, Reply::Done);
    }
}
