//! RESTTicketing: `AddTickets` (`order/tickets`), `GetOrder` (`order`), `CancelOrder`
//! (`order/cancel`), `StartExternalPayment` (`order/startexternalpayment`), `CompleteOrder`
//! (`order/payment`) and `QueryOrderBookingStatus` (`order/query-booking-status`).

use crate::codes::{self, Code};
use crate::wire::{contract, date, json_response, sorted, BadField, Body};
use crate::{unauthorized, Vista};
use axum::body::Body as HttpBody;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use boxoffice_core::catalog::{Catalog, SeatKey, SeatKind};
use boxoffice_core::order::{Booking, ClientRef, Customer, Order};
use boxoffice_core::service::{CompleteError, HoldError, HoldRequest, PaymentLine, TicketRequest};
use boxoffice_core::store::CancelOutcome;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The client identity fields every POST body may carry.
pub(crate) fn client_ref(body: &Body) -> ClientRef {
    ClientRef {
        class: body
            .str("OptionalClientClass")
            .ok()
            .flatten()
            .unwrap_or_default(),
        id: body
            .str("OptionalClientId")
            .ok()
            .flatten()
            .unwrap_or_default(),
        name: body
            .str("OptionalClientName")
            .ok()
            .flatten()
            .unwrap_or_default(),
    }
}

/// Renders an `Order` in progress; `None` renders the empty order GetOrder shows for orders that
/// are consumed, cancelled, expired or unknown.
pub(crate) fn render_order(
    vista: &Vista,
    catalog: &Catalog,
    key: &str,
    order: Option<&Order>,
) -> Value {
    let offset = vista.svc.settings().offset;
    let Some(order) = order.filter(|o| o.state.is_open()) else {
        let last = order
            .map(|o| o.updated_ms)
            .unwrap_or_else(|| vista.svc.now_ms());
        return sorted(vec![
            ("BookingFeeValueCents", json!(0)),
            ("CinemaId", Value::Null),
            ("Concessions", Value::Null),
            ("Customer", Value::Null),
            ("LastUpdated", date(last, offset)),
            ("Sessions", Value::Null),
            ("TotalOrderCount", json!(0)),
            ("TotalTicketFeeValueInCents", Value::Null),
            ("TotalValueCents", json!(0)),
            ("UserSessionId", json!(key)),
            ("VistaBookingNumber", json!(0)),
            ("VistaTransactionNumber", json!(0)),
        ]);
    };
    let venue = catalog.venue_by_id(order.venue_id);
    let cinema_id = venue.map(|v| v.code.clone()).unwrap_or_default();
    let mut by_session: BTreeMap<i64, Vec<&boxoffice_core::order::OrderTicket>> = BTreeMap::new();
    for t in &order.tickets {
        by_session.entry(t.session_id).or_default().push(t);
    }
    let sessions: Vec<Value> = by_session
        .iter()
        .map(|(sid, tickets)| {
            let session = catalog.session_by_id(*sid);
            let film = session.and_then(|s| venue.and_then(|v| v.film(&s.film)));
            let start = session.map(|s| vista.svc.session_start_ms(s)).unwrap_or(0);
            let code: i64 = session.and_then(|s| s.code.parse().ok()).unwrap_or(0);
            let tickets: Vec<Value> = tickets
                .iter()
                .map(|t| {
                    let tt = venue.and_then(|v| v.ticket_type(&t.ticket_type));
                    sorted(vec![
                        (
                            "AltDescription",
                            json!(tt.map(|t| t.description_alt.as_str()).unwrap_or("")),
                        ),
                        ("Barcode", json!("")),
                        (
                            "Description",
                            json!(tt.map(|t| t.description.as_str()).unwrap_or("")),
                        ),
                        ("DescriptionTranslations", json!([])),
                        ("DiscountPriceCents", json!(0)),
                        ("DiscountsAvailable", json!([])),
                        ("Id", json!(t.seq.to_string())),
                        ("IsTicketPackage", json!(false)),
                        ("LoyaltyRecognitionId", json!("")),
                        ("LoyaltyRecognitionSequence", json!(0)),
                        ("PackageConcessions", Value::Null),
                        ("PackageId", Value::Null),
                        ("PackageTickets", Value::Null),
                        ("PriceCents", json!(t.price)),
                        ("PromotionInstanceGroupNumber", Value::Null),
                        ("PromotionTicketTypeId", Value::Null),
                        ("SeatData", json!(format!("{}{}", t.row_name, t.seat_name))),
                        ("SeatNumber", json!(t.seat_name)),
                        ("SeatRowId", json!(t.row_name)),
                        ("TicketTypeCode", json!(t.ticket_type)),
                        ("TicketTypeHOPK", json!("")),
                    ])
                })
                .collect();
            let seated = tickets.iter().all(|t| t["SeatNumber"] != json!(""));
            sorted(vec![
                ("AllocatedSeating", json!(true)),
                ("AltFilmClassification", json!("")),
                (
                    "AltFilmTitle",
                    json!(film.map(|f| f.title_alt.as_str()).unwrap_or("")),
                ),
                ("CinemaId", json!(cinema_id)),
                (
                    "FilmClassification",
                    json!(film.map(|f| f.rating.as_str()).unwrap_or("")),
                ),
                (
                    "FilmTitle",
                    json!(film.map(|f| f.title.as_str()).unwrap_or("")),
                ),
                ("FilmTitleTranslations", json!([])),
                ("SeatsAllocated", json!(seated)),
                ("SessionId", json!(code)),
                ("ShowingRealDateTime", date(start, offset)),
                ("Tickets", Value::Array(tickets)),
            ])
        })
        .collect();
    sorted(vec![
        ("BookingFeeValueCents", json!(order.booking_fee)),
        ("CinemaId", json!(cinema_id)),
        ("Concessions", Value::Null),
        ("Customer", Value::Null),
        ("LastUpdated", date(order.updated_ms, offset)),
        ("Sessions", Value::Array(sessions)),
        ("TotalOrderCount", json!(order.tickets.len())),
        ("TotalTicketFeeValueInCents", Value::Null),
        ("TotalValueCents", json!(order.total)),
        ("UserSessionId", json!(order.external_ref)),
        ("VistaBookingNumber", json!(0)),
        ("VistaTransactionNumber", json!(0)),
    ])
}

