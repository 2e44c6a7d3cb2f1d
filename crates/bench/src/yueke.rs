//! The Yueke cloud partner API flow (`GET /route?api=ykse.partner.*`): signed calls, discovery of
//! schedules and seat ids, the read workloads (getSchedules, getSeats, getScheduleSoldSeats), the
//! booking workload (lockSeats + confirmOrder, sharing the Vista booking workload's seat cursor)
//! and the check of the orders it confirmed.

use crate::api::Reply;
use crate::report::{Row, Samples};
use crate::workload::{run_workers, BookingState, Check, ErrorLog, SessionPlan};
use anyhow::{anyhow, bail, Context};
use chrono::{Duration as Days, NaiveDate};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `schedule.getSchedules`.
pub const GET_SCHEDULES: &str = "ykse.partner.schedule.getSchedules";
/// `seat.getSeats`.
pub const GET_SEATS: &str = "ykse.partner.seat.getSeats";
/// `seat.getScheduleSoldSeats`.
pub const GET_SOLD_SEATS: &str = "ykse.partner.seat.getScheduleSoldSeats";
/// `seat.lockSeats`.
pub const LOCK_SEATS: &str = "ykse.partner.seat.lockSeats";
/// `order.confirmOrder`.
pub const CONFIRM_ORDER: &str = "ykse.partner.order.confirmOrder";
/// `order.getOrderInfo`.
pub const GET_ORDER_INFO: &str = "ykse.partner.order.getOrderInfo";

/// Business days a getSchedules range may span, and how many days ahead its start may lie.
const WINDOW_DAYS: i64 = 30;
/// The server's (default) venue-local UTC offset, in seconds: business days run 06:00–05:59
/// there.
const OFFSET_SECS: i64 = 8 * 3600;
/// The mobile number confirmOrder sends.
const MOBILE: &str = "13800000000";

/// A Yueke channel of the server under test.
#[derive(Debug, Clone)]
pub struct YuekeTarget {
    /// Base URL without a trailing slash.
    pub base: String,
    /// `channelCode`.
    pub channel: String,
    /// Signing secret of the channel.
    pub secret: String,
    /// `cinemaLinkId` of the cinema.
    pub link: String,
}

impl YuekeTarget {
    /// A fresh client (its own keep-alive connection).
    pub fn client(&self) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(4)
            .timeout(Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        Ok(Client {
            route: format!("{}/route", self.base.trim_end_matches('/')),
            channel: self.channel.clone(),
            secret: self.secret.clone(),
            link: self.link.clone(),
            http,
        })
    }
}

/// A client of one Yueke channel, signing every call.
#[derive(Clone)]
pub struct Client {
    route: String,
    channel: String,
    secret: String,
    /// `cinemaLinkId` of the cinema.
    pub link: String,
    http: reqwest::Client,
}

/// Milliseconds since the Unix epoch now (0 if the clock is before it).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

impl Client {
    /// `GET /route` with `api`, `v=1.0`, `channelCode`, `timestamp` (now), `data` and `sign`.
    pub async fn call(&self, api: &str, data: &Value) -> anyhow::Result<Reply> {
        let ts = now_ms().to_string();
        let data = data.to_string();
        let params = [
            ("api", api),
            ("v", "1.0"),
            ("channelCode", self.channel.as_str()),
            ("timestamp", ts.as_str()),
            ("data", data.as_str()),
        ];
        let sign = boxoffice_yueke::sign::sign(&params, &self.secret);
        let resp = self
            .http
            .get(&self.route)
            .query(&params)
            .query(&[("sign", sign.as_str())])
            .send()
            .await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await?;
        Ok(Reply { status, body })
    }

    /// A call that must succeed: its business payload (`data`).
    pub async fn call_ok(&self, api: &str, data: &Value) -> anyhow::Result<Value> {
        let reply = self.call(api, data).await?;
        success(&reply).map_err(|e| anyhow!("{api} {data}: {e}"))
    }
}

/// The business payload (`data`) of a successful answer — HTTP 200, `retCode` "0" and `bizCode`
/// "SUCCESS" — or a description of the failure.
pub fn success(reply: &Reply) -> Result<Value, String> {
    let mut v: Value = serde_json::from_slice(&reply.body)
        .map_err(|_| format!("HTTP {} (not JSON): {}", reply.status, reply.text()))?;
    if reply.status == 200 && v["retCode"] == "0" && v["data"]["bizCode"] == "SUCCESS" {
        Ok(v["data"].take())
    } else {
        Err(format!("HTTP {}: {}", reply.status, reply.text()))
    }
}

