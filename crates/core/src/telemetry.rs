//! What an operator sees of the traffic: the outcome of each partner request (which protocol,
//! which wire endpoint, which partner, which of the protocol's own result codes) and the names
//! of the metrics the server exports.
//!
//! Each protocol front end puts an [`Outcome`] into the extensions of the response of its
//! single dispatch point; one middleware in the server reads it, logs the request and counts
//! it. The business counters (holds, sales, refunds) are emitted here, by the use cases, so
//! that every protocol and the operator side count the same way.

use crate::scenic::VisitState;

/// The partner protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Vista Connect (`/WSVistaWebClient/…`).
    Vista,
    /// Yueke cloud (`/route?api=ykse.partner.*`).
    Yueke,
    /// 游宝星 e-ticket (`/ybx/*.aspx`).
    Ybx,
}

impl Protocol {
    /// The label value (`vista`, `yueke`, `ybx`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Vista => "vista",
            Protocol::Yueke => "yueke",
            Protocol::Ybx => "ybx",
        }
    }
}

/// How a request ended, as the protocol says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The protocol.
    pub protocol: Protocol,
    /// The wire name: Vista path template, Yueke `api`, 游宝星 page.
    pub endpoint: String,
    /// The partner's code (or, when authentication failed, the identifier the caller claimed,
    /// never a secret); `None` when unknown.
    pub partner: Option<String>,
    /// The protocol's own result code (Vista `Result`/`ResponseCode` or the HTTP status of
    /// OData, Yueke `retCode` or `bizCode`, 游宝星 `ErrorCode`).
    pub code: String,
    /// Whether the request was refused because the caller could not be authenticated.
    pub auth_failure: bool,
}

impl Outcome {
    /// An outcome of an authenticated (or anonymous) request.
    pub fn new(protocol: Protocol, endpoint: impl Into<String>, code: impl ToString) -> Outcome {
        Outcome {
            protocol,
            endpoint: endpoint.into(),
            partner: None,
            code: code.to_string(),
            auth_failure: false,
        }
    }

    /// The same naming a partner.
    pub fn partner(mut self, partner: Option<impl Into<String>>) -> Outcome {
        self.partner = partner.map(Into::into);
        self
    }

    /// The same marked as an authentication failure.
    pub fn auth_failed(mut self, failed: bool) -> Outcome {
        self.auth_failure = failed;
        self
    }
}

/// The names of the exported metrics (Prometheus text at `GET /metrics`).
pub mod names {
    /// Partner requests, by `protocol`, `endpoint` and `code`.
    pub const REQUESTS: &str = "boxoffice_requests_total";
    /// Partner request latency in seconds, by `protocol` and `endpoint` (a histogram).
    pub const REQUEST_SECONDS: &str = "boxoffice_request_duration_seconds";
    /// Failed authentications, by `protocol`.
    pub const AUTH_FAILURES: &str = "boxoffice_auth_failures_total";
    /// Holds made (cinema seat holds, scenic orders booked), by `kind`.
    pub const HOLDS: &str = "boxoffice_holds_total";
    /// Sales (cinema orders completed into bookings, scenic orders paid), by `kind`.
    pub const SALES: &str = "boxoffice_sales_total";
    /// Refunds (cinema bookings refunded, scenic orders refunded), by `kind`.
    pub const REFUNDS: &str = "boxoffice_refunds_total";
    /// Callback outbox items waiting (pending), all protocols.
    pub const OUTBOX_DEPTH: &str = "boxoffice_outbox_pending";
    /// Age in seconds of the oldest outbox item that is due (0 when none is).
    pub const OUTBOX_OLDEST_DUE_SECONDS: &str = "boxoffice_outbox_oldest_due_seconds";
    /// Database connections open.
    pub const DB_CONNECTIONS: &str = "boxoffice_db_connections";
    /// Database connections in use.
    pub const DB_CONNECTIONS_BUSY: &str = "boxoffice_db_connections_busy";
    /// Database connections the pool may open.
    pub const DB_CONNECTIONS_MAX: &str = "boxoffice_db_connections_max";
}

