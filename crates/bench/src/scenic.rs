//! The 游宝星 scenic flow (`GET /ybx/<Page>.aspx`, XML answers): signed calls as an agent, the
//! read workloads (GetProducts, GetProductsInventory), the booking workload (OrderAndPayWithYDJ
//! of one unit for tomorrow, paid from the agent's deposit), the check that the quota and the
//! time segments used match the bookings made (and that a sample of them is found by
//! QueryOrder), and the oversell check on a small day quota.

use crate::api::Reply;
use crate::report::{Row, Samples};
use crate::workload::{run_workers, Check, ErrorLog};
use anyhow::{anyhow, bail, Context};
use boxoffice_ybx::crypto::{md5_upper, sign, triple_des};
use chrono::{Duration as Days, NaiveDate};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `GetProducts.aspx`.
pub const GET_PRODUCTS: &str = "GetProducts.aspx";
/// `GetProductsInventory.aspx`.
pub const GET_INVENTORY: &str = "GetProductsInventory.aspx";
/// `GetTimeSegment.aspx`.
const GET_TIME_SEGMENT: &str = "GetTimeSegment.aspx";
/// `OrderAndPayWithYDJ.aspx`.
const ORDER_AND_PAY: &str = "OrderAndPayWithYDJ.aspx";
/// `QueryOrder.aspx`.
const QUERY_ORDER: &str = "QueryOrder.aspx";
/// Days (from tomorrow) a GetProductsInventory read covers.
pub const INVENTORY_DAYS: i64 = 7;
/// The venue-local UTC offset of the server (the default), in seconds; scenic days run from
/// midnight to midnight there.
const OFFSET_SECS: i64 = 8 * 3600;
/// `retcode` of a booking refused by a full day quota.
pub const QUOTA_FULL: i64 = -10361;
/// `retcode` of a booking refused by a short deposit.
const DEPOSIT_SHORT: i64 = -2097;
/// The mobile number and ID number the bookings send.
const MOBILE: &str = "13800138000";
const ID_NUMBER: &str = "430103198001010011";
/// The order state of a booking paid and delivered at once (`3`).
const DELIVERED: &str = "3";

/// A 游宝星 agent of the server under test and the products to sell.
#[derive(Debug, Clone)]
pub struct YbxTarget {
    /// Base URL without a trailing slash.
    pub base: String,
    /// `user`.
    pub user: String,
    /// Data key.
    pub key: String,
    /// Login password (plain).
    pub password: String,
    /// Payment password (plain).
    pub pay_password: String,
    /// The product with a day quota that the booking workload sells.
    pub quota_product: String,
    /// A product without a quota, also booked (`None`: not booked).
    pub open_product: Option<String>,
    /// The product whose remaining day quota the oversell check races for (`None`: no check).
    pub contention_product: Option<String>,
}

impl YbxTarget {
    /// A fresh client (its own keep-alive connection).
    pub fn client(&self) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(4)
            .timeout(Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        Ok(Client {
            base: format!("{}/ybx/", self.base.trim_end_matches('/')),
            user: self.user.clone(),
            key: self.key.clone(),
            password: triple_des(&md5_upper(&self.password), &self.key),
            http,
        })
    }
}

/// A client of one agent, adding COMMON (user, password, sign_type, sign) to every call.
#[derive(Clone)]
pub struct Client {
    base: String,
    user: String,
    key: String,
    /// `TripleDes(UPPER(MD5(login password)), KEY)`.
    password: String,
    http: reqwest::Client,
}

impl Client {
    /// `TripleDes(value, KEY)`.
    pub fn enc(&self, value: &str) -> String {
        triple_des(value, &self.key)
    }

    /// `GET /ybx/<page>` with `params` and COMMON, signed.
    pub async fn call(&self, page: &str, params: &[(&str, &str)]) -> anyhow::Result<Reply> {
        let mut all: Vec<(&str, &str)> = Vec::with_capacity(params.len() + 4);
        all.extend_from_slice(params);
        all.push(("user", self.user.as_str()));
        all.push(("password", self.password.as_str()));
        all.push(("sign_type", "MD5"));
        let signature = sign(&all, &self.key);
        all.push(("sign", signature.as_str()));
        let resp = self
            .http
            .get(format!("{}{page}", self.base))
            .query(&all)
            .send()
            .await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await?;
        Ok(Reply { status, body })
    }

