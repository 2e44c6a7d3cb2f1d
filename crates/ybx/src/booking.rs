//! Booking pages: OrderProducts (4.2.4), OrderAndPayWithYDJ (4.2.37), OrderAndPayWithFK
//! (4.2.46) and CancelOrder (4.2.15).
//!
//! A booking is validated in the documented order (parameters, product list, products,
//! quantities, pick-up ID, dates, real-name list, segment, daily maximum), then created in ONE
//! store transaction that claims live identity numbers, day quotas (product, supplier, agent,
//! per ID) and the time segment, debits or holds the agent's account, issues tickets and queues
//! callbacks and messages — or changes nothing.

use crate::codes;
use crate::route::{failure, Ctx};
use crate::xml::{money, ymdhms, Answer, Xml};
use crate::PROTOCOL;
use boxoffice_core::clock::{from_millis, local};
use boxoffice_core::scenic::{
    AccountMove, Message, NewVisitOrder, OutboxEvent, PayMethod, Person, Product, Ticketing,
    VisitChange, VisitDetail, VisitEffects, VisitItem, VisitOrder, VisitOutcome, VisitRefusal,
    VisitState, VisitTicket,
};
use boxoffice_core::store::{QuotaClaim, QuotaKey};
use chrono::{Duration, NaiveDate, NaiveTime};
use rand::Rng;

/// Which agent account pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    /// 预订金 (deposit).
    Deposit,
    /// 返款 (rebate).
    Rebate,
}

impl Account {
    fn name(self) -> &'static str {
        match self {
            Account::Deposit => "deposit",
            Account::Rebate => "rebate",
        }
    }
}

/// The wire code of an order state (catalogue §1.6).
pub fn state_code(s: VisitState) -> &'static str {
    match s {
        VisitState::Booked => "0",
        VisitState::DepositAuthorized => "2",
        VisitState::Delivered => "3",
        VisitState::Closed => "4",
        VisitState::PaidUnapproved => "5",
        VisitState::Paid => "6",
        VisitState::RefundRequested => "7",
        VisitState::RefundApproved => "8",
        VisitState::PaymentRejected => "9",
        VisitState::RefundRejected => "A",
        VisitState::Refunded => "B",
        VisitState::RebateAuthorized => "C",
        VisitState::DeliveredRebate => "D",
        VisitState::DeliveredCounter => "X",
    }
}

/// A validated booking request.
struct Draft {
    items: Vec<(Product, VisitItem)>,
    persons: Vec<Person>,
    mobile: String,
    id_number: String,
    visit_date: NaiveDate,
    invoice: bool,
    invoice_title: String,
    line: Option<String>,
    /// Explicit segment, or `None` with `auto_segment` for `-1`.
    segment: Option<i32>,
    auto_segment: bool,
    total: i64,
}

impl Draft {
    fn units(&self) -> i64 {
        self.items.iter().map(|(_, i)| i.count).sum()
    }
}

type Reject = Answer;

fn param_error() -> Reject {
    Answer::err(-1501, codes::PARAM_ERROR)
}

/// `productId|qty|productId|qty…` (catalogue §4.1).
fn parse_order_list(text: &str) -> Result<Vec<(String, i64)>, Reject> {
    let mut tokens: Vec<&str> = text.split('|').map(str::trim).collect();
    if tokens.last() == Some(&"") {
        tokens.pop();
    }
    if tokens.iter().all(|t| t.is_empty()) {
        return Err(Answer::err(-1, codes::ORDER_LIST_EMPTY));
    }
    if tokens.chunks(2).any(|pair| pair.len() != 2) {
        return Err(Answer::err(-1, codes::ORDER_LIST_PAIRS));
    }
    let mut out: Vec<(String, i64)> = Vec::new();
    for pair in tokens.chunks(2) {
        let (id, qty) = (pair[0], pair[1]);
        let qty: i64 = match qty.parse() {
            Ok(q) if q > 0 && !id.is_empty() => q,
            _ => return Err(Answer::err(-1, codes::ORDER_LIST_PAIRS)),
        };
        if out.iter().any(|(p, _)| p.eq_ignore_ascii_case(id)) {
            return Err(Answer::err(-1, codes::ORDER_LIST_PAIRS));
        }
        out.push((id.to_string(), qty));
    }
    Ok(out)
}

