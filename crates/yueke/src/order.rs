//! Ticket orders: `order.confirmOrder`, `order.getOrderInfo`, `order.getTicketInfo`,
//! `ticket.printTicket`, `ticket.getOrderPrintStatus`, `order.refundOrder`.
//!
//! A confirmed lock is a core booking. Its wire identifiers: `orderId` =
//! `{yyyyMMdd}{cinemaLinkId}{booking number, 10 digits}`, `bookingId` = `printId` = the booking
//! number in 16 digits, `confirmationId` = the booking's 16-digit random collection code,
//! `ticketNo` = booking number (10 digits) + ticket sequence (6 digits).

use crate::codes::{self, BizCode};
use crate::lock::{lock_order_id, order_id_of};
use crate::schedule::{self, column_id, section_id, Schedule};
use crate::wire::{self, money, parse_money, Data};
use crate::{Caller, Yueke};
use axum::response::Response;
use boxoffice_core::catalog::{SeatKey, Venue};
use boxoffice_core::clock::{business_date, from_millis, local};
use boxoffice_core::order::{Booking, BookingState, Customer, OrderState, TicketSale};
use boxoffice_core::service::{BookingKey, CompleteError, PaymentLine, RefundError, RefundRequest};
use boxoffice_core::store::CollectOutcome;
use md5::{Digest, Md5};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

fn fmt_time(yk: &Yueke, ms: i64) -> String {
    local(from_millis(ms), yk.svc.settings().offset)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The `orderId` of a booking.
fn order_id(yk: &Yueke, link: &str, b: &Booking) -> String {
    let day = business_date(local(from_millis(b.created_ms), yk.svc.settings().offset));
    format!("{}{link}{:010}", day.format("%Y%m%d"), b.number)
}

fn ticket_no(b: &Booking, seq: i32) -> String {
    format!("{:010}{:06}", b.number, seq)
}

fn seat_code(k: SeatKey) -> String {
    format!(
        "{:016}",
        i64::from(k.area) * 1_000_000 + i64::from(k.row) * 1000 + i64::from(k.column)
    )
}

/// The booking named by an `orderId` at a cinema, for this channel.
async fn booking_by_order_id(
    yk: &Yueke,
    c: &Caller,
    venue: &Venue,
    link: &str,
    id: &str,
) -> Result<Option<Booking>, BizCode> {
    let Some(number) = order_id_of(id) else {
        return Ok(None);
    };
    match yk
        .svc
        .booking(&c.partner, &venue.code, &BookingKey::Number(number))
        .await
    {
        Ok(b) => Ok(b.filter(|b| !b.order.tickets.is_empty() && order_id(yk, link, b) == id)),
        Err(_) => Err(codes::SYSTEM_ERROR),
    }
}

/// The booking named by a `printId` (the booking number in 16 digits).
async fn booking_by_print_id(
    yk: &Yueke,
    c: &Caller,
    venue: &Venue,
    id: &str,
) -> Result<Option<Booking>, BizCode> {
    let Some(number) = id.parse::<i64>().ok().filter(|_| id.len() == 16) else {
        return Ok(None);
    };
    // Only orders with tickets are printed (goods are picked up with their own code).
    Ok(yk
        .svc
        .booking(&c.partner, &venue.code, &BookingKey::Number(number))
        .await
        .map_err(|_| codes::SYSTEM_ERROR)?
        .filter(|b| !b.order.tickets.is_empty()))
}

struct Seat<'a> {
    section: String,
    row: String,
    column: String,
    key: SeatKey,
    section_name: &'a str,
}

/// Section, row and column of every seat of the booking's screen, by position.
fn seats_of(venue: &Venue, screen_no: i32) -> HashMap<SeatKey, Seat<'_>> {
    let mut out = HashMap::new();
    if let Some(screen) = venue.screen(screen_no) {
        for a in &screen.areas {
            for r in &a.rows {
                for s in &r.seats {
                    out.insert(
                        s.key,
                        Seat {
                            section: section_id(a),
                            row: r.physical_name.clone().unwrap_or_default(),
                            column: column_id(&s.name),
                            key: s.key,
                            section_name: &a.description,
                        },
                    );
                }
            }
        }
    }
    out
}

/// The price and fee a ticket was sold for (declared at confirmation), else the venue's.
fn sale_of(b: &Booking, seq: i32, price: i64) -> (i64, i64) {
    b.sales
        .iter()
        .find(|s| s.seq == seq)
        .map(|s| (s.price, s.fee))
        .unwrap_or((price, 0))
}

