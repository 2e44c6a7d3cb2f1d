//! Storage failures on either store, through a fault-injecting store
//! (`TestServer::start_with_faults`): each protocol answers with its own documented envelope and
//! code, and nothing of the database's error (driver text, table, SQLSTATE, host) reaches the
//! partner. (游宝星's read pages: `ybx_products.rs`, `storage_failures_name_no_database_details`.)

mod common;
use common::*;
use serde_json::{json, Value};

/// Fragments of the injected error (`boxoffice_server::faults::INJECTED_ERROR`, spelled out
/// here) that must never be echoed.
const LEAKS: [&str; 7] = [
    "error returned from",
    "relation",
    "visit_orders",
    "SQLSTATE",
    "42P01",
    "10.0.0.5",
    "injected",
];

fn assert_no_leak(text: &str) {
    for leak in LEAKS {
        assert!(!text.contains(leak), "{leak:?} leaked: {text}");
    }
}

/// D001 §3.13: code 2, DBError, with its documented description.
const DB_ERROR_TEXT: &str =
    "An unexpected error occurred connecting to, reading or writing to the Web Client database";

/// Schedule 18406 of cinema 58 as getSchedules lists it (id, key).
async fn schedule(server: &TestServer) -> Value {
    let now = server.app.service.now_ms();
    let query = json!({"cinemaLinkId": "58", "startDate": "2026-11-23", "endDate": "2026-11-25"});
    let env = yueke_call(
        &server.url,
        now,
        "ykse.partner.schedule.getSchedules",
        &query,
    )
    .await;
    assert_eq!(env["data"]["bizCode"], "SUCCESS", "{env}");
    env["data"]["dataList"]
        .as_array()
        .and_then(|l| l.iter().find(|s| s["scheduleId"] == "18406"))
        .cloned()
        .unwrap_or_else(|| panic!("schedule 18406: {env}"))
}

#[tokio::test]
async fn yueke_answers_a_storage_failure_with_system_error() {
    let (server, faults) = TestServer::start_with_faults(|_| {}).await;
    let s = schedule(&server).await;
    faults.fail_all();
    let lock = json!({"cinemaLinkId": "58", "scheduleId": s["scheduleId"], "scheduleKey": s["scheduleKey"], "outLockId": "FAULT-1", "seatIdList": ["0000000000000001-5-07"]});
    let now = server.app.service.now_ms();
    let env = yueke_call(&server.url, now, "ykse.partner.seat.lockSeats", &lock).await;
    assert!(faults.injected() > 0, "the lock reached the store");
    // The catalogue's business-code table: SYSTEM_ERROR 系统异常, inside a successful call.
    assert_eq!(
        env,
        json!({"api": "ykse.partner.seat.lockSeats", "v": "1.0", "retCode": "0", "retMsg": "success",
               "data": {"bizCode": "SYSTEM_ERROR", "bizMsg": "系统异常"}}),
    );
    assert_no_leak(&env.to_string());
    // Healed, the same lock succeeds: the failure changed nothing.
    faults.heal();
    let env = yueke_call(&server.url, now, "ykse.partner.seat.lockSeats", &lock).await;
    assert_eq!(env["data"]["bizCode"], "SUCCESS", "{env}");
    server.stop().await;
}

#[tokio::test]
async fn vista_answers_a_storage_failure_with_db_error() {
    let (server, faults) = TestServer::start_with_faults(|_| {}).await;
    let c = Client::new(&server);
    faults.fail_all();
    let add = add_tickets_body("FAULT-1", "29617", "0056", 5000, &[(0, 1)]);
    let r = c.post(ADD_TICKETS, &add).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["Result"], 2, "{}", r.text);
    assert_eq!(v["ErrorDescription"], DB_ERROR_TEXT, "{}", r.text);
    assert_eq!(v["Order"], Value::Null, "{}", r.text);
    assert_no_leak(&r.text);
    let hits = faults.injected();
    assert!(hits > 0, "AddTickets reached the store");

    let r = c.get(&seat_plan("29617")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"ErrorDescription": DB_ERROR_TEXT, "ResponseCode": 2, "SeatLayoutData": null})
    );

    let r = c
        .post(GET_ORDER, &json!({"UserSessionId": "FAULT-1"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({"Order": null, "Result": 2}));
    assert!(faults.injected() > hits, "the reads reached the store");

    // Healed, the same AddTickets succeeds: the failed one held nothing.
    faults.heal();
    let r = c.post(ADD_TICKETS, &add).await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    server.stop().await;
}
