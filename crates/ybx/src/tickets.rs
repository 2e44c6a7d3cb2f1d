//! Activation and tickets: ActivateTicket (4.2.41), GetTicketList (4.2.42), GetTicketContext
//! (4.2.43, with the e-ticket image), ReMakeTicket (4.2.11).
//!
//! Activation is one store transaction: the conditional state change (2/6 → 3, C → D), the
//! account movement (the hold released, the delivered amount plus the breach fee on undelivered
//! units debited), the tickets, the quota claims of a partial delivery (all released, the
//! delivered units claimed again), the callback event and the official notice — or nothing.
//!
//! Decisions where the document is silent (listed in the report of M5):
//! - Missing `tickettype` (or every required field missing) → `参数不能为空，激活失败。`; a
//!   missing `timespanindex` in time-segment mode as well. Malformed values (`activateall` not
//!   0/1, `activatelist` not in pairs or with a negative or non-numeric quantity, an
//!   `activatedate` that is not `yyyyMMdd`) → `其他错误。`.
//! - `[MPLXMC]` / `[ZJHM]` are replaced (brackets included) by the product name / ID number.
//! - The activation memo's product index is 1-based into the order's lines (as at booking); an
//!   order line without memo entries follows the rules for activations without memo.
//! - A memo for an order without any registered person → `当前预订单不存在客户实名信息…`.
//! - A partial activation of an instant-paid order (6) keeps the money; the undelivered amount
//!   less fees is recorded as `detail.extra.refund_due` (the core has no refund applications).
//! - ReMakeTicket: one `credential` message per call whatever `smsModel` (the model is named in
//!   it); the limits count those messages; unknown orders and bad parameters → `-1 其他错误。`.

use crate::booking::issue_tickets;
use crate::codes;
use crate::route::{failure, Ctx};
use crate::xml::{money, ymd, ymdhms, Answer, Xml};
use crate::PROTOCOL;
use boxoffice_core::clock::{from_millis, local};
use boxoffice_core::scenic::{
    AccountMove, Line, Message, OutboxEvent, PayMethod, Person, Product, Ticketing, VisitChange,
    VisitItem, VisitOrder, VisitOutcome, VisitRefusal, VisitState, VisitTicket,
};
use boxoffice_core::store::{QuotaClaim, QuotaKey};
use chrono::{Duration, NaiveDate, NaiveTime};

/// `-1`: every required parameter (or `tickettype`, or `timespanindex` in segment mode) missing.
const ACT_PARAMS_EMPTY: &str = "参数不能为空，激活失败。";
/// `-1`: `orderid` missing.
const ACT_ORDER_EMPTY: &str = "预订单号不能为空，激活失败。";
/// `-1`: `activatedate` missing.
const ACT_DATE_EMPTY: &str = "激活（游览）日期不能为空，激活失败。";
/// `-1`: `activatemode` missing.
const ACT_MODE_EMPTY: &str = "激活方式不能为空，激活失败。";
/// `-1`: `activateall` missing.
const ACT_ALL_EMPTY: &str = "是否整单激活参数不能为空，激活失败。";
/// `-1`: partial activation without `activatelist`.
const ACT_LIST_MISSING: &str = "当前业务被指定为部分激活，但未提供激活列表，激活失败。";
/// `-1`: the supplier has no scenic settings.
const ACT_SEGMENT_MODE_UNKNOWN: &str = "不能确定当前系统是否处于分时段模式，激活失败。";
/// `-1`: the supplier does not allow remote activation.
const ACT_NOT_ALLOWED: &str = "当前电子门票系统不允许远程激活，必须至前台或自助机上取票。";
/// `-1`: the requested gate medium is not allowed.
const ACT_MEDIUM_NOT_ALLOWED: &str = "当前电子门票系统不允许按指定的模式执行远程激活，激活失败。";
/// `-1`: bad `activatemode`.
const ACT_MODE_BAD: &str = "激活方式参数错误，激活失败。";
/// `-1`: unknown order (or another agent's).
const ACT_ORDER_UNKNOWN: &str = "没有找到对应的预订（预购）单。";
/// `-1`: the order is not paid / authorized (also a second activation).
const ACT_STATE: &str =
    "当前预订（预购）单不处于\"已支付\"或\"预订金支付授权\"状态，不能执行激活。";
/// `-1`: segment mode, but a product has no line.
const ACT_NO_LINE: &str =
    "当前系统处于分时段模式，但请求激活的门票类型没有分配线路（检票站点），激活失败。";
/// `-1`: the order has no lines.
const ACT_NO_ITEMS: &str = "没有预订明细记录，激活失败。";
/// `-1`: memo for an order without registered persons.
const ACT_NO_PERSONS: &str =
    "当前预订单不存在客户实名信息，不能确认请求激活的身份证号码是否存在于预订列表之中，激活失败。";
/// `-1`: a memo ID not in the order.
const ACT_ID_UNKNOWN: &str = "请求激活的身份证号码不存在于预订列表之中，激活失败。";
/// `-1`: a memo ID booked for another product.
const ACT_ID_PRODUCT: &str =
    "请求激活的身份证号码对应的门票类型与预订时该身份证号指定的门票类型不一致，激活失败。";
/// `-1`: a product not in the order.
const ACT_PRODUCT_UNKNOWN: &str = "请求激活的门票类型未在预订单中存在，激活失败。";
/// `-1`: more units than booked.
const ACT_TOO_MANY: &str = "请求激活的门票数量超过预订数量，激活失败。";
/// `-1`: ID-card activation with a memo whose count differs from the quantity.
const ACT_MEMO_IDS: &str = "当前系统仅允许二代身份证激活，但激活请求中提供的实名信息数量与请求激活的数量不一致，激活失败。";
/// `-1`: the same ID twice in the memo.
const ACT_DUPLICATE: &str =
    "当前系统仅允许二代身份证激活，但激活请求拼装后出现了重复的身份证引用，激活失败。";
