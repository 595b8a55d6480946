use std::collections::BTreeSet;

use jiff::SignedDuration;
use model::{AccountId, AccountKind, Currency, MarginKind};

use super::{
    AccountChange, ApplicationSpec, Holder, Lifecycle, Objection, Particulars, RequestRefusal, RequestStatus,
};
use crate::oauth::{ACCOUNT_MANAGEMENT_SCOPES, ClientKey, KeyAlgorithm};
use crate::testing::{Broker, d, ticket};
use crate::{Command, EngineError, Event};

/// A broker whose client `IB` is approved and manages the demo accounts.
pub(crate) fn with_client() -> Broker {
    let mut broker = Broker::at("2026-03-02 10:00");
    let key = ClientKey { kid: "main".into(), algorithm: KeyAlgorithm::Rs256, public_key_pem: String::new() };
    let scopes: BTreeSet<String> =
        ACCOUNT_MANAGEMENT_SCOPES.iter().map(|scope| (*scope).to_owned()).collect();
    broker.apply(Command::RegisterClient { client_id: "IB".into(), key, scopes }).unwrap();
    broker.apply(Command::ApproveClient { client_id: "IB".into() }).unwrap();
    for account in ["DU1234567", "DU7654321"] {
        broker.engine.manage("IB", &account.parse().unwrap());
    }
    broker
}

pub(crate) fn application(username: &str, born: &str) -> ApplicationSpec {
    ApplicationSpec {
        external_id: Some("cust-1".into()),
        kind: AccountKind::Individual,
        holders: vec![Holder {
            name: "Ada Lovelace".into(),
            date_of_birth: Some(born.parse().unwrap()),
            particulars: Particulars::default(),
        }],
        username: username.parse().unwrap(),
        margin: MarginKind::Cash,
        base_currency: Currency::USD,
        master_account: None,
        paper: false,
        alias: None,
        email: None,
        finances: None,
    }
}

/// Submits `spec` as `IB`; answers the request id and the account it will open.
pub(crate) fn submit(broker: &mut Broker, spec: ApplicationSpec) -> (u64, AccountId) {
    let events =
        broker.apply(Command::SubmitApplication { client_id: "IB".into(), application: spec }).unwrap();
    events
        .into_iter()
        .find_map(|event| match event {
            Event::RequestSubmitted { request, account } => Some((request, account)),
            _ => None,
        })
        .unwrap()
}

fn status(broker: &Broker, request: u64) -> RequestStatus {
    broker.engine.state().requests().requests[&request].status.clone()
}

#[test]
fn an_application_is_pending_for_the_review_then_opens_a_tradable_account() {
    let mut broker = with_client();
    let (request, account) = submit(&mut broker, application("ada", "1990-12-10"));
    assert!(account.to_string().starts_with('U') && account.to_string().len() == 8, "{account}");
    assert!(matches!(broker.engine.state().lifecycle(&account), Some(Lifecycle::Pending { .. })));
    assert!(broker.engine.state().account(&account).is_none());

    broker.advance(SignedDuration::from_mins(59));
    assert_eq!(status(&broker, request), RequestStatus::Pending);
    broker.advance(SignedDuration::from_mins(1));
    assert_eq!(status(&broker, request), RequestStatus::Processed);
    let state = broker.engine.state();
    assert!(matches!(state.lifecycle(&account), Some(Lifecycle::Open { .. })));
    assert_eq!(state.account(&account).unwrap().title, "Ada Lovelace");
    assert!(state.is_entitled(&"ada".parse().unwrap(), &account));
    assert!(state.oauth().clients["IB"].accounts.contains(&account));
}

#[test]
fn account_ids_come_from_the_seed_and_replay_alike() {
    let mut first = with_client();
    let mut second = with_client();
    let a = submit(&mut first, application("ada", "1990-12-10"));
    let b = submit(&mut second, application("ada", "1990-12-10"));
    assert_eq!(a, b);
    let mut paper = application("bob", "1980-01-01");
    paper.paper = true;
    let (_, account) = submit(&mut first, paper);
    assert!(account.to_string().starts_with("DU"));
    assert_ne!(account, a.1);
}

