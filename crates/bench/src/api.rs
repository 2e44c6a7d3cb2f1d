//! The few Vista Connect calls the benchmark makes, over one keep-alive HTTP client.

use anyhow::{anyhow, Context};
use serde_json::{json, Value};
use std::time::Duration;

/// AddTickets (hold seats).
pub const ADD_TICKETS: &str = "/WSVistaWebClient/RESTTicketing.svc/order/tickets";
/// CompleteOrder (book a held order after an external payment).
pub const COMPLETE_ORDER: &str = "/WSVistaWebClient/RESTTicketing.svc/order/payment";
/// GetSingleBooking.
pub const GET_SINGLE_BOOKING: &str = "/WSVistaWebClient/RESTBooking.svc/booking";

/// Vista `Result` of AddTickets when a seat is already taken.
pub const SEATS_UNAVAILABLE: i64 = 8;

/// A seat as AddTickets names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Seat {
    /// Area category code of the seat's area.
    pub area_category: String,
    /// Area number.
    pub area: i64,
    /// Row index.
    pub row: i64,
    /// Column index.
    pub column: i64,
    /// The seat's Yueke `seatId`: `{area number in 16 digits}-{physical row name}-{seat name,
    /// numeric names padded to two digits}`.
    pub yueke: String,
}

impl Seat {
    /// The key that identifies the seat within its session.
    pub fn key(&self) -> (i64, i64, i64) {
        (self.area, self.row, self.column)
    }
}

/// One seat of a seat plan with its status as the caller sees it.
#[derive(Debug, Clone)]
pub struct PlanSeat {
    /// Position.
    pub seat: Seat,
    /// Status: 0 free, 1 sold or held by another order, others fixed layout kinds.
    pub status: i64,
}

/// A reply: HTTP status and body text.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: bytes::Bytes,
}

impl Reply {
    /// The body parsed as JSON.
    pub fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            anyhow!(
                "HTTP {} with a body that is not JSON ({e}): {}",
                self.status,
                self.text()
            )
        })
    }

    /// The body as (lossy) text, cut to a readable length.
    pub fn text(&self) -> String {
        let t = String::from_utf8_lossy(&self.body);
        if t.chars().count() > 600 {
            let cut: String = t.chars().take(600).collect();
            format!("{cut}…")
        } else {
            t.into_owned()
        }
    }
}

/// A client bound to one server and one partner token.
#[derive(Clone)]
pub struct Api {
    /// Base URL without a trailing slash.
    pub base: String,
    /// Cinema (venue) code.
    pub cinema: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    /// A client with its own connection pool (one keep-alive connection per worker).
    pub fn new(base: &str, token: &str, cinema: &str) -> anyhow::Result<Api> {
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(4)
            .timeout(Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        Ok(Api {
            base: base.trim_end_matches('/').to_string(),
            cinema: cinema.to_string(),
            token: token.to_string(),
            http,
        })
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> anyhow::Result<Reply> {
        let resp = rb.header("connectapitoken", &self.token).send().await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await?;
        Ok(Reply { status, body })
    }

    /// GET a path relative to the base URL.
    pub async fn get(&self, path: &str) -> anyhow::Result<Reply> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// POST a JSON body to a path relative to the base URL.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Reply> {
        let bytes = serde_json::to_vec(body)?;
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .body(bytes),
        )
        .await
    }

    /// The seat-plan path of a session.
    pub fn seat_plan_path(&self, session: &str) -> String {
        format!(
            "/WSVistaWebClient/RESTData.svc/cinemas/{}/sessions/{session}/seat-plan",
            self.cinema
        )
    }

    /// The tickets path of a session.
    pub fn tickets_path(&self, session: &str) -> String {
        format!(
            "/WSVistaWebClient/RESTData.svc/cinemas/{}/sessions/{session}/tickets",
            self.cinema
        )
    }

    /// Whether `/healthz` answers 200.
    pub async fn healthy(&self) -> bool {
        matches!(self.http.get(format!("{}/healthz", self.base)).send().await, Ok(r) if r.status().is_success())
    }

    /// Every seat of a session's seat plan.
    pub async fn seat_plan(&self, session: &str) -> anyhow::Result<Vec<PlanSeat>> {
        let reply = self.get(&self.seat_plan_path(session)).await?;
        let v = reply.json()?;
        if reply.status != 200 || v["ResponseCode"].as_i64() != Some(0) {
            return Err(anyhow!(
                "seat plan of session {session}: HTTP {}: {}",
                reply.status,
                reply.text()
            ));
        }
        parse_seat_plan(&v).with_context(|| format!("seat plan of session {session}"))
    }

    /// Ticket types sold to this partner for a session: (area category, ticket type, price).
    pub async fn tickets(&self, session: &str) -> anyhow::Result<Vec<(String, String, i64)>> {
        let reply = self.get(&self.tickets_path(session)).await?;
        let v = reply.json()?;
        if reply.status != 200 || v["ResponseCode"].as_i64() != Some(0) {
            return Err(anyhow!(
                "tickets of session {session}: HTTP {}: {}",
                reply.status,
                reply.text()
            ));
        }
        let mut out = Vec::new();
        for t in v["Tickets"].as_array().into_iter().flatten() {
            if t["IsAvailableForLoyaltyMembersOnly"].as_bool() == Some(true) {
                continue;
            }
            if let (Some(area), Some(code), Some(price)) = (
                t["AreaCategoryCode"].as_str(),
                t["TicketTypeCode"].as_str(),
                t["PriceInCents"].as_i64(),
            ) {
                out.push((area.to_string(), code.to_string(), price));
            }
        }
        Ok(out)
    }
}

