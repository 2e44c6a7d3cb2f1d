//! Order queries: QueryOrder (4.2.8), QueryOrdersList (4.2.9), QueryOrderPageListCount (4.2.10)
//! and GetProductsIdentity (4.2.51).
//!
//! Every page sees only the calling agent's orders at its supplier: another agent's order answers
//! exactly like an unknown number. Element names and order follow the catalogue's [A] response
//! XML (opening-tag spelling); every documented element is emitted, empty when unknown.

use crate::booking::state_code;
use crate::codes;
use crate::route::{failure, Ctx};
use crate::xml::{money, ymd, ymdhms, Answer, Xml};
use boxoffice_core::clock::{from_local, from_millis, local, to_millis, Millis};
use boxoffice_core::scenic::{
    PayMethod, ScenicSettings, VisitDetail, VisitOrder, VisitState, VisitTicket,
};
use boxoffice_core::store::VisitOrderRange;
use chrono::{Months, NaiveDate, NaiveDateTime};

/// Records per page of QueryOrdersList (reported by QueryOrderPageListCount).
pub const PAGE_SIZE: usize = 20;
/// Most calendar days between `Start_datetime` and `End_datetime`.
pub const MAX_SPAN_DAYS: i64 = 31;

/// Ours: `paychannel` of an order paid (or to be paid) at the counter.
const PAY_COUNTER: &str = "前台现付";
/// Ours: `paychannel` of a deposit-account payment.
const PAY_DEPOSIT: &str = "预订金";
/// Ours: `paychannel` of a rebate-balance payment.
const PAY_REBATE: &str = "返款余额";
/// Ours: `backstatus` while a refund application is open.
const BACK_PROCESSING: &str = "受理中";
/// Ours: `backstatus` once money went back (and in refund descriptions).
const BACK_DONE: &str = "已受理";
/// Ours: how a refund of a counter-paid order is described.
const REFUND_CASH: &str = "现金";

/// The order with this number if it belongs to the caller (and its supplier), else `None`.
async fn own_order(cx: &Ctx, number: &str) -> Result<Option<VisitOrder>, Answer> {
    match cx.ybx.svc.store().visit_order_by_number(number).await {
        Ok(Some(o)) if o.partner_id == cx.agent.id() && o.venue_id == cx.venue.id => Ok(Some(o)),
        Ok(_) => Ok(None),
        Err(e) => Err(failure(&e)),
    }
}

/// A venue-local wall-clock time of stored milliseconds.
fn local_time(cx: &Ctx, ms: Millis) -> NaiveDateTime {
    local(from_millis(ms), cx.ybx.svc.settings().offset)
}

/// The supplier's scenic settings (defaults when it has none).
fn scenic(cx: &Ctx) -> ScenicSettings {
    cx.venue.scenic.clone().unwrap_or_default()
}

/// `paychannel`: the payment method, or the instant channel's name.
fn pay_channel(d: &VisitDetail) -> &'static str {
    match d.pay_method {
        Some(PayMethod::Counter) => PAY_COUNTER,
        Some(PayMethod::Deposit) => PAY_DEPOSIT,
        Some(PayMethod::Rebate) => PAY_REBATE,
        Some(PayMethod::Instant) => crate::epay::channel_name(d.pay_channel.trim()),
        None => "",
    }
}

/// Whether the order was delivered (tickets issued).
fn delivered(o: &VisitOrder) -> bool {
    o.detail.delivered_ms.is_some()
        || matches!(
            o.state,
            VisitState::Delivered | VisitState::DeliveredRebate | VisitState::DeliveredCounter
        )
}

/// Delivery and refund figures of one order line.
#[derive(Debug, Default, Clone)]
struct LineFigures {
    deal_num: i64,
    deal_amount: i64,
    fees: i64,
    return_count: i64,
    return_total: i64,
}

/// Delivery and refund figures of an order.
#[derive(Debug, Default, Clone)]
struct Figures {
    lines: Vec<LineFigures>,
    deal_amount: i64,
    fees: i64,
    return_count: i64,
    return_total: i64,
}

