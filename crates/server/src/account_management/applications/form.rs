//! The application form: IBKR's `Application` schema, read into what the engine needs.

use engine::applications::{Address, ApplicationSpec, Finances, Holder, Particulars};
use model::{AccountId, AccountKind, Currency, MarginKind, Username};
use serde::Deserialize;

use crate::gateway::problem::Problem;

/// IBKR's `ApplicationPayload`, as far as LocalBroker reads it.
#[derive(Debug, Deserialize)]
pub(super) struct ApplicationPayload {
    pub(super) application: Application,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Application {
    customer: Option<Customer>,
    #[serde(default)]
    accounts: Vec<AccountEntry>,
    master_account_id: Option<String>,
    paper_account: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Customer {
    #[serde(rename = "type")]
    kind: Option<String>,
    user_name: Option<String>,
    external_id: Option<String>,
    email: Option<String>,
    account_holder: Option<IndividualApplicant>,
    joint_holders: Option<JointApplicant>,
    paper_account: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndividualApplicant {
    #[serde(default)]
    account_holder_details: Vec<Individual>,
    #[serde(default)]
    financial_information: Vec<FinancialInformation>,
}

/// IBKR's `FinancialInformation`, as far as LocalBroker keeps it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FinancialInformation {
    net_worth: Option<f64>,
    liquid_net_worth: Option<f64>,
    annual_net_income: Option<f64>,
    total_assets: Option<f64>,
    #[serde(default)]
    investment_objectives: Vec<String>,
}

impl FinancialInformation {
    fn finances(self) -> Box<Finances> {
        // IBKR's schema checked these are numbers; they are amounts of whole units.
        let whole = |amount: Option<f64>| amount.map(|amount| amount.round() as i64);
        Box::new(Finances {
            net_worth: whole(self.net_worth),
            liquid_net_worth: whole(self.liquid_net_worth),
            annual_net_income: whole(self.annual_net_income),
            total_assets: whole(self.total_assets),
            investment_objectives: self.investment_objectives,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JointApplicant {
    #[serde(default)]
    first_holder_details: Vec<Individual>,
    #[serde(default)]
    second_holder_details: Vec<Individual>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Individual {
    name: Option<IndividualName>,
    date_of_birth: Option<String>,
    email: Option<String>,
    residence_address: Option<ResidenceAddress>,
}

/// IBKR's `ResidenceAddress`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResidenceAddress {
    street1: Option<String>,
    street2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IndividualName {
    first: Option<String>,
    middle: Option<String>,
    last: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountEntry {
    base_currency: Option<String>,
    margin: Option<String>,
    alias: Option<String>,
}

/// The longest alias an account may have, as a change of alias allows.
const MAX_ALIAS: usize = 64;

impl Application {
    /// What the engine needs of the application, or the field that stops it.
    pub(super) fn spec(self) -> Result<ApplicationSpec, Problem> {
        let customer = self.customer.ok_or_else(|| Problem::field("application.customer", "is required"))?;
        let kind = match customer.kind.as_deref() {
            Some("INDIVIDUAL") => AccountKind::Individual,
            Some("JOINT") => AccountKind::Joint,
            _ => {
                return Err(Problem::field(
                    "application.customer.type",
                    "LocalBroker opens INDIVIDUAL and JOINT accounts (an advisor's client account is either)",
                ));
            }
        };
        let mut finances = None;
        let holders = match kind {
            AccountKind::Joint => {
                let joint = customer
                    .joint_holders
                    .ok_or_else(|| Problem::field("application.customer.jointHolders", "is required"))?;
                vec![
                    holder(
                        joint.first_holder_details,
                        "application.customer.jointHolders.firstHolderDetails",
                    )?,
                    holder(
                        joint.second_holder_details,
                        "application.customer.jointHolders.secondHolderDetails",
                    )?,
                ]
            }
            _ => {
                let applicant = customer.account_holder.unwrap_or_default();
                finances =
                    applicant.financial_information.into_iter().next().map(FinancialInformation::finances);
                vec![holder(
                    applicant.account_holder_details,
                    "application.customer.accountHolder.accountHolderDetails",
                )?]
            }
        };
        let username = customer
            .user_name
            .as_deref()
            .ok_or_else(|| Problem::field("application.customer.userName", "is required"))?
            .parse::<Username>()
            .map_err(|error| Problem::field("application.customer.userName", error.to_string()))?;
        let account = self.accounts.into_iter().next();
        let base_currency = match account.as_ref().and_then(|account| account.base_currency.as_deref()) {
            None => Currency::USD,
            Some(text) => text.parse().map_err(|_| {
                Problem::field("application.accounts[0].baseCurrency", format!("{text} is not a currency"))
            })?,
        };
        let margin = match account.as_ref().and_then(|account| account.margin.as_deref()) {
            None | Some("Cash" | "CASH") => MarginKind::Cash,
            Some(_) => MarginKind::Margin,
        };
        let alias = account.as_ref().and_then(|account| account.alias.clone());
        if alias.as_ref().is_some_and(|alias| alias.chars().count() > MAX_ALIAS) {
            return Err(Problem::field(
                "application.accounts[0].alias",
                format!("has at most {MAX_ALIAS} characters"),
            ));
        }
        let master_account = self
            .master_account_id
            .map(|raw| {
                raw.parse::<AccountId>().map_err(|_| {
                    Problem::field("application.masterAccountId", format!("{raw} is not an account id"))
                })
            })
            .transpose()?;
        Ok(ApplicationSpec {
            external_id: customer.external_id,
            kind,
            holders,
            username,
            margin,
            base_currency,
            master_account,
            paper: self.paper_account.or(customer.paper_account).unwrap_or(false),
            alias,
            email: customer.email,
            finances,
        })
    }
}

/// The first of `details` as a holder: a name is required, the date of birth is checked at
/// review.
fn holder(details: Vec<Individual>, field: &str) -> Result<Holder, Problem> {
    let individual = details.into_iter().next().ok_or_else(|| Problem::field(field, "names a holder"))?;
    let name = individual.name.as_ref().and_then(|name| {
        let parts: Vec<&str> = [&name.first, &name.middle, &name.last]
            .into_iter()
            .filter_map(|part| part.as_deref().map(str::trim).filter(|part| !part.is_empty()))
            .collect();
        (name.first.is_some() && name.last.is_some()).then(|| parts.join(" "))
    });
    let name = name
        .ok_or_else(|| Problem::field(format!("{field}[0].name"), "a first and a last name are required"))?;
    let date_of_birth = individual
        .date_of_birth
        .map(|text| {
            text.parse().map_err(|_| {
                Problem::field(
                    format!("{field}[0].dateOfBirth"),
                    format!("{text} is not a date (YYYY-MM-DD)"),
                )
            })
        })
        .transpose()?;
    let (first_name, middle_name, last_name) = match individual.name {
        Some(IndividualName { first, middle, last }) => (first, middle, last),
        None => (None, None, None),
    };
    let residence = individual.residence_address.map(|address| Address {
        street1: address.street1,
        street2: address.street2,
        city: address.city,
        state: address.state,
        postal_code: address.postal_code,
        country: address.country,
    });
    let particulars = Particulars { first_name, middle_name, last_name, email: individual.email, residence };
    Ok(Holder { name, date_of_birth, particulars })
}