#[test]
fn invalid_data_is_rejected_at_the_review() {
    let mut broker = with_client();
    let (minor, minor_account) = submit(&mut broker, application("kid", "2015-01-01"));
    let (taken, _) = submit(&mut broker, application("demo2", "1970-01-01"));
    let mut joint = application("pair", "1970-01-01");
    joint.kind = AccountKind::Joint;
    let (single, _) = submit(&mut broker, joint);
    broker.advance(SignedDuration::from_hours(1));
    let reason = |request| match status(&broker, request) {
        RequestStatus::Rejected { reason } => reason,
        other => panic!("{other:?}"),
    };
    let minor_objection =
        Objection::UnderAge { holder: "Ada Lovelace".into(), born: "2015-01-01".parse().unwrap() };
    assert_eq!(reason(minor), minor_objection.to_string());
    assert_eq!(reason(minor), "Ada Lovelace is younger than 18", "the words the client reads");
    // demo2's account is managed by IB, so demo2 is served: only an unserved name is taken.
    assert_eq!(status(&broker, taken), RequestStatus::Processed);
    assert_eq!(reason(single), Objection::JointWithOneHolder { holders: 1 }.to_string());
    assert!(matches!(broker.engine.state().lifecycle(&minor_account), Some(Lifecycle::Rejected { .. })));
    assert!(broker.engine.state().account(&minor_account).is_none());
}

#[test]
fn a_user_name_of_someone_the_client_does_not_serve_is_taken() {
    let mut broker = with_client();
    broker.engine.state.oauth.clients.get_mut("IB").unwrap().accounts.clear();
    let (request, _) = submit(&mut broker, application("demo", "1970-01-01"));
    broker.advance(SignedDuration::from_hours(1));
    let taken = Objection::UsernameTaken { username: "demo".parse().unwrap() };
    assert_eq!(status(&broker, request), RequestStatus::Rejected { reason: taken.to_string() });
}

#[test]
fn an_advisor_client_account_is_entitled_to_the_advisor() {
    let mut broker = with_client();
    let mut spec = application("client1", "1970-01-01");
    spec.master_account = Some("DU1234567".parse().unwrap());
    let (_, account) = submit(&mut broker, spec);
    broker.advance(SignedDuration::from_hours(1));
    let state = broker.engine.state();
    assert!(state.is_entitled(&"demo".parse().unwrap(), &account));
    assert_eq!(state.account(&account).unwrap().master, Some("DU1234567".parse().unwrap()));

    let mut foreign = application("client2", "1970-01-01");
    foreign.master_account = Some("DU9999999".parse().unwrap());
    let refused = broker.apply(Command::SubmitApplication { client_id: "IB".into(), application: foreign });
    assert_eq!(
        refused,
        Err(EngineError::RequestRefused(RequestRefusal::MasterNotManaged {
            master: "DU9999999".parse().unwrap()
        }))
    );
}

#[test]
fn an_unapproved_client_cannot_apply() {
    let mut broker = with_client();
    broker.apply(Command::RevokeClient { client_id: "IB".into() }).unwrap();
    let refused = broker.apply(Command::SubmitApplication {
        client_id: "IB".into(),
        application: application("ada", "1990-01-01"),
    });
    assert_eq!(
        refused,
        Err(EngineError::RequestRefused(RequestRefusal::ClientNotApproved { client_id: "IB".into() }))
    );
}

