//! The workloads: seat-plan reads, complete bookings, and the oversell (contention) check, plus
//! the checks that the server kept every booking it confirmed.

use crate::api::{self, Api, Seat, SEATS_UNAVAILABLE};
use crate::report::{Row, Samples};
use anyhow::{anyhow, Context};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;

/// The server under test and the partner identity to use.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL.
    pub base: String,
    /// `connectapitoken`.
    pub token: String,
    /// Cinema code.
    pub cinema: String,
}

impl Target {
    /// A fresh client (its own keep-alive connection).
    pub fn api(&self) -> anyhow::Result<Api> {
        Api::new(&self.base, &self.token, &self.cinema)
    }
}

/// Prints the first few failures of a workload run to stderr.
pub struct ErrorLog {
    label: String,
    printed: AtomicUsize,
}

/// Failures printed per workload run.
const ERRORS_SHOWN: usize = 5;

impl ErrorLog {
    /// A log for one workload run.
    pub fn new(label: String) -> ErrorLog {
        ErrorLog {
            label,
            printed: AtomicUsize::new(0),
        }
    }

    /// Prints `what` if fewer than `ERRORS_SHOWN` were printed.
    pub fn error(&self, what: impl FnOnce() -> String) {
        let n = self.printed.fetch_add(1, Ordering::Relaxed);
        if n < ERRORS_SHOWN {
            eprintln!("[{}] error: {}", self.label, what());
        } else if n == ERRORS_SHOWN {
            eprintln!("[{}] further errors are not shown", self.label);
        }
    }
}

/// A session's seats still free when the run started, with the ticket to sell in each area.
#[derive(Debug, Clone)]
pub struct SessionPlan {
    /// Session code.
    pub code: Arc<str>,
    /// Free normal seats that have a ticket price, in plan order.
    pub free: Vec<Seat>,
    /// Ticket type code and price per area category.
    pub tickets: HashMap<String, (Arc<str>, i64)>,
}

impl SessionPlan {
    /// Ticket type and price for a seat.
    pub fn ticket(&self, seat: &Seat) -> Option<(&Arc<str>, i64)> {
        self.tickets.get(&seat.area_category).map(|(t, p)| (t, *p))
    }
}

/// Reads the seat plan and the ticket list of a session.
pub async fn discover(api: &Api, session: &str) -> anyhow::Result<SessionPlan> {
    let mut tickets: HashMap<String, (Arc<str>, i64)> = HashMap::new();
    for (area, code, price) in api.tickets(session).await? {
        tickets
            .entry(area)
            .or_insert((Arc::from(code.as_str()), price));
    }
    let free = api
        .seat_plan(session)
        .await?
        .into_iter()
        .filter(|s| s.status == 0 && tickets.contains_key(&s.seat.area_category))
        .map(|s| s.seat)
        .collect();
    Ok(SessionPlan {
        code: Arc::from(session),
        free,
        tickets,
    })
}

/// `discover` for many sessions, a few at a time.
pub async fn discover_all(
    target: &Target,
    sessions: &[String],
) -> anyhow::Result<Vec<SessionPlan>> {
    const TASKS: usize = 8;
    let chunk = sessions.len().div_ceil(TASKS).max(1);
    let mut tasks = Vec::new();
    for part in sessions.chunks(chunk) {
        let api = target.api()?;
        let part = part.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(part.len());
            for s in &part {
                out.push(discover(&api, s).await?);
            }
            anyhow::Ok(out)
        }));
    }
    let mut plans = Vec::with_capacity(sessions.len());
    for t in tasks {
        plans.extend(t.await.context("discovery task")??);
    }
    Ok(plans)
}

/// Runs `workers` copies of `work` after a common start; returns their results and the time
/// from the start until the last one finished.
pub(crate) async fn run_workers<T, F, Fut>(
    workers: usize,
    work: F,
) -> anyhow::Result<(Vec<T>, Duration)>
where
    T: Send + 'static,
    F: Fn(usize, Arc<Barrier>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(workers + 1));
    let handles: Vec<_> = (0..workers)
        .map(|w| tokio::spawn(work(w, barrier.clone())))
        .collect();
    barrier.wait().await;
    let start = Instant::now();
    let mut out = Vec::with_capacity(workers);
    for h in handles {
        out.push(h.await.context("worker task")??);
    }
    Ok((out, start.elapsed()))
}