impl Figures {
    fn of(o: &VisitOrder) -> Figures {
        let done = delivered(o);
        let items = &o.detail.items;
        // What was delivered: the tickets issued (a partial activation issues fewer than were
        // booked); an order delivered without tickets counts its booked units.
        let mut lines: Vec<LineFigures> = items
            .iter()
            .map(|i| {
                let issued: Vec<_> = o
                    .tickets
                    .iter()
                    .filter(|t| t.product.eq_ignore_ascii_case(&i.product))
                    .collect();
                let (num, amount) = if !done {
                    (0, 0)
                } else if o.tickets.is_empty() {
                    (i.count, i.amount())
                } else {
                    (
                        issued.iter().map(|t| t.person_count).sum(),
                        issued.iter().map(|t| t.price).sum(),
                    )
                };
                LineFigures {
                    deal_num: num,
                    deal_amount: amount,
                    ..LineFigures::default()
                }
            })
            .collect();
        // The order's fees are spread over its lines by units; the remainder goes to the last line.
        let fees = o.detail.fees;
        let units: i64 = items.iter().map(|i| i.count.max(0)).sum();
        if units > 0 && !lines.is_empty() {
            let mut given = 0;
            for (l, i) in lines.iter_mut().zip(items) {
                l.fees = fees.saturating_mul(i.count.max(0)) / units;
                given += l.fees;
            }
            if let Some(last) = lines.last_mut() {
                last.fees += fees - given;
            }
        } else if let Some(first) = lines.first_mut() {
            first.fees = fees;
        }
        for t in o.tickets.iter().filter(|t| t.status == 2) {
            let line = items
                .iter()
                .position(|i| i.product.eq_ignore_ascii_case(&t.product));
            if let Some(l) = line.and_then(|n| lines.get_mut(n)) {
                l.return_count += t.person_count;
                l.return_total += t.price;
            }
        }
        Figures {
            deal_amount: lines.iter().map(|l| l.deal_amount).sum(),
            fees,
            return_count: lines.iter().map(|l| l.return_count).sum(),
            return_total: lines.iter().map(|l| l.return_total).sum(),
            lines,
        }
    }
}

/// `returnpaychanneldesc` for a refunded amount, e.g. `预订金，退款240.00，已受理`.
fn refund_desc(d: &VisitDetail, amount: i64) -> String {
    if amount <= 0 {
        return String::new();
    }
    let channel = pay_channel(d);
    if channel.is_empty() || d.pay_method == Some(PayMethod::Counter) {
        format!("{REFUND_CASH}退款{}，{BACK_DONE}", money(amount))
    } else {
        format!("{channel}，退款{}，{BACK_DONE}", money(amount))
    }
}

/// `returnticketdesc`, e.g. `退成人票2张，合计240.00元`; empty without refunded tickets.
fn return_ticket_desc(o: &VisitOrder, f: &Figures) -> String {
    let parts: Vec<String> = o
        .detail
        .items
        .iter()
        .zip(&f.lines)
        .filter(|(_, l)| l.return_count > 0)
        .map(|(i, l)| format!("{}{}{}", i.name, l.return_count, i.unit))
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!("退{}，合计{}元", parts.join("，"), money(f.return_total))
}

/// `backstatus`: 受理中 while a refund application is open, 已受理 once money went back.
fn back_status(o: &VisitOrder, f: &Figures) -> &'static str {
    match o.state {
        VisitState::RefundRequested | VisitState::RefundApproved => BACK_PROCESSING,
        VisitState::Refunded => BACK_DONE,
        _ if f.return_total > 0 => BACK_DONE,
        _ => "",
    }
}

/// `{name}{count}{unit}` per line joined by `,` (`tickettypedesc`, `dealdesc`).
fn ticket_summary(o: &VisitOrder, counts: impl Iterator<Item = i64>) -> String {
    o.detail
        .items
        .iter()
        .zip(counts)
        .map(|(i, n)| format!("{}{}{}", i.name, n, i.unit))
        .collect::<Vec<_>>()
        .join(",")
}

/// `paytimeout`: the supplier's payment time limit, 0 for agents who may pay at the counter.
fn pay_timeout(cx: &Ctx) -> i64 {
    if cx.agent.allow_cash {
        0
    } else {
        scenic(cx).pay_timeout_minutes
    }
}

