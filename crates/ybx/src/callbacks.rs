//! Callbacks to agents: SetAgentParameters (4.2.44) and the delivery of outbox events as
//! Notify_OrderChanged, Notify_Refund, Notify_Refund_FK and Notify_Checked (4.2.45).
//!
//! Delivery (catalogue §1.16, §4.2.45, §8.5): the store hands out only the oldest pending event
//! of each order, so one order's events go strictly in order while other orders proceed. Each
//! event is sent as a GET to `<responseaddr>/<Page>.aspx` built at send time (current address
//! and key), retried from the event time at 0 s, 30 s, 1 m, 2 m, 5 m, 10 m, 30 m and then every
//! 30 m, and given up (`expired`) 24 hours after the event, which releases the order's next one.

use crate::booking::state_code;
use crate::codes;
use crate::crypto::{sign, triple_des};
use crate::route::Ctx;
use crate::xml::{money, ymdhms, Answer};
use crate::{Agent, Ybx, PROTOCOL};
use boxoffice_core::clock::{from_millis, local, Millis};
use boxoffice_core::scenic::{OutboxEvent, OutboxRow, PayMethod, VisitOrder, VisitState};
use chrono::FixedOffset;
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// `0`: SetAgentParameters succeeded.
pub const SET_OK: &str = "成功";
/// `-1`: `sendofficiallysnotify` missing or empty.
pub const NOTIFY_FLAG_MISSING: &str = "sendofficiallysnotify参数不能为空，请设置......";
/// `-1`: the settings could not be stored.
pub const SET_FAILED: &str = "修改回调地址 或 发送官方通知短信和彩信 方式 失败。";

/// Longest accepted `responseaddr` (characters).
pub const MAX_ADDR_CHARS: usize = 256;
/// Most events leased (orders in flight) per round.
pub const BATCH: i64 = 32;
/// How long a leased event is reserved for this process.
pub const LEASE_MS: i64 = 30_000;
/// How long after the event it is retried before it expires.
pub const RETRY_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Retry offsets from the event time for the first attempts (attempt 1 at 0 s); later attempts
/// follow every [`RETRY_EVERY_MS`] after the last entry.
pub const RETRY_OFFSETS_MS: [i64; 7] = [0, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000];
/// Spacing of attempts after the last entry of [`RETRY_OFFSETS_MS`].
pub const RETRY_EVERY_MS: i64 = 1_800_000;

/// Callback page names, exactly as the document writes them.
pub const PAGE_ORDER_CHANGED: &str = "Notify_OrderChanged.aspx";
/// Refund of a ticket paid at the counter, from the deposit or instantly.
pub const PAGE_REFUND: &str = "Notify_Refund.aspx";
/// Refund of a ticket paid from the rebate account.
pub const PAGE_REFUND_FK: &str = "Notify_Refund_FK.aspx";
/// First gate passage of a ticket.
pub const PAGE_CHECKED: &str = "Notify_Checked.aspx";

/// `SetAgentParameters.aspx`: the callback address and official-notification switch.
///
/// `sendofficiallysnotify` missing → `-1` (its documented text); `responseaddr` missing, not an
/// absolute `http(s)` URL of at most 256 characters (or with a query or fragment), or a flag
/// other than `0`/`1` → `-1901`. An empty address switches callbacks off.
pub async fn set_agent_parameters(cx: &Ctx) -> Answer {
    let flag = cx.params.text("sendofficiallysnotify");
    if flag.is_empty() {
        return Answer::err(-1, NOTIFY_FLAG_MISSING);
    }
    let Some(addr) = cx.params.get("responseaddr").map(str::trim) else {
        return Answer::err(-1901, codes::PARAM_ERROR);
    };
    if !addr.is_empty() && !address_ok(addr) {
        return Answer::err(-1901, codes::PARAM_ERROR);
    }
    let official = match flag {
        "1" => true,
        "0" => false,
        _ => return Answer::err(-1901, codes::PARAM_ERROR),
    };
    let mut patch = Map::new();
    patch.insert("responseaddr".into(), Value::String(addr.to_string()));
    patch.insert("sendofficiallysnotify".into(), Value::Bool(official));
    match cx.ybx.update_agent(cx.agent.id(), patch).await {
        Ok(()) => Answer::ok(SET_OK, String::new()),
        Err(e) => {
            tracing::error!(error = %e, user = %cx.agent.user, "SetAgentParameters failed");
            Answer::err(-1, SET_FAILED)
        }
    }
}

