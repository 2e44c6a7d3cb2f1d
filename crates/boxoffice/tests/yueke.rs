//! HTTP-level tests of the Yueke cloud partner API front end (`/route`, spec
//! `yueke-cloud.md` §1, §2, §4, §5.1–5.2, §9, §12): transport and security, base information
//! (cinemas, schedules, seats, area seats, sold seats) and seat locks.

mod common;

use boxoffice_core::Boxoffice;
use boxoffice_yueke::sign::sign;
use chrono::Duration;
use common::*;
use serde_json::{json, Value};
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// Signed-request helper
// ---------------------------------------------------------------------------------------------

const CHANNEL: &str = "YKSE";
const SECRET: &str = "12345";
const GET_CINEMAS: &str = "ykse.partner.cinema.getCinemas";
const GET_SCHEDULES: &str = "ykse.partner.schedule.getSchedules";
const GET_SEATS: &str = "ykse.partner.seat.getSeats";
const AREA_SEATS: &str = "ykse.partner.seat.getScheduleAreaSeats";
const SOLD_SEATS: &str = "ykse.partner.seat.getScheduleSoldSeats";
const LOCK_SEATS: &str = "ykse.partner.seat.lockSeats";
const RELEASE_SEATS: &str = "ykse.partner.seat.releaseSeats";

/// Section 1 (the only section of hall 1 of 888 and of cinema 58's hall).
const S1: &str = "0000000000000001";
/// Section 2 (hall 7's VIP area).
const S2: &str = "0000000000000002";

fn owned(params: &[(&str, &str)]) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The parameters with `sign` appended, signed with `secret`.
fn with_sign(params: &[(&str, &str)], secret: &str) -> Vec<(String, String)> {
    let mut out = owned(params);
    out.push(("sign".into(), sign(params, secret)));
    out
}

/// The common parameters of a call (channel YKSE, v 1.0), signed with the demo secret.
fn signed(api: &str, data: Option<&str>, ts: i64) -> Vec<(String, String)> {
    let ts = ts.to_string();
    let mut p = vec![
        ("api", api),
        ("v", "1.0"),
        ("channelCode", CHANNEL),
        ("timestamp", ts.as_str()),
    ];
    if let Some(d) = data {
        p.push(("data", d));
    }
    with_sign(&p, SECRET)
}

/// A raw HTTP answer.
struct Raw {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The body as the JSON envelope; every answer is HTTP 200 JSON (G-HTTP-1).
    fn json(&self) -> Value {
        assert_eq!(self.status, 200, "HTTP status");
        assert_eq!(
            self.header("content-type"),
            Some("application/json;charset=UTF-8")
        );
        let v: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)));
        assert_no_nulls(&v, "");
        v
    }
}

/// G-ENV-4: absent optional fields are omitted, never `null`.
fn assert_no_nulls(v: &Value, path: &str) {
    match v {
        Value::Null => panic!("null at {path}"),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| assert_no_nulls(x, &format!("{path}[{i}]"))),
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| assert_no_nulls(x, &format!("{path}.{k}"))),
        _ => {}
    }
}

/// A Yueke caller of one test server.
#[derive(Clone)]
struct Yk {
    url: String,
    http: reqwest::Client,
    svc: Arc<Boxoffice>,
}

impl Yk {
    fn new(server: &TestServer) -> Yk {
        Yk {
            url: server.url.clone(),
            http: reqwest::Client::new(),
            svc: server.app.service.clone(),
        }
    }

    /// The server's "now" in epoch milliseconds.
    fn now(&self) -> i64 {
        self.svc.now_ms()
    }

    fn route(&self) -> String {
        format!("{}/route", self.url)
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> Raw {
        let resp = rb.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.expect("body").to_vec();
        Raw {
            status,
            headers,
            body,
        }
    }

    /// GET with the parameters in the query string, plus extra headers.
    async fn get_with(&self, params: &[(String, String)], headers: &[(&str, &str)]) -> Raw {
        let mut rb = self.http.get(format!("{}?{}", self.route(), form(params)));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        self.send(rb).await
    }

    /// GET with the parameters in the query string.
    async fn get(&self, params: &[(String, String)]) -> Raw {
        self.get_with(params, &[]).await
    }

    /// POST: `query` in the query string (if any), `body` as a form body.
    async fn post(&self, query: &[(String, String)], body: &[(String, String)]) -> Raw {
        let url = if query.is_empty() {
            self.route()
        } else {
            format!("{}?{}", self.route(), form(query))
        };
        self.send(
            self.http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(body)),
        )
        .await
    }

    /// POST a form body compressed with gzip (`Content-Encoding: gzip`).
    async fn post_gzip(&self, body: &[(String, String)]) -> Raw {
        self.send(
            self.http
                .post(self.route())
                .header("content-type", "application/x-www-form-urlencoded")
                .header("content-encoding", "gzip")
                .body(gzip(form(body).as_bytes())),
        )
        .await
    }

    /// A correctly signed GET call with `data` as JSON text; the envelope.
    async fn call(&self, api: &str, data: &Value) -> Value {
        let env = self
            .get(&signed(api, Some(&data.to_string()), self.now()))
            .await
            .json();
        assert_eq!(env["api"], api, "{env}");
        assert_eq!(env["v"], "1.0", "{env}");
        env
    }
}

// ---------------------------------------------------------------------------------------------
// Envelope assertions (§1.6, §9, G-ENV-1..4)
// ---------------------------------------------------------------------------------------------

/// §9.1 messages.
fn sys_msg(code: &str) -> &'static str {
    match code {
        "20001" => "invalid authentication",
        "30001" => "invalid api",
        "30002" => "invalid channelCode",
        "30003" => "invalid sign",
        "30004" => "time expired",
        "30005" => "parameter can not be empty",
        "30006" => "invalid value",
        other => panic!("no message for {other}"),
    }
}

/// §9.2 messages (as printed in the original).
fn biz_msg(code: &str) -> &'static str {
    match code {
        "SUCCESS" => "操作成功",
        "FORMAT_ERROR" => "参数格式错误",
        "NULL_ARGUMENT" => "参数为空",
        "ILLEGAL_ARGUMENT" => "参数不正确",
        "DATA_NOT_EXIST" => "数据不存在",
        "CINEMA_INVALID" => "影院不可用",
        "ORDER_NOT_FOUND" => "订单不存在",
        "SEATID_ERROR" => "座位 ID 格式错误",
        "SEAT_INFO_NOT_NULL" => "座位信息不允许为空",
        "SEAT_INFO_ERROR" => "座位信息错误",
        "SEAT_NOT_FOUND" => "座位信息不存在",
        "SCHEDULE_NOT_FOUND" => "场次信息无效",
        "SCHEDULE_HAS_CHANGED" => "场次信息已经变化",
        "REQUEST_PARAM_INCONFORMITY_ERROR" => "相同请求的参数不一致",
        "SCHEDULE_NOT_OPEN" => "场次已禁售",
        "LOCK_SEAT_OUT_DATE" => "锁座时间超出设定日期",
        "LOCK_SEAT_ERROR" => "座位无效或已被锁定",
        "LOCKSEAT_UNMATCH" => "锁座记录不符",
        "OVER_MAX_TICKET" => "超过每笔交易的最大订购票数",
        other => panic!("no message for {other}"),
    }
}

/// A system-level failure: exactly `{api, v, retCode, retMsg}`, no `data` (G-ENV-1).
fn expect_sys(env: &Value, code: &str, api: &str, v: &str) {
    let keys: Vec<&str> = env
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["api", "retCode", "retMsg", "v"], "{env}");
    assert_eq!(env["retCode"], code, "{env}");
    assert_eq!(env["retMsg"], sys_msg(code), "{env}");
    assert_eq!(env["api"], api, "{env}");
    assert_eq!(env["v"], v, "{env}");
}