/// The head shared by QueryOrder and QueryOrdersList: `orderid … description`.
fn head(x: &mut Xml, cx: &Ctx, o: &VisitOrder) {
    x.leaf("orderid", &o.number)
        .leaf("ordertime", ymdhms(local_time(cx, o.created_ms)))
        .leaf("customertype", &cx.agent.unit_type)
        .leaf("customerid", &cx.agent.unit_id)
        .leaf("customername", &cx.agent.name)
        .leaf("description", "");
}

/// `spdh, sxrq, jgrqsj`.
fn delivery_fields(x: &mut Xml, cx: &Ctx, o: &VisitOrder) {
    let jgrqsj = o
        .detail
        .delivered_ms
        .map(|ms| ymdhms(local_time(cx, ms)))
        .unwrap_or_default();
    x.leaf("spdh", &o.detail.sale_bill)
        .leaf("sxrq", ymd(o.visit_date))
        .leaf("jgrqsj", jgrqsj);
}

/// `mobile, cardid, xyfp, fptt`.
fn buyer_fields(x: &mut Xml, o: &VisitOrder) {
    x.leaf("mobile", &o.detail.mobile)
        .leaf("cardid", &o.detail.id_number)
        .leaf("xyfp", if o.detail.invoice { "1" } else { "0" })
        .leaf("fptt", &o.detail.invoice_title);
}

/// `QueryOrder.aspx` (4.2.8): one `<Item>` with the order and a `<subitem>` per order line.
///
/// Decisions where the document is silent:
/// - `order_id` missing or blank → `-1901 参数错误。`; unknown or another agent's → `-2002`.
/// - `description` is always empty; `customer*` are the calling agent's unit type, id and name.
/// - `paytimeout` = the supplier's `pay_timeout_minutes`, 0 for agents allowed to pay at the
///   counter (as OrderProducts answers it).
/// - "Delivered" = a delivery time is recorded or the state is 3, D or X; `dealamount`/`dealnum`
///   are 0 before that; after it, every unit of every line counts as delivered and
///   `dealamount` = paid units × unit price.
/// - `totalfees` = breach fees charged on the order (non-zero only once a fee was charged, e.g.
///   on a closed order); subitem `fees` spread the order's fees over its lines by units (the
///   remainder on the last line); `dealtotal = dealamount + totalfees`.
/// - Refund figures come from refunded tickets (status 2): `returncount` persons, `returntotal`
///   their ticket prices, `backtotal = returntotal`, `returnfees` 0.00 (no refund fees are
///   charged); `backstatus` 受理中 in states 7/8, 已受理 in B or after a ticket refund, else empty;
///   descriptions `退<name><n><unit>，合计<m>元` and `<paychannel>，退款<m>，已受理` (`现金退款…` for
///   counter or unknown payment).
/// - `paychannel` is empty for an instant payment with an unknown channel and before any payment
///   method is chosen.
/// - `productstatus` is always `1`; `seatlistdesc` always empty (scenic mode).
/// - `timeindex` is the booked segment (empty without one); `timeindexdesc` its `HH:MM-HH:MM` on
///   the order's line (empty when the line or segment is unknown).
/// - `serverstationid`/`serverstationname` are the order's line (线路ID = ServiceCode, 线路名称),
///   empty for orders without one.
pub async fn query_order(cx: &Ctx) -> Answer {
    let number = cx.params.text("order_id");
    if number.is_empty() {
        return Answer::err(-1901, codes::PARAM_ERROR_DOT);
    }
    let order = match own_order(cx, number).await {
        Ok(Some(o)) => o,
        Ok(None) => return Answer::err(-2002, codes::ORDER_NOT_FOUND),
        Err(a) => return a,
    };
    let o = &order;
    let f = Figures::of(o);
    let line = o.line.as_deref().and_then(|c| cx.venue.line(c));
    let segment_desc = o
        .segment
        .and_then(|s| line.and_then(|l| l.segments.iter().find(|g| g.index == s)))
        .map(|g| format!("{}-{}", g.start, g.end))
        .unwrap_or_default();
    let segment = o.segment.map(|s| s.to_string()).unwrap_or_default();
    let mut x = Xml::new();
    x.open("Item");
    head(&mut x, cx, o);
    x.leaf("orderstatus", state_code(o.state))
        .leaf("paytimeout", pay_timeout(cx))
        .leaf("summary", money(o.total));
    delivery_fields(&mut x, cx, o);
    buyer_fields(&mut x, o);
    x.leaf("dealtotal", money(f.deal_amount + f.fees))
        .leaf("dealamount", money(f.deal_amount))
        .leaf("totalfees", money(f.fees))
        .leaf("paychannel", pay_channel(&o.detail))
        .leaf("backtotal", money(f.return_total))
        .leaf("backstatus", back_status(o, &f))
        .leaf("returnticketdesc", return_ticket_desc(o, &f))
        .leaf("returncount", f.return_count)
        .leaf("returntotal", money(f.return_total))
        .leaf(
            "returnpaychanneldesc",
            refund_desc(&o.detail, f.return_total),
        );
    for (item, l) in o.detail.items.iter().zip(&f.lines) {
        x.open("subitem")
            .leaf("productid", &item.product)
            .leaf("productname", &item.name)
            .leaf("num", item.count)
            .leaf("unit", &item.unit)
            .leaf("price", money(item.unit_price))
            .leaf("productstatus", "1")
            .leaf("timeindex", &segment)
            .leaf("timeindexdesc", &segment_desc)
            .leaf(
                "serverstationid",
                line.map(|l| l.code.as_str()).unwrap_or(""),
            )
            .leaf(
                "serverstationname",
                line.map(|l| l.name.as_str()).unwrap_or(""),
            )
            .leaf("seatlistdesc", "")
            .leaf("dealnum", l.deal_num)
            .leaf("dealamount", money(l.deal_amount))
            .leaf("fees", money(l.fees))
            .leaf("returncount", l.return_count)
            .leaf("returnfees", money(0))
            .leaf("returntotal", money(l.return_total))
            .leaf(
                "returnpaychanneldesc",
                refund_desc(&o.detail, l.return_total),
            )
            .close("subitem");
    }
    x.close("Item");
    Answer::ok("", x.finish())
}

