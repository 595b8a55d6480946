//! Commands: the only way state changes. Each is journaled before it is applied.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use model::{AccountId, Conid, Currency, Decimal, OrderId, SessionId, Username};
use serde::{Deserialize, Serialize};

use crate::applications::{AccountChange, ApplicationSpec};
use crate::banking::InstructionRequest;
use crate::clock::{ClockMode, ClockSpec};
use crate::corporate_actions::CorporateAction;
use crate::market::MarketChange;
use crate::oauth::{ClientKey, TokenGrant};
use crate::orders::Ticket;
use crate::world::World;

/// A state change, as recorded in the journal. Commands carry no time: the journal stamps each
/// with the wall time it was admitted at, and the engine applies it at that instant.
///
/// The journal stores commands as JSON tagged by `type`: a new variant or a new field with a
/// default keeps old journals replayable; renaming or reshaping an existing one does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// The first command of every journal: the seed, the world and the clock to start from.
    CreateWorld {
        seed: u64,
        world: World,
        #[serde(default)]
        clock: ClockSpec,
    },
    /// A user logged in at the gateway (its login page or the control plane); the new session
    /// becomes the one that unauthenticated gateway requests act for. The password was checked
    /// at the edge, where hashing belongs.
    GatewayLogin { user: Username },
    /// The session ended (`/logout`).
    Logout { session: SessionId },
    /// The session switched the account that trading calls act on by default.
    SelectAccount { session: SessionId, account: AccountId },
    /// Market time moves on in another mode, from where it is.
    SetClockMode { mode: ClockMode },
    /// Market time jumps forward by `by`.
    AdvanceClock { by: SignedDuration },
    /// Market time jumps forward to `to`.
    SetClock { to: Timestamp },
    /// The control plane changes an instrument's market from now on: all of `changes`, in
    /// order, at the same instant, or none of them. Journals written when this command carried
    /// a single `change` still replay.
    ChangeMarket {
        conid: Conid,
        #[serde(alias = "change", deserialize_with = "one_or_many")]
        changes: Vec<MarketChange>,
    },
    /// A session places orders for an account: all of `tickets` or none. With
    /// `one_cancels_all`, the first fill of any cancels the others.
    PlaceOrders {
        session: SessionId,
        account: AccountId,
        tickets: Vec<Ticket>,
        #[serde(default)]
        one_cancels_all: bool,
    },
    /// A session changes a working order.
    ModifyOrder { session: SessionId, account: AccountId, order: OrderId, ticket: Ticket },
    /// A session cancels a working order.
    CancelOrder { session: SessionId, account: AccountId, order: OrderId },
    /// A session cancels every working order of an account.
    CancelAllOrders { session: SessionId, account: AccountId },
    /// Money arrives in an account from outside the broker.
    Deposit { account: AccountId, currency: Currency, amount: Decimal },
    /// Money leaves an account for outside the broker.
    Withdraw { account: AccountId, currency: Currency, amount: Decimal },
    /// A dividend or a split is announced.
    AnnounceCorporateAction { action: CorporateAction },
    /// An OAuth client registers a public key and asks for scopes.
    RegisterClient { client_id: String, key: ClientKey, scopes: BTreeSet<String> },
    /// An OAuth client's Account Management scopes are approved.
    ApproveClient { client_id: String },
    /// An OAuth client is revoked.
    RevokeClient { client_id: String },
    /// An access token is issued for a verified client assertion: only the token's SHA-256
    /// reaches the journal.
    IssueToken { grant: TokenGrant },
    /// A client opens a brokerage session for a user (`/gw/api/v1/sso-sessions`), reached with
    /// the bearer whose SHA-256 is `bearer_hash`: a user it onboarded, one its world-file entry
    /// lists, or one whose every account it manages.
    OpenClientSession { client_id: String, username: Username, bearer_hash: String },
    /// The same, as journals written before 2026-12-08 recorded it, when any client could
    /// open a session for a user of the world file. It replays as it was applied then; the
    /// server no longer journals it.
    OpenSsoSession { client_id: String, username: Username, bearer_hash: String },
    /// A user logged in through the login page of a strict server: a session of their own,
    /// reached with the cookie whose SHA-256 is `token_hash`.
    BrowserLogin { user: Username, token_hash: String },
    /// A session asks not to be asked these order questions again (IBKR's message ids).
    SuppressQuestions { session: SessionId, ids: BTreeSet<String> },
    /// A session asks to be asked every order question again.
    ResetSuppressedQuestions { session: SessionId },
    /// A session asks for its user's brokerage session (`iserver/auth/ssodh/init`); with
    /// `compete` it takes it from whichever session holds it.
    InitBrokerage { session: SessionId, compete: bool },
    /// A client is given the management of existing accounts.
    AssignAccounts { client_id: String, accounts: Vec<AccountId> },
    /// An approved client applies for an account (`POST /gw/api/v1/accounts`).
    SubmitApplication { client_id: String, application: ApplicationSpec },
    /// An approved client changes an account it manages (`PATCH /gw/api/v1/accounts`).
    ChangeAccount { client_id: String, account: AccountId, change: AccountChange },
    /// An approved client files banking instructions, in order.
    FileInstructions { client_id: String, instructions: Vec<InstructionRequest> },
    /// A Flex token is issued to `user`; only its SHA-256 reaches the journal.
    IssueFlexToken { user: Username, token_hash: String, expires_at: Option<Timestamp> },
    /// A Flex query is defined.
    DefineFlexQuery { query: crate::flex::FlexQuery },
    /// A statement is requested from the Flex Web Service (`SendRequest`) with the token whose
    /// SHA-256 is `token_hash`, over `from`–`to` (New York days) or the query's period.
    RequestFlexStatement {
        token_hash: String,
        query: u64,
        from: Option<jiff::civil::Date>,
        to: Option<jiff::civil::Date>,
    },
    /// A client's signed request (a JWT body of `/gw/api/v1`), spent with the command it asks
    /// for, if any: both apply only if the request was not seen before, and then it is
    /// remembered until it expires.
    Signed { request: crate::oauth::SignedRequest, command: Option<Box<Command>> },
    /// Market time has passed: working orders catch up with it.
    Tick,
}

/// One market change or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(MarketChange),
    Many(Vec<MarketChange>),
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<MarketChange>, D::Error> {
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(change) => vec![change],
        OneOrMany::Many(changes) => changes,
    })
}

#[cfg(test)]
mod tests {
    use model::Decimal;

    use super::*;

    #[test]
    fn a_journaled_single_market_change_still_reads() {
        let old = r#"{"type":"change_market","conid":265598,"change":{"price":"100"}}"#;
        let command: Command = serde_json::from_str(old).unwrap();
        let changes = vec![MarketChange::Price(Decimal::ONE_HUNDRED)];
        assert_eq!(command, Command::ChangeMarket { conid: Conid::new(265_598), changes: changes.clone() });
        let written = serde_json::to_string(&command).unwrap();
        assert_eq!(serde_json::from_str::<Command>(&written).unwrap(), command, "{written}");
    }
}
