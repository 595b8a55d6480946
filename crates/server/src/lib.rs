//! LocalBroker's HTTP server: IBKR's Web API in front of the simulated broker.
//!
//! # Layout
//! - [`serve`]: starting and stopping: journal, broker, listener, TLS.
//! - [`connections`]: what one client can make the server hold: timeouts and the cap.
//! - [`broker`]: the engine thread and the group-committing journal writer behind it.
//! - [`app`]: every route assembled; IBKR operations not built yet answer 501.
//! - [`trading`]: the Trading API (`/v1/api`), one module per IBKR reference tag.
//! - [`control`]: LocalBroker's control plane (`/_localbroker/*`).
//! - [`login_page`]: the gateway's HTML login page at `/`.
//! - [`account_management`]: IBKR's Account Management API (`/gw/api/v1`), as far as built.
//! - [`gateway`]: the `/gw/api/v1` door (access token scopes, signed bodies, problem details)
//!   and the echo utilities.
//! - [`auth`]: who a request acts for, password checks and the control plane's admin token.
//! - [`pacing`]: IBKR's request-rate limits.
//! - [`world`]: world files and the built-in demo world.
//! - [`market`]: the simulated market as handlers compute it.
//! - [`spec`]: IBKR's operation list, for 501 routing and the coverage report.
//! - [`flex`]: the Flex Web Service (`SendRequest`, `GetStatement`) and its XML statements.
//! - [`websocket`]: IBKR's streaming protocol at `/v1/api/ws`.
//! - [`oauth`]: OAuth 2.0's token endpoint for `private_key_jwt` clients.
//! - [`html`]: the few pages rendered here (the login page, statements).
//! - [`duration`]: durations as people type them in world files and requests.
//! - [`wire`]: IBKR's conventions for numbers on the wire.
//! - [`docs`], [`tls`], [`error`], [`extract`], [`state`]: the plumbing.
//!
//! Handlers translate between IBKR's wire shapes and the engine's commands and state; the rules
//! live in the `engine` crate.

pub mod account_management;
pub mod app;
pub mod auth;
pub mod broker;
pub mod connections;
pub mod control;
pub mod docs;
pub mod duration;
pub mod error;
pub mod extract;
pub mod flex;
pub mod gateway;
pub mod html;
pub mod login_page;
pub mod market;
pub mod oauth;
pub mod pacing;
pub mod serve;
pub mod spec;
pub mod state;
pub mod tls;
pub mod trading;
pub mod websocket;
pub mod wire;
pub mod world;