/// `-1`: nothing to activate.
const ACT_NOTHING: &str = "没有需要激活的门票，激活订单失败。";
/// Ours: `-1` for an `activatedate` outside [today, today+2] ∩ the order's validity.
const ACT_DATE_OUTSIDE: &str = "激活（游览）日期不在允许的范围内，激活失败。";
/// Ours: `-1` for a `timespanindex` other than the booked segment (or an unknown one).
const ACT_SEGMENT_WRONG: &str = "时段与预订时指定的时段不一致或不可用，激活失败。";
/// Ours: `-1` for a full segment (orders booked without one).
const ACT_SEGMENT_FULL: &str = "时段余量不足，激活失败。";
/// Ours: `-1` for a memo entry not in the `id^name^mobile^productIndex^idType` form.
const ACT_MEMO_FORMAT: &str = "实名信息格式不正确，激活失败。";
/// Ours: what follows `调用失败，失败原因：` when the account cannot pay the delivery.
const ACT_BALANCE: &str = "账户余额不足以完成激活扣款；";
/// Ours: what follows `调用失败，失败原因：` when the ticket image cannot be made.
const IMAGE_FAILED: &str = "电子票图片生成失败；";

/// `0` of ReMakeTicket.
const RESEND_OK: &str = "重发成功";
/// `-1`: the order has no mobile.
const RESEND_NO_MOBILE: &str = "下发短信失败,预定人的手机号码为空，不能完成操作；";
/// `-1`: the order is not paid or authorized.
const RESEND_NOT_PAID: &str = "下发短信失败,此定单还没有支付完成，不能进行下发短信凭证的操作；";
/// `-1`: less than 5 minutes since the last resend.
const RESEND_TOO_SOON: &str = "下发短信失败,下发的时间太频繁，请稍后再试(间隔5分钟)";
/// `-1`: 5 resends already.
const RESEND_TOO_MANY: &str = "下发短信失败,此定单已经发送了多次凭证，不允许再重发凭证；";
/// Most credential resends per order.
const RESEND_MAX: usize = 5;
/// Least time between two resends.
const RESEND_INTERVAL_MS: i64 = 5 * 60_000;

fn order_names(name: &str) -> String {
    format!("当前预订单中，{name}要求前台实名，但预订单中现有实名信息的数量，与要求激活的数量不一致，激活失败。")
}
fn order_ids(name: &str) -> String {
    format!("当前系统要求使用二代身份证远程激活，但订单中，{name}对应的预订单中的实名信息数量与要求激活的数量不一致，激活失败。")
}
fn order_one(name: &str) -> String {
    format!("当前门票类型{name}要求一人一票，预订单存在一个或多个用于该门票类型的实名信息，但实名信息的数量与期望激活的该种门票类型的数量不一致，激活失败。")
}
fn memo_names(name: &str) -> String {
    format!("当前门票类型{name}要求前台实名，但激活请求中提供的实名信息数量与请求激活的数量不一致，激活失败。")
}
fn memo_one(name: &str) -> String {
    format!("当前门票类型{name}要求一人一票，激活请求中提供了一个或多个用于该门票类型的实名信息，但实名信息的数量与期望激活的该种门票类型的数量不一致，激活失败。")
}
fn repeat_purchase(id: &str) -> String {
    format!("当前证件{id}在系统中存在有效期内门票，系统已设置为禁止重复购票。")
}

fn fail(msg: impl Into<String>) -> Answer {
    Answer::err(-1, msg)
}

/// The order with this number if it belongs to the caller and its supplier.
async fn own_order(cx: &Ctx, number: &str) -> Result<Option<VisitOrder>, Answer> {
    match cx.ybx.svc.store().visit_order_by_number(number).await {
        Ok(Some(o)) if o.partner_id == cx.agent.id() && o.venue_id == cx.venue.id => Ok(Some(o)),
        Ok(_) => Ok(None),
        Err(e) => Err(failure(&e)),
    }
}

fn local_time(cx: &Ctx, ms: i64) -> String {
    ymdhms(local(from_millis(ms), cx.ybx.svc.settings().offset))
}

fn segment_over(end: &str, cx: &Ctx) -> bool {
    NaiveTime::parse_from_str(end, "%H:%M").is_ok_and(|t| cx.local_now().time() >= t)
}

