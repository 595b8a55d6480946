//! Sessions: logging in and out, the one brokerage session a user holds, what a session may
//! suppress or select, and how long it lasts.

use model::SessionId;

use super::{at, created, login};
use crate::{Command, Engine, EngineError, Event};

#[test]
fn login_selects_the_first_entitled_account() {
    let mut engine = created();
    let id = login(&mut engine, "demo");
    let session = engine.state().gateway_session().unwrap();
    assert_eq!(session.id, id);
    assert_eq!(session.selected_account.as_str(), "DU1234567");
    assert_eq!(id.as_str().len(), 32);
}

#[test]
fn a_new_gateway_login_replaces_the_previous_session() {
    let mut engine = created();
    let first = login(&mut engine, "demo");
    let second = login(&mut engine, "demo2");
    assert_ne!(first, second);
    assert!(engine.state().session(&first).is_none());
    assert_eq!(engine.state().gateway_session().unwrap().user.as_str(), "demo2");
}

#[test]
fn a_session_suppresses_a_bounded_number_of_well_formed_question_ids() {
    let mut engine = created();
    let session = login(&mut engine, "demo");
    let suppress = |ids: Vec<String>| Command::SuppressQuestions {
        session: session.clone(),
        ids: ids.into_iter().collect(),
    };
    let long = format!("o{}", "1".repeat(40));
    assert_eq!(
        engine.apply(at(2), &suppress(vec![long])),
        Err(EngineError::QuestionsRefused(crate::QuestionRefusal::NotAMessageId {
            id: "o111111111111111".into()
        })),
        "only the start of the refused id is repeated"
    );
    let many = (0..65).map(|n| format!("o{n}")).collect();
    assert_eq!(
        engine.apply(at(2), &suppress(many)),
        Err(EngineError::QuestionsRefused(crate::QuestionRefusal::TooMany { count: 65 }))
    );
    assert!(engine.state().gateway_session().unwrap().suppressed_questions.is_empty());
}

#[test]
fn logout_ends_the_gateway_session() {
    let mut engine = created();
    let id = login(&mut engine, "demo");
    engine.apply(at(2), &Command::Logout { session: id.clone() }).unwrap();
    assert!(engine.state().gateway_session().is_none());
    assert_eq!(
        engine.apply(at(3), &Command::Logout { session: id.clone() }),
        Err(EngineError::UnknownSession(id))
    );
}

fn browser_login(engine: &mut Engine, name: &str, second: i64) -> SessionId {
    let command =
        Command::BrowserLogin { user: name.parse().unwrap(), token_hash: format!("cookie-{second}") };
    let events = engine.apply(at(second), &command).unwrap();
    match events.as_slice() {
        [Event::SessionOpened { session, .. }] => session.clone(),
        other => panic!("unexpected events {other:?}"),
    }
}

fn holds(engine: &Engine, id: &SessionId, second: i64) -> bool {
    let session = engine.state().session(id).unwrap();
    engine.state().holds_brokerage(session, at(second))
}

#[test]
fn a_browser_login_leaves_the_gateway_session_alone() {
    let mut engine = created();
    let gateway = login(&mut engine, "demo2");
    let browser = browser_login(&mut engine, "demo", 2);
    assert_eq!(engine.state().gateway_session().unwrap().id, gateway);
    assert_eq!(engine.state().oauth().sso_sessions.get("cookie-2"), Some(&browser));
    assert!(holds(&engine, &browser, 3), "nobody else held demo's brokerage session");
}

#[test]
fn one_brokerage_session_per_user_taken_only_by_competing() {
    let mut engine = created();
    let first = login(&mut engine, "demo");
    let second = browser_login(&mut engine, "demo", 2);
    assert!(holds(&engine, &first, 3) && !holds(&engine, &second, 3), "the first login keeps it");

    let polite = Command::InitBrokerage { session: second.clone(), compete: false };
    assert_eq!(engine.apply(at(4), &polite), Err(EngineError::BrokerageHeld("demo".parse().unwrap())));
    assert!(holds(&engine, &first, 4));

    let taking = Command::InitBrokerage { session: second.clone(), compete: true };
    let events = engine.apply(at(5), &taking).unwrap();
    assert_eq!(events, vec![Event::BrokerageTaken { session: second.clone(), from: Some(first.clone()) }]);
    assert!(holds(&engine, &second, 5) && !holds(&engine, &first, 5));
    assert_eq!(engine.apply(at(6), &taking).unwrap(), Vec::new(), "holding it already changes nothing");

    engine.apply(at(7), &Command::Logout { session: second }).unwrap();
    let back = Command::InitBrokerage { session: first.clone(), compete: false };
    let events = engine.apply(at(8), &back).unwrap();
    assert_eq!(events, vec![Event::BrokerageTaken { session: first.clone(), from: None }]);
    assert!(holds(&engine, &first, 8), "a released brokerage session is free to take");
}

#[test]
fn an_expired_session_cannot_take_the_brokerage_session() {
    let mut engine = created();
    let first = login(&mut engine, "demo");
    let second = browser_login(&mut engine, "demo", 2);
    let day_later = at(2 + 24 * 3600);
    let late = Command::InitBrokerage { session: second.clone(), compete: true };
    assert_eq!(engine.apply(day_later, &late), Err(EngineError::UnknownSession(second)));
    assert_eq!(engine.state().brokerage.get(&"demo".parse().unwrap()), Some(&first));
}

#[test]
fn revoking_a_client_ends_the_sessions_it_opened() {
    let mut engine = created();
    let open = Command::OpenClientSession {
        client_id: "IB".into(),
        username: "demo2".parse().unwrap(),
        bearer_hash: "b".into(),
    };
    let session = match engine.apply(at(2), &open).unwrap().as_slice() {
        [Event::SessionOpened { session, .. }] => session.clone(),
        other => panic!("unexpected events {other:?}"),
    };
    let gateway = login(&mut engine, "demo");
    let events = engine.apply(at(3), &Command::RevokeClient { client_id: "IB".into() }).unwrap();
    assert!(events.contains(&Event::SessionClosed { session: session.clone() }), "{events:?}");
    assert!(engine.state().session(&session).is_none());
    assert!(engine.state().session(&gateway).is_some(), "sessions of others stay open");
}

#[test]
fn users_do_not_compete_with_each_other() {
    let mut engine = created();
    let demo = login(&mut engine, "demo");
    let demo2 = browser_login(&mut engine, "demo2", 2);
    assert!(holds(&engine, &demo, 3) && holds(&engine, &demo2, 3));
}

#[test]
fn only_entitled_accounts_can_be_selected() {
    let mut engine = created();
    let id = login(&mut engine, "demo");
    let before = engine.digest();
    let refused = engine
        .apply(at(2), &Command::SelectAccount { session: id.clone(), account: "DU7654321".parse().unwrap() });
    assert!(matches!(refused, Err(EngineError::NotEntitled { .. })));
    assert_eq!(engine.digest(), before, "a refused command changes nothing");
    engine
        .apply(at(3), &Command::SelectAccount { session: id, account: "DU1111111".parse().unwrap() })
        .unwrap();
    assert_eq!(engine.state().gateway_session().unwrap().selected_account.as_str(), "DU1111111");
}

#[test]
fn a_session_lasts_a_day() {
    let mut engine = created();
    login(&mut engine, "demo");
    let session = engine.state().gateway_session().unwrap();
    let opened = session.opened_at;
    let hours = |h: i64| opened.checked_add(jiff::SignedDuration::from_hours(h)).unwrap();
    assert!(session.is_active(hours(23)));
    assert!(!session.is_active(hours(24)));
}