fn confirmed(yk: &Yueke, c: &Caller, link: &str, venue: &Venue, b: &Booking) -> Response {
    let screen = b
        .order
        .tickets
        .first()
        .and_then(|t| {
            yk.svc
                .catalog()
                .session_by_id(t.session_id)
                .map(|s| s.screen)
        })
        .unwrap_or(0);
    let seats = seats_of(venue, screen);
    let tickets: Vec<Value> = b
        .order
        .tickets
        .iter()
        .filter_map(|t| {
            let s = seats.get(&t.seat?)?;
            let (_, fee) = sale_of(b, t.seq, t.price);
            Some(json!({
                "ticketNo": ticket_no(b, t.seq),
                "seatId": format!("{}-{}-{}", s.section, s.row, s.column),
                "seatCode": seat_code(s.key),
                "sectionId": s.section,
                "rowId": s.row,
                "columnId": s.column,
                "serviceFee": money(fee),
            }))
        })
        .collect();
    wire::object(
        &c.api,
        &c.v,
        codes::BIZ_SUCCESS,
        Some(with_goods_order(
            link,
            b,
            json!({
                "orderId": order_id(yk, link, b),
                "bookingId": format!("{:016}", b.number),
                "confirmationId": b.pickup_code,
                "tickets": tickets,
            }),
        )),
    )
}

/// Adds `goodsOrder` to an order's data when it has goods (mixed orders).
fn with_goods_order(link: &str, b: &Booking, mut data: Value) -> Value {
    if !b.order.items.is_empty() {
        if let Some(m) = data.as_object_mut() {
            m.insert("goodsOrder".into(), crate::goods::goods_order(link, b));
        }
    }
    data
}

struct TicketIn {
    seat_id: String,
    price: i64,
    fee: i64,
    discounted: bool,
    /// Per-ticket payment lines (confirmOrderForMultiPay).
    payments: Vec<Value>,
}

fn parse_tickets(d: &Data) -> Result<Vec<TicketIn>, BizCode> {
    let list = d
        .array("ticketList")
        .map_err(|_| codes::SEAT_INFO_ERROR)?
        .unwrap_or_default();
    let mut out = Vec::with_capacity(list.len());
    for t in list {
        let t = Data(t.as_object().cloned().ok_or(codes::SEAT_INFO_ERROR)?);
        let seat_id = t
            .str("seatId")
            .map_err(|_| codes::SEAT_INFO_ERROR)?
            .ok_or(codes::SEAT_INFO_ERROR)?;
        let price = t
            .str("ticketPrice")
            .map_err(|_| codes::FORMAT_ERROR)?
            .ok_or(codes::NULL_ARGUMENT)?;
        // Either spelling: `ticketFee` (requests, example) or `ticketfee` (getSchedules'
        // field table); `ticketFee` wins when both are given.
        let fee = match t.str("ticketFee").map_err(|_| codes::FORMAT_ERROR)? {
            Some(f) => f,
            None => t
                .str("ticketfee")
                .map_err(|_| codes::FORMAT_ERROR)?
                .ok_or(codes::NULL_ARGUMENT)?,
        };
        let flag = |name: &str| {
            t.str(name)
                .ok()
                .flatten()
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        };
        out.push(TicketIn {
            seat_id,
            price: parse_money(&price).ok_or(codes::FORMAT_ERROR)?,
            fee: parse_money(&fee).ok_or(codes::FORMAT_ERROR)?,
            discounted: flag("isBenefit") || flag("isCardDiscount"),
            payments: t
                .array("paymentList")
                .map_err(|_| codes::FORMAT_ERROR)?
                .unwrap_or_default(),
        });
    }
    Ok(out)
}

/// A digest of what a confirmation asks for, so a replay is recognised (G-IDEM-1).
fn fingerprint(
    api: &str,
    schedule: &str,
    tickets: &[TicketIn],
    mobile: &str,
    payments: &[Value],
) -> String {
    let mut t: Vec<(String, i64, i64, bool, String)> = tickets
        .iter()
        .map(|t| {
            (
                t.seat_id.clone(),
                t.price,
                t.fee,
                t.discounted,
                Value::Array(t.payments.clone()).to_string(),
            )
        })
        .collect();
    t.sort();
    let mut h = Md5::new();
    h.update(format!(
        "{api}|{schedule}|{t:?}|{mobile}|{}",
        Value::Array(payments.to_vec())
    ));
    hex::encode(h.finalize())
}