/// What a business counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Cinema and theatre seats (the order/booking half).
    Cinema,
    /// Scenic-area visit orders.
    Scenic,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Cinema => "cinema",
            Kind::Scenic => "scenic",
        }
    }
}

/// Counts a hold.
pub fn hold(kind: Kind) {
    metrics::counter!(names::HOLDS, "kind" => kind.as_str()).increment(1);
}

/// Counts a sale.
pub fn sale(kind: Kind) {
    metrics::counter!(names::SALES, "kind" => kind.as_str()).increment(1);
}

/// Counts a refund.
pub fn refund(kind: Kind) {
    metrics::counter!(names::REFUNDS, "kind" => kind.as_str()).increment(1);
}

/// States in which a visit order has been paid (or its payment authorized).
const PAID: [VisitState; 7] = [
    VisitState::DepositAuthorized,
    VisitState::RebateAuthorized,
    VisitState::Delivered,
    VisitState::DeliveredRebate,
    VisitState::DeliveredCounter,
    VisitState::PaidUnapproved,
    VisitState::Paid,
];

/// Counts a visit order's change of state that was made: a sale when an unpaid (booked) order
/// became paid, a refund when it became refunded.
pub fn visit_change(from: &[VisitState], to: VisitState) {
    if from.contains(&VisitState::Booked) && PAID.contains(&to) {
        sale(Kind::Scenic);
    }
    if to == VisitState::Refunded && !from.contains(&VisitState::Refunded) {
        refund(Kind::Scenic);
    }
}

/// Counts a visit order that was created: a hold when booked unpaid, a sale when created paid.
pub fn visit_created(state: VisitState) {
    if state == VisitState::Booked {
        hold(Kind::Scenic);
    } else if PAID.contains(&state) {
        sale(Kind::Scenic);
    }
}

/// Reads one field of a JSON document, `path` naming nested object members (e.g.
/// `["data", "bizCode"]`), and stops reading as soon as it is found: a result code near the
/// start of a large answer costs what precedes it, not the whole body. `None` when absent or
/// when the document is not JSON. (A serde visitor over serde_json, not a parser of its own.)
pub fn peek_json(body: &[u8], path: &[&str]) -> Option<serde_json::Value> {
    let mut found = None;
    let mut de = serde_json::Deserializer::from_slice(body);
    // Finding the field ends the walk with a deliberate error; other errors mean "absent".
    let _ = serde::de::DeserializeSeed::deserialize(
        Peek {
            path,
            found: &mut found,
        },
        &mut de,
    );
    found
}

/// The text of a peeked result code: strings as they are, numbers in decimal.
pub fn code_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

struct Peek<'a> {
    path: &'a [&'a str],
    found: &'a mut Option<serde_json::Value>,
}

const FOUND: &str = "found";

impl<'de> serde::de::DeserializeSeed<'de> for Peek<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Peek<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.path.split_first() else {
            return Ok(());
        };
        while let Some(key) = map.next_key::<String>()? {
            if key != *first {
                map.next_value::<serde::de::IgnoredAny>()?;
            } else if rest.is_empty() {
                *self.found = Some(map.next_value::<serde_json::Value>()?);
                return Err(serde::de::Error::custom(FOUND));
            } else {
                return map.next_value_seed(Peek {
                    path: rest,
                    found: self.found,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn peeks_nested_fields_and_stops_early() {
        let body =
            br#"{"api":"x","retCode":"0","data":{"bizCode":"SUCCESS","data":{"a":1}}, "broken": "#;
        assert_eq!(peek_json(body, &["retCode"]), Some(json!("0")));
        assert_eq!(
            peek_json(body, &["data", "bizCode"]),
            Some(json!("SUCCESS"))
        );
        assert_eq!(
            peek_json(br#"{"Order":{"Result":5},"Result":0}"#, &["Result"]),
            Some(json!(0))
        );
        assert_eq!(peek_json(br#"{"a":1}"#, &["Result"]), None);
        assert_eq!(peek_json(b"<xml/>", &["Result"]), None);
        assert_eq!(
            peek_json(br#"{"data":{"x":1},"y":2}"#, &["data", "bizCode"]),
            None
        );
    }
}