/// Whether a callback address is acceptable: an absolute `http://` or `https://` URL with a
/// host, at most [`MAX_ADDR_CHARS`] characters, without whitespace, query or fragment (it is a
/// folder the page names are appended to).
pub fn address_ok(addr: &str) -> bool {
    if addr.chars().count() > MAX_ADDR_CHARS
        || addr.chars().any(|c| c.is_whitespace() || c.is_control())
        || addr.contains(['?', '#'])
    {
        return false;
    }
    let lower = addr.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return false;
    }
    match reqwest::Url::parse(addr) {
        Ok(u) => {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty())
                && u.username().is_empty()
                && u.password().is_none()
        }
        Err(_) => false,
    }
}

/// The HTTP client of all deliveries: connect timeout 5 s, total 10 s, no redirects.
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "callback client with timeouts unavailable");
                reqwest::Client::new()
            })
    })
}

/// Delivers due outbox events of this protocol once; returns how many were attempted.
///
/// Leases up to [`BATCH`] heads (one per order, fewer while deliveries are in flight) for
/// [`LEASE_MS`], sends each in its own task and records each outcome: `delivered`, `dropped` (no callback address, no sender id, unknown
/// order or event), `expired` (24 hours after the event) or `pending` with the next attempt.
pub async fn deliver_due(ybx: &Arc<Ybx>, in_flight: &mut tokio::task::JoinSet<()>) -> usize {
    // Reap finished deliveries.
    while in_flight.try_join_next().is_some() {}
    // Deliveries run as their own tasks: a slow agent (up to the 10 s timeout) holds only its
    // own order's queue, never the next round. In-flight rows stay leased, so neither they nor
    // the later events of their orders are leased again meanwhile.
    let free = ybx.deliveries.available_permits().min(BATCH as usize);
    if free == 0 {
        return 0;
    }
    let svc = ybx.service();
    let now = svc.now_ms();
    let rows = match svc
        .store()
        .lease_outbox(PROTOCOL, now, now + LEASE_MS, free as i64)
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "ybx outbox lease failed");
            return 0;
        }
    };
    let n = rows.len();
    for row in rows {
        let Ok(permit) = ybx.deliveries.clone().try_acquire_owned() else {
            // Cannot happen (this task is the only one acquiring); the lease lapses and the row
            // is delivered later.
            break;
        };
        let ybx = ybx.clone();
        // Spawned into the worker's set: when the worker stops, its deliveries stop with it
        // (their leases lapse and another process takes the rows over).
        in_flight.spawn(async move {
            deliver_one(&ybx, row, now).await;
            drop(permit);
        });
    }
    if n == 0 && in_flight.is_empty() {
        ybx.idle_rounds
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    n
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Delivered,
    Dropped(String),
    Expired(String),
    Failed(String),
}

async fn deliver_one(ybx: &Ybx, row: OutboxRow, leased_at: Millis) {
    let outcome = if leased_at >= row.created_ms.saturating_add(RETRY_WINDOW_MS) {
        Outcome::Expired(format!(
            "not delivered within 24 h; {}",
            if row.last_error.is_empty() {
                "no attempt"
            } else {
                row.last_error.as_str()
            }
        ))
    } else {
        attempt(ybx, &row).await
    };
    let now = ybx.service().now_ms();
    let (state, next, error) = match outcome {
        Outcome::Delivered => ("delivered", now, String::new()),
        Outcome::Dropped(why) => {
            tracing::info!(id = row.id, order = ?row.order_id, reason = %why, "ybx callback dropped");
            ("dropped", now, why)
        }
        Outcome::Expired(why) => {
            tracing::warn!(id = row.id, order = ?row.order_id, reason = %why, "ybx callback expired");
            ("expired", now, why)
        }
        Outcome::Failed(why) => match next_attempt(row.created_ms, row.attempts, now) {
            Some(next) => ("pending", next, why),
            None => {
                tracing::warn!(id = row.id, order = ?row.order_id, reason = %why, "ybx callback expired");
                ("expired", now, why)
            }
        },
    };
    if let Err(e) = ybx
        .service()
        .store()
        .finish_outbox(row.id, state, next, &error)
        .await
    {
        // The lease lapses and the event is tried again: at least once, never lost.
        tracing::warn!(error = %e, id = row.id, "ybx outbox finish failed");
    }
}