    /// A call that must answer `retcode` 0: the body as text.
    pub async fn call_ok(&self, page: &str, params: &[(&str, &str)]) -> anyhow::Result<String> {
        let reply = self.call(page, params).await?;
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        if reply.status != 200 || retcode(&text) != Some(0) {
            bail!("{page} {params:?}: HTTP {}: {}", reply.status, reply.text());
        }
        Ok(text)
    }
}

/// The text of every `<name>` element, in order (unescaped).
pub fn tags(body: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(
            after[..j]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        );
        rest = &after[j + close.len()..];
    }
    out
}

/// The text of the first `<name>` element.
pub fn tag(body: &str, name: &str) -> Option<String> {
    tags(body, name).into_iter().next()
}

/// `retcode` of an answer.
pub fn retcode(body: &str) -> Option<i64> {
    tag(body, "retcode").and_then(|c| c.trim().parse().ok())
}

/// Whether an answer body reports success, found without parsing it.
pub fn success_fast(body: &[u8]) -> bool {
    const OK: &[u8] = b"<retcode>0</retcode>";
    body.windows(OK.len()).any(|w| w == OK)
}

/// Tomorrow at the server's offset (+08:00), the visit date of every booking.
pub fn tomorrow() -> NaiveDate {
    let now = chrono::Utc::now() + Days::seconds(OFFSET_SECS);
    now.date_naive() + Days::days(1)
}

/// `yyyyMMdd`.
fn ymd(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// Units left of a product with a day quota, from GetProductsInventory's `quantity` (sold out
/// is `-1`, or `0` in the v3 convention).
fn remaining(quantity: i64) -> i64 {
    quantity.max(0)
}

/// The quota and segment usage of the visit date at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// `quantity` of each product for the visit date (GetProductsInventory).
    pub quantity: HashMap<String, i64>,
    /// `UsedCount` summed over every time segment of every line for the visit date
    /// (GetTimeSegment).
    pub segments_used: i64,
}

/// Reads the quantities of `products` and the segment usage on `date`.
pub async fn snapshot(
    client: &Client,
    date: NaiveDate,
    products: &[&str],
) -> anyhow::Result<Snapshot> {
    let day = ymd(date);
    let mut quantity = HashMap::new();
    for p in products {
        let body = client
            .call_ok(
                GET_INVENTORY,
                &[
                    ("startdate", day.as_str()),
                    ("enddate", day.as_str()),
                    ("productid", *p),
                ],
            )
            .await?;
        let q = tag(&body, "quantity")
            .and_then(|q| q.trim().parse::<i64>().ok())
            .ok_or_else(|| anyhow!("{GET_INVENTORY} of {p} on {day}: no quantity: {body}"))?;
        quantity.insert(p.to_string(), q);
    }
    let body = client
        .call_ok(
            GET_TIME_SEGMENT,
            &[("startdate", day.as_str()), ("enddate", day.as_str())],
        )
        .await?;
    let segments_used = tags(&body, "UsedCount")
        .iter()
        .map(|u| u.trim().parse::<i64>().unwrap_or(0))
        .sum();
    Ok(Snapshot {
        quantity,
        segments_used,
    })
}

/// What the 游宝星 workloads need, found through the 游宝星 pages themselves.
#[derive(Debug)]
pub struct YbxSetup {
    /// The visit date of every booking (tomorrow at +08:00).
    pub date: NaiveDate,
    /// The agent's price of each product to book, as the wire's `money` of one unit.
    pub money: HashMap<String, String>,
    /// Parameters of the GetProductsInventory reads (every product, `INVENTORY_DAYS` days).
    pub inventory_read: Vec<(String, String)>,
    /// Usage before the booking workloads.
    pub before: Snapshot,
    /// What discovery found, for the report.
    pub lines: Vec<String>,
}

