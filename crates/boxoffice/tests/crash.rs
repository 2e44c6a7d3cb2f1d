//! Durability: bookings that got a success answer survive `kill -9` of the server.

mod common;
#[path = "common/process.rs"]
mod process;

use common::*;
use process::{apply_demo_catalog, ServerProcess};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn completed_bookings_survive_kill_minus_nine() {
    let (db, _dir) = boxoffice_server::testing::fresh_database(TestStore::from_env()).await;
    apply_demo_catalog(&db);
    let mut server = ServerProcess::spawn(&db).await;
    let confirmed = Arc::new(confirmed::Confirmed::default());
    let successes = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    // 8 clients book seats one by one in session 33392; the server is killed the moment the
    // 12th success arrives, while other requests are still in flight.
    for i in 0..8usize {
        let c = Client::for_url(&server.url);
        let confirmed = confirmed.clone();
        let successes = successes.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..20usize {
                let key = format!("crash-{i}-{round}");
                let body = serde_json::json!({
                    "UserSessionId": key, "CinemaId": "0200", "SessionId": "33392",
                    "TicketTypes": [{"TicketTypeCode": "0153", "Qty": 1, "PriceInCents": 3000}],
                    "ReturnOrder": false, "OptionalClientId": "111.111.111.111"
                });
                let Ok(r) = c
                    .http
                    .post(format!("{}{}", c.base, ADD_TICKETS))
                    .header("connectapitoken", TOKEN)
                    .json(&body)
                    .send()
                    .await
                else {
                    return;
                };
                let Ok(text) = r.text().await else { return };
                if !text.contains("\"Result\":0") {
                    continue;
                }
                let Ok(r) = c
                    .http
                    .post(format!("{}{}", c.base, COMPLETE_ORDER))
                    .header("connectapitoken", TOKEN)
                    .json(&complete_body(&key, 3000))
                    .send()
                    .await
                else {
                    return;
                };
                let Ok(text) = r.text().await else { return };
                let v: serde_json::Value = serde_json::from_str(&text).expect("json");
                if v["Result"] == 0 {
                    confirmed.push(
                        key,
                        v["VistaBookingNumber"]
                            .as_str()
                            .expect("number")
                            .to_string(),
                        v["VistaBookingId"].as_str().expect("id").to_string(),
                    );
                    successes.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    while successes.load(Ordering::SeqCst) < 12 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    server.kill9();
    for t in tasks {
        let _ = t.await;
    }
    let confirmed = confirmed.take();
    assert!(confirmed.len() >= 12);

    let server = ServerProcess::spawn(&db).await;
    let c = Client::for_url(&server.url);
    for (key, number, id) in &confirmed {
        let r = c
            .post(GET_SINGLE_BOOKING, &serde_json::json!({"CinemaId": "0200", "BookingNumber": number, "OptionalClientId": "111.111.111.111"}))
            .await;
        let v = r.json();
        assert_eq!(
            v["ResultCode"], 0,
            "booking {number} lost after kill -9: {}",
            r.text
        );
        assert_eq!(v["Booking"]["BookingId"], id.as_str());
        let r = c
            .post(
                QUERY_BOOKING_STATUS,
                &serde_json::json!({"UserSessionId": key, "ClientId": "111.111.111.111"}),
            )
            .await;
        assert_eq!(r.json()["ResponseCode"], 0, "{}", r.text);
    }
    // Every confirmed ticket's seat is still sold.
    let plan = c.get(&seat_plan("33392")).await.json();
    let sold = seat_statuses(&plan).values().filter(|s| **s == 1).count();
    assert!(
        sold >= confirmed.len(),
        "{sold} sold seats for {} bookings",
        confirmed.len()
    );
}

mod confirmed {
    use std::sync::Mutex;

    /// Bookings confirmed to the client: (order key, booking number, booking id).
    #[derive(Default)]
    pub struct Confirmed(Mutex<Vec<(String, String, String)>>);

    impl Confirmed {
        pub fn push(&self, key: String, number: String, id: String) {
            self.0.lock().expect("lock").push((key, number, id));
        }
        pub fn take(&self) -> Vec<(String, String, String)> {
            std::mem::take(&mut *self.0.lock().expect("lock"))
        }
    }
}