/// Reads `SeatLayoutData.Areas[].Rows[].Seats[]` of a seat-plan reply.
pub fn parse_seat_plan(v: &Value) -> anyhow::Result<Vec<PlanSeat>> {
    let mut out = Vec::new();
    let areas = v["SeatLayoutData"]["Areas"]
        .as_array()
        .ok_or_else(|| anyhow!("no SeatLayoutData.Areas"))?;
    for area in areas {
        let category = area["AreaCategoryCode"].as_str().unwrap_or_default();
        for row in area["Rows"].as_array().into_iter().flatten() {
            let physical = row["PhysicalName"].as_str().unwrap_or_default();
            for seat in row["Seats"].as_array().into_iter().flatten() {
                let p = &seat["Position"];
                let (Some(a), Some(r), Some(c), Some(status)) = (
                    p["AreaNumber"].as_i64(),
                    p["RowIndex"].as_i64(),
                    p["ColumnIndex"].as_i64(),
                    seat["Status"].as_i64(),
                ) else {
                    return Err(anyhow!("a seat without a position or status: {seat}"));
                };
                let name = seat["Id"].as_str().unwrap_or_default();
                out.push(PlanSeat {
                    seat: Seat {
                        area_category: category.to_string(),
                        area: a,
                        row: r,
                        column: c,
                        yueke: yueke_seat_id(a, physical, name),
                    },
                    status,
                });
            }
        }
    }
    Ok(out)
}

/// The Yueke `seatId` of a seat: area number in 16 digits, physical row name, and the seat name
/// (a one-digit numeric name padded to two digits), joined by `-`.
pub fn yueke_seat_id(area: i64, row: &str, name: &str) -> String {
    let column = if name.len() == 1 && name.chars().all(|c| c.is_ascii_digit()) {
        format!("0{name}")
    } else {
        name.to_string()
    };
    format!("{area:016}-{row}-{column}")
}

/// The AddTickets body for an order key, one ticket type and its seats.
pub fn add_tickets_body(
    key: &str,
    cinema: &str,
    session: &str,
    ticket: &str,
    price: i64,
    seats: &[Seat],
) -> Value {
    json!({
        "UserSessionId": key,
        "CinemaId": cinema,
        "SessionId": session,
        "TicketTypes": [{"TicketTypeCode": ticket, "Qty": seats.len(), "PriceInCents": price}],
        "ReturnOrder": false,
        "SelectedSeats": seats.iter().map(|s| json!({
            "AreaCategoryCode": s.area_category,
            "AreaNumber": s.area,
            "RowIndex": s.row,
            "ColumnIndex": s.column,
        })).collect::<Vec<_>>(),
        "OptionalClientId": "bench",
    })
}

/// The CompleteOrder body (external payment) for an order key and its total.
pub fn complete_body(key: &str, total: i64) -> Value {
    json!({
        "UserSessionId": key,
        "PaymentInfo": {
            "CardNumber": "4111111111111111",
            "CardType": "VISA",
            "PaymentValueCents": total,
            "PaymentTenderCategory": "CREDIT",
        },
        "PerformPayment": false,
    })
}

/// The `Result` of an AddTickets or CompleteOrder reply (`None`: not an answer of that shape).
pub fn result_code(reply: &Reply) -> Option<i64> {
    if reply.status != 200 {
        return None;
    }
    serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|v| v["Result"].as_i64())
}

/// The `ResponseCode` of a seat-plan reply, found without parsing the whole (large) body.
pub fn response_code_fast(body: &[u8]) -> Option<i64> {
    const KEY: &[u8] = b"\"ResponseCode\":";
    let at = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let rest = &body[at..];
    let rest = &rest[rest.iter().position(|b| !b.is_ascii_whitespace())?..];
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_digit() || *b == b'-'))
        .unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_response_code_without_parsing() {
        assert_eq!(response_code_fast(br#"{"ResponseCode":0,"X":1}"#), Some(0));
        assert_eq!(
            response_code_fast(br#"{"A":[], "ResponseCode": 105}"#),
            Some(105)
        );
        assert_eq!(response_code_fast(br#"{"Result":0}"#), None);
    }

    #[test]
    fn parses_a_seat_plan() {
        let v = json!({"SeatLayoutData": {"Areas": [{"AreaCategoryCode": "01", "Rows": [
            {"PhysicalName": "K", "Seats": [{"Id": "4", "Position": {"AreaNumber": 1, "RowIndex": 0, "ColumnIndex": 3}, "Status": 1}]}
        ]}]}});
        let seats = parse_seat_plan(&v).expect("plan");
        assert_eq!(seats.len(), 1);
        assert_eq!(seats[0].seat.key(), (1, 0, 3));
        assert_eq!(seats[0].status, 1);
        assert_eq!(seats[0].seat.area_category, "01");
        assert_eq!(seats[0].seat.yueke, "0000000000000001-K-04");
        assert_eq!(yueke_seat_id(2, "3", "12"), "0000000000000002-3-12");
        assert_eq!(yueke_seat_id(2, "3", "A"), "0000000000000002-3-A");
    }
}
