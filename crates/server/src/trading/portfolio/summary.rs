//! `portfolio/{accountId}/summary`: every account value IBKR reports, under its lower-case key,
//! for the whole account and for each segment (`-s` US securities, `-c` US commodities, `-p`
//! crypto at PAXOS).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use engine::portfolio::{Portfolio, Segment};
use model::{Decimal, MarginKind};
use serde::Serialize;
use utoipa::ToSchema;

use super::valued_with;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{AccountSegment, PathParams};
use crate::state::AppState;
use crate::wire::float;

/// One account value. A money value carries `amount` and `currency`; any other value is a
/// string in `value`, with `amount` 0 and no currency (recorded responses).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountValue {
    pub(crate) amount: f64,
    pub(crate) currency: Option<String>,
    is_null: bool,
    /// Market time of the valuation, epoch milliseconds.
    timestamp: i64,
    pub(crate) value: Option<String>,
    /// 0; 1 on the excess-liquidity values of an account whose equity is below its
    /// maintenance margin (LocalBroker's marker of a margin deficiency).
    pub(crate) severity: u8,
}

/// The segments a summary reports, with their key suffix and title.
const SEGMENTS: [(&str, &str); 3] =
    [("-c", "US Commodities"), ("-p", "Crypto at Paxos"), ("-s", "US Securities")];

/// The money figures of one segment (or of the whole account), in the base currency.
struct Figures {
    net_liquidation: Decimal,
    cash: Decimal,
    /// The part of `cash` whose trades have settled.
    settled: Decimal,
    equity_with_loan: Decimal,
    initial: Decimal,
    maintenance: Decimal,
    available: Decimal,
    excess: Decimal,
    gross: Decimal,
    reg_t_margin: Decimal,
    sma: Decimal,
    dividends: Decimal,
    interest: Decimal,
}

impl Figures {
    fn of(portfolio: &Portfolio) -> Self {
        Self {
            net_liquidation: portfolio.net_liquidation(),
            cash: portfolio.total_cash(),
            settled: portfolio.settled_cash(),
            equity_with_loan: portfolio.equity_with_loan(),
            initial: portfolio.initial_margin(),
            maintenance: portfolio.maintenance_margin(),
            available: portfolio.available_funds(),
            excess: portfolio.excess_liquidity(),
            gross: portfolio.gross_position_value(),
            reg_t_margin: portfolio.reg_t_margin(),
            sma: portfolio.sma(),
            dividends: portfolio.dividends_receivable(),
            interest: portfolio.interest_accrued(),
        }
    }

    /// A segment the account has nothing in.
    fn empty() -> Self {
        let zero = Decimal::ZERO;
        Self {
            net_liquidation: zero,
            cash: zero,
            settled: zero,
            equity_with_loan: zero,
            initial: zero,
            maintenance: zero,
            available: zero,
            excess: zero,
            gross: zero,
            reg_t_margin: zero,
            sma: zero,
            dividends: zero,
            interest: zero,
        }
    }
}

/// Builds the summary's entries.
struct Summary {
    currency: String,
    timestamp: i64,
    entries: BTreeMap<String, AccountValue>,
}

impl Summary {
    fn money(&mut self, key: String, amount: Decimal) {
        let entry = AccountValue {
            amount: float(amount),
            currency: Some(self.currency.clone()),
            is_null: false,
            timestamp: self.timestamp,
            value: None,
            severity: 0,
        };
        self.entries.insert(key, entry);
    }

    fn text(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let entry = AccountValue {
            amount: 0.0,
            currency: None,
            is_null: false,
            timestamp: self.timestamp,
            value: Some(value.into()),
            severity: 0,
        };
        self.entries.insert(key.into(), entry);
    }

    /// The figures every segment reports, under `suffix`.
    fn segment(&mut self, suffix: &str, figures: &Figures) {
        let zero = Decimal::ZERO;
        let current = [
            ("availablefunds", figures.available),
            ("equitywithloanvalue", figures.equity_with_loan),
            ("excessliquidity", figures.excess),
            ("initmarginreq", figures.initial),
            ("maintmarginreq", figures.maintenance),
        ];
        for (key, amount) in current {
            self.money(format!("{key}{suffix}"), amount);
            // Nothing changes the requirements later in the day: the full and look-ahead
            // values are the current ones.
            if key != "equitywithloanvalue" {
                self.money(format!("full{key}{suffix}"), amount);
                self.money(format!("lookahead{key}{suffix}"), amount);
            }
        }
        // What LocalBroker's accounts never hold or owe: bills, guarantees, haircuts, shares
        // held for Portfolio Analyst, certificates, expiring derivatives, debit cards.
        let never_held = [
            "billable",
            "guarantee",
            "indianstockhaircut",
            "pasharesvalue",
            "physicalcertificatevalue",
            "postexpirationexcess",
            "postexpirationmargin",
            "totaldebitcardpendingcharges",
        ];
        for key in never_held {
            self.money(format!("{key}{suffix}"), zero);
        }
        // New positions may use the available funds; a withdrawal only settled cash within them.
        self.money(format!("availabletotrade{suffix}"), figures.available);
        let withdrawable = figures.available.min(figures.settled).max(zero);
        self.money(format!("availabletowithdraw{suffix}"), withdrawable);
        self.money(format!("accrueddividend{suffix}"), figures.dividends);
        self.money(format!("accruedcash{suffix}"), figures.interest);
        self.money(format!("netliquidation{suffix}"), figures.net_liquidation);
        self.money(format!("totalcashvalue{suffix}"), figures.cash);
    }

