//! Day quotas and time segments (the scenic-area inventory): many buyers racing for the last
//! units sell exactly the capacity, a day and its segment are claimed together or not at all,
//! and released units are for sale again. Runs on the selected store like the rest.

mod common;
use boxoffice_core::store::{QuotaClaim, QuotaKey};
use common::*;

fn key(server: &TestServer, segment: i32) -> QuotaKey {
    let venue = server
        .app
        .service
        .catalog()
        .venue("58")
        .expect("venue 58")
        .id;
    QuotaKey {
        venue_id: venue,
        product: "P-DAY".into(),
        date: "2026-11-23".into(),
        segment,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_buyers_take_exactly_the_capacity_of_a_day_and_a_segment() {
    let server = TestServer::start().await;
    let svc = server.app.service.clone();
    let day = key(&server, 0);
    let morning = key(&server, 1);
    let mut tasks = Vec::new();
    for i in 0..64 {
        let svc = svc.clone();
        let (day, morning, afternoon) = (day.clone(), morning.clone(), key(&server, 2));
        tasks.push(tokio::spawn(async move {
            // Every buyer wants 1 unit of the day (capacity 10) and of a segment: the morning
            // (capacity 3) for even buyers, the afternoon (capacity 100) for odd ones.
            let segment = if i % 2 == 0 {
                (morning, 3)
            } else {
                (afternoon, 100)
            };
            let claims = [
                QuotaClaim {
                    key: day,
                    capacity: 10,
                    units: 1,
                },
                QuotaClaim {
                    key: segment.0,
                    capacity: segment.1,
                    units: 1,
                },
            ];
            (i % 2 == 0, svc.claim_quotas(&claims).await.expect("claim"))
        }));
    }
    let mut morning_wins = 0;
    let mut wins = 0;
    for t in tasks {
        let (is_morning, won) = t.await.expect("task");
        if won {
            wins += 1;
            morning_wins += usize::from(is_morning);
        }
    }
    assert_eq!(wins, 10, "exactly the day's capacity is sold");
    assert!(
        morning_wins <= 3,
        "the morning segment sold {morning_wins} of 3"
    );
    assert_eq!(svc.quota_used(&day).await.unwrap(), 10);
    assert_eq!(
        svc.quota_used(&morning).await.unwrap() as usize,
        morning_wins
    );
    server.stop().await;
}

#[tokio::test]
async fn claims_are_all_or_nothing_and_released_units_sell_again() {
    let server = TestServer::start().await;
    let svc = server.app.service.clone();
    let day = key(&server, 0);
    let seg = key(&server, 1);
    let both = |units| {
        [
            QuotaClaim {
                key: day.clone(),
                capacity: 5,
                units,
            },
            QuotaClaim {
                key: seg.clone(),
                capacity: 2,
                units,
            },
        ]
    };
    assert!(svc.claim_quotas(&both(2)).await.unwrap());
    // The segment is full: the day is not touched either.
    assert!(!svc.claim_quotas(&both(1)).await.unwrap());
    assert_eq!(svc.quota_used(&day).await.unwrap(), 2);
    assert!(
        !svc.claim_quotas(&[QuotaClaim {
            key: day.clone(),
            capacity: 5,
            units: 4
        }])
        .await
        .unwrap(),
        "only 3 left"
    );
    assert!(
        !svc.claim_quotas(&[QuotaClaim {
            key: key(&server, 7),
            capacity: 1,
            units: 2
        }])
        .await
        .unwrap(),
        "more than the capacity of a fresh quota"
    );
    assert_eq!(svc.quota_used(&key(&server, 7)).await.unwrap(), 0);
    assert!(
        !svc.claim_quotas(&both(0)).await.unwrap(),
        "zero units are refused"
    );
    svc.release_quotas(&both(1)).await.unwrap();
    assert!(
        svc.claim_quotas(&both(1)).await.unwrap(),
        "a released unit sells again"
    );
    svc.release_quotas(&both(9)).await.unwrap();
    assert_eq!(svc.quota_used(&day).await.unwrap(), 0, "never below zero");
    server.stop().await;
}
