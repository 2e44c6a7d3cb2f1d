//! Seat locks: `seat.lockSeats` and `seat.releaseSeats`.
//!
//! A lock is a core order held for the channel under its `outLockId` (so a repeated lockSeats is
//! recognised, G-LOCK-3); its `lockOrderId` is `{yyyyMMdd}{cinemaLinkId}{order id, 10 digits}`.

use crate::base::schedule_from;
use crate::codes::{self, BizCode};
use crate::schedule::seat_ids;
use crate::wire::{self, Data};
use crate::{Caller, Yueke};
use axum::response::Response;
use boxoffice_core::catalog::SeatKey;
use boxoffice_core::clock::{business_date, local};
use boxoffice_core::order::{ClientRef, Order, OrderState};
use boxoffice_core::service::{HoldError, HoldRequest, TicketRequest};
use boxoffice_core::store::CancelOutcome;
use serde_json::json;
use std::collections::HashSet;

/// The `lockOrderId` of an order.
pub(crate) fn lock_order_id(yk: &Yueke, link: &str, order: &Order) -> String {
    let day = business_date(local(
        boxoffice_core::clock::from_millis(order.created_ms),
        yk.svc.settings().offset,
    ));
    format!("{}{link}{:010}", day.format("%Y%m%d"), order.id)
}

/// The order id inside a `lockOrderId`.
pub(crate) fn order_id_of(lock_order_id: &str) -> Option<i64> {
    let n = lock_order_id.len();
    if n < 19 || !lock_order_id.is_ascii() {
        return None;
    }
    lock_order_id[n - 10..].parse().ok()
}

fn locked(
    yk: &Yueke,
    c: &Caller,
    link: &str,
    out_lock_id: &str,
    order: &Order,
    ids: &[String],
) -> Response {
    let seats: Vec<_> = ids.iter().map(|s| json!({"seatId": s})).collect();
    wire::object(
        &c.api,
        &c.v,
        codes::BIZ_SUCCESS,
        Some(
            json!({"lockOrderId": lock_order_id(yk, link, order), "outLockId": out_lock_id, "seats": seats}),
        ),
    )
}

