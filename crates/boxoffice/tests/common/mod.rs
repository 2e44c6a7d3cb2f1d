//! Shared test helpers: a real server (see `boxoffice_server::testing`) and a small HTTP client
//! that speaks Vista with the demo partner's token.
#![allow(dead_code, unused_imports)]

pub mod receiver;
pub mod ybx;

pub use boxoffice_server::testing::{TestServer, TestStore};
use serde_json::Value;

/// The demo partner's connect API token.
pub const TOKEN: &str = "DEMO-CONNECT-TOKEN";

/// An HTTP response as a test sees it.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Content-Type header.
    pub content_type: String,
    /// Raw body text, exactly as sent.
    pub text: String,
}

impl Reply {
    /// The body parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

/// A client bound to one server.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
}

impl Client {
    /// A client of `server` using the demo token.
    pub fn new(server: &TestServer) -> Client {
        Client::for_url(&server.url)
    }

    /// A client of a base URL using the demo token.
    pub fn for_url(url: &str) -> Client {
        Client {
            base: url.to_string(),
            http: reqwest::Client::new(),
            token: Some(TOKEN.to_string()),
        }
    }

    /// The same client with another token (`None`: no header).
    pub fn with_token(&self, token: Option<&str>) -> Client {
        Client {
            token: token.map(str::to_string),
            ..self.clone()
        }
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> Reply {
        let rb = match &self.token {
            Some(t) => rb.header("connectapitoken", t),
            None => rb,
        };
        let resp = rb.send().await.expect("request");
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = resp.text().await.expect("body");
        Reply {
            status,
            content_type,
            text,
        }
    }

    /// GET a path (with query string) relative to the server root.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(format!("{}{}", self.base, path)))
            .await
    }

    /// POST a raw body.
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> Reply {
        self.send(
            self.http
                .post(format!("{}{}", self.base, path))
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }

    /// POST a JSON value.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_raw(path, serde_json::to_vec(body).expect("json"))
            .await
    }
}

/// Vista paths.
pub const ODATA: &str = "/WSVistaWebClient/OData.svc";
pub const ADD_TICKETS: &str = "/WSVistaWebClient/RESTTicketing.svc/order/tickets";
pub const GET_ORDER: &str = "/WSVistaWebClient/RESTTicketing.svc/order";
pub const CANCEL_ORDER: &str = "/WSVistaWebClient/RESTTicketing.svc/order/cancel";
pub const START_EXTERNAL_PAYMENT: &str =
    "/WSVistaWebClient/RESTTicketing.svc/order/startexternalpayment";
pub const COMPLETE_ORDER: &str = "/WSVistaWebClient/RESTTicketing.svc/order/payment";
pub const QUERY_BOOKING_STATUS: &str =
    "/WSVistaWebClient/RESTTicketing.svc/order/query-booking-status";
pub const GET_SINGLE_BOOKING: &str = "/WSVistaWebClient/RESTBooking.svc/booking";
pub const REFUND_BOOKING: &str = "/WSVistaWebClient/RESTBooking.svc/booking/refund";
pub const COLLECT_BOOKING: &str = "/WSVistaWebClient/RESTBooking.svc/booking/collect";

/// The seat-plan path of a demo session.
pub fn seat_plan(session: &str) -> String {
    format!("/WSVistaWebClient/RESTData.svc/cinemas/0200/sessions/{session}/seat-plan")
}

/// The tickets path of a demo session.
pub fn tickets(session: &str) -> String {
    format!("/WSVistaWebClient/RESTData.svc/cinemas/0200/sessions/{session}/tickets")
}

/// D001's AddTickets example body for an order key and seats `(row, column)` in area 1.
pub fn add_tickets_body(
    key: &str,
    session: &str,
    ticket: &str,
    price: i64,
    seats: &[(i64, i64)],
) -> Value {
    serde_json::json!({
        "UserSessionId": key,
        "CinemaId": "0200",
        "SessionId": session,
        "TicketTypes": [{"TicketTypeCode": ticket, "Qty": seats.len().max(1), "PriceInCents": price, "BookingFeeOverride": null}],
        "ReturnOrder": true,
        "BookingFeeOverride": null,
        "SelectedSeats": seats.iter().map(|(r, c)| serde_json::json!({"AreaCategoryCode": "0000000001", "AreaNumber": 1, "RowIndex": r, "ColumnIndex": c})).collect::<Vec<_>>(),
        "OptionalClientClass": "RSP",
        "OptionalClientId": "111.111.111.111",
        "OptionalClientName": "3rdParty"
    })
}

/// D001's CompleteOrder example body (third-party payment) for an order key and amount.
pub fn complete_body(key: &str, cents: i64) -> Value {
    serde_json::json!({
        "UserSessionId": key,
        "PaymentInfo": {"CardNumber": "123456789012", "CardType": "CreditCard", "PaymentValueCents": cents, "PaymentTenderCategory": "CreditCard"},
        "PerformPayment": false,
        "CustomerPhone": "", "CustomerEmail": "", "CustomerName": "",
        "OptionalClientClass": "RSP", "OptionalClientId": "111.111.111.111", "OptionalClientName": "3rdParty"
    })
}

/// Statuses of every seat of a seat-plan reply, keyed by (row index, column index).
pub fn seat_statuses(plan: &Value) -> std::collections::BTreeMap<(i64, i64, i64), i64> {
    let mut out = std::collections::BTreeMap::new();
    for area in plan["SeatLayoutData"]["Areas"].as_array().expect("areas") {
        for row in area["Rows"].as_array().expect("rows") {
            for seat in row["Seats"].as_array().expect("seats") {
                let p = &seat["Position"];
                out.insert(
                    (
                        p["AreaNumber"].as_i64().unwrap(),
                        p["RowIndex"].as_i64().unwrap(),
                        p["ColumnIndex"].as_i64().unwrap(),
                    ),
                    seat["Status"].as_i64().unwrap(),
                );
            }
        }
    }
    out
}

/// A signed Yueke `/route` GET as the demo channel (YKSE, secret 12345) with the timestamp of
/// the server's clock; returns the envelope after checking HTTP 200.
pub async fn yueke_call(url: &str, now_ms: i64, api: &str, data: &Value) -> Value {
    yueke_call_as(url, now_ms, ("YKSE", "12345"), api, data).await
}

/// [`yueke_call`] as another channel: `(channelCode, secret)`.
pub async fn yueke_call_as(
    url: &str,
    now_ms: i64,
    (channel, secret): (&str, &str),
    api: &str,
    data: &Value,
) -> Value {
    let ts = now_ms.to_string();
    let data = data.to_string();
    let params = [
        ("api", api),
        ("v", "1.0"),
        ("channelCode", channel),
        ("timestamp", ts.as_str()),
        ("data", data.as_str()),
    ];
    let sign = boxoffice_yueke::sign::sign(&params, secret);
    let mut query: Vec<(&str, &str)> = params.to_vec();
    query.push(("sign", &sign));
    let r = reqwest::Client::new()
        .get(format!("{url}/route"))
        .query(&query)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Percent-encodes everything but the unreserved characters (so `+` travels as `%2B`).
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `a=b&c=d`, percent-encoded, in the given order (duplicates kept).
pub fn form(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `data` gzipped (as partner HTTP libraries send request bodies).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

/// CRC-32 (IEEE, as in gzip trailers).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}
