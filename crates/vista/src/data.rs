//! RESTData: `GetTicketsForSession` (`…/cinemas/{cinemaId}/sessions/{sessionId}/tickets`) and
//! `GetSessionSeatPlan` (`…/cinemas/{cinemaId}/sessions/{sessionId}/seat-plan`).

use crate::codes::{Code, INVALID_REQUEST_DATA, OK, SEAT_MAP_SOLD_OUT};
use crate::wire::{bytes_response, contract, json_response, sorted, to_wire};
use crate::{unauthorized, Caller, Vista};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use boxoffice_core::catalog::{Screen, SeatKey, SeatKind, SeatStyle, Session, Venue};
use boxoffice_core::service::{SeatMap, SeatState};
use serde_json::{json, Value};
use std::sync::Arc;

/// A query-string parameter by case-insensitive name, percent-decoded.
pub(crate) fn query_param(raw: Option<&str>, name: &str) -> Option<String> {
    raw?.split('&').find_map(|item| {
        let (k, v) = item.split_once('=').unwrap_or((item, ""));
        k.eq_ignore_ascii_case(name)
            .then(|| boxoffice_odata::percent_decode(v))
    })
}

/// The venue and session named in a RESTData path, if the caller may see them.
pub(crate) fn find_session(
    vista: &Vista,
    caller: &Caller,
    cinema: &str,
    session: &str,
) -> Option<(Arc<Venue>, Arc<Session>)> {
    let catalog = vista.svc.catalog();
    let venue = catalog
        .venue_for(
            &caller.partner,
            boxoffice_core::catalog::Protocol::Vista,
            cinema,
        )?
        .clone();
    let session = catalog.session(venue.id, session)?.clone();
    Some((venue, session))
}