/// The offset from the event time of attempt `n` (1-based).
pub fn retry_offset(n: i64) -> i64 {
    let last = RETRY_OFFSETS_MS.len() as i64;
    if n <= 0 {
        0
    } else if n <= last {
        RETRY_OFFSETS_MS[(n - 1) as usize]
    } else {
        RETRY_OFFSETS_MS[RETRY_OFFSETS_MS.len() - 1].saturating_add((n - last) * RETRY_EVERY_MS)
    }
}

/// When to try again after `attempts` failed attempts of an event written at `created`: the
/// schedule's next slot, or the first slot after `now` when that one has passed already (a
/// late or long-blocked event does not burn through its schedule). `None` when that is past
/// the 24-hour window.
pub fn next_attempt(created: Millis, attempts: i64, now: Millis) -> Option<Millis> {
    let deadline = created.saturating_add(RETRY_WINDOW_MS);
    let mut n = attempts.max(0) + 1;
    loop {
        let at = created.saturating_add(retry_offset(n));
        if at >= deadline {
            return None;
        }
        if at > now {
            return Some(at);
        }
        n += 1;
    }
}

/// One delivery attempt of a leased event.
async fn attempt(ybx: &Ybx, row: &OutboxRow) -> Outcome {
    let svc = ybx.service();
    let Some(order_id) = row.order_id else {
        return Outcome::Dropped("event without an order".into());
    };
    let order = match svc.store().visit_order(order_id).await {
        Ok(Some(o)) => o,
        Ok(None) => return Outcome::Dropped("unknown order".into()),
        Err(e) => return Outcome::Failed(format!("database: {e}")),
    };
    if order.detail.sender_ref.trim().is_empty() {
        return Outcome::Dropped("order without senderid".into());
    }
    let agent = match agent_of(ybx, row.partner_id).await {
        Ok(Some(a)) => a,
        Ok(None) => return Outcome::Dropped("no ybx agent for the partner".into()),
        Err(e) => return Outcome::Failed(format!("database: {e}")),
    };
    let base = agent.response_addr.trim().trim_end_matches('/');
    if base.is_empty() {
        return Outcome::Dropped("no callback address".into());
    }
    let (page, fields) = match event_params(&order, &row.event, svc.settings().offset) {
        Ok(x) => x,
        Err(why) => return Outcome::Dropped(why),
    };
    let query = signed_query(&agent, fields);
    let url = format!("{base}/{page}?{query}");
    send(&url).await
}

/// The agent of a partner (by its `ybx` credential), with current runtime settings.
async fn agent_of(
    ybx: &Ybx,
    partner: boxoffice_core::catalog::PartnerId,
) -> Result<Option<Agent>, boxoffice_core::store::StoreError> {
    let catalog = ybx.service().catalog();
    let user = catalog
        .partners
        .iter()
        .find(|p| p.id == partner)
        .and_then(|p| p.credential(PROTOCOL))
        .map(|c| c.key.clone());
    match user {
        Some(user) => ybx.agent(&user).await,
        None => Ok(None),
    }
}

