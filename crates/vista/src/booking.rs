//! RESTBooking: `GetSingleBooking` (`booking`), `RefundBooking` (`booking/refund`) and
//! `MarkBookingAsCollected` (`booking/collect`, alias `booking/markcollected`).

use crate::codes::{self, Code};
use crate::wire::{date, json_response, sorted, BadField, Body};
use crate::{unauthorized, Vista};
use axum::body::Body as HttpBody;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use boxoffice_core::clock::{from_millis, local};
use boxoffice_core::order::{Booking, BookingState};
use boxoffice_core::service::{BookingKey, PaymentLine, RefundError, RefundRequest};
use boxoffice_core::store::CollectOutcome;
use serde_json::{json, Value};
use std::sync::Arc;

fn result(code: Code, text: Option<&str>) -> Value {
    let text = text
        .map(|t| Value::String(t.to_string()))
        .unwrap_or_else(|| code.error_description());
    json!({"ErrorDescription": text, "ResultCode": code.0})
}

/// The booking key of a request: `BookingId` (`W` + code, or the code) or `BookingNumber`
/// (0 = not given).
fn booking_key(body: &Body) -> Result<Option<BookingKey>, BadField> {
    if let Some(n) = body.int("BookingNumber")?.filter(|n| *n != 0) {
        return Ok(Some(BookingKey::Number(n)));
    }
    Ok(body
        .str("BookingId")?
        .filter(|s| !s.trim().is_empty())
        .map(|id| {
            let id = id.trim().to_ascii_uppercase();
            BookingKey::Code(
                id.strip_prefix('W')
                    .filter(|c| c.len() == 6)
                    .unwrap_or(&id)
                    .to_string(),
            )
        }))
}

/// Renders a `Booking` as GetSingleBooking returns it.
fn render_booking(vista: &Vista, b: &Booking) -> Value {
    let offset = vista.svc.settings().offset;
    let catalog = vista.svc.catalog();
    let venue = catalog.venue_by_id(b.order.venue_id);
    let refunded = b.state == BookingState::Refunded;
    let flag = |on: bool| json!(if on { "1" } else { "0" });
    let tickets: Vec<Value> = b
        .order
        .tickets
        .iter()
        .map(|t| {
            let session = catalog.session_by_id(t.session_id);
            let film = session.and_then(|s| venue.and_then(|v| v.film(&s.film)));
            let tt = venue.and_then(|v| v.ticket_type(&t.ticket_type));
            sorted(vec![
                ("CollecteStatus", flag(b.collected)),
                ("CollectedStatus", flag(b.collected)),
                (
                    "Description",
                    json!(tt.map(|t| t.description.as_str()).unwrap_or("")),
                ),
                (
                    "DescriptionAlt",
                    json!(tt.map(|t| t.description_alt.as_str()).unwrap_or("")),
                ),
                (
                    "MovieName",
                    json!(film.map(|f| f.title.as_str()).unwrap_or("")),
                ),
                (
                    "MovieNameAlt",
                    json!(film.map(|f| f.title_alt.as_str()).unwrap_or("")),
                ),
                ("PriceInCents", json!(t.price)),
                ("RefundedStatus", flag(refunded)),
                ("SeatNumber", json!(t.seat_name)),
                ("SeatRowId", json!(t.row_name)),
                (
                    "SessionDateTime",
                    date(
                        session.map(|s| vista.svc.session_start_ms(s)).unwrap_or(0),
                        offset,
                    ),
                ),
                (
                    "SessionId",
                    json!(session
                        .and_then(|s| s.code.parse::<i64>().ok())
                        .unwrap_or(0)),
                ),
                ("TicketSequenceNumber", json!(t.seq)),
                ("TicketTypeCode", json!(t.ticket_type)),
            ])
        })
        .collect();
    let booked_local = local(from_millis(b.created_ms), offset);
    let display = venue
        .map(|v| v.display_name().to_string())
        .unwrap_or_default();
    let payments: Vec<Value> = b
        .payments
        .iter()
        .map(|p| {
            sorted(vec![
                ("CardNumber", json!(p.card_masked)),
                ("CardType", json!(p.card_type)),
                ("PaymentTenderCategory", json!(p.tender_category)),
                ("PaymentValueCents", json!(p.value)),
            ])
        })
        .collect();
    sorted(vec![
        ("BookingDate", date(b.created_ms, offset)),
        ("BookingId", json!(format!("W{}", b.code))),
        ("BookingNumber", json!(b.number)),
        (
            "BookingRef",
            json!(format!(
                "{display}-{}, {}",
                b.number,
                booked_local.format("%Y/%m/%d %H:%M")
            )),
        ),
        ("CancelledStatus", flag(refunded)),
        (
            "CinemaId",
            json!(venue.map(|v| v.code.as_str()).unwrap_or("")),
        ),
        (
            "CinemaName",
            json!(venue.map(|v| v.name.as_str()).unwrap_or("")),
        ),
        ("ClientId", json!(b.order.client.id)),
        ("Email", json!(b.customer.email)),
        ("FirstName", json!(b.customer.name)),
        ("IsPaid", json!(true)),
        ("LastName", json!("")),
        (
            "MaskedBookingCardNumber",
            json!(b
                .payments
                .first()
                .map(|p| p.card_masked.as_str())
                .unwrap_or("")),
        ),
        ("Payments", Value::Array(payments)),
        ("Phone", json!(b.customer.phone)),
        ("PickupName", json!("")),
        ("Tickets", Value::Array(tickets)),
        ("TotalBookingFeeValueCents", json!(b.order.booking_fee)),
        ("TotalValueCents", json!(b.order.total)),
        ("UserSessionId", json!(b.order.external_ref)),
        ("VistaTransactionId", json!(b.trans_number)),
    ])
}