/// Whether a resident ID number has the shape of one: 18 characters (17 digits and a digit or
/// `X`) or 15 digits. The GB 11643 check digit is not enforced: the document's own examples
/// (`430103198001010011`) do not carry a valid one, and partners test with them.
pub fn resident_id_ok(id: &str) -> bool {
    let b = id.as_bytes();
    match b.len() {
        15 => b.iter().all(u8::is_ascii_digit),
        18 => {
            b[..17].iter().all(u8::is_ascii_digit)
                && (b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
        }
        _ => false,
    }
}

fn parse_memo(text: &str, products: usize) -> Result<Vec<Person>, Reject> {
    let mut out = Vec::new();
    for entry in text.split('|').map(str::trim).filter(|e| !e.is_empty()) {
        let f: Vec<&str> = entry.split('^').map(str::trim).collect();
        if f.len() != 5 || f[0].is_empty() || f[0].len() > 20 {
            return Err(param_error());
        }
        let index: usize = match f[3].parse() {
            Ok(i) if i >= 1 && i <= products => i,
            _ => return Err(param_error()),
        };
        let id_type: i32 = match f[4].parse() {
            Ok(t) if (1..=4).contains(&t) => t,
            _ => return Err(param_error()),
        };
        if id_type == 1 && !resident_id_ok(f[0]) {
            return Err(Answer::err(
                -1,
                codes::bad_pickup_id(f[0], "身份证号码格式不正确"),
            ));
        }
        out.push(Person {
            id_number: f[0].to_ascii_uppercase(),
            name: f[1].to_string(),
            mobile: f[2].to_string(),
            item: index - 1,
            id_type,
        });
    }
    Ok(out)
}

fn decrypt_required(cx: &Ctx, name: &str) -> Result<String, Reject> {
    match cx.decrypt(name)? {
        Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        _ => Err(param_error()),
    }
}

/// Validates the booking fields shared by the three booking pages.
fn draft(cx: &Ctx) -> Result<Draft, Reject> {
    let p = &cx.params;
    if !p.has("order_list") || !p.has("mobile") || !p.has("id") || !p.has("sxrq") {
        return Err(param_error());
    }
    let mobile = decrypt_required(cx, "mobile")?;
    let id_number = decrypt_required(cx, "id")?;
    let sxrq = decrypt_required(cx, "sxrq")?;
    let invoice_title = cx.decrypt("invoicetitle")?.unwrap_or_default();
    let memo = cx.decrypt("memo")?.unwrap_or_default();
    let invoice = match p.text("needinvoice") {
        "" | "0" => false,
        "1" => true,
        _ => return Err(param_error()),
    };
    let id_count: usize = match p.text("idcount") {
        "" => 0,
        n => n.parse().map_err(|_| param_error())?,
    };
    if mobile.chars().count() > 20 || invoice_title.chars().count() > 100 {
        return Err(param_error());
    }
    let list = parse_order_list(p.text("order_list"))?;
    let scenic = cx.venue.scenic.clone().unwrap_or_default();
    let mut items: Vec<(Product, VisitItem)> = Vec::new();
    for (id, qty) in &list {
        let Some(product) = cx.venue.product(id) else {
            return Err(Answer::err(-1, codes::PRODUCT_UNKNOWN));
        };
        if !product.enabled || !cx.agent.sells(&product.id) {
            return Err(Answer::err(-1, codes::PRODUCT_NOT_ALLOWED));
        }
        items.push((
            product.clone(),
            VisitItem {
                product: product.id.clone(),
                name: product.name.clone(),
                unit: product.unit.clone(),
                count: *qty,
                free: 0,
                unit_price: cx.agent.price(product),
            },
        ));
    }
    if scenic.single_product_per_order && items.len() > 1 {
        return Err(Answer::err(-1, codes::SINGLE_PRODUCT));
    }
    let bad_qty: Vec<String> = items
        .iter()
        .filter(|(p, i)| i.count < p.min_per_order || i.count > p.max_per_order)
        .map(|(p, _)| {
            format!(
                "{}|单笔数量须在{}至{}之间",
                p.id, p.min_per_order, p.max_per_order
            )
        })
        .collect();
    if !bad_qty.is_empty() {
        return Err(Answer::err(-1501, bad_qty.join("|")));
    }
    if id_number.len() > 20 || !id_number.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Answer::err(
            -1,
            codes::bad_pickup_id(&id_number, "证件号码格式不正确"),
        ));
    }
    let visit_date = NaiveDate::parse_from_str(&sxrq, "%Y%m%d")
        .ok()
        .filter(|_| sxrq.len() == 8)
        .ok_or_else(param_error)?;
    let today = cx.today();
    if visit_date < today {
        return Err(Answer::err(-1, codes::DATE_PAST));
    }
    if items
        .iter()
        .any(|(p, _)| visit_date < today + Duration::days(p.lead_days.max(0)))
    {
        return Err(Answer::err(-1, codes::DATE_TOO_SOON));
    }
    if items.iter().any(|(p, _)| !p.sells_on(visit_date)) {
        return Err(Answer::err(-1, codes::DATE_OUTSIDE));
    }
    let persons = parse_memo(&memo, items.len())?;
    if id_count > 0 && persons.len() != id_count {
        return Err(Answer::err(-1, codes::MEMO_COUNT));
    }
    for (index, (product, item)) in items.iter().enumerate() {
        let named = persons.iter().filter(|x| x.item == index).count() as i64;
        if named > item.count {
            return Err(Answer::err(-1, codes::MEMO_TOO_MANY));
        }
        if product.real_name && named != item.count {
            return Err(Answer::err(-1, codes::MEMO_MISSING));
        }
    }
    let mut ids: Vec<&str> = persons.iter().map(|x| x.id_number.as_str()).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(Answer::err(-1, codes::MEMO_DUPLICATE));
    }
    let (line, segment, auto_segment) = if scenic.segmented {
        let index: i32 = match p.text("timespanindex") {
            "" => return Err(param_error()),
            t => t.parse().map_err(|_| param_error())?,
        };
        let code = p.text("servicecode");
        let line = cx
            .venue
            .lines
            .iter()
            .find(|l| {
                (code.is_empty() || l.code == code)
                    && items.iter().all(|(pr, _)| pr.lines.contains(&l.code))
            })
            .ok_or_else(|| Answer::err(-1, codes::SEGMENT_MISSING))?;
        if index == -1 {
            (Some(line.code.clone()), None, true)
        } else {
            let seg = line
                .segments
                .iter()
                .find(|s| s.index == index)
                .ok_or_else(|| Answer::err(-1, codes::SEGMENT_MISSING))?;
            if visit_date == today && segment_over(&seg.end, cx) {
                return Err(Answer::err(-1, codes::SEGMENT_MISSING));
            }
            (Some(line.code.clone()), Some(index), false)
        }
    } else {
        (None, None, false)
    };
    if items
        .iter()
        .any(|(p, _)| p.inventory && p.daily_max.is_none())
    {
        return Err(Answer::err(-1502, codes::DAILY_MAX_UNSET));
    }
    for (product, item) in items.iter_mut() {
        if let Some(f) = &product.free {
            item.free = f.free_units(item.count, visit_date).min(item.count);
        }
    }
    let total = items.iter().map(|(_, i)| i.amount()).sum();
    Ok(Draft {
        items,
        persons,
        mobile,
        id_number,
        visit_date,
        invoice,
        invoice_title,
        line,
        segment,
        auto_segment,
        total,
    })
}

