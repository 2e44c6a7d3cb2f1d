//! Hold expiry with an injected clock: lapsed holds return to sale, the sweeper marks their
//! orders expired, and payment-started orders are not swept.

mod common;
use chrono::Duration;
use common::*;

#[tokio::test]
async fn the_sweeper_expires_lapsed_holds_and_spares_payment_started_orders() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let svc = server.app.service.clone();
    assert_eq!(
        c.post(
            ADD_TICKETS,
            &add_tickets_body("lapsing", "29617", "0056", 5000, &[(0, 1)])
        )
        .await
        .json()["Result"],
        0
    );
    assert_eq!(
        c.post(
            ADD_TICKETS,
            &add_tickets_body("paying", "29617", "0056", 5000, &[(0, 2)])
        )
        .await
        .json()["Result"],
        0
    );
    assert_eq!(
        c.post(
            START_EXTERNAL_PAYMENT,
            &serde_json::json!({"UserSessionId": "paying"})
        )
        .await
        .json()["Result"],
        0
    );

    // Nothing lapses before 20 minutes.
    server.clock.advance(Duration::minutes(19));
    assert_eq!(svc.sweep_expired().await.unwrap(), 0);
    let plan = c.get(&seat_plan("29617")).await.json();
    assert_eq!(seat_statuses(&plan)[&(1, 0, 1)], 1);

    server.clock.advance(Duration::minutes(2));
    // The seat is back on sale at once, even before the sweeper runs.
    let plan = c.get(&seat_plan("29617")).await.json();
    assert_eq!(seat_statuses(&plan)[&(1, 0, 1)], 0);
    assert_eq!(
        seat_statuses(&plan)[&(1, 0, 2)],
        1,
        "payment-started hold is kept"
    );
    assert_eq!(svc.sweep_expired().await.unwrap(), 1);
    assert_eq!(
        svc.sweep_expired().await.unwrap(),
        0,
        "sweeping twice changes nothing"
    );

    // GetOrder answers, and the lapsed key has no order in progress: the empty order.
    let r = c
        .post(GET_ORDER, &serde_json::json!({"UserSessionId": "lapsing"}))
        .await;
    let order = r.json();
    assert_eq!(order["Result"], 0, "{}", r.text);
    assert_eq!(order["Order"]["UserSessionId"], "lapsing", "{}", r.text);
    assert_eq!(
        order["Order"].get("CinemaId"),
        Some(&serde_json::Value::Null),
        "{}",
        r.text
    );
    let r = c
        .post(COMPLETE_ORDER, &complete_body("lapsing", 5000))
        .await
        .json();
    assert_ne!(r["Result"], 0);
    // Someone else can have the seat; the lapsed order's key can start afresh.
    assert_eq!(
        c.post(
            ADD_TICKETS,
            &add_tickets_body("other", "29617", "0056", 5000, &[(0, 1)])
        )
        .await
        .json()["Result"],
        0
    );
    assert_eq!(
        c.post(
            ADD_TICKETS,
            &add_tickets_body("lapsing", "29617", "0056", 5000, &[(0, 3)])
        )
        .await
        .json()["Result"],
        0
    );
    // The payment-started order still completes.
    assert_eq!(
        c.post(COMPLETE_ORDER, &complete_body("paying", 5000))
            .await
            .json()["Result"],
        0
    );
    server.stop().await;
}

#[tokio::test]
async fn a_lapsed_hold_taken_by_someone_else_cannot_be_paid() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(
        c.post(
            ADD_TICKETS,
            &add_tickets_body("slow", "29617", "0056", 5000, &[(0, 1)])
        )
        .await
        .json()["Result"],
        0
    );
    server.clock.advance(Duration::minutes(21));
    assert_eq!(
        c.post(
            ADD_TICKETS,
            &add_tickets_body("fast", "29617", "0056", 5000, &[(0, 1)])
        )
        .await
        .json()["Result"],
        0
    );
    assert_ne!(
        c.post(COMPLETE_ORDER, &complete_body("slow", 5000))
            .await
            .json()["Result"],
        0
    );
    assert_eq!(
        c.post(COMPLETE_ORDER, &complete_body("fast", 5000))
            .await
            .json()["Result"],
        0
    );
    let plan = c.get(&seat_plan("29617")).await.json();
    assert_eq!(
        seat_statuses(&plan).values().filter(|s| **s == 1).count(),
        1
    );
    server.stop().await;
}
