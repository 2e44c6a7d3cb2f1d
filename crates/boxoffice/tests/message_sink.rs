//! The message sink: every stored message (SMS codes, booking and delivery notices) is kept in
//! the database; with `[messages] webhook` set it is also POSTed, oldest first and at least once,
//! to an SMS gateway — retried after a failure, never lost.

mod common;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use common::ybx::*;
use common::*;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A gateway that records what it is sent and refuses the first `fail` calls.
#[derive(Clone, Default)]
struct Gateway {
    got: Arc<Mutex<Vec<Value>>>,
    calls: Arc<Mutex<usize>>,
    fail: usize,
}

async fn receive(State(g): State<Gateway>, Json(v): Json<Value>) -> StatusCode {
    let n = {
        let mut c = g.calls.lock().expect("lock");
        *c += 1;
        *c
    };
    if n <= g.fail {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    g.got.lock().expect("lock").push(v);
    StatusCode::OK
}

async fn gateway(fail: usize) -> (Gateway, String) {
    let g = Gateway {
        fail,
        ..Gateway::default()
    };
    let app = Router::new()
        .route("/sms", post(receive))
        .with_state(g.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/sms", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (g, url)
}

async fn book(server: &TestServer, a: &Agent, phone: &str) -> String {
    let p = [
        ("Order_list", format!("{ADULT}|1")),
        ("Mobile", a.enc(phone)),
        ("ID", a.enc("430103198001010011")),
        ("SXRQ", a.enc("20261123")),
        ("timespanindex", "1".to_string()),
    ];
    let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = call(&server.url, a, "OrderProducts.aspx", &refs).await;
    r.expect(0, "");
    r.tag("orderid").expect("orderid")
}

#[tokio::test]
async fn messages_reach_the_gateway_in_order_after_a_failure() {
    let (g, url) = gateway(1).await;
    let (server, faults) = TestServer::start_with_faults(|c| {
        c.messages.webhook = Some(url.clone());
        c.messages.poll_ms = 50;
    })
    .await;
    // Both messages are written before the worker may lease any, so its first round takes both
    // and fails on the first. (A message written after a failed one: the next test.)
    faults.fail_methods(&["lease_messages"]);
    let a = Agent::demo();
    let first = book(&server, &a, "13700000001").await;
    let second = book(&server, &a, "13700000002").await;
    faults.heal();
    // The first attempt failed: both messages wait for their lease to lapse (60 s).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while g.got.lock().expect("lock").len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "messages not delivered"
        );
        server.clock.advance(chrono::Duration::seconds(61));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = g.got.lock().expect("lock").clone();
    assert_eq!(got[0]["phone"], "13700000001");
    assert_eq!(got[0]["kind"], "booking");
    assert!(got[0]["text"].as_str().unwrap_or("").contains(&first));
    assert_eq!(got[1]["phone"], "13700000002");
    assert!(got[1]["text"].as_str().unwrap_or("").contains(&second));
    assert!(got[0]["id"].as_i64() < got[1]["id"].as_i64());
    // Recorded as sent, and not sent again: two more rounds of the worker (the second began
    // after both messages reached the gateway) send nothing.
    let rounds = &server.app.message_rounds;
    let start = rounds.load(Ordering::SeqCst);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while rounds.load(Ordering::SeqCst) < start + 2 {
        assert!(std::time::Instant::now() < deadline, "message worker stuck");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(g.got.lock().expect("lock").len(), 2);
    let stored = server
        .app
        .service
        .store()
        .messages(None, None)
        .await
        .expect("messages");
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(stored.iter().all(|m| m.sent_ms.is_some()), "{stored:?}");
    server.stop().await;
}

/// Waits until the message worker has completed `n` more rounds.
async fn worker_rounds(server: &TestServer, n: u64) {
    let rounds = &server.app.message_rounds;
    let start = rounds.load(Ordering::SeqCst);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while rounds.load(Ordering::SeqCst) < start + n {
        assert!(std::time::Instant::now() < deadline, "message worker stuck");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_message_written_after_a_failed_one_does_not_overtake_it() {
    let (g, url) = gateway(1).await;
    let (server, _faults) = TestServer::start_with_faults(|c| {
        c.messages.webhook = Some(url.clone());
        c.messages.poll_ms = 20;
    })
    .await;
    let a = Agent::demo();
    let first = book(&server, &a, "13700000011").await;
    // The gateway refused the first message (its only call so far).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while *g.calls.lock().expect("lock") < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "first message never offered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = book(&server, &a, "13700000012").await;
    // The clock stands still, so the failed message's lease has not run out: rounds pass and
    // the newer message must wait behind it.
    worker_rounds(&server, 3).await;
    assert_eq!(*g.calls.lock().expect("lock"), 1, "only the refused call");
    assert!(g.got.lock().expect("lock").is_empty());
    // Once the lease lapses, both go out, oldest first.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while g.got.lock().expect("lock").len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "messages not delivered"
        );
        server.clock.advance(chrono::Duration::seconds(61));
        worker_rounds(&server, 1).await;
    }
    let got = g.got.lock().expect("lock").clone();
    assert_eq!(got[0]["phone"], "13700000011");
    assert!(got[0]["text"].as_str().unwrap_or("").contains(&first));
    assert_eq!(got[1]["phone"], "13700000012");
    assert!(got[1]["text"].as_str().unwrap_or("").contains(&second));
    server.stop().await;
}

#[tokio::test]
async fn without_a_gateway_messages_are_kept_in_the_database() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    // The message is written with the order, in one transaction; no worker runs without a
    // gateway, so nothing can mark it sent.
    book(&server, &a, "13700000003").await;
    let stored = server
        .app
        .service
        .store()
        .messages(Some("13700000003"), None)
        .await
        .expect("messages");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].sent_ms, None);
    server.stop().await;
}
