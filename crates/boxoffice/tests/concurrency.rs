//! Concurrency: many clients over HTTP competing for the same seats, on one server and on two
//! server processes sharing one PostgreSQL database. Exactly one winner per seat.

mod common;
#[path = "common/process.rs"]
mod process;

use common::*;
use process::{apply_demo_catalog, ServerProcess};
use serde_json::Value;
use std::collections::BTreeMap;

/// Every client tries to hold and buy the same pair of seats; returns the winners' keys.
async fn race_for_one_pair(urls: &[String], clients: usize, tag: &str) -> Vec<String> {
    let mut tasks = Vec::new();
    for i in 0..clients {
        let c = Client::for_url(&urls[i % urls.len()]);
        let key = format!("{tag}-{i}");
        tasks.push(tokio::spawn(async move {
            let r = c
                .post(
                    ADD_TICKETS,
                    &add_tickets_body(&key, "29617", "0056", 5000, &[(0, 1), (0, 2)]),
                )
                .await;
            assert_eq!(r.status, 200);
            let code = r.json()["Result"].as_i64().expect("Result");
            assert!(
                code == 0 || code == 8,
                "unexpected Result {code}: {}",
                r.text
            );
            if code != 0 {
                return None;
            }
            let r = c.post(COMPLETE_ORDER, &complete_body(&key, 10000)).await;
            assert_eq!(r.json()["Result"], 0, "{}", r.text);
            Some(key)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        if let Some(k) = t.await.expect("task") {
            winners.push(k);
        }
    }
    winners
}

/// Clients grab random pairs of adjacent seats in one row, many rounds; returns the seats each
/// successful booking got, as reported by AddTickets.
async fn scramble(
    urls: &[String],
    clients: usize,
    rounds: usize,
    tag: &str,
) -> Vec<(String, Vec<String>)> {
    let mut tasks = Vec::new();
    for i in 0..clients {
        let c = Client::for_url(&urls[i % urls.len()]);
        let tag = tag.to_string();
        tasks.push(tokio::spawn(async move {
            let mut won = Vec::new();
            for round in 0..rounds {
                let key = format!("{tag}-{i}-{round}");
                // Row 4 (physical row 3) has 12 seats at columns 0..=11.
                let col = ((i * 7 + round * 5) % 11) as i64;
                let r = c
                    .post(
                        ADD_TICKETS,
                        &add_tickets_body(&key, "29617", "0056", 5000, &[(4, col), (4, col + 1)]),
                    )
                    .await;
                let body = r.json();
                match body["Result"].as_i64() {
                    Some(0) => {}
                    Some(8) => continue,
                    other => panic!("unexpected Result {other:?}: {}", r.text),
                }
                let seats: Vec<String> = body["Order"]["Sessions"][0]["Tickets"]
                    .as_array()
                    .expect("tickets")
                    .iter()
                    .map(|t| t["SeatData"].as_str().expect("SeatData").to_string())
                    .collect();
                let done = c.post(COMPLETE_ORDER, &complete_body(&key, 10000)).await;
                assert_eq!(done.json()["Result"], 0, "{}", done.text);
                won.push((key, seats));
            }
            won
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all
}

fn assert_each_seat_sold_once(bookings: &[(String, Vec<String>)], plan: &Value) {
    let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
    for (key, seats) in bookings {
        for s in seats {
            if let Some(prev) = owners.insert(s, key) {
                panic!("seat {s} sold twice: to {prev} and {key}");
            }
        }
    }
    let sold_in_row_3 = plan["SeatLayoutData"]["Areas"][0]["Rows"][4]["Seats"]
        .as_array()
        .expect("row")
        .iter()
        .filter(|s| s["Status"] == 1)
        .count();
    assert_eq!(
        sold_in_row_3,
        owners.len(),
        "seat plan and bookings disagree"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_one_pair_exactly_one_winner() {
    let server = TestServer::start().await;
    let winners = race_for_one_pair(std::slice::from_ref(&server.url), 64, "race").await;
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let plan = Client::new(&server).get(&seat_plan("29617")).await.json();
    let statuses = seat_statuses(&plan);
    assert_eq!(statuses[&(1, 0, 1)], 1);
    assert_eq!(statuses[&(1, 0, 2)], 1);
    assert_eq!(statuses.values().filter(|s| **s == 1).count(), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_scrambling_for_a_row_never_share_a_seat() {
    let server = TestServer::start().await;
    let bookings = scramble(std::slice::from_ref(&server.url), 64, 4, "scramble").await;
    assert!(!bookings.is_empty());
    let plan = Client::new(&server).get(&seat_plan("29617")).await.json();
    assert_each_seat_sold_once(&bookings, &plan);
    server.stop().await;
}

/// Two `boxoffice serve` processes on one PostgreSQL database (always PostgreSQL, whatever
/// store the rest of the suite runs on).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_server_processes_on_one_postgres_never_sell_a_seat_twice() {
    let (db, _dir) = boxoffice_server::testing::fresh_database(TestStore::Postgres).await;
    apply_demo_catalog(&db);
    let a = ServerProcess::spawn(&db).await;
    let b = ServerProcess::spawn(&db).await;
    let urls = vec![a.url.clone(), b.url.clone()];
    let winners = race_for_one_pair(&urls, 64, "two").await;
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let bookings = scramble(&urls, 64, 4, "two-scramble").await;
    assert!(!bookings.is_empty());
    // Both processes agree on the result once their snapshots refresh (1 s at most); the
    // database is the judge, so read through a fresh server.
    drop(a);
    drop(b);
    let c = ServerProcess::spawn(&db).await;
    let plan = Client::for_url(&c.url)
        .get(&seat_plan("29617"))
        .await
        .json();
    assert_each_seat_sold_once(&bookings, &plan);
}