/// The price rules of R-PRICE / G-ORD-3 and the fee rules of G-SCH-7 / G-ORD-4 for one ticket.
fn check_price(s: &Schedule, venue: &Venue, category: &str, t: &TicketIn) -> Result<(), BizCode> {
    if t.price <= 0 {
        return Err(codes::TICKET_PRICE_ERROR);
    }
    let lowest = s.prices.iter().map(|p| p.1).min().unwrap_or(0);
    if t.price < lowest {
        return Err(codes::LOW_THAN_LEAST_PRICE_ERROR);
    }
    let (_, settle, fee, _) = s.price_of(category).ok_or(codes::SEAT_INFO_ERROR)?;
    if t.price < *settle {
        return Err(if Some(category) == s.base_category() {
            codes::LOW_THAN_SETTLE_PRICE_ERROR
        } else {
            codes::AREA_SEAT_LOW_THAN_AREA_SETTLE_PRICE_ERROR
        });
    }
    if t.fee != *fee || t.fee < 0 {
        return Err(codes::TICKET_FEE_ERROR);
    }
    // Shanghai cinemas: the fee may not exceed 12 yuan nor 20 % of the price.
    if venue.city_code.starts_with("31") && (t.fee > 1200 || t.fee * 5 > t.price) {
        return Err(codes::TICKET_FEE_ERROR);
    }
    Ok(())
}

/// Payment methods of confirmOrderForMultiPay (case-sensitive); `MemberCard` needs the
/// member-card front end and is refused until then.
const METHODS: &[&str] = &["Ali", "WeChat", "Cash", "Corp", "CinemaPay"];

/// One ticket's own payment lines: known methods, amounts that add up to price + fee, and
/// `thirdPartPayment` complete when given (G-ORD-9, G-ORD-10).
fn check_ticket_payments(t: &TicketIn) -> Result<(), BizCode> {
    check_payment_lines(&t.payments, t.price + t.fee)
}

/// One line's own payments (a ticket's or a goods line's): known methods, complete
/// `thirdPartPayment`, amounts adding up to `expected` fen exactly.
pub(crate) fn check_payment_lines(payments: &[Value], expected: i64) -> Result<(), BizCode> {
    if payments.is_empty() {
        return Err(codes::NULL_ARGUMENT);
    }
    let mut sum = 0i64;
    for p in payments {
        let p = Data(p.as_object().cloned().ok_or(codes::FORMAT_ERROR)?);
        let method = p
            .str("paymentMethod")
            .map_err(|_| codes::FORMAT_ERROR)?
            .ok_or(codes::NULL_ARGUMENT)?;
        if !METHODS.contains(&method.as_str()) {
            return Err(codes::PAYMENT_METHOD_ERROR);
        }
        let amount = p
            .str("payAmount")
            .map_err(|_| codes::FORMAT_ERROR)?
            .ok_or(codes::NULL_ARGUMENT)?;
        let amount = parse_money(&amount)
            .filter(|a| *a >= 0)
            .ok_or(codes::FORMAT_ERROR)?;
        if let Some(third) = p.0.get("thirdPartPayment").filter(|v| !v.is_null()) {
            let third = Data(third.as_object().cloned().ok_or(codes::FORMAT_ERROR)?);
            for field in ["thirdTradeNo", "outTradeNo"] {
                if third.str(field).map_err(|_| codes::FORMAT_ERROR)?.is_none() {
                    return Err(codes::NULL_ARGUMENT);
                }
            }
        }
        sum += amount;
    }
    if sum != expected {
        return Err(codes::PAYMENT_AMOUNT_ERROR);
    }
    Ok(())
}

/// `ykse.partner.order.confirmOrder`: books a lock after the channel took the money.
pub async fn confirm_order(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    confirm(yk, c, d, false, false).await
}

/// `ykse.partner.order.confirmMixOrder`: tickets of a lock plus goods, in one order.
pub async fn confirm_mix_order(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    confirm(yk, c, d, false, true).await
}

/// `ykse.partner.order.confirmMixOrderForMultiPay`: the same, with per-line payments.
pub async fn confirm_mix_order_for_multi_pay(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    confirm(yk, c, d, true, true).await
}

/// `ykse.partner.order.confirmOrderForMultiPay`: the same, with each ticket's own payment lines.
pub async fn confirm_order_for_multi_pay(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    confirm(yk, c, d, true, false).await
}

