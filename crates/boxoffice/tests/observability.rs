//! What an operator sees, over real HTTP against a real server: `/metrics` after bookings through
//! each protocol (request counts by protocol, endpoint and the protocol's own code; latency
//! histograms; holds, sales, refunds; outbox and connection gauges), `/readyz`, request ids, the
//! JSON log format, and logs free of every secret a full flow carries.
//!
//! The metrics recorder and the log subscriber are process-wide: tests that read counters or
//! logs run one at a time ([`serial`]) and compare counters before and after their own flow.

mod common;
use boxoffice_server::observe::{init_logging_with, LogFormat};
use boxoffice_server::testing::fresh_database;
use boxoffice_server::DEMO_CATALOG;
use common::ybx::{Agent, ADULT};
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// A full card number (Visa test number): never to appear in a log.
const CARD: &str = "4111111111111111";
/// The Yueke channel's secret in these tests (distinctive, so that a scan cannot miss it).
const YK_SECRET: &str = "yk-Obs-Secret-7Qz";
/// The 游宝星 demo agent's payment password.
const PAY_PASSWORD: &str = "123456";

/// Everything the process logged since the first test started (debug level, text).
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        // The server's own logs at debug; the test client's are not the server's.
        let filter = "debug,reqwest=info,hyper_util::client=info";
        assert!(
            init_logging_with(LogFormat::Text, filter, move || Sink(sink.clone()), false),
            "log capture installed"
        );
        buf
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_text() -> String {
    String::from_utf8_lossy(&logs().lock().expect("log buffer")).into_owned()
}

/// One test at a time may book and read counters.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
        .lock()
        .await
}

/// A server whose Yueke channel signs with [`YK_SECRET`] and whose callback worker looks at the
/// outbox only once an hour (so that pending callbacks stay pending).
async fn server() -> (TestServer, Option<tempfile::TempDir>) {
    logs();
    let (db, dir) = fresh_database(TestStore::from_env()).await;
    let server = TestServer::start_on(&db, |c| c.ybx.outbox_poll_ms = 3_600_000).await;
    let catalog = DEMO_CATALOG.replace("secret = \"12345\"", &format!("secret = \"{YK_SECRET}\""));
    assert_ne!(
        catalog, DEMO_CATALOG,
        "the demo's Yueke secret was replaced"
    );
    server.app.apply_catalog(&catalog).await.expect("catalogue");
    (server, dir)
}

// ---------------------------------------------------------------------------------------------
// The flow: a booking through each protocol.

/// Vista: AddTickets, CompleteOrder with a full card number, RefundBooking.
async fn vista_flow(server: &TestServer) {
    let c = Client::new(server);
    let r = c
        .post(
            ADD_TICKETS,
            &add_tickets_body("OBS-1", "29617", "0056", 5000, &[(0, 1), (0, 2)]),
        )
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    let mut pay = complete_body("OBS-1", 10000);
    pay["PaymentInfo"]["CardNumber"] = json!(CARD);
    let r = c.post(COMPLETE_ORDER, &pay).await;
    let v = r.json();
    assert_eq!(v["Result"], 0, "{}", r.text);
    let number: i64 = v["VistaBookingNumber"]
        .as_str()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("booking number: {}", r.text));
    let refund = json!({
        "CinemaId": "0200",
        "PaymentInfo": {"CardNumber": CARD, "CardType": "CreditCard", "PaymentValueCents": 10000, "PaymentTenderCategory": "CreditCard"},
        "BookingNumber": number, "RefundReason": "Test", "RefundConcessions": true,
        "RefundAmount": 10000, "RefundBookingFee": true, "MarkAsRefundedOnly": true,
        "OptionalClientId": "111.111.111.111"
    });
    let r = c.post(REFUND_BOOKING, &refund).await;
    assert_eq!(r.json()["ResultCode"], 0, "{}", r.text);
}

/// A signed Yueke call with [`YK_SECRET`].
async fn yueke(server: &TestServer, api: &str, data: &Value) -> Value {
    let ts = server.app.service.now_ms().to_string();
    let data = data.to_string();
    let params = [
        ("api", api),
        ("v", "1.0"),
        ("channelCode", "YKSE"),
        ("timestamp", ts.as_str()),
        ("data", data.as_str()),
    ];
    let sign = boxoffice_yueke::sign::sign(&params, YK_SECRET);
    let mut query = params.to_vec();
    query.push(("sign", &sign));
    let r = reqwest::Client::new()
        .get(format!("{}/route", server.url))
        .query(&query)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    r.json().await.expect("JSON")
}

fn biz(v: &Value) -> &str {
    assert_eq!(v["retCode"], "0", "{v}");
    v["data"]["bizCode"].as_str().unwrap_or("")
}

