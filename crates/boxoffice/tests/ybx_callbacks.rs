//! 游宝星 callbacks over real HTTP: SetAgentParameters (4.2.44) and the delivery of the outbox
//! (4.2.45, §1.16, §8.5) to a recording receiver — order per order, back-off with the manual
//! clock, 24-hour expiry, and a restart in the middle of delivery.

mod common;
use common::receiver::*;
use common::ybx::*;
use common::*;
use std::time::Duration;

const VISIT: &str = "20261123";
const WAIT: Duration = Duration::from_secs(15);
const SET: &str = "SetAgentParameters.aspx";

/// Parameters, expected code and message.
type Case<'a> = (Vec<(&'a str, &'a str)>, i64, &'a str);

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
}

fn booking(a: &Agent, list: &str) -> Vec<(String, String)> {
    vec![
        ("Order_list".into(), list.into()),
        ("Mobile".into(), a.enc("13800138000")),
        ("ID".into(), a.enc("430103198001010011")),
        ("SXRQ".into(), a.enc(VISIT)),
        ("timespanindex".into(), "1".into()),
    ]
}

/// OrderProducts with a `senderid` (empty: none); returns the order number.
async fn order_products(server: &TestServer, a: &Agent, sender: &str) -> String {
    let mut p = booking(a, &format!("{ADULT}|2"));
    if !sender.is_empty() {
        p.push(("senderid".into(), sender.into()));
    }
    let r = call(&server.url, a, "OrderProducts.aspx", &refs(&p)).await;
    r.expect(0, "");
    r.tag("orderid").expect("orderid")
}

/// OrderAndPayWithYDJ with an XCDDH (events 0, 2, 3); returns the order number.
async fn order_and_pay(server: &TestServer, a: &Agent, xcddh: &str) -> String {
    let mut p = booking(a, &format!("{ADULT}|2"));
    p.push(("SmsCode".into(), a.pay("123456")));
    p.push(("money".into(), "240.00".into()));
    p.push(("smsModel".into(), "0".into()));
    p.push(("XCDDH".into(), a.enc(xcddh)));
    let r = call(&server.url, a, "OrderAndPayWithYDJ.aspx", &refs(&p)).await;
    r.expect(0, "");
    assert_eq!(r.tag("status").as_deref(), Some("3"), "{}", r.text);
    r.tag("Order_id").expect("Order_id")
}

async fn cancel(server: &TestServer, a: &Agent, number: &str) {
    call(&server.url, a, "CancelOrder.aspx", &[("Order_id", number)])
        .await
        .expect(0, "操作成功");
}

async fn set_address(server: &TestServer, a: &Agent, addr: &str) {
    call(
        &server.url,
        a,
        SET,
        &[("responseaddr", addr), ("sendofficiallysnotify", "1")],
    )
    .await
    .expect(0, "成功");
}

/// The outbox rows of an order: (state, attempts, event label).
async fn outbox(server: &TestServer, number: &str) -> Vec<(String, i64, String)> {
    let store = server.app.service.store().clone();
    let o = store
        .visit_order_by_number(number)
        .await
        .expect("order")
        .expect("exists");
    store
        .outbox(None, Some(o.id))
        .await
        .expect("outbox")
        .into_iter()
        .map(|r| {
            let label = match r.event.payload.get("state").and_then(|s| s.as_str()) {
                Some(s) => s.to_string(),
                None => r.event.kind.clone(),
            };
            (r.state, r.attempts, label)
        })
        .collect()
}