fn date_key(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Which money account an activation settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settle {
    Deposit,
    Rebate,
    Instant,
}

/// A segment to claim for an order booked without one.
enum NewSegment {
    Fixed(i32, i64),
    Auto(Vec<(i32, i64)>),
}

/// `ActivateTicket.aspx`: remote activation (electronic pick-up).
pub async fn activate_ticket(cx: &Ctx) -> Answer {
    match activate(cx).await {
        Ok(a) | Err(a) => a,
    }
}

/// `productId|qty|…` of a partial activation: quantities per order line.
fn parse_activate_list(text: &str, items: &[VisitItem]) -> Result<Vec<i64>, Answer> {
    let mut tokens: Vec<&str> = text.split('|').map(str::trim).collect();
    if tokens.last() == Some(&"") {
        tokens.pop();
    }
    if tokens.is_empty() || tokens.iter().all(|t| t.is_empty()) {
        return Err(fail(ACT_LIST_MISSING));
    }
    if tokens.chunks(2).any(|pair| pair.len() != 2) {
        return Err(fail(codes::OTHER_ERROR));
    }
    let mut wanted = vec![0i64; items.len()];
    let mut seen = vec![false; items.len()];
    for pair in tokens.chunks(2) {
        let (id, qty) = (pair[0], pair[1]);
        let qty: i64 = match qty.parse() {
            Ok(q) if q >= 0 => q,
            _ => return Err(fail(codes::OTHER_ERROR)),
        };
        let Some(index) = items
            .iter()
            .position(|i| !id.is_empty() && i.product.eq_ignore_ascii_case(id))
        else {
            return Err(fail(ACT_PRODUCT_UNKNOWN));
        };
        if seen[index] {
            return Err(fail(codes::OTHER_ERROR));
        }
        seen[index] = true;
        if qty > items[index].count {
            return Err(fail(ACT_TOO_MANY));
        }
        wanted[index] = qty;
    }
    Ok(wanted)
}

/// One activation-memo entry: the booked person it names and the order line (0-based).
struct MemoEntry {
    id: String,
    name: String,
    mobile: String,
    item: usize,
}

fn parse_activation_memo(text: &str, items: usize) -> Result<Vec<MemoEntry>, Answer> {
    let mut out = Vec::new();
    for entry in text.split('|').map(str::trim).filter(|e| !e.is_empty()) {
        let f: Vec<&str> = entry.split('^').map(str::trim).collect();
        if f.len() != 5 || f[0].is_empty() || f[0].len() > 20 {
            return Err(fail(ACT_MEMO_FORMAT));
        }
        if !matches!(f[4].parse::<i32>(), Ok(1..=4)) {
            return Err(fail(ACT_MEMO_FORMAT));
        }
        let item = match f[3].parse::<usize>() {
            Ok(i) if i >= 1 && i <= items => i - 1,
            Ok(_) => return Err(fail(ACT_PRODUCT_UNKNOWN)),
            Err(_) => return Err(fail(ACT_MEMO_FORMAT)),
        };
        out.push(MemoEntry {
            id: f[0].to_ascii_uppercase(),
            name: f[1].to_string(),
            mobile: f[2].to_string(),
            item,
        });
    }
    Ok(out)
}

/// The persons delivered per order line, after the real-name checks of the catalogue.
fn choose_persons(
    order: &VisitOrder,
    products: &[Option<&Product>],
    wanted: &[i64],
    medium: i32,
    memo: Option<&str>,
) -> Result<Vec<Vec<Person>>, Answer> {
    let items = &order.detail.items;
    let persons = &order.detail.persons;
    let entries = match memo {
        Some(m) if !m.trim().is_empty() => {
            if persons.is_empty() {
                return Err(fail(ACT_NO_PERSONS));
            }
            let entries = parse_activation_memo(m, items.len())?;
            let mut ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
            ids.sort_unstable();
            if ids.windows(2).any(|w| w[0] == w[1]) {
                return Err(fail(ACT_DUPLICATE));
            }
            for e in &entries {
                let Some(booked) = persons
                    .iter()
                    .find(|p| p.id_number.eq_ignore_ascii_case(&e.id))
                else {
                    return Err(fail(ACT_ID_UNKNOWN));
                };
                if booked.item != e.item {
                    return Err(fail(ACT_ID_PRODUCT));
                }
                if wanted[e.item] == 0 {
                    return Err(fail(ACT_PRODUCT_UNKNOWN));
                }
            }
            entries
        }
        _ => Vec::new(),
    };
    let mut chosen: Vec<Vec<Person>> = vec![Vec::new(); items.len()];
    for (index, item) in items.iter().enumerate() {
        let qty = wanted[index];
        if qty == 0 {
            continue;
        }
        let product = products[index];
        let real_name = product.is_some_and(|p| p.real_name);
        let one_person = product.is_some_and(|p| p.ticketing == Ticketing::OnePerson);
        let name = item.name.as_str();
        let named: Vec<&MemoEntry> = entries.iter().filter(|e| e.item == index).collect();
        if named.is_empty() {
            let booked: Vec<&Person> = persons.iter().filter(|p| p.item == index).collect();
            if real_name && booked.len() as i64 != qty {
                return Err(fail(order_names(name)));
            }
            let cards: Vec<&Person> = booked.iter().copied().filter(|p| p.id_type == 1).collect();
            if medium == 1 && cards.len() as i64 != qty {
                return Err(fail(order_ids(name)));
            }
            if one_person && !booked.is_empty() && booked.len() as i64 != qty {
                return Err(fail(order_one(name)));
            }
            let from = if medium == 1 { cards } else { booked };
            chosen[index] = from.into_iter().take(qty as usize).cloned().collect();
        } else {
            if real_name && named.len() as i64 != qty {
                return Err(fail(memo_names(name)));
            }
            let picked: Vec<Person> = named
                .iter()
                .filter_map(|e| {
                    persons
                        .iter()
                        .find(|p| p.id_number.eq_ignore_ascii_case(&e.id))
                        .map(|p| Person {
                            name: if p.name.is_empty() {
                                e.name.clone()
                            } else {
                                p.name.clone()
                            },
                            mobile: if p.mobile.is_empty() {
                                e.mobile.clone()
                            } else {
                                p.mobile.clone()
                            },
                            ..p.clone()
                        })
                })
                .collect();
            if medium == 1 && picked.iter().filter(|p| p.id_type == 1).count() as i64 != qty {
                return Err(fail(ACT_MEMO_IDS));
            }
            if one_person && picked.len() as i64 != qty {
                return Err(fail(memo_one(name)));
            }
            if picked.len() as i64 > qty {
                return Err(fail(ACT_TOO_MANY));
            }
            chosen[index] = picked;
        }
    }
    Ok(chosen)
}

/// The order's claims scaled to the delivered units (a partial delivery gives the rest back).
fn rescaled_claims(
    order: &VisitOrder,
    wanted: &[i64],
    chosen: &[Vec<Person>],
    total: i64,
) -> Vec<QuotaClaim> {
    let items = &order.detail.items;
    let line_of = |product: &str| {
        items
            .iter()
            .position(|i| i.product.eq_ignore_ascii_case(product))
    };
    let mut out = Vec::new();
    for c in &order.detail.claims {
        let p = c.key.product.as_str();
        let units = if let Some(rest) = p.strip_prefix("@id/") {
            let (product, id) = rest.split_once('/').unwrap_or((rest, ""));
            match line_of(product) {
                Some(i) => {
                    let named = order
                        .detail
                        .persons
                        .iter()
                        .any(|x| x.item == i && x.id_number.eq_ignore_ascii_case(id));
                    if named {
                        i64::from(
                            chosen[i]
                                .iter()
                                .any(|x| x.id_number.eq_ignore_ascii_case(id)),
                        )
                    } else {
                        wanted[i].min(c.units)
                    }
                }
                None => 0,
            }
        } else if p.starts_with('@') {
            total.min(c.units)
        } else {
            line_of(p).map_or(0, |i| wanted[i].min(c.units))
        };
        if units > 0 {
            out.push(QuotaClaim { units, ..c.clone() });
        }
    }
    out
}

fn summary_of(items: &[VisitItem]) -> String {
    items
        .iter()
        .map(|i| format!("{}{}{}", i.name, i.count, i.unit))
        .collect::<Vec<_>>()
        .join("，")
}

async fn activate(cx: &Ctx) -> Result<Answer, Answer> {
    let p = &cx.params;
    let required = [
        "orderid",
        "activateall",
        "activatedate",
        "tickettype",
        "activatemode",
    ];
    if required.iter().all(|f| !p.has(f)) {
        return Err(fail(ACT_PARAMS_EMPTY));
    }
    for (field, msg) in [
        ("orderid", ACT_ORDER_EMPTY),
        ("activatedate", ACT_DATE_EMPTY),
        ("activatemode", ACT_MODE_EMPTY),
        ("activateall", ACT_ALL_EMPTY),
        ("tickettype", ACT_PARAMS_EMPTY),
    ] {
        if !p.has(field) {
            return Err(fail(msg));
        }
    }
    let whole = match p.text("activateall") {
        "1" => true,
        "0" => false,
        _ => return Err(fail(codes::OTHER_ERROR)),
    };
    if !whole && !p.has("activatelist") {
        return Err(fail(ACT_LIST_MISSING));
    }
    let Some(scenic) = cx.venue.scenic.clone() else {
        return Err(fail(ACT_SEGMENT_MODE_UNKNOWN));
    };
    if !matches!(scenic.remote_activation, 1 | 2) {
        return Err(fail(ACT_NOT_ALLOWED));
    }
    let medium: i32 = match p.text("tickettype") {
        "1" => 1,
        "2" => 2,
        _ => return Err(fail(ACT_MEDIUM_NOT_ALLOWED)),
    };
    if (scenic.gate_medium == 1 && medium != 1) || (scenic.gate_medium == 2 && medium != 2) {
        return Err(fail(ACT_MEDIUM_NOT_ALLOWED));
    }
    let rebate_mode = match p.text("activatemode") {
        "1" => false,
        "2" => true,
        _ => return Err(fail(ACT_MODE_BAD)),
    };
    let notify = match p.text("sendnotification") {
        "" | "1" => true,
        "0" => false,
        _ => return Err(fail(codes::OTHER_ERROR)),
    };
    let Some(order) = own_order(cx, p.text("orderid")).await? else {
        return Err(fail(ACT_ORDER_UNKNOWN));
    };
    let (settle, to) = match (rebate_mode, order.state) {
        (false, VisitState::DepositAuthorized) => (Settle::Deposit, VisitState::Delivered),
        (false, VisitState::Paid) => (Settle::Instant, VisitState::Delivered),
        (true, VisitState::RebateAuthorized) => (Settle::Rebate, VisitState::DeliveredRebate),
        _ => return Err(fail(ACT_STATE)),
    };
    let items = order.detail.items.clone();
    if items.is_empty() {
        return Err(fail(ACT_NO_ITEMS));
    }
    let products: Vec<Option<&Product>> =
        items.iter().map(|i| cx.venue.product(&i.product)).collect();

    // The activation (visit) date: today … today + 2, within the order's validity.
    let text = p.text("activatedate");
    let date = NaiveDate::parse_from_str(text, "%Y%m%d")
        .ok()
        .filter(|_| text.len() == 8)
        .ok_or_else(|| fail(codes::OTHER_ERROR))?;
    let today = cx.today();
    let validity = products
        .iter()
        .map(|p| p.map_or(1, |p| p.order_validity_days.max(1)))
        .min()
        .unwrap_or(1);
    if date < today
        || date > today + Duration::days(2)
        || date < order.visit_date
        || date > order.visit_date + Duration::days(validity - 1)
    {
        return Err(fail(ACT_DATE_OUTSIDE));
    }

    // Quantities per order line.
    let wanted: Vec<i64> = if whole {
        items.iter().map(|i| i.count).collect()
    } else {
        parse_activate_list(p.text("activatelist"), &items)?
    };
    let total_units: i64 = wanted.iter().sum();
    if total_units == 0 {
        return Err(fail(ACT_NOTHING));
    }
    let partial = wanted.iter().zip(&items).any(|(w, i)| *w < i.count);

    // Line and segment (time-segment mode).
    let mut new_segment: Option<NewSegment> = None;
    let mut line_code: Option<String> = None;
    if scenic.segmented {
        let delivered: Vec<Option<&Product>> = products
            .iter()
            .zip(&wanted)
            .filter(|(_, w)| **w > 0)
            .map(|(p, _)| *p)
            .collect();
        let on_line = |l: &Line| {
            delivered
                .iter()
                .all(|p| p.is_some_and(|p| p.lines.contains(&l.code)))
        };
        let line = match &order.line {
            Some(code) => cx.venue.line(code).filter(|l| on_line(l)),
            None => cx.venue.lines.iter().find(|l| on_line(l)),
        };
        let Some(line) = line else {
            return Err(fail(ACT_NO_LINE));
        };
        line_code = Some(line.code.clone());
        let index: i32 = match p.text("timespanindex") {
            "" => return Err(fail(ACT_PARAMS_EMPTY)),
            t => t.parse().map_err(|_| fail(ACT_SEGMENT_WRONG))?,
        };
        match (order.segment, index) {
            (Some(_), -1) => {}
            (Some(booked), i) if i == booked => {}
            (Some(_), _) => return Err(fail(ACT_SEGMENT_WRONG)),
            (None, -1) => {
                let mut segs = line.segments.clone();
                segs.sort_by_key(|s| s.index);
                let options: Vec<(i32, i64)> = segs
                    .iter()
                    .filter(|s| !(date == today && segment_over(&s.end, cx)))
                    .map(|s| (s.index, s.capacity))
                    .collect();
                if options.is_empty() {
                    return Err(fail(ACT_SEGMENT_FULL));
                }
                new_segment = Some(NewSegment::Auto(options));
            }
            (None, i) => {
                let seg = line
                    .segments
                    .iter()
                    .find(|s| s.index == i)
                    .filter(|s| !(date == today && segment_over(&s.end, cx)))
                    .ok_or_else(|| fail(ACT_SEGMENT_WRONG))?;
                new_segment = Some(NewSegment::Fixed(i, seg.capacity));
            }
        }
    }

    // Real names.
    let memo = cx.decrypt("memo")?;
    let chosen = choose_persons(&order, &products, &wanted, medium, memo.as_deref())?;

    // What is delivered.
    let mut d_items: Vec<VisitItem> = Vec::new();
    let mut d_persons: Vec<Person> = Vec::new();
    let mut d_products: Vec<Product> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let qty = wanted[index];
        if qty == 0 {
            continue;
        }
        let free = if qty == item.count {
            item.free
        } else if let Some(scheme) = products[index].and_then(|p| p.free.as_ref()) {
            scheme
                .free_units(qty, order.visit_date)
                .min(qty)
                .min(item.free)
        } else if item.count > 0 {
            item.free * qty / item.count
        } else {
            0
        };
        let at = d_items.len();
        d_items.push(VisitItem {
            count: qty,
            free,
            ..item.clone()
        });
        d_persons.extend(
            chosen[index]
                .iter()
                .cloned()
                .map(|x| Person { item: at, ..x }),
        );
        if let Some(p) = products[index] {
            d_products.push(p.clone());
        }
    }
    let delivered_amount: i64 = d_items.iter().map(VisitItem::amount).sum();
    let lead = boxoffice_core::scenic::lead_days(
        order.visit_date,
        cx.now_ms,
        cx.ybx.svc.settings().offset,
    );
    let fee: i64 = items
        .iter()
        .map(|item| {
            let delivered_paid = d_items
                .iter()
                .find(|d| d.product == item.product)
                .map_or(0, |d| d.count - d.free);
            let rest = ((item.count - item.free) - delivered_paid).max(0);
            scenic.fee(&item.product, item.unit_price, rest, lead)
        })
        .sum();
    let tickets = issue_tickets(&d_items, &d_products, &d_persons, date, medium);

    // Effects.
    let mut effects = boxoffice_core::scenic::VisitEffects {
        tickets,
        ..Default::default()
    };
    if partial {
        effects.release = true;
        effects.quotas = rescaled_claims(&order, &wanted, &chosen, total_units);
        effects.live_ids = order
            .detail
            .live_ids
            .iter()
            .filter(|id| {
                d_persons
                    .iter()
                    .any(|x| x.id_number.eq_ignore_ascii_case(id))
            })
            .cloned()
            .collect();
    }
    let mut fixed_segment = None;
    if let (Some(seg), Some(code)) = (&new_segment, &line_code) {
        let claim = |index: i32, capacity: i64| QuotaClaim {
            key: QuotaKey {
                venue_id: cx.venue.id,
                product: format!("@line/{code}"),
                date: date_key(order.visit_date),
                segment: index,
            },
            capacity,
            units: total_units,
        };
        match seg {
            NewSegment::Fixed(i, cap) => {
                effects.quotas.push(claim(*i, *cap));
                fixed_segment = Some(*i);
            }
            NewSegment::Auto(options) => {
                effects.segment_options = options
                    .iter()
                    .map(|(i, cap)| (*i, vec![claim(*i, *cap)]))
                    .collect();
            }
        }
    }
    let account = match settle {
        Settle::Deposit => Some("deposit"),
        Settle::Rebate => Some("rebate"),
        Settle::Instant => None,
    };
    let mut detail = order.detail.clone();
    if let Some(acc) = account {
        let held = detail.held.max(0);
        let debited = (detail.paid - held).max(0);
        let balance_delta = debited - (delivered_amount + fee);
        if held != 0 || balance_delta != 0 {
            effects.accounts.push(AccountMove {
                account: acc.into(),
                balance_delta,
                held_delta: -held,
                kind: "deliver".into(),
                note: format!("activate {}", order.number),
            });
        }
        detail.paid = delivered_amount + fee;
    } else {
        let refund_due = (detail.paid - delivered_amount - fee).max(0);
        if refund_due > 0 {
            detail.extra.insert("refund_due".into(), refund_due.into());
        }
    }
    detail.held = 0;
    detail.fees = fee;
    detail.delivered_ms = Some(cx.now_ms);
    detail.sale_bill = order.number.clone();
    detail.extra.insert("medium".into(), medium.into());
    detail
        .extra
        .insert("activation_date".into(), ymd(date).into());
    let delivered_units: serde_json::Map<String, serde_json::Value> = d_items
        .iter()
        .map(|i| (i.product.clone(), i.count.into()))
        .collect();
    detail
        .extra
        .insert("delivered_units".into(), delivered_units.into());
    if let (None, Some(code)) = (&order.line, &line_code) {
        detail.extra.insert("line".into(), code.clone().into());
    }
    if crate::booking::announces(cx, &order.detail.sender_ref) {
        effects
            .events
            .push(OutboxEvent::order_changed(PROTOCOL, to));
    }
    let sms_model_a = detail
        .extra
        .get("sms_model")
        .and_then(|v| v.as_str())
        .is_some_and(|m| m.eq_ignore_ascii_case("A"));
    if notify && cx.agent.send_official && !sms_model_a && !detail.mobile.is_empty() {
        effects.messages.push(Message {
            kind: "delivery".into(),
            phone: detail.mobile.clone(),
            text: format!(
                "【{}】您预订的{}入园门票已出票（{}），订单号{{number}}，请凭{}入园。",
                cx.venue.name,
                date.format("%Y-%m-%d"),
                summary_of(&d_items),
                if medium == 1 {
                    "身份证"
                } else {
                    "二维码"
                }
            ),
        });
    }
    let change = VisitChange {
        order_id: order.id,
        from: vec![order.state],
        to,
        detail: Some(detail),
        expires_ms: Some(None),
        segment: fixed_segment,
        now_ms: cx.now_ms,
        actor: cx.agent.user.clone(),
        version: None,
        effects,
    };
    let done = match cx.ybx.svc.change_visit_order(change).await {
        Ok(VisitOutcome::Done(o)) | Ok(VisitOutcome::Existing(o)) => o,
        Ok(VisitOutcome::Refused(r)) => {
            return Err(match r {
                VisitRefusal::WrongState(_) => fail(ACT_STATE),
                VisitRefusal::NoSegment => fail(ACT_SEGMENT_FULL),
                VisitRefusal::QuotaFull(k) if k.product.starts_with("@line/") => {
                    fail(ACT_SEGMENT_FULL)
                }
                VisitRefusal::IdTaken(id) => fail(repeat_purchase(&id)),
                VisitRefusal::Insufficient(_) => {
                    fail(format!("{}{}", codes::CALL_FAILED, ACT_BALANCE))
                }
                _ => fail(codes::OTHER_ERROR),
            })
        }
        Err(e) => return Err(failure(&e)),
    };
    let mut x = Xml::new();
    delivery_xml(&mut x, cx, &done, false);
    Ok(Answer::ok("", x.finish()))
}