/// A parsed `Start_datetime` / `End_datetime`.
fn parse_date(text: &str) -> Result<Option<NaiveDate>, Answer> {
    if text.is_empty() {
        return Ok(None);
    }
    let digits = text.chars().all(|c| c.is_ascii_digit());
    if digits && text.len() == 14 {
        return Err(Answer::err(-1, codes::OLD_VERSION));
    }
    if !digits || text.len() != 8 {
        return Err(Answer::err(-1901, codes::PARAM_ERROR_DOT));
    }
    NaiveDate::parse_from_str(text, "%Y%m%d")
        .map(Some)
        .map_err(|_| Answer::err(-1901, codes::PARAM_ERROR_DOT))
}

/// The list filters (plain text, compared after trimming).
struct Filter<'a> {
    mobile: &'a str,
    id_number: &'a str,
    number: &'a str,
    state: &'a str,
    product: &'a str,
}

impl Filter<'_> {
    fn matches(&self, o: &VisitOrder) -> bool {
        (self.mobile.is_empty() || o.detail.mobile.trim() == self.mobile)
            && (self.id_number.is_empty()
                || o.detail
                    .id_number
                    .trim()
                    .eq_ignore_ascii_case(self.id_number))
            && (self.number.is_empty() || o.number == self.number)
            && (self.state.is_empty() || state_code(o.state).eq_ignore_ascii_case(self.state))
            && (self.product.is_empty()
                || o.detail
                    .items
                    .iter()
                    .any(|i| i.product.eq_ignore_ascii_case(self.product)))
    }
}

/// The range of the list pages from `Query_model`, `Start_datetime` and `End_datetime`.
fn list_range(cx: &Ctx) -> Result<VisitOrderRange, Answer> {
    let bad = || Answer::err(-1901, codes::PARAM_ERROR_DOT);
    let model = match cx.params.text("query_model") {
        "" | "1" => 1,
        "2" => 2,
        "3" => 3,
        _ => return Err(bad()),
    };
    let start = parse_date(cx.params.text("start_datetime"))?;
    let end = parse_date(cx.params.text("end_datetime"))?;
    let today = cx.today();
    let end = end.unwrap_or(today);
    let start = match start {
        Some(s) => s,
        None => today.checked_sub_months(Months::new(1)).ok_or_else(bad)?,
    };
    if start > end || (end - start).num_days() > MAX_SPAN_DAYS {
        return Err(bad());
    }
    let offset = cx.ybx.svc.settings().offset;
    let first_ms = to_millis(from_local(start.and_time(chrono::NaiveTime::MIN), offset));
    let after = end.succ_opt().ok_or_else(bad)?;
    let last_ms = to_millis(from_local(after.and_time(chrono::NaiveTime::MIN), offset)) - 1;
    Ok(match model {
        1 => VisitOrderRange::Created(first_ms, last_ms),
        2 => VisitOrderRange::Visit(start, end),
        _ => VisitOrderRange::Delivered(first_ms, last_ms),
    })
}

