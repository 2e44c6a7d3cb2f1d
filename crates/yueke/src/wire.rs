//! Yueke wire conventions: the `{api, v, retCode, retMsg, data}` envelope, the business result
//! `B` (`{bizCode, bizMsg, data | dataList}`), lenient reading of the `data` JSON, money as
//! two-decimal yuan strings from integer fen, and `yyyy-MM-dd HH:mm:ss` times.

use crate::codes::{BizCode, SysCode};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde_json::{json, Map, Value};

/// A system-level failure: the envelope without `data` (G-ENV-1).
pub fn system_error(api: &str, v: &str, code: SysCode) -> Response {
    respond(&json!({"api": api, "v": v, "retCode": code.code, "retMsg": code.msg}))
}

/// A business result with an object payload (`B.data`), or none.
pub fn object(api: &str, v: &str, code: BizCode, data: Option<Value>) -> Response {
    body(object_body(api, v, code, data).into())
}

/// The body of [`object`], for caching.
pub fn object_body(api: &str, v: &str, code: BizCode, data: Option<Value>) -> Vec<u8> {
    let mut b = Map::new();
    b.insert("bizCode".into(), code.code.into());
    b.insert("bizMsg".into(), code.msg.into());
    if let Some(d) = data {
        b.insert("data".into(), d);
    }
    envelope(api, v, Value::Object(b))
}

/// A business result with a list payload (`B.dataList`).
pub fn list(api: &str, v: &str, code: BizCode, items: Vec<Value>) -> Response {
    body(list_body(api, v, code, items).into())
}

/// The body of [`list`], for caching.
pub fn list_body(api: &str, v: &str, code: BizCode, items: Vec<Value>) -> Vec<u8> {
    envelope(
        api,
        v,
        json!({"bizCode": code.code, "bizMsg": code.msg, "dataList": items}),
    )
}

/// A business failure (no payload).
pub fn failure(api: &str, v: &str, code: BizCode) -> Response {
    object(api, v, code, None)
}

fn envelope(api: &str, v: &str, b: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"api": api, "v": v, "retCode": "0", "retMsg": "success", "data": b}))
        .unwrap_or_default()
}

fn respond(v: &Value) -> Response {
    body(serde_json::to_vec(v).unwrap_or_default().into())
}

/// A response with an already rendered JSON body.
pub fn body(bytes: bytes::Bytes) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        bytes,
    )
        .into_response()
}

/// Fen as yuan with exactly two decimals: 3500 → `"35.00"`.
pub fn money(fen: i64) -> String {
    boxoffice_core::money::yuan(fen)
}

/// Parses yuan with at most two decimals (`"10"`, `"9.9"`, `"10.00"`) into fen.
pub fn parse_money(s: &str) -> Option<i64> {
    boxoffice_core::money::parse_yuan(s, boxoffice_core::money::Sign::Any)
}