async fn confirm(yk: &Yueke, c: &Caller, d: &Data, multi: bool, with_goods: bool) -> Response {
    let fail = |code: BizCode| wire::failure(&c.api, &c.v, code);
    let lock_id = match d.str("lockOrderId") {
        Ok(Some(l)) => l,
        Ok(None) => return fail(codes::NULL_ARGUMENT),
        Err(_) => return fail(codes::FORMAT_ERROR),
    };
    let (link, s) = match crate::base::schedule_from(yk, c, d) {
        Ok(x) => x,
        Err(code) => return fail(code),
    };
    let venue = s.venue.clone();
    let lock = match order_id_of(&lock_id) {
        Some(id) => match yk.svc.order_by_id(&c.partner, id).await {
            Ok(o) => o.filter(|o| o.venue_id == venue.id && lock_order_id(yk, &link, o) == lock_id),
            Err(_) => return fail(codes::SYSTEM_ERROR),
        },
        None => None,
    };
    let Some(lock) = lock else {
        return fail(codes::ORDER_NOT_FOUND);
    };
    // The first confirmation request is recorded only when it fails: a success at the first
    // attempt is its own first request (reversals are timed from it, G-REV-1).
    let open = lock.state.is_open().then_some(lock.clone());
    let outcome: Result<Response, BizCode> = async {
        let tickets = match parse_tickets(d) {
            Ok(t) => t,
            Err(code) => return Err(code),
        };
        let mobile = match d.str("mobile") {
            Ok(m) => m.unwrap_or_default(),
            Err(_) => return Err(codes::FORMAT_ERROR),
        };
        let payments = match d.array("paymentList") {
            Ok(p) => p.unwrap_or_default(),
            Err(_) => return Err(codes::FORMAT_ERROR),
        };
        if !with_goods
            && d.array("goodsList")
                .ok()
                .flatten()
                .is_some_and(|g| !g.is_empty())
        {
            // Goods go through the mixed-order APIs.
            return Err(codes::GOODS_INFO_ERROR);
        }
        let goods = if with_goods {
            match crate::goods::parse_goods(d, &venue, multi) {
                Ok(g) => g,
                Err(code) => return Err(code),
            }
        } else {
            Vec::new()
        };
        let digest = fingerprint(
            &format!("{}|{}", c.api, crate::goods::digest_part(&goods)),
            &s.session.code,
            &tickets,
            &mobile,
            &payments,
        );
        match lock.state {
            OrderState::Completed => {
                return match yk
                    .svc
                    .bookings_by_order_ref(&c.partner, &lock.external_ref)
                    .await
                {
                    Ok(list) => match list.into_iter().find(|b| b.order.id == lock.id) {
                        Some(b) if b.fingerprint.as_deref() == Some(digest.as_str()) => {
                            Ok(confirmed(yk, c, &link, &venue, &b))
                        }
                        Some(_) => Err(codes::REQUEST_PARAM_INCONFORMITY_ERROR),
                        None => Err(codes::ORDER_NOT_FOUND),
                    },
                    Err(_) => Err(codes::SYSTEM_ERROR),
                };
            }
            OrderState::InProgress | OrderState::PaymentStarted => {}
            _ => return Err(codes::ORDER_SEAT_ERROR),
        }
        if lock.tickets.iter().any(|t| t.session_id != s.session.id) {
            return Err(codes::LOCKSEAT_UNMATCH);
        }
        if yk.svc.now_ms() > s.stop_selling_ms {
            return Err(codes::ORDER_TICKET_TIME_END);
        }
        if mobile.is_empty() {
            return Err(codes::NULL_ARGUMENT);
        }
        if mobile.len() != 11
            || !mobile.starts_with('1')
            || !mobile.chars().all(|ch| ch.is_ascii_digit())
        {
            return Err(codes::FORMAT_ERROR);
        }
        // Member and co-branded cards come with the member-card front end.
        if (multi && !payments.is_empty())
            || (!multi && (!payments.is_empty() || tickets.iter().any(|t| !t.payments.is_empty())))
            || tickets.iter().any(|t| t.discounted)
        {
            return Err(codes::PAYMENT_METHOD_ERROR);
        }
        if tickets.is_empty() {
            return Err(codes::SEAT_INFO_NOT_NULL);
        }
        if tickets.len() != lock.tickets.len() {
            return Err(codes::SEAT_COUNT_ERROR);
        }
        let Some(screen) = s.screen() else {
            return Err(codes::SCHEDULE_NOT_FOUND);
        };
        let ids = schedule::seat_ids(screen);
        let mut sales = Vec::with_capacity(tickets.len());
        for t in &tickets {
            let Some(key) = ids.get(&t.seat_id) else {
                return Err(codes::SEAT_INFO_ERROR);
            };
            let Some(held) = lock.tickets.iter().find(|h| h.seat == Some(*key)) else {
                return Err(codes::SEAT_INFO_ERROR);
            };
            if sales.iter().any(|x: &TicketSale| x.seq == held.seq) {
                return Err(codes::SEAT_INFO_ERROR);
            }
            check_price(&s, &venue, &held.area_category, t)?;
            if multi {
                check_ticket_payments(t)?;
            }
            sales.push(TicketSale {
                seq: held.seq,
                price: t.price,
                fee: t.fee,
            });
        }
        // The cinema is owed the lock's total; what the channel charged is recorded per ticket.
        let line = PaymentLine {
            card_number: String::new(),
            card_type: "YUEKE".into(),
            tender_category: "YUEKE".into(),
            value: lock.total,
            keep_unmasked: true,
        };
        let customer = Customer {
            name: String::new(),
            phone: mobile,
            email: String::new(),
        };
        let mut line = line;
        if !goods.is_empty() {
            let client = boxoffice_core::order::ClientRef {
                class: "YUEKE".into(),
                id: link.clone(),
                name: c.partner.name.clone(),
            };
            let items = goods.into_iter().map(|g| g.item).collect();
            match yk
                .svc
                .add_items(
                    &c.partner,
                    boxoffice_core::catalog::Protocol::Yueke,
                    &lock.external_ref,
                    &venue.code,
                    client,
                    items,
                )
                .await
            {
                Ok(o) => line.value = o.total,
                Err(boxoffice_core::service::HoldError::Store(_)) => {
                    return Err(codes::SYSTEM_ERROR)
                }
                Err(_) => return Err(codes::ORDER_SEAT_ERROR),
            }
        }
        match yk
            .svc
            .complete_with(
                &c.partner,
                &lock.external_ref,
                &[line],
                customer,
                Some(digest),
                sales,
            )
            .await
        {
            Ok(b) => Ok(confirmed(yk, c, &link, &venue, &b)),
            Err(CompleteError::NotOpen) | Err(CompleteError::HoldLost) => {
                Err(codes::ORDER_SEAT_ERROR)
            }
            Err(CompleteError::TotalMismatch { .. }) => Err(codes::PAYMENT_AMOUNT_ERROR),
            Err(CompleteError::Store(e)) => {
                tracing::error!(error = %e, "confirmOrder: storage failure");
                Err(codes::SYSTEM_ERROR)
            }
        }
    }
    .await;
    match outcome {
        Ok(r) => r,
        Err(code) => {
            if let Some(lock) = open {
                if let Err(e) = yk.svc.note_attempt(&lock).await {
                    tracing::error!(error = %e, "confirmOrder: storage failure");
                }
            }
            fail(code)
        }
    }
}