/// Lists the agent's products (GetProducts), checks that the products to book are among them
/// and reads their prices, and takes the usage snapshot the booking check compares with.
pub async fn discover(target: &YbxTarget) -> anyhow::Result<YbxSetup> {
    let client = target.client()?;
    let body = client.call_ok(GET_PRODUCTS, &[]).await?;
    let ids = tags(&body, "productid");
    let prices = tags(&body, "price");
    if ids.len() != prices.len() || ids.is_empty() {
        bail!("{GET_PRODUCTS}: products and prices do not pair up: {body}");
    }
    let listed: HashMap<String, String> = ids
        .iter()
        .map(|i| i.to_ascii_uppercase())
        .zip(prices)
        .collect();
    let mut money = HashMap::new();
    for p in std::iter::once(&target.quota_product)
        .chain(&target.open_product)
        .chain(&target.contention_product)
    {
        let price = listed.get(&p.to_ascii_uppercase()).ok_or_else(|| {
            anyhow!(
                "{GET_PRODUCTS} of agent {} does not list product {p}",
                target.user
            )
        })?;
        money.insert(p.clone(), price.clone());
    }
    let date = tomorrow();
    let before = snapshot(&client, date, &[target.quota_product.as_str()]).await?;
    let quota_left = before.quantity[&target.quota_product];
    if quota_left == 0 {
        bail!(
            "{GET_INVENTORY}: product {} has no day quota on {} (quantity 0: unlimited); the booking check needs one",
            target.quota_product,
            ymd(date)
        );
    }
    let inventory_read = vec![
        ("startdate".to_string(), ymd(date)),
        (
            "enddate".to_string(),
            ymd(date + Days::days(INVENTORY_DAYS - 1)),
        ),
    ];
    let lines = vec![format!(
        "ybx: agent {} sells {} products; visit date {}; product {} has {} units of its day quota left, the time segments have {} units used",
        target.user,
        listed.len(),
        ymd(date),
        target.quota_product,
        remaining(quota_left),
        before.segments_used
    )];
    Ok(YbxSetup {
        date,
        money,
        inventory_read,
        before,
        lines,
    })
}