/// GetTicketsForSession: the ticket types the caller's channel may sell for a session, one
/// entry per area category price.
pub async fn get_tickets_for_session(
    State(vista): State<Arc<Vista>>,
    headers: HeaderMap,
    Path((cinema, session)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(caller) = vista.caller(&headers) else {
        return unauthorized();
    };
    let Some((venue, session)) = find_session(&vista, &caller, &cinema, &session) else {
        return json_response(&json!({"ResponseCode": INVALID_REQUEST_DATA.0, "Tickets": null}));
    };
    let include_members = query_param(query.as_deref(), "includeLoyaltyTicketsForNonMembers")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut types: Vec<_> = venue
        .ticket_types
        .iter()
        .filter(|t| t.sold_on(&caller.partner.channel))
        .collect();
    types.sort_by(|a, b| (a.display_sequence, &a.code).cmp(&(b.display_sequence, &b.code)));
    let mut tickets = Vec::new();
    for t in types {
        if t.member_only && !include_members {
            continue;
        }
        for p in session.prices_of(&t.code) {
            tickets.push(sorted(vec![
                ("AreaCategoryCode", json!(p.area_category)),
                ("CinemaId", json!(venue.code)),
                ("Description", json!(t.description)),
                ("DescriptionAlt", json!(t.description_alt)),
                ("DescriptionTranslations", json!([])),
                ("DiscountsAvailable", json!([])),
                ("DisplaySequence", json!(t.display_sequence)),
                ("HOPK", json!(t.hopk)),
                ("HeadOfficeGroupingCode", json!(t.head_office_grouping_code)),
                ("IsAllocatableSeating", json!(true)),
                ("IsAvailableAsLoyaltyRecognitionOnly", json!(false)),
                ("IsAvailableForLoyaltyMembersOnly", json!(t.member_only)),
                ("IsChildOnlyTicket", json!(t.child_only)),
                ("IsComplimentaryTicket", json!(t.complimentary)),
                ("IsDynamicallyPriced", json!(false)),
                ("IsPackageTicket", json!(false)),
                ("IsRedemptionTicket", json!(false)),
                ("IsThirdPartyMemberTicket", json!(false)),
                ("LongDescription", json!(t.long_description)),
                ("LongDescriptionAlt", json!("")),
                ("LongDescriptionTranslations", json!([])),
                ("LoyaltyBalanceTypeId", Value::Null),
                ("LoyaltyPointsCost", Value::Null),
                ("LoyaltyQuantityAvailable", Value::Null),
                ("LoyaltyRecognitionId", Value::Null),
                ("MaxServiceFeeInCents", Value::Null),
                ("MinServiceFeeInCents", Value::Null),
                ("PackageContent", json!({"Concessions": [], "Tickets": []})),
                ("PriceGroupCode", json!(session.price_group)),
                ("PriceInCents", json!(p.price)),
                ("ProductCodeForVoucher", json!("")),
                ("QuantityAvailablePerOrder", json!(t.max_per_order)),
                ("ResalePriceInCents", Value::Null),
                ("SalesChannels", json!(t.channels)),
                ("SurchargeAmount", json!(0)),
                ("ThirdPartyMembershipName", json!("")),
                ("TicketTypeCode", json!(t.code)),
                ("TotalTicketFeeAmountInCents", json!(p.booking_fee)),
            ]));
        }
    }
    json_response(&json!({"ResponseCode": OK.0, "Tickets": tickets}))
}

/// The `Status` a caller sees for a seat: 0 free, 1 sold or held by another order, 4 held by
/// the caller's own order (named by `userSessionId`), or the layout's fixed status.
fn seat_status(kind: SeatKind, state: SeatState, own_order: Option<i64>) -> (i64, i64) {
    let fixed = match kind {
        SeatKind::Normal => 0,
        SeatKind::House => 2,
        SeatKind::Special => 3,
        SeatKind::Broken => 5,
        SeatKind::Placeholder => 6,
        SeatKind::Companion => 7,
    };
    match state {
        SeatState::Free => (fixed, fixed),
        SeatState::Held(o) if Some(o) == own_order => (4, 0),
        SeatState::Held(_) | SeatState::Sold(_) => (1, 1),
    }
}

fn position(k: SeatKey) -> Value {
    json!({"AreaNumber": k.area, "ColumnIndex": k.column, "RowIndex": k.row})
}

/// Seats of a sofa group: the run from a `SofaLeft` to the next `SofaRight` in the row.
fn sofa_group(row: &[boxoffice_core::catalog::Seat], i: usize) -> Value {
    if row[i].style == SeatStyle::Normal {
        return Value::Null;
    }
    let mut start = i;
    while start > 0
        && row[start].style != SeatStyle::SofaLeft
        && row[start - 1].style != SeatStyle::Normal
        && row[start - 1].style != SeatStyle::SofaRight
    {
        start -= 1;
    }
    let mut end = i;
    while end + 1 < row.len()
        && row[end].style != SeatStyle::SofaRight
        && row[end + 1].style != SeatStyle::Normal
        && row[end + 1].style != SeatStyle::SofaLeft
    {
        end += 1;
    }
    Value::Array(row[start..=end].iter().map(|s| position(s.key)).collect())
}

/// Renders `SeatLayoutData` (type `Theatre`) for a screen and a seat-map snapshot.
pub(crate) fn seat_layout(screen: &Screen, map: &SeatMap, own_order: Option<i64>) -> Value {
    let mut categories: Vec<&str> = Vec::new();
    for a in &screen.areas {
        if !categories.contains(&a.category.as_str()) {
            categories.push(&a.category);
        }
    }
    let width = screen
        .areas
        .iter()
        .map(|a| a.column_count)
        .max()
        .unwrap_or(0);
    let area_categories: Vec<Value> = categories
        .iter()
        .map(|c| {
            let selected: Vec<Value> = screen
                .areas
                .iter()
                .filter(|a| a.category == *c)
                .flat_map(|a| a.rows.iter().flat_map(|r| r.seats.iter()))
                .filter(|s| matches!(map.state(s.key), SeatState::Held(o) if Some(o) == own_order))
                .map(|s| position(s.key))
                .collect();
            sorted(vec![
                ("AreaCategoryCode", json!(c)),
                ("IsInSeatDeliveryEnabled", json!(false)),
                ("SeatsAllocatedCount", json!(selected.len())),
                ("SeatsNotAllocatedCount", json!(0)),
                ("SeatsToAllocate", json!(0)),
                ("SelectedSeats", Value::Array(selected)),
            ])
        })
        .collect();
    let mut top = 0;
    let areas: Vec<Value> = screen
        .areas
        .iter()
        .map(|a| {
            let rows: Vec<Value> = a
                .rows
                .iter()
                .map(|r| {
                    let seats: Vec<Value> = r
                        .seats
                        .iter()
                        .enumerate()
                        .map(|(i, s)| {
                            let (status, original) =
                                seat_status(s.kind, map.state(s.key), own_order);
                            sorted(vec![
                                ("Id", json!(s.name)),
                                ("OriginalStatus", json!(original)),
                                ("Position", position(s.key)),
                                ("Priority", json!(s.priority)),
                                ("SeatStyle", json!(s.style as i64)),
                                ("SeatsInGroup", sofa_group(&r.seats, i)),
                                ("Status", json!(status)),
                            ])
                        })
                        .collect();
                    sorted(vec![
                        ("PhysicalName", json!(r.physical_name)),
                        ("Seats", Value::Array(seats)),
                    ])
                })
                .collect();
            let v = sorted(vec![
                ("AreaCategoryCode", json!(a.category)),
                ("ColumnCount", json!(a.column_count)),
                ("Description", json!(a.description)),
                ("DescriptionAlt", json!("")),
                (
                    "HasSofaSeatingEnabled",
                    json!(a
                        .rows
                        .iter()
                        .any(|r| r.seats.iter().any(|s| s.style != SeatStyle::Normal))),
                ),
                ("Height", json!(a.row_count())),
                ("IsAllocatedSeating", json!(true)),
                ("Left", json!(0)),
                ("Number", json!(a.number)),
                ("NumberOfSeats", json!(a.row_count() * a.column_count)),
                ("RowCount", json!(a.row_count())),
                ("Rows", Value::Array(rows)),
                ("Top", json!(top)),
                ("Width", json!(a.column_count)),
            ]);
            top += a.row_count();
            v
        })
        .collect();
    sorted(vec![
        ("AreaCategories", Value::Array(area_categories)),
        ("Areas", Value::Array(areas)),
        ("BoundaryLeft", json!(0)),
        ("BoundaryRight", json!(width)),
        ("BoundaryTop", json!(0)),
        ("ScreenStart", json!(0)),
        ("ScreenWidth", json!(width)),
    ])
}

fn seat_plan_envelope(code: Code, layout: Value) -> Value {
    contract(
        vec![
            ("ErrorDescription", code.error_description()),
            ("ResponseCode", json!(code.0)),
        ],
        vec![("SeatLayoutData", layout)],
    )
}

/// GetSessionSeatPlan: the session's layout with every seat's current status. Served from the
/// seat-map snapshot; the rendered bytes are cached per snapshot version.
pub async fn get_session_seat_plan(
    State(vista): State<Arc<Vista>>,
    headers: HeaderMap,
    Path((cinema, session)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(caller) = vista.caller(&headers) else {
        return unauthorized();
    };
    let Some((venue, session)) = find_session(&vista, &caller, &cinema, &session) else {
        return json_response(&seat_plan_envelope(INVALID_REQUEST_DATA, Value::Null));
    };
    if session.sold_out {
        return json_response(&seat_plan_envelope(SEAT_MAP_SOLD_OUT, Value::Null));
    }
    let Some(screen) = venue.screen(session.screen) else {
        return json_response(&seat_plan_envelope(INVALID_REQUEST_DATA, Value::Null));
    };
    let map = match vista.svc.seat_map(session.id).await {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "seat-plan: storage failure");
            return json_response(&seat_plan_envelope(crate::codes::DB_ERROR, Value::Null));
        }
    };
    let own_order = match query_param(query.as_deref(), "userSessionId").filter(|s| !s.is_empty()) {
        Some(key) => match vista.svc.order(&caller.partner, &key).await {
            Ok(o) => o.filter(|o| o.state.is_open()).map(|o| o.id),
            Err(_) => None,
        },
        None => None,
    };
    if own_order.is_none() {
        if let Some((version, bytes)) = vista.seat_plans.lock().get(&session.id) {
            if *version == map.version {
                return bytes_response(StatusCode::OK, bytes.clone());
            }
        }
    }
    let body: bytes::Bytes = to_wire(&seat_plan_envelope(
        OK,
        seat_layout(screen, &map, own_order),
    ))
    .into();
    if own_order.is_none() {
        vista
            .seat_plans
            .lock()
            .insert(session.id, (map.version, body.clone()));
    }
    bytes_response(StatusCode::OK, body)
}