/// A business outcome: `retCode "0"`, `retMsg "success"`, the given `bizCode` and its message.
fn expect_biz(env: &Value, code: &str) {
    assert_eq!(env["retCode"], "0", "{env}");
    assert_eq!(env["retMsg"], "success", "{env}");
    assert_eq!(env["data"]["bizCode"], code, "{env}");
    assert_eq!(env["data"]["bizMsg"], biz_msg(code), "{env}");
}

/// A business failure without a payload (G-ENV-3).
fn expect_biz_fail(env: &Value, code: &str) {
    expect_biz(env, code);
    assert!(env["data"].get("data").is_none(), "{env}");
    assert!(env["data"].get("dataList").is_none(), "{env}");
}

/// B of a successful call.
fn success(env: &Value) -> &Value {
    expect_biz(env, "SUCCESS");
    &env["data"]
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort_unstable();
    k
}

// ---------------------------------------------------------------------------------------------
// API helpers
// ---------------------------------------------------------------------------------------------

/// Seat id of section 1: `0000000000000001-{row}-{seat:02}`.
fn s1(row: u32, seat: u32) -> String {
    format!("{S1}-{row}-{seat:02}")
}

async fn schedules(yk: &Yk, data: Value) -> Vec<Value> {
    let env = yk.call(GET_SCHEDULES, &data).await;
    success(&env)["dataList"]
        .as_array()
        .expect("dataList")
        .clone()
}

fn ids(list: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = list
        .iter()
        .map(|s| s["scheduleId"].as_str().expect("scheduleId").to_string())
        .collect();
    v.sort_unstable();
    v
}

/// A schedule of the demo (all lie on business days 2026-11-23 .. 2026-11-25).
async fn schedule(yk: &Yk, link: &str, id: &str) -> Value {
    schedules(
        yk,
        json!({"cinemaLinkId": link, "startDate": "2026-11-23", "endDate": "2026-11-25"}),
    )
    .await
    .into_iter()
    .find(|s| s["scheduleId"] == id)
    .unwrap_or_else(|| panic!("schedule {id} of {link}"))
}

fn sched_data(s: &Value) -> Value {
    json!({"cinemaLinkId": s["cinemaLinkId"], "scheduleId": s["scheduleId"], "scheduleKey": s["scheduleKey"]})
}

async fn lock(yk: &Yk, s: &Value, out_lock_id: &str, seats: &[&str]) -> Value {
    let mut d = sched_data(s);
    d["outLockId"] = json!(out_lock_id);
    d["seatIdList"] = json!(seats);
    yk.call(LOCK_SEATS, &d).await
}

/// Locks and returns the lockOrderId, asserting the success shape (§5.1).
async fn lock_ok(yk: &Yk, s: &Value, out_lock_id: &str, seats: &[&str]) -> String {
    let env = lock(yk, s, out_lock_id, seats).await;
    let d = &success(&env)["data"];
    assert_eq!(keys(d), ["lockOrderId", "outLockId", "seats"], "{env}");
    assert_eq!(d["outLockId"], out_lock_id);
    let mut got: Vec<&str> = d["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .map(|x| {
            assert_eq!(keys(x), ["seatId"]);
            x["seatId"].as_str().expect("seatId")
        })
        .collect();
    got.sort_unstable();
    let mut want = seats.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "{env}");
    let id = d["lockOrderId"].as_str().expect("lockOrderId").to_string();
    assert!(!id.is_empty());
    id
}

async fn release(yk: &Yk, link: &str, lock_order_id: &str) -> Value {
    yk.call(
        RELEASE_SEATS,
        &json!({"cinemaLinkId": link, "lockOrderId": lock_order_id}),
    )
    .await
}

async fn release_ok(yk: &Yk, link: &str, lock_order_id: &str) {
    let env = release(yk, link, lock_order_id).await;
    let d = &success(&env)["data"];
    assert_eq!(
        d,
        &json!({"cinemaLinkId": link, "lockOrderId": lock_order_id})
    );
}

/// The unavailable seats of one section, sorted.
async fn sold(yk: &Yk, s: &Value, section: &str) -> Vec<String> {
    let mut d = sched_data(s);
    d["sectionId"] = json!(section);
    let env = yk.call(SOLD_SEATS, &d).await;
    let b = &success(&env)["data"];
    assert_eq!(
        keys(b),
        ["cinemaLinkId", "scheduleId", "scheduleKey", "sectionList"]
    );
    assert_eq!(b["cinemaLinkId"], s["cinemaLinkId"]);
    assert_eq!(b["scheduleId"], s["scheduleId"]);
    assert_eq!(b["scheduleKey"], s["scheduleKey"]);
    let list = b["sectionList"].as_array().expect("sectionList");
    assert_eq!(list.len(), 1, "G-SEAT-4: one section: {env}");
    assert_eq!(list[0]["sectionId"], section);
    let mut out: Vec<String> = list[0]["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .map(|x| x["seatId"].as_str().expect("seatId").to_string())
        .collect();
    out.sort_unstable();
    out
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v
}

// ---------------------------------------------------------------------------------------------
// 1. Transport and security
// ---------------------------------------------------------------------------------------------

#[test]
fn the_documents_worked_signature_example_is_reproduced() {
    // §2.2, in the order the document lists the parameters.
    let params = [
        ("api", "ykse.partner.seat.getSeats"),
        ("v", "1.0"),
        ("channelCode", "YKSE"),
        ("timestamp", "1455678273752"),
        ("data", r#"{"cinemaLinkId":"888","hallId":"1"}"#),
    ];
    assert_eq!(sign(&params, "12345"), "1dac7e94adf6fe5a28621c0ddba27ea5");
    let mut reversed = params;
    reversed.reverse();
    assert_eq!(sign(&reversed, "12345"), "1dac7e94adf6fe5a28621c0ddba27ea5");
}

#[tokio::test]
async fn get_cinemas_lists_the_channels_cinemas_with_every_field() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);

    // No data at all (§4.1), and data={} (§1.2) give the same answer.
    let env = yk.get(&signed(GET_CINEMAS, None, yk.now())).await.json();
    let env2 = yk.call(GET_CINEMAS, &json!({})).await;
    assert_eq!(env, env2);
    assert_eq!(
        keys(&env),
        ["api", "data", "retCode", "retMsg", "v"],
        "{env}"
    );
    assert_eq!(env["api"], GET_CINEMAS);
    assert_eq!(env["v"], "1.0");
    assert_eq!(env["retCode"], "0");
    assert_eq!(env["retMsg"], "success");
    let b = success(&env);
    assert_eq!(keys(b), ["bizCode", "bizMsg", "dataList"]);
    let list = b["dataList"].as_array().expect("dataList");
    let links: Vec<&str> = list
        .iter()
        .map(|c| c["cinemaLinkId"].as_str().expect("cinemaLinkId"))
        .collect();
    let mut links_sorted = links.clone();
    links_sorted.sort_unstable();
    assert_eq!(links_sorted, ["56", "58", "888"]);
    let by = |link: &str| {
        list.iter()
            .find(|c| c["cinemaLinkId"] == link)
            .expect("cinema")
            .clone()
    };
    assert_eq!(
        by("888"),
        json!({
            "cinemaLinkId": "888", "name": "CHTEST01", "cinemaId": "1721210",
            "cityCode": "310100", "city": "China", "hallCount": 2,
            "refundBeforeTime": "60", "refundLimitCount": "100",
            "halls": [
                {"hallId": "1", "name": "一号厅", "type": "N", "seatCount": 77},
                {"hallId": "7", "name": "七号厅", "type": "Y", "seatCount": 78}
            ]
        })
    );
    // The document's own example (§4.1), field for field.
    assert_eq!(
        by("58"),
        json!({"cinemaLinkId":"58","city":"广州","cinemaId":"99999958","cityCode":"440100","name":"58 影院","hallCount":1,"refundBeforeTime":"60","refundLimitCount":"100","halls":[{"hallId":"1","name":"1 号厅","type":"N","seatCount":195}]})
    );
    let c56 = by("56");
    assert_eq!(c56["refundBeforeTime"], "", "{c56}");
    assert_eq!(c56["refundLimitCount"], "", "{c56}");
    assert_eq!(
        c56,
        json!({"cinemaLinkId":"56","city":"广州","cinemaId":"56565656","cityCode":"440100","name":"56 影院","hallCount":1,"refundBeforeTime":"","refundLimitCount":"","halls":[{"hallId":"8","name":"10","type":"N","seatCount":24}]})
    );
    server.stop().await;
}