/// Waits until every outbox row of an order is in a final state.
async fn settled(server: &TestServer, number: &str) -> Vec<(String, i64, String)> {
    let end = std::time::Instant::now() + WAIT;
    loop {
        let rows = outbox(server, number).await;
        if rows.iter().all(|(s, _, _)| s != "pending") {
            return rows;
        }
        assert!(
            std::time::Instant::now() < end,
            "outbox of {number} not settled: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the server's callback worker has ended two idle rounds (nothing due, nothing in
/// flight) after this call: the first may have begun before it, the second began after, so every
/// event due at the server's clock now has been attempted and its outcome recorded. Absence is
/// checked after this, never after a sleep.
async fn worker_idle(server: &TestServer) {
    let start = server.app.ybx.idle_rounds();
    let end = std::time::Instant::now() + WAIT;
    while server.app.ybx.idle_rounds() < start + 2 {
        assert!(
            std::time::Instant::now() < end,
            "the callback worker never went idle"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn states(rows: &[(String, i64, String)]) -> Vec<&str> {
    rows.iter().map(|(s, _, _)| s.as_str()).collect()
}

#[tokio::test]
async fn set_agent_parameters_stores_the_address_and_answers_every_code() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let r = call(
        &server.url,
        &a,
        SET,
        &[
            ("responseaddr", "https://partner.example.com/ybx/"),
            ("sendofficiallysnotify", "0"),
        ],
    )
    .await;
    r.expect(0, "成功");
    assert!(r.signed_by(KEY));
    let agent = server
        .app
        .ybx
        .agent("demo-agent")
        .await
        .expect("agent")
        .expect("exists");
    assert_eq!(agent.response_addr, "https://partner.example.com/ybx/");
    assert!(!agent.send_official);
    // POST works the same; an empty address switches callbacks off.
    post(
        &server.url,
        &a,
        SET,
        &[("responseaddr", ""), ("sendofficiallysnotify", "1")],
    )
    .await
    .expect(0, "成功");
    let agent = server
        .app
        .ybx
        .agent("demo-agent")
        .await
        .expect("agent")
        .expect("exists");
    assert_eq!(agent.response_addr, "");
    assert!(agent.send_official);

    let long = format!("http://a.example.com/{}", "x".repeat(236));
    let cases: Vec<Case> = vec![
        (
            vec![("responseaddr", "http://a.example.com/")],
            -1,
            "sendofficiallysnotify参数不能为空，请设置......",
        ),
        (
            vec![
                ("responseaddr", "http://a.example.com/"),
                ("sendofficiallysnotify", " "),
            ],
            -1,
            "sendofficiallysnotify参数不能为空，请设置......",
        ),
        (vec![("sendofficiallysnotify", "1")], -1901, "参数错误"),
        (
            vec![
                ("responseaddr", "ftp://a.example.com/"),
                ("sendofficiallysnotify", "1"),
            ],
            -1901,
            "参数错误",
        ),
        (
            vec![
                ("responseaddr", "a.example.com/notify"),
                ("sendofficiallysnotify", "1"),
            ],
            -1901,
            "参数错误",
        ),
        (
            vec![
                ("responseaddr", "http://a.example.com/n?x=1"),
                ("sendofficiallysnotify", "1"),
            ],
            -1901,
            "参数错误",
        ),
        (
            vec![
                ("responseaddr", long.as_str()),
                ("sendofficiallysnotify", "1"),
            ],
            -1901,
            "参数错误",
        ),
        (
            vec![
                ("responseaddr", "http://a.example.com/"),
                ("sendofficiallysnotify", "2"),
            ],
            -1901,
            "参数错误",
        ),
    ];
    for (params, code, msg) in cases {
        let r = call(&server.url, &a, SET, &params).await;
        assert_eq!((r.code(), r.msg()), (code, msg.to_string()), "{params:?}");
        assert!(r.signed_by(KEY));
    }
    // 256 characters are fine.
    call(
        &server.url,
        &a,
        SET,
        &[
            ("responseaddr", &long[..256]),
            ("sendofficiallysnotify", "1"),
        ],
    )
    .await
    .expect(0, "成功");

    // Authentication codes of this page.
    let ok = [
        ("responseaddr", "http://a.example.com/"),
        ("sendofficiallysnotify", "1"),
    ];
    let mut bad_sign = a.signed(&ok);
    for (k, v) in bad_sign.iter_mut() {
        if k == "sign" {
            *v = "0".repeat(32);
        }
    }
    get_raw(&server.url, SET, &bad_sign)
        .await
        .expect(-1, "签名不正确，不能完成操作；");
    let no_password: Vec<(String, String)> = a
        .signed(&ok)
        .into_iter()
        .filter(|(k, _)| k != "password")
        .collect();
    get_raw(&server.url, SET, &no_password)
        .await
        .expect(-1901, "参数错误");
    let stranger = Agent {
        user: "nobody".into(),
        ..Agent::demo()
    };
    call(&server.url, &stranger, SET, &ok)
        .await
        .expect(-2201, "当前用户不存在。");
    let wrong = Agent {
        password: "wrong-pass".into(),
        ..Agent::demo()
    };
    call(&server.url, &wrong, SET, &ok)
        .await
        .expect(-1, "用户名、密码 或 密钥 不正确；");
    let partner = server
        .app
        .service
        .catalog()
        .partner_by_credential("ybx", "demo-agent")
        .expect("agent")
        .id;
    let mut off = serde_json::Map::new();
    off.insert("enabled".into(), serde_json::Value::Bool(false));
    server
        .app
        .ybx
        .update_agent(partner, off)
        .await
        .expect("disable");
    call(&server.url, &a, SET, &ok)
        .await
        .expect(-2202, "当前用户已禁用。");
    server.stop().await;
}

#[tokio::test]
async fn callbacks_arrive_in_order_per_order_with_valid_signs() {
    let server = TestServer::start().await;
    let receiver = CallbackReceiver::start().await;
    let a = Agent::demo();
    // A folder with a trailing slash: pages are appended after trimming it.
    set_address(&server, &a, &format!("{}/agent/cb/", receiver.url)).await;
    let paid = order_and_pay(&server, &a, "CTRIP-A").await;
    let booked = order_products(&server, &a, "LY-B").await;
    cancel(&server, &a, &booked).await;
    // No sender id: no callbacks for that order.
    let silent = order_products(&server, &a, "").await;
    cancel(&server, &a, &silent).await;

    receiver.wait_delivered(5, WAIT).await;
    assert_eq!(receiver.labels_of(&paid), vec!["0", "2", "3"]);
    assert_eq!(receiver.labels_of(&booked), vec!["0", "4"]);
    assert!(receiver.calls_of(&silent).is_empty());
    for c in receiver.calls() {
        assert_eq!(c.path, "/agent/cb/Notify_OrderChanged.aspx");
        assert!(c.sign_ok, "sign or COMMON wrong: {c:?}");
        assert!(c.ok());
        assert_eq!(c.get("user"), "demo-agent");
    }
    let senders = |n: &str| -> Vec<String> {
        receiver
            .calls_of(n)
            .iter()
            .map(|c| c.sender().to_string())
            .collect()
    };
    assert_eq!(senders(&paid), vec!["CTRIP-A"; 3]);
    assert_eq!(senders(&booked), vec!["LY-B"; 2]);
    assert_eq!(states(&settled(&server, &paid).await), vec!["delivered"; 3]);
    assert_eq!(
        states(&settled(&server, &booked).await),
        vec!["delivered"; 2]
    );
    assert!(outbox(&server, &silent).await.is_empty());

    // An agent without a callback address: nothing is queued for it.
    let b = Agent::demo2();
    let other = order_and_pay(&server, &b, "OTHER-1").await;
    assert!(outbox(&server, &other).await.is_empty());
    // Switching the address off: nothing is queued meanwhile; setting it again delivers new
    // events.
    set_address(&server, &a, "").await;
    let off = order_products(&server, &a, "LY-OFF").await;
    assert!(outbox(&server, &off).await.is_empty());
    set_address(&server, &a, &receiver.url).await;
    let on = order_products(&server, &a, "LY-ON").await;
    receiver.wait_delivered_of(&on, 1, WAIT).await;
    assert_eq!(
        receiver.delivered_of(&on)[0].path,
        "/Notify_OrderChanged.aspx"
    );
    assert!(receiver.calls_of(&off).is_empty());
    assert!(receiver.calls_of(&other).is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_failing_order_backs_off_while_other_orders_are_delivered() {
    let server = TestServer::start().await;
    let receiver = CallbackReceiver::start().await;
    let a = Agent::demo();
    set_address(&server, &a, &receiver.url).await;
    receiver.fail_first("SLOW-A", 3, Failure::Http500);
    let slow = order_and_pay(&server, &a, "SLOW-A").await;
    let fast = order_products(&server, &a, "FAST-B").await;
    cancel(&server, &a, &fast).await;

    // B is delivered while A's head fails; A's later events are not attempted meanwhile.
    receiver.wait_delivered_of(&fast, 2, WAIT).await;
    receiver.wait_calls_of(&slow, 1, WAIT).await;
    worker_idle(&server).await;
    assert_eq!(receiver.labels_of(&fast), vec!["0", "4"]);
    let calls = receiver.calls_of(&slow);
    assert_eq!(calls.len(), 1, "no retry before 30 s: {calls:?}");
    assert_eq!(calls[0].answered, Answered::Failed(Failure::Http500));
    assert_eq!(outbox(&server, &slow).await[0].1, 1);

    // Retries at 30 s and 1 min after the event (both still failing) …
    server.clock.advance(chrono::Duration::seconds(30));
    receiver.wait_calls_of(&slow, 2, WAIT).await;
    server.clock.advance(chrono::Duration::seconds(30));
    receiver.wait_calls_of(&slow, 3, WAIT).await;
    worker_idle(&server).await;
    assert_eq!(receiver.calls_of(&slow).len(), 3, "next try only at 2 min");
    // … and at 2 min it succeeds; the order's later events follow at once, in order.
    server.clock.advance(chrono::Duration::seconds(60));
    receiver.wait_delivered_of(&slow, 3, WAIT).await;
    let labels: Vec<String> = receiver
        .calls_of(&slow)
        .iter()
        .map(|c| format!("{}:{}", c.label(), c.ok()))
        .collect();
    assert_eq!(
        labels,
        vec!["0:false", "0:false", "0:false", "0:true", "2:true", "3:true"]
    );
    assert!(receiver.calls().iter().all(|c| c.sign_ok));
    let rows = settled(&server, &slow).await;
    assert_eq!(
        rows.iter()
            .map(|(s, n, _)| (s.as_str(), *n))
            .collect::<Vec<_>>(),
        vec![("delivered", 4), ("delivered", 1), ("delivered", 1)]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_retcode_failure_counts_and_the_head_expires_after_24_hours() {
    let server = TestServer::start().await;
    let receiver = CallbackReceiver::start().await;
    let a = Agent::demo();
    set_address(&server, &a, &receiver.url).await;
    receiver.fail_first("OLD-A", usize::MAX, Failure::Retcode);
    let number = order_products(&server, &a, "OLD-A").await;
    receiver.wait_calls_of(&number, 1, WAIT).await;
    // Twelve hours later the order is cancelled: its event waits behind the failing head.
    server.clock.advance(chrono::Duration::hours(12));
    receiver.wait_calls_of(&number, 2, WAIT).await;
    cancel(&server, &a, &number).await;
    worker_idle(&server).await;
    // Only the failing head was tried (twice at least), never the cancellation behind it.
    let labels: Vec<String> = receiver
        .calls_of(&number)
        .iter()
        .map(|c| c.label())
        .collect();
    assert!(labels.len() >= 2, "{labels:?}");
    assert!(labels.iter().all(|l| l == "0"), "{labels:?}");
    // The receiver recovers, but past 24 h the head is given up without another try; the
    // cancellation (written 12 h later) is still within its window and is delivered.
    receiver.heal("OLD-A");
    let tries = receiver.calls_of(&number).len();
    server
        .clock
        .advance(chrono::Duration::hours(12) + chrono::Duration::seconds(1));
    receiver.wait_delivered_of(&number, 1, WAIT).await;
    let calls = receiver.calls_of(&number);
    assert_eq!(calls.len(), tries + 1, "{calls:?}");
    assert_eq!(receiver.labels_of(&number), vec!["4"]);
    assert!(calls[..tries]
        .iter()
        .all(|c| c.answered == Answered::Failed(Failure::Retcode)));
    let rows = settled(&server, &number).await;
    assert_eq!(states(&rows), vec!["expired", "delivered"]);
    assert_eq!(rows[0].2, "booked");
    assert_eq!(rows[1].2, "closed");
    server.stop().await;
}

#[tokio::test]
async fn a_restart_in_the_middle_of_delivery_loses_and_reorders_nothing() {
    let (db, _dir) = boxoffice_server::testing::fresh_database(TestStore::from_env()).await;
    let receiver = CallbackReceiver::start().await;
    let a = Agent::demo();
    let first = TestServer::start_on(&db, |_| {}).await;
    set_address(&first, &a, &format!("{}/cb", receiver.url)).await;
    // Every call is held for 3 s and then failed: the first attempts are in flight when the
    // server stops.
    receiver.set_delay(Duration::from_secs(3));
    receiver.fail_first("R-A", usize::MAX, Failure::Retcode);
    receiver.fail_first("R-B", usize::MAX, Failure::Retcode);
    let paid = order_and_pay(&first, &a, "R-A").await;
    let booked = order_products(&first, &a, "R-B").await;
    cancel(&first, &a, &booked).await;
    receiver.wait_calls_of(&paid, 1, WAIT).await;
    receiver.wait_calls_of(&booked, 1, WAIT).await;
    first.stop().await;
    let calls = receiver.calls();
    assert!(calls.len() >= 2, "{calls:?}");
    assert!(calls.iter().all(|c| !c.ok()), "{calls:?}");

    receiver.set_delay(Duration::ZERO);
    receiver.heal("R-A");
    receiver.heal("R-B");
    let second = TestServer::start_on(&db, |_| {}).await;
    // The new process starts at the same instant: the old leases (30 s) and the back-off
    // must lapse first.
    worker_idle(&second).await;
    let calls = receiver.calls();
    assert!(calls.len() >= 2, "{calls:?}");
    assert!(calls.iter().all(|c| !c.ok()), "{calls:?}");
    second.clock.advance(chrono::Duration::seconds(31));
    receiver.wait_delivered(5, WAIT).await;
    assert_eq!(receiver.labels_of(&paid), vec!["0", "2", "3"]);
    assert_eq!(receiver.labels_of(&booked), vec!["0", "4"]);
    assert!(receiver.calls().iter().all(|c| c.sign_ok));
    assert!(receiver
        .calls()
        .iter()
        .all(|c| c.path == "/cb/Notify_OrderChanged.aspx"));
    assert_eq!(states(&settled(&second, &paid).await), vec!["delivered"; 3]);
    assert_eq!(
        states(&settled(&second, &booked).await),
        vec!["delivered"; 2]
    );
    // Nothing more arrives: each event was delivered exactly once.
    worker_idle(&second).await;
    assert_eq!(receiver.calls().iter().filter(|c| c.ok()).count(), 5);
    second.stop().await;
}

/// A POST to the operator API with the test token.
async fn ops(server: &TestServer, path: &str, body: serde_json::Value) -> serde_json::Value {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", server.url))
        .header("authorization", "Bearer ops-token")
        .json(&body)
        .send()
        .await
        .expect("operator request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    assert_eq!(status, 200, "{path}: {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

async fn first_ticket(server: &TestServer, number: &str) -> String {
    server
        .app
        .service
        .store()
        .visit_order_by_number(number)
        .await
        .expect("order")
        .expect("exists")
        .tickets[0]
        .code
        .clone()
}

fn cents(v: &str) -> i64 {
    let (y, f) = v.split_once('.').expect("two decimals");
    y.parse::<i64>().expect("yuan") * 100 + f.parse::<i64>().expect("fen")
}

#[tokio::test]
async fn gate_passages_and_refunds_are_called_back_on_their_pages() {
    let (db, _dir) = boxoffice_server::testing::fresh_database(TestStore::from_env()).await;
    let server = TestServer::start_on(&db, |c| c.operator.token = Some("ops-token".into())).await;
    let receiver = CallbackReceiver::start().await;
    let a = Agent::demo();
    set_address(&server, &a, &receiver.url).await;

    // A gate passage: Notify_Checked once, whatever the later passages.
    let checked = order_and_pay(&server, &a, "T-CHECK").await;
    let code = first_ticket(&server, &checked).await;
    let passage = serde_json::json!({"gate": "03", "station": "南门"});
    ops(
        &server,
        &format!("/ops/tickets/{code}/check"),
        passage.clone(),
    )
    .await;
    ops(&server, &format!("/ops/tickets/{code}/check"), passage).await;
    receiver.wait_delivered_of(&checked, 4, WAIT).await;
    assert_eq!(
        receiver.labels_of(&checked),
        vec!["0", "2", "3", "Notify_Checked"]
    );
    let c = receiver.delivered_of(&checked)[3].clone();
    assert_eq!(c.get("ticketcode"), code);
    assert_eq!(c.get("refunddatetime"), "20261122100000");
    assert_eq!(c.get("checkdatetime"), "20261122100000");
    assert_eq!(c.get("stationname"), "南门");
    assert_eq!(c.get("gatenumber"), "03");
    assert_eq!(c.sender(), "T-CHECK");

    // A desk refund of a deposit order: Notify_Refund (back along the original path).
    let refunded = order_and_pay(&server, &a, "T-REFUND").await;
    let code = first_ticket(&server, &refunded).await;
    ops(
        &server,
        &format!("/ops/tickets/{code}/refund"),
        serde_json::json!({}),
    )
    .await;
    receiver.wait_delivered_of(&refunded, 5, WAIT).await;
    let calls = receiver.delivered_of(&refunded);
    let mut tail: Vec<String> = calls[3..].iter().map(Callback::label).collect();
    tail.sort();
    assert_eq!(tail, vec!["B", "Notify_Refund"]);
    let r = calls
        .iter()
        .find(|c| c.page == "Notify_Refund.aspx")
        .expect("refund callback");
    assert_eq!(r.get("ticketcode"), code);
    assert_eq!(r.get("refundmode"), "2");
    assert_eq!(r.get("productsid"), ADULT);
    assert_eq!(r.get("productname"), "成人票");
    assert_eq!(r.get("price"), "120.00");
    assert_eq!(r.get("totalcount"), "2");
    assert_eq!(r.get("freecount"), "0");
    assert_eq!(r.get("amount"), "240.00");
    assert_eq!(
        cents(r.get("fees")) + cents(r.get("returnamount")),
        24_000,
        "{r:?}"
    );
    assert_eq!(r.get("selldatetime"), "20261122100000");
    assert_eq!(r.get("refunddatetime"), "20261122100000");
    assert!(!r.get("sellbillid").is_empty());
    // The order's events were delivered in the order they were written.
    let written: Vec<String> = outbox(&server, &refunded)
        .await
        .into_iter()
        .map(|(_, _, l)| match l.as_str() {
            "booked" => "0".to_string(),
            "deposit_authorized" => "2".to_string(),
            "delivered" => "3".to_string(),
            "refunded" => "B".to_string(),
            "ticket_refunded" => "Notify_Refund".to_string(),
            other => other.to_string(),
        })
        .collect();
    assert_eq!(receiver.labels_of(&refunded), written);

    // A rebate order: Notify_Refund_FK, without a refund mode.
    let mut p = booking(&a, &format!("{ADULT}|2"));
    p.push(("smscode".into(), a.pay("123456")));
    p.push(("money".into(), "240.00".into()));
    p.push(("smsmodel".into(), "0".into()));
    p.push(("senderid".into(), a.enc("T-FK")));
    let r = call(&server.url, &a, "OrderAndPayWithFK.aspx", &refs(&p)).await;
    r.expect(0, "");
    let fk = r.tag("order_id").expect("order_id");
    let code = first_ticket(&server, &fk).await;
    ops(
        &server,
        &format!("/ops/tickets/{code}/refund"),
        serde_json::json!({}),
    )
    .await;
    // 0, C, D, then the refund: B (the state change first) and Notify_Refund_FK.
    receiver.wait_delivered_of(&fk, 5, WAIT).await;
    let calls = receiver.delivered_of(&fk);
    let r = calls
        .iter()
        .find(|c| c.page == "Notify_Refund_FK.aspx")
        .expect("rebate refund callback");
    assert_eq!(r.get("refundmode"), "");
    assert_eq!(r.get("amount"), "240.00");
    assert_eq!(cents(r.get("fees")) + cents(r.get("returnamount")), 24_000);
    assert!(receiver.calls().iter().all(|c| c.sign_ok && c.ok()));
    server.stop().await;
}