/// The segment fields of an order's tickets: line code and name, index, start and end.
struct Place {
    code: String,
    name: String,
    index: String,
    start: String,
    end: String,
}

fn place_of(cx: &Ctx, o: &VisitOrder) -> Place {
    // Orders booked without a line got one at activation (kept in `extra.line`).
    let code = o
        .line
        .as_deref()
        .or_else(|| o.detail.extra.get("line").and_then(|v| v.as_str()));
    let line = code.and_then(|c| cx.venue.line(c));
    let seg = o
        .segment
        .and_then(|s| line.and_then(|l| l.segments.iter().find(|g| g.index == s)));
    Place {
        code: line.map(|l| l.code.clone()).unwrap_or_default(),
        name: line.map(|l| l.name.clone()).unwrap_or_default(),
        index: o.segment.map(|s| s.to_string()).unwrap_or_default(),
        start: seg.map(|s| s.start.clone()).unwrap_or_default(),
        end: seg.map(|s| s.end.clone()).unwrap_or_default(),
    }
}

/// The unit price of a ticket (its order line's), and its name.
fn ticket_line<'a>(o: &'a VisitOrder, t: &VisitTicket) -> (i64, &'a str) {
    match o
        .detail
        .items
        .iter()
        .find(|i| i.product.eq_ignore_ascii_case(&t.product))
    {
        Some(i) => (i.unit_price, i.name.as_str()),
        None => {
            let paid = (t.person_count - t.free_count).max(1);
            (t.price / paid, "")
        }
    }
}