fn segment_over(end: &str, cx: &Ctx) -> bool {
    NaiveTime::parse_from_str(end, "%H:%M").is_ok_and(|t| cx.local_now().time() >= t)
}

fn date_key(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The claims of a booking: product and supplier day quotas, the agent's daily maximum, per-ID
/// limits, live identity numbers, and the segment (fixed or alternatives).
fn claims(cx: &Ctx, d: &Draft) -> VisitEffects {
    let venue = cx.venue.id;
    let date = date_key(d.visit_date);
    let key = |product: String, segment: i32| QuotaKey {
        venue_id: venue,
        product,
        date: date.clone(),
        segment,
    };
    let mut e = VisitEffects::default();
    let units = d.units();
    for (index, (product, item)) in d.items.iter().enumerate() {
        if product.inventory {
            if let Some(cap) = product.daily_max {
                e.quotas.push(QuotaClaim {
                    key: key(product.id.to_ascii_uppercase(), 0),
                    capacity: cap,
                    units: item.count,
                });
            }
        }
        if product.per_id_daily_max > 0 {
            let named: Vec<&Person> = d.persons.iter().filter(|x| x.item == index).collect();
            if named.is_empty() {
                e.quotas.push(QuotaClaim {
                    key: key(
                        format!("@id/{}/{}", product.id.to_ascii_uppercase(), d.id_number),
                        0,
                    ),
                    capacity: product.per_id_daily_max,
                    units: item.count,
                });
            }
            for person in named {
                e.quotas.push(QuotaClaim {
                    key: key(
                        format!(
                            "@id/{}/{}",
                            product.id.to_ascii_uppercase(),
                            person.id_number
                        ),
                        0,
                    ),
                    capacity: product.per_id_daily_max,
                    units: 1,
                });
            }
        }
    }
    if let Some(s) = &cx.venue.scenic {
        if s.daily_max > 0 {
            e.quotas.push(QuotaClaim {
                key: key("@venue".into(), 0),
                capacity: s.daily_max,
                units,
            });
        }
    }
    if cx.agent.daily_max > 0 {
        e.quotas.push(QuotaClaim {
            key: key(format!("@agent/{}", cx.agent.id()), 0),
            capacity: cx.agent.daily_max,
            units,
        });
    }
    e.live_ids = d.persons.iter().map(|x| x.id_number.clone()).collect();
    if let Some(code) = &d.line {
        let line = cx.venue.line(code);
        let segment_claim = |index: i32, capacity: i64| QuotaClaim {
            key: key(format!("@line/{code}"), index),
            capacity,
            units,
        };
        if let Some(index) = d.segment {
            if let Some(seg) = line.and_then(|l| l.segments.iter().find(|s| s.index == index)) {
                e.quotas.push(segment_claim(index, seg.capacity));
            }
        } else if d.auto_segment {
            let mut segs: Vec<_> = line.map(|l| l.segments.clone()).unwrap_or_default();
            segs.sort_by_key(|s| s.index);
            e.segment_options = segs
                .iter()
                .filter(|s| !(d.visit_date == cx.today() && segment_over(&s.end, cx)))
                .map(|s| (s.index, vec![segment_claim(s.index, s.capacity)]))
                .collect();
        }
    }
    e
}

/// The answer for a refused claim.
pub(crate) fn refusal_answer(r: &VisitRefusal, paying: bool, account: Option<Account>) -> Answer {
    match r {
        VisitRefusal::QuotaFull(k) if k.product.starts_with("@agent/") => Answer::err(
            -10362,
            if paying {
                codes::AGENT_DAILY_LIMIT_PAY
            } else {
                codes::AGENT_DAILY_LIMIT
            },
        ),
        VisitRefusal::QuotaFull(k) if k.product.starts_with("@id/") => {
            let id = k.product.rsplit('/').next().unwrap_or_default();
            Answer::err(-1, codes::bad_pickup_id(id, "超过单ID日最大购买限制"))
        }
        VisitRefusal::QuotaFull(k) if k.product.starts_with("@line/") => {
            Answer::err(-1, codes::SEGMENT_FULL)
        }
        VisitRefusal::QuotaFull(_) => Answer::err(-10361, codes::DAILY_LIMIT),
        VisitRefusal::NoSegment => Answer::err(-1, codes::SEGMENT_FULL),
        VisitRefusal::IdTaken(id) => Answer::err(-1, codes::id_taken(id)),
        VisitRefusal::Insufficient(_) => match account {
            Some(Account::Rebate) => Answer::err(-2197, codes::REBATE_SHORT),
            _ => Answer::err(-2097, codes::DEPOSIT_SHORT),
        },
        VisitRefusal::WrongState(_)
        | VisitRefusal::CodeRejected
        | VisitRefusal::PaymentSettled
        | VisitRefusal::TicketState(_)
        | VisitRefusal::Stale => Answer::err(-1, codes::OTHER_ERROR),
    }
}

fn new_external_ref() -> String {
    let n: u64 = rand::thread_rng().gen();
    format!("o:{n:016x}")
}

/// A new ticket code: 20 random digits, not starting with 0.
fn ticket_code() -> String {
    let mut rng = rand::thread_rng();
    let mut s = String::with_capacity(20);
    s.push(char::from(b'1' + rng.gen_range(0..9u8)));
    for _ in 0..19 {
        s.push(char::from(b'0' + rng.gen_range(0..10u8)));
    }
    s
}

/// Tickets of a delivery: one per person for one-person products (and for ID-card gates),
/// otherwise one per product line for the whole quantity (catalogue §1.14, §1.15).
pub fn issue_tickets(
    items: &[VisitItem],
    products: &[Product],
    persons: &[Person],
    date: NaiveDate,
    medium: i32,
) -> Vec<VisitTicket> {
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let named: Vec<&Person> = persons.iter().filter(|x| x.item == index).collect();
        let ticketing = products
            .iter()
            .find(|p| p.id.eq_ignore_ascii_case(&item.product))
            .map(|p| p.ticketing)
            .unwrap_or_default();
        let per_person = ticketing == Ticketing::OnePerson
            || medium == 1
            || (ticketing == Ticketing::Buyer && named.len() as i64 == item.count);
        if per_person {
            for n in 0..item.count {
                let person = named.get(n as usize);
                let free = n >= item.count - item.free;
                out.push(VisitTicket {
                    code: ticket_code(),
                    seq: out.len() as i64 + 1,
                    product: item.product.clone(),
                    person_count: 1,
                    free_count: i64::from(free),
                    price: if free { 0 } else { item.unit_price },
                    date,
                    medium,
                    status: 1,
                    name: person.map(|x| x.name.clone()).unwrap_or_default(),
                    id_number: person.map(|x| x.id_number.clone()).unwrap_or_default(),
                });
            }
        } else {
            out.push(VisitTicket {
                code: ticket_code(),
                seq: out.len() as i64 + 1,
                product: item.product.clone(),
                person_count: item.count,
                free_count: item.free,
                price: item.amount(),
                date,
                medium,
                status: 1,
                name: named.first().map(|x| x.name.clone()).unwrap_or_default(),
                id_number: named
                    .first()
                    .map(|x| x.id_number.clone())
                    .unwrap_or_default(),
            });
        }
    }
    out
}