/// Seat-plan reads of `sessions` in rotation by `workers` workers for `duration`.
pub async fn seat_plan_reads(
    target: &Target,
    sessions: &[String],
    workers: usize,
    duration: Duration,
    log: Arc<ErrorLog>,
) -> anyhow::Result<Row> {
    let probe = target.api()?;
    let paths: Arc<Vec<String>> =
        Arc::new(sessions.iter().map(|s| probe.seat_plan_path(s)).collect());
    if paths.is_empty() {
        return Err(anyhow!("no sessions to read"));
    }
    let (results, elapsed) = run_workers(workers, |w, barrier| {
        let api = target.api();
        let paths = paths.clone();
        let log = log.clone();
        async move {
            let api = api?;
            let mut s = Samples::default();
            barrier.wait().await;
            let deadline = Instant::now() + duration;
            let mut i = w;
            while Instant::now() < deadline {
                let path = &paths[i % paths.len()];
                i += 1;
                let t0 = Instant::now();
                match api.get(path).await {
                    Ok(r) if r.status == 200 && api::response_code_fast(&r.body) == Some(0) => {
                        s.ok(t0.elapsed())
                    }
                    Ok(r) => {
                        s.errors += 1;
                        log.error(|| format!("GET {path}: HTTP {}: {}", r.status, r.text()));
                    }
                    Err(e) => {
                        s.errors += 1;
                        log.error(|| format!("GET {path}: {e:#}"));
                    }
                }
            }
            anyhow::Ok(s)
        }
    })
    .await?;
    let mut all = Samples::default();
    for r in results {
        all.merge(r);
    }
    Ok(Row::new("seat-plan read", workers, all, elapsed))
}

/// Two seats of a session that a booking takes together.
#[derive(Debug, Clone)]
pub struct Pair {
    /// Index of the session in the plans.
    pub session: usize,
    /// The seats (same area and row).
    pub seats: [Seat; 2],
}

/// Pairs of free seats next to each other in a row, session after session.
pub fn pairs(plans: &[SessionPlan]) -> Vec<Pair> {
    let mut out = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        let mut rows: BTreeMap<(i64, i64), Vec<&Seat>> = BTreeMap::new();
        for s in &plan.free {
            rows.entry((s.area, s.row)).or_default().push(s);
        }
        for seats in rows.values_mut() {
            seats.sort_by_key(|s| s.column);
            for two in seats.chunks_exact(2) {
                out.push(Pair {
                    session: i,
                    seats: [two[0].clone(), two[1].clone()],
                });
            }
        }
    }
    out
}

/// Everything the booking workload shares between its levels.
pub struct BookingState {
    /// The sessions booked.
    pub plans: Vec<SessionPlan>,
    /// The pairs to book, in order.
    pub pairs: Vec<Pair>,
    /// Next pair to book.
    pub cursor: AtomicUsize,
    /// Prefix of order keys, unique to the run.
    pub run: String,
}

impl BookingState {
    /// Pairs handed out so far.
    pub fn used(&self) -> usize {
        self.cursor.load(Ordering::Relaxed).min(self.pairs.len())
    }
}

/// What one level of the booking workload did.
#[derive(Debug, Default)]
pub struct BookingOutcome {
    /// Whole booking (AddTickets + CompleteOrder).
    pub whole: Row,
    /// AddTickets alone.
    pub add: Row,
    /// CompleteOrder alone.
    pub complete: Row,
    /// Booking number and order key of every successful CompleteOrder.
    pub booked: Vec<(i64, String)>,
    /// Successful AddTickets (each holds two seats until completed or expired).
    pub held: u64,
    /// Whether the workers ran out of seats before the time was up.
    pub exhausted: bool,
}