/// A read workload: `page` with `params` by `workers` workers for `duration`.
pub async fn reads(
    target: &YbxTarget,
    page: &'static str,
    label: &str,
    params: &[(String, String)],
    workers: usize,
    duration: Duration,
    log: Arc<ErrorLog>,
) -> anyhow::Result<Row> {
    let params = Arc::new(params.to_vec());
    let (results, elapsed) = run_workers(workers, |_, barrier| {
        let client = target.client();
        let params = params.clone();
        let log = log.clone();
        async move {
            let client = client?;
            let refs: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let mut s = Samples::default();
            barrier.wait().await;
            let deadline = Instant::now() + duration;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                match client.call(page, &refs).await {
                    Ok(r) if r.status == 200 && success_fast(&r.body) => s.ok(t0.elapsed()),
                    Ok(r) => {
                        s.errors += 1;
                        log.error(|| format!("{page} {refs:?}: HTTP {}: {}", r.status, r.text()));
                    }
                    Err(e) => {
                        s.errors += 1;
                        log.error(|| format!("{page}: {e:#}"));
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
    Ok(Row::new(label, workers, all, elapsed))
}

/// Why a booking workload stopped before its time was up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhausted {
    /// The product's (or the supplier's) day quota was used up (`-10361`).
    Quota,
    /// Every time segment of the line was full.
    Segments,
    /// The agent's deposit ran short (`-2097`).
    Deposit,
}

impl Exhausted {
    fn describe(self) -> &'static str {
        match self {
            Exhausted::Quota => "day quota used up",
            Exhausted::Segments => "time segments full",
            Exhausted::Deposit => "deposit used up",
        }
    }
}

/// One successful OrderAndPayWithYDJ.
#[derive(Debug, Clone)]
pub struct Booked {
    /// `Order_id`.
    pub order: String,
    /// Our `XCDDH`.
    pub xcddh: String,
    /// The product booked.
    pub product: String,
    /// `status` of the answer.
    pub status: String,
}

/// What one level of a booking workload did.
#[derive(Debug)]
pub struct BookingOutcome {
    /// The row.
    pub row: Row,
    /// Every successful booking.
    pub booked: Vec<Booked>,
    /// Why the workers stopped early, if they did.
    pub exhausted: Option<Exhausted>,
}

/// The parameters of a one-unit OrderAndPayWithYDJ of `product` for `date`, except `XCDDH`.
fn order_params(
    client: &Client,
    pay_password: &str,
    product: &str,
    money: &str,
    date: NaiveDate,
) -> Vec<(&'static str, String)> {
    vec![
        ("Order_list", format!("{product}|1")),
        ("mobile", client.enc(MOBILE)),
        ("ID", client.enc(ID_NUMBER)),
        ("SXRQ", client.enc(&ymd(date))),
        ("timespanindex", "-1".to_string()),
        ("SmsCode", client.enc(&md5_upper(pay_password))),
        ("money", money.to_string()),
        ("smsModel", "A".to_string()),
    ]
}

/// How an OrderAndPayWithYDJ answered.
enum Answered {
    Booked { order: String, status: String },
    Refused(Exhausted),
    Failed(String),
}

async fn order_and_pay(client: &Client, fixed: &[(&'static str, String)], xcddh: &str) -> Answered {
    let enc = client.enc(xcddh);
    let mut params: Vec<(&str, &str)> = fixed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    params.push(("XCDDH", enc.as_str()));
    let reply = match client.call(ORDER_AND_PAY, &params).await {
        Ok(r) => r,
        Err(e) => return Answered::Failed(format!("{e:#}")),
    };
    let text = String::from_utf8_lossy(&reply.body);
    let code = retcode(&text);
    match code {
        Some(0) if reply.status == 200 => match tag(&text, "Order_id") {
            Some(order) if !order.is_empty() => Answered::Booked {
                order,
                status: tag(&text, "status").unwrap_or_default(),
            },
            _ => Answered::Failed(format!("no Order_id: {}", reply.text())),
        },
        Some(QUOTA_FULL) => Answered::Refused(Exhausted::Quota),
        Some(DEPOSIT_SHORT) => Answered::Refused(Exhausted::Deposit),
        Some(-1) if tag(&text, "retmsg").as_deref() == Some(boxoffice_ybx::codes::SEGMENT_FULL) => {
            Answered::Refused(Exhausted::Segments)
        }
        _ => Answered::Failed(format!("HTTP {}: {}", reply.status, reply.text())),
    }
}

/// Bookings of one unit of `product` (OrderAndPayWithYDJ, paid from the deposit, segment `-1`:
/// the earliest with room) for tomorrow by `workers` workers for `duration`, each with its own
/// `XCDDH`. A refusal for a full quota, full segments or a short deposit stops the worker (the
/// stock is used up) and is not counted as an error.
#[allow(clippy::too_many_arguments)]
pub async fn bookings(
    target: &YbxTarget,
    setup: &YbxSetup,
    product: &str,
    label: &str,
    run: &str,
    counter: Arc<AtomicUsize>,
    workers: usize,
    duration: Duration,
    log: Arc<ErrorLog>,
) -> anyhow::Result<BookingOutcome> {
    let money = setup
        .money
        .get(product)
        .cloned()
        .ok_or_else(|| anyhow!("no price for product {product}"))?;
    let date = setup.date;
    let product: Arc<str> = Arc::from(product);
    let run: Arc<str> = Arc::from(run);
    let (results, elapsed) = run_workers(workers, |_, barrier| {
        let client = target.client();
        let log = log.clone();
        let counter = counter.clone();
        let product = product.clone();
        let run = run.clone();
        let money = money.clone();
        let pay = target.pay_password.clone();
        async move {
            let client = client?;
            let fixed = order_params(&client, &pay, &product, &money, date);
            let mut s = Samples::default();
            let mut booked = Vec::new();
            let mut exhausted = None;
            barrier.wait().await;
            let deadline = Instant::now() + duration;
            while Instant::now() < deadline {
                let xcddh = format!("{run}-{}", counter.fetch_add(1, Ordering::Relaxed));
                let t0 = Instant::now();
                match order_and_pay(&client, &fixed, &xcddh).await {
                    Answered::Booked { order, status } => {
                        s.ok(t0.elapsed());
                        booked.push(Booked {
                            order,
                            xcddh,
                            product: product.to_string(),
                            status,
                        });
                    }
                    Answered::Refused(why) => {
                        exhausted = Some(why);
                        break;
                    }
                    Answered::Failed(e) => {
                        s.errors += 1;
                        log.error(|| format!("{ORDER_AND_PAY} {xcddh} ({product}): {e}"));
                    }
                }
            }
            anyhow::Ok((s, booked, exhausted))
        }
    })
    .await?;
    let mut all = Samples::default();
    let mut booked = Vec::new();
    let mut exhausted = None;
    for (s, b, e) in results {
        all.merge(s);
        booked.extend(b);
        exhausted = exhausted.or(e);
    }
    let mut row = Row::new(label, workers, all, elapsed);
    if let Some(e) = exhausted {
        row.workload.push_str(&format!(" — {}", e.describe()));
    }
    Ok(BookingOutcome {
        row,
        booked,
        exhausted,
    })
}

/// Checks the bookings against the server: order numbers are distinct; the quota product's
/// remaining day quota fell by exactly the units booked of it; the time segments' usage rose by
/// exactly the units booked; a sample of the orders is found by QueryOrder delivered (state `3`)
/// with its product and one unit.
pub async fn verify(
    target: &YbxTarget,
    setup: &YbxSetup,
    booked: &[Booked],
    sample: usize,
) -> anyhow::Result<Check> {
    let client = target.client()?;
    let mut check = Check::default();
    let distinct: BTreeSet<&str> = booked.iter().map(|b| b.order.as_str()).collect();
    if distinct.len() != booked.len() {
        check.problems.push(format!(
            "{} successful OrderAndPayWithYDJ but only {} distinct Order_ids",
            booked.len(),
            distinct.len()
        ));
    }
    let not_delivered: Vec<&Booked> = booked.iter().filter(|b| b.status != DELIVERED).collect();
    if let Some(b) = not_delivered.first() {
        check.problems.push(format!(
            "{} bookings answered a state other than {DELIVERED} (first: order {} state {:?})",
            not_delivered.len(),
            b.order,
            b.status
        ));
    }
    let after = snapshot(&client, setup.date, &[target.quota_product.as_str()]).await?;
    let quota_sold = booked
        .iter()
        .filter(|b| b.product == target.quota_product)
        .count() as i64;
    let left_before = remaining(setup.before.quantity[&target.quota_product]);
    let left_after = remaining(after.quantity[&target.quota_product]);
    check.lines.push(format!(
        "ybx bookings: {} OrderAndPayWithYDJ successes ({quota_sold} of the quota product), {} distinct Order_ids; quota product {}: {left_before} units left before, {left_after} after (used {}, booked {quota_sold})",
        booked.len(),
        distinct.len(),
        target.quota_product,
        left_before - left_after
    ));
    if left_before - left_after != quota_sold {
        check.problems.push(format!(
            "GetProductsInventory: the quota of {} fell by {} units but {quota_sold} were booked",
            target.quota_product,
            left_before - left_after
        ));
    }
    let segments = after.segments_used - setup.before.segments_used;
    check.lines.push(format!(
        "ybx time segments: {segments} more units used, {} booked",
        booked.len()
    ));
    if segments != booked.len() as i64 {
        check.problems.push(format!(
            "GetTimeSegment: {segments} more segment units used but {} bookings of one unit succeeded",
            booked.len()
        ));
    }
    let n = booked.len().min(sample);
    let mut found = 0;
    for k in 0..n {
        let b = &booked[k * booked.len() / n];
        let body = client
            .call(QUERY_ORDER, &[("order_id", b.order.as_str())])
            .await?;
        let text = String::from_utf8_lossy(&body.body);
        let ok = retcode(&text) == Some(0)
            && tag(&text, "orderstatus").as_deref() == Some(DELIVERED)
            && tag(&text, "productid").is_some_and(|p| p.eq_ignore_ascii_case(&b.product))
            && tag(&text, "num").as_deref() == Some("1");
        if ok {
            found += 1;
        } else {
            check.problems.push(format!(
                "QueryOrder {} (XCDDH {}): {}",
                b.order,
                b.xcddh,
                body.text()
            ));
        }
    }
    check.lines.push(format!(
        "ybx orders: {found} of {n} sampled found by QueryOrder in state {DELIVERED}"
    ));
    Ok(check)
}

/// The oversell check: `workers` workers race OrderAndPayWithYDJ of one unit of the contention
/// product for `duration` (distinct `XCDDH`s); exactly the units its day quota had left must
/// succeed and every other attempt must be refused with `-10361`; afterwards the product is sold
/// out and the time segments gained exactly the units sold.
pub async fn contention(
    target: &YbxTarget,
    setup: &YbxSetup,
    workers: usize,
    duration: Duration,
    run: &str,
    log: Arc<ErrorLog>,
) -> anyhow::Result<(Row, Check)> {
    let product = target
        .contention_product
        .clone()
        .context("no contention product")?;
    let money = setup
        .money
        .get(&product)
        .cloned()
        .ok_or_else(|| anyhow!("no price for product {product}"))?;
    let client = target.client()?;
    let before = snapshot(&client, setup.date, &[product.as_str()]).await?;
    let left = before.quantity[&product];
    if left == 0 {
        bail!(
            "{GET_INVENTORY}: the contention product {product} has no day quota on {}",
            ymd(setup.date)
        );
    }
    let expected = remaining(left);
    let date = setup.date;
    let counter = Arc::new(AtomicUsize::new(0));
    let product_arc: Arc<str> = Arc::from(product.as_str());
    let run: Arc<str> = Arc::from(run);
    let (results, elapsed) = run_workers(workers, |_, barrier| {
        let client = target.client();
        let log = log.clone();
        let counter = counter.clone();
        let product = product_arc.clone();
        let run = run.clone();
        let money = money.clone();
        let pay = target.pay_password.clone();
        async move {
            let client = client?;
            let fixed = order_params(&client, &pay, &product, &money, date);
            let mut s = Samples::default();
            let mut sold = Vec::new();
            let mut refused = 0u64;
            let mut other = 0u64;
            barrier.wait().await;
            let deadline = Instant::now() + duration;
            while Instant::now() < deadline {
                let xcddh = format!("{run}-{}", counter.fetch_add(1, Ordering::Relaxed));
                let t0 = Instant::now();
                match order_and_pay(&client, &fixed, &xcddh).await {
                    Answered::Booked { order, status } => {
                        s.ok(t0.elapsed());
                        sold.push(Booked {
                            order,
                            xcddh,
                            product: product.to_string(),
                            status,
                        });
                    }
                    Answered::Refused(Exhausted::Quota) => {
                        s.ok(t0.elapsed());
                        refused += 1;
                    }
                    Answered::Refused(why) => {
                        s.errors += 1;
                        other += 1;
                        log.error(|| {
                            format!("{ORDER_AND_PAY} {xcddh}: refused: {}", why.describe())
                        });
                    }
                    Answered::Failed(e) => {
                        s.errors += 1;
                        other += 1;
                        log.error(|| format!("{ORDER_AND_PAY} {xcddh}: {e}"));
                    }
                }
            }
            anyhow::Ok((s, sold, refused, other))
        }
    })
    .await?;
    let mut all = Samples::default();
    let mut sold: Vec<Booked> = Vec::new();
    let (mut refused, mut other) = (0u64, 0u64);
    for (s, b, r, o) in results {
        all.merge(s);
        sold.extend(b);
        refused += r;
        other += o;
    }
    let attempts = all.micros.len() as u64 + all.errors;
    let after = snapshot(&client, date, &[product.as_str()]).await?;
    let left_after = remaining(after.quantity[&product]);
    let segments = after.segments_used - before.segments_used;
    let distinct: BTreeSet<&str> = sold.iter().map(|b| b.order.as_str()).collect();
    let mut check = Check::default();
    check.lines.push(format!(
        "ybx contention: {workers} workers on product {product} with {expected} units of its day quota left: {attempts} attempts, {} sold ({} distinct Order_ids), {refused} refused with {QUOTA_FULL}, {other} other answers; {left_after} units left after, time segments +{segments}",
        sold.len(),
        distinct.len()
    ));
    check.lines.push(format!(
        "ybx oversold: {}",
        (sold.len() as i64 - expected).max(0)
    ));
    if sold.len() as i64 != expected {
        check.problems.push(format!(
            "ybx contention: {} bookings succeeded on a quota with {expected} units left",
            sold.len()
        ));
    }
    if other != 0 {
        check.problems.push(format!(
            "ybx contention: {other} attempts answered neither success nor {QUOTA_FULL}"
        ));
    }
    if distinct.len() != sold.len() {
        check.problems.push(format!(
            "ybx contention: {} sold under {} distinct Order_ids",
            sold.len(),
            distinct.len()
        ));
    }
    if left_after != 0 {
        check.problems.push(format!(
            "ybx contention: GetProductsInventory shows {left_after} units left after the race"
        ));
    }
    if segments != sold.len() as i64 {
        check.problems.push(format!(
            "ybx contention: the time segments gained {segments} units but {} were sold",
            sold.len()
        ));
    }
    let row = Row::new(
        &format!("ybx contention: OrderAndPayWithYDJ on a {expected}-unit day quota"),
        workers,
        all,
        elapsed,
    );
    Ok((row, check))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tags_and_codes() {
        let body =
            "<?xml version=\"1.0\"?><root><retcode>-10361</retcode><retmsg>a&amp;b</retmsg><sign/>\
                    <Item><quantity>5</quantity></Item><Item><quantity>-1</quantity></Item></root>";
        assert_eq!(retcode(body), Some(QUOTA_FULL));
        assert_eq!(tag(body, "retmsg").as_deref(), Some("a&b"));
        assert_eq!(tags(body, "quantity"), vec!["5", "-1"]);
        assert!(!success_fast(body.as_bytes()));
        assert!(success_fast(b"<root><retcode>0</retcode></root>"));
        assert_eq!(remaining(-1), 0);
        assert_eq!(remaining(7), 7);
    }

    #[test]
    fn tomorrow_is_a_plausible_date() {
        assert!(tomorrow() > NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"));
    }
}
