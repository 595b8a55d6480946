//! The listed instruments. Conids, names and listing exchanges are IBKR's (names as IBKR
//! truncates them); industry and category follow the classification IBKR's contract details
//! report.

use model::{Instrument, ShareKind};

use super::{pair, share};

pub(super) struct ShareRow {
    pub(super) symbol: &'static str,
    pub(super) conid: u32,
    pub(super) name: &'static str,
    pub(super) exchange: &'static str,
    pub(super) industry: Option<&'static str>,
    pub(super) category: Option<&'static str>,
}

pub(super) struct PairRow {
    pub(super) pair: &'static str,
    pub(super) conid: u32,
    pub(super) name: &'static str,
}

macro_rules! shares {
    ($($symbol:literal $conid:literal $name:literal $exchange:literal $($industry:literal / $category:literal)?;)*) => {
        &[$(ShareRow {
            symbol: $symbol,
            conid: $conid,
            name: $name,
            exchange: $exchange,
            industry: shares!(@opt $($industry)?),
            category: shares!(@opt $($category)?),
        },)*]
    };
    (@opt) => { None };
    (@opt $value:literal) => { Some($value) };
}

const STOCKS: &[ShareRow] = shares! {
    "AAPL" 265598 "APPLE INC" "NASDAQ" "Technology" / "Computers";
    "MSFT" 272093 "MICROSOFT CORP" "NASDAQ" "Technology" / "Software";
    "IBM" 8314 "INTL BUSINESS MACHINES CORP" "NYSE" "Technology" / "Computers";
    "AMZN" 3691937 "AMAZON.COM INC" "NASDAQ" "Communications" / "Internet";
    "GOOGL" 208813719 "ALPHABET INC-CL A" "NASDAQ" "Communications" / "Internet";
    "GOOG" 208813720 "ALPHABET INC-CL C" "NASDAQ" "Communications" / "Internet";
    "TSLA" 76792991 "TESLA INC" "NASDAQ" "Consumer, Cyclical" / "Auto Manufacturers";
    "NVDA" 4815747 "NVIDIA CORP" "NASDAQ" "Technology" / "Semiconductors";
    "META" 107113386 "META PLATFORMS INC-CLASS A" "NASDAQ" "Communications" / "Internet";
    "NFLX" 15124833 "NETFLIX INC" "NASDAQ" "Communications" / "Internet";
    "AMD" 4391 "ADVANCED MICRO DEVICES" "NASDAQ" "Technology" / "Semiconductors";
    "INTC" 270639 "INTEL CORP" "NASDAQ" "Technology" / "Semiconductors";
    "JPM" 1520593 "JPMORGAN CHASE & CO" "NYSE" "Financial" / "Banks";
    "BAC" 10098 "BANK OF AMERICA CORP" "NYSE" "Financial" / "Banks";
    "WFC" 10375 "WELLS FARGO & CO" "NYSE" "Financial" / "Banks";
    "GS" 4627828 "GOLDMAN SACHS GROUP INC" "NYSE" "Financial" / "Banks";
    "MS" 2841574 "MORGAN STANLEY" "NYSE" "Financial" / "Banks";
    "C" 87335484 "CITIGROUP INC" "NYSE" "Financial" / "Banks";
    "V" 49462172 "VISA INC-CLASS A SHARES" "NYSE" "Financial" / "Diversified Finan Serv";
    "MA" 38685693 "MASTERCARD INC - A" "NYSE" "Financial" / "Diversified Finan Serv";
    "AXP" 4721 "AMERICAN EXPRESS CO" "NYSE" "Financial" / "Diversified Finan Serv";
    "KO" 8894 "COCA-COLA CO/THE" "NYSE" "Consumer, Non-cyclical" / "Beverages";
    "PEP" 11017 "PEPSICO INC" "NASDAQ" "Consumer, Non-cyclical" / "Beverages";
    "WMT" 13824 "WALMART INC" "NASDAQ" "Consumer, Cyclical" / "Retail";
    "COST" 272997 "COSTCO WHOLESALE CORP" "NASDAQ" "Consumer, Cyclical" / "Retail";
    "HD" 7930 "HOME DEPOT INC" "NYSE" "Consumer, Cyclical" / "Retail";
    "NKE" 10291 "NIKE INC -CL B" "NYSE" "Consumer, Cyclical" / "Apparel";
    "F" 9599491 "FORD MOTOR CO" "NYSE" "Consumer, Cyclical" / "Auto Manufacturers";
    "DIS" 6459 "WALT DISNEY CO/THE" "NYSE" "Communications" / "Media";
    "JNJ" 8719 "JOHNSON & JOHNSON" "NYSE" "Consumer, Non-cyclical" / "Pharmaceuticals";
    "PG" 11054 "PROCTER & GAMBLE CO/THE" "NYSE" "Consumer, Non-cyclical" / "Cosmetics/Personal Care";
    "PFE" 11031 "PFIZER INC" "NYSE" "Consumer, Non-cyclical" / "Pharmaceuticals";
    "MRK" 70101545 "MERCK & CO INC" "NYSE" "Consumer, Non-cyclical" / "Pharmaceuticals";
    "ABBV" 118089500 "ABBVIE INC" "NYSE" "Consumer, Non-cyclical" / "Pharmaceuticals";
    "LLY" 9160 "ELI LILLY & CO" "NYSE" "Consumer, Non-cyclical" / "Pharmaceuticals";
    "UNH" 13272 "UNITEDHEALTH GROUP INC" "NYSE" "Consumer, Non-cyclical" / "Healthcare-Services";
    "XOM" 895178251 "EXXONMOBIL HOLDINGS CORP" "NYSE" "Energy" / "Oil&Gas";
    "CVX" 5684 "CHEVRON CORP" "NYSE" "Energy" / "Oil&Gas";
    "BA" 4762 "BOEING CO/THE" "NYSE" "Industrial" / "Aerospace/Defense";
    "CAT" 5437 "CATERPILLAR INC" "NYSE" "Industrial" / "Machinery-Constr&Mining";
    "CSCO" 268084 "CISCO SYSTEMS INC" "NASDAQ" "Communications" / "Telecommunications";
    "T" 37018770 "AT&T INC" "NYSE" "Communications" / "Telecommunications";
    "VZ" 4901 "VERIZON COMMUNICATIONS INC" "NYSE" "Communications" / "Telecommunications";
    "ORCL" 272800 "ORACLE CORP" "NYSE" "Technology" / "Software";
    "ADBE" 265768 "ADOBE INC" "NASDAQ" "Technology" / "Software";
    "CRM" 29624264 "SALESFORCE INC" "NYSE" "Technology" / "Software";
    "INTU" 270662 "INTUIT INC" "NASDAQ" "Technology" / "Software";
    "NOW" 109911821 "SERVICENOW INC" "NYSE" "Technology" / "Software";
    "QCOM" 273544 "QUALCOMM INC" "NASDAQ" "Technology" / "Semiconductors";
    "TXN" 13096 "TEXAS INSTRUMENTS INC" "NASDAQ" "Technology" / "Semiconductors";
    "AVGO" 313130367 "BROADCOM INC" "NASDAQ" "Technology" / "Semiconductors";
    "TSM" 6223250 "TAIWAN SEMICONDUCTOR-SP ADR" "NYSE" "Technology" / "Semiconductors";
    "BRK B" 72063691 "BERKSHIRE HATHAWAY INC-CL B" "NYSE" "Financial" / "Insurance";
    "PYPL" 199169591 "PAYPAL HOLDINGS INC" "NASDAQ" "Consumer, Non-cyclical" / "Commercial Services";
    "UBER" 365207014 "UBER TECHNOLOGIES INC" "NYSE" "Industrial" / "Transportation";
    "IBKR" 43645865 "INTERACTIVE BROKERS GRO-CL A" "NASDAQ" "Financial" / "Diversified Finan Serv";
};

