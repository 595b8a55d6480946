//! The sections that value holdings: `EquitySummaryInBase`, `MTMPerformanceSummaryInBase`,
//! `OpenPositions`, `PriorPeriodPositions`, `FxPositions` and `ConversionRates`, written from
//! the engine's figures.

use engine::flex::FlexRequest;
use engine::reports::activity::{Activity, FxLot};
use engine::statement::{OpenPosition, Statement};
use market::Catalogue;

use super::{Context, Part, number};
use crate::flex::output::Attributes;
use crate::trading::contracts::asset_class_type;

impl Context<'_> {
    /// Each day's cash, shares and total in the base currency.
    pub(super) fn equity_summary(&self, activity: &Activity<'_>) -> Vec<Attributes> {
        let statement = &activity.statement;
        activity
            .equity_summary()
            .into_iter()
            .map(|day| {
                vec![
                    ("accountId", statement.account.to_string()),
                    ("currency", statement.base_currency.to_string()),
                    ("reportDate", self.date(day.date)),
                    ("cash", number(day.cash.round_dp(2))),
                    ("stock", number(day.stock.round_dp(2))),
                    ("total", number(day.total.round_dp(2))),
                ]
            })
            .collect()
    }

    /// Each instrument's mark-to-market over the period, in the base currency.
    pub(super) fn mtm_summary(&self, request: &FlexRequest, activity: &Activity<'_>) -> Vec<Attributes> {
        let statement = &activity.statement;
        let base = |value: model::Decimal| number(value.round_dp(2));
        activity
            .mark_to_market()
            .into_iter()
            .map(|line| {
                let instrument = line.instrument;
                vec![
                    ("assetCategory", asset_class_type(instrument.asset_class).to_owned()),
                    ("accountId", statement.account.to_string()),
                    ("symbol", instrument.symbol.clone()),
                    ("description", instrument.name.clone()),
                    ("conid", instrument.conid.to_string()),
                    ("listingExchange", instrument.listing_exchange.clone()),
                    ("reportDate", self.date(request.to)),
                    ("prevCloseQuantity", number(line.prev_close_quantity)),
                    ("prevClosePrice", number(line.prev_close_price)),
                    ("closeQuantity", number(line.close_quantity)),
                    ("closePrice", number(line.close_price)),
                    ("transactionMtm", base(line.transaction)),
                    ("priorOpenMtm", base(line.prior_open)),
                    ("commissions", base(line.commissions)),
                    ("total", base(line.total)),
                ]
            })
            .collect()
    }

    /// What was held at the end of each day of the period, at that day's price, and its
    /// mark-to-market over the day.
    pub(super) fn prior_positions(&self, activity: &Activity<'_>) -> Vec<Attributes> {
        let statement = &activity.statement;
        activity
            .prior_positions()
            .into_iter()
            .map(|line| {
                let instrument = line.instrument;
                vec![
                    ("assetCategory", asset_class_type(instrument.asset_class).to_owned()),
                    ("accountId", statement.account.to_string()),
                    ("currency", instrument.currency.to_string()),
                    ("symbol", instrument.symbol.clone()),
                    ("description", instrument.name.clone()),
                    ("conid", instrument.conid.to_string()),
                    ("listingExchange", instrument.listing_exchange.clone()),
                    ("priorMtmPnl", number(line.mtm.round_dp(2))),
                    ("date", self.date(line.date)),
                    ("price", number(line.price)),
                    ("multiplier", "1".to_owned()),
                ]
            })
            .collect()
    }

    /// Each foreign currency's cash at the period's end, as IBKR's currency lots.
    pub(super) fn fx_positions(&self, request: &FlexRequest, activity: &Activity<'_>) -> Vec<Part> {
        let statement = &activity.statement;
        let lots: Vec<Attributes> = activity
            .fx_lots()
            .into_iter()
            .map(|FxLot { currency, quantity, rate, value }| {
                vec![
                    ("assetCategory", "CASH".to_owned()),
                    ("accountId", statement.account.to_string()),
                    ("reportDate", self.date(request.to)),
                    ("functionalCurrency", statement.base_currency.to_string()),
                    ("fxCurrency", currency.to_string()),
                    ("quantity", number(quantity)),
                    ("closePrice", number(rate)),
                    ("value", number(value.round_dp(2))),
                    ("levelOfDetail", "SUMMARY".to_owned()),
                ]
            })
            .collect();
        if lots.is_empty() {
            return vec![Part::Section { container: "FxPositions", name: "FxLots", rows: Vec::new() }];
        }
        // IBKR wraps each currency's lots in an FxLots element of their own.
        let each =
            lots.into_iter().map(|lot| Part::Section { container: "FxLots", name: "FxLot", rows: vec![lot] });
        std::iter::once(Part::Open("FxPositions", Vec::new()))
            .chain(each)
            .chain([Part::Close("FxPositions")])
            .collect()
    }

    /// The rate of each currency of the statement to the base currency at the period's end.
    pub(super) fn conversion_rates(&self, request: &FlexRequest, activity: &Activity<'_>) -> Vec<Attributes> {
        let base = activity.statement.base_currency;
        activity
            .conversion_rates()
            .into_iter()
            .map(|line| {
                vec![
                    ("reportDate", self.date(request.to)),
                    ("fromCurrency", line.currency.to_string()),
                    ("toCurrency", base.to_string()),
                    ("rate", number(line.rate)),
                ]
            })
            .collect()
    }

    pub(super) fn open_position(
        &self,
        request: &FlexRequest,
        statement: &Statement,
        position: &OpenPosition,
    ) -> Attributes {
        let instrument = Catalogue::standard().get(position.conid);
        vec![
            ("side", if position.quantity.is_sign_negative() { "Short" } else { "Long" }.to_owned()),
            (
                "assetCategory",
                instrument.map_or("STK", |instrument| asset_class_type(instrument.asset_class)).to_owned(),
            ),
            ("accountId", statement.account.to_string()),
            ("currency", position.currency.to_string()),
            ("reportDate", self.date(request.to)),
            ("symbol", position.symbol.clone()),
            ("description", instrument.map(|instrument| instrument.name.clone()).unwrap_or_default()),
            ("conid", position.conid.to_string()),
            (
                "listingExchange",
                instrument.map(|instrument| instrument.listing_exchange.clone()).unwrap_or_default(),
            ),
            ("multiplier", "1".to_owned()),
            ("position", number(position.quantity)),
            ("markPrice", number(position.mark_price)),
            ("positionValue", number(position.market_value.round_dp(2))),
            ("levelOfDetail", "SUMMARY".to_owned()),
        ]
    }
}