/// `ykse.partner.seat.lockSeats`: locks seats of a schedule, all or nothing.
pub async fn lock_seats(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    let fail = |code: BizCode| wire::failure(&c.api, &c.v, code);
    let out_lock_id = match d.str("outLockId") {
        Ok(Some(s)) if s.chars().count() <= 20 => s,
        Ok(Some(_)) | Err(_) => return fail(codes::FORMAT_ERROR),
        Ok(None) => return fail(codes::NULL_ARGUMENT),
    };
    let seat_list = match d.array("seatIdList") {
        Ok(Some(list)) if !list.is_empty() => list,
        Ok(_) => return fail(codes::SEAT_INFO_NOT_NULL),
        Err(_) => return fail(codes::SEAT_INFO_ERROR),
    };
    let (link, s) = match schedule_from(yk, c, d) {
        Ok(x) => x,
        Err(code) => return fail(code),
    };
    let Some(screen) = s.screen() else {
        return fail(codes::SCHEDULE_NOT_FOUND);
    };
    let mut ids: Vec<String> = Vec::with_capacity(seat_list.len());
    for v in &seat_list {
        let id = match v {
            serde_json::Value::String(s) => s.trim().to_string(),
            _ => return fail(codes::SEAT_INFO_ERROR),
        };
        if id.split('-').count() != 3 || id.split('-').any(str::is_empty) {
            return fail(codes::SEATID_ERROR);
        }
        ids.push(id);
    }
    if ids.iter().collect::<HashSet<_>>().len() != ids.len() {
        return fail(codes::SEAT_INFO_ERROR);
    }
    if ids.len() > yk.opts.max_seats_per_lock {
        return fail(codes::OVER_MAX_TICKET);
    }
    let known = seat_ids(screen);
    let mut keys: Vec<SeatKey> = Vec::with_capacity(ids.len());
    for id in &ids {
        match known.get(id) {
            Some(k) => keys.push(*k),
            None => return fail(codes::SEAT_NOT_FOUND),
        }
    }
    // G-LOCK-3: the same outLockId again.
    match yk.svc.order(&c.partner, &out_lock_id).await {
        Ok(Some(o)) => {
            let same = o.tickets.len() == keys.len()
                && o.tickets.iter().all(|t| {
                    t.session_id == s.session.id && t.seat.is_some_and(|k| keys.contains(&k))
                });
            return match (o.state, same) {
                (OrderState::InProgress | OrderState::PaymentStarted, true) => {
                    locked(yk, c, &link, &out_lock_id, &o, &ids)
                }
                (OrderState::InProgress | OrderState::PaymentStarted, false) => {
                    fail(codes::REQUEST_PARAM_INCONFORMITY_ERROR)
                }
                _ => fail(codes::LOCKSEAT_UNMATCH),
            };
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "lockSeats: storage failure");
            return fail(codes::SYSTEM_ERROR);
        }
    }
    if s.session.sold_out || s.session.sales_closed {
        return fail(codes::SCHEDULE_NOT_OPEN);
    }
    if yk.svc.now_ms() > s.stop_selling_ms {
        return fail(codes::LOCK_SEAT_OUT_DATE);
    }
    let mut lines = Vec::with_capacity(keys.len());
    for k in &keys {
        let category = screen
            .area(k.area)
            .map(|a| a.category.clone())
            .unwrap_or_default();
        let Some((_, price, _, ticket_type)) = s.price_of(&category) else {
            return fail(codes::LOCK_SEAT_ERROR);
        };
        lines.push(TicketRequest {
            ticket_type: ticket_type.clone(),
            qty: 1,
            price: *price,
            booking_fee: None,
            area_category: Some(category),
        });
    }
    let hold = HoldRequest {
        partner: c.partner.clone(),
        protocol: boxoffice_core::catalog::Protocol::Yueke,
        external_ref: out_lock_id.clone(),
        client: ClientRef {
            class: "YUEKE".into(),
            id: link.clone(),
            name: c.partner.name.clone(),
        },
        venue_code: s.venue.code.clone(),
        session_code: s.session.code.clone(),
        lines,
        seats: Some(keys),
        order_booking_fee: None,
        allow_price_override: false,
        member_validated: false,
        lifetime: Some(yk.opts.lock_lifetime),
    };
    match yk.svc.hold(hold).await {
        Ok(order) => locked(yk, c, &link, &out_lock_id, &order, &ids),
        Err(HoldError::SeatsUnavailable)
        | Err(HoldError::PriceMismatch { .. })
        | Err(HoldError::SeatAreaMismatch) => fail(codes::LOCK_SEAT_ERROR),
        Err(HoldError::NotOnSale) => fail(codes::LOCK_SEAT_OUT_DATE),
        Err(HoldError::FlaggedSoldOut) => fail(codes::SCHEDULE_NOT_OPEN),
        Err(HoldError::InvalidQuantity) => fail(codes::OVER_MAX_TICKET),
        Err(HoldError::SeatNotFound) | Err(HoldError::SeatCountMismatch) => {
            fail(codes::SEAT_NOT_FOUND)
        }
        Err(HoldError::OrderClosed)
        | Err(HoldError::OrderLocked)
        | Err(HoldError::VenueMismatch) => fail(codes::LOCKSEAT_UNMATCH),
        Err(HoldError::UnknownVenue)
        | Err(HoldError::UnknownSession)
        | Err(HoldError::UnknownTicketType(_)) => fail(codes::SCHEDULE_NOT_FOUND),
        Err(HoldError::NoContiguousSeats)
        | Err(HoldError::MemberRequired)
        | Err(HoldError::Invalid(_)) => fail(codes::SEAT_INFO_ERROR),
        Err(HoldError::Store(e)) => {
            tracing::error!(error = %e, "lockSeats: storage failure");
            fail(codes::SYSTEM_ERROR)
        }
    }
}

/// `ykse.partner.seat.releaseSeats`: frees a lock's seats (idempotent, G-LOCK-5).
pub async fn release_seats(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    let fail = |code: BizCode| wire::failure(&c.api, &c.v, code);
    let (Ok(link), Ok(lock_id)) = (d.str("cinemaLinkId"), d.str("lockOrderId")) else {
        return fail(codes::FORMAT_ERROR);
    };
    let (Some(link), Some(lock_id)) = (link, lock_id) else {
        return fail(codes::NULL_ARGUMENT);
    };
    let venue = match crate::schedule::cinema(yk, c, &link) {
        Ok(v) => v,
        Err(code) => return fail(code),
    };
    let order = match order_id_of(&lock_id) {
        Some(id) => match yk.svc.order_by_id(&c.partner, id).await {
            Ok(o) => o.filter(|o| o.venue_id == venue.id && lock_order_id(yk, &link, o) == lock_id),
            Err(_) => return fail(codes::SYSTEM_ERROR),
        },
        None => None,
    };
    let Some(order) = order else {
        return fail(codes::ORDER_NOT_FOUND);
    };
    match yk.svc.cancel(&c.partner, &order.external_ref).await {
        Ok(CancelOutcome::Cancelled) | Ok(CancelOutcome::NothingToCancel) => wire::object(
            &c.api,
            &c.v,
            codes::BIZ_SUCCESS,
            Some(json!({"cinemaLinkId": link, "lockOrderId": lock_id})),
        ),
        Ok(CancelOutcome::AlreadyCompleted) => fail(codes::LOCKSEAT_UNMATCH),
        Err(_) => fail(codes::SYSTEM_ERROR),
    }
}

#[cfg(test)]
mod tests {
    use super::order_id_of;

    #[test]
    fn lock_order_ids_carry_the_order() {
        assert_eq!(order_id_of("202611238880000000042"), Some(42));
        assert_eq!(order_id_of("short"), None);
        assert_eq!(order_id_of("20261123888000000004x"), None);
    }
}