/// Whether a (possibly large) answer body reports success, found without parsing it.
pub fn success_fast(body: &[u8]) -> bool {
    fn has(body: &[u8], what: &[u8]) -> bool {
        body.windows(what.len()).any(|w| w == what)
    }
    has(body, br#""retCode":"0""#) && has(body, br#""bizCode":"SUCCESS""#)
}

/// Today's business date at the server's offset (the day runs 06:00–05:59).
pub fn business_today() -> NaiveDate {
    let local_ms = now_ms() + (OFFSET_SECS - 6 * 3600) * 1000;
    chrono::DateTime::from_timestamp_millis(local_ms)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

/// `yyyy-MM-dd`.
fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A session as a Yueke schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// `scheduleId` (the session code).
    pub id: String,
    /// `scheduleKey`.
    pub key: String,
    /// `hallId`.
    pub hall: String,
    /// `settlePrice` (yuan, `"45.00"`).
    pub settle_price: String,
    /// `ticketFee` (yuan).
    pub ticket_fee: String,
}

/// What the Yueke workloads need, found through the Yueke API itself.
#[derive(Debug)]
pub struct YuekeSetup {
    /// Schedules by `scheduleId`.
    pub schedules: HashMap<String, Schedule>,
    /// `getSchedules` requests of the read workload (a 3-day range from tomorrow).
    pub schedule_reads: Vec<Value>,
    /// `getSeats` requests of the read workload (the halls of the read sessions).
    pub seat_reads: Vec<Value>,
    /// `getScheduleSoldSeats` requests of the read workload (each section of each read session).
    pub sold_reads: Vec<Value>,
    /// What discovery found, for the report.
    pub lines: Vec<String>,
}

/// Lists the schedules of the next 60 business days (two 30-day getSchedules windows, the
/// furthest the API reaches), reads the seat ids of every hall involved with getSeats and checks
/// that the seat ids derived from the Vista seat plans of the booked sessions exist there.
pub async fn discover(
    target: &YuekeTarget,
    booking: &[SessionPlan],
    read_sessions: &[String],
) -> anyhow::Result<YuekeSetup> {
    let client = target.client()?;
    let link = client.link.clone();
    let today = business_today();
    let mut schedules = HashMap::new();
    for window in 0..2 {
        let start = today + Days::days(window * WINDOW_DAYS);
        let end = start + Days::days(WINDOW_DAYS - 1);
        let data = client
            .call_ok(
                GET_SCHEDULES,
                &json!({"cinemaLinkId": link, "startDate": ymd(start), "endDate": ymd(end)}),
            )
            .await?;
        for s in data["dataList"].as_array().into_iter().flatten() {
            let field = |k: &str| s[k].as_str().unwrap_or_default().to_string();
            let sched = Schedule {
                id: field("scheduleId"),
                key: field("scheduleKey"),
                hall: field("hallId"),
                settle_price: field("settlePrice"),
                ticket_fee: field("ticketFee"),
            };
            if sched.id.is_empty() || sched.key.is_empty() || sched.settle_price.is_empty() {
                bail!("{GET_SCHEDULES}: a schedule without id, key or settlePrice: {s}");
            }
            schedules.insert(sched.id.clone(), sched);
        }
    }
    for code in read_sessions {
        if !schedules.contains_key(code) {
            bail!("{GET_SCHEDULES} of cinema {link} does not list the read session {code}");
        }
    }
    let unlisted: Vec<&str> = booking
        .iter()
        .map(|p| &*p.code)
        .filter(|c| !schedules.contains_key(*c))
        .collect();
    // Seat ids per hall.
    let mut halls: BTreeSet<String> = BTreeSet::new();
    for code in booking
        .iter()
        .map(|p| &*p.code)
        .chain(read_sessions.iter().map(String::as_str))
    {
        if let Some(s) = schedules.get(code) {
            halls.insert(s.hall.clone());
        }
    }
    let mut seat_ids: HashMap<String, HashSet<String>> = HashMap::new();
    let mut sections: HashMap<String, Vec<String>> = HashMap::new();
    for hall in &halls {
        let data = client
            .call_ok(GET_SEATS, &json!({"cinemaLinkId": link, "hallId": hall}))
            .await?;
        let plan = &data["data"]["seatPlanList"][0];
        let mut ids = HashSet::new();
        let mut secs = Vec::new();
        for section in plan["sections"].as_array().into_iter().flatten() {
            if let Some(id) = section["sectionId"].as_str() {
                secs.push(id.to_string());
            }
            for seat in section["seats"].as_array().into_iter().flatten() {
                if let Some(id) = seat["seatId"].as_str() {
                    ids.insert(id.to_string());
                }
            }
        }
        if ids.is_empty() {
            bail!("{GET_SEATS} of hall {hall} lists no seats: {data}");
        }
        seat_ids.insert(hall.clone(), ids);
        sections.insert(hall.clone(), secs);
    }
    for plan in booking {
        let Some(s) = schedules.get(&*plan.code) else {
            continue;
        };
        let ids = &seat_ids[&s.hall];
        if let Some(seat) = plan.free.iter().find(|x| !ids.contains(&x.yueke)) {
            bail!(
                "session {}: the Vista seat {:?} maps to Yueke seat id {} which getSeats of hall {} does not list",
                plan.code,
                seat.key(),
                seat.yueke,
                s.hall
            );
        }
    }
    let tomorrow = today + Days::days(1);
    let schedule_reads = vec![json!({
        "cinemaLinkId": link,
        "startDate": ymd(tomorrow),
        "endDate": ymd(tomorrow + Days::days(2)),
    })];
    let mut read_halls = BTreeSet::new();
    let mut sold_reads = Vec::new();
    for code in read_sessions {
        let s = &schedules[code];
        read_halls.insert(s.hall.clone());
        for section in &sections[&s.hall] {
            sold_reads.push(json!({
                "cinemaLinkId": link,
                "sectionId": section,
                "scheduleId": s.id,
                "scheduleKey": s.key,
            }));
        }
    }
    let seat_reads = read_halls
        .iter()
        .map(|h| json!({"cinemaLinkId": link, "hallId": h}))
        .collect();
    let mut lines = vec![format!(
        "yueke: cinemaLinkId {link}: {} schedules listed over 60 business days from {}, {} hall(s); every Vista seat id of the booked sessions found by getSeats",
        schedules.len(),
        ymd(today),
        halls.len()
    )];
    if !unlisted.is_empty() {
        lines.push(format!(
            "yueke: {} booked sessions lie beyond getSchedules' reach (first {}); Yueke bookings there count as errors",
            unlisted.len(),
            unlisted[0]
        ));
    }
    Ok(YuekeSetup {
        schedules,
        schedule_reads,
        seat_reads,
        sold_reads,
        lines,
    })
}

/// A read workload: `api` with the `requests` in rotation by `workers` workers for `duration`.
pub async fn reads(
    target: &YuekeTarget,
    api: &'static str,
    label: &str,
    requests: &[Value],
    workers: usize,
    duration: Duration,
    log: Arc<ErrorLog>,
) -> anyhow::Result<Row> {
    if requests.is_empty() {
        bail!("no {api} requests to make");
    }
    let requests = Arc::new(requests.to_vec());
    let (results, elapsed) = run_workers(workers, |w, barrier| {
        let client = target.client();
        let requests = requests.clone();
        let log = log.clone();
        async move {
            let client = client?;
            let mut s = Samples::default();
            barrier.wait().await;
            let deadline = Instant::now() + duration;
            let mut i = w;
            while Instant::now() < deadline {
                let data = &requests[i % requests.len()];
                i += 1;
                let t0 = Instant::now();
                match client.call(api, data).await {
                    Ok(r) if r.status == 200 && success_fast(&r.body) => s.ok(t0.elapsed()),
                    Ok(r) => {
                        s.errors += 1;
                        log.error(|| format!("{api} {data}: HTTP {}: {}", r.status, r.text()));
                    }
                    Err(e) => {
                        s.errors += 1;
                        log.error(|| format!("{api} {data}: {e:#}"));
                    }
                }
            }
            anyhow::Ok(s)
        }
    })
    .await?;
    let mut all = Samples::default();
    for r in results {
        all.merge(r);
    }
    Ok(Row::new(label, workers, all, elapsed))
}

/// What one level of the Yueke booking workload did.
#[derive(Debug, Default)]
pub struct YuekeBookingOutcome {
    /// Whole booking (lockSeats + confirmOrder).
    pub whole: Row,
    /// lockSeats alone.
    pub lock: Row,
    /// confirmOrder alone.
    pub confirm: Row,
    /// `orderId` and `outLockId` of every successful confirmOrder.
    pub orders: Vec<(String, String)>,
    /// Successful lockSeats (each locks two seats until confirmed or expired).
    pub locked: u64,
    /// Whether the workers ran out of seats before the time was up.
    pub exhausted: bool,
}

#[derive(Default)]
struct BookingWorker {
    whole: Samples,
    lock: Samples,
    confirm: Samples,
    orders: Vec<(String, String)>,
    locked: u64,
    exhausted: bool,
}

/// Complete bookings through Yueke (lockSeats of two seats, then confirmOrder at the schedule's
/// settle price and fee) by `workers` workers, taking pairs from the cursor the Vista booking
/// workload uses, so the two never pick the same seats.
pub async fn bookings(
    target: &YuekeTarget,
    state: Arc<BookingState>,
    schedules: Arc<HashMap<String, Schedule>>,
    workers: usize,
    duration: Duration,
    log: Arc<ErrorLog>,
) -> anyhow::Result<YuekeBookingOutcome> {
    // outLockId: at most 20 characters, unique per lock.
    let tag: String = state
        .run
        .chars()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let tag = Arc::new(tag);
    let (results, elapsed) = run_workers(workers, |_, barrier| {
        let client = target.client();
        let state = state.clone();
        let schedules = schedules.clone();
        let log = log.clone();
        let tag = tag.clone();
        async move {
            let client = client?;
            let mut out = BookingWorker::default();
            barrier.wait().await;
            let deadline = Instant::now() + duration;
            while Instant::now() < deadline {
                let i = state.cursor.fetch_add(1, Ordering::Relaxed);
                let Some(pair) = state.pairs.get(i) else {
                    out.exhausted = true;
                    break;
                };
                let plan = &state.plans[pair.session];
                let Some(s) = schedules.get(&*plan.code) else {
                    out.lock.errors += 1;
                    out.whole.errors += 1;
                    log.error(|| format!("session {} is not a listed schedule", plan.code));
                    continue;
                };
                let out_lock = format!("Y{tag}{i}");
                let seats = [pair.seats[0].yueke.as_str(), pair.seats[1].yueke.as_str()];
                let body = json!({
                    "cinemaLinkId": client.link,
                    "scheduleId": s.id,
                    "scheduleKey": s.key,
                    "outLockId": out_lock,
                    "seatIdList": seats,
                });
                let t0 = Instant::now();
                let reply = client.call(LOCK_SEATS, &body).await;
                let t1 = Instant::now();
                let lock_id = match reply.as_ref().map(success) {
                    Ok(Ok(v)) => match v["data"]["lockOrderId"].as_str() {
                        Some(id) => id.to_string(),
                        None => {
                            out.lock.errors += 1;
                            out.whole.errors += 1;
                            log.error(|| format!("lockSeats {out_lock}: no lockOrderId: {v}"));
                            continue;
                        }
                    },
                    Ok(Err(e)) => {
                        out.lock.errors += 1;
                        out.whole.errors += 1;
                        log.error(|| {
                            format!(
                                "lockSeats {out_lock} schedule {} seats {seats:?}: {e}",
                                s.id
                            )
                        });
                        continue;
                    }
                    Err(e) => {
                        out.lock.errors += 1;
                        out.whole.errors += 1;
                        log.error(|| format!("lockSeats {out_lock}: {e:#}"));
                        continue;
                    }
                };
                out.lock.ok(t1 - t0);
                out.locked += 1;
                let body = json!({
                    "cinemaLinkId": client.link,
                    "lockOrderId": lock_id,
                    "scheduleId": s.id,
                    "scheduleKey": s.key,
                    "ticketList": seats.iter().map(|seat| json!({
                        "seatId": seat,
                        "ticketPrice": s.settle_price,
                        "ticketFee": s.ticket_fee,
                    })).collect::<Vec<_>>(),
                    "mobile": MOBILE,
                });
                let reply = client.call(CONFIRM_ORDER, &body).await;
                let t2 = Instant::now();
                let failure = match reply.as_ref().map(success) {
                    Ok(Ok(v)) => match v["data"]["orderId"].as_str() {
                        Some(id) => {
                            out.confirm.ok(t2 - t1);
                            out.whole.ok(t2 - t0);
                            out.orders.push((id.to_string(), out_lock));
                            continue;
                        }
                        None => format!("no orderId: {v}"),
                    },
                    Ok(Err(e)) => e,
                    Err(e) => format!("{e:#}"),
                };
                out.confirm.errors += 1;
                out.whole.errors += 1;
                log.error(|| format!("confirmOrder {lock_id} ({out_lock}): {failure}"));
            }
            anyhow::Ok(out)
        }
    })
    .await?;
    let mut whole = Samples::default();
    let mut lock = Samples::default();
    let mut confirm = Samples::default();
    let mut outcome = YuekeBookingOutcome::default();
    for r in results {
        whole.merge(r.whole);
        lock.merge(r.lock);
        confirm.merge(r.confirm);
        outcome.orders.extend(r.orders);
        outcome.locked += r.locked;
        outcome.exhausted |= r.exhausted;
    }
    outcome.whole = Row::new(
        "yueke booking (lockSeats + confirmOrder)",
        workers,
        whole,
        elapsed,
    );
    outcome.lock = Row::new("yueke booking: lockSeats", workers, lock, elapsed);
    outcome.confirm = Row::new("yueke booking: confirmOrder", workers, confirm, elapsed);
    Ok(outcome)
}

/// Checks that the server kept the Yueke orders it confirmed: order ids are distinct, every
/// lock was confirmed, and a sample of the orders is found by getOrderInfo as `ticket_success`
/// with its two tickets.
pub async fn verify_orders(
    target: &YuekeTarget,
    orders: &[(String, String)],
    locked: u64,
    sample: usize,
) -> anyhow::Result<Check> {
    let client = target.client()?;
    let mut check = Check::default();
    let distinct: BTreeSet<&str> = orders.iter().map(|(id, _)| id.as_str()).collect();
    if distinct.len() != orders.len() {
        check.problems.push(format!(
            "{} successful confirmOrders but only {} distinct orderIds",
            orders.len(),
            distinct.len()
        ));
    }
    let n = orders.len().min(sample);
    let mut found = 0;
    for k in 0..n {
        let (id, out_lock) = &orders[k * orders.len() / n];
        let reply = client
            .call(
                GET_ORDER_INFO,
                &json!({"cinemaLinkId": client.link, "orderId": id}),
            )
            .await?;
        match success(&reply) {
            Ok(v)
                if v["data"]["status"] == "ticket_success"
                    && v["data"]["tickets"].as_array().map(Vec::len) == Some(2) =>
            {
                found += 1;
            }
            Ok(v) => check
                .problems
                .push(format!("getOrderInfo {id} (lock {out_lock}): {v}")),
            Err(e) => check
                .problems
                .push(format!("getOrderInfo {id} (lock {out_lock}): {e}")),
        }
    }
    check.lines.push(format!(
        "yueke orders: {} confirmOrder successes, {} distinct orderIds, {found} of {n} sampled found by getOrderInfo",
        orders.len(),
        distinct.len()
    ));
    if locked != orders.len() as u64 {
        check.problems.push(format!(
            "{locked} lockSeats succeeded but only {} confirmOrders",
            orders.len()
        ));
    }
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_success_without_parsing() {
        let ok = br#"{"api":"a","v":"1.0","retCode":"0","retMsg":"success","data":{"bizCode":"SUCCESS","bizMsg":"ok"}}"#;
        assert!(success_fast(ok));
        let biz = br#"{"api":"a","v":"1.0","retCode":"0","retMsg":"success","data":{"bizCode":"LOCK_SEAT_ERROR"}}"#;
        assert!(!success_fast(biz));
        let sys = br#"{"api":"a","v":"1.0","retCode":"30003","retMsg":"sign"}"#;
        assert!(!success_fast(sys));
    }

    #[test]
    fn success_returns_the_business_payload() {
        let reply = Reply {
            status: 200,
            body: bytes::Bytes::from_static(
                br#"{"retCode":"0","data":{"bizCode":"SUCCESS","data":{"orderId":"1"}}}"#,
            ),
        };
        let v = success(&reply).expect("success");
        assert_eq!(v["data"]["orderId"], "1");
        let reply = Reply {
            status: 200,
            body: bytes::Bytes::from_static(br#"{"retCode":"0","data":{"bizCode":"X"}}"#),
        };
        assert!(success(&reply).is_err());
    }

    #[test]
    fn business_today_is_a_plausible_date() {
        let d = business_today();
        assert!(d > NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"));
    }
}