#[test]
fn an_account_closes_only_without_positions_and_then_neither_trades_nor_funds() {
    let mut broker = with_client();
    let id: AccountId = "DU1234567".parse().unwrap();
    broker.place("DU1234567", vec![ticket(model::Side::Buy, 10, model::OrderType::Market)]).unwrap();
    broker.advance(SignedDuration::from_secs(5));
    assert!(broker.position("DU1234567") > d("0"));
    let close =
        Command::ChangeAccount { client_id: "IB".into(), account: id.clone(), change: AccountChange::Close };
    let digest = broker.engine.digest();
    let refused = broker.apply(close.clone());
    assert!(
        refused == Err(EngineError::RequestRefused(RequestRefusal::HoldsPositions { account: id.clone() })),
        "{refused:?}"
    );
    assert_eq!(broker.engine.digest(), digest);

    let cash: AccountId = "DU7654321".parse().unwrap();
    broker
        .apply(Command::Withdraw { account: cash.clone(), currency: Currency::USD, amount: d("100000") })
        .unwrap();
    let close = Command::ChangeAccount {
        client_id: "IB".into(),
        account: cash.clone(),
        change: AccountChange::Close,
    };
    broker.apply(close).unwrap();
    assert!(matches!(broker.engine.state().lifecycle(&cash), Some(Lifecycle::Closed { .. })));
    let order = broker.place("DU7654321", vec![ticket(model::Side::Buy, 1, model::OrderType::Market)]);
    assert_eq!(
        order,
        Err(EngineError::OrderRejected(crate::orders::OrderRejection::AccountClosed {
            account: cash.clone()
        }))
    );
    let deposit =
        broker.apply(Command::Deposit { account: cash.clone(), currency: Currency::USD, amount: d("10") });
    assert_eq!(
        deposit,
        Err(EngineError::TransferRefused(crate::funding::TransferRefusal::AccountUnavailable {
            account: cash
        }))
    );
}

#[test]
fn alias_and_base_currency_change_at_once() {
    let mut broker = with_client();
    let id: AccountId = "DU7654321".parse().unwrap();
    let change = |change| Command::ChangeAccount { client_id: "IB".into(), account: id.clone(), change };
    broker.apply(change(AccountChange::Alias { alias: "Savings".into() })).unwrap();
    broker.apply(change(AccountChange::BaseCurrency { currency: Currency::EUR })).unwrap();
    let account = broker.engine.state().account(&id).unwrap();
    assert_eq!(account.alias.as_deref(), Some("Savings"));
    assert_eq!(account.base_currency, Currency::EUR);
    let long = broker.apply(change(AccountChange::Alias { alias: "x".repeat(65) }));
    assert_eq!(long, Err(EngineError::RequestRefused(RequestRefusal::AliasTooLong { length: 65 })));
}

/// A broker with the application client `IB` (managing `DU1234567` and `DU7654321`), client
/// `OTHER` (managing nothing), and `ada` onboarded by `IB`.
fn with_ada_and_another_client() -> Broker {
    let mut broker = with_client();
    let key = ClientKey { kid: "main".into(), algorithm: KeyAlgorithm::Rs256, public_key_pem: String::new() };
    broker
        .apply(Command::RegisterClient { client_id: "OTHER".into(), key, scopes: BTreeSet::new() })
        .unwrap();
    submit(&mut broker, application("ada", "1990-12-10"));
    broker.advance(SignedDuration::from_hours(1));
    broker
}

#[test]
fn a_client_opens_sessions_only_for_users_it_onboarded_or_whose_accounts_it_manages() {
    let mut broker = with_ada_and_another_client();
    let session = |client: &str, user: &str, hash: &str| Command::OpenClientSession {
        client_id: client.into(),
        username: user.parse().unwrap(),
        bearer_hash: hash.into(),
    };
    broker.apply(session("IB", "ada", "b1")).expect("its own customer");
    broker.apply(session("IB", "demo", "b2")).expect("both of demo's accounts are IB's to manage");
    let key = ClientKey { kid: "main".into(), algorithm: KeyAlgorithm::Rs256, public_key_pem: String::new() };
    broker.apply(Command::RegisterClient { client_id: "HALF".into(), key, scopes: BTreeSet::new() }).unwrap();
    broker.engine.manage("HALF", &"DU1234567".parse().unwrap());
    for (client, user) in
        [("OTHER", "ada"), ("OTHER", "demo"), ("HALF", "demo"), ("HALF", "ada"), ("IB", "nobody")]
    {
        let refused = broker.apply(session(client, user, "b3"));
        assert!(
            matches!(&refused, Err(EngineError::ClientMayNotActFor { client_id, .. }) if client_id == client),
            "{client} for {user}: {refused:?}"
        );
    }
    assert_eq!(
        broker.apply(session("HALF", "demo", "b4")).unwrap_err().to_string(),
        "client \"HALF\" may not open sessions for user demo",
        "demo also has DU7654321, which HALF does not manage"
    );
}