#[tokio::test]
async fn post_form_bodies_work_and_merge_with_the_query_string() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let expected = yk.call(GET_CINEMAS, &json!({})).await;

    // Everything in a form body.
    let p = signed(GET_CINEMAS, Some("{}"), yk.now());
    let env = yk.post(&[], &p).await.json();
    assert_eq!(env, expected);

    // Split between query string and body (G-HTTP-1: merged).
    let (q, b) = p.split_at(2);
    let env = yk.post(q, b).await.json();
    assert_eq!(env, expected);

    // A business call by POST.
    let data = json!({"cinemaLinkId": "888", "hallId": "1"}).to_string();
    let env = yk
        .post(&[], &signed(GET_SEATS, Some(&data), yk.now()))
        .await
        .json();
    success(&env);

    // The same parameter in the query string and in the body → 30006.
    let env = yk.post(&p[..1], &p).await.json();
    expect_sys(&env, "30006", GET_CINEMAS, "1.0");
    server.stop().await;
}

#[tokio::test]
async fn bad_credentials_and_common_parameters_are_system_errors() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let now = yk.now().to_string();
    let data = r#"{"cinemaLinkId":"888","hallId":"1"}"#;
    let base = [
        ("api", GET_SEATS),
        ("v", "1.0"),
        ("channelCode", CHANNEL),
        ("timestamp", now.as_str()),
        ("data", data),
    ];

    // Correctly signed: success.
    success(&yk.get(&with_sign(&base, SECRET)).await.json());

    // Wrong secret.
    let env = yk.get(&with_sign(&base, "12346")).await.json();
    expect_sys(&env, "30003", GET_SEATS, "1.0");

    // Tampered data (signed with hall 1, sent with hall 7).
    let mut p = with_sign(&base, SECRET);
    p[4].1 = r#"{"cinemaLinkId":"888","hallId":"7"}"#.into();
    expect_sys(&yk.get(&p).await.json(), "30003", GET_SEATS, "1.0");

    // Whitespace inside data is part of what is signed (§2.3).
    let mut p = with_sign(&base, SECRET);
    p[4].1 = r#"{"cinemaLinkId": "888","hallId":"1"}"#.into();
    expect_sys(&yk.get(&p).await.json(), "30003", GET_SEATS, "1.0");

    // A garbage sign.
    let mut p = owned(&base);
    p.push(("sign".into(), "00000000000000000000000000000000".into()));
    expect_sys(&yk.get(&p).await.json(), "30003", GET_SEATS, "1.0");

    // Missing sign: a mandatory common parameter is absent → 30005 (§1.2, §9.1, G-DATA-4).
    let env = yk.get(&owned(&base)).await.json();
    expect_sys(&env, "30005", GET_SEATS, "1.0");

    // Upper-case sign accepted (G-SIG-2).
    let mut p = with_sign(&base, SECRET);
    p[5].1 = p[5].1.to_uppercase();
    success(&yk.get(&p).await.json());

    // Leading zeros stripped accepted (G-SIG-2): find a timestamp in the window whose sign
    // starts with "0".
    let mut found = false;
    for back in 0..2000i64 {
        let ts = (yk.now() - back).to_string();
        let mut q = base;
        q[3].1 = ts.as_str();
        let full = sign(&q, SECRET);
        if full.starts_with('0') {
            let mut p = owned(&q);
            p.push(("sign".into(), full.trim_start_matches('0').to_string()));
            success(&yk.get(&p).await.json());
            found = true;
            break;
        }
    }
    assert!(found, "no signature with a leading zero in 2000 timestamps");

    // Unknown channel → 30002.
    let mut q = base;
    q[2].1 = "NOSUCH";
    expect_sys(
        &yk.get(&with_sign(&q, SECRET)).await.json(),
        "30002",
        GET_SEATS,
        "1.0",
    );

    // Unknown api and v=2.0 → 30001 (G-VER-1).
    let mut q = base;
    q[0].1 = "ykse.partner.nothing.here";
    expect_sys(
        &yk.get(&with_sign(&q, SECRET)).await.json(),
        "30001",
        "ykse.partner.nothing.here",
        "1.0",
    );
    let mut q = base;
    q[1].1 = "2.0";
    expect_sys(
        &yk.get(&with_sign(&q, SECRET)).await.json(),
        "30001",
        GET_SEATS,
        "2.0",
    );

    // Missing api / v / channelCode / timestamp → 30005; the envelope echoes what was sent.
    for (i, name) in ["api", "v", "channelCode", "timestamp"].iter().enumerate() {
        let q: Vec<(&str, &str)> = base
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, p)| *p)
            .collect();
        let env = yk.get(&with_sign(&q, SECRET)).await.json();
        let api = if *name == "api" { "" } else { GET_SEATS };
        let v = if *name == "v" { "" } else { "1.0" };
        expect_sys(&env, "30005", api, v);
        // An empty value counts as missing.
        let mut q = base;
        q[i].1 = "";
        let env = yk.get(&with_sign(&q, SECRET)).await.json();
        expect_sys(&env, "30005", api, v);
    }

    // No parameters at all.
    let env = yk.get(&[]).await.json();
    expect_sys(&env, "30005", "", "");
    server.stop().await;
}

#[tokio::test]
async fn the_timestamp_must_be_13_digits_within_ten_minutes() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let data = Some("{}");
    let now = yk.now();
    let minute = 60_000;

    for ts in [
        now - 11 * minute,
        now + 11 * minute,
        now - 600_001,
        now + 600_001,
    ] {
        let env = yk.get(&signed(GET_CINEMAS, data, ts)).await.json();
        expect_sys(&env, "30004", GET_CINEMAS, "1.0");
    }
    for ts in [
        now - 10 * minute,
        now + 10 * minute,
        now - 9 * minute,
        now + minute,
    ] {
        success(&yk.get(&signed(GET_CINEMAS, data, ts)).await.json());
    }

    // Not 13 digits → 30006 (G-TS-1): seconds, 14 digits, letters.
    for ts in [
        (now / 1000).to_string(),
        format!("{now}0"),
        "abcdefghijklm".to_string(),
        format!("{}x", now / 10),
    ] {
        let p = with_sign(
            &[
                ("api", GET_CINEMAS),
                ("v", "1.0"),
                ("channelCode", CHANNEL),
                ("timestamp", ts.as_str()),
                ("data", "{}"),
            ],
            SECRET,
        );
        let env = yk.get(&p).await.json();
        expect_sys(&env, "30006", GET_CINEMAS, "1.0");
    }

    // The window follows the server clock.
    server.clock.advance(Duration::minutes(30));
    let env = yk.get(&signed(GET_CINEMAS, data, now)).await.json();
    expect_sys(&env, "30004", GET_CINEMAS, "1.0");
    success(&yk.get(&signed(GET_CINEMAS, data, yk.now())).await.json());
    server.stop().await;
}

