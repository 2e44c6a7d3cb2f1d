//! One inventory across protocols: a seat locked through Yueke (`/route`) is unavailable through
//! Vista at once and vice versa; releases and cancellations free it for both; concurrent
//! clients of both protocols never get the same seat.

mod common;

use boxoffice_core::Boxoffice;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const GET_SCHEDULES: &str = "ykse.partner.schedule.getSchedules";
const SOLD_SEATS: &str = "ykse.partner.seat.getScheduleSoldSeats";
const LOCK_SEATS: &str = "ykse.partner.seat.lockSeats";
const RELEASE_SEATS: &str = "ykse.partner.seat.releaseSeats";
const S1: &str = "0000000000000001";

/// A Yueke caller (channel YKSE, secret 12345) of one test server.
#[derive(Clone)]
struct Yk {
    url: String,
    svc: Arc<Boxoffice>,
}

impl Yk {
    fn new(server: &TestServer) -> Yk {
        Yk {
            url: server.url.clone(),
            svc: server.app.service.clone(),
        }
    }

    /// A signed GET call; the envelope (HTTP 200, `retCode "0"`).
    async fn call(&self, api: &str, data: &Value) -> Value {
        let env = yueke_call(&self.url, self.svc.now_ms(), api, data).await;
        assert_eq!(env["retCode"], "0", "{env}");
        env
    }
}

fn biz(env: &Value) -> &str {
    env["data"]["bizCode"].as_str().expect("bizCode")
}

/// Schedule 29617 (hall 1 of cinema 888 = Vista session 29617 on screen 1).
async fn schedule_29617(yk: &Yk) -> Value {
    let env = yk
        .call(
            GET_SCHEDULES,
            &json!({"cinemaLinkId": "888", "startDate": "2026-11-23", "endDate": "2026-11-23"}),
        )
        .await;
    env["data"]["dataList"]
        .as_array()
        .expect("dataList")
        .iter()
        .find(|s| s["scheduleId"] == "29617")
        .expect("29617")
        .clone()
}

fn lock_data(s: &Value, out_lock_id: &str, seats: &[String]) -> Value {
    json!({"cinemaLinkId": "888", "scheduleId": s["scheduleId"], "scheduleKey": s["scheduleKey"],
           "outLockId": out_lock_id, "seatIdList": seats})
}

async fn lock(yk: &Yk, s: &Value, out_lock_id: &str, seats: &[String]) -> Value {
    yk.call(LOCK_SEATS, &lock_data(s, out_lock_id, seats)).await
}

async fn release(yk: &Yk, lock_order_id: &str) -> Value {
    yk.call(
        RELEASE_SEATS,
        &json!({"cinemaLinkId": "888", "lockOrderId": lock_order_id}),
    )
    .await
}

async fn sold(yk: &Yk, s: &Value) -> BTreeSet<String> {
    let env = yk
        .call(
            SOLD_SEATS,
            &json!({"cinemaLinkId": "888", "scheduleId": s["scheduleId"], "scheduleKey": s["scheduleKey"], "sectionId": S1}),
        )
        .await;
    assert_eq!(biz(&env), "SUCCESS", "{env}");
    env["data"]["data"]["sectionList"][0]["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .map(|x| x["seatId"].as_str().expect("seatId").to_string())
        .collect()
}

/// The Yueke seat id of Vista screen 1's (row index, column index): row index 0 is physical
/// row 7; rows 7, 5 and 4 start with an aisle.
fn seat_id(row_index: i64, column_index: i64) -> String {
    let row = 7 - row_index;
    let seat = if matches!(row, 7 | 5 | 4) {
        11 - column_index
    } else {
        12 - column_index
    };
    format!("{S1}-{row}-{seat:02}")
}

fn vista_cancel(key: &str) -> Value {
    json!({"UserSessionId": key, "OptionalClientClass": "RSP", "OptionalClientId": "111.111.111.111", "OptionalClientName": "3rdParty"})
}

#[test]
fn seat_ids_match_the_demo_layout() {
    assert_eq!(seat_id(0, 1), "0000000000000001-7-10");
    assert_eq!(seat_id(1, 1), "0000000000000001-6-11");
    assert_eq!(seat_id(4, 0), "0000000000000001-3-12");
    assert_eq!(seat_id(6, 11), "0000000000000001-1-01");
}

#[tokio::test]
async fn a_yueke_lock_is_unavailable_through_vista_until_released() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let vista = Client::new(&server);
    let s = schedule_29617(&yk).await;

    let env = lock(&yk, &s, "x-lock", &[seat_id(0, 1)]).await;
    assert_eq!(biz(&env), "SUCCESS", "{env}");
    let lock_id = env["data"]["data"]["lockOrderId"]
        .as_str()
        .expect("lockOrderId")
        .to_string();

    let plan = vista.get(&seat_plan("29617")).await.json();
    let st = seat_statuses(&plan);
    assert_eq!(st[&(1, 0, 1)], 1);
    assert_eq!(st.values().filter(|x| **x == 1).count(), 1);
    let r = vista
        .post(
            ADD_TICKETS,
            &add_tickets_body("v-blocked", "29617", "0056", 5000, &[(0, 1)]),
        )
        .await;
    assert_eq!(r.json()["Result"], 8, "{}", r.text);
    // The neighbouring seat is still sellable through Vista.
    let r = vista
        .post(
            ADD_TICKETS,
            &add_tickets_body("v-next", "29617", "0056", 5000, &[(0, 2)]),
        )
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);

    // Release frees the seat for both.
    let env = release(&yk, &lock_id).await;
    assert_eq!(biz(&env), "SUCCESS", "{env}");
    let plan = vista.get(&seat_plan("29617")).await.json();
    assert_eq!(seat_statuses(&plan)[&(1, 0, 1)], 0);
    assert_eq!(sold(&yk, &s).await, BTreeSet::from([seat_id(0, 2)]));
    let r = vista
        .post(
            ADD_TICKETS,
            &add_tickets_body("v-after", "29617", "0056", 5000, &[(0, 1)]),
        )
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    server.stop().await;
}