/// An `order_changed` event (delivered as Notify_OrderChanged; the order number and sender id
/// are added at delivery).
fn order_changed(state: VisitState) -> OutboxEvent {
    OutboxEvent::order_changed(PROTOCOL, state)
}

/// Whether this order's changes are announced to the agent: only orders carrying the agent's
/// own reference (`senderid` / `XCDDH`, catalogue §1.16), and only while the agent has a
/// callback address (events queued before the address was cleared are dropped at sending).
pub(crate) fn announces(cx: &Ctx, sender_ref: &str) -> bool {
    !sender_ref.is_empty() && !cx.agent.response_addr.is_empty()
}

/// `成人票2张，实名票1张`: the lines of an order for a message.
pub(crate) fn item_summary(items: &[VisitItem]) -> String {
    items
        .iter()
        .map(|i| format!("{}{}{}", i.name, i.count, i.unit))
        .collect::<Vec<_>>()
        .join("，")
}

fn local_time(cx: &Ctx, ms: i64) -> String {
    ymdhms(local(from_millis(ms), cx.ybx.svc.settings().offset))
}

/// `OrderProducts.aspx` (4.2.4): a booking in state 0, to be paid later (at the counter, from
/// an account, or instantly). Agents without pay-at-counter rights have `paytimeout` minutes.
pub async fn order_products(cx: &Ctx) -> Answer {
    let d = match draft(cx) {
        Ok(d) => d,
        Err(a) => return a,
    };
    let scenic = cx.venue.scenic.clone().unwrap_or_default();
    let sender = cx.params.text("senderid").to_string();
    if sender.chars().count() > 36 {
        return param_error();
    }
    let mut effects = claims(cx, &d);
    if d.auto_segment && effects.segment_options.is_empty() {
        return Answer::err(-1, codes::SEGMENT_FULL);
    }
    if announces(cx, &sender) {
        effects.events.push(order_changed(VisitState::Booked));
    }
    effects.messages.push(Message {
        kind: "booking".into(),
        phone: d.mobile.clone(),
        text: format!(
            "【{}】您已预订{}入园的{}，订单号{{number}}，请按时完成支付。",
            cx.venue.name,
            d.visit_date.format("%Y-%m-%d"),
            item_summary(&d.items.iter().map(|(_, i)| i.clone()).collect::<Vec<_>>())
        ),
    });
    let pay_timeout = if cx.agent.allow_cash {
        0
    } else {
        scenic.pay_timeout_minutes.max(1)
    };
    let expires_ms = if pay_timeout > 0 {
        cx.now_ms + pay_timeout * 60_000
    } else {
        validity_end(cx, &d)
    };
    let order = NewVisitOrder {
        venue_id: cx.venue.id,
        partner_id: cx.agent.id(),
        external_ref: new_external_ref(),
        state: VisitState::Booked,
        visit_date: d.visit_date,
        line: d.line.clone(),
        segment: d.segment,
        total: d.total,
        number_prefix: cx.today().format("%Y%m%d").to_string(),
        detail: detail_of(&d, sender, None),
        now_ms: cx.now_ms,
        expires_ms: Some(expires_ms),
        effects,
    };
    let o = match cx.ybx.svc.create_visit_order(order).await {
        Ok(VisitOutcome::Done(o)) | Ok(VisitOutcome::Existing(o)) => o,
        Ok(VisitOutcome::Refused(r)) => return refusal_answer(&r, false, None),
        Err(e) => {
            tracing::error!(error = %e, "OrderProducts failed");
            return Answer::err(
                -1,
                format!("{}{}", codes::SAVE_FAILED, codes::STORAGE_FAILED),
            );
        }
    };
    let mut x = Xml::new();
    x.open("Item")
        .leaf("orderid", &o.number)
        .leaf("ordertime", local_time(cx, o.created_ms))
        .leaf("customertype", &cx.agent.unit_type)
        .leaf("customerid", &cx.agent.unit_id)
        .leaf("customername", &cx.agent.name)
        .leaf("description", "")
        .leaf("paytimeout", pay_timeout)
        .leaf("orderstatus", state_code(o.state));
    for i in &o.detail.items {
        x.open("subitem")
            .leaf("productid", &i.product)
            .leaf("productname", &i.name)
            .leaf("num", i.count)
            .leaf("unit", &i.unit)
            .leaf("price", money(i.unit_price))
            .leaf("productstatus", 1)
            .close("subitem");
    }
    x.close("Item");
    Answer::ok("", x.finish())
}