struct AddTicketsAnswer {
    code: Code,
    text: Option<String>,
    available: i64,
    max_per_row: i64,
    order: Value,
    statuses: Value,
}

fn add_tickets_response(a: AddTicketsAnswer) -> Response {
    let text = a
        .text
        .map(Value::String)
        .unwrap_or_else(|| a.code.error_description());
    json_response(&contract(
        vec![("ErrorDescription", text), ("Result", json!(a.code.0))],
        vec![
            ("AreaSummaryData", Value::Null),
            ("AvailableSeats", json!(a.available)),
            ("ExtendedResultCode", json!(0)),
            ("MaxSeatsPerRow", json!(a.max_per_row)),
            ("Order", a.order),
            ("RedemptionsRemainingForVouchers", Value::Null),
            ("SeatData", Value::Null),
            ("SeatDataLength", json!(0)),
            ("SeatLayoutData", Value::Null),
            ("SeatsNotAllocated", json!(false)),
            ("SessionStatuses", a.statuses),
        ],
    ))
}

fn add_tickets_error(code: Code, text: Option<String>) -> Response {
    add_tickets_response(AddTicketsAnswer {
        code,
        text,
        available: 0,
        max_per_row: 0,
        order: Value::Null,
        statuses: Value::Null,
    })
}

/// The exact text Vista answers when a price differs from the session price.
pub fn price_override_text(ticket_type: &str, expected: i64) -> String {
    format!(
        "Ticket type {ticket_type} could not be added to the order because ticket price overrides are not allowed. Either provide the correct price in cents, {expected}, or enable the AllowTicketPriceOverride security behaviour for your profile."
    )
}

struct ParsedAddTickets {
    key: String,
    cinema: String,
    session: String,
    lines: Vec<TicketRequest>,
    seats: Option<Vec<SeatKey>>,
    order_fee: Option<i64>,
    return_order: bool,
    client: ClientRef,
}