#[tokio::test]
async fn a_vista_hold_or_booking_is_unavailable_through_yueke_until_cancelled() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let vista = Client::new(&server);
    let s = schedule_29617(&yk).await;

    let r = vista
        .post(
            ADD_TICKETS,
            &add_tickets_body("v-hold", "29617", "0056", 5000, &[(0, 2), (0, 3)]),
        )
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    assert_eq!(
        sold(&yk, &s).await,
        BTreeSet::from([seat_id(0, 2), seat_id(0, 3)])
    );
    let env = lock(&yk, &s, "y-blocked", &[seat_id(0, 2)]).await;
    assert_eq!(biz(&env), "LOCK_SEAT_ERROR", "{env}");
    // All or nothing: a free seat with a held one locks nothing.
    let env = lock(&yk, &s, "y-mixed", &[seat_id(0, 4), seat_id(0, 3)]).await;
    assert_eq!(biz(&env), "LOCK_SEAT_ERROR", "{env}");
    let plan = vista.get(&seat_plan("29617")).await.json();
    assert_eq!(seat_statuses(&plan)[&(1, 0, 4)], 0);

    // Cancelling the Vista order frees the seats for Yueke.
    let r = vista.post(CANCEL_ORDER, &vista_cancel("v-hold")).await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    assert!(sold(&yk, &s).await.is_empty());
    let env = lock(&yk, &s, "y-after", &[seat_id(0, 2), seat_id(0, 3)]).await;
    assert_eq!(biz(&env), "SUCCESS", "{env}");

    // A completed Vista booking is unavailable too.
    let r = vista
        .post(
            ADD_TICKETS,
            &add_tickets_body("v-paid", "29617", "0056", 5000, &[(3, 5)]),
        )
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    let r = vista
        .post(COMPLETE_ORDER, &complete_body("v-paid", 5000))
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    let env = lock(&yk, &s, "y-paid", &[seat_id(3, 5)]).await;
    assert_eq!(biz(&env), "LOCK_SEAT_ERROR", "{env}");
    assert_eq!(
        sold(&yk, &s).await,
        BTreeSet::from([seat_id(0, 2), seat_id(0, 3), seat_id(3, 5)])
    );
    server.stop().await;
}

