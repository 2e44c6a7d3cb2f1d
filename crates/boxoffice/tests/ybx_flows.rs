//! The four end-to-end flows of the 游宝星 document (catalogue §1.17, doc 2.16), over HTTP: pay at
//! the counter, deposit, instant payment and rebate — each with the agent's callbacks received
//! in order by a test receiver that fails the first deliveries of every order, and the agent's
//! accounts checked against their ledgers.

mod common;
use boxoffice_core::scenic::VisitState;
use common::receiver::*;
use common::ybx::*;
use common::*;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const TOKEN: &str = "flow-ops";

async fn start(receiver: &CallbackReceiver) -> (TestServer, Option<tempfile::TempDir>) {
    let (db, dir) = boxoffice_server::testing::fresh_database(TestStore::from_env()).await;
    let server = TestServer::start_on(&db, |c| c.operator.token = Some(TOKEN.into())).await;
    call(
        &server.url,
        &Agent::demo(),
        "SetAgentParameters.aspx",
        &[
            ("responseaddr", receiver.url.as_str()),
            ("sendofficiallysnotify", "1"),
        ],
    )
    .await
    .expect(0, "成功");
    (server, dir)
}

fn booking(a: &Agent, list: &str) -> Vec<(String, String)> {
    vec![
        ("Order_list".into(), list.into()),
        ("Mobile".into(), a.enc("13800138000")),
        ("ID".into(), a.enc("430103198001010011")),
        ("SXRQ".into(), a.enc("20261123")),
        ("timespanindex".into(), "2".into()),
    ]
}

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
}