fn parse_add_tickets(body: &Body) -> Result<ParsedAddTickets, BadField> {
    let mut lines = Vec::new();
    for t in body.array("TicketTypes")?.ok_or(BadField)? {
        let t = Body::of(t).ok_or(BadField)?;
        lines.push(TicketRequest {
            ticket_type: t.required_str("TicketTypeCode")?,
            qty: t.int("Qty")?.ok_or(BadField)?,
            price: t.int("PriceInCents")?.ok_or(BadField)?,
            booking_fee: t.int("BookingFeeOverride")?,
            area_category: t.str("OptionalAreaCategoryCode")?,
        });
    }
    let seats = match body.array("SelectedSeats")? {
        None => None,
        Some(list) => {
            let mut seats = Vec::with_capacity(list.len());
            for s in list {
                let s = Body::of(s).ok_or(BadField)?;
                let k = SeatKey {
                    area: i32::try_from(s.int("AreaNumber")?.ok_or(BadField)?)
                        .map_err(|_| BadField)?,
                    row: i32::try_from(s.int("RowIndex")?.ok_or(BadField)?)
                        .map_err(|_| BadField)?,
                    column: i32::try_from(s.int("ColumnIndex")?.ok_or(BadField)?)
                        .map_err(|_| BadField)?,
                };
                seats.push((k, s.str("AreaCategoryCode")?));
            }
            Some(seats)
        }
    };
    Ok(ParsedAddTickets {
        key: body.required_str("UserSessionId")?,
        cinema: body.required_str("CinemaId")?,
        session: body.required_str("SessionId")?,
        lines,
        seats: seats.map(|s| s.into_iter().map(|(k, _)| k).collect()),
        order_fee: body.int("BookingFeeOverride")?,
        return_order: body.bool("ReturnOrder")?.unwrap_or(true),
        client: client_ref(body),
    })
}