/// Parses a business date `yyyy-MM-dd`, also accepting unpadded `yyyy-M-d` (G-TIME-1).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let mut it = s.trim().split('-');
    let (y, m, d) = (
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    );
    if it.next().is_some() {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The business parameters (`data`), read leniently: strings or numbers for scalars, arrays
/// also as JSON text (G-DATA-2).
#[derive(Debug, Clone, Default)]
pub struct Data(pub Map<String, Value>);

/// A business parameter that is present but malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadParam;

impl Data {
    /// A scalar as text; `None` when absent, null or blank.
    pub fn str(&self, name: &str) -> Result<Option<String>, BadParam> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(BadParam),
        }
    }
    /// An array, given as JSON or as JSON text; `None` when absent.
    pub fn array(&self, name: &str) -> Result<Option<Vec<Value>>, BadParam> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a.clone())),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Array(a)) => Ok(Some(a)),
                _ => Err(BadParam),
            },
            Some(_) => Err(BadParam),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_round_trips() {
        assert_eq!(money(3500), "35.00");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(-120), "-1.20");
        assert_eq!(parse_money("9.9"), Some(990));
        assert_eq!(parse_money("999"), Some(99900));
        assert_eq!(parse_money("10.00"), Some(1000));
        assert_eq!(parse_money("1.234"), None);
        assert_eq!(parse_money("abc"), None);
        assert_eq!(parse_money(".5"), None);
    }

    #[test]
    fn dates_accept_unpadded_forms() {
        assert_eq!(parse_date("2016-01-5"), NaiveDate::from_ymd_opt(2016, 1, 5));
        assert_eq!(
            parse_date("2016-01-05"),
            NaiveDate::from_ymd_opt(2016, 1, 5)
        );
        assert_eq!(parse_date("2016-13-05"), None);
        assert_eq!(parse_date("20160105"), None);
    }

    #[test]
    fn arrays_may_arrive_as_text() {
        let d =
            Data(serde_json::from_str(r#"{"a":["x"],"b":"[\"y\"]","c":"nope","n":12}"#).unwrap());
        assert_eq!(d.array("a").unwrap().unwrap().len(), 1);
        assert_eq!(d.array("b").unwrap().unwrap()[0], "y");
        assert_eq!(d.array("c"), Err(BadParam));
        assert_eq!(d.str("n").unwrap().as_deref(), Some("12"));
    }
}

#[cfg(test)]
mod money_properties {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_extremes_format() {
        assert_eq!(money(i64::MIN), "-92233720368547758.08");
        assert_eq!(money(i64::MAX), "92233720368547758.07");
    }

    /// The value of a decimal `[-]digits[.d[d]]` computed on the text alone (wide integers).
    fn oracle(neg: bool, int: &str, frac: &str) -> Option<i64> {
        let yuan: i128 = int.parse().ok()?;
        let cents: i128 = format!("{frac:0<2}").parse().ok()?;
        let v = i64::try_from(yuan * 100 + cents).ok()?;
        Some(if neg { -v } else { v })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn format_then_parse_is_identity(fen in -i64::MAX..=i64::MAX) {
            let text = money(fen);
            prop_assert_eq!(parse_money(&text), Some(fen), "{}", text);
            // Exactly two decimals, a sign only for negative amounts.
            let (int, frac) = text.trim_start_matches('-').split_once('.').expect("a point");
            prop_assert_eq!(frac.len(), 2);
            prop_assert!(int.chars().all(|c| c.is_ascii_digit()) && !int.is_empty());
            prop_assert_eq!(text.starts_with('-'), fen < 0);
        }

        #[test]
        fn formatting_never_panics(fen in any::<i64>()) {
            let text = money(fen);
            prop_assert_eq!(text.starts_with('-'), fen < 0);
        }

        #[test]
        fn decimals_parse_to_their_value(
            neg in any::<bool>(),
            int in "[0-9]{1,20}",
            frac in "[0-9]{0,2}",
            point in any::<bool>(),
        ) {
            let text = format!(
                "{}{int}{}{frac}",
                if neg { "-" } else { "" },
                if point || !frac.is_empty() { "." } else { "" },
            );
            prop_assert_eq!(parse_money(&text), oracle(neg, &int, &frac), "{}", text);
        }

        #[test]
        fn any_text_is_parsed_or_refused_without_panic(text in any::<String>()) {
            if let Some(v) = parse_money(&text) {
                // Whatever is accepted is a plain decimal and formats back to the same value.
                prop_assert_eq!(parse_money(&money(v)), Some(v));
                let t = text.trim().trim_start_matches('-');
                prop_assert!(t.chars().all(|c| c.is_ascii_digit() || c == '.'), "{:?}", text);
            }
        }

        #[test]
        fn more_than_two_decimals_or_stray_signs_are_refused(
            int in "[0-9]{1,6}",
            frac in "[0-9]{3,6}",
        ) {
            prop_assert_eq!(parse_money(&format!("{int}.{frac}")), None);
            prop_assert_eq!(parse_money(&format!("+{int}")), None);
            prop_assert_eq!(parse_money(&format!("--{int}")), None);
            prop_assert_eq!(parse_money(&format!("{int}-")), None);
        }
    }
}