/// The refund reason that marks a reversal.
const REVERSAL: &str = "reverseOrder";

fn status(b: &Booking) -> &'static str {
    match b.state {
        BookingState::Paid => "ticket_success",
        BookingState::Refunded if b.refund_reason.as_deref() == Some(REVERSAL) => "reverse_success",
        BookingState::Refunded => "refund_success",
    }
}

fn film_and_screen(
    yk: &Yueke,
    venue: &Arc<Venue>,
    b: &Booking,
) -> (String, String, String, String, i64) {
    let catalog = yk.svc.catalog();
    let session = b
        .order
        .tickets
        .first()
        .and_then(|t| catalog.session_by_id(t.session_id).cloned());
    let film = session.as_ref().and_then(|s| venue.film(&s.film));
    let screen = session.as_ref().and_then(|s| venue.screen(s.screen));
    (
        film.map(|f| f.short_code.clone()).unwrap_or_default(),
        film.map(|f| f.title.clone()).unwrap_or_default(),
        session
            .as_ref()
            .map(|s| s.screen.to_string())
            .unwrap_or_default(),
        screen.map(|s| s.name.clone()).unwrap_or_default(),
        session
            .as_ref()
            .map(|s| yk.svc.session_start_ms(s))
            .unwrap_or(0),
    )
}

fn ticket_rows(venue: &Venue, b: &Booking, screen_no: &str, with_names: bool) -> Vec<Value> {
    let seats = seats_of(venue, screen_no.parse().unwrap_or(0));
    let flag = |on: bool| if on { "Y" } else { "N" };
    b.order
        .tickets
        .iter()
        .filter_map(|t| {
            let s = seats.get(&t.seat?)?;
            let (price, fee) = sale_of(b, t.seq, t.price);
            let mut m = Map::new();
            m.insert("ticketNo".into(), json!(ticket_no(b, t.seq)));
            m.insert("seatCode".into(), json!(seat_code(s.key)));
            m.insert("sectionId".into(), json!(s.section));
            if with_names {
                m.insert("sectionName".into(), json!(s.section_name));
                m.insert(
                    "infoCode".into(),
                    json!(format!("{}{}", b.pickup_code, ticket_no(b, t.seq))),
                );
            }
            m.insert("rowId".into(), json!(s.row));
            m.insert("columnId".into(), json!(s.column));
            m.insert("ticketPrice".into(), json!(money(price)));
            m.insert("ticketFee".into(), json!(money(fee)));
            m.insert("serviceFee".into(), json!(money(fee)));
            m.insert("printStatus".into(), json!(flag(b.collected)));
            m.insert(
                "refundStatus".into(),
                json!(flag(b.state == BookingState::Refunded)),
            );
            Some(Value::Object(m))
        })
        .collect()
}