/// AddTickets (锁座): holds seats for the order named by `UserSessionId`.
pub async fn add_tickets(
    State(vista): State<Arc<Vista>>,
    headers: HeaderMap,
    body: HttpBody,
) -> Response {
    let Some(caller) = vista.caller(&headers) else {
        return unauthorized();
    };
    let Some(body) = vista.read_body(body).await else {
        return add_tickets_error(codes::INVALID_REQUEST_DATA, None);
    };
    let Ok(req) = parse_add_tickets(&body) else {
        return add_tickets_error(codes::INVALID_REQUEST_DATA, None);
    };
    // Each selected seat's area category must be the one the layout has for it.
    let catalog = vista.svc.catalog();
    if let (Some(seats), Some(list)) = (&req.seats, body.array("SelectedSeats").ok().flatten()) {
        let screen = catalog.venue(&req.cinema).and_then(|v| {
            catalog
                .session(v.id, &req.session)
                .and_then(|s| v.screen(s.screen))
        });
        if let Some(screen) = screen {
            for (k, raw) in seats.iter().zip(list) {
                let given = Body::of(raw).and_then(|b| b.str("AreaCategoryCode").ok().flatten());
                let actual = screen.area(k.area).map(|a| a.category.as_str());
                if let (Some(g), Some(a)) = (given.as_deref(), actual) {
                    if !g.is_empty() && g != a {
                        return add_tickets_error(codes::INVALID_REQUEST_DATA, None);
                    }
                }
            }
        }
    }
    let hold = HoldRequest {
        partner: caller.partner.clone(),
        protocol: boxoffice_core::catalog::Protocol::Vista,
        external_ref: req.key.clone(),
        client: req.client.clone(),
        venue_code: req.cinema.clone(),
        session_code: req.session.clone(),
        lines: req.lines,
        seats: req.seats,
        order_booking_fee: req.order_fee,
        allow_price_override: caller.allow_price_override,
        member_validated: false,
        lifetime: None,
    };
    let result = vista.svc.hold(hold).await;
    let (code, text) = match &result {
        Ok(_) => (codes::OK, None),
        Err(HoldError::PriceMismatch {
            ticket_type,
            expected,
        }) => (
            codes::INVALID_REQUEST_DATA,
            Some(price_override_text(ticket_type, *expected)),
        ),
        Err(HoldError::Invalid(_))
        | Err(HoldError::UnknownVenue)
        | Err(HoldError::UnknownSession)
        | Err(HoldError::UnknownTicketType(_))
        | Err(HoldError::InvalidQuantity)
        | Err(HoldError::SeatCountMismatch)
        | Err(HoldError::SeatNotFound)
        | Err(HoldError::SeatAreaMismatch)
        | Err(HoldError::VenueMismatch) => (codes::INVALID_REQUEST_DATA, None),
        Err(HoldError::SeatsUnavailable)
        | Err(HoldError::NotOnSale)
        | Err(HoldError::FlaggedSoldOut) => (codes::SEATS_UNAVAILABLE, None),
        Err(HoldError::NoContiguousSeats) => (codes::NO_CONTIGUOUS_SEATS, None),
        Err(HoldError::MemberRequired) => (codes::NO_LOYALTY_MEMBER, None),
        Err(HoldError::OrderClosed) | Err(HoldError::OrderLocked) => {
            (codes::PAYMENTS_PROCESSED, None)
        }
        Err(HoldError::Store(e)) => {
            tracing::error!(error = %e, "AddTickets: storage failure");
            (codes::DB_ERROR, None)
        }
    };
    let Ok(order) = result else {
        return add_tickets_error(code, text);
    };
    let Some((venue, session)) = catalog.venue(&req.cinema).and_then(|v| {
        catalog
            .session(v.id, &req.session)
            .map(|s| (v.clone(), s.clone()))
    }) else {
        return add_tickets_error(codes::UNEXPECTED_ERROR, None);
    };
    let available = vista
        .svc
        .seats_available(&venue, &session)
        .await
        .unwrap_or(0) as i64;
    let max_per_row = venue
        .screen(session.screen)
        .map(|s| {
            s.areas
                .iter()
                .flat_map(|a| a.rows.iter())
                .map(|r| {
                    r.seats
                        .iter()
                        .filter(|s| s.kind == SeatKind::Normal)
                        .count()
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0) as i64;
    let session_id: i64 = session.code.parse().unwrap_or(0);
    add_tickets_response(AddTicketsAnswer {
        code,
        text,
        available,
        max_per_row,
        order: if req.return_order {
            render_order(&vista, &catalog, &req.key, Some(&order))
        } else {
            Value::Null
        },
        statuses: json!([sorted(vec![
            ("MaximumNumberOfSeatsPerRow", json!(max_per_row)),
            ("NumberOfSeatsAvailable", json!(available)),
            ("SessionId", json!(session_id)),
        ])]),
    })
}

/// GetOrder: the order in progress under `UserSessionId`, or the empty order (`CinemaId:null`)
/// once it was submitted to CompleteOrder, cancelled, expired, or never existed.
pub async fn get_order(
    State(vista): State<Arc<Vista>>,
    headers: HeaderMap,
    body: HttpBody,
) -> Response {
    let Some(caller) = vista.caller(&headers) else {
        return unauthorized();
    };
    let key = match vista.order_key(body).await {
        Some(k) => k,
        _ => {
            return json_response(&json!({"Order": null, "Result": codes::INVALID_REQUEST_DATA.0}))
        }
    };
    match vista.svc.order(&caller.partner, &key).await {
        Ok(order) => {
            let catalog = vista.svc.catalog();
            json_response(
                &json!({"Order": render_order(&vista, &catalog, &key, order.as_ref()), "Result": 0}),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "GetOrder: storage failure");
            json_response(&json!({"Order": null, "Result": codes::DB_ERROR.0}))
        }
    }
}

fn plain(code: Code) -> Response {
    json_response(&contract(
        vec![
            ("ErrorDescription", code.error_description()),
            ("Result", json!(code.0)),
        ],
        vec![],
    ))
}

/// CancelOrder: releases the seats of an order in progress. Idempotent; refuses (56) once paid.
pub async fn cancel_order(
    State(vista): State<Arc<Vista>>,
    headers: HeaderMap,
    body: HttpBody,
) -> Response {
    let Some(caller) = vista.caller(&headers) else {
        return unauthorized();
    };
    let key = match vista.order_key(body).await {
        Some(k) => k,
        _ => return plain(codes::INVALID_REQUEST_DATA),
    };
    match vista.svc.cancel(&caller.partner, &key).await {
        Ok(CancelOutcome::Cancelled) | Ok(CancelOutcome::NothingToCancel) => plain(codes::OK),
        Ok(CancelOutcome::AlreadyCompleted) => plain(codes::PAYMENTS_PROCESSED),
        Err(e) => {
            tracing::error!(error = %e, "CancelOrder: storage failure");
            plain(codes::DB_ERROR)
        }
    }
}

fn start_payment_response(code: Code) -> Response {
    json_response(&contract(
        vec![
            ("ErrorDescription", code.error_description()),
            ("Result", json!(code.0)),
        ],
        vec![
            ("ExtendedResultCode", json!(0)),
            ("PaymentRedirectUrl", Value::Null),
        ],
    ))
}

/// StartExternalPayment: the partner is collecting money; the order is frozen and its seats
/// are kept (no silent expiry) until CompleteOrder or CancelOrder.
pub async fn start_external_payment(
    State(vista): State<Arc<Vista>>,
    headers: HeaderMap,
    body: HttpBody,
) -> Response {
    let Some(caller) = vista.caller(&headers) else {
        return unauthorized();
    };
    let key = match vista.order_key(body).await {
        Some(k) => k,
        _ => return start_payment_response(codes::INVALID_REQUEST_DATA),
    };
    if !caller.allow_external_payments {
        return start_payment_response(codes::EXTERNAL_PAYMENTS_DISABLED);
    }
    match vista.svc.start_payment(&caller.partner, &key).await {
        Ok(true) => start_payment_response(codes::OK),
        Ok(false) => start_payment_response(codes::INVALID_REQUEST_DATA),
        Err(e) => {
            tracing::error!(error = %e, "StartExternalPayment: storage failure");
            start_payment_response(codes::DB_ERROR)
        }
    }
}

struct PaymentIn {
    line: PaymentLine,
    bill_full: bool,
    expiry_month: Option<String>,
    expiry_year: Option<String>,
}

fn parse_payment(p: &Body) -> Result<PaymentIn, BadField> {
    let card_type = p.str("CardType")?.unwrap_or_else(|| "CreditCard".into());
    Ok(PaymentIn {
        line: PaymentLine {
            card_number: p
                .str("CardNumber")?
                .unwrap_or_else(|| "9999 9999 9999 9999".into()),
            tender_category: p
                .str("PaymentTenderCategory")?
                .unwrap_or_else(|| card_type.clone()),
            keep_unmasked: card_type.eq_ignore_ascii_case("LOYAL"),
            card_type,
            value: p.int("PaymentValueCents")?.unwrap_or(0),
        },
        bill_full: p.bool("BillFullOutstandingAmount")?.unwrap_or(false),
        expiry_month: p.str("CardExpiryMonth")?,
        expiry_year: p.str("CardExpiryYear")?,
    })
}

fn payment_line_json(p: &PaymentIn, masked: &str, status: &str, billed: i64) -> Value {
    sorted(vec![
        ("BankReference", Value::Null),
        ("BankTransactionNumber", Value::Null),
        ("BillFullOutstandingAmount", json!(p.bill_full)),
        ("BillingValueCents", json!(billed)),
        ("CardBalance", Value::Null),
        ("CardCVC", Value::Null),
        ("CardExpiryMonth", json!(p.expiry_month)),
        ("CardExpiryYear", json!(p.expiry_year)),
        ("CardHash", Value::Null),
        ("CardIssueNumber", Value::Null),
        ("CardNumber", json!(masked)),
        ("CardType", json!(p.line.card_type)),
        ("CardValidFromMonth", Value::Null),
        ("CardValidFromYear", Value::Null),
        ("CustomerTaxName", Value::Null),
        ("CustomerTaxNumber", Value::Null),
        ("MemberId", Value::Null),
        ("PaymentErrorCode", Value::Null),
        ("PaymentErrorDescription", Value::Null),
        ("PaymentStatus", json!(status)),
        ("PaymentSystemId", Value::Null),
        ("PaymentTenderCategory", json!(p.line.tender_category)),
        ("PaymentToken", Value::Null),
        ("PaymentTokenType", Value::Null),
        ("PaymentValueCents", json!(p.line.value)),
        ("SaveCardToWallet", json!(false)),
        ("UseAsBookingRef", json!(false)),
        ("WalletAccessToken", Value::Null),
    ])
}

fn complete_response(
    code: Code,
    text: Option<String>,
    booking: Option<(&Booking, &str)>,
    lines: Value,
) -> Response {
    let text = text
        .map(Value::String)
        .unwrap_or_else(|| code.error_description());
    let (cinema, history, id, number, trans) = match booking {
        Some((b, cinema)) => (
            json!(cinema),
            json!(b.history_id.to_string()),
            json!(format!("W{}", b.code)),
            json!(b.number.to_string()),
            json!(b.trans_number.to_string()),
        ),
        None => (
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ),
    };
    json_response(&sorted(vec![
        ("BalanceList", Value::Null),
        ("CinemaID", cinema),
        ("ErrorDescription", text),
        ("ExtendedResultCode", json!(0)),
        ("HistoryID", history),
        ("PassCollection", Value::Null),
        ("PaymentInfoCollection", lines),
        ("PrintStream", json!("")),
        ("PrintStreamCollection", Value::Null),
        ("Result", json!(code.0)),
        ("VistaBookingId", id),
        ("VistaBookingNumber", number),
        ("VistaTransNumber", trans),
    ]))
}

/// CompleteOrder: books the order after the partner collected the money (`PerformPayment:false`).
pub async fn complete_order(
    State(vista): State<Arc<Vista>>,
    headers: HeaderMap,
    body: HttpBody,
) -> Response {
    let Some(caller) = vista.caller(&headers) else {
        return unauthorized();
    };
    let invalid = || complete_response(codes::INVALID_REQUEST_DATA, None, None, Value::Null);
    let Some(body) = vista.read_body(body).await else {
        return invalid();
    };
    let Ok(key) = body.required_str("UserSessionId") else {
        return invalid();
    };
    let Ok(single) = body.object("PaymentInfo") else {
        return invalid();
    };
    let Ok(collection) = body.array("PaymentInfoCollection") else {
        return invalid();
    };
    let mut raw: Vec<Body> = Vec::new();
    if let Some(list) = collection {
        for p in list {
            match Body::of(p) {
                Some(b) => raw.push(b),
                None => return invalid(),
            }
        }
    }
    if raw.is_empty() {
        match single.clone() {
            Some(p) => raw.push(p),
            None => return invalid(),
        }
    }
    // D001 prints PerformPayment and Customer* inside PaymentInfo: accept either level.
    let either = |name: &str| -> Result<Option<String>, BadField> {
        match body.str(name)? {
            Some(v) => Ok(Some(v)),
            None => single
                .as_ref()
                .map(|p| p.str(name))
                .transpose()
                .map(Option::flatten),
        }
    };
    let perform = match body.bool("PerformPayment") {
        Ok(Some(v)) => v,
        Ok(None) => match single
            .as_ref()
            .map(|p| p.bool("PerformPayment"))
            .transpose()
        {
            Ok(v) => v.flatten().unwrap_or(false),
            Err(_) => return invalid(),
        },
        Err(_) => return invalid(),
    };
    let (Ok(name), Ok(phone), Ok(email)) = (
        either("CustomerName"),
        either("CustomerPhone"),
        either("CustomerEmail"),
    ) else {
        return invalid();
    };
    let mut payments = Vec::with_capacity(raw.len());
    for p in &raw {
        match parse_payment(p) {
            Ok(p) => payments.push(p),
            Err(_) => return invalid(),
        }
    }
    if perform {
        // Member balance (LOYAL) and cinema payment connectors are not configured here.
        let loyal = payments
            .iter()
            .any(|p| p.line.card_type.eq_ignore_ascii_case("LOYAL"));
        let code = if loyal {
            codes::NO_LOYALTY_MEMBER
        } else {
            codes::PAYMENT_ERROR_PRE_COMMIT
        };
        return complete_response(code, None, None, Value::Null);
    }
    if !caller.allow_external_payments {
        return complete_response(codes::EXTERNAL_PAYMENTS_DISABLED, None, None, Value::Null);
    }
    if payments.iter().any(|p| p.line.value < 0) {
        return invalid();
    }
    // BillFullOutstandingAmount without a value pays what the other lines leave.
    if payments.iter().any(|p| p.bill_full && p.line.value == 0) {
        let order = match vista.svc.order(&caller.partner, &key).await {
            Ok(o) => o,
            Err(_) => return complete_response(codes::DB_ERROR, None, None, Value::Null),
        };
        let total = order.map(|o| o.total).unwrap_or(0);
        let given: i64 = payments.iter().map(|p| p.line.value).sum();
        if let Some(p) = payments
            .iter_mut()
            .find(|p| p.bill_full && p.line.value == 0)
        {
            p.line.value = (total - given).max(0);
        }
    }
    let lines: Vec<PaymentLine> = payments.iter().map(|p| p.line.clone()).collect();
    let customer = Customer {
        name: name.unwrap_or_default(),
        phone: phone.unwrap_or_default(),
        email: email.unwrap_or_default(),
    };
    match vista
        .svc
        .complete(&caller.partner, &key, &lines, customer)
        .await
    {
        Ok(booking) => {
            let catalog = vista.svc.catalog();
            let cinema = catalog
                .venue_by_id(booking.order.venue_id)
                .map(|v| v.code.clone())
                .unwrap_or_default();
            let rendered: Vec<Value> = payments
                .iter()
                .zip(&booking.payments)
                .map(|(p, stored)| payment_line_json(p, &stored.card_masked, "P", p.line.value))
                .collect();
            complete_response(
                codes::OK,
                None,
                Some((&booking, &cinema)),
                Value::Array(rendered),
            )
        }
        Err(CompleteError::TotalMismatch { expected, paid }) => complete_response(
            codes::PAYMENT_TOTAL_MISMATCH,
            Some(format!(
                "{} Payment total {paid} does not match order total {expected}.",
                codes::PAYMENT_TOTAL_MISMATCH.description()
            )),
            None,
            Value::Null,
        ),
        Err(CompleteError::NotOpen) => {
            let consumed = matches!(vista.svc.order(&caller.partner, &key).await, Ok(Some(o)) if matches!(o.state, boxoffice_core::order::OrderState::Completed | boxoffice_core::order::OrderState::Failed));
            let code = if consumed {
                codes::PAYMENTS_PROCESSED
            } else {
                codes::INVALID_REQUEST_DATA
            };
            complete_response(code, None, None, Value::Null)
        }
        Err(CompleteError::HoldLost) => {
            complete_response(codes::SEATS_UNAVAILABLE, None, None, Value::Null)
        }
        Err(CompleteError::Store(e)) => {
            tracing::error!(error = %e, "CompleteOrder: storage failure");
            complete_response(codes::DB_ERROR, None, None, Value::Null)
        }
    }
}

fn booking_status_response(code: i64, text: &str, summary: Value) -> Response {
    json_response(
        &json!({"OrderSummary": summary, "ResponseCode": code, "ResponseDescription": text}),
    )
}

/// QueryOrderBookingStatus: whether a booking exists for `UserSessionId` + `ClientId`.
pub async fn query_order_booking_status(
    State(vista): State<Arc<Vista>>,
    headers: HeaderMap,
    body: HttpBody,
) -> Response {
    let Some(caller) = vista.caller(&headers) else {
        return unauthorized();
    };
    let required = || {
        booking_status_response(
            4,
            "The UserSessionId and ClientId parameters are required",
            Value::Null,
        )
    };
    let Some(body) = vista.read_body(body).await else {
        return required();
    };
    let (Ok(key), Ok(client)) = (
        body.required_str("UserSessionId"),
        body.required_str("ClientId"),
    ) else {
        return required();
    };
    let bookings = match vista.svc.bookings_by_order_ref(&caller.partner, &key).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "QueryOrderBookingStatus: storage failure");
            return booking_status_response(
                codes::DB_ERROR.0,
                codes::DB_ERROR.description(),
                Value::Null,
            );
        }
    };
    let matching: Vec<&Booking> = bookings
        .iter()
        .filter(|b| b.order.client.id == client)
        .collect();
    match matching.as_slice() {
        [] => booking_status_response(47, "Booking does not exist at Cinema", Value::Null),
        [b] => {
            let catalog = vista.svc.catalog();
            let cinema = catalog
                .venue_by_id(b.order.venue_id)
                .map(|v| v.code.clone())
                .unwrap_or_default();
            booking_status_response(
                0,
                "Booking exists at Cinema",
                sorted(vec![
                    ("CinemaId", json!(cinema)),
                    ("TotalValueCents", json!(b.order.total)),
                    ("UserSessionId", json!(b.order.external_ref)),
                    ("VistaBookingId", json!(format!("W{}", b.code))),
                    ("VistaBookingNumber", json!(b.number)),
                ]),
            )
        }
        _ => booking_status_response(
            codes::ORDER_NOT_UNIQUE.0,
            "Order cannot be uniquely identified",
            Value::Null,
        ),
    }
}