#[test]
fn a_session_journaled_before_clients_were_checked_replays_as_it_was_applied() {
    let mut broker = with_ada_and_another_client();
    let legacy = |client: &str, user: &str, hash: &str| Command::OpenSsoSession {
        client_id: client.into(),
        username: user.parse().unwrap(),
        bearer_hash: hash.into(),
    };
    assert!(matches!(broker.apply(legacy("OTHER", "ada", "b1")), Err(EngineError::UnknownUser(_))));
    broker.apply(legacy("IB", "ada", "b2")).unwrap();
    broker.apply(legacy("OTHER", "demo", "b3")).expect("users of the world were anyone's then");
}

#[test]
fn an_account_closes_only_once_emptied_of_cash() {
    let mut broker = with_client();
    let cash: AccountId = "DU7654321".parse().unwrap();
    let close = || Command::ChangeAccount {
        client_id: "IB".into(),
        account: "DU7654321".parse().unwrap(),
        change: AccountChange::Close,
    };
    let refused = broker.apply(close());
    assert!(
        refused
            == Err(EngineError::RequestRefused(RequestRefusal::HoldsCash {
                account: cash.clone(),
                cash: d("100000"),
                currency: Currency::USD
            })),
        "{refused:?}"
    );
    broker
        .apply(Command::Withdraw { account: cash.clone(), currency: Currency::USD, amount: d("100000") })
        .unwrap();
    broker.apply(close()).unwrap();
    assert!(matches!(broker.engine.state().lifecycle(&cash), Some(Lifecycle::Closed { .. })));
}

/// The texts a refused request, or a rejected application, answers with, written out in full.
#[test]
fn refusals_and_objections_keep_their_words() {
    let account: AccountId = "DU1234567".parse().unwrap();
    let refusals = [
        (
            RequestRefusal::ClientNotApproved { client_id: "IB".into() },
            r#"client "IB" is not approved for Account Management"#,
        ),
        (
            RequestRefusal::MasterNotManaged { master: account.clone() },
            "the master account DU1234567 is not one the client manages",
        ),
        (RequestRefusal::NoHolders, "an application names at least one account holder"),
        (
            RequestRefusal::NotManaged { account: account.clone() },
            "account DU1234567 is not one the client manages",
        ),
        (RequestRefusal::NotOpen { account: account.clone() }, "account DU1234567 is not open"),
        (RequestRefusal::AliasTooLong { length: 65 }, "an account alias has at most 64 characters"),
        (
            RequestRefusal::UnpricedCurrency { currency: Currency::EUR },
            "EUR is not a currency LocalBroker's pairs price",
        ),
        (
            RequestRefusal::HoldsPositions { account: account.clone() },
            "account DU1234567 holds positions: close or transfer them first",
        ),
        (
            RequestRefusal::WorkingOrders { account: account.clone() },
            "account DU1234567 has working orders: cancel them first",
        ),
        (
            RequestRefusal::HoldsCash {
                account: account.clone(),
                cash: d("-12.50"),
                currency: Currency::USD,
            },
            "account DU1234567 holds -12.50 USD: withdraw or transfer it first",
        ),
        (
            RequestRefusal::InstructionPending { account: account.clone(), instruction: 100_000_001 },
            "account DU1234567 has instruction 100000001 pending: cancel it first",
        ),
    ];
    for (refusal, text) in refusals {
        assert_eq!(refusal.to_string(), text);
    }
    let objections = [
        (
            Objection::ClientNotApproved { client_id: "IB".into() },
            r#"client "IB" is not approved for Account Management"#,
        ),
        (Objection::JointWithOneHolder { holders: 1 }, "a joint account has two holders"),
        (
            Objection::NoDateOfBirth { holder: "Ada Lovelace".into() },
            "no date of birth is given for Ada Lovelace",
        ),
        (
            Objection::UnderAge { holder: "Ada Lovelace".into(), born: "2015-01-01".parse().unwrap() },
            "Ada Lovelace is younger than 18",
        ),
        (
            Objection::UnpricedCurrency { currency: Currency::EUR },
            "EUR is not a currency LocalBroker's pairs price",
        ),
        (Objection::MasterNotOpen { master: account }, "the master account DU1234567 is not open"),
        (Objection::UsernameTaken { username: "demo".parse().unwrap() }, "the user name demo is taken"),
    ];
    for (objection, text) in objections {
        assert_eq!(objection.to_string(), text);
    }
}