async fn ops(server: &TestServer, path: &str) -> serde_json::Value {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", server.url))
        .header("authorization", format!("Bearer {TOKEN}"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("ops");
    assert_eq!(r.status().as_u16(), 200, "{path}");
    r.json().await.expect("json")
}

async fn order(server: &TestServer, number: &str) -> boxoffice_core::scenic::VisitOrder {
    server
        .app
        .service
        .store()
        .visit_order_by_number(number)
        .await
        .expect("order")
        .expect("exists")
}

/// Lets the failed first deliveries be retried (back-off 30 s, 1 m, …) until `k` calls of the
/// order arrived successfully.
async fn delivered(
    server: &TestServer,
    receiver: &CallbackReceiver,
    id: &str,
    k: usize,
) -> Vec<String> {
    let deadline = std::time::Instant::now() + WAIT;
    while receiver.delivered_of(id).len() < k {
        assert!(
            std::time::Instant::now() < deadline,
            "{id}: {:?}",
            receiver
                .calls_of(id)
                .iter()
                .map(Callback::label)
                .collect::<Vec<_>>()
        );
        // Time moves on only while no delivery is in flight (an idle round of the worker), so
        // no lease lapses under a running delivery and nothing is delivered twice.
        worker_idle(server).await;
        server.clock.advance(chrono::Duration::seconds(31));
    }
    receiver.labels_of(id)
}

/// Waits for a round of the callback worker that found nothing due and nothing in flight.
async fn worker_idle(server: &TestServer) {
    let start = server.app.ybx.idle_rounds();
    let deadline = std::time::Instant::now() + WAIT;
    while server.app.ybx.idle_rounds() <= start {
        assert!(
            std::time::Instant::now() < deadline,
            "the callback worker never went idle"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn balance(server: &TestServer, account: &str) -> (i64, i64) {
    let partner = server
        .app
        .service
        .catalog()
        .partner_by_credential("ybx", "demo-agent")
        .expect("agent")
        .id;
    let store = server.app.service.store();
    let acc = store.accounts(partner).await.expect("accounts");
    let a = acc.iter().find(|a| a.account == account).expect("account");
    // The ledger explains the balance.
    let ledger = store.ledger(partner, Some(account)).await.expect("ledger");
    assert_eq!(ledger.iter().map(|e| e.amount).sum::<i64>(), a.balance);
    assert_eq!(ledger.last().map(|e| e.balance_after), Some(a.balance));
    (a.balance, a.held)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_1_pay_at_the_counter_then_gate_then_refund() {
    let receiver = CallbackReceiver::start().await;
    let (server, _dir) = start(&receiver).await;
    let a = Agent::demo();
    receiver.fail_first("FLOW-1", 2, Failure::Http500);
    let mut p = booking(&a, &format!("{ADULT}|2"));
    p.push(("senderid".into(), "FLOW-1".into()));
    let r = call(&server.url, &a, "OrderProducts.aspx", &refs(&p)).await;
    r.expect(0, "");
    let number = r.tag("orderid").expect("orderid");
    // (3) bought at the counter, (4) through the gate, (5) refunded at the desk.
    ops(&server, &format!("/ops/ybx/orders/{number}/counter-sale")).await;
    let code = order(&server, &number).await.tickets[0].code.clone();
    ops(&server, &format!("/ops/tickets/{code}/check")).await;
    let second = {
        let mut p = booking(&a, &format!("{UNLIMITED}|1"));
        p.push(("senderid".into(), "FLOW-1B".into()));
        let r = call(&server.url, &a, "OrderProducts.aspx", &refs(&p)).await;
        r.tag("orderid").expect("orderid")
    };
    ops(&server, &format!("/ops/ybx/orders/{second}/counter-sale")).await;
    let code2 = order(&server, &second).await.tickets[0].code.clone();
    ops(&server, &format!("/ops/tickets/{code2}/refund")).await;
    assert_eq!(
        delivered(&server, &receiver, &number, 3).await,
        ["0", "X", "Notify_Checked"]
    );
    assert_eq!(
        delivered(&server, &receiver, &second, 4).await,
        ["0", "X", "B", "Notify_Refund"]
    );
    // The first two attempts of FLOW-1 failed and were retried in order.
    let calls = receiver.calls_of(&number);
    assert!(!calls[0].ok() && !calls[1].ok() && calls[2].ok());
    assert!(receiver.calls().iter().all(|c| c.sign_ok));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_2_deposit_authorization_delivery_and_refund_to_the_deposit() {
    let receiver = CallbackReceiver::start().await;
    let (server, _dir) = start(&receiver).await;
    let a = Agent::demo();
    receiver.fail_first("FLOW-2", 2, Failure::Retcode);
    let before = balance(&server, "deposit").await;
    let mut p = booking(&a, &format!("{ADULT}|2"));
    p.push(("SmsCode".into(), a.pay("123456")));
    p.push(("money".into(), "240.00".into()));
    p.push(("smsModel".into(), "0".into()));
    p.push(("XCDDH".into(), a.enc("FLOW-2")));
    let r = call(&server.url, &a, "OrderAndPayWithYDJ.aspx", &refs(&p)).await;
    r.expect(0, "");
    assert_eq!(r.tag("status").as_deref(), Some("3"));
    let number = r.tag("Order_id").expect("Order_id");
    assert_eq!(balance(&server, "deposit").await, (before.0 - 24_000, 0));
    // The visitor does not come: the ticket is refunded at the desk, the day before the visit
    // (fee ¥20 a person: ¥40), the rest goes back to the deposit.
    let code = order(&server, &number).await.tickets[0].code.clone();
    ops(&server, &format!("/ops/tickets/{code}/refund")).await;
    assert_eq!(balance(&server, "deposit").await, (before.0 - 4_000, 0));
    assert_eq!(
        delivered(&server, &receiver, &number, 5).await,
        ["0", "2", "3", "B", "Notify_Refund"]
    );
    let refund = receiver
        .delivered_of(&number)
        .into_iter()
        .find(|c| c.page == "Notify_Refund.aspx")
        .expect("refund");
    assert_eq!(refund.get("fees"), "40.00");
    assert_eq!(refund.get("returnamount"), "200.00");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_3_instant_payment_through_the_simulator() {
    let receiver = CallbackReceiver::start().await;
    let (server, _dir) = start(&receiver).await;
    let a = Agent::demo();
    receiver.fail_first("FLOW-3", 1, Failure::Http500);
    let mut p = booking(&a, &format!("{ADULT}|1"));
    p.push(("senderid".into(), "FLOW-3".into()));
    let r = call(&server.url, &a, "OrderProducts.aspx", &refs(&p)).await;
    let number = r.tag("orderid").expect("orderid");
    let r = call(
        &server.url,
        &a,
        "BeginToPay.aspx",
        &[("Order_id", &number), ("Paychannelid", "02")],
    )
    .await;
    r.expect(0, "");
    let url = format!("{}{}", server.url, r.tag("payurl").expect("payurl"));
    let html = reqwest::Client::new()
        .post(&url)
        .form(&[("action", "confirm")])
        .send()
        .await
        .expect("pay")
        .text()
        .await
        .expect("page");
    assert!(html.contains("SUCCESS"), "{html}");
    assert_eq!(order(&server, &number).await.state, VisitState::Delivered);
    assert_eq!(
        delivered(&server, &receiver, &number, 4).await,
        ["0", "5", "6", "3"]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_4_rebate_authorization_and_refund_to_the_rebate_account() {
    let receiver = CallbackReceiver::start().await;
    let (server, _dir) = start(&receiver).await;
    let a = Agent::demo();
    receiver.fail_first("FLOW-4", 3, Failure::Http500);
    let before = balance(&server, "rebate").await;
    let mut p: Vec<(String, String)> = booking(&a, &format!("{ADULT}|1"))
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    p.push(("smscode".into(), a.pay("123456")));
    p.push(("money".into(), "120.00".into()));
    p.push(("smsmodel".into(), "0".into()));
    p.push(("senderid".into(), a.enc("FLOW-4")));
    let r = call(&server.url, &a, "OrderAndPayWithFK.aspx", &refs(&p)).await;
    r.expect(0, "");
    assert_eq!(r.tag("status").as_deref(), Some("D"));
    let number = r.tag("order_id").expect("order_id");
    assert_eq!(balance(&server, "rebate").await, (before.0 - 12_000, 0));
    let code = order(&server, &number).await.tickets[0].code.clone();
    ops(&server, &format!("/ops/tickets/{code}/refund")).await;
    assert_eq!(balance(&server, "rebate").await, (before.0 - 2_000, 0));
    assert_eq!(
        delivered(&server, &receiver, &number, 5).await,
        ["0", "C", "D", "B", "Notify_Refund_FK"]
    );
    server.stop().await;
}