fn single_booking(code: Code, booking: Value) -> Response {
    json_response(
        &json!({"Booking": booking, "ErrorDescription": code.error_description(), "ResultCode": code.0}),
    )
}

/// GetSingleBooking: a completed booking with its tickets' collection and refund status.
pub async fn get_single_booking(
    State(vista): State<Arc<Vista>>,
    headers: HeaderMap,
    body: HttpBody,
) -> Response {
    let Some(caller) = vista.caller(&headers) else {
        return unauthorized();
    };
    let Some(body) = vista.read_body(body).await else {
        return single_booking(codes::INVALID_REQUEST_DATA, Value::Null);
    };
    let (Ok(cinema), Ok(Some(key))) = (body.required_str("CinemaId"), booking_key(&body)) else {
        return single_booking(codes::INVALID_REQUEST_DATA, Value::Null);
    };
    match vista.svc.booking(&caller.partner, &cinema, &key).await {
        Ok(Some(b)) => single_booking(codes::OK, render_booking(&vista, &b)),
        Ok(None) => single_booking(codes::BOOKING_DOES_NOT_EXIST, Value::Null),
        Err(e) => {
            tracing::error!(error = %e, "GetSingleBooking: storage failure");
            single_booking(codes::DB_ERROR, Value::Null)
        }
    }
}

fn parse_refund(body: &Body) -> Result<RefundRequest, BadField> {
    let mark_only = body.bool("MarkAsRefundedOnly")?.unwrap_or(false);
    let payment = match body.object("PaymentInfo")? {
        Some(p) if !mark_only => {
            let card_type = p.str("CardType")?.unwrap_or_default();
            Some(PaymentLine {
                card_number: p.str("CardNumber")?.unwrap_or_default(),
                tender_category: p
                    .str("PaymentTenderCategory")?
                    .unwrap_or_else(|| card_type.clone()),
                keep_unmasked: card_type.eq_ignore_ascii_case("LOYAL"),
                card_type,
                value: p.int("PaymentValueCents")?.unwrap_or(0),
            })
        }
        _ => None,
    };
    Ok(RefundRequest {
        venue_code: body.required_str("CinemaId")?,
        key: booking_key(body)?.ok_or(BadField)?,
        reason: body.str("RefundReason")?.unwrap_or_default(),
        amount: if mark_only {
            None
        } else {
            body.int("RefundAmount")?
        },
        refund_booking_fee: body.bool("RefundBookingFee")?.unwrap_or(false),
        payment,
    })
}