#[derive(Default)]
struct BookingWorker {
    whole: Samples,
    add: Samples,
    complete: Samples,
    booked: Vec<(i64, String)>,
    held: u64,
    exhausted: bool,
}

/// Complete bookings (AddTickets of two seats, then CompleteOrder) by `workers` workers.
pub async fn bookings(
    target: &Target,
    state: Arc<BookingState>,
    workers: usize,
    duration: Duration,
    log: Arc<ErrorLog>,
) -> anyhow::Result<BookingOutcome> {
    let (results, elapsed) = run_workers(workers, |_, barrier| {
        let api = target.api();
        let state = state.clone();
        let log = log.clone();
        async move {
            let api = api?;
            let mut out = BookingWorker::default();
            barrier.wait().await;
            let deadline = Instant::now() + duration;
            while Instant::now() < deadline {
                let i = state.cursor.fetch_add(1, Ordering::Relaxed);
                let Some(pair) = state.pairs.get(i) else {
                    out.exhausted = true;
                    break;
                };
                let plan = &state.plans[pair.session];
                let Some((ticket, price)) = plan.ticket(&pair.seats[0]) else {
                    continue;
                };
                let key = format!("{}-{i}", state.run);
                let body = api::add_tickets_body(
                    &key,
                    &api.cinema,
                    &plan.code,
                    ticket,
                    price,
                    &pair.seats,
                );
                let t0 = Instant::now();
                let reply = api.post(api::ADD_TICKETS, &body).await;
                let t1 = Instant::now();
                match &reply {
                    Ok(r) if api::result_code(r) == Some(0) => {
                        out.add.ok(t1 - t0);
                        out.held += 1;
                    }
                    Ok(r) => {
                        out.add.errors += 1;
                        out.whole.errors += 1;
                        log.error(|| {
                            format!(
                                "AddTickets {key} session {} seats {:?}: HTTP {}: {}",
                                plan.code,
                                pair.seats.iter().map(Seat::key).collect::<Vec<_>>(),
                                r.status,
                                r.text()
                            )
                        });
                        continue;
                    }
                    Err(e) => {
                        out.add.errors += 1;
                        out.whole.errors += 1;
                        log.error(|| format!("AddTickets {key}: {e:#}"));
                        continue;
                    }
                }
                let reply = api
                    .post(api::COMPLETE_ORDER, &api::complete_body(&key, 2 * price))
                    .await;
                let t2 = Instant::now();
                let parsed = reply.as_ref().ok().and_then(|r| {
                    let v: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
                    let number = v["VistaBookingNumber"]
                        .as_str()
                        .and_then(|n| n.parse::<i64>().ok())
                        .or_else(|| v["VistaBookingNumber"].as_i64());
                    (r.status == 200 && v["Result"].as_i64() == Some(0))
                        .then_some(number)
                        .flatten()
                });
                match (parsed, &reply) {
                    (Some(number), _) => {
                        out.complete.ok(t2 - t1);
                        out.whole.ok(t2 - t0);
                        out.booked.push((number, key));
                    }
                    (None, Ok(r)) => {
                        out.complete.errors += 1;
                        out.whole.errors += 1;
                        log.error(|| {
                            format!("CompleteOrder {key}: HTTP {}: {}", r.status, r.text())
                        });
                    }
                    (None, Err(e)) => {
                        out.complete.errors += 1;
                        out.whole.errors += 1;
                        log.error(|| format!("CompleteOrder {key}: {e:#}"));
                    }
                }
            }
            anyhow::Ok(out)
        }
    })
    .await?;
    let mut whole = Samples::default();
    let mut add = Samples::default();
    let mut complete = Samples::default();
    let mut outcome = BookingOutcome::default();
    for r in results {
        whole.merge(r.whole);
        add.merge(r.add);
        complete.merge(r.complete);
        outcome.booked.extend(r.booked);
        outcome.held += r.held;
        outcome.exhausted |= r.exhausted;
    }
    outcome.whole = Row::new(
        "booking (AddTickets + CompleteOrder)",
        workers,
        whole,
        elapsed,
    );
    outcome.add = Row::new("booking: AddTickets", workers, add, elapsed);
    outcome.complete = Row::new("booking: CompleteOrder", workers, complete, elapsed);
    Ok(outcome)
}