/// `ykse.partner.order.getOrderInfo`: a confirmed order by `orderId` or `lockOrderId`.
pub async fn get_order_info(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    let fail = |code: BizCode| wire::failure(&c.api, &c.v, code);
    let (Ok(link), Ok(order), Ok(lock)) = (
        d.str("cinemaLinkId"),
        d.str("orderId"),
        d.str("lockOrderId"),
    ) else {
        return fail(codes::FORMAT_ERROR);
    };
    let Some(link) = link else {
        return fail(codes::NULL_ARGUMENT);
    };
    if order.is_none() && lock.is_none() {
        return fail(codes::NULL_ARGUMENT);
    }
    let venue = match schedule::cinema(yk, c, &link) {
        Ok(v) => v,
        Err(code) => return fail(code),
    };
    let booking = match (order, lock) {
        (Some(id), _) => booking_by_order_id(yk, c, &venue, &link, &id).await,
        (None, Some(lock_id)) => match order_id_of(&lock_id) {
            Some(id) => match yk.svc.order_by_id(&c.partner, id).await {
                Ok(Some(o))
                    if o.venue_id == venue.id && lock_order_id(yk, &link, &o) == lock_id =>
                {
                    match yk
                        .svc
                        .bookings_by_order_ref(&c.partner, &o.external_ref)
                        .await
                    {
                        Ok(list) => Ok(list.into_iter().find(|b| b.order.id == o.id)),
                        Err(_) => Err(codes::SYSTEM_ERROR),
                    }
                }
                Ok(_) => Ok(None),
                Err(_) => Err(codes::SYSTEM_ERROR),
            },
            None => Ok(None),
        },
        (None, None) => Ok(None),
    };
    let b = match booking {
        Ok(Some(b)) => b,
        Ok(None) => return fail(codes::ORDER_NOT_FOUND),
        Err(code) => return fail(code),
    };
    let (film_code, film_name, hall, _, start) = film_and_screen(yk, &venue, &b);
    // `goodsOrder` is documented for every order: `null` (an Object type) without goods.
    let goods_order = if b.order.items.is_empty() {
        Value::Null
    } else {
        crate::goods::goods_order(&link, &b)
    };
    wire::object(
        &c.api,
        &c.v,
        codes::BIZ_SUCCESS,
        Some(json!({
            "orderId": order_id(yk, &link, &b),
            "bookingId": format!("{:016}", b.number),
            "confirmationId": b.pickup_code,
            "showDateTime": fmt_time(yk, start),
            "hallId": hall,
            "filmCode": film_code,
            "shortName": film_name,
            "status": status(&b),
            "tickets": ticket_rows(&venue, &b, &hall, false),
            "goodsOrder": goods_order,
        })),
    )
}

/// `ykse.partner.order.getTicketInfo`: an order by its collection number (`confirmationId`).
pub async fn get_ticket_info(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    let fail = |code: BizCode| wire::failure(&c.api, &c.v, code);
    let (Ok(link), Ok(conf)) = (d.str("cinemaLinkId"), d.str("confirmationId")) else {
        return fail(codes::FORMAT_ERROR);
    };
    let (Some(link), Some(conf)) = (link, conf) else {
        return fail(codes::NULL_ARGUMENT);
    };
    let venue = match schedule::cinema(yk, c, &link) {
        Ok(v) => v,
        Err(code) => return fail(code),
    };
    let b = match yk
        .svc
        .booking_by_pickup_code(&c.partner, &venue.code, &conf)
        .await
    {
        Ok(Some(b)) => b,
        Ok(None) => return fail(codes::CONFIRMATIONID_WRONG),
        Err(_) => return fail(codes::SYSTEM_ERROR),
    };
    let (film_code, film_name, hall, hall_name, start) = film_and_screen(yk, &venue, &b);
    let channel_code = c
        .partner
        .credential(crate::PROTOCOL)
        .map(|cr| cr.key.clone())
        .unwrap_or_default();
    wire::object(
        &c.api,
        &c.v,
        codes::BIZ_SUCCESS,
        Some(json!({
            "printId": format!("{:016}", b.number),
            "bookingId": format!("{:016}", b.number),
            "confirmationId": b.pickup_code,
            "showDateTime": fmt_time(yk, start),
            "cinemaName": venue.name,
            "hallId": hall,
            "hallName": hall_name,
            "filmCode": film_code,
            "shortName": film_name,
            "channelCode": channel_code,
            "channelName": c.partner.name,
            "createDateTime": fmt_time(yk, b.created_ms),
            "tickets": ticket_rows(&venue, &b, &hall, true),
        })),
    )
}

/// `ykse.ticket.printTicket` and `getOrderPrintStatus` answer with their request echoed in `data`.
fn print_answer(c: &Caller, code: BizCode, link: &str, print_id: &str) -> Response {
    wire::object(
        &c.api,
        &c.v,
        code,
        Some(json!({"cinemaLinkId": link, "printId": print_id})),
    )
}