/// `price × (personcount − freecount)`.
fn ticket_summary(o: &VisitOrder, t: &VisitTicket) -> i64 {
    ticket_line(o, t).0 * (t.person_count - t.free_count).max(0)
}

/// A `<ticket>`'s fields, `productid … identitycode`.
fn ticket_fields(x: &mut Xml, o: &VisitOrder, t: &VisitTicket, place: &Place, status: String) {
    let (price, name) = ticket_line(o, t);
    x.leaf("productid", &t.product)
        .leaf("productname", name)
        .leaf("ticketcode", &t.code)
        .leaf("personcount", t.person_count)
        .leaf("ticketdate", ymd(t.date))
        .leaf("freecount", t.free_count)
        .leaf("price", money(price))
        .leaf("summary", money(ticket_summary(o, t)))
        .leaf("servicecode", &place.code)
        .leaf("servicename", &place.name)
        .leaf("timespanindex", &place.index)
        .leaf("starttime", &place.start)
        .leaf("endtime", &place.end)
        .leaf("status", status)
        .leaf("name", &t.name)
        .leaf("identitycode", &t.id_number);
}

/// `1` front-desk sale (X), `2` remote activation.
fn business_type(o: &VisitOrder) -> &'static str {
    if o.state == VisitState::DeliveredCounter {
        "1"
    } else {
        "2"
    }
}