/// A callback's parameters after COMMON, in the order sent.
pub type Fields = Vec<(&'static str, String)>;

/// COMMON (as sent by us) + the event's fields + `sign`, URL-encoded.
pub fn signed_query(agent: &Agent, fields: Fields) -> String {
    let mut all: Vec<(&str, String)> = vec![
        ("sign_type", "MD5".into()),
        ("service_version", "1.0".into()),
        ("input_charset", "UTF-8".into()),
        ("sign_key_index", "1".into()),
        ("user", agent.user.clone()),
        ("password", triple_des(&agent.login_md5, &agent.data_key)),
    ];
    all.extend(fields);
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let signature = sign(&refs, &agent.data_key);
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &refs {
        ser.append_pair(k, v);
    }
    ser.append_pair("sign", &signature);
    ser.finish()
}

/// The callback page and its fields (after COMMON) for an event of an order.
pub fn event_params(
    order: &VisitOrder,
    event: &OutboxEvent,
    offset: FixedOffset,
) -> Result<(&'static str, Fields), String> {
    let p = &event.payload;
    let time = |ms: Millis| ymdhms(local(from_millis(ms), offset));
    let mut fields: Fields = vec![
        ("orderid", order.number.clone()),
        ("senderid", order.detail.sender_ref.clone()),
    ];
    match event.kind.as_str() {
        "order_changed" => {
            let state = p
                .get("state")
                .and_then(Value::as_str)
                .and_then(VisitState::parse)
                .ok_or_else(|| format!("order_changed without a known state: {p}"))?;
            fields.push(("status", state_code(state).to_string()));
            Ok((PAGE_ORDER_CHANGED, fields))
        }
        "ticket_refunded" => {
            let code = p
                .get("ticket")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("ticket_refunded without a ticket: {p}"))?;
            let ticket = order
                .tickets
                .iter()
                .find(|t| t.code == code)
                .ok_or_else(|| format!("ticket {code} is not in order {}", order.number))?;
            let item = order
                .detail
                .items
                .iter()
                .find(|i| i.product.eq_ignore_ascii_case(&ticket.product));
            // The payload's `amount` is what goes back (price − fee); the callback's `amount`
            // is the ticket's amount and `returnamount` = `amount` − `fees`.
            let fee = p.get("fee").and_then(Value::as_i64).unwrap_or(0);
            let returned = p
                .get("amount")
                .and_then(Value::as_i64)
                .unwrap_or(ticket.price - fee);
            let amount = returned + fee;
            let refunded = p
                .get("refunded_ms")
                .and_then(Value::as_i64)
                .unwrap_or(order.updated_ms);
            let sale_bill = if order.detail.sale_bill.is_empty() {
                order.number.clone()
            } else {
                order.detail.sale_bill.clone()
            };
            let rebate = order.detail.pay_method == Some(PayMethod::Rebate)
                || order.state == VisitState::DeliveredRebate;
            fields.push(("sellbillid", sale_bill));
            fields.push((
                "selldatetime",
                time(order.detail.delivered_ms.unwrap_or(order.created_ms)),
            ));
            fields.push(("ticketcode", ticket.code.clone()));
            fields.push(("refunddatetime", time(refunded)));
            if !rebate {
                let mode = p.get("mode").and_then(Value::as_i64).unwrap_or(1);
                fields.push(("refundmode", if mode == 2 { "2" } else { "1" }.to_string()));
            }
            fields.push(("productsid", ticket.product.clone()));
            fields.push((
                "productname",
                item.map(|i| i.name.clone())
                    .unwrap_or_else(|| ticket.product.clone()),
            ));
            fields.push((
                "price",
                money(item.map(|i| i.unit_price).unwrap_or(ticket.price)),
            ));
            fields.push(("totalcount", ticket.person_count.to_string()));
            fields.push(("freecount", ticket.free_count.to_string()));
            fields.push(("amount", money(amount)));
            fields.push(("fees", money(fee)));
            fields.push(("returnamount", money(returned)));
            Ok((if rebate { PAGE_REFUND_FK } else { PAGE_REFUND }, fields))
        }
        "ticket_checked" => {
            let code = p
                .get("ticket")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("ticket_checked without a ticket: {p}"))?;
            let at = time(
                p.get("checked_ms")
                    .and_then(Value::as_i64)
                    .unwrap_or(order.updated_ms),
            );
            let text = |name: &str| match p.get(name) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            fields.push(("ticketcode", code.to_string()));
            fields.push(("refunddatetime", at.clone()));
            fields.push(("checkdatetime", at));
            fields.push(("stationname", text("station")));
            fields.push(("gatenumber", text("gate")));
            Ok((PAGE_CHECKED, fields))
        }
        other => Err(format!("unknown event kind {other}")),
    }
}

/// Sends one callback; success is HTTP 200 with `<retcode>` 0.
async fn send(url: &str) -> Outcome {
    let resp = match client().get(url).send().await {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(short(&format!("request failed: {e}"))),
    };
    let status = resp.status();
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => return Outcome::Failed(short(&format!("reading the answer failed: {e}"))),
    };
    if status != reqwest::StatusCode::OK {
        return Outcome::Failed(format!("HTTP {}", status.as_u16()));
    }
    match answer_code(&String::from_utf8_lossy(&body)) {
        Some(0) => Outcome::Delivered,
        Some(c) => Outcome::Failed(format!("retcode {c}")),
        None => Outcome::Failed(short(&format!(
            "no retcode in the answer: {}",
            String::from_utf8_lossy(&body)
        ))),
    }
}