/// Yueke: getSchedules, lockSeats, confirmOrder at cinema 58, session 18406.
async fn yueke_flow(server: &TestServer) {
    let r = yueke(
        server,
        "ykse.partner.schedule.getSchedules",
        &json!({"cinemaLinkId": "58", "startDate": "2026-11-23", "endDate": "2026-11-25"}),
    )
    .await;
    assert_eq!(biz(&r), "SUCCESS", "{r}");
    let s = r["data"]["dataList"]
        .as_array()
        .and_then(|l| l.iter().find(|s| s["scheduleId"] == "18406"))
        .unwrap_or_else(|| panic!("schedule 18406: {r}"))
        .clone();
    let seats = ["0000000000000001-5-07", "0000000000000001-5-08"];
    let r = yueke(
        server,
        "ykse.partner.seat.lockSeats",
        &json!({"cinemaLinkId": "58", "scheduleId": s["scheduleId"], "scheduleKey": s["scheduleKey"], "outLockId": "OBS-Y1", "seatIdList": seats}),
    )
    .await;
    assert_eq!(biz(&r), "SUCCESS", "{r}");
    let lock = r["data"]["data"]["lockOrderId"].clone();
    let r = yueke(
        server,
        "ykse.partner.order.confirmOrder",
        &json!({
            "cinemaLinkId": "58", "lockOrderId": lock, "scheduleId": s["scheduleId"], "scheduleKey": s["scheduleKey"],
            "ticketList": seats.iter().map(|id| json!({"seatId": id, "ticketPrice": "35.00", "ticketFee": "1.00"})).collect::<Vec<_>>(),
            "mobile": "13800000000"
        }),
    )
    .await;
    assert_eq!(biz(&r), "SUCCESS", "{r}");
}

/// 游宝星: callbacks on (to an address nobody answers), OrderProducts, UseAccountToPayByPwd with
/// the payment password.
async fn ybx_flow(server: &TestServer) {
    let a = Agent::demo();
    common::ybx::call(
        &server.url,
        &a,
        "SetAgentParameters.aspx",
        &[
            ("responseaddr", "http://127.0.0.1:9/cb"),
            ("sendofficiallysnotify", "1"),
        ],
    )
    .await
    .expect(0, "成功");
    let p = [
        ("Order_list".to_string(), format!("{ADULT}|2")),
        ("Mobile".into(), a.enc("13700137000")),
        ("ID".into(), a.enc("430103198001010011")),
        ("SXRQ".into(), a.enc("20261123")),
        ("timespanindex".into(), "1".into()),
        ("senderid".into(), "OBS-S1".into()),
    ];
    let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = common::ybx::call(&server.url, &a, "OrderProducts.aspx", &refs).await;
    r.expect(0, "");
    let number = r.tag("orderid").expect("orderid");
    let pay = a.pay(PAY_PASSWORD);
    let r = common::ybx::call(
        &server.url,
        &a,
        "UseAccountToPayByPwd.aspx",
        &[
            ("Order_id", number.as_str()),
            ("money", "240.00"),
            ("Smscode", pay.as_str()),
            ("smsModel", "0"),
        ],
    )
    .await;
    assert_eq!(r.code(), 0, "{}", r.text);
}

// ---------------------------------------------------------------------------------------------
// Reading /metrics.

/// One sample of the Prometheus text: name, labels, value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the text exposition format (label values here hold no quotes or commas).
fn samples(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').expect("sample line");
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.strip_suffix('}').expect("labels")),
            None => (series, ""),
        };
        let labels = labels
            .split("\",")
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (k, v) = l.split_once("=\"").expect("label");
                (k.to_string(), v.trim_end_matches('"').to_string())
            })
            .collect();
        out.push(Sample {
            name: name.to_string(),
            labels,
            value: value.parse().expect("value"),
        });
    }
    out
}

async fn metrics(server: &TestServer) -> Vec<Sample> {
    let r = reqwest::get(format!("{}/metrics", server.url))
        .await
        .expect("metrics");
    assert_eq!(r.status(), 200);
    let content_type = r.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    samples(&r.text().await.expect("body"))
}