fn detail_of(d: &Draft, sender: String, pay: Option<PayMethod>) -> VisitDetail {
    VisitDetail {
        items: d.items.iter().map(|(_, i)| i.clone()).collect(),
        persons: d.persons.clone(),
        mobile: d.mobile.clone(),
        id_number: d.id_number.clone(),
        invoice: d.invoice,
        invoice_title: d.invoice_title.clone(),
        sender_ref: sender,
        pay_method: pay,
        notify_visitors: true,
        protocol: PROTOCOL.into(),
        ..VisitDetail::default()
    }
}

/// End of the order's validity: midnight after the last valid visit day.
fn validity_end(cx: &Ctx, d: &Draft) -> i64 {
    boxoffice_core::scenic::validity_end(
        d.visit_date,
        d.items.iter().map(|(p, _)| p),
        cx.ybx.svc.settings().offset,
    )
}

/// Yuan with at most two decimals (`240.00`, `240`) as fen.
pub(crate) fn parse_money(text: &str) -> Option<i64> {
    boxoffice_core::money::parse_yuan(text, boxoffice_core::money::Sign::NonNegative)
}

/// Checks the payment password (`smscode`, TripleDes of UPPER(MD5(pw))); counts failures and
/// locks the password for 15 minutes after 5 wrong ones in a row (every page that takes the
/// payment password).
pub(crate) async fn check_pay_password(cx: &Ctx) -> Result<(), Answer> {
    let Some(expected) = &cx.agent.pay_md5 else {
        return Err(Answer::err(-2099, codes::PAY_PASSWORD_UNSET));
    };
    if cx.agent.pay_locked_until > cx.now_ms {
        return Err(Answer::err(-2098, codes::PAY_PASSWORD_WRONG));
    }
    let given = cx.decrypt("smscode")?.unwrap_or_default();
    let ok = crate::crypto::secret_eq_ignore_ascii_case(given.trim(), expected);
    let mut patch = serde_json::Map::new();
    if ok {
        if cx.agent.pay_failures == 0 {
            return Ok(());
        }
        patch.insert("pay_failures".into(), 0.into());
    } else {
        let failures = cx.agent.pay_failures + 1;
        patch.insert("pay_failures".into(), failures.into());
        if failures >= 5 {
            patch.insert("pay_failures".into(), 0.into());
            patch.insert("pay_locked_until".into(), (cx.now_ms + 15 * 60_000).into());
        }
    }
    if let Err(e) = cx
        .ybx
        .agents
        .update(&cx.ybx.svc, cx.agent.id(), patch)
        .await
    {
        return Err(failure(&e));
    }
    if ok {
        Ok(())
    } else {
        Err(Answer::err(-2098, codes::PAY_PASSWORD_WRONG))
    }
}