#[tokio::test]
async fn duplicate_parameters_and_bad_data_are_invalid_values() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);

    // A parameter given twice → 30006 (G-HTTP-1).
    let mut p = signed(GET_CINEMAS, Some("{}"), yk.now());
    p.push(("data".into(), "{}".into()));
    expect_sys(&yk.get(&p).await.json(), "30006", GET_CINEMAS, "1.0");
    let mut p = signed(GET_CINEMAS, Some("{}"), yk.now());
    p.push(("v".into(), "1.0".into()));
    expect_sys(&yk.get(&p).await.json(), "30006", GET_CINEMAS, "1.0");

    // data not JSON (correctly signed) → 30006 (G-DATA-4).
    for bad in ["{cinemaLinkId:888}", "not json", r#"{"cinemaLinkId":"888""#] {
        let env = yk.get(&signed(GET_SEATS, Some(bad), yk.now())).await.json();
        expect_sys(&env, "30006", GET_SEATS, "1.0");
    }

    // An unknown extra parameter is signed and otherwise ignored (G-SIG-3).
    let ts = yk.now().to_string();
    let p = with_sign(
        &[
            ("api", GET_CINEMAS),
            ("v", "1.0"),
            ("channelCode", CHANNEL),
            ("timestamp", ts.as_str()),
            ("appVersion", "2.9.102"),
        ],
        SECRET,
    );
    success(&yk.get(&p).await.json());
    // ... and not signing it fails.
    let mut p = signed(GET_CINEMAS, None, yk.now());
    p.push(("appVersion".into(), "2.9.102".into()));
    expect_sys(&yk.get(&p).await.json(), "30003", GET_CINEMAS, "1.0");
    server.stop().await;
}

#[tokio::test]
async fn gzip_responses_and_gzip_request_bodies() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let p = signed(GET_CINEMAS, Some("{}"), yk.now());

    let plain = yk.get(&p).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None);
    plain.json();

    let gz = yk.get_with(&p, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.status, 200);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(
        gz.header("content-type"),
        Some("application/json;charset=UTF-8")
    );
    assert_eq!(&gz.body[..2], &[0x1f, 0x8b], "gzip magic");
    assert!(gz.body.len() > 18);
    // The gzip trailer's CRC-32 and length equal those of the identity JSON body: the
    // compressed body decodes to the same bytes.
    let n = gz.body.len();
    let crc = u32::from_le_bytes(gz.body[n - 8..n - 4].try_into().unwrap());
    let isize = u32::from_le_bytes(gz.body[n - 4..].try_into().unwrap());
    assert_eq!(isize as usize, plain.body.len());
    assert_eq!(crc, crc32(&plain.body));

    // A gzip request body (Content-Encoding: gzip).
    let env = yk.post_gzip(&p).await.json();
    assert_eq!(env, plain.json());
    let data = json!({"cinemaLinkId": "888", "hallId": "1"}).to_string();
    let env = yk
        .post_gzip(&signed(GET_SEATS, Some(&data), yk.now()))
        .await
        .json();
    success(&env);

    server.stop().await;
}

#[tokio::test]
async fn undecodable_request_bodies_still_get_http_200_envelopes() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    // Undecodable bodies still get HTTP 200 and a system-error envelope (G-HTTP-1): a body
    // that is not gzip, and an encoding the server does not support.
    for (encoding, body) in [
        ("gzip", b"not gzip at all".to_vec()),
        (
            "br",
            form(&signed(GET_CINEMAS, Some("{}"), yk.now())).into_bytes(),
        ),
    ] {
        let r = yk
            .send(
                yk.http
                    .post(yk.route())
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("content-encoding", encoding)
                    .body(body),
            )
            .await;
        assert_eq!(
            r.status,
            200,
            "Content-Encoding {encoding}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let env = r.json();
        assert_eq!(keys(&env), ["api", "retCode", "retMsg", "v"], "{env}");
        assert_ne!(env["retCode"], "0", "{env}");
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 2. getSchedules
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_schedules_ranges_and_validation() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);

    // No dates: today's business day, 2026-11-22, which has no demo sessions.
    assert!(schedules(&yk, json!({"cinemaLinkId": "888"}))
        .await
        .is_empty());
    assert!(schedules(
        &yk,
        json!({"cinemaLinkId": "888", "startDate": "", "endDate": ""})
    )
    .await
    .is_empty());
    assert!(schedules(
        &yk,
        json!({"cinemaLinkId": "888", "startDate": "2026-11-22", "endDate": "2026-11-22"})
    )
    .await
    .is_empty());

    let one_day = schedules(
        &yk,
        json!({"cinemaLinkId": "888", "startDate": "2026-11-23", "endDate": "2026-11-23"}),
    )
    .await;
    assert_eq!(ids(&one_day), ["29617", "33392"]);
    let three = schedules(
        &yk,
        json!({"cinemaLinkId": "888", "startDate": "2026-11-23", "endDate": "2026-11-25"}),
    )
    .await;
    assert_eq!(ids(&three), ["29617", "29618", "33392", "34668", "34669"]);
    // startDate only: from startDate onward.
    let onward = schedules(
        &yk,
        json!({"cinemaLinkId": "888", "startDate": "2026-11-24"}),
    )
    .await;
    assert_eq!(ids(&onward), ["29618", "34668", "34669"]);
    // A numeric cinemaLinkId (G-TYPE-1).
    let numeric = schedules(
        &yk,
        json!({"cinemaLinkId": 888, "startDate": "2026-11-24", "endDate": "2026-11-24"}),
    )
    .await;
    assert_eq!(ids(&numeric), ["34668", "34669"]);
    // Cinema 58 and 56.
    let c58 = schedules(
        &yk,
        json!({"cinemaLinkId": "58", "startDate": "2026-11-23", "endDate": "2026-11-23"}),
    )
    .await;
    assert_eq!(ids(&c58), ["18406", "18407"]);
    let c56 = schedules(
        &yk,
        json!({"cinemaLinkId": "56", "startDate": "2026-11-23"}),
    )
    .await;
    assert_eq!(ids(&c56), ["7054"]);

    // priceQueryType: default / benefit / specialSeat / empty accepted, anything else not.
    for t in ["default", "benefit", "specialSeat", ""] {
        let l = schedules(
            &yk,
            json!({"cinemaLinkId": "888", "startDate": "2026-11-23", "endDate": "2026-11-23", "priceQueryType": t}),
        )
        .await;
        assert_eq!(ids(&l), ["29617", "33392"], "priceQueryType {t}");
    }
    let env = yk
        .call(
            GET_SCHEDULES,
            &json!({"cinemaLinkId": "888", "startDate": "2026-11-23", "priceQueryType": "vip"}),
        )
        .await;
    expect_biz_fail(&env, "ILLEGAL_ARGUMENT");

    // endDate < startDate → ILLEGAL_ARGUMENT (G-SCH-2).
    let env = yk
        .call(
            GET_SCHEDULES,
            &json!({"cinemaLinkId": "888", "startDate": "2026-11-24", "endDate": "2026-11-23"}),
        )
        .await;
    expect_biz_fail(&env, "ILLEGAL_ARGUMENT");

    // Bad dates → FORMAT_ERROR.
    for (start, end) in [
        ("2026/11/23", "2026-11-24"),
        ("2026-11-31", "2026-12-01"),
        ("2026-11-23", "tomorrow"),
        ("20261123", "20261124"),
    ] {
        let env = yk
            .call(
                GET_SCHEDULES,
                &json!({"cinemaLinkId": "888", "startDate": start, "endDate": end}),
            )
            .await;
        expect_biz_fail(&env, "FORMAT_ERROR");
    }

    // Unknown cinema → CINEMA_INVALID (G-CH-1); missing cinemaLinkId → NULL_ARGUMENT.
    let env = yk
        .call(GET_SCHEDULES, &json!({"cinemaLinkId": "999"}))
        .await;
    expect_biz_fail(&env, "CINEMA_INVALID");
    let env = yk.call(GET_SCHEDULES, &json!({})).await;
    expect_biz_fail(&env, "NULL_ARGUMENT");
    let env = yk.call(GET_SCHEDULES, &json!({"cinemaLinkId": ""})).await;
    expect_biz_fail(&env, "NULL_ARGUMENT");
    let env = yk.get(&signed(GET_SCHEDULES, None, yk.now())).await.json();
    expect_biz_fail(&env, "NULL_ARGUMENT");
    server.stop().await;
}