/// The result of a check: lines to print and the problems found.
#[derive(Debug, Default)]
pub struct Check {
    /// Lines describing what was checked.
    pub lines: Vec<String>,
    /// Problems (empty: the check passed).
    pub problems: Vec<String>,
}

/// Checks that the server kept the bookings it confirmed: booking numbers are distinct, a sample
/// of them is found by GetSingleBooking with its two tickets, and the seat plans of the booked
/// sessions show exactly the seats that were held (through Vista) or locked (through Yueke) as
/// taken — the two protocols drew their pairs from one cursor, so no seat may count twice.
pub async fn verify_bookings(
    target: &Target,
    state: &BookingState,
    booked: &[(i64, String)],
    held: u64,
    yueke_locks: u64,
    sample: usize,
) -> anyhow::Result<Check> {
    let api = target.api()?;
    let mut check = Check::default();
    let distinct: BTreeSet<i64> = booked.iter().map(|(n, _)| *n).collect();
    if distinct.len() != booked.len() {
        check.problems.push(format!(
            "{} successful CompleteOrders but only {} distinct booking numbers",
            booked.len(),
            distinct.len()
        ));
    }
    // GetSingleBooking on an evenly spread sample.
    let n = booked.len().min(sample);
    let mut found = 0;
    for k in 0..n {
        let (number, key) = &booked[k * booked.len() / n];
        let reply = api
            .post(
                api::GET_SINGLE_BOOKING,
                &json!({"CinemaId": api.cinema, "BookingNumber": number}),
            )
            .await?;
        let v = reply.json()?;
        let tickets = v["Booking"]["Tickets"].as_array().map(Vec::len);
        if v["ResultCode"].as_i64() == Some(0)
            && v["Booking"]["UserSessionId"].as_str() == Some(key.as_str())
            && tickets == Some(2)
        {
            found += 1;
        } else {
            check.problems.push(format!(
                "GetSingleBooking {number} (order {key}): {}",
                reply.text()
            ));
        }
    }
    check.lines.push(format!(
        "bookings: {} CompleteOrder successes, {} distinct booking numbers, {found} of {n} sampled found by GetSingleBooking",
        booked.len(),
        distinct.len()
    ));
    // Seats taken in the booked sessions' plans: every successful hold took two.
    let used = state.used();
    let mut per_session: BTreeMap<usize, BTreeSet<(i64, i64, i64)>> = BTreeMap::new();
    for p in &state.pairs[..used] {
        per_session
            .entry(p.session)
            .or_default()
            .extend(p.seats.iter().map(Seat::key));
    }
    let mut taken = 0u64;
    for (&i, offered) in &per_session {
        let plan = &state.plans[i];
        for s in api.seat_plan(&plan.code).await? {
            if s.status != 0 && offered.contains(&s.seat.key()) {
                taken += 1;
            }
        }
    }
    let expected = 2 * (held + yueke_locks);
    check.lines.push(format!(
        "seat plans of {} booked sessions: {taken} seats taken, expected {expected} (2 × ({held} Vista holds, {} of them paid, + {yueke_locks} Yueke locks))",
        per_session.len(),
        booked.len()
    ));
    if taken != expected {
        check.problems.push(format!(
            "seat plans show {taken} seats taken but {held} Vista holds and {yueke_locks} Yueke locks of 2 seats succeeded"
        ));
    }
    if held != booked.len() as u64 {
        check.problems.push(format!(
            "{held} AddTickets succeeded but only {} CompleteOrders",
            booked.len()
        ));
    }
    Ok(check)
}

#[derive(Default)]
struct ContentionWorker {
    attempts: Samples,
    rejected: u64,
    held: Vec<[Seat; 2]>,
    sold: Vec<([Seat; 2], i64)>,
}