async fn print_target(
    yk: &Yueke,
    c: &Caller,
    d: &Data,
) -> Result<(String, String, Booking), BizCode> {
    let (Ok(link), Ok(print_id)) = (d.str("cinemaLinkId"), d.str("printId")) else {
        return Err(codes::FORMAT_ERROR);
    };
    let (Some(link), Some(print_id)) = (link, print_id) else {
        return Err(codes::NULL_ARGUMENT);
    };
    let venue = schedule::cinema(yk, c, &link)?;
    let b = booking_by_print_id(yk, c, &venue, &print_id)
        .await?
        .ok_or(codes::CONFIRMATIONID_WRONG)?;
    Ok((link, print_id, b))
}

/// `ykse.partner.ticket.printTicket`: marks an order's tickets printed (then not refundable).
pub async fn print_ticket(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    let (link, print_id, b) = match print_target(yk, c, d).await {
        Ok(x) => x,
        Err(code) => return wire::failure(&c.api, &c.v, code),
    };
    if b.collected || b.state != BookingState::Paid {
        return print_answer(c, codes::PRINT_TICKET_NOT_ALLOW, &link, &print_id);
    }
    match yk.svc.collect(&b).await {
        Ok(CollectOutcome::Collected(_)) => print_answer(c, codes::BIZ_SUCCESS, &link, &print_id),
        Ok(CollectOutcome::Refunded) => {
            print_answer(c, codes::PRINT_TICKET_NOT_ALLOW, &link, &print_id)
        }
        Err(_) => wire::failure(&c.api, &c.v, codes::SYSTEM_ERROR),
    }
}

/// `ykse.partner.ticket.getOrderPrintStatus`: whether an order's tickets may be printed.
pub async fn get_order_print_status(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    match print_target(yk, c, d).await {
        Ok((link, print_id, b)) => {
            let code = if b.state == BookingState::Paid && !b.collected {
                codes::PRINT_TICKET_ALLOW
            } else {
                codes::PRINT_TICKET_NOT_ALLOW
            };
            print_answer(c, code, &link, &print_id)
        }
        Err(code) => wire::failure(&c.api, &c.v, code),
    }
}

/// The order named by `cinemaLinkId` + `orderId` (refund and reversal requests), which must be
/// a mixed order (tickets and goods) exactly when `mixed`, else `wrong_type`.
async fn order_target(
    yk: &Yueke,
    c: &Caller,
    d: &Data,
    mixed: bool,
    wrong_type: BizCode,
) -> Result<(String, String, Arc<Venue>, Booking), BizCode> {
    let (Ok(link), Ok(id)) = (d.str("cinemaLinkId"), d.str("orderId")) else {
        return Err(codes::FORMAT_ERROR);
    };
    let (Some(link), Some(id)) = (link, id) else {
        return Err(codes::NULL_ARGUMENT);
    };
    let venue = schedule::cinema(yk, c, &link)?;
    let b = booking_by_order_id(yk, c, &venue, &link, &id)
        .await?
        .ok_or(codes::ORDER_NOT_FOUND)?;
    if b.order.items.is_empty() == mixed {
        return Err(wrong_type);
    }
    Ok((link, id, venue, b))
}

/// `ykse.partner.order.refundOrder`: refunds a whole ticket order within the cinema's policy.
pub async fn refund_order(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    refund_ticket_order(yk, c, d, false).await
}

/// `ykse.partner.order.refundMixOrder`: refunds a mixed order (tickets and goods) at once.
pub async fn refund_mix_order(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    refund_ticket_order(yk, c, d, true).await
}

async fn refund_ticket_order(yk: &Yueke, c: &Caller, d: &Data, mixed: bool) -> Response {
    let fail = |code: BizCode| wire::failure(&c.api, &c.v, code);
    let (link, id, venue, b) =
        match order_target(yk, c, d, mixed, codes::REFUND_ORDER_TYPE_NOT_MATCH).await {
            Ok(x) => x,
            Err(code) => return fail(code),
        };
    if b.state == BookingState::Refunded {
        // A reversed order was not refunded by the channel (G-REF-4).
        return fail(if b.refund_reason.as_deref() == Some(REVERSAL) {
            codes::REFUND_TICKET_STATUS_INCORRECT
        } else {
            codes::TICKET_HAS_REFUND
        });
    }
    if b.collected {
        return fail(codes::TICKET_HAS_PRINT);
    }
    let Some(before) = venue.refund_before_minutes else {
        return fail(codes::REFUND_POLICY_NOT_FOUND);
    };
    let catalog = yk.svc.catalog();
    let Some(session) = b
        .order
        .tickets
        .first()
        .and_then(|t| catalog.session_by_id(t.session_id))
    else {
        return fail(codes::ORDER_NOT_FOUND);
    };
    if yk.svc.now_ms() > yk.svc.session_start_ms(session) - before * 60_000 {
        return fail(codes::CANCEL_TIME_ERROR);
    }
    if let Some(limit) = venue.refund_limit_per_session {
        match yk.svc.refunds_in_session(session.id, REVERSAL).await {
            Ok(n) if n >= limit => return fail(codes::OVER_REFUND_UPPER_LIMIT),
            Ok(_) => {}
            Err(_) => return fail(codes::SYSTEM_ERROR),
        }
    }
    refund(yk, c, &venue, &b, "refundOrder", &link, &id).await
}