#[tokio::test]
async fn get_schedules_fields() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);

    let s = schedule(&yk, "888", "29617").await;
    let key = s["scheduleKey"].as_str().expect("scheduleKey").to_string();
    assert_eq!(key.len(), 32, "{s}");
    assert!(
        key.chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)),
        "{key}"
    );
    assert_eq!(
        s,
        json!({
            "scheduleId": "29617", "scheduleKey": key, "cinemaLinkId": "888",
            "showDateTime": "2026-11-23 10:50:00", "hallId": "1",
            "standardPrice": "100.00", "lowestPrice": "100.00", "settlePrice": "100.00",
            "ticketfee": "0.00", "ticketFee": "0.00", "feeType": "ticket", "throughStatus": "N",
            "stopSellingTime": "2026-11-23 10:50:00", "saleStatus": "Y", "sessionCode": "29617",
            "film": {"name": "重返 20 岁", "shortName": "重返 20 岁", "filmCode": "001200472015",
                     "language": "", "duration": 131, "dimensional": "2D", "size": "NORMAL"},
            "benefitCardPrices": [], "areaSettlePrices": []
        })
    );
    // The key is stable across calls.
    assert_eq!(schedule(&yk, "888", "29617").await["scheduleKey"], key);

    // Area pricing (§4.2 note 1).
    let vip = schedule(&yk, "888", "34668").await;
    assert_eq!(vip["settlePrice"], "80.00");
    assert_eq!(vip["hallId"], "7");
    assert_eq!(vip["showDateTime"], "2026-11-24 10:30:00");
    assert_eq!(vip["film"]["dimensional"], "3D");
    assert_eq!(
        vip["areaSettlePrices"],
        json!([{"name": "七号厅 VIP", "settlePrice": "20.00"}])
    );
    assert_eq!(vip["benefitCardPrices"], json!([]));
    assert_eq!(s["areaSettlePrices"], json!([]));

    // Cinema 58: a 20-minute cut-off and a 1-yuan fee.
    let c58 = schedule(&yk, "58", "18406").await;
    assert_eq!(c58["showDateTime"], "2026-11-23 09:55:00");
    assert_eq!(c58["stopSellingTime"], "2026-11-23 09:35:00");
    assert_eq!(c58["ticketFee"], "1.00");
    assert_eq!(c58["settlePrice"], "35.00");
    assert_eq!(c58["feeType"], "ticket");
    assert_eq!(c58["saleStatus"], "Y");
    let c58b = schedule(&yk, "58", "18407").await;
    assert_eq!(c58b["showDateTime"], "2026-11-23 20:30:00");
    assert_eq!(c58b["stopSellingTime"], "2026-11-23 20:10:00");
    assert_eq!(c58b["ticketFee"], "1.00");

    // The sold-out flag.
    let so = schedule(&yk, "888", "29618").await;
    assert_eq!(so["saleStatus"], "N");
    assert_eq!(so["showDateTime"], "2026-11-25 14:00:00");
    for id in ["33392", "34668", "34669"] {
        assert_eq!(schedule(&yk, "888", id).await["saleStatus"], "Y", "{id}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_business_day_starts_at_six() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    // 2026-11-23 05:59 (+08:00): still business day 2026-11-22.
    server
        .clock
        .advance(Duration::hours(19) + Duration::minutes(59));
    assert!(schedules(&yk, json!({"cinemaLinkId": "888"}))
        .await
        .is_empty());
    // 06:00: business day 2026-11-23.
    server.clock.advance(Duration::minutes(1));
    let today = schedules(&yk, json!({"cinemaLinkId": "888"})).await;
    assert_eq!(ids(&today), ["29617", "33392"]);
    server.stop().await;
}

#[tokio::test]
async fn sale_status_and_locks_stop_at_the_cut_off() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let c58 = schedule(&yk, "58", "18406").await;

    // 2026-11-23 09:34: one minute before cinema 58's cut-off.
    server
        .clock
        .advance(Duration::hours(23) + Duration::minutes(34));
    assert_eq!(schedule(&yk, "58", "18406").await["saleStatus"], "Y");
    lock_ok(&yk, &c58, "cut1", &[&s1(5, 5)]).await;

    // 09:36: past it.
    server.clock.advance(Duration::minutes(2));
    let now58 = schedule(&yk, "58", "18406").await;
    assert_eq!(now58["saleStatus"], "N");
    let env = lock(&yk, &now58, "cut2", &[&s1(5, 6)]).await;
    expect_biz_fail(&env, "LOCK_SEAT_OUT_DATE");
    assert_eq!(schedule(&yk, "58", "18407").await["saleStatus"], "Y");

    // 29617: on sale up to its stopSellingTime 10:50 inclusive, not after (G-SCH-8).
    server
        .clock
        .advance(Duration::hours(1) + Duration::minutes(14));
    let s = schedule(&yk, "888", "29617").await;
    assert_eq!(s["saleStatus"], "Y");
    lock_ok(&yk, &s, "cut-exact", &[&s1(1, 2)]).await;
    server.clock.advance(Duration::minutes(1));
    let s = schedule(&yk, "888", "29617").await;
    assert_eq!(s["saleStatus"], "N");
    let env = lock(&yk, &s, "cut3", &[&s1(1, 1)]).await;
    expect_biz_fail(&env, "LOCK_SEAT_OUT_DATE");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 3. getSeats
// ---------------------------------------------------------------------------------------------

async fn seats_of(yk: &Yk, link: &str, hall: &str) -> Value {
    let env = yk
        .call(GET_SEATS, &json!({"cinemaLinkId": link, "hallId": hall}))
        .await;
    success(&env)["data"].clone()
}

fn seat_list(section: &Value) -> Vec<Value> {
    section["seats"].as_array().expect("seats").clone()
}

fn find_seat<'a>(seats: &'a [Value], id: &str) -> &'a Value {
    seats
        .iter()
        .find(|s| s["seatId"] == id)
        .unwrap_or_else(|| panic!("seat {id}"))
}