/// The value of a series (0 when absent), matching the given labels.
fn value(s: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    s.iter()
        .filter(|x| x.name == name)
        .filter(|x| {
            labels
                .iter()
                .all(|(k, v)| x.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|x| x.value)
        .sum()
}

const PAYMENT: &str = "/WSVistaWebClient/RESTTicketing.svc/order/payment";

#[tokio::test]
async fn metrics_count_bookings_through_every_protocol() {
    let _serial = serial().await;
    let (server, _dir) = server().await;
    let before = metrics(&server).await;
    vista_flow(&server).await;
    yueke_flow(&server).await;
    ybx_flow(&server).await;
    let after = metrics(&server).await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    let requests = "boxoffice_requests_total";
    let by = |p, e, c| [("protocol", p), ("endpoint", e), ("code", c)];
    assert_eq!(delta(requests, &by("vista", ADD_TICKETS, "0")), 1.0);
    assert_eq!(delta(requests, &by("vista", PAYMENT, "0")), 1.0);
    assert_eq!(delta(requests, &by("vista", REFUND_BOOKING, "0")), 1.0);
    let yk = |api| by("yueke", api, "SUCCESS");
    assert_eq!(
        delta(requests, &yk("ykse.partner.schedule.getSchedules")),
        1.0
    );
    assert_eq!(delta(requests, &yk("ykse.partner.seat.lockSeats")), 1.0);
    assert_eq!(delta(requests, &yk("ykse.partner.order.confirmOrder")), 1.0);
    assert_eq!(delta(requests, &by("ybx", "OrderProducts.aspx", "0")), 1.0);
    assert_eq!(
        delta(requests, &by("ybx", "UseAccountToPayByPwd.aspx", "0")),
        1.0
    );
    assert_eq!(
        delta(requests, &by("ybx", "SetAgentParameters.aspx", "0")),
        1.0
    );
    // Business counters, emitted by the core.
    let kind = |k| [("kind", k)];
    assert_eq!(delta("boxoffice_holds_total", &kind("cinema")), 2.0);
    assert_eq!(delta("boxoffice_sales_total", &kind("cinema")), 2.0);
    assert_eq!(delta("boxoffice_refunds_total", &kind("cinema")), 1.0);
    assert_eq!(delta("boxoffice_holds_total", &kind("scenic")), 1.0);
    assert_eq!(delta("boxoffice_sales_total", &kind("scenic")), 1.0);
    // Latency histograms per protocol and endpoint.
    let lat = [
        ("protocol", "yueke"),
        ("endpoint", "ykse.partner.order.confirmOrder"),
    ];
    assert_eq!(delta("boxoffice_request_duration_seconds_count", &lat), 1.0);
    let inf = [lat[0], lat[1], ("le", "+Inf")];
    assert_eq!(
        delta("boxoffice_request_duration_seconds_bucket", &inf),
        1.0
    );
    server.stop().await;
}

#[tokio::test]
async fn metrics_show_the_outbox_backlog_and_the_connections() {
    let _serial = serial().await;
    let (server, _dir) = server().await;
    ybx_flow(&server).await;
    let m = metrics(&server).await;
    let pending = value(&m, "boxoffice_outbox_pending", &[]);
    assert!(pending >= 1.0, "the payment's callbacks wait: {pending}");
    assert_eq!(value(&m, "boxoffice_outbox_oldest_due_seconds", &[]), 0.0);
    // Ninety seconds later the oldest callback is ninety seconds overdue.
    server.clock.advance(chrono::Duration::seconds(90));
    let m = metrics(&server).await;
    assert_eq!(value(&m, "boxoffice_outbox_oldest_due_seconds", &[]), 90.0);
    let max = value(&m, "boxoffice_db_connections_max", &[]);
    let open = value(&m, "boxoffice_db_connections", &[]);
    let busy = value(&m, "boxoffice_db_connections_busy", &[]);
    // max_connections = 8: SQLite opens 8 readers and 1 writer; PostgreSQL pools up to 8.
    let expected_max = match TestStore::from_env() {
        TestStore::Sqlite => 9.0,
        TestStore::Postgres => 8.0,
    };
    assert_eq!(max, expected_max);
    assert!(open >= 1.0 && open <= max, "open {open} of {max}");
    assert!(busy <= open, "busy {busy} of {open}");
    server.stop().await;
}

#[tokio::test]
async fn readyz_answers_503_once_the_database_is_gone() {
    let (server, _dir) = server().await;
    let r = reqwest::get(format!("{}/readyz", server.url))
        .await
        .expect("readyz");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("body"), "ready");
    server.app.store.close().await;
    let r = reqwest::get(format!("{}/readyz", server.url))
        .await
        .expect("readyz");
    assert_eq!(r.status(), 503);
    let body = r.text().await.expect("body");
    assert!(body.starts_with("not ready: "), "{body}");
    assert!(body.contains("closed"), "{body}");
    // Liveness is not readiness.
    let r = reqwest::get(format!("{}/healthz", server.url))
        .await
        .expect("healthz");
    assert_eq!(r.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn a_removed_sqlite_file_is_not_ready() {
    logs();
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("boxoffice.db");
    let server = TestServer::start_on(&format!("sqlite://{}", file.display()), |_| {}).await;
    let r = reqwest::get(format!("{}/readyz", server.url))
        .await
        .expect("readyz");
    assert_eq!(r.status(), 200);
    std::fs::remove_file(&file).expect("remove the database file");
    let r = reqwest::get(format!("{}/readyz", server.url))
        .await
        .expect("readyz");
    assert_eq!(r.status(), 503);
    let body = r.text().await.expect("body");
    assert!(body.contains("is gone"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let (server, _dir) = server().await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/healthz", server.url))
        .header("x-request-id", "obs-test-42")
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "obs-test-42");
    // A partner request without one gets a fresh UUID, different each time.
    let c = Client::new(&server);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = http
            .get(format!("{}{ODATA}/Cinemas?$format=json", c.base))
            .header("connectapitoken", TOKEN)
            .send()
            .await
            .expect("cinemas");
        assert_eq!(r.status(), 200);
        let id = r.headers()["x-request-id"]
            .to_str()
            .expect("id")
            .to_string();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(id.matches('-').count(), 4, "{id}");
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
    server.stop().await;
}

#[tokio::test]
async fn logs_of_a_full_flow_hold_no_secret() {
    let _serial = serial().await;
    let (server, _dir) = server().await;
    let a = Agent::demo();
    vista_flow(&server).await;
    yueke_flow(&server).await;
    ybx_flow(&server).await;
    // A failed authentication of each protocol, logged at info.
    let r = Client::new(&server)
        .with_token(Some("WRONG-TOKEN-XYZ"))
        .get(&format!("{ODATA}/Cinemas?$format=json"))
        .await;
    assert_eq!(r.status, 401);
    server.stop().await;
    let text = log_text();
    // Positive control: the flow's requests were logged with request id, protocol, endpoint,
    // partner and code.
    for needle in [
        "protocol=\"vista\" endpoint=/WSVistaWebClient/RESTTicketing.svc/order/payment partner=\"demo\" code=0",
        "protocol=\"yueke\" endpoint=ykse.partner.order.confirmOrder partner=\"ykse\" code=SUCCESS",
        "protocol=\"ybx\" endpoint=UseAccountToPayByPwd.aspx partner=\"demo-agent\" code=0",
        "authentication failed",
    ] {
        assert!(text.contains(needle), "logged: {needle}\n{text}");
    }
    assert!(text.contains("request_id="), "request ids logged");
    // Not one secret, password, key or full card number.
    let secrets = [
        TOKEN.to_string(),
        "WRONG-TOKEN-XYZ".to_string(),
        YK_SECRET.to_string(),
        common::ybx::KEY.to_string(),
        common::ybx::KEY2.to_string(),
        "demo-pass".to_string(),
        boxoffice_ybx::crypto::md5_upper("demo-pass"),
        boxoffice_ybx::crypto::triple_des(
            &boxoffice_ybx::crypto::md5_upper("demo-pass"),
            common::ybx::KEY,
        ),
        boxoffice_ybx::crypto::md5_upper(PAY_PASSWORD),
        a.pay(PAY_PASSWORD),
        CARD.to_string(),
    ];
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "a log holds {s}");
    }
    // The payment password itself (digits) as a whole word.
    let words = text.split(|c: char| !c.is_ascii_alphanumeric());
    assert_eq!(words.filter(|w| *w == PAY_PASSWORD).count(), 0);
}

#[test]
fn json_log_lines_from_the_binary() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("b.db").display());
    let run = |format: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_boxoffice"))
            .args([
                "--log-format",
                format,
                "ybx",
                "agent",
                "rotate-key",
                "--user",
                "demo-agent",
                "--database",
                &db,
            ])
            .env("RUST_LOG", "info")
            .output()
            .expect("run boxoffice");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let apply = std::process::Command::new(env!("CARGO_BIN_EXE_boxoffice"))
        .args([
            "catalog",
            "apply",
            "crates/server/demo/catalog.toml",
            "--database",
            &db,
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("catalog apply");
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    let (ok, stdout, stderr) = run("json");
    assert!(ok, "{stderr}");
    let key: Value = serde_json::from_str(&stdout).expect("the new key on stdout");
    assert_eq!(key["user"], "demo-agent");
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let rotated = lines
        .iter()
        .find(|l| l["message"] == "游宝星 data key rotated")
        .unwrap_or_else(|| panic!("rotation logged: {stderr}"));
    assert_eq!(rotated["level"], "INFO");
    assert_eq!(rotated["user"], "demo-agent");
    // Text lines carry no colour codes when standard error is not a terminal.
    let (ok, _, stderr) = run("text");
    assert!(ok, "{stderr}");
    assert!(stderr.contains("data key rotated"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}