/// Who won a seat: a Vista order key or a Yueke outLockId.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Winner {
    Vista(String),
    Yueke(String),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_of_both_protocols_one_pair_exactly_one_winner() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let vista = Client::new(&server);
    let s = schedule_29617(&yk).await;
    let pair = vec![seat_id(0, 1), seat_id(0, 2)];

    let mut tasks = Vec::new();
    for i in 0..64 {
        let (yk, vista, s, pair) = (yk.clone(), vista.clone(), s.clone(), pair.clone());
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let key = format!("race-v-{i}");
                let r = vista
                    .post(
                        ADD_TICKETS,
                        &add_tickets_body(&key, "29617", "0056", 5000, &[(0, 1), (0, 2)]),
                    )
                    .await;
                assert_eq!(r.status, 200);
                match r.json()["Result"].as_i64() {
                    Some(0) => Some(Winner::Vista(key)),
                    Some(8) => None,
                    other => panic!("unexpected Result {other:?}: {}", r.text),
                }
            } else {
                let out = format!("race-y-{i}");
                let env = lock(&yk, &s, &out, &pair).await;
                match biz(&env) {
                    "SUCCESS" => Some(Winner::Yueke(out)),
                    "LOCK_SEAT_ERROR" => None,
                    other => panic!("unexpected bizCode {other}: {env}"),
                }
            }
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        if let Some(w) = t.await.expect("task") {
            winners.push(w);
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");

    let plan = vista.get(&seat_plan("29617")).await.json();
    let st = seat_statuses(&plan);
    assert_eq!(st[&(1, 0, 1)], 1);
    assert_eq!(st[&(1, 0, 2)], 1);
    assert_eq!(st.values().filter(|x| **x == 1).count(), 2);
    assert_eq!(sold(&yk, &s).await, pair.iter().cloned().collect());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_of_both_protocols_scrambling_for_a_row_never_share_a_seat() {
    let server = TestServer::start().await;
    let yk = Yk::new(&server);
    let vista = Client::new(&server);
    let s = schedule_29617(&yk).await;

    let mut tasks = Vec::new();
    for i in 0..64usize {
        let (yk, vista, s) = (yk.clone(), vista.clone(), s.clone());
        tasks.push(tokio::spawn(async move {
            let mut won: Vec<(Winner, Vec<(i64, i64)>)> = Vec::new();
            for round in 0..6usize {
                // Row index 4 (physical row 3) has 12 seats at columns 0..=11.
                let col = ((i * 7 + round * 5) % 11) as i64;
                let seats = vec![(4, col), (4, col + 1)];
                if (i + round) % 2 == 0 {
                    let key = format!("scr-v-{i}-{round}");
                    let r = vista
                        .post(
                            ADD_TICKETS,
                            &add_tickets_body(&key, "29617", "0056", 5000, &seats),
                        )
                        .await;
                    match r.json()["Result"].as_i64() {
                        Some(0) => {}
                        Some(8) => continue,
                        other => panic!("unexpected Result {other:?}: {}", r.text),
                    }
                    // Buy every other Vista win, leave the rest held.
                    if round % 2 == 0 {
                        let done = vista
                            .post(COMPLETE_ORDER, &complete_body(&key, 10000))
                            .await;
                        assert_eq!(done.json()["Result"], 0, "{}", done.text);
                    }
                    won.push((Winner::Vista(key), seats));
                } else {
                    let out = format!("scr-y-{i}-{round}");
                    let ids: Vec<String> = seats.iter().map(|(r, c)| seat_id(*r, *c)).collect();
                    let env = lock(&yk, &s, &out, &ids).await;
                    match biz(&env) {
                        "SUCCESS" => {}
                        "LOCK_SEAT_ERROR" => continue,
                        other => panic!("unexpected bizCode {other}: {env}"),
                    }
                    let got: BTreeSet<String> = env["data"]["data"]["seats"]
                        .as_array()
                        .expect("seats")
                        .iter()
                        .map(|x| x["seatId"].as_str().unwrap().to_string())
                        .collect();
                    assert_eq!(got, ids.iter().cloned().collect(), "{env}");
                    won.push((Winner::Yueke(out), seats));
                }
            }
            won
        }));
    }
    let mut owners: BTreeMap<(i64, i64), Winner> = BTreeMap::new();
    let (mut vista_wins, mut yueke_wins) = (0, 0);
    for t in tasks {
        for (w, seats) in t.await.expect("task") {
            match w {
                Winner::Vista(_) => vista_wins += 1,
                Winner::Yueke(_) => yueke_wins += 1,
            }
            for seat in seats {
                if let Some(prev) = owners.insert(seat, w.clone()) {
                    panic!("seat {seat:?} held twice: by {prev:?} and {w:?}");
                }
            }
        }
    }
    assert!(vista_wins + yueke_wins > 0);

    // The Vista seat plan agrees with the winners, and so does getScheduleSoldSeats.
    let plan = vista.get(&seat_plan("29617")).await.json();
    let st = seat_statuses(&plan);
    let taken: BTreeSet<(i64, i64)> = st
        .iter()
        .filter(|(_, status)| **status != 0)
        .map(|((_, r, c), _)| (*r, *c))
        .collect();
    assert_eq!(
        taken,
        owners.keys().copied().collect::<BTreeSet<_>>(),
        "seat plan and winners disagree"
    );
    assert!(!owners.is_empty(), "somebody won a seat");
    assert!(owners.keys().all(|(_, c)| st[&(1, 4, *c)] == 1));
    let expected: BTreeSet<String> = owners.keys().map(|(r, c)| seat_id(*r, *c)).collect();
    assert_eq!(sold(&yk, &s).await, expected);
    server.stop().await;
}