/// The `<Item>` of ActivateTicket (`list` false) and GetTicketList (`list` true: `businesstype`
/// before `stationname`, ticket status 1–4).
fn delivery_xml(x: &mut Xml, cx: &Ctx, o: &VisitOrder, list: bool) {
    let scenic = cx.venue.scenic.clone().unwrap_or_default();
    let place = place_of(cx, o);
    let deal: i64 = o.tickets.iter().map(|t| ticket_summary(o, t)).sum();
    let persons: i64 = o.tickets.iter().map(|t| t.person_count).sum();
    let datetime = o
        .detail
        .delivered_ms
        .map(|ms| local_time(cx, ms))
        .unwrap_or_default();
    x.open("Item")
        .leaf("orderid", &o.number)
        .leaf("sellbillid", &o.detail.sale_bill)
        .leaf("stationid", &scenic.station_id);
    if list {
        x.leaf("businesstype", business_type(o))
            .leaf("stationname", &scenic.station_name);
    } else {
        x.leaf("stationname", &scenic.station_name)
            .leaf("businesstype", business_type(o));
    }
    x.leaf("datetime", datetime)
        .leaf("total", money(o.total))
        .leaf("dealtotal", money(deal + o.detail.fees))
        .leaf("dealamount", money(deal))
        .leaf("totalfees", money(o.detail.fees))
        .leaf("ticketcount", o.tickets.len())
        .leaf("personcount", persons)
        .open("tickets");
    for t in &o.tickets {
        let status = if list {
            t.status.to_string()
        } else {
            short_status(t).to_string()
        };
        x.open("ticket");
        ticket_fields(x, o, t, &place, status);
        x.close("ticket");
    }
    x.close("tickets").close("Item");
}

