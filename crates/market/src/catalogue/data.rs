//! The listed instruments. Conids, names and listing exchanges are IBKR's (names as IBKR
//! truncates them); industry and category follow the classification IBKR's contract details
//! report. After `@` come the simulation's parameters: the price at the path's reference
//! instant (close to the instrument's real level around the start of 2026) and the annual
//! volatility (close to its real recent level; an index fund calmer than a single stock).

use model::{Instrument, ShareKind};

use super::{Profile, coin, german_share, pair, share};

pub(super) struct ShareRow {
    pub(super) symbol: &'static str,
    pub(super) conid: u32,
    pub(super) name: &'static str,
    pub(super) exchange: &'static str,
    pub(super) industry: Option<&'static str>,
    pub(super) category: Option<&'static str>,
    pub(super) price: f64,
    pub(super) volatility: f64,
}

pub(super) struct CoinRow {
    pub(super) symbol: &'static str,
    pub(super) conid: u32,
    pub(super) name: &'static str,
    /// PAXOS's price increment, in dollars.
    pub(super) tick: (i64, u32),
    pub(super) price: f64,
    pub(super) volatility: f64,
}

pub(super) struct PairRow {
    pub(super) pair: &'static str,
    pub(super) conid: u32,
    pub(super) name: &'static str,
    pub(super) price: f64,
    pub(super) volatility: f64,
}

macro_rules! shares {
    ($($symbol:literal $conid:literal $name:literal $exchange:literal $($industry:literal / $category:literal)? @ $price:literal, $volatility:literal;)*) => {
        &[$(ShareRow {
            symbol: $symbol,
            conid: $conid,
            name: $name,
            exchange: $exchange,
            industry: shares!(@opt $($industry)?),
            category: shares!(@opt $($category)?),
            price: $price,
            volatility: $volatility,
        },)*]
    };
    (@opt) => { None };
    (@opt $value:literal) => { Some($value) };
}