#[tokio::test]
async fn get_seats_maps_halls_to_sections_and_coordinates() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);

    let d = seats_of(&yk, "888", "1").await;
    assert_eq!(keys(&d), ["cinemaLinkId", "hallId", "seatPlanList"]);
    assert_eq!(d["cinemaLinkId"], "888");
    assert_eq!(d["hallId"], "1");
    let plans = d["seatPlanList"].as_array().expect("plans");
    assert_eq!(plans.len(), 1);
    assert!(plans[0]["effectiveDate"].as_str().is_some());
    let sections = plans[0]["sections"].as_array().expect("sections");
    assert_eq!(sections.len(), 1);
    assert_eq!(sections[0]["sectionId"], S1);
    assert_eq!(sections[0]["name"], "一号厅");
    let seats = seat_list(&sections[0]);
    assert_eq!(seats.len(), 77);
    let mut ids: Vec<&str> = seats
        .iter()
        .map(|s| s["seatId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 77, "seat ids are unique");
    for s in &seats {
        assert_eq!(
            keys(s),
            ["columnId", "damage", "rowId", "seatId", "type", "x", "y"],
            "{s}"
        );
        // seatId = {sectionId}-{rowId}-{columnId} (§4.3).
        assert_eq!(
            s["seatId"],
            format!(
                "{S1}-{}-{}",
                s["rowId"].as_str().unwrap(),
                s["columnId"].as_str().unwrap()
            )
        );
        assert!(s["x"].is_i64() && s["y"].is_i64(), "Integer x/y: {s}");
        // y = 1 is the row nearest the screen: physical row 1.
        assert_eq!(
            s["y"].as_i64().unwrap().to_string(),
            s["rowId"].as_str().unwrap()
        );
        assert_eq!(s["type"], "N");
        assert_eq!(s["damage"], "N");
    }
    // Vista row index 0 column 1 (7排10座).
    let s = find_seat(&seats, "0000000000000001-7-10");
    assert_eq!(s["rowId"], "7");
    assert_eq!(s["columnId"], "10");
    assert_eq!((s["x"].as_i64(), s["y"].as_i64()), (Some(2), Some(7)));
    let s = find_seat(&seats, &s1(7, 1));
    assert_eq!((s["x"].as_i64(), s["y"].as_i64()), (Some(11), Some(7)));
    let s = find_seat(&seats, &s1(6, 11));
    assert_eq!((s["x"].as_i64(), s["y"].as_i64()), (Some(2), Some(6)));
    let s = find_seat(&seats, &s1(1, 12));
    assert_eq!((s["x"].as_i64(), s["y"].as_i64()), (Some(1), Some(1)));
    let s = find_seat(&seats, &s1(1, 1));
    assert_eq!((s["x"].as_i64(), s["y"].as_i64()), (Some(12), Some(1)));
    for (row, n) in [
        ("7", 10),
        ("6", 11),
        ("5", 10),
        ("4", 10),
        ("3", 12),
        ("2", 12),
        ("1", 12),
    ] {
        assert_eq!(
            seats
                .iter()
                .filter(|s| s["rowId"].as_str() == Some(row))
                .count(),
            n,
            "row {row}"
        );
    }

    // Hall 7: two sections; sofa, wheelchair and house seats in the VIP area.
    let d = seats_of(&yk, "888", "7").await;
    let sections = d["seatPlanList"][0]["sections"]
        .as_array()
        .expect("sections")
        .clone();
    assert_eq!(sections.len(), 2);
    assert_eq!(sections[0]["sectionId"], S1);
    assert_eq!(sections[0]["name"], "七号厅");
    assert_eq!(sections[1]["sectionId"], S2);
    assert_eq!(sections[1]["name"], "七号厅 VIP");
    let main = seat_list(&sections[0]);
    let vip = seat_list(&sections[1]);
    assert_eq!(main.len(), 60);
    assert_eq!(vip.len(), 18);
    let s = find_seat(&main, &s1(8, 10));
    assert_eq!((s["x"].as_i64(), s["y"].as_i64()), (Some(1), Some(8)));
    let s = find_seat(&main, &s1(3, 1));
    assert_eq!((s["x"].as_i64(), s["y"].as_i64()), (Some(10), Some(3)));
    let expect = |id: &str, t: &str, x: i64, y: i64| {
        let s = find_seat(&vip, &format!("{S2}-{id}"));
        assert_eq!(s["type"], t, "{s}");
        assert_eq!(s["damage"], "N", "{s}");
        assert_eq!(
            (s["x"].as_i64(), s["y"].as_i64()),
            (Some(x), Some(y)),
            "{s}"
        );
    };
    expect("2-09", "L", 2, 2);
    expect("2-08", "R", 3, 2);
    expect("2-07", "N", 4, 2);
    expect("2-03", "L", 8, 2);
    expect("2-02", "R", 9, 2);
    expect("1-10", "N", 1, 1);
    expect("1-07", "W", 4, 1);
    expect("1-04", "H", 7, 1);
    expect("1-01", "N", 10, 1);

    // Cinema 58: 195 seats, the damaged one (§4.3 damage "Y").
    let d = seats_of(&yk, "58", "1").await;
    assert_eq!(d["cinemaLinkId"], "58");
    assert_eq!(d["seatPlanList"][0]["effectiveDate"], "2015-11-14");
    let sec = &d["seatPlanList"][0]["sections"][0];
    assert_eq!(sec["name"], "普通区");
    let seats = seat_list(sec);
    assert_eq!(seats.len(), 195);
    let broken: Vec<&Value> = seats.iter().filter(|s| s["damage"] == "Y").collect();
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0]["seatId"], s1(1, 15));
    let s = find_seat(&seats, &s1(13, 1));
    assert_eq!((s["x"].as_i64(), s["y"].as_i64()), (Some(1), Some(13)));
    assert_eq!(s["columnId"], "01");

    // Unknown hall → DATA_NOT_EXIST; unknown cinema → CINEMA_INVALID; missing → NULL_ARGUMENT.
    let env = yk
        .call(GET_SEATS, &json!({"cinemaLinkId": "888", "hallId": "9"}))
        .await;
    expect_biz_fail(&env, "DATA_NOT_EXIST");
    let env = yk
        .call(GET_SEATS, &json!({"cinemaLinkId": "999", "hallId": "1"}))
        .await;
    expect_biz_fail(&env, "CINEMA_INVALID");
    let env = yk.call(GET_SEATS, &json!({"cinemaLinkId": "888"})).await;
    expect_biz_fail(&env, "NULL_ARGUMENT");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 4. getScheduleAreaSeats and getScheduleSoldSeats
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn area_seats_list_the_priced_area() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let s = schedule(&yk, "888", "34668").await;
    let env = yk.call(AREA_SEATS, &sched_data(&s)).await;
    let d = &success(&env)["data"];
    assert_eq!(
        keys(d),
        ["cinemaLinkId", "scheduleId", "scheduleKey", "sectionAreas"]
    );
    assert_eq!(d["cinemaLinkId"], "888");
    assert_eq!(d["scheduleId"], "34668");
    assert_eq!(d["scheduleKey"], s["scheduleKey"]);
    let areas = d["sectionAreas"].as_array().expect("sectionAreas");
    assert_eq!(areas.len(), 2);
    assert_eq!(areas[0]["sectionId"], S1);
    assert_eq!(areas[0]["areaDetails"], json!([]));
    assert_eq!(areas[1]["sectionId"], S2);
    let details = areas[1]["areaDetails"].as_array().expect("areaDetails");
    assert_eq!(details.len(), 1);
    // The join key to areaSettlePrices is the name (§4.4).
    assert_eq!(details[0]["name"], s["areaSettlePrices"][0]["name"]);
    assert_eq!(details[0]["name"], "七号厅 VIP");
    assert!(!details[0]["code"].as_str().expect("code").is_empty());
    let mut seats: Vec<&str> = details[0]["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .map(|x| x["seatId"].as_str().unwrap())
        .collect();
    seats.sort_unstable();
    assert_eq!(seats.len(), 18);
    assert!(seats.contains(&"0000000000000002-2-09"));
    assert!(seats.contains(&"0000000000000002-1-10"));
    assert!(seats.iter().all(|x| x.starts_with(S2)));

    // A schedule without area pricing: every section empty.
    let plain = schedule(&yk, "888", "29617").await;
    let env = yk.call(AREA_SEATS, &sched_data(&plain)).await;
    let d = &success(&env)["data"];
    assert_eq!(
        d["sectionAreas"],
        json!([{"sectionId": S1, "areaDetails": []}])
    );

    // Wrong key / unknown schedule.
    let mut bad = sched_data(&s);
    bad["scheduleKey"] = json!("00000000000000000000000000000000");
    expect_biz_fail(&yk.call(AREA_SEATS, &bad).await, "SCHEDULE_HAS_CHANGED");
    let mut bad = sched_data(&s);
    bad["scheduleId"] = json!("99999");
    expect_biz_fail(&yk.call(AREA_SEATS, &bad).await, "SCHEDULE_NOT_FOUND");
    server.stop().await;
}