/// The `<retcode>` of an agent's answer, read with an XML parser (BOM, whitespace, CDATA,
/// attributes, references and tag case tolerated).
pub fn answer_code(body: &str) -> Option<i64> {
    crate::xml::element_text(body, "retcode")?
        .trim()
        .parse()
        .ok()
}

fn short(s: &str) -> String {
    s.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxoffice_core::scenic::{VisitDetail, VisitItem, VisitTicket};

    const HOUR: i64 = 3_600_000;

    #[test]
    fn the_retry_schedule_counts_from_the_event() {
        let t = 1_000_000;
        assert_eq!(next_attempt(t, 1, t), Some(t + 30_000));
        assert_eq!(next_attempt(t, 2, t + 30_000), Some(t + 60_000));
        assert_eq!(next_attempt(t, 3, t + 60_000), Some(t + 120_000));
        assert_eq!(next_attempt(t, 4, t + 120_000), Some(t + 300_000));
        assert_eq!(next_attempt(t, 5, t + 300_000), Some(t + 600_000));
        assert_eq!(next_attempt(t, 6, t + 600_000), Some(t + 1_800_000));
        assert_eq!(next_attempt(t, 7, t + 1_800_000), Some(t + 3_600_000));
        assert_eq!(next_attempt(t, 8, t + 3_600_000), Some(t + 5_400_000));
        // Never earlier than now: a late first failure goes to the next slot after now.
        assert_eq!(next_attempt(t, 1, t + 100_000), Some(t + 120_000));
        assert_eq!(
            next_attempt(t, 1, t + 5 * HOUR + 1),
            Some(t + 5 * HOUR + 1_800_000)
        );
        // The last slot before 24 h; then expiry.
        assert_eq!(
            next_attempt(t, 40, t + 23 * HOUR),
            Some(t + 23 * HOUR + 1_800_000)
        );
        assert_eq!(next_attempt(t, 55, t + 23 * HOUR + 1_800_000), None);
    }

    #[test]
    fn answers_are_read_leniently() {
        assert_eq!(
            answer_code("\u{feff}<?xml version=\"1.0\"?>\r\n<root>\n <retcode> 0 </retcode><retmsg/></root>"),
            Some(0)
        );
        assert_eq!(answer_code("<ROOT><RETCODE>-1</RETCODE></ROOT>"), Some(-1));
        assert_eq!(
            answer_code("<root><RetCode a=\"1\"><![CDATA[ 0 ]]></RetCode></root>"),
            Some(0)
        );
        assert_eq!(answer_code("<root><retcode/></root>"), None);
        assert_eq!(answer_code("<root><retcode>x</retcode></root>"), None);
        assert_eq!(answer_code("OK"), None);
    }

    #[test]
    fn addresses_are_absolute_http_folders() {
        assert!(address_ok("http://127.0.0.1:8080/notify/"));
        assert!(address_ok("https://partner.example.com/ybx"));
        assert!(address_ok("HTTP://partner.example.com"));
        assert!(!address_ok("ftp://partner.example.com/"));
        assert!(!address_ok("partner.example.com/notify"));
        assert!(!address_ok("/notify"));
        assert!(!address_ok("http://"));
        assert!(!address_ok("http://a.example.com/x?y=1"));
        assert!(!address_ok("http://a.example.com/x#y"));
        assert!(!address_ok("http://a.example.com/a b"));
        assert!(!address_ok("http://user:pw@a.example.com/"));
        let long = format!("http://a.example.com/{}", "x".repeat(236));
        assert_eq!(long.len(), 257);
        assert!(!address_ok(&long));
        assert!(address_ok(&long[..256]));
    }

    fn order(pay: PayMethod) -> VisitOrder {
        VisitOrder {
            id: 7,
            number: "202611220000000007".into(),
            venue_id: 1,
            partner_id: 2,
            external_ref: "K".into(),
            state: VisitState::Delivered,
            visit_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default(),
            line: None,
            segment: None,
            total: 24_000,
            created_ms: 1_795_312_800_000,
            updated_ms: 1_795_312_800_000,
            expires_ms: None,
            version: 0,
            detail: VisitDetail {
                items: vec![VisitItem {
                    product: "P1".into(),
                    name: "成人票".into(),
                    unit: "张".into(),
                    count: 2,
                    free: 0,
                    unit_price: 12_000,
                }],
                sender_ref: "CTRIP-1".into(),
                pay_method: Some(pay),
                sale_bill: "SB-1".into(),
                // 2026-11-22 10:00:00 +08:00.
                delivered_ms: Some(1_795_312_800_000),
                ..VisitDetail::default()
            },
            tickets: vec![VisitTicket {
                code: "12345678901234567890".into(),
                seq: 1,
                product: "P1".into(),
                person_count: 2,
                free_count: 0,
                price: 24_000,
                date: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default(),
                medium: 2,
                status: 2,
                name: String::new(),
                id_number: String::new(),
            }],
        }
    }

    fn event(kind: &str, payload: Value) -> OutboxEvent {
        OutboxEvent {
            protocol: PROTOCOL.into(),
            kind: kind.into(),
            payload,
        }
    }

    fn plus8() -> FixedOffset {
        boxoffice_core::service::UTC_PLUS_8
    }

    #[test]
    fn events_render_as_the_documented_pages() {
        let o = order(PayMethod::Deposit);
        let (page, f) = event_params(
            &o,
            &OutboxEvent::order_changed(PROTOCOL, VisitState::DeliveredRebate),
            plus8(),
        )
        .expect("order_changed");
        assert_eq!(page, "Notify_OrderChanged.aspx");
        assert_eq!(
            f,
            vec![
                ("orderid", o.number.clone()),
                ("senderid", "CTRIP-1".to_string()),
                ("status", "D".to_string())
            ]
        );
        let refund = event(
            "ticket_refunded",
            serde_json::json!({"ticket": "12345678901234567890", "fee": 2000, "amount": 22000,
                "refunded_ms": 1_795_312_800_000i64 + HOUR, "mode": 2}),
        );
        let (page, f) = event_params(&o, &refund, plus8()).expect("refund");
        assert_eq!(page, "Notify_Refund.aspx");
        let get =
            |f: &[(&str, String)], k: &str| f.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        assert_eq!(get(&f, "sellbillid").as_deref(), Some("SB-1"));
        assert_eq!(get(&f, "selldatetime").as_deref(), Some("20261122100000"));
        assert_eq!(get(&f, "refunddatetime").as_deref(), Some("20261122110000"));
        assert_eq!(get(&f, "refundmode").as_deref(), Some("2"));
        assert_eq!(get(&f, "productsid").as_deref(), Some("P1"));
        assert_eq!(get(&f, "productname").as_deref(), Some("成人票"));
        assert_eq!(get(&f, "price").as_deref(), Some("120.00"));
        assert_eq!(get(&f, "totalcount").as_deref(), Some("2"));
        assert_eq!(get(&f, "freecount").as_deref(), Some("0"));
        assert_eq!(get(&f, "amount").as_deref(), Some("240.00"));
        assert_eq!(get(&f, "fees").as_deref(), Some("20.00"));
        assert_eq!(get(&f, "returnamount").as_deref(), Some("220.00"));
        let (page, f) = event_params(&order(PayMethod::Rebate), &refund, plus8()).expect("fk");
        assert_eq!(page, "Notify_Refund_FK.aspx");
        assert_eq!(get(&f, "refundmode"), None);
        assert_eq!(get(&f, "returnamount").as_deref(), Some("220.00"));
        let checked = event(
            "ticket_checked",
            serde_json::json!({"ticket": "12345678901234567890", "checked_ms": 1_795_312_800_000i64,
                "station": "南门", "gate": "03"}),
        );
        let (page, f) = event_params(&o, &checked, plus8()).expect("checked");
        assert_eq!(page, "Notify_Checked.aspx");
        assert_eq!(get(&f, "refunddatetime").as_deref(), Some("20261122100000"));
        assert_eq!(get(&f, "checkdatetime").as_deref(), Some("20261122100000"));
        assert_eq!(get(&f, "stationname").as_deref(), Some("南门"));
        assert_eq!(get(&f, "gatenumber").as_deref(), Some("03"));
        assert!(event_params(&o, &event("other", Value::Null), plus8()).is_err());
        assert!(event_params(
            &o,
            &event("order_changed", serde_json::json!({"state": "nope"})),
            plus8()
        )
        .is_err());
        assert!(event_params(
            &o,
            &event("ticket_refunded", serde_json::json!({"ticket": "unknown"})),
            plus8()
        )
        .is_err());
    }
}
