mod common;
use common::*;

#[tokio::test]
async fn health_and_a_booking() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(c.get("/healthz").await.status, 200);
    let r = c
        .post(
            ADD_TICKETS,
            &add_tickets_body("K1", "29617", "0056", 5000, &[(0, 1), (0, 2)]),
        )
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    let r = c.post(COMPLETE_ORDER, &complete_body("K1", 10000)).await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    server.stop().await;
}