const ETFS: &[ShareRow] = shares! {
    "SPY" 756733 "SS SPDR S&P 500 ETF TRUST-US" "ARCA";
    "QQQ" 320227571 "INVESCO QQQ TRUST SERIES 1" "NASDAQ";
    "IWM" 9579970 "ISHARES RUSSELL 2000 ETF" "ARCA";
    "DIA" 73128548 "SS SPDR DOW JONES INDUS AVG" "ARCA";
    "VTI" 12340041 "VANGUARD TOTAL STOCK MKT ETF" "ARCA";
    "VOO" 136155102 "VANGUARD S&P 500 ETF" "ARCA";
    "XLF" 4215220 "SS FINANCIAL SELECT SECTOR" "ARCA";
    "GLD" 51529211 "SPDR GOLD SHARES" "ARCA";
    "SLV" 39039301 "ISHARES SILVER TRUST" "ARCA";
    "TLT" 15547841 "ISHARES 20+ YEAR TREASURY BD" "NASDAQ";
    "HYG" 43652089 "ISHR IBX USD HIYLD CB ETF-UI" "ARCA";
};

const PAIRS: &[PairRow] = &[
    PairRow { pair: "EUR.USD", conid: 12087792, name: "European Monetary Union Euro" },
    PairRow { pair: "GBP.USD", conid: 12087797, name: "British pound" },
    PairRow { pair: "USD.JPY", conid: 15016059, name: "US dollar" },
    PairRow { pair: "USD.CHF", conid: 12087820, name: "US dollar" },
    PairRow { pair: "AUD.USD", conid: 14433401, name: "Australian dollar" },
    PairRow { pair: "USD.CAD", conid: 15016062, name: "US dollar" },
    PairRow { pair: "NZD.USD", conid: 39453441, name: "New Zealand dollar" },
    PairRow { pair: "EUR.GBP", conid: 12087807, name: "European Monetary Union Euro" },
    PairRow { pair: "EUR.JPY", conid: 14321016, name: "European Monetary Union Euro" },
    PairRow { pair: "EUR.CHF", conid: 12087817, name: "European Monetary Union Euro" },
    PairRow { pair: "GBP.JPY", conid: 14321015, name: "British pound" },
    PairRow { pair: "USD.CNH", conid: 113342317, name: "US dollar" },
    PairRow { pair: "USD.SGD", conid: 37928772, name: "US dollar" },
];

/// Every listed instrument.
pub(super) fn instruments() -> Vec<Instrument> {
    let stocks = STOCKS.iter().map(|row| share(row, ShareKind::Common));
    let etfs = ETFS.iter().map(|row| share(row, ShareKind::Etf));
    stocks.chain(etfs).chain(PAIRS.iter().map(pair)).collect()
}