/// The gate medium of a delivery: `tickettype` 1 (ID card) / 2 (QR), else the supplier's
/// default (3: ID card when every unit names a person, else QR).
fn gate_medium(cx: &Ctx, d: &Draft) -> Result<i32, Answer> {
    let all_named = d.persons.len() as i64 == d.units();
    match cx.params.text("tickettype") {
        "1" if all_named => Ok(1),
        "1" => Err(Answer::err(-1901, codes::PAY_PARAM)),
        "2" => Ok(2),
        "" => Ok(
            match cx.venue.scenic.as_ref().map_or(3, |s| s.gate_medium) {
                1 if all_named => 1,
                3 if all_named => 1,
                _ => 2,
            },
        ),
        _ => Err(Answer::err(-1901, codes::PAY_PARAM)),
    }
}

/// `OrderAndPayWithYDJ.aspx` (4.2.37) and `OrderAndPayWithFK.aspx` (4.2.46): book and authorize
/// from the deposit / rebate account in one transaction, idempotent on the agent's own order
/// number (`XCDDH` / `senderid`): a repeated number answers the existing order unchanged.
/// With activation (the supplier forces it, `activate=1`, or by default `payandactive`) the
/// amount is debited and tickets are issued (state 3 / D); without, it is held (2 / C).
pub async fn order_and_pay(cx: &Ctx, account: Account) -> Answer {
    let p = &cx.params;
    let ref_field = match account {
        Account::Deposit => "xcddh",
        Account::Rebate => "senderid",
    };
    // The caller's order number first: a replay answers the existing order.
    let sender = match cx.decrypt(ref_field) {
        Ok(Some(s)) if !s.trim().is_empty() && s.trim().chars().count() <= 64 => {
            s.trim().to_string()
        }
        Ok(_) => return Answer::err(-1901, codes::PAY_PARAM),
        Err(a) => return a,
    };
    let external_ref = format!(
        "{}:{sender}",
        if account == Account::Deposit {
            "x"
        } else {
            "f"
        }
    );
    match cx
        .ybx
        .svc
        .store()
        .visit_order_by_ref(cx.agent.id(), &external_ref)
        .await
    {
        Ok(Some(o)) => return paid_answer(account, &o),
        Ok(None) => {}
        Err(e) => return failure(&e),
    }
    let d = match draft(cx) {
        Ok(d) => d,
        Err(a) => return a,
    };
    if !p.has("smscode") || !p.has("money") || !p.has("smsmodel") {
        return Answer::err(-1901, codes::PAY_PARAM);
    }
    let sms_model = p.text("smsmodel").to_ascii_uppercase();
    if !["0", "1", "2", "A"].contains(&sms_model.as_str()) {
        return Answer::err(-1901, codes::PAY_PARAM);
    }
    let Some(amount) = parse_money(p.text("money")) else {
        return Answer::err(-1901, codes::PAY_PARAM);
    };
    let activate_param = match p.text("activate") {
        "" => None,
        "0" => Some(false),
        "1" => Some(true),
        _ => return Answer::err(-1901, codes::PAY_PARAM),
    };
    let notify_visitors = match p.text("sendnotification") {
        "" | "1" => true,
        "0" => false,
        _ => return Answer::err(-1901, codes::PAY_PARAM),
    };
    let allowed = match account {
        Account::Deposit => cx.agent.allow_deposit,
        Account::Rebate => cx.agent.allow_rebate,
    };
    if !allowed {
        return match account {
            Account::Deposit => Answer::err(-2094, codes::DEPOSIT_NOT_ALLOWED),
            Account::Rebate => Answer::err(-2194, codes::REBATE_NOT_ALLOWED),
        };
    }
    if let Err(a) = check_pay_password(cx).await {
        return a;
    }
    if amount != d.total {
        return match account {
            Account::Deposit => Answer::err(-2096, codes::WRONG_AMOUNT),
            Account::Rebate => Answer::err(-2196, codes::WRONG_AMOUNT),
        };
    }
    let scenic = cx.venue.scenic.clone().unwrap_or_default();
    let activate = scenic.remote_activation == 2
        || (scenic.remote_activation == 1 && activate_param.unwrap_or(scenic.activate_on_payment));
    let medium = match gate_medium(cx, &d) {
        Ok(m) => m,
        Err(a) => return a,
    };
    let (authorized, delivered) = match account {
        Account::Deposit => (VisitState::DepositAuthorized, VisitState::Delivered),
        Account::Rebate => (VisitState::RebateAuthorized, VisitState::DeliveredRebate),
    };
    let state = if activate { delivered } else { authorized };
    let mut effects = claims(cx, &d);
    if d.auto_segment && effects.segment_options.is_empty() {
        return Answer::err(-1, codes::SEGMENT_FULL);
    }
    effects.accounts.push(if activate {
        AccountMove {
            account: account.name().into(),
            balance_delta: -d.total,
            held_delta: 0,
            kind: "debit".into(),
            note: "authorized and delivered".into(),
        }
    } else {
        AccountMove {
            account: account.name().into(),
            balance_delta: 0,
            held_delta: d.total,
            kind: "hold".into(),
            note: "authorized".into(),
        }
    });
    let mut detail = detail_of(
        &d,
        sender.clone(),
        Some(match account {
            Account::Deposit => PayMethod::Deposit,
            Account::Rebate => PayMethod::Rebate,
        }),
    );
    detail.notify_visitors = notify_visitors && cx.agent.send_official && sms_model != "A";
    detail
        .extra
        .insert("sms_model".into(), sms_model.clone().into());
    if activate {
        detail.paid = d.total;
        detail.delivered_ms = Some(cx.now_ms);
        detail.extra.insert("medium".into(), medium.into());
        let products: Vec<Product> = d.items.iter().map(|(p, _)| p.clone()).collect();
        effects.tickets = issue_tickets(
            &detail.items,
            &products,
            &detail.persons,
            d.visit_date,
            medium,
        );
    } else {
        detail.paid = d.total;
        detail.held = d.total;
    }
    if announces(cx, &sender) {
        effects.events.push(order_changed(VisitState::Booked));
        effects.events.push(order_changed(authorized));
        if activate {
            effects.events.push(order_changed(delivered));
        }
    }
    if detail.notify_visitors {
        effects.messages.push(Message {
            kind: if activate { "delivery" } else { "booking" }.into(),
            phone: d.mobile.clone(),
            text: if activate {
                format!(
                    "【{}】您预订的{}入园门票已出票（{}），订单号{{number}}，请凭{}入园。",
                    cx.venue.name,
                    d.visit_date.format("%Y-%m-%d"),
                    item_summary(&detail.items),
                    if medium == 1 {
                        "身份证"
                    } else {
                        "二维码"
                    }
                )
            } else {
                format!(
                    "【{}】您已预订{}入园的{}，订单号{{number}}。",
                    cx.venue.name,
                    d.visit_date.format("%Y-%m-%d"),
                    item_summary(&detail.items)
                )
            },
        });
    }
    let order = NewVisitOrder {
        venue_id: cx.venue.id,
        partner_id: cx.agent.id(),
        external_ref,
        state,
        visit_date: d.visit_date,
        line: d.line.clone(),
        segment: d.segment,
        total: d.total,
        number_prefix: cx.today().format("%Y%m%d").to_string(),
        detail,
        now_ms: cx.now_ms,
        expires_ms: (!activate).then(|| validity_end(cx, &d)),
        effects,
    };
    match cx.ybx.svc.create_visit_order(order).await {
        Ok(VisitOutcome::Done(o)) | Ok(VisitOutcome::Existing(o)) => paid_answer(account, &o),
        Ok(VisitOutcome::Refused(r)) => refusal_answer(&r, true, Some(account)),
        Err(e) => {
            tracing::error!(error = %e, "order and pay failed");
            Answer::err(
                -1,
                format!("{}{}", codes::SAVE_FAILED, codes::STORAGE_FAILED),
            )
        }
    }
}