/// RefundBooking: refunds a paid booking whose tickets were not collected and puts its seats
/// back on sale.
pub async fn refund_booking(
    State(vista): State<Arc<Vista>>,
    headers: HeaderMap,
    body: HttpBody,
) -> Response {
    let Some(caller) = vista.caller(&headers) else {
        return unauthorized();
    };
    let Some(body) = vista.read_body(body).await else {
        return json_response(&result(codes::INVALID_REQUEST_DATA, None));
    };
    let Ok(req) = parse_refund(&body) else {
        return json_response(&result(codes::INVALID_REQUEST_DATA, None));
    };
    if !caller.allow_refunds {
        return json_response(&result(codes::BOOKING_REFUNDS_DISABLED, None));
    }
    let r = match vista.svc.refund(&caller.partner, req).await {
        Ok(_) => result(codes::OK, None),
        Err(RefundError::NotFound) => result(codes::BOOKING_DOES_NOT_EXIST, None),
        Err(RefundError::AlreadyRefunded) => result(codes::ORDER_HAS_BEEN_REFUNDED, None),
        Err(RefundError::Collected) => result(
            codes::REFUND_BOOKING_FAILED,
            Some("Refunding of booking failed: the tickets have already been printed; refund at the cinema box office"),
        ),
        Err(RefundError::AmountMismatch { expected }) => result(
            codes::REFUND_BOOKING_FAILED,
            Some(&format!("Refunding of booking failed: RefundAmount must be {expected}")),
        ),
        Err(RefundError::PaymentMismatch) => result(
            codes::REFUND_BOOKING_FAILED,
            Some("Refunding of booking failed: PaymentInfo does not match the payment of the booking"),
        ),
        Err(RefundError::Store(e)) => {
            tracing::error!(error = %e, "RefundBooking: storage failure");
            result(codes::DB_ERROR, None)
        }
    };
    json_response(&r)
}

fn collect_response(code: Code, pickup: Value) -> Response {
    json_response(
        &json!({"ErrorDescription": code.error_description(), "PickupNumber": pickup, "Result": code.0}),
    )
}

/// MarkBookingAsCollected: marks a booking's tickets printed (collected); refunds are then
/// refused online.
pub async fn mark_booking_as_collected(
    State(vista): State<Arc<Vista>>,
    headers: HeaderMap,
    body: HttpBody,
) -> Response {
    let Some(caller) = vista.caller(&headers) else {
        return unauthorized();
    };
    let Some(body) = vista.read_body(body).await else {
        return collect_response(codes::INVALID_REQUEST_DATA, Value::Null);
    };
    let (Ok(cinema), Ok(Some(key))) = (body.required_str("CinemaId"), booking_key(&body)) else {
        return collect_response(codes::INVALID_REQUEST_DATA, Value::Null);
    };
    let booking = match vista.svc.booking(&caller.partner, &cinema, &key).await {
        Ok(Some(b)) => b,
        Ok(None) => return collect_response(codes::BOOKING_DOES_NOT_EXIST, Value::Null),
        Err(_) => return collect_response(codes::DB_ERROR, Value::Null),
    };
    match vista.svc.collect(&booking).await {
        Ok(CollectOutcome::Collected(b)) => {
            collect_response(codes::OK, json!(format!("{:016}", b.number)))
        }
        Ok(CollectOutcome::Refunded) => {
            collect_response(codes::ORDER_HAS_BEEN_REFUNDED, Value::Null)
        }
        Err(_) => collect_response(codes::DB_ERROR, Value::Null),
    }
}