#[tokio::test]
async fn sold_seats_follow_locks_holds_releases_and_cancellations() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let vista = Client::new(&server);
    let s = schedule(&yk, "888", "29617").await;
    assert!(sold(&yk, &s, S1).await.is_empty());

    // A Yueke lock.
    let lock_id = lock_ok(&yk, &s, "sold1", &["0000000000000001-7-10"]).await;
    assert_eq!(sold(&yk, &s, S1).await, ["0000000000000001-7-10"]);

    // A Vista AddTickets hold on 7排9座 (row index 0, column 2).
    let r = vista
        .post(
            ADD_TICKETS,
            &add_tickets_body("vista-sold", "29617", "0056", 5000, &[(0, 2)]),
        )
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    assert_eq!(sold(&yk, &s, S1).await, sorted(&[s1(7, 10), s1(7, 9)]));

    // Release the lock, cancel the Vista order.
    release_ok(&yk, "888", &lock_id).await;
    assert_eq!(sold(&yk, &s, S1).await, [s1(7, 9)]);
    let r = vista
        .post(CANCEL_ORDER, &json!({"UserSessionId": "vista-sold"}))
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    assert!(sold(&yk, &s, S1).await.is_empty());

    // A completed Vista booking stays unavailable.
    let r = vista
        .post(
            ADD_TICKETS,
            &add_tickets_body("vista-paid", "29617", "0056", 5000, &[(6, 0)]),
        )
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    let r = vista
        .post(COMPLETE_ORDER, &complete_body("vista-paid", 5000))
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    assert_eq!(sold(&yk, &s, S1).await, [s1(1, 12)]);

    // Cinema 58: the damaged seat is always listed, and cannot be locked.
    let c58 = schedule(&yk, "58", "18406").await;
    assert_eq!(sold(&yk, &c58, S1).await, [s1(1, 15)]);
    let l = lock_ok(&yk, &c58, "sold58", &[&s1(1, 14)]).await;
    assert_eq!(sold(&yk, &c58, S1).await, [s1(1, 14), s1(1, 15)]);
    expect_biz_fail(
        &lock(&yk, &c58, "sold58b", &[&s1(1, 15)]).await,
        "LOCK_SEAT_ERROR",
    );
    release_ok(&yk, "58", &l).await;
    assert_eq!(sold(&yk, &c58, S1).await, [s1(1, 15)]);

    // Hall 7: the house seat is listed (G-SEAT-3) and cannot be locked (G-LOCK-4).
    let vip = schedule(&yk, "888", "34668").await;
    let house = format!("{S2}-1-04");
    assert!(sold(&yk, &vip, S2).await.contains(&house));
    assert!(sold(&yk, &vip, S1).await.is_empty());
    expect_biz_fail(
        &lock(&yk, &vip, "house", &[&house]).await,
        "LOCK_SEAT_ERROR",
    );

    // Wrong scheduleKey / unknown scheduleId / missing sectionId.
    let mut bad = sched_data(&s);
    bad["sectionId"] = json!(S1);
    bad["scheduleKey"] = json!("00000000000000000000000000000000");
    expect_biz_fail(&yk.call(SOLD_SEATS, &bad).await, "SCHEDULE_HAS_CHANGED");
    // Another schedule's key is wrong too.
    bad["scheduleKey"] = vip["scheduleKey"].clone();
    expect_biz_fail(&yk.call(SOLD_SEATS, &bad).await, "SCHEDULE_HAS_CHANGED");
    let mut bad = sched_data(&s);
    bad["sectionId"] = json!(S1);
    bad["scheduleId"] = json!("99999");
    expect_biz_fail(&yk.call(SOLD_SEATS, &bad).await, "SCHEDULE_NOT_FOUND");
    expect_biz_fail(&yk.call(SOLD_SEATS, &sched_data(&s)).await, "NULL_ARGUMENT");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 5. lockSeats
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn lock_seats_success_and_out_lock_id_idempotency() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let s = schedule(&yk, "888", "29617").await;
    let a = s1(7, 10);
    let b = s1(7, 9);

    let id = lock_ok(&yk, &s, "14526106201238732837", &[&a, &b]).await;
    // Same outLockId, same seats (in any order) → the same lock (G-LOCK-3).
    assert_eq!(
        lock_ok(&yk, &s, "14526106201238732837", &[&a, &b]).await,
        id
    );
    assert_eq!(
        lock_ok(&yk, &s, "14526106201238732837", &[&b, &a]).await,
        id
    );
    // Same outLockId, other seats → REQUEST_PARAM_INCONFORMITY_ERROR.
    expect_biz_fail(
        &lock(&yk, &s, "14526106201238732837", &[&a]).await,
        "REQUEST_PARAM_INCONFORMITY_ERROR",
    );
    expect_biz_fail(
        &lock(&yk, &s, "14526106201238732837", &[&a, &b, &s1(7, 8)]).await,
        "REQUEST_PARAM_INCONFORMITY_ERROR",
    );
    // Same outLockId, same seat ids on another schedule of the same hall.
    let other = schedule(&yk, "888", "33392").await;
    expect_biz_fail(
        &lock(&yk, &other, "14526106201238732837", &[&a, &b]).await,
        "REQUEST_PARAM_INCONFORMITY_ERROR",
    );
    assert_eq!(sold(&yk, &s, S1).await, sorted(&[a.clone(), b.clone()]));
    assert!(sold(&yk, &other, S1).await.is_empty());

    // After release → LOCKSEAT_UNMATCH, and nothing is locked again.
    release_ok(&yk, "888", &id).await;
    expect_biz_fail(
        &lock(&yk, &s, "14526106201238732837", &[&a, &b]).await,
        "LOCKSEAT_UNMATCH",
    );
    assert!(sold(&yk, &s, S1).await.is_empty());

    // A taken seat → LOCK_SEAT_ERROR, all or nothing.
    let first = lock_ok(&yk, &s, "first", &[&a]).await;
    assert_ne!(first, id);
    expect_biz_fail(
        &lock(&yk, &s, "second", &[&s1(7, 8), &a]).await,
        "LOCK_SEAT_ERROR",
    );
    assert_eq!(sold(&yk, &s, S1).await, std::slice::from_ref(&a));
    lock_ok(&yk, &s, "third", &[&s1(7, 8)]).await;
    // The failed outLockId left nothing behind: it can be used for free seats.
    lock_ok(&yk, &s, "second", &[&s1(7, 7)]).await;

    // seatIdList as a JSON string (G-DATA-2), and a 20-character outLockId.
    let mut d = sched_data(&s);
    d["outLockId"] = json!("12345678901234567890");
    d["seatIdList"] = json!(json!([s1(1, 1), s1(1, 2)]).to_string());
    let env = yk.call(LOCK_SEATS, &d).await;
    let got = &success(&env)["data"];
    assert_eq!(got["outLockId"], "12345678901234567890");
    assert_eq!(got["seats"].as_array().unwrap().len(), 2);

    // Six seats are allowed (G-LOCK-2).
    let six: Vec<String> = (1..=6).map(|n| s1(2, n)).collect();
    let six: Vec<&str> = six.iter().map(String::as_str).collect();
    lock_ok(&yk, &s, "six", &six).await;

    // A lock may span the sections of an area-priced schedule.
    let vip = schedule(&yk, "888", "34668").await;
    let vip_seat = format!("{S2}-2-07");
    lock_ok(&yk, &vip, "two-sections", &[&s1(8, 10), &vip_seat]).await;
    assert_eq!(sold(&yk, &vip, S1).await, [s1(8, 10)]);
    assert!(sold(&yk, &vip, S2).await.contains(&vip_seat));

    // Distinct outLockIds give distinct locks.
    let x = lock_ok(&yk, &s, "x1", &[&s1(3, 1)]).await;
    let y = lock_ok(&yk, &s, "x2", &[&s1(3, 2)]).await;
    assert_ne!(x, y);
    server.stop().await;
}