fn paid_answer(account: Account, o: &VisitOrder) -> Answer {
    let mut x = Xml::new();
    x.open("Item");
    match account {
        Account::Deposit => x
            .leaf("Order_id", &o.number)
            .leaf("XCDDH", &o.detail.sender_ref),
        Account::Rebate => x
            .leaf("order_id", &o.number)
            .leaf("senderid", &o.detail.sender_ref),
    };
    x.leaf("status", state_code(o.state)).close("Item");
    Answer::ok("", x.finish())
}

/// `CancelOrder.aspx` (4.2.15): closes an order in state 0, 2 or C. State 0 is free; 2 and C
/// release the hold on the deposit / rebate account and charge the breach fee (catalogue §1.9)
/// from it. Quota units and live identity numbers are given back in the same transaction.
pub async fn cancel_order(cx: &Ctx) -> Answer {
    let number = cx.params.text("order_id");
    if number.is_empty() {
        return Answer::err(-1, codes::CANCEL_NO_ORDER);
    }
    let order = match cx.ybx.svc.store().visit_order_by_number(number).await {
        Ok(Some(o)) if o.partner_id == cx.agent.id() => o,
        Ok(_) => return Answer::err(-2361, codes::CANCEL_UNKNOWN),
        Err(e) => return failure(&e),
    };
    let account = match order.state {
        VisitState::Booked => None,
        VisitState::DepositAuthorized => Some(Account::Deposit),
        VisitState::RebateAuthorized => Some(Account::Rebate),
        s => return Answer::err(-2381, codes::cancel_state(state_code(s))),
    };
    let scenic = cx.venue.scenic.clone().unwrap_or_default();
    let lead = boxoffice_core::scenic::lead_days(
        order.visit_date,
        cx.now_ms,
        cx.ybx.svc.settings().offset,
    );
    let fee = match account {
        None => 0,
        Some(_) => scenic.items_fee(&order.detail.items, lead),
    };
    let mut effects = VisitEffects {
        release: true,
        ..VisitEffects::default()
    };
    if let Some(acc) = account {
        let held = order.detail.held;
        if held > 0 || fee > 0 {
            effects.accounts.push(AccountMove {
                account: acc.name().into(),
                balance_delta: -fee,
                held_delta: -held,
                kind: if fee > 0 { "fee" } else { "release" }.into(),
                note: format!("cancel {}", order.number),
            });
        }
    }
    if announces(cx, &order.detail.sender_ref) {
        effects.events.push(order_changed(VisitState::Closed));
    }
    let mut detail = order.detail.clone();
    detail.fees = fee;
    detail.held = 0;
    detail.paid = 0;
    detail.closed_ms = Some(cx.now_ms);
    let change = VisitChange {
        order_id: order.id,
        from: vec![order.state],
        to: VisitState::Closed,
        detail: Some(detail),
        expires_ms: Some(None),
        segment: None,
        now_ms: cx.now_ms,
        actor: cx.agent.user.clone(),
        version: None,
        effects,
    };
    match cx.ybx.svc.change_visit_order(change).await {
        Ok(VisitOutcome::Done(_)) | Ok(VisitOutcome::Existing(_)) => {
            Answer::ok(codes::CANCELLED, String::new())
        }
        Ok(VisitOutcome::Refused(VisitRefusal::Insufficient(_))) => Answer::err(
            -2364,
            if account == Some(Account::Rebate) {
                codes::CANCEL_FEE_REBATE
            } else {
                codes::CANCEL_FEE_DEPOSIT
            },
        ),
        Ok(VisitOutcome::Refused(_)) => Answer::err(-2362, codes::CANCEL_STATE_CHANGED),
        Err(e) => failure(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_lists_are_pairs_of_products_and_positive_quantities() {
        assert_eq!(
            parse_order_list("A|2|b|1|").ok(),
            Some(vec![("A".to_string(), 2), ("b".to_string(), 1)])
        );
        assert!(parse_order_list("").is_err());
        assert!(parse_order_list("A|2|B").is_err());
        assert!(parse_order_list("A|0").is_err());
        assert!(parse_order_list("A|x").is_err());
        assert!(parse_order_list("A|1|a|2").is_err());
    }

    #[test]
    fn resident_ids_carry_a_check_digit() {
        assert!(resident_id_ok("430103198001010011"));
        assert!(resident_id_ok("11010519491231002x"));
        assert!(!resident_id_ok("4301031980010100Y1"));
        assert!(resident_id_ok("430103800101001"));
        assert!(!resident_id_ok("43010319800101001"));
    }

    #[test]
    fn money_parses_yuan_with_up_to_two_decimals() {
        assert_eq!(parse_money("235.00"), Some(23500));
        assert_eq!(parse_money("235"), Some(23500));
        assert_eq!(parse_money("0.5"), Some(50));
        assert_eq!(parse_money("1.005"), None);
        assert_eq!(parse_money("-1"), None);
        assert_eq!(parse_money("abc"), None);
    }
}

#[cfg(test)]
mod money_properties {
    //! `xml::money` (what the server writes) against `parse_money` (what it reads): amounts an
    //! agent sends are never negative.
    use super::parse_money;
    use crate::xml::money;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn format_then_parse_is_identity_for_amounts(fen in 0..=i64::MAX) {
            let text = money(fen);
            prop_assert_eq!(parse_money(&text), Some(fen), "{}", text);
            let (_, frac) = text.split_once('.').expect("a point");
            prop_assert_eq!(frac.len(), 2);
        }

        #[test]
        fn negative_amounts_format_with_a_sign_and_are_refused_when_read(fen in i64::MIN..0) {
            let text = money(fen);
            prop_assert!(text.starts_with('-'), "{}", text);
            prop_assert_eq!(parse_money(&text), None, "{}", text);
        }

        #[test]
        fn decimals_parse_to_their_value(int in "[0-9]{1,15}", frac in "[0-9]{0,2}") {
            let text = if frac.is_empty() { int.clone() } else { format!("{int}.{frac}") };
            let yuan: i64 = int.parse().expect("digits");
            let cents: i64 = format!("{frac:0<2}").parse().expect("digits");
            prop_assert_eq!(parse_money(&text), Some(yuan * 100 + cents), "{}", text);
        }

        #[test]
        fn any_text_is_parsed_or_refused_without_panic(text in any::<String>()) {
            if let Some(v) = parse_money(&text) {
                prop_assert!(v >= 0);
                prop_assert_eq!(parse_money(&money(v)), Some(v));
            }
        }

        #[test]
        fn more_than_two_decimals_or_signs_are_refused(int in "[0-9]{1,6}", frac in "[0-9]{3,6}") {
            prop_assert_eq!(parse_money(&format!("{int}.{frac}")), None);
            prop_assert_eq!(parse_money(&format!("+{int}")), None);
            prop_assert_eq!(parse_money(&format!("-{int}")), None);
        }
    }
}