/// `QueryOrdersList.aspx` (4.2.9) and, with `count`, `QueryOrderPageListCount.aspx` (4.2.10).
///
/// Decisions where the document is silent:
/// - Validation order: `Query_model` → `Start_datetime` → `End_datetime` → (list only)
///   `Page_index`; any 14-digit all-digit date answers `-1 调用失败，失败原因：此版本已暂停使用…`,
///   any other date that is not a valid `yyyyMMdd` → `-1901 参数错误。`.
/// - The default start is today minus one calendar month (clamped to the month's end, e.g.
///   03-31 → 02-28); the span check is `end − start ≤ 31` days, so the defaults always pass.
/// - `Query_model` 1 and 3 take whole venue-local days (+08:00) from 00:00 of the start to the
///   end of the end date; model 3 lists only delivered orders (a delivery time is recorded).
/// - `Page_index` is 0-based, must be a non-negative integer (`-1901` otherwise); a page past the
///   end answers `-1 没有获取到相关产品的定单信息。`. The count page ignores `Page_index`.
/// - Filters are exact after trimming: `SJHM` = booking mobile, `ZJHM` = booking (pick-up) ID
///   number (case-insensitive, not the real-name persons' numbers), `YDDH` = order number, `ZT` =
///   state code (case-insensitive), `ProductID` = any line's product (case-insensitive).
/// - Records are the caller's orders at its supplier, newest first (creation time, then id).
/// - Record fields follow QueryOrder's rules; `tickettypedesc` = `<name><count><unit>` per line
///   joined by `,`, `dealdesc` = `共成交` + the same with delivered counts (empty before delivery),
///   `feetotal` = the order's fees, `returnfees` 0.00.
/// - The count page reports `pagesize` 20, `pagecount = ceil(recordcount / 20)`, `recordcount`.
pub async fn query_orders_list(cx: &Ctx, count: bool) -> Answer {
    let range = match list_range(cx) {
        Ok(r) => r,
        Err(a) => return a,
    };
    let page = if count {
        0
    } else {
        match cx.params.text("page_index").parse::<usize>() {
            Ok(p) => p,
            Err(_) => return Answer::err(-1901, codes::PARAM_ERROR_DOT),
        }
    };
    let filter = Filter {
        mobile: cx.params.text("sjhm"),
        id_number: cx.params.text("zjhm"),
        number: cx.params.text("yddh"),
        state: cx.params.text("zt"),
        product: cx.params.text("productid"),
    };
    let orders = match cx.ybx.svc.store().visit_orders(cx.agent.id(), range).await {
        Ok(list) => list,
        Err(e) => return failure(&e),
    };
    let matching: Vec<&VisitOrder> = orders
        .iter()
        .filter(|o| o.venue_id == cx.venue.id)
        .filter(|o| !matches!(range, VisitOrderRange::Delivered(..)) || delivered(o))
        .filter(|o| filter.matches(o))
        .collect();
    if count {
        if matching.is_empty() {
            return Answer::err(-1, codes::COUNT_EMPTY);
        }
        let records = matching.len();
        let mut x = Xml::new();
        x.open("item")
            .leaf("pagesize", PAGE_SIZE)
            .leaf("pagecount", records.div_ceil(PAGE_SIZE))
            .leaf("recordcount", records)
            .close("item");
        return Answer::ok("", x.finish());
    }
    let from = page.saturating_mul(PAGE_SIZE);
    let slice: Vec<&VisitOrder> = matching.into_iter().skip(from).take(PAGE_SIZE).collect();
    if slice.is_empty() {
        return Answer::err(-1, codes::LIST_EMPTY);
    }
    let mut x = Xml::new();
    x.open("Items");
    for o in slice {
        list_item(&mut x, cx, o);
    }
    x.close("Items");
    Answer::ok("", x.finish())
}