/// Ticket status as ActivateTicket and GetTicketContext report it: `2` refunded, else `1`.
fn short_status(t: &VisitTicket) -> &'static str {
    if t.status == 2 {
        "2"
    } else {
        "1"
    }
}

/// Whether an order was picked up or activated.
fn delivered(o: &VisitOrder) -> bool {
    o.detail.delivered_ms.is_some()
        || matches!(
            o.state,
            VisitState::Delivered | VisitState::DeliveredRebate | VisitState::DeliveredCounter
        )
}

/// `GetTicketList.aspx`: the tickets of a delivered order.
pub async fn get_ticket_list(cx: &Ctx) -> Answer {
    let number = cx.params.text("orderid");
    if number.is_empty() {
        return fail(codes::OTHER_ERROR);
    }
    let order = match own_order(cx, number).await {
        Ok(Some(o)) if delivered(&o) => o,
        Ok(_) => return fail(codes::OTHER_ERROR),
        Err(a) => return a,
    };
    let mut x = Xml::new();
    delivery_xml(&mut x, cx, &order, true);
    Answer::ok("", x.finish())
}

/// `GetTicketContext.aspx`: one ticket with its e-ticket image.
pub async fn get_ticket_context(cx: &Ctx) -> Answer {
    let number = cx.params.text("orderid");
    let given = cx.params.text("ticketcode");
    if number.is_empty() || given.is_empty() {
        return fail(codes::OTHER_ERROR);
    }
    let order = match own_order(cx, number).await {
        Ok(Some(o)) => o,
        Ok(None) => return fail(codes::OTHER_ERROR),
        Err(a) => return a,
    };
    // Plain first ([A]), then TripleDes ([B]).
    let find = |code: &str| {
        order
            .tickets
            .iter()
            .find(|t| t.code == code.trim())
            .cloned()
    };
    let ticket = find(given).or_else(|| {
        crate::crypto::triple_des_decrypt(given, cx.agent.field_key())
            .ok()
            .and_then(|plain| find(&plain))
    });
    let Some(t) = ticket else {
        return fail(codes::OTHER_ERROR);
    };
    let place = place_of(cx, &order);
    let image = if t.medium == 1 {
        String::new()
    } else {
        let (_, name) = ticket_line(&order, &t);
        match eticket_image(&order, &t, name, &place) {
            Ok(bytes) => {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode(bytes)
            }
            Err(e) => {
                tracing::error!(error = %e, "e-ticket image failed");
                return fail(format!("{}{}", codes::CALL_FAILED, IMAGE_FAILED));
            }
        }
    };
    let mut x = Xml::new();
    x.open("Item");
    ticket_fields(&mut x, &order, &t, &place, short_status(&t).to_string());
    x.leaf("dealtype", business_type(&order))
        .leaf("seatdesc", "")
        .leaf("eticketimage", image)
        .close("Item");
    Answer::ok("", x.finish())
}

/// Image width.
const IMAGE_W: u32 = 600;
/// Image height.
const IMAGE_H: u32 = 900;

/// The e-ticket: a 600×900 grayscale JPEG with the QR code of the ticket code and text lines
/// (ASCII only: no CJK font is bundled, so Chinese names are left out or replaced by ids).
fn eticket_image(
    o: &VisitOrder,
    t: &VisitTicket,
    product_name: &str,
    place: &Place,
) -> Result<Vec<u8>, String> {
    use image::{GrayImage, Luma};
    let code = qrcode::QrCode::new(t.code.as_bytes()).map_err(|e| e.to_string())?;
    let modules = code.width() as u32 + 8;
    let size = (IMAGE_W - 80) / modules;
    let qr: GrayImage = code
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(size.max(1), size.max(1))
        .build();
    let mut img = GrayImage::from_pixel(IMAGE_W, IMAGE_H, Luma([255u8]));
    let left = IMAGE_W.saturating_sub(qr.width()) / 2;
    image::imageops::overlay(&mut img, &qr, i64::from(left), 30);
    let mut y = 30 + qr.height() + 20;
    let mut lines: Vec<(String, u32)> = vec![
        (t.code.clone(), 3),
        (format!("DATE {}", t.date.format("%Y-%m-%d")), 3),
        (
            format!("PERSONS {} FREE {}", t.person_count, t.free_count),
            3,
        ),
    ];
    if !place.start.is_empty() {
        lines.push((format!("TIME {}-{}", place.start, place.end), 3));
    }
    lines.push((format!("ORDER {}", o.number), 2));
    if product_name.is_ascii() && !product_name.is_empty() {
        lines.push((product_name.to_string(), 2));
    } else {
        lines.push((t.product.clone(), 2));
    }
    if !t.name.is_empty() && t.name.is_ascii() {
        lines.push((t.name.clone(), 2));
    }
    for (text, scale) in &lines {
        draw_text(&mut img, 24, y, text, *scale);
        y += 8 * scale + 12;
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode(img.as_raw(), IMAGE_W, IMAGE_H, image::ExtendedColorType::L8)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Draws ASCII text with the 8×8 font, each font pixel `scale`×`scale`.
fn draw_text(img: &mut image::GrayImage, x0: u32, y0: u32, text: &str, scale: u32) {
    let glyphs = &font8x8::legacy::BASIC_LEGACY;
    for (n, c) in text.chars().enumerate() {
        let glyph = glyphs
            .get(c as usize)
            .copied()
            .unwrap_or(glyphs[b'?' as usize]);
        let gx = x0 + n as u32 * 8 * scale;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8u32 {
                if bits & (1 << col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (gx + col * scale + dx, y0 + row as u32 * scale + dy);
                        if px < img.width() && py < img.height() {
                            img.put_pixel(px, py, image::Luma([0u8]));
                        }
                    }
                }
            }
        }
    }
}