/// The oversell check: `workers` workers race for overlapping pairs of the same `seats` (next to
/// each other in one row of `plan`'s session) with distinct order keys, each success followed by
/// CompleteOrder; afterwards no seat may have been held or sold twice, and the seat plan must
/// show exactly the sold seats as taken.
pub async fn contention(
    target: &Target,
    plan: &SessionPlan,
    seat_count: usize,
    workers: usize,
    duration: Duration,
    run: &str,
    log: Arc<ErrorLog>,
) -> anyhow::Result<(Row, Check)> {
    let seats = contended_seats(plan, seat_count).ok_or_else(|| {
        anyhow!(
            "session {} has no row with {seat_count} free seats next to each other",
            plan.code
        )
    })?;
    let (ticket, price) = plan
        .ticket(&seats[0])
        .map(|(t, p)| (t.clone(), p))
        .ok_or_else(|| anyhow!("no ticket for the contended seats"))?;
    let seats = Arc::new(seats);
    let code = plan.code.clone();
    let (results, elapsed) = run_workers(workers, |w, barrier| {
        let api = target.api();
        let seats = seats.clone();
        let log = log.clone();
        let ticket = ticket.clone();
        let code = code.clone();
        let run = run.to_string();
        async move {
            let api = api?;
            let mut out = ContentionWorker::default();
            let mut rng = (w as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            barrier.wait().await;
            let deadline = Instant::now() + duration;
            let mut iter = 0u64;
            while Instant::now() < deadline {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let j = (rng % (seats.len() as u64 - 1)) as usize;
                let pair = [seats[j].clone(), seats[j + 1].clone()];
                let key = format!("{run}-w{w}-{iter}");
                iter += 1;
                let body = api::add_tickets_body(&key, &api.cinema, &code, &ticket, price, &pair);
                let t0 = Instant::now();
                let reply = api.post(api::ADD_TICKETS, &body).await;
                match reply.as_ref().map(api::result_code) {
                    Ok(Some(0)) => {
                        out.attempts.ok(t0.elapsed());
                        out.held.push(pair.clone());
                    }
                    Ok(Some(SEATS_UNAVAILABLE)) => {
                        out.attempts.ok(t0.elapsed());
                        out.rejected += 1;
                        continue;
                    }
                    Ok(_) => {
                        out.attempts.errors += 1;
                        if let Ok(r) = &reply {
                            log.error(|| {
                                format!("AddTickets {key}: HTTP {}: {}", r.status, r.text())
                            });
                        }
                        continue;
                    }
                    Err(e) => {
                        out.attempts.errors += 1;
                        log.error(|| format!("AddTickets {key}: {e:#}"));
                        continue;
                    }
                }
                let reply = api
                    .post(api::COMPLETE_ORDER, &api::complete_body(&key, 2 * price))
                    .await;
                let number = reply.as_ref().ok().and_then(|r| {
                    let v: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
                    (v["Result"].as_i64() == Some(0))
                        .then(|| v["VistaBookingNumber"].as_str()?.parse::<i64>().ok())
                        .flatten()
                });
                match number {
                    Some(n) => out.sold.push((pair, n)),
                    None => {
                        out.attempts.errors += 1;
                        log.error(|| match &reply {
                            Ok(r) => {
                                format!("CompleteOrder {key}: HTTP {}: {}", r.status, r.text())
                            }
                            Err(e) => format!("CompleteOrder {key}: {e:#}"),
                        });
                    }
                }
            }
            anyhow::Ok(out)
        }
    })
    .await?;
    let mut attempts = Samples::default();
    let mut rejected = 0;
    let mut held: BTreeMap<(i64, i64, i64), u32> = BTreeMap::new();
    let mut sold: BTreeMap<(i64, i64, i64), u32> = BTreeMap::new();
    let mut numbers = BTreeSet::new();
    let mut sold_orders = 0;
    for r in results {
        attempts.merge(r.attempts);
        rejected += r.rejected;
        for pair in r.held {
            for s in &pair {
                *held.entry(s.key()).or_default() += 1;
            }
        }
        for (pair, n) in r.sold {
            sold_orders += 1;
            numbers.insert(n);
            for s in &pair {
                *sold.entry(s.key()).or_default() += 1;
            }
        }
    }
    let mut check = Check::default();
    let oversold: Vec<_> = sold.iter().filter(|(_, n)| **n > 1).collect();
    let overheld: Vec<_> = held.iter().filter(|(_, n)| **n > 1).collect();
    let api = target.api()?;
    let contended: BTreeSet<_> = seats.iter().map(Seat::key).collect();
    let taken: BTreeSet<_> = api
        .seat_plan(&plan.code)
        .await?
        .into_iter()
        .filter(|s| s.status != 0 && contended.contains(&s.seat.key()))
        .map(|s| s.seat.key())
        .collect();
    let sold_seats: BTreeSet<_> = sold.keys().copied().collect();
    check.lines.push(format!(
        "contention: {workers} workers on {} seats of session {}: {} attempts, {rejected} refused as taken, {sold_orders} orders sold ({} seats, {} booking numbers), seat plan shows {} taken",
        seats.len(),
        plan.code,
        attempts.micros.len() as u64 + attempts.errors,
        sold_seats.len(),
        numbers.len(),
        taken.len()
    ));
    check.lines.push(format!("oversold: {}", oversold.len()));
    if !oversold.is_empty() {
        check.problems.push(format!(
            "seats sold more than once (seat: times): {oversold:?}"
        ));
    }
    if !overheld.is_empty() {
        check.problems.push(format!(
            "seats held by more than one order (seat: times): {overheld:?}"
        ));
    }
    if taken != sold_seats {
        check.problems.push(format!(
            "the seat plan shows {taken:?} taken but CompleteOrder sold {sold_seats:?}"
        ));
    }
    if numbers.len() != sold_orders {
        check.problems.push(format!(
            "{sold_orders} orders sold under {} distinct booking numbers",
            numbers.len()
        ));
    }
    let row = Row::new(
        &format!("contention: AddTickets on {} shared seats", seats.len()),
        workers,
        attempts,
        elapsed,
    );
    Ok((row, check))
}

/// `count` free seats next to each other (consecutive columns) in one row of a session.
fn contended_seats(plan: &SessionPlan, count: usize) -> Option<Vec<Seat>> {
    let count = count.max(2);
    let mut rows: BTreeMap<(i64, i64), Vec<&Seat>> = BTreeMap::new();
    for s in &plan.free {
        rows.entry((s.area, s.row)).or_default().push(s);
    }
    for seats in rows.values_mut() {
        seats.sort_by_key(|s| s.column);
        for w in seats.windows(count) {
            if w.windows(2).all(|p| p[1].column == p[0].column + 1) {
                return Some(w.iter().map(|s| (*s).clone()).collect());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(row: i64, column: i64) -> Seat {
        Seat {
            area_category: "A".into(),
            area: 1,
            row,
            column,
            yueke: crate::api::yueke_seat_id(1, &row.to_string(), &column.to_string()),
        }
    }

    fn plan(free: Vec<Seat>) -> SessionPlan {
        SessionPlan {
            code: Arc::from("1"),
            free,
            tickets: HashMap::from([("A".to_string(), (Arc::from("T"), 100))]),
        }
    }

    #[test]
    fn pairs_are_neighbours_in_a_row() {
        let p = plan(vec![
            seat(0, 0),
            seat(0, 1),
            seat(0, 2),
            seat(1, 5),
            seat(1, 4),
        ]);
        let pairs = pairs(&[p]);
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].seats[0].key(), (1, 0, 0));
        assert_eq!(pairs[0].seats[1].key(), (1, 0, 1));
        assert_eq!(pairs[1].seats[0].key(), (1, 1, 4));
    }

    #[test]
    fn contended_seats_are_consecutive() {
        let p = plan(vec![
            seat(0, 0),
            seat(0, 2),
            seat(0, 3),
            seat(1, 0),
            seat(1, 1),
            seat(1, 2),
        ]);
        let s = contended_seats(&p, 3).expect("row 1");
        assert_eq!(
            s.iter().map(|s| s.key()).collect::<Vec<_>>(),
            vec![(1, 1, 0), (1, 1, 1), (1, 1, 2)]
        );
        assert!(contended_seats(&p, 4).is_none());
    }
}