#[tokio::test]
async fn lock_seats_validation() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let s = schedule(&yk, "888", "29617").await;

    // Empty or missing seat list → SEAT_INFO_NOT_NULL.
    expect_biz_fail(&lock(&yk, &s, "v1", &[]).await, "SEAT_INFO_NOT_NULL");
    let mut d = sched_data(&s);
    d["outLockId"] = json!("v1");
    expect_biz_fail(&yk.call(LOCK_SEATS, &d).await, "SEAT_INFO_NOT_NULL");
    // Not a list of seat ids → SEAT_INFO_ERROR (G-DATA-4).
    for bad in [json!(5), json!("[oops"), json!([5])] {
        let mut d = sched_data(&s);
        d["outLockId"] = json!("v1");
        d["seatIdList"] = bad;
        expect_biz_fail(&yk.call(LOCK_SEATS, &d).await, "SEAT_INFO_ERROR");
    }
    // Duplicates → SEAT_INFO_ERROR.
    expect_biz_fail(
        &lock(&yk, &s, "v2", &[&s1(7, 10), &s1(7, 10)]).await,
        "SEAT_INFO_ERROR",
    );
    // Malformed ids → SEATID_ERROR (G-SEAT-2).
    for bad in [
        "7-10",
        "abc",
        "0000000000000001--10",
        "0000000000000001-7-10-1",
    ] {
        expect_biz_fail(&lock(&yk, &s, "v3", &[bad]).await, "SEATID_ERROR");
    }
    // Unknown seats → SEAT_NOT_FOUND.
    for unknown in [s1(9, 1), s1(7, 11), format!("{S2}-7-10"), s1(7, 12)] {
        expect_biz_fail(&lock(&yk, &s, "v4", &[&unknown]).await, "SEAT_NOT_FOUND");
    }
    // Seven seats → OVER_MAX_TICKET.
    let seven: Vec<String> = (1..=7).map(|n| s1(1, n)).collect();
    let seven: Vec<&str> = seven.iter().map(String::as_str).collect();
    expect_biz_fail(&lock(&yk, &s, "v5", &seven).await, "OVER_MAX_TICKET");
    // outLockId over 20 characters → FORMAT_ERROR; missing → NULL_ARGUMENT.
    expect_biz_fail(
        &lock(&yk, &s, "123456789012345678901", &[&s1(7, 10)]).await,
        "FORMAT_ERROR",
    );
    let mut d = sched_data(&s);
    d["seatIdList"] = json!([s1(7, 10)]);
    expect_biz_fail(&yk.call(LOCK_SEATS, &d).await, "NULL_ARGUMENT");
    // Schedule checks.
    let mut bad = s.clone();
    bad["scheduleKey"] = json!("00000000000000000000000000000000");
    expect_biz_fail(
        &lock(&yk, &bad, "v6", &[&s1(7, 10)]).await,
        "SCHEDULE_HAS_CHANGED",
    );
    let mut bad = s.clone();
    bad["scheduleId"] = json!("99999");
    expect_biz_fail(
        &lock(&yk, &bad, "v7", &[&s1(7, 10)]).await,
        "SCHEDULE_NOT_FOUND",
    );
    // The sold-out schedule → SCHEDULE_NOT_OPEN.
    let so = schedule(&yk, "888", "29618").await;
    expect_biz_fail(
        &lock(&yk, &so, "v8", &[&s1(7, 10)]).await,
        "SCHEDULE_NOT_OPEN",
    );
    // Nothing of the above locked anything.
    assert!(sold(&yk, &s, S1).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_lock_lasts_fifteen_minutes() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let vista = Client::new(&server);
    let s = schedule(&yk, "888", "29617").await;
    let id = lock_ok(&yk, &s, "ttl", &["0000000000000001-7-10"]).await;

    server.clock.advance(Duration::minutes(14));
    assert_eq!(sold(&yk, &s, S1).await, [s1(7, 10)]);
    let plan = vista.get(&seat_plan("29617")).await.json();
    assert_eq!(seat_statuses(&plan)[&(1, 0, 1)], 1);
    expect_biz_fail(
        &lock(&yk, &s, "ttl-other", &[&s1(7, 10)]).await,
        "LOCK_SEAT_ERROR",
    );
    server.clock.advance(Duration::seconds(59));
    assert_eq!(sold(&yk, &s, S1).await, [s1(7, 10)]);

    server.clock.advance(Duration::seconds(2));
    assert!(sold(&yk, &s, S1).await.is_empty());
    let plan = vista.get(&seat_plan("29617")).await.json();
    assert_eq!(seat_statuses(&plan)[&(1, 0, 1)], 0);
    // The same outLockId after expiry → LOCKSEAT_UNMATCH (G-LOCK-3).
    expect_biz_fail(
        &lock(&yk, &s, "ttl", &["0000000000000001-7-10"]).await,
        "LOCKSEAT_UNMATCH",
    );
    // Releasing an expired lock is SUCCESS (G-LOCK-5).
    release_ok(&yk, "888", &id).await;
    // The seat can be locked again.
    lock_ok(&yk, &s, "ttl-again", &["0000000000000001-7-10"]).await;
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 6. releaseSeats
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn release_seats_is_idempotent_and_scoped_to_the_cinema() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let s = schedule(&yk, "888", "29617").await;
    let id = lock_ok(&yk, &s, "rel", &[&s1(5, 5), &s1(5, 6)]).await;

    // Another cinema of the channel → ORDER_NOT_FOUND, and the lock stays.
    let env = release(&yk, "58", &id).await;
    expect_biz(&env, "ORDER_NOT_FOUND");
    assert_eq!(sold(&yk, &s, S1).await, sorted(&[s1(5, 5), s1(5, 6)]));

    release_ok(&yk, "888", &id).await;
    assert!(sold(&yk, &s, S1).await.is_empty());
    // Idempotent.
    release_ok(&yk, "888", &id).await;

    // Unknown lockOrderIds.
    for unknown in ["20261122888999999999", "x", "20261122888000000000"] {
        expect_biz(&release(&yk, "888", unknown).await, "ORDER_NOT_FOUND");
    }
    // The released seats are free for a new lock.
    lock_ok(&yk, &s, "rel2", &[&s1(5, 5)]).await;
    // Missing lockOrderId → NULL_ARGUMENT; unknown cinema → CINEMA_INVALID.
    expect_biz_fail(
        &yk.call(RELEASE_SEATS, &json!({"cinemaLinkId": "888"}))
            .await,
        "NULL_ARGUMENT",
    );
    expect_biz_fail(&release(&yk, "999", &id).await, "CINEMA_INVALID");
    server.stop().await;
}