const STOCKS: &[ShareRow] = shares! {
    "AAPL" 265598 "APPLE INC" "NASDAQ" "Technology" / "Computers" @ 270.0, 0.28;
    "MSFT" 272093 "MICROSOFT CORP" "NASDAQ" "Technology" / "Software" @ 480.0, 0.25;
    "IBM" 8314 "INTL BUSINESS MACHINES CORP" "NYSE" "Technology" / "Computers" @ 300.0, 0.27;
    "AMZN" 3691937 "AMAZON.COM INC" "NASDAQ" "Communications" / "Internet" @ 230.0, 0.32;
    "GOOGL" 208813719 "ALPHABET INC-CL A" "NASDAQ" "Communications" / "Internet" @ 300.0, 0.3;
    "GOOG" 208813720 "ALPHABET INC-CL C" "NASDAQ" "Communications" / "Internet" @ 300.0, 0.3;
    "TSLA" 76792991 "TESLA INC" "NASDAQ" "Consumer, Cyclical" / "Auto Manufacturers" @ 430.0, 0.6;
    "NVDA" 4815747 "NVIDIA CORP" "NASDAQ" "Technology" / "Semiconductors" @ 185.0, 0.5;
    "META" 107113386 "META PLATFORMS INC-CLASS A" "NASDAQ" "Communications" / "Internet" @ 650.0, 0.38;
    "NFLX" 15124833 "NETFLIX INC" "NASDAQ" "Communications" / "Internet" @ 95.0, 0.4;
    "AMD" 4391 "ADVANCED MICRO DEVICES" "NASDAQ" "Technology" / "Semiconductors" @ 215.0, 0.52;
    "INTC" 270639 "INTEL CORP" "NASDAQ" "Technology" / "Semiconductors" @ 38.0, 0.45;
    "JPM" 1520593 "JPMORGAN CHASE & CO" "NYSE" "Financial" / "Banks" @ 310.0, 0.24;
    "BAC" 10098 "BANK OF AMERICA CORP" "NYSE" "Financial" / "Banks" @ 52.0, 0.27;
    "WFC" 10375 "WELLS FARGO & CO" "NYSE" "Financial" / "Banks" @ 85.0, 0.28;
    "GS" 4627828 "GOLDMAN SACHS GROUP INC" "NYSE" "Financial" / "Banks" @ 800.0, 0.3;
    "MS" 2841574 "MORGAN STANLEY" "NYSE" "Financial" / "Banks" @ 160.0, 0.29;
    "C" 87335484 "CITIGROUP INC" "NYSE" "Financial" / "Banks" @ 100.0, 0.3;
    "V" 49462172 "VISA INC-CLASS A SHARES" "NYSE" "Financial" / "Diversified Finan Serv" @ 340.0, 0.21;
    "MA" 38685693 "MASTERCARD INC - A" "NYSE" "Financial" / "Diversified Finan Serv" @ 560.0, 0.22;
    "AXP" 4721 "AMERICAN EXPRESS CO" "NYSE" "Financial" / "Diversified Finan Serv" @ 360.0, 0.28;
    "KO" 8894 "COCA-COLA CO/THE" "NYSE" "Consumer, Non-cyclical" / "Beverages" @ 70.0, 0.16;
    "PEP" 11017 "PEPSICO INC" "NASDAQ" "Consumer, Non-cyclical" / "Beverages" @ 150.0, 0.18;
    "WMT" 13824 "WALMART INC" "NASDAQ" "Consumer, Cyclical" / "Retail" @ 105.0, 0.2;
    "COST" 272997 "COSTCO WHOLESALE CORP" "NASDAQ" "Consumer, Cyclical" / "Retail" @ 920.0, 0.22;
    "HD" 7930 "HOME DEPOT INC" "NYSE" "Consumer, Cyclical" / "Retail" @ 360.0, 0.24;
    "NKE" 10291 "NIKE INC -CL B" "NYSE" "Consumer, Cyclical" / "Apparel" @ 62.0, 0.35;
    "F" 9599491 "FORD MOTOR CO" "NYSE" "Consumer, Cyclical" / "Auto Manufacturers" @ 13.0, 0.38;
    "DIS" 6459 "WALT DISNEY CO/THE" "NYSE" "Communications" / "Media" @ 112.0, 0.28;
    "JNJ" 8719 "JOHNSON & JOHNSON" "NYSE" "Consumer, Non-cyclical" / "Pharmaceuticals" @ 200.0, 0.17;
    "PG" 11054 "PROCTER & GAMBLE CO/THE" "NYSE" "Consumer, Non-cyclical" / "Cosmetics/Personal Care" @ 150.0, 0.17;
    "PFE" 11031 "PFIZER INC" "NYSE" "Consumer, Non-cyclical" / "Pharmaceuticals" @ 25.0, 0.25;
    "MRK" 70101545 "MERCK & CO INC" "NYSE" "Consumer, Non-cyclical" / "Pharmaceuticals" @ 95.0, 0.25;
    "ABBV" 118089500 "ABBVIE INC" "NYSE" "Consumer, Non-cyclical" / "Pharmaceuticals" @ 220.0, 0.26;
    "LLY" 9160 "ELI LILLY & CO" "NYSE" "Consumer, Non-cyclical" / "Pharmaceuticals" @ 1000.0, 0.33;
    "UNH" 13272 "UNITEDHEALTH GROUP INC" "NYSE" "Consumer, Non-cyclical" / "Healthcare-Services" @ 330.0, 0.35;
    "XOM" 895178251 "EXXONMOBIL HOLDINGS CORP" "NYSE" "Energy" / "Oil&Gas" @ 115.0, 0.24;
    "CVX" 5684 "CHEVRON CORP" "NYSE" "Energy" / "Oil&Gas" @ 150.0, 0.24;
    "BA" 4762 "BOEING CO/THE" "NYSE" "Industrial" / "Aerospace/Defense" @ 200.0, 0.35;
    "CAT" 5437 "CATERPILLAR INC" "NYSE" "Industrial" / "Machinery-Constr&Mining" @ 580.0, 0.3;
    "CSCO" 268084 "CISCO SYSTEMS INC" "NASDAQ" "Communications" / "Telecommunications" @ 75.0, 0.22;
    "T" 37018770 "AT&T INC" "NYSE" "Communications" / "Telecommunications" @ 25.0, 0.2;
    "VZ" 4901 "VERIZON COMMUNICATIONS INC" "NYSE" "Communications" / "Telecommunications" @ 40.0, 0.19;
    "ORCL" 272800 "ORACLE CORP" "NYSE" "Technology" / "Software" @ 220.0, 0.45;
    "ADBE" 265768 "ADOBE INC" "NASDAQ" "Technology" / "Software" @ 340.0, 0.33;
    "CRM" 29624264 "SALESFORCE INC" "NYSE" "Technology" / "Software" @ 240.0, 0.33;
    "INTU" 270662 "INTUIT INC" "NASDAQ" "Technology" / "Software" @ 650.0, 0.32;
    "NOW" 109911821 "SERVICENOW INC" "NYSE" "Technology" / "Software" @ 170.0, 0.38;
    "QCOM" 273544 "QUALCOMM INC" "NASDAQ" "Technology" / "Semiconductors" @ 170.0, 0.35;
    "TXN" 13096 "TEXAS INSTRUMENTS INC" "NASDAQ" "Technology" / "Semiconductors" @ 170.0, 0.3;
    "AVGO" 313130367 "BROADCOM INC" "NASDAQ" "Technology" / "Semiconductors" @ 350.0, 0.45;
    "TSM" 6223250 "TAIWAN SEMICONDUCTOR-SP ADR" "NYSE" "Technology" / "Semiconductors" @ 290.0, 0.4;
    "BRK B" 72063691 "BERKSHIRE HATHAWAY INC-CL B" "NYSE" "Financial" / "Insurance" @ 500.0, 0.17;
    "PYPL" 199169591 "PAYPAL HOLDINGS INC" "NASDAQ" "Consumer, Non-cyclical" / "Commercial Services" @ 62.0, 0.35;
    "UBER" 365207014 "UBER TECHNOLOGIES INC" "NYSE" "Industrial" / "Transportation" @ 90.0, 0.38;
    "IBKR" 43645865 "INTERACTIVE BROKERS GRO-CL A" "NASDAQ" "Financial" / "Diversified Finan Serv" @ 65.0, 0.4;
};

