//! Vista wire conventions: lenient request bodies (case-insensitive member names, numbers as
//! strings, `null` ≡ absent), DataContractJsonSerializer-style output (every member present,
//! `/` escaped as `\/`, Chinese unescaped) and Microsoft JSON dates.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::FixedOffset;
use serde_json::{Map, Value};
use std::io;

/// A parsed JSON request body whose members are looked up case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct Body(pub Map<String, Value>);

/// A member that is present but cannot be read as the type the endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadField;

impl Body {
    /// Parses a request body; anything but a JSON object is refused.
    pub fn parse(bytes: &[u8]) -> Option<Body> {
        match serde_json::from_slice::<Value>(bytes).ok()? {
            Value::Object(m) => Some(Body(m)),
            _ => None,
        }
    }
    /// Wraps an object value (nested objects such as `PaymentInfo`).
    pub fn of(v: &Value) -> Option<Body> {
        v.as_object().map(|m| Body(m.clone()))
    }
    /// A member, by case-insensitive name; `null` counts as absent.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .get(name)
            .or_else(|| {
                self.0
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })
            .filter(|v| !v.is_null())
    }
    /// A string member; numbers and booleans are accepted as their text.
    pub fn str(&self, name: &str) -> Result<Option<String>, BadField> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(BadField),
        }
    }
    /// A string member that must be present and non-blank.
    pub fn required_str(&self, name: &str) -> Result<String, BadField> {
        self.str(name)?
            .filter(|s| !s.trim().is_empty())
            .ok_or(BadField)
    }
    /// An integer member; numeric strings are accepted (`"100"`), blank strings are absent.
    pub fn int(&self, name: &str) -> Result<Option<i64>, BadField> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                        .map(|f| f as i64)
                })
                .map(Some)
                .ok_or(BadField),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse::<i64>().map(Some).map_err(|_| BadField),
            Some(_) => Err(BadField),
        }
    }
    /// A boolean member; `"true"`/`"false"` and 0/1 are accepted.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, BadField> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                "" => Ok(None),
                _ => Err(BadField),
            },
            Some(Value::Number(n)) => match n.as_i64() {
                Some(0) => Ok(Some(false)),
                Some(1) => Ok(Some(true)),
                _ => Err(BadField),
            },
            Some(_) => Err(BadField),
        }
    }
    /// An array member (absent: `None`).
    pub fn array(&self, name: &str) -> Result<Option<&Vec<Value>>, BadField> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(BadField),
        }
    }
    /// An object member (absent: `None`).
    pub fn object(&self, name: &str) -> Result<Option<Body>, BadField> {
        match self.get(name) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Body::of(v)),
            Some(_) => Err(BadField),
        }
    }
}

/// Builds a JSON object whose base-class members come first in the given order, followed by the
/// type's own members in ordinal (byte) order, as WCF's DataContractJsonSerializer writes them.
pub fn contract(base: Vec<(&str, Value)>, mut own: Vec<(&str, Value)>) -> Value {
    own.sort_by(|a, b| a.0.cmp(b.0));
    let mut m = Map::with_capacity(base.len() + own.len());
    for (k, v) in base.into_iter().chain(own) {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

/// A data contract without a base class: members in ordinal order.
pub fn sorted(own: Vec<(&str, Value)>) -> Value {
    contract(Vec::new(), own)
}

struct VistaFormatter;

impl serde_json::ser::Formatter for VistaFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(i) = rest.find('/') {
            writer.write_all(&rest.as_bytes()[..i])?;
            writer.write_all(b"\\/")?;
            rest = &rest[i + 1..];
        }
        writer.write_all(rest.as_bytes())
    }
}

/// Serializes as WCF does: compact, `/` escaped as `\/`, non-ASCII as UTF-8.
pub fn to_wire(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, VistaFormatter);
    // Serializing a Value into a Vec cannot fail.
    let _ = serde::Serialize::serialize(v, &mut ser);
    out
}

/// A 200 response with a JSON body in Vista's encoding.
pub fn json_response(v: &Value) -> Response {
    bytes_response(StatusCode::OK, to_wire(v).into())
}

/// A response with pre-rendered JSON bytes.
pub fn bytes_response(status: StatusCode, body: bytes::Bytes) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Formats a UTC offset as `+0800`.
pub fn offset_suffix(offset: FixedOffset) -> String {
    let secs = offset.local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.abs();
    format!("{sign}{:02}{:02}", secs / 3600, (secs % 3600) / 60)
}

/// A Microsoft JSON date with the server's offset: `/Date(1438827090884+0800)/` (the slashes
/// are escaped on output).
pub fn date(ms: i64, offset: FixedOffset) -> Value {
    Value::String(format!("/Date({ms}{})/", offset_suffix(offset)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_case_insensitive_and_lenient() {
        let b = Body::parse(
            br#"{"userSessionId":"A","MaxResults":"100","Qty":2,"Flag":"true","Nothing":null}"#,
        )
        .unwrap();
        assert_eq!(b.str("UserSessionId").unwrap().as_deref(), Some("A"));
        assert_eq!(b.int("maxresults").unwrap(), Some(100));
        assert_eq!(b.str("qty").unwrap().as_deref(), Some("2"));
        assert_eq!(b.bool("flag").unwrap(), Some(true));
        assert_eq!(b.str("nothing").unwrap(), None);
        assert_eq!(b.int("UserSessionId"), Err(BadField));
        assert!(Body::parse(b"[1]").is_none());
        assert!(Body::parse(b"{").is_none());
    }

    #[test]
    fn output_escapes_slashes_and_keeps_chinese() {
        let v = contract(
            vec![("ErrorDescription", Value::Null), ("Result", json!(0))],
            vec![
                ("Z", json!("一号厅")),
                (
                    "A",
                    date(1438827090884, FixedOffset::east_opt(8 * 3600).unwrap()),
                ),
            ],
        );
        assert_eq!(
            String::from_utf8(to_wire(&v)).unwrap(),
            r#"{"ErrorDescription":null,"Result":0,"A":"\/Date(1438827090884+0800)\/","Z":"一号厅"}"#
        );
    }
}