    /// The figures only the whole account and its securities segment report.
    fn securities(&mut self, suffix: &str, figures: &Figures, previous_day_equity: Decimal) {
        self.money(format!("grosspositionvalue{suffix}"), figures.gross);
        self.money(format!("previousdayequitywithloanvalue{suffix}"), previous_day_equity);
        self.money(format!("regtequity{suffix}"), figures.equity_with_loan);
        self.money(format!("regtmargin{suffix}"), figures.reg_t_margin);
        self.money(format!("sma{suffix}"), figures.sma);
    }
}

fn ratio(value: Decimal) -> String {
    value.round_dp(6).normalize().to_string()
}

/// Every value of the account's summary, keyed as IBKR keys them.
pub(crate) fn summary(
    portfolio: &Portfolio,
    day_trades_left: Option<[usize; 5]>,
    kind: &str,
) -> BTreeMap<String, AccountValue> {
    let mut summary = Summary {
        currency: portfolio.base.to_string(),
        timestamp: portfolio.at.as_millisecond(),
        entries: BTreeMap::new(),
    };
    let total = Figures::of(portfolio);
    let securities = Figures::of(&portfolio.segment(Segment::Securities));
    let crypto = portfolio.segment(Segment::Crypto);
    let crypto = if crypto.holdings.is_empty() { Figures::empty() } else { Figures::of(&crypto) };
    summary.segment("", &total);
    summary.securities("", &total, portfolio.day_start);
    summary.securities("-s", &securities, portfolio.day_start);
    for (suffix, title) in SEGMENTS {
        let figures = match suffix {
            "-s" => &securities,
            "-p" => &crypto,
            _ => &Figures::empty(),
        };
        summary.segment(suffix, figures);
        summary.text(format!("segmenttitle{suffix}"), title);
    }
    summary.money("buyingpower".into(), portfolio.buying_power());
    summary.money("netliquidationuncertainty".into(), Decimal::ZERO);
    summary.text("accountcode", portfolio.account.to_string());
    summary.text("accountready", "true");
    summary.text("accounttype", kind);
    for (suffix, priority) in [("-s", "1"), ("-c", "2"), ("-p", "5")] {
        summary.text(format!("columnprio{suffix}"), priority);
    }
    summary.text("cushion", ratio(portfolio.cushion()));
    summary.text("leverage-s", ratio(portfolio.segment(Segment::Securities).leverage()));
    let left = |day: usize| day_trades_left.map_or_else(|| "-1".to_owned(), |left| left[day].to_string());
    summary.text("daytradesremaining", left(0));
    for day in 1..5 {
        summary.text(format!("daytradesremainingt+{day}"), left(day));
    }
    // Laid out as IBKR's example (`": : false: 205505601.94: :false"`): whether the account has
    // used up its day trades, and its net liquidation.
    let used_up = day_trades_left.is_some_and(|left| left[0] == 0);
    let net = portfolio.net_liquidation().round_dp(2);
    summary.text("daytradingstatus-s", format!(": : {used_up}: {net}: :false"));
    summary.text("depositoncredithold", "null");
    summary.text("lookaheadnextchange", "0");
    summary.text("nlvandmargininreview", "false");
    let trading_type = if portfolio.margin == MarginKind::Margin { "STKNOPT" } else { "STKCASH" };
    summary.text("tradingtype-s", trading_type);
    summary.text("whatifpmenabled", "true");
    let deficient = portfolio.is_margin_deficient();
    summary.text("highestseverity", if deficient { "1" } else { "null" });
    if deficient {
        for key in ["excessliquidity", "excessliquidity-s"] {
            if let Some(entry) = summary.entries.get_mut(key) {
                entry.severity = 1;
            }
        }
    }
    summary.entries
}

/// The account's values: net liquidation, cash, margin, funds and more, each with its amount
/// in the base currency (or a text value), for the whole account and per segment.
#[utoipa::path(
    get,
    path = "/portfolio/{accountId}/summary",
    operation_id = "getPortfolioSummary",
    tag = "Portfolio",
    params(("accountId" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account's values, by key", body = BTreeMap<String, AccountValue>),
        crate::docs::NotCallersAccount,
    )
)]
pub async fn portfolio_summary(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
) -> Result<Json<BTreeMap<String, AccountValue>>, ApiError> {
    let values = valued_with(&app, caller, &account, |state, portfolio| {
        let kind = state.account(&portfolio.account).map(|account| super::customer_type(account.kind));
        summary(&portfolio, state.day_trades_left(&portfolio), kind.unwrap_or("INDIVIDUAL"))
    })
    .await?;
    Ok(Json(values))
}