const ETFS: &[ShareRow] = shares! {
    "SPY" 756733 "SS SPDR S&P 500 ETF TRUST-US" "ARCA" @ 680.0, 0.15;
    "QQQ" 320227571 "INVESCO QQQ TRUST SERIES 1" "NASDAQ" @ 610.0, 0.2;
    "IWM" 9579970 "ISHARES RUSSELL 2000 ETF" "ARCA" @ 245.0, 0.22;
    "DIA" 73128548 "SS SPDR DOW JONES INDUS AVG" "ARCA" @ 470.0, 0.14;
    "VTI" 12340041 "VANGUARD TOTAL STOCK MKT ETF" "ARCA" @ 330.0, 0.15;
    "VOO" 136155102 "VANGUARD S&P 500 ETF" "ARCA" @ 625.0, 0.15;
    "XLF" 4215220 "SS FINANCIAL SELECT SECTOR" "ARCA" @ 53.0, 0.18;
    "GLD" 51529211 "SPDR GOLD SHARES" "ARCA" @ 380.0, 0.16;
    "SLV" 39039301 "ISHARES SILVER TRUST" "ARCA" @ 45.0, 0.3;
    "TLT" 15547841 "ISHARES 20+ YEAR TREASURY BD" "NASDAQ" @ 89.0, 0.14;
    "HYG" 43652089 "ISHR IBX USD HIYLD CB ETF-UI" "ARCA" @ 80.0, 0.06;
};

const PAIRS: &[PairRow] = &[
    PairRow {
        pair: "EUR.USD",
        conid: 12087792,
        name: "European Monetary Union Euro",
        price: 1.16,
        volatility: 0.07,
    },
    PairRow { pair: "GBP.USD", conid: 12087797, name: "British pound", price: 1.32, volatility: 0.08 },
    PairRow { pair: "USD.JPY", conid: 15016059, name: "US dollar", price: 155.0, volatility: 0.1 },
    PairRow { pair: "USD.CHF", conid: 12087820, name: "US dollar", price: 0.8, volatility: 0.08 },
    PairRow { pair: "AUD.USD", conid: 14433401, name: "Australian dollar", price: 0.65, volatility: 0.1 },
    PairRow { pair: "USD.CAD", conid: 15016062, name: "US dollar", price: 1.4, volatility: 0.06 },
    PairRow { pair: "NZD.USD", conid: 39453441, name: "New Zealand dollar", price: 0.57, volatility: 0.1 },
    PairRow {
        pair: "EUR.GBP",
        conid: 12087807,
        name: "European Monetary Union Euro",
        price: 0.88,
        volatility: 0.06,
    },
    PairRow {
        pair: "EUR.JPY",
        conid: 14321016,
        name: "European Monetary Union Euro",
        price: 180.0,
        volatility: 0.1,
    },
    PairRow {
        pair: "EUR.CHF",
        conid: 12087817,
        name: "European Monetary Union Euro",
        price: 0.93,
        volatility: 0.06,
    },
    PairRow { pair: "GBP.JPY", conid: 14321015, name: "British pound", price: 205.0, volatility: 0.11 },
    PairRow { pair: "USD.CNH", conid: 113342317, name: "US dollar", price: 7.1, volatility: 0.04 },
    PairRow { pair: "USD.SGD", conid: 37928772, name: "US dollar", price: 1.3, volatility: 0.05 },
];

/// Coins IBKR trades through PAXOS, against the dollar.
const COINS: &[CoinRow] = &[
    CoinRow {
        symbol: "BTC",
        conid: 479624278,
        name: "Bitcoin cryptocurrency",
        tick: (25, 2),
        price: 89_000.0,
        volatility: 0.5,
    },
    CoinRow {
        symbol: "ETH",
        conid: 495759171,
        name: "Ethereum cryptocurrency",
        tick: (5, 2),
        price: 3_000.0,
        volatility: 0.7,
    },
];

/// Every listed instrument, with its simulation profile.
/// German shares on Xetra (IBKR's `IBIS`), priced in euros.
const GERMAN_SHARES: &[ShareRow] = shares! {
    "SAP" 14204 "SAP SE" "IBIS" "Technology" / "Software" @ 240.0, 0.28;
    "BAYN" 68598660 "BAYER AG-REG" "IBIS" "Consumer, Non-cyclical" / "Pharmaceuticals" @ 28.0, 0.35;
};

pub(super) fn instruments() -> Vec<(Instrument, Profile)> {
    let stocks = STOCKS.iter().map(|row| share(row, ShareKind::Common));
    let etfs = ETFS.iter().map(|row| share(row, ShareKind::Etf));
    let german = GERMAN_SHARES.iter().map(german_share);
    stocks.chain(etfs).chain(german).chain(PAIRS.iter().map(pair)).chain(COINS.iter().map(coin)).collect()
}