/// One `<Item>` of QueryOrdersList.
fn list_item(x: &mut Xml, cx: &Ctx, o: &VisitOrder) {
    let f = Figures::of(o);
    let deal_desc = if delivered(o) {
        format!(
            "共成交{}",
            ticket_summary(o, f.lines.iter().map(|l| l.deal_num))
        )
    } else {
        String::new()
    };
    x.open("Item");
    head(x, cx, o);
    x.leaf("orderstatus", state_code(o.state))
        .leaf("summary", money(o.total))
        .leaf(
            "tickettypedesc",
            ticket_summary(o, o.detail.items.iter().map(|i| i.count)),
        )
        .leaf("dealtotal", money(f.deal_amount + f.fees))
        .leaf("dealdesc", deal_desc)
        .leaf("feetotal", money(f.fees))
        .leaf("backtotal", money(f.return_total))
        .leaf("backstatus", back_status(o, &f))
        .leaf("paychannel", pay_channel(&o.detail))
        .leaf("returnticketdesc", return_ticket_desc(o, &f))
        .leaf("returncount", f.return_count)
        .leaf("returntotal", money(f.return_total))
        .leaf("returnfees", money(0))
        .leaf(
            "returnpaychanneldesc",
            refund_desc(&o.detail, f.return_total),
        );
    delivery_fields(x, cx, o);
    buyer_fields(x, o);
    x.close("Item");
}

/// The `status` of a real-name person: 0 not delivered, 1 ticket issued, 2 ticket refunded.
fn person_status(o: &VisitOrder, id_number: &str, product: &str) -> &'static str {
    if !delivered(o) {
        return "0";
    }
    let own: Vec<&VisitTicket> = o
        .tickets
        .iter()
        .filter(|t| !t.id_number.is_empty() && t.id_number.eq_ignore_ascii_case(id_number))
        .collect();
    let refunded = if own.is_empty() {
        // A ticket for several people: refunded when every ticket of the product is.
        let of_product: Vec<&VisitTicket> = o
            .tickets
            .iter()
            .filter(|t| t.product.eq_ignore_ascii_case(product))
            .collect();
        !of_product.is_empty() && of_product.iter().all(|t| t.status == 2)
    } else {
        own.iter().all(|t| t.status == 2)
    };
    if refunded {
        "2"
    } else {
        "1"
    }
}

/// `GetProductsIdentity.aspx` (4.2.51): one `<Item>` per real-name person of an order.
///
/// Decisions where the document is silent:
/// - `orderid` missing or blank → `-1 单号不能为空......`; unknown or another agent's →
///   `-1 指定的预约单不存在。` (existence is not leaked).
/// - `status`: `0` the order is not delivered (whatever its state, including closed), `1` ticket
///   issued (picked up / activated / used), `2` the person's ticket was refunded; a person without
///   a ticket of their own (one ticket for several people) counts as refunded when every ticket
///   of the product is.
/// - `type` is the stored document type (1 ID card … 4 other).
/// - An order without real-name persons answers `0` with no `<Item>`.
pub async fn get_products_identity(cx: &Ctx) -> Answer {
    let number = cx.params.text("orderid");
    if number.is_empty() {
        return Answer::err(-1, codes::IDENTITY_NO_ORDER);
    }
    let order = match own_order(cx, number).await {
        Ok(Some(o)) => o,
        Ok(None) => return Answer::err(-1, codes::IDENTITY_UNKNOWN),
        Err(a) => return a,
    };
    let mut x = Xml::new();
    for p in &order.detail.persons {
        let (product, name) = order
            .detail
            .items
            .get(p.item)
            .map(|i| (i.product.as_str(), i.name.as_str()))
            .unwrap_or(("", ""));
        x.open("Item")
            .leaf("orderid", &order.number)
            .leaf("productid", product)
            .leaf("productname", name)
            .leaf("type", p.id_type)
            .leaf("status", person_status(&order, &p.id_number, product))
            .leaf("identitycode", &p.id_number)
            .leaf("name", &p.name)
            .leaf("mobile", &p.mobile)
            .close("Item");
    }
    Answer::ok("", x.finish())
}