/// Refunds a whole booking for a reason.
pub(crate) async fn refund_booking(
    yk: &Yueke,
    c: &Caller,
    venue_code: &str,
    b: &Booking,
    reason: &str,
) -> Result<(), BizCode> {
    let req = RefundRequest {
        venue_code: venue_code.to_string(),
        key: BookingKey::Number(b.number),
        reason: reason.into(),
        amount: None,
        refund_booking_fee: true,
        payment: None,
    };
    match yk.svc.refund(&c.partner, req).await {
        Ok(_) => Ok(()),
        Err(RefundError::AlreadyRefunded) => Err(codes::TICKET_HAS_REFUND),
        Err(RefundError::Collected) => Err(codes::TICKET_HAS_PRINT),
        Err(RefundError::NotFound) => Err(codes::ORDER_NOT_FOUND),
        Err(RefundError::AmountMismatch { .. }) | Err(RefundError::PaymentMismatch) => {
            Err(codes::CANCEL_ORDER_CONDITION_ERROR)
        }
        Err(RefundError::Store(e)) => {
            tracing::error!(error = %e, "refund: storage failure");
            Err(codes::SYSTEM_ERROR)
        }
    }
}

/// Refunds a whole booking for a reason and answers `{cinemaLinkId, orderId}`.
async fn refund(
    yk: &Yueke,
    c: &Caller,
    venue: &Venue,
    b: &Booking,
    reason: &str,
    link: &str,
    id: &str,
) -> Response {
    match refund_booking(yk, c, &venue.code, b, reason).await {
        Ok(()) => wire::object(
            &c.api,
            &c.v,
            codes::BIZ_SUCCESS,
            Some(json!({"cinemaLinkId": link, "orderId": id})),
        ),
        Err(code) => wire::failure(&c.api, &c.v, code),
    }
}

/// `ykse.partner.order.reverseOrder`: undoes a ticket order whose confirmation was uncertain —
/// one that succeeded more than the reversal window (12 minutes) after its first confirmation
/// request — from the end of that window until the show starts. Idempotent.
pub async fn reverse_order(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    reverse(yk, c, d, false).await
}

/// `ykse.partner.order.reverseMixOrder`: the same for a mixed order.
pub async fn reverse_mix_order(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    reverse(yk, c, d, true).await
}

async fn reverse(yk: &Yueke, c: &Caller, d: &Data, mixed: bool) -> Response {
    let fail = |code: BizCode| wire::failure(&c.api, &c.v, code);
    let (link, id, venue, b) =
        match order_target(yk, c, d, mixed, codes::REVERSE_ORDER_TYPE_UNMATCH).await {
            Ok(x) => x,
            Err(code) => return fail(code),
        };
    if b.state == BookingState::Refunded {
        return if b.refund_reason.as_deref() == Some(REVERSAL) {
            wire::object(
                &c.api,
                &c.v,
                codes::BIZ_SUCCESS,
                Some(json!({"cinemaLinkId": link, "orderId": id})),
            )
        } else {
            fail(codes::REVERSE_TICKET_STATUS_INCORRECT)
        };
    }
    if b.collected {
        return fail(codes::TICKET_HAS_PRINT);
    }
    let window = yk.opts.reverse_after.num_milliseconds();
    let first = b.order.first_attempt_ms.unwrap_or(b.created_ms);
    let now = yk.svc.now_ms();
    if now < first + window {
        return fail(codes::REVERSE_TICKET_NO_TIME_YET);
    }
    let catalog = yk.svc.catalog();
    let Some(session) = b
        .order
        .tickets
        .first()
        .and_then(|t| catalog.session_by_id(t.session_id))
    else {
        return fail(codes::ORDER_NOT_FOUND);
    };
    if now >= yk.svc.session_start_ms(session) {
        return fail(codes::CANCEL_TIME_ERROR);
    }
    if b.created_ms - first <= window {
        return fail(codes::REVERSE_TICKET_STATUS_INCORRECT);
    }
    refund(yk, c, &venue, &b, REVERSAL, &link, &id).await
}