/// `ReMakeTicket.aspx`: resends the pick-up credential.
pub async fn remake_ticket(cx: &Ctx) -> Answer {
    let number = cx.params.text("order_id");
    let model = match cx.params.text("smsmodel") {
        "0" => "短信",
        "1" => "彩信",
        "2" => "短信及彩信",
        _ => return fail(codes::OTHER_ERROR),
    };
    if number.is_empty() {
        return fail(codes::OTHER_ERROR);
    }
    let order = match own_order(cx, number).await {
        Ok(Some(o)) => o,
        Ok(None) => return fail(codes::OTHER_ERROR),
        Err(a) => return a,
    };
    let paid = matches!(
        order.state,
        VisitState::DepositAuthorized
            | VisitState::Delivered
            | VisitState::PaidUnapproved
            | VisitState::Paid
            | VisitState::RebateAuthorized
            | VisitState::DeliveredRebate
    );
    if !paid {
        return fail(RESEND_NOT_PAID);
    }
    if order.detail.mobile.trim().is_empty() {
        return fail(RESEND_NO_MOBILE);
    }
    let store = cx.ybx.svc.store();
    let sent = match store.messages(None, Some(order.id)).await {
        Ok(m) => m,
        Err(e) => return failure(&e),
    };
    let credentials: Vec<_> = sent
        .iter()
        .filter(|m| m.message.kind == "credential")
        .collect();
    if credentials.len() >= RESEND_MAX {
        return fail(RESEND_TOO_MANY);
    }
    if credentials
        .iter()
        .map(|m| m.created_ms)
        .max()
        .is_some_and(|last| cx.now_ms - last < RESEND_INTERVAL_MS)
    {
        return fail(RESEND_TOO_SOON);
    }
    let credential = if order.tickets.is_empty() {
        "请凭预订手机号或身份证至售票处取票".to_string()
    } else if order.tickets.iter().all(|t| t.medium == 1) {
        "请凭身份证入园".to_string()
    } else {
        format!(
            "电子票号{}，请凭二维码入园",
            order
                .tickets
                .iter()
                .filter(|t| t.status != 2)
                .map(|t| t.code.as_str())
                .collect::<Vec<_>>()
                .join("、")
        )
    };
    let pay = match order.detail.pay_method {
        Some(PayMethod::Counter) | None => "",
        Some(_) => "已支付，",
    };
    let message = Message {
        kind: "credential".into(),
        phone: order.detail.mobile.trim().to_string(),
        text: format!(
            "【{}】（{model}凭证）订单号{}，{}入园，{}{}，{}。",
            cx.venue.name,
            order.number,
            order.visit_date.format("%Y-%m-%d"),
            pay,
            summary_of(&order.detail.items),
            credential
        ),
    };
    match store
        .add_message(
            cx.venue.id,
            Some(cx.agent.id()),
            Some(order.id),
            message,
            cx.now_ms,
        )
        .await
    {
        Ok(()) => Answer::ok(RESEND_OK, String::new()),
        Err(e) => failure(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(product: &str, count: i64) -> VisitItem {
        VisitItem {
            product: product.into(),
            name: product.into(),
            unit: "张".into(),
            count,
            free: 0,
            unit_price: 100,
        }
    }

    #[test]
    fn activation_lists_name_order_lines_with_quantities_up_to_the_booked() {
        let items = [item("A", 3), item("B", 2)];
        assert_eq!(parse_activate_list("b|1|", &items).ok(), Some(vec![0, 1]));
        assert_eq!(
            parse_activate_list("A|3|B|0", &items).ok(),
            Some(vec![3, 0])
        );
        let msg = |r: Result<Vec<i64>, Answer>| r.err().map(|a| a.msg);
        assert_eq!(
            msg(parse_activate_list("A|4", &items)).as_deref(),
            Some(ACT_TOO_MANY)
        );
        assert_eq!(
            msg(parse_activate_list("C|1", &items)).as_deref(),
            Some(ACT_PRODUCT_UNKNOWN)
        );
        assert_eq!(
            msg(parse_activate_list("A|1|B", &items)).as_deref(),
            Some(codes::OTHER_ERROR)
        );
        assert_eq!(
            msg(parse_activate_list("A|-1", &items)).as_deref(),
            Some(codes::OTHER_ERROR)
        );
        assert_eq!(
            msg(parse_activate_list("|", &items)).as_deref(),
            Some(ACT_LIST_MISSING)
        );
    }

    #[test]
    fn the_image_is_a_jpeg_of_the_documented_size() {
        let t = VisitTicket {
            code: "12345678901234567890".into(),
            seq: 1,
            product: "A".into(),
            person_count: 2,
            free_count: 0,
            price: 200,
            date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default(),
            medium: 2,
            status: 1,
            name: String::new(),
            id_number: String::new(),
        };
        let place = Place {
            code: "01".into(),
            name: "L".into(),
            index: "2".into(),
            start: "10:00".into(),
            end: "12:00".into(),
        };
        let o = VisitOrder {
            id: 1,
            number: "202611220000000001".into(),
            venue_id: 1,
            partner_id: 1,
            external_ref: String::new(),
            state: VisitState::Delivered,
            visit_date: t.date,
            line: None,
            segment: None,
            total: 200,
            created_ms: 0,
            updated_ms: 0,
            expires_ms: None,
            version: 0,
            detail: Default::default(),
            tickets: vec![t.clone()],
        };
        let jpeg = eticket_image(&o, &t, "Adult", &place).unwrap_or_default();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        let img = image::load_from_memory(&jpeg).map(|i| (i.width(), i.height()));
        assert_eq!(img.ok(), Some((IMAGE_W, IMAGE_H)));
    }
}
