//! HTTP-level tests of the Vista Connect order and booking endpoints (RESTTicketing and
//! RESTBooking): AddTickets, GetOrder, CancelOrder, StartExternalPayment, CompleteOrder,
//! QueryOrderBookingStatus, GetSingleBooking, RefundBooking and MarkBookingAsCollected.
//!
//! The exact response text is the contract (spec `vista-connect.md` §1.6: member order, every
//! member present, `\/` escaping, `\/Date(ms+0800)\/`, string-vs-int fields), so replies are
//! compared as whole strings where practical. Expected bodies are assembled member by member in
//! the order the wire must carry them.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------------
// Fixed instants of the demo catalogue under the test clock (2026-11-22 10:00 +08:00).

/// The test clock's start, 2026-11-22 10:00 +08:00, in ms since the epoch.
const NOW_MS: i64 = 1_795_312_800_000;
/// Session 29617 ("today+1 10:50") = 2026-11-23 10:50 +08:00.
const START_29617: i64 = 1_795_402_200_000;
/// Session 33392 ("today+1 19:30") = 2026-11-23 19:30 +08:00.
const START_33392: i64 = 1_795_433_400_000;
/// Seats of screen 1 (sessions 29617, 33392): 10+11+10+10+12+12+12.
const SCREEN1_SEATS: i64 = 77;
/// D001's card number, and its documented mask (§8.4).
const CARD: &str = "123456789012";
const MASKED: &str = "123456..9012";

// ---------------------------------------------------------------------------------------------
// Building expected wire text. Members are listed in wire order; strings are JSON-quoted with
// `/` escaped as `\/` and non-ASCII kept literal, as the server must write them.

fn obj(members: &[(&str, String)]) -> String {
    let inner: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("\"{k}\":{v}"))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn arr(items: &[String]) -> String {
    format!("[{}]", items.join(","))
}

fn s(text: &str) -> String {
    serde_json::to_string(text).unwrap().replace('/', "\\/")
}

fn n(v: i64) -> String {
    v.to_string()
}

fn b(v: bool) -> String {
    v.to_string()
}

fn null() -> String {
    "null".to_string()
}

fn empty() -> String {
    "[]".to_string()
}

/// A REST date with the server offset: `"\/Date(ms+0800)\/"`.
fn date(ms: i64) -> String {
    s(&format!("/Date({ms}+0800)/"))
}

/// One `OrderTicket` (§5.1).
fn order_ticket(
    id: i64,
    description: &str,
    price: i64,
    row: &str,
    seat: &str,
    code: &str,
) -> String {
    obj(&[
        ("AltDescription", s("")),
        ("Barcode", s("")),
        ("Description", s(description)),
        ("DescriptionTranslations", empty()),
        ("DiscountPriceCents", n(0)),
        ("DiscountsAvailable", empty()),
        ("Id", s(&id.to_string())),
        ("IsTicketPackage", b(false)),
        ("LoyaltyRecognitionId", s("")),
        ("LoyaltyRecognitionSequence", n(0)),
        ("PackageConcessions", null()),
        ("PackageId", null()),
        ("PackageTickets", null()),
        ("PriceCents", n(price)),
        ("PromotionInstanceGroupNumber", null()),
        ("PromotionTicketTypeId", null()),
        ("SeatData", s(&format!("{row}{seat}"))),
        ("SeatNumber", s(seat)),
        ("SeatRowId", s(row)),
        ("TicketTypeCode", s(code)),
        ("TicketTypeHOPK", s("")),
    ])
}

/// One `OrderSession` (§5.1).
fn order_session(
    title: &str,
    alt_title: &str,
    rating: &str,
    session: i64,
    start: i64,
    tickets: &[String],
) -> String {
    obj(&[
        ("AllocatedSeating", b(true)),
        ("AltFilmClassification", s("")),
        ("AltFilmTitle", s(alt_title)),
        ("CinemaId", s("0200")),
        ("FilmClassification", s(rating)),
        ("FilmTitle", s(title)),
        ("FilmTitleTranslations", empty()),
        ("SeatsAllocated", b(true)),
        ("SessionId", n(session)),
        ("ShowingRealDateTime", date(start)),
        ("Tickets", arr(tickets)),
    ])
}

/// An `Order` in progress (§5.1).
fn order(fee: i64, sessions: &[String], count: i64, total: i64, key: &str, updated: i64) -> String {
    obj(&[
        ("BookingFeeValueCents", n(fee)),
        ("CinemaId", s("0200")),
        ("Concessions", null()),
        ("Customer", null()),
        ("LastUpdated", date(updated)),
        ("Sessions", arr(sessions)),
        ("TotalOrderCount", n(count)),
        ("TotalTicketFeeValueInCents", null()),
        ("TotalValueCents", n(total)),
        ("UserSessionId", s(key)),
        ("VistaBookingNumber", n(0)),
        ("VistaTransactionNumber", n(0)),
    ])
}

/// The empty order GetOrder answers for consumed / cancelled / unknown orders (§5.4).
fn empty_order(key: &str, updated: i64) -> String {
    obj(&[
        ("BookingFeeValueCents", n(0)),
        ("CinemaId", null()),
        ("Concessions", null()),
        ("Customer", null()),
        ("LastUpdated", date(updated)),
        ("Sessions", null()),
        ("TotalOrderCount", n(0)),
        ("TotalTicketFeeValueInCents", null()),
        ("TotalValueCents", n(0)),
        ("UserSessionId", s(key)),
        ("VistaBookingNumber", n(0)),
        ("VistaTransactionNumber", n(0)),
    ])
}

fn get_order_reply(order: &str) -> String {
    obj(&[("Order", order.to_string()), ("Result", n(0))])
}

/// A successful AddTickets reply (§5.2): base members, then own members alphabetically.
fn add_tickets_reply(available: i64, order: &str, session: i64) -> String {
    obj(&[
        ("ErrorDescription", null()),
        ("Result", n(0)),
        ("AreaSummaryData", null()),
        ("AvailableSeats", n(available)),
        ("ExtendedResultCode", n(0)),
        ("MaxSeatsPerRow", n(12)),
        ("Order", order.to_string()),
        ("RedemptionsRemainingForVouchers", null()),
        ("SeatData", null()),
        ("SeatDataLength", n(0)),
        ("SeatLayoutData", null()),
        ("SeatsNotAllocated", b(false)),
        (
            "SessionStatuses",
            arr(&[obj(&[
                ("MaximumNumberOfSeatsPerRow", n(12)),
                ("NumberOfSeatsAvailable", n(available)),
                ("SessionId", n(session)),
            ])]),
        ),
    ])
}

/// A processed third-party payment line: the full PaymentInfo member set, alphabetical (§5.7).
fn payment_line(masked: &str, card_type: &str, tender: &str, value: i64) -> String {
    obj(&[
        ("BankReference", null()),
        ("BankTransactionNumber", null()),
        ("BillFullOutstandingAmount", b(false)),
        ("BillingValueCents", n(value)),
        ("CardBalance", null()),
        ("CardCVC", null()),
        ("CardExpiryMonth", null()),
        ("CardExpiryYear", null()),
        ("CardHash", null()),
        ("CardIssueNumber", null()),
        ("CardNumber", s(masked)),
        ("CardType", s(card_type)),
        ("CardValidFromMonth", null()),
        ("CardValidFromYear", null()),
        ("CustomerTaxName", null()),
        ("CustomerTaxNumber", null()),
        ("MemberId", null()),
        ("PaymentErrorCode", null()),
        ("PaymentErrorDescription", null()),
        ("PaymentStatus", s("P")),
        ("PaymentSystemId", null()),
        ("PaymentTenderCategory", s(tender)),
        ("PaymentToken", null()),
        ("PaymentTokenType", null()),
        ("PaymentValueCents", n(value)),
        ("SaveCardToWallet", b(false)),
        ("UseAsBookingRef", b(false)),
        ("WalletAccessToken", null()),
    ])
}

/// References a successful CompleteOrder hands out.
#[derive(Debug, Clone)]
struct Refs {
    history: String,
    id: String,
    number: i64,
    trans: i64,
}

impl Refs {
    /// Reads and checks the references of a CompleteOrder reply: `VistaBookingId` is `W` + 6
    /// upper-case alphanumerics; `HistoryID`, `VistaBookingNumber`, `VistaTransNumber` are
    /// strings holding integers (§1.8, G8).
    fn of(r: &Reply) -> Refs {
        let v = r.json();
        let id = v["VistaBookingId"]
            .as_str()
            .unwrap_or_else(|| panic!("VistaBookingId string: {}", r.text))
            .to_string();
        assert_eq!(id.len(), 7, "VistaBookingId {id}");
        assert!(id.starts_with('W'), "VistaBookingId {id}");
        assert!(
            id[1..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
            "VistaBookingId {id}"
        );
        let num = |k: &str| -> i64 {
            let t = v[k]
                .as_str()
                .unwrap_or_else(|| panic!("{k} must be a string: {}", r.text));
            t.parse()
                .unwrap_or_else(|_| panic!("{k} must hold an integer: {t}"))
        };
        let history = v["HistoryID"]
            .as_str()
            .unwrap_or_else(|| panic!("HistoryID string: {}", r.text))
            .to_string();
        assert!(history.parse::<i64>().is_ok(), "HistoryID {history}");
        Refs {
            history,
            id,
            number: num("VistaBookingNumber"),
            trans: num("VistaTransNumber"),
        }
    }
}

/// A successful CompleteOrder reply (§5.7; `CinemaID` with capital ID).
fn complete_reply(refs: &Refs, lines: &[String]) -> String {
    obj(&[
        ("BalanceList", null()),
        ("CinemaID", s("0200")),
        ("ErrorDescription", null()),
        ("ExtendedResultCode", n(0)),
        ("HistoryID", s(&refs.history)),
        ("PassCollection", null()),
        ("PaymentInfoCollection", arr(lines)),
        ("PrintStream", s("")),
        ("PrintStreamCollection", null()),
        ("Result", n(0)),
        ("VistaBookingId", s(&refs.id)),
        ("VistaBookingNumber", s(&refs.number.to_string())),
        ("VistaTransNumber", s(&refs.trans.to_string())),
    ])
}

/// A ticket of a GetSingleBooking reply for a 29617 "web ticket" (§6.1).
fn booking_ticket(seq: i64, row: &str, seat: &str, collected: &str, refunded: &str) -> String {
    obj(&[
        ("CollecteStatus", s(collected)),
        ("CollectedStatus", s(collected)),
        ("Description", s("web ticket")),
        ("DescriptionAlt", s("")),
        ("MovieName", s("重返 20 岁")),
        ("MovieNameAlt", s("重返 20 岁")),
        ("PriceInCents", n(5000)),
        ("RefundedStatus", s(refunded)),
        ("SeatNumber", s(seat)),
        ("SeatRowId", s(row)),
        ("SessionDateTime", date(START_29617)),
        ("SessionId", n(29617)),
        ("TicketSequenceNumber", n(seq)),
        ("TicketTypeCode", s("0056")),
    ])
}

/// The GetSingleBooking reply for the standard booking (2 × 0056 at 7排10座, 7排9座, paid with
/// D001's card) made at the clock's start.
fn standard_booking_reply(refs: &Refs, key: &str, status: &str) -> String {
    let (cancelled, refunded, collected) = match status {
        "paid" => ("0", "0", "0"),
        "refunded" => ("1", "1", "0"),
        "collected" => ("0", "0", "1"),
        other => panic!("status {other}"),
    };
    let booking = obj(&[
        ("BookingDate", date(NOW_MS)),
        ("BookingId", s(&refs.id)),
        ("BookingNumber", n(refs.number)),
        (
            "BookingRef",
            s(&format!("ABC Cinemas-{}, 2026/11/22 10:00", refs.number)),
        ),
        ("CancelledStatus", s(cancelled)),
        ("CinemaId", s("0200")),
        ("CinemaName", s("CHTEST01")),
        ("ClientId", s("111.111.111.111")),
        ("Email", s("")),
        ("FirstName", s("")),
        ("IsPaid", b(true)),
        ("LastName", s("")),
        ("MaskedBookingCardNumber", s(MASKED)),
        (
            "Payments",
            arr(&[obj(&[
                ("CardNumber", s(MASKED)),
                ("CardType", s("CreditCard")),
                ("PaymentTenderCategory", s("CreditCard")),
                ("PaymentValueCents", n(10000)),
            ])]),
        ),
        ("Phone", s("")),
        ("PickupName", s("")),
        (
            "Tickets",
            arr(&[
                booking_ticket(1, "7", "10", collected, refunded),
                booking_ticket(2, "7", "9", collected, refunded),
            ]),
        ),
        ("TotalBookingFeeValueCents", n(0)),
        ("TotalValueCents", n(10000)),
        ("UserSessionId", s(key)),
        ("VistaTransactionId", n(refs.trans)),
    ]);
    obj(&[
        ("Booking", booking),
        ("ErrorDescription", null()),
        ("ResultCode", n(0)),
    ])
}

fn booking_status_found(refs: &Refs, key: &str, total: i64) -> String {
    obj(&[
        (
            "OrderSummary",
            obj(&[
                ("CinemaId", s("0200")),
                ("TotalValueCents", n(total)),
                ("UserSessionId", s(key)),
                ("VistaBookingId", s(&refs.id)),
                ("VistaBookingNumber", n(refs.number)),
            ]),
        ),
        ("ResponseCode", n(0)),
        ("ResponseDescription", s("Booking exists at Cinema")),
    ])
}

const BOOKING_STATUS_NOT_FOUND: &str = r#"{"OrderSummary":null,"ResponseCode":47,"ResponseDescription":"Booking does not exist at Cinema"}"#;
const OK_PLAIN: &str = r#"{"ErrorDescription":null,"Result":0}"#;
const OK_REFUND: &str = r#"{"ErrorDescription":null,"ResultCode":0}"#;
const PAYMENTS_PROCESSED_TEXT: &str =
    "Unable to edit the order as payments for the order have already been made";

// ---------------------------------------------------------------------------------------------
// Request helpers.

/// D001's AddTickets example request, verbatim (§5.2).
const D001_ADD_TICKETS: &str = r#"{"UserSessionId":"FTTest201508060001","CinemaId":"0200","SessionId":"29617","TicketTypes":[{"TicketTypeCode":"0056","Qty":2,"PriceInCents":5000,"BookingFeeOverride":null}],"ReturnOrder":true,"BookingFeeOverride":null,"SelectedSeats":[{"AreaCategoryCode":"0000000001","AreaNumber":1,"RowIndex":0,"ColumnIndex":1},{"AreaCategoryCode":"0000000001","AreaNumber":1,"RowIndex":0,"ColumnIndex":2}],"OptionalClientClass":"RSP","OptionalClientId":"111.111.111.111","OptionalClientName":"3rdParty"}"#;
const D001_KEY: &str = "FTTest201508060001";

/// Asserts HTTP 200 with a JSON content type (§1.4) and returns the parsed body.
fn ok200(r: &Reply) -> Value {
    assert_eq!(r.status, 200, "HTTP status (body {})", r.text);
    assert_eq!(
        r.content_type, "application/json; charset=utf-8",
        "content type of {}",
        r.text
    );
    r.json()
}

/// The integer status member `key` of a 200 reply.
fn code_of(r: &Reply, key: &str) -> i64 {
    ok200(r)[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} must be an integer: {}", r.text))
}

fn result(r: &Reply) -> i64 {
    code_of(r, "Result")
}

/// AddTickets of 0056 @ 5000 in session 29617 for `seats` (row index, column index) of area 1.
async fn hold(c: &Client, key: &str, seats: &[(i64, i64)]) -> Reply {
    c.post(
        ADD_TICKETS,
        &add_tickets_body(key, "29617", "0056", 5000, seats),
    )
    .await
}

/// Holds 7排10座 + 7排9座 of 29617 and pays 10000 with D001's card: the standard booking.
async fn book(c: &Client, key: &str) -> Refs {
    let r = hold(c, key, &[(0, 1), (0, 2)]).await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let r = c.post(COMPLETE_ORDER, &complete_body(key, 10000)).await;
    assert_eq!(result(&r), 0, "{}", r.text);
    Refs::of(&r)
}

/// Seat statuses of a session's seat plan (as any caller without `userSessionId` sees them).
async fn plan(c: &Client, session: &str) -> BTreeMap<(i64, i64, i64), i64> {
    let r = c.get(&seat_plan(session)).await;
    let v = ok200(&r);
    assert_eq!(v["ResponseCode"], 0, "{}", r.text);
    seat_statuses(&v)
}

/// Whether every seat of the plan is free (a plan without seats is not).
fn all_free(p: &BTreeMap<(i64, i64, i64), i64>) -> bool {
    !p.is_empty() && p.values().all(|s| *s == 0)
}

/// Asserts that GetOrder answers Result 0 with the empty order of `key` (no cinema, no
/// sessions): the key has no order in progress.
async fn assert_no_order(c: &Client, key: &str) {
    let r = get_order(c, key).await;
    let v = ok200(&r);
    assert_eq!(v["Result"], 0, "{}", r.text);
    assert_eq!(v["Order"]["UserSessionId"], key, "{}", r.text);
    let order = v["Order"].as_object().expect("an Order object");
    assert_eq!(order.get("CinemaId"), Some(&Value::Null), "{}", r.text);
    assert_eq!(order.get("Sessions"), Some(&Value::Null), "{}", r.text);
}

async fn get_order(c: &Client, key: &str) -> Reply {
    c.post(GET_ORDER, &json!({"UserSessionId": key, "OptionalClientClass": "RSP", "OptionalClientId": "111.111.111.111", "OptionalClientName": "3rdParty"})).await
}

async fn cancel(c: &Client, key: &str) -> Reply {
    c.post(CANCEL_ORDER, &json!({"UserSessionId": key, "OptionalClientClass": "RSP", "OptionalClientId": "111.111.111.111", "OptionalClientName": "3rdParty"})).await
}

async fn start_payment(c: &Client, key: &str) -> Reply {
    c.post(START_EXTERNAL_PAYMENT, &json!({"UserSessionId": key, "OptionalClientClass": "RSP", "OptionalClientId": "111.111.111.111", "OptionalClientName": "3rdParty"})).await
}

async fn booking_status(c: &Client, key: &str) -> Reply {
    c.post(
        QUERY_BOOKING_STATUS,
        &json!({"UserSessionId": key, "ClientId": "111.111.111.111"}),
    )
    .await
}

/// D001's GetSingleBooking request for a booking id.
async fn single_booking(c: &Client, id: &str) -> Reply {
    c.post(
        GET_SINGLE_BOOKING,
        &json!({"ReturnTransactionStatusInfoIfSingleBookingMatch": true, "BookingId": id, "BookingNumber": 0, "CinemaId": "0200", "OptionalClientId": "111.111.111.111"}),
    )
    .await
}

/// D001's RefundBooking request for the standard booking with the given switches.
fn refund_body(number: i64, mark_only: bool, amount: i64, refund_fee: bool, paid: i64) -> Value {
    json!({
        "CinemaId": "0200",
        "PaymentInfo": {"CardNumber": CARD, "CardType": "CreditCard", "PaymentValueCents": paid, "PaymentTenderCategory": "CreditCard"},
        "BookingNumber": number,
        "RefundReason": "Test",
        "RefundConcessions": true,
        "RefundAmount": amount,
        "RefundBookingFee": refund_fee,
        "MarkAsRefundedOnly": mark_only,
        "OptionalClientId": "111.111.111.111"
    })
}

// =============================================================================================
// 1. AddTickets (§5.2)

#[tokio::test]
async fn add_tickets_d001_example_returns_the_exact_order() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.post_raw(ADD_TICKETS, D001_ADD_TICKETS).await;
    ok200(&r);
    let tickets = [
        order_ticket(1, "web ticket", 5000, "7", "10", "0056"),
        order_ticket(2, "web ticket", 5000, "7", "9", "0056"),
    ];
    let session = order_session(
        "重返 20 岁",
        "重返 20 岁",
        "G",
        29617,
        START_29617,
        &tickets,
    );
    let expected = add_tickets_reply(
        SCREEN1_SEATS - 2,
        &order(0, &[session], 2, 10000, D001_KEY, NOW_MS),
        29617,
    );
    assert_eq!(r.text, expected);
    // The two seats are now shown as taken to everyone else.
    let p = plan(&c, "29617").await;
    assert_eq!(p[&(1, 0, 1)], 1);
    assert_eq!(p[&(1, 0, 2)], 1);
    assert_eq!(
        p.values().filter(|s| **s == 0).count() as i64,
        SCREEN1_SEATS - 2
    );
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_d001_lower_camel_example_numbers_tickets_in_seat_order() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let body = r#"{"userSessionId":"CRYSTAL201608120001","cinemaId":"0200","sessionId":"33392","TicketTypes":[{"TicketTypeCode":"0153","Qty":2,"PriceInCents":3000,"BookingFeeOverride":null}],"ReturnOrder":true,"BookingFeeOverride":null,"SelectedSeats":[{"AreaCategoryCode":"0000000001","AreaNumber":1,"RowIndex":0,"ColumnIndex":2},{"AreaCategoryCode":"0000000001","AreaNumber":1,"RowIndex":0,"ColumnIndex":1}],"OptionalClientClass":"RSP","OptionalClientId":"120.0.217.1","OptionalClientName":"非凡电魔"}"#;
    let r = c.post_raw(ADD_TICKETS, body).await;
    ok200(&r);
    // D001's Fiddler dump: Id 1 is 7排9座 (SeatData 79), Id 2 is 7排10座; total 6000.
    let tickets = [
        order_ticket(1, "第三方网售_非凡电魔", 3000, "7", "9", "0153"),
        order_ticket(2, "第三方网售_非凡电魔", 3000, "7", "10", "0153"),
    ];
    let session = order_session("非凡电魔", "", "G", 33392, START_33392, &tickets);
    let expected = add_tickets_reply(
        SCREEN1_SEATS - 2,
        &order(0, &[session], 2, 6000, "CRYSTAL201608120001", NOW_MS),
        33392,
    );
    assert_eq!(r.text, expected);
    // The order was created under the lower-camel key.
    let v = ok200(&get_order(&c, "CRYSTAL201608120001").await);
    assert_eq!(v["Order"]["CinemaId"], "0200");
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_price_mismatch_is_result_4_with_vista_text_and_holds_nothing() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c
        .post(
            ADD_TICKETS,
            &add_tickets_body("K1", "29617", "0056", 4000, &[(0, 1), (0, 2)]),
        )
        .await;
    let v = ok200(&r);
    assert_eq!(v["Result"], 4, "{}", r.text);
    assert_eq!(
        v["ErrorDescription"],
        "Ticket type 0056 could not be added to the order because ticket price overrides are not allowed. Either provide the correct price in cents, 5000, or enable the AllowTicketPriceOverride security behaviour for your profile."
    );
    assert_eq!(v["Order"], Value::Null, "{}", r.text);
    assert!(all_free(&plan(&c, "29617").await));
    assert_no_order(&c, "K1").await;
    server.stop().await;
}

/// Auto allocation: the best contiguous block of the area, centre-most row first, then the
/// block nearest the middle of the row (G21). Screen 1 has 7 rows of 12 columns: row index 3
/// (physical row 4) columns 5 and 6 = 4排6座, 4排5座.
#[tokio::test]
async fn add_tickets_without_seats_allocates_contiguous_centre_seats() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let mut variants: Vec<(&str, Value)> = Vec::new();
    let mut absent = add_tickets_body("AUTO-ABSENT", "29617", "0056", 5000, &[(0, 0), (0, 0)]);
    absent.as_object_mut().unwrap().remove("SelectedSeats");
    variants.push(("AUTO-ABSENT", absent));
    let mut null_seats = add_tickets_body("AUTO-NULL", "29617", "0056", 5000, &[(0, 0), (0, 0)]);
    null_seats["SelectedSeats"] = Value::Null;
    variants.push(("AUTO-NULL", null_seats));
    let mut no_seats = add_tickets_body("AUTO-EMPTY", "29617", "0056", 5000, &[(0, 0), (0, 0)]);
    no_seats["SelectedSeats"] = json!([]);
    variants.push(("AUTO-EMPTY", no_seats));
    for (key, body) in variants {
        let r = c.post(ADD_TICKETS, &body).await;
        assert_eq!(result(&r), 0, "{key}: {}", r.text);
        let v = r.json();
        let tickets = v["Order"]["Sessions"][0]["Tickets"]
            .as_array()
            .expect("tickets")
            .clone();
        assert_eq!(tickets.len(), 2, "{key}: {}", r.text);
        assert_eq!(v["Order"]["TotalValueCents"], 10000);
        let seats: Vec<(String, String)> = tickets
            .iter()
            .map(|t| {
                (
                    t["SeatRowId"].as_str().unwrap().to_string(),
                    t["SeatNumber"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            seats,
            vec![
                ("4".to_string(), "6".to_string()),
                ("4".to_string(), "5".to_string())
            ],
            "{key}"
        );
        let p = plan(&c, "29617").await;
        assert_eq!((p[&(1, 3, 5)], p[&(1, 3, 6)]), (1, 1), "{key}");
        assert_eq!(p.values().filter(|s| **s != 0).count(), 2, "{key}");
        assert_eq!(cancel(&c, key).await.text, OK_PLAIN);
    }
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_auto_allocation_wider_than_any_row_is_31() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    // 13 tickets of the same area category (7 + 6, each within QuantityAvailablePerOrder) with
    // no seats: 77 seats are free but no row has 13 side by side.
    let mut body = add_tickets_body("WIDE", "29617", "0056", 5000, &[]);
    body["TicketTypes"] = json!([
        {"TicketTypeCode": "0056", "Qty": 7, "PriceInCents": 5000, "BookingFeeOverride": null},
        {"TicketTypeCode": "0010", "Qty": 6, "PriceInCents": 10000, "BookingFeeOverride": null}
    ]);
    body["SelectedSeats"] = Value::Null;
    let r = c.post(ADD_TICKETS, &body).await;
    assert_eq!(result(&r), 31, "{}", r.text);
    assert!(all_free(&plan(&c, "29617").await));
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_seat_held_by_another_order_is_8() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "A", &[(0, 1), (0, 2)]).await), 0);
    let r = hold(&c, "B", &[(0, 2), (0, 3)]).await;
    assert_eq!(result(&r), 8, "{}", r.text);
    assert_eq!(r.json()["Order"], Value::Null);
    // B holds nothing: its free seat stays free and B has no order.
    assert_eq!(plan(&c, "29617").await[&(1, 0, 3)], 0);
    assert_no_order(&c, "B").await;
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_unknown_cinema_session_or_ticket_type_is_4() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let mut unknown_cinema = add_tickets_body("U1", "29617", "0056", 5000, &[(0, 1)]);
    unknown_cinema["CinemaId"] = json!("9999");
    let unknown_session = add_tickets_body("U2", "99999", "0056", 5000, &[(0, 1)]);
    let unknown_type = add_tickets_body("U3", "29617", "9999", 5000, &[(0, 1)]);
    for body in [unknown_cinema, unknown_session, unknown_type] {
        let r = c.post(ADD_TICKETS, &body).await;
        assert_eq!(result(&r), 4, "{body}: {}", r.text);
    }
    assert!(all_free(&plan(&c, "29617").await));
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_qty_not_matching_seat_count_is_4() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let mut body = add_tickets_body("Q", "29617", "0056", 5000, &[(0, 1), (0, 2)]);
    body["TicketTypes"][0]["Qty"] = json!(3);
    let r = c.post(ADD_TICKETS, &body).await;
    assert_eq!(result(&r), 4, "{}", r.text);
    let mut body = add_tickets_body("Q", "29617", "0056", 5000, &[(0, 1), (0, 2)]);
    body["TicketTypes"][0]["Qty"] = json!(1);
    let r = c.post(ADD_TICKETS, &body).await;
    assert_eq!(result(&r), 4, "{}", r.text);
    assert!(all_free(&plan(&c, "29617").await));
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_seat_in_wrong_area_category_is_4() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    // The request names another category for an area-1 seat.
    let mut body = add_tickets_body("CAT1", "29617", "0056", 5000, &[(0, 1)]);
    body["SelectedSeats"][0]["AreaCategoryCode"] = json!("0000000003");
    let r = c.post(ADD_TICKETS, &body).await;
    assert_eq!(result(&r), 4, "{}", r.text);
    // Screen 7: standard ticket 0010 (area category 0000000001) on a VIP seat (area 2, category
    // 0000000003, row index 0 column 3 = 2排7座).
    let body = json!({
        "UserSessionId": "CAT2", "CinemaId": "0200", "SessionId": "34668",
        "TicketTypes": [{"TicketTypeCode": "0010", "Qty": 1, "PriceInCents": 8000, "BookingFeeOverride": null}],
        "ReturnOrder": true, "BookingFeeOverride": null,
        "SelectedSeats": [{"AreaCategoryCode": "0000000003", "AreaNumber": 2, "RowIndex": 0, "ColumnIndex": 3}],
        "OptionalClientClass": "RSP", "OptionalClientId": "111.111.111.111", "OptionalClientName": "3rdParty"
    });
    let r = c.post(ADD_TICKETS, &body).await;
    assert_eq!(result(&r), 4, "{}", r.text);
    assert!(all_free(&plan(&c, "29617").await));
    assert_eq!(
        plan(&c, "34668").await[&(2, 0, 3)],
        0,
        "the VIP seat stays free"
    );
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_nonexistent_seat_is_4() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    // (0,0) is the aisle left of 7排10座; (99,99) is outside the grid; area 5 does not exist.
    for (area, row, col) in [(1, 0, 0), (1, 99, 99), (5, 0, 1)] {
        let mut body = add_tickets_body("NOSEAT", "29617", "0056", 5000, &[(row, col)]);
        body["SelectedSeats"][0]["AreaNumber"] = json!(area);
        let r = c.post(ADD_TICKETS, &body).await;
        assert_eq!(result(&r), 4, "({area},{row},{col}): {}", r.text);
    }
    assert!(all_free(&plan(&c, "29617").await));
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_zero_negative_or_absurd_quantity_is_4() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    // 11 is above 0056's QuantityAvailablePerOrder (10), §5.2 rule 5.
    for qty in [0i64, -1, -2, 11, 100_000] {
        let mut body = add_tickets_body("QTY", "29617", "0056", 5000, &[]);
        body["TicketTypes"][0]["Qty"] = json!(qty);
        body["SelectedSeats"] = Value::Null;
        let r = c.post(ADD_TICKETS, &body).await;
        assert_eq!(result(&r), 4, "Qty {qty}: {}", r.text);
    }
    assert!(all_free(&plan(&c, "29617").await));
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_unreadable_bodies_are_result_4_with_http_200() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let mut wrong_type = add_tickets_body("BAD", "29617", "0056", 5000, &[(0, 1)]);
    wrong_type["TicketTypes"][0]["Qty"] = json!("abc");
    let mut seats_not_array = add_tickets_body("BAD", "29617", "0056", 5000, &[(0, 1)]);
    seats_not_array["SelectedSeats"] = json!("0,1");
    // A valid request padded beyond 64 KiB.
    let mut oversized = add_tickets_body("BAD", "29617", "0056", 5000, &[(0, 1)]);
    oversized["Padding"] = json!("x".repeat(70 * 1024));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        (
            "malformed",
            br#"{"UserSessionId":"BAD","CinemaId":"0200","#.to_vec(),
        ),
        ("array", br#"[{"UserSessionId":"BAD"}]"#.to_vec()),
        ("string", br#""hello""#.to_vec()),
        ("Qty abc", serde_json::to_vec(&wrong_type).unwrap()),
        (
            "SelectedSeats string",
            serde_json::to_vec(&seats_not_array).unwrap(),
        ),
        ("empty", Vec::new()),
        ("oversized", serde_json::to_vec(&oversized).unwrap()),
    ];
    for (what, body) in bodies {
        let r = c.post_raw(ADD_TICKETS, body).await;
        assert_eq!(r.status, 200, "{what}: HTTP {} {}", r.status, r.text);
        assert_eq!(result(&r), 4, "{what}: {}", r.text);
        assert_eq!(r.json()["Order"], Value::Null, "{what}");
    }
    assert!(all_free(&plan(&c, "29617").await));
    assert_no_order(&c, "BAD").await;
    server.stop().await;
}

/// UserSessionId: "32 位" in D001, 38 characters in D000's sample — accept up to 64, refuse
/// blank (G34).
#[tokio::test]
async fn add_tickets_user_session_id_up_to_64_chars_blank_is_4() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let long = "K".repeat(64);
    let r = hold(&c, &long, &[(0, 1), (0, 2)]).await;
    assert_eq!(result(&r), 0, "{}", r.text);
    assert_eq!(r.json()["Order"]["UserSessionId"], long.as_str());
    for key in ["", "   "] {
        let r = hold(&c, key, &[(1, 1), (1, 2)]).await;
        assert_eq!(result(&r), 4, "{key:?}: {}", r.text);
    }
    let mut body = add_tickets_body("X", "29617", "0056", 5000, &[(1, 1), (1, 2)]);
    body.as_object_mut().unwrap().remove("UserSessionId");
    assert_eq!(result(&c.post(ADD_TICKETS, &body).await), 4);
    let p = plan(&c, "29617").await;
    assert_eq!((p[&(1, 1, 1)], p[&(1, 1, 2)]), (0, 0));
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_accepts_numbers_as_strings() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let body = r#"{"UserSessionId":"STR","CinemaId":"0200","SessionId":"29617","TicketTypes":[{"TicketTypeCode":"0056","Qty":"2","PriceInCents":"5000","BookingFeeOverride":null}],"ReturnOrder":"true","BookingFeeOverride":null,"SelectedSeats":[{"AreaCategoryCode":"0000000001","AreaNumber":"1","RowIndex":"0","ColumnIndex":"1"},{"AreaCategoryCode":"0000000001","AreaNumber":1,"RowIndex":0,"ColumnIndex":2}],"OptionalClientClass":"RSP","OptionalClientId":"111.111.111.111","OptionalClientName":"3rdParty"}"#;
    let r = c.post_raw(ADD_TICKETS, body).await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let v = r.json();
    assert_eq!(v["Order"]["TotalValueCents"], 10000);
    assert_eq!(v["Order"]["TotalOrderCount"], 2);
    assert_eq!(v["Order"]["Sessions"][0]["Tickets"][0]["SeatData"], "710");
    assert_eq!(v["Order"]["Sessions"][0]["Tickets"][1]["SeatData"], "79");
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_past_the_sales_cutoff_is_8() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    // 29617 starts tomorrow 10:50 and the venue's cut-off is 0 minutes after start.
    server.clock.advance(chrono::Duration::hours(25));
    let r = hold(&c, "LATE", &[(0, 1), (0, 2)]).await;
    assert_eq!(result(&r), 8, "{}", r.text);
    assert_no_order(&c, "LATE").await;
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_on_session_flagged_sold_out_is_8() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c
        .post(
            ADD_TICKETS,
            &add_tickets_body("SOLDOUT", "29618", "0056", 5000, &[(0, 1)]),
        )
        .await;
    assert_eq!(result(&r), 8, "{}", r.text);
    let r = c
        .post(
            ADD_TICKETS,
            &add_tickets_body("SOLDOUT", "29618", "0056", 5000, &[]),
        )
        .await;
    assert_eq!(result(&r), 8, "auto allocation: {}", r.text);
    server.stop().await;
}

/// 0029 "会员价(钻石卡)" is a member-only ticket type of the venue, sold on the RSP channel; no
/// member is validated on the order (§5.2 rule 5: 34 NoLoyaltyMember). The demo catalogue gives
/// 0029 no price in any session, so the test first prices it in 29617 (at 5000, area 1) — the
/// only change to the demo — so that the member rule, not a missing price, is what is tested.
#[tokio::test]
async fn add_tickets_member_only_ticket_without_member_is_34() {
    let server = TestServer::start().await;
    let priced = boxoffice_server::DEMO_CATALOG.replacen(
        r#"  { ticket = "0056", area = "0000000001", price = 5000 },
  { ticket = "0010", area = "0000000001", price = 10000 },"#,
        r#"  { ticket = "0056", area = "0000000001", price = 5000 },
  { ticket = "0010", area = "0000000001", price = 10000 },
  { ticket = "0029", area = "0000000001", price = 5000 },"#,
        1,
    );
    assert_ne!(
        priced,
        boxoffice_server::DEMO_CATALOG,
        "demo catalogue layout changed"
    );
    server
        .app
        .apply_catalog(&priced)
        .await
        .expect("catalogue with a 0029 price");
    let c = Client::new(&server);
    let r = c
        .get(&format!(
            "{}?includeLoyaltyTicketsForNonMembers=true",
            tickets("29617")
        ))
        .await;
    assert!(r.json()["Tickets"].as_array().unwrap().iter().any(|t| t["TicketTypeCode"] == "0029" && t["IsAvailableForLoyaltyMembersOnly"] == true), "{}", r.text);
    let r = c
        .post(
            ADD_TICKETS,
            &add_tickets_body("MEMBER", "29617", "0029", 5000, &[(0, 1)]),
        )
        .await;
    assert_eq!(result(&r), 34, "{}", r.text);
    assert!(all_free(&plan(&c, "29617").await));
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_again_replaces_the_seats_of_the_order() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "AGAIN", &[(0, 1), (0, 2)]).await), 0);
    let r = hold(&c, "AGAIN", &[(1, 5), (1, 6)]).await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let v = r.json();
    assert_eq!(v["AvailableSeats"], SCREEN1_SEATS - 2);
    assert_eq!(v["Order"]["TotalOrderCount"], 2);
    assert_eq!(v["Order"]["TotalValueCents"], 10000);
    let p = plan(&c, "29617").await;
    assert_eq!(
        (p[&(1, 0, 1)], p[&(1, 0, 2)]),
        (0, 0),
        "old seats free again"
    );
    assert_eq!((p[&(1, 1, 5)], p[&(1, 1, 6)]), (1, 1), "new seats held");
    assert_eq!(p.values().filter(|s| **s != 0).count(), 2);
    // Another order can now take the released seats.
    assert_eq!(result(&hold(&c, "OTHER", &[(0, 1), (0, 2)]).await), 0);
    // GetOrder shows only the new tickets (row 6, columns 5 and 6 = 6排7座, 6排6座).
    let v = ok200(&get_order(&c, "AGAIN").await);
    let seats: Vec<&str> = v["Order"]["Sessions"][0]["Tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["SeatData"].as_str().unwrap())
        .collect();
    assert_eq!(seats, vec!["67", "66"]);
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_on_a_completed_order_is_56() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    book(&c, "DONE").await;
    let r = hold(&c, "DONE", &[(2, 1), (2, 2)]).await;
    assert_eq!(result(&r), 56, "{}", r.text);
    let p = plan(&c, "29617").await;
    assert_eq!((p[&(1, 2, 1)], p[&(1, 2, 2)]), (0, 0));
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_order_booking_fee_beats_per_ticket_fee() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    // Per-ticket fee only: 2 × 300.
    let mut body = add_tickets_body("FEE1", "29617", "0056", 5000, &[(0, 1), (0, 2)]);
    body["TicketTypes"][0]["BookingFeeOverride"] = json!(300);
    let r = c.post(ADD_TICKETS, &body).await;
    assert_eq!(result(&r), 0, "{}", r.text);
    assert_eq!(r.json()["Order"]["BookingFeeValueCents"], 600, "{}", r.text);
    assert_eq!(r.json()["Order"]["TotalValueCents"], 10600, "{}", r.text);
    // Both: the order-level fee wins.
    let mut body = add_tickets_body("FEE2", "29617", "0056", 5000, &[(1, 1), (1, 2)]);
    body["TicketTypes"][0]["BookingFeeOverride"] = json!(300);
    body["BookingFeeOverride"] = json!(500);
    let r = c.post(ADD_TICKETS, &body).await;
    assert_eq!(result(&r), 0, "{}", r.text);
    assert_eq!(r.json()["Order"]["BookingFeeValueCents"], 500, "{}", r.text);
    assert_eq!(r.json()["Order"]["TotalValueCents"], 10500, "{}", r.text);
    // Explicit 0 means no fee.
    let mut body = add_tickets_body("FEE3", "29617", "0056", 5000, &[(2, 1), (2, 2)]);
    body["BookingFeeOverride"] = json!(0);
    let r = c.post(ADD_TICKETS, &body).await;
    assert_eq!(r.json()["Order"]["BookingFeeValueCents"], 0, "{}", r.text);
    assert_eq!(r.json()["Order"]["TotalValueCents"], 10000, "{}", r.text);
    // GetOrder and CompleteOrder agree on the total with fee.
    let v = ok200(&get_order(&c, "FEE2").await);
    assert_eq!(v["Order"]["TotalValueCents"], 10500);
    assert_eq!(v["Order"]["BookingFeeValueCents"], 500);
    assert_eq!(
        result(&c.post(COMPLETE_ORDER, &complete_body("FEE2", 10000)).await),
        27
    );
    assert_eq!(
        result(&c.post(COMPLETE_ORDER, &complete_body("FEE2", 10500)).await),
        0
    );
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_return_order_false_has_null_order() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let mut body = add_tickets_body("NOORDER", "29617", "0056", 5000, &[(0, 1), (0, 2)]);
    body["ReturnOrder"] = json!(false);
    let r = c.post(ADD_TICKETS, &body).await;
    ok200(&r);
    let statuses = arr(&[obj(&[
        ("MaximumNumberOfSeatsPerRow", n(12)),
        ("NumberOfSeatsAvailable", n(SCREEN1_SEATS - 2)),
        ("SessionId", n(29617)),
    ])]);
    let expected = obj(&[
        ("ErrorDescription", null()),
        ("Result", n(0)),
        ("AreaSummaryData", null()),
        ("AvailableSeats", n(SCREEN1_SEATS - 2)),
        ("ExtendedResultCode", n(0)),
        ("MaxSeatsPerRow", n(12)),
        ("Order", null()),
        ("RedemptionsRemainingForVouchers", null()),
        ("SeatData", null()),
        ("SeatDataLength", n(0)),
        ("SeatLayoutData", null()),
        ("SeatsNotAllocated", b(false)),
        ("SessionStatuses", statuses),
    ]);
    assert_eq!(r.text, expected);
    // The seats are held all the same.
    assert_eq!(
        ok200(&get_order(&c, "NOORDER").await)["Order"]["CinemaId"],
        "0200"
    );
    server.stop().await;
}

// =============================================================================================
// 2. GetOrder (§5.4)

#[tokio::test]
async fn get_order_in_progress_returns_the_full_order() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&c.post_raw(ADD_TICKETS, D001_ADD_TICKETS).await), 0);
    let r = get_order(&c, D001_KEY).await;
    ok200(&r);
    let tickets = [
        order_ticket(1, "web ticket", 5000, "7", "10", "0056"),
        order_ticket(2, "web ticket", 5000, "7", "9", "0056"),
    ];
    let session = order_session(
        "重返 20 岁",
        "重返 20 岁",
        "G",
        29617,
        START_29617,
        &tickets,
    );
    assert_eq!(
        r.text,
        get_order_reply(&order(0, &[session], 2, 10000, D001_KEY, NOW_MS))
    );
    server.stop().await;
}

#[tokio::test]
async fn get_order_after_complete_order_is_the_empty_order() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    book(&c, D001_KEY).await;
    let r = get_order(&c, D001_KEY).await;
    ok200(&r);
    assert_eq!(r.text, get_order_reply(&empty_order(D001_KEY, NOW_MS)));
    server.stop().await;
}

#[tokio::test]
async fn get_order_unknown_key_is_the_empty_order() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = get_order(&c, "990001").await;
    ok200(&r);
    assert_eq!(r.text, get_order_reply(&empty_order("990001", NOW_MS)));
    server.stop().await;
}

#[tokio::test]
async fn get_order_without_user_session_id_is_4() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.post(GET_ORDER, &json!({"OptionalClientClass": "RSP", "OptionalClientId": "111.111.111.111", "OptionalClientName": "3rdParty"})).await;
    assert_eq!(result(&r), 4, "{}", r.text);
    let r = c.post(GET_ORDER, &json!({"UserSessionId": ""})).await;
    assert_eq!(result(&r), 4, "{}", r.text);
    let r = c.post_raw(GET_ORDER, "").await;
    assert_eq!(result(&r), 4, "{}", r.text);
    server.stop().await;
}

// =============================================================================================
// 3. CancelOrder (§5.5)

#[tokio::test]
async fn cancel_order_releases_seats_at_once() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "CANCEL", &[(0, 1), (0, 2)]).await), 0);
    assert!(!all_free(&plan(&c, "29617").await));
    let r = cancel(&c, "CANCEL").await;
    ok200(&r);
    assert_eq!(r.text, OK_PLAIN);
    assert!(all_free(&plan(&c, "29617").await));
    assert_eq!(
        get_order(&c, "CANCEL").await.text,
        get_order_reply(&empty_order("CANCEL", NOW_MS))
    );
    // Another order can take the seats right away.
    assert_eq!(result(&hold(&c, "NEXT", &[(0, 1), (0, 2)]).await), 0);
    server.stop().await;
}

#[tokio::test]
async fn cancel_order_is_idempotent_and_accepts_unknown_orders() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "TWICE", &[(0, 1), (0, 2)]).await), 0);
    assert_eq!(cancel(&c, "TWICE").await.text, OK_PLAIN);
    assert_eq!(cancel(&c, "TWICE").await.text, OK_PLAIN);
    assert_eq!(cancel(&c, "NEVER-SEEN").await.text, OK_PLAIN);
    assert!(all_free(&plan(&c, "29617").await));
    server.stop().await;
}

/// A payment-started order can still be cancelled (flow step ⑭; §13.1).
#[tokio::test]
async fn cancel_order_after_start_external_payment_releases_seats() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "STARTED", &[(0, 1), (0, 2)]).await), 0);
    assert_eq!(result(&start_payment(&c, "STARTED").await), 0);
    assert_eq!(cancel(&c, "STARTED").await.text, OK_PLAIN);
    assert!(all_free(&plan(&c, "29617").await));
    assert_eq!(
        get_order(&c, "STARTED").await.text,
        get_order_reply(&empty_order("STARTED", NOW_MS))
    );
    // Nothing left to pay.
    let r = c
        .post(COMPLETE_ORDER, &complete_body("STARTED", 10000))
        .await;
    assert_ne!(result(&r), 0, "{}", r.text);
    assert_eq!(
        booking_status(&c, "STARTED").await.text,
        BOOKING_STATUS_NOT_FOUND
    );
    server.stop().await;
}

#[tokio::test]
async fn cancel_order_after_completion_is_56() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "PAID").await;
    let r = cancel(&c, "PAID").await;
    ok200(&r);
    assert_eq!(
        r.text,
        obj(&[
            ("ErrorDescription", s(PAYMENTS_PROCESSED_TEXT)),
            ("Result", n(56))
        ])
    );
    // The booking and its seats are untouched.
    assert_eq!(
        booking_status(&c, "PAID").await.text,
        booking_status_found(&refs, "PAID", 10000)
    );
    let p = plan(&c, "29617").await;
    assert_eq!((p[&(1, 0, 1)], p[&(1, 0, 2)]), (1, 1));
    server.stop().await;
}

// =============================================================================================
// 4. StartExternalPayment (§5.6)

#[tokio::test]
async fn start_external_payment_answers_the_documented_shape() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(
        result(&hold(&c, "FTest201508060001", &[(0, 1), (0, 2)]).await),
        0
    );
    let r = start_payment(&c, "FTest201508060001").await;
    ok200(&r);
    assert_eq!(
        r.text,
        r#"{"ErrorDescription":null,"Result":0,"ExtendedResultCode":0,"PaymentRedirectUrl":null}"#
    );
    // Still in progress for GetOrder.
    assert_eq!(
        ok200(&get_order(&c, "FTest201508060001").await)["Order"]["CinemaId"],
        "0200"
    );
    server.stop().await;
}

#[tokio::test]
async fn start_external_payment_on_unknown_or_empty_order_is_4() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = start_payment(&c, "NO-SUCH-ORDER").await;
    assert_eq!(result(&r), 4, "{}", r.text);
    // A cancelled order holds nothing.
    assert_eq!(result(&hold(&c, "GONE", &[(0, 1)]).await), 0);
    assert_eq!(cancel(&c, "GONE").await.text, OK_PLAIN);
    let r = start_payment(&c, "GONE").await;
    assert_eq!(result(&r), 4, "{}", r.text);
    // Blank or missing key.
    let r = start_payment(&c, "").await;
    assert_eq!(result(&r), 4, "{}", r.text);
    let r = c
        .post(
            START_EXTERNAL_PAYMENT,
            &json!({"OptionalClientId": "111.111.111.111"}),
        )
        .await;
    assert_eq!(result(&r), 4, "{}", r.text);
    server.stop().await;
}

#[tokio::test]
async fn add_tickets_after_start_external_payment_is_56() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "FROZEN", &[(0, 1), (0, 2)]).await), 0);
    assert_eq!(result(&start_payment(&c, "FROZEN").await), 0);
    let r = hold(&c, "FROZEN", &[(1, 1), (1, 2)]).await;
    assert_eq!(result(&r), 56, "{}", r.text);
    // The order is unchanged.
    let p = plan(&c, "29617").await;
    assert_eq!(
        (p[&(1, 0, 1)], p[&(1, 0, 2)], p[&(1, 1, 1)], p[&(1, 1, 2)]),
        (1, 1, 0, 0)
    );
    server.stop().await;
}

#[tokio::test]
async fn start_external_payment_keeps_the_hold_past_20_minutes() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "SLOWPAY", &[(0, 1), (0, 2)]).await), 0);
    assert_eq!(result(&start_payment(&c, "SLOWPAY").await), 0);
    server.clock.advance(chrono::Duration::minutes(30));
    let p = plan(&c, "29617").await;
    assert_eq!(
        (p[&(1, 0, 1)], p[&(1, 0, 2)]),
        (1, 1),
        "seats still held after 30 minutes"
    );
    assert_eq!(
        ok200(&get_order(&c, "SLOWPAY").await)["Order"]["CinemaId"],
        "0200"
    );
    let r = c
        .post(COMPLETE_ORDER, &complete_body("SLOWPAY", 10000))
        .await;
    assert_eq!(result(&r), 0, "{}", r.text);
    Refs::of(&r);
    server.stop().await;
}

// =============================================================================================
// 5. CompleteOrder (§5.7)

#[tokio::test]
async fn complete_order_d001_example_returns_the_exact_reply() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&c.post_raw(ADD_TICKETS, D001_ADD_TICKETS).await), 0);
    let body = format!(
        r#"{{"UserSessionId":"{D001_KEY}","PaymentInfo":{{"CardNumber":"123456789012","CardType":"CreditCard","PaymentValueCents":10000,"PaymentTenderCategory":"CreditCard"}},"PerformPayment":false,"CustomerPhone":"","CustomerEmail":"","CustomerName":"","OptionalClientClass":"RSP","OptionalClientId":"111.111.111.111","OptionalClientName":"3rdParty"}}"#
    );
    let r = c.post_raw(COMPLETE_ORDER, body).await;
    ok200(&r);
    let refs = Refs::of(&r);
    let expected = complete_reply(
        &refs,
        &[payment_line(MASKED, "CreditCard", "CreditCard", 10000)],
    );
    assert_eq!(r.text, expected);
    // Seats are sold.
    let p = plan(&c, "29617").await;
    assert_eq!((p[&(1, 0, 1)], p[&(1, 0, 2)]), (1, 1));
    server.stop().await;
}

#[tokio::test]
async fn complete_order_never_shows_the_card_number_unmasked() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "MASK", &[(0, 1), (0, 2)]).await), 0);
    let mut texts = Vec::new();
    let r = c.post(COMPLETE_ORDER, &complete_body("MASK", 10000)).await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let refs = Refs::of(&r);
    assert_eq!(r.json()["PaymentInfoCollection"][0]["CardNumber"], MASKED);
    texts.push(r.text);
    let r = single_booking(&c, &refs.id).await;
    assert_eq!(
        r.json()["Booking"]["MaskedBookingCardNumber"],
        MASKED,
        "{}",
        r.text
    );
    texts.push(r.text);
    let r = c
        .post(
            GET_SINGLE_BOOKING,
            &json!({"BookingNumber": refs.number, "CinemaId": "0200"}),
        )
        .await;
    texts.push(r.text);
    texts.push(booking_status(&c, "MASK").await.text);
    texts.push(get_order(&c, "MASK").await.text);
    for t in &texts {
        assert!(!t.contains(CARD), "unmasked card number in {t}");
        assert!(!t.contains("3456789"), "card digits in {t}");
    }
    server.stop().await;
}

/// Every text the database holds, as one string: the SQLite files' bytes, or every PostgreSQL
/// row of the public schema cast to text.
async fn stored_text(server: &TestServer) -> String {
    if let Some(path) = server.database.strip_prefix("sqlite://") {
        let mut out = String::new();
        for suffix in ["", "-wal", "-journal"] {
            if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        assert!(!out.is_empty(), "SQLite database file at {path}");
        return out;
    }
    use sqlx::{Connection, Row};
    let mut conn = sqlx::PgConnection::connect(&server.database)
        .await
        .expect("database");
    let tables: Vec<String> = sqlx::query(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("tables")
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    assert!(!tables.is_empty());
    let mut out = String::new();
    for table in tables {
        let rows = sqlx::query(&format!("SELECT CAST(t AS TEXT) FROM \"{table}\" t"))
            .fetch_all(&mut conn)
            .await
            .expect("rows");
        for r in rows {
            out.push_str(&r.get::<String, _>(0));
            out.push('\n');
        }
    }
    let _ = conn.close().await;
    out
}

#[tokio::test]
async fn complete_order_stores_only_the_masked_card_number() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "STORED").await;
    let r = c
        .post(
            REFUND_BOOKING,
            &refund_body(refs.number, false, 10000, true, 10000),
        )
        .await;
    assert_eq!(r.text, OK_REFUND);
    let stored = stored_text(&server).await;
    assert!(stored.contains(MASKED), "the masked number is stored");
    assert!(!stored.contains(CARD), "the full card number is stored");
    server.stop().await;
}

#[tokio::test]
async fn complete_order_amount_mismatch_is_27_and_the_order_stays_in_progress() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "SHORT", &[(0, 1), (0, 2)]).await), 0);
    let r = c.post(COMPLETE_ORDER, &complete_body("SHORT", 9000)).await;
    assert_eq!(result(&r), 27, "{}", r.text);
    let v = r.json();
    for k in [
        "VistaBookingId",
        "VistaBookingNumber",
        "VistaTransNumber",
        "HistoryID",
    ] {
        assert_eq!(v[k], Value::Null, "{k} on failure: {}", r.text);
    }
    // No booking; the order is still in progress with its seats.
    assert_eq!(
        booking_status(&c, "SHORT").await.text,
        BOOKING_STATUS_NOT_FOUND
    );
    assert_eq!(
        ok200(&get_order(&c, "SHORT").await)["Order"]["CinemaId"],
        "0200"
    );
    let p = plan(&c, "29617").await;
    assert_eq!((p[&(1, 0, 1)], p[&(1, 0, 2)]), (1, 1));
    // Too much is a mismatch too.
    assert_eq!(
        result(&c.post(COMPLETE_ORDER, &complete_body("SHORT", 10001)).await),
        27
    );
    // The retry with the right amount succeeds.
    let r = c.post(COMPLETE_ORDER, &complete_body("SHORT", 10000)).await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let refs = Refs::of(&r);
    assert_eq!(
        booking_status(&c, "SHORT").await.text,
        booking_status_found(&refs, "SHORT", 10000)
    );
    server.stop().await;
}

/// D001 §3.9 prints PerformPayment, Customer* and Optional* inside PaymentInfo (G12).
#[tokio::test]
async fn complete_order_accepts_d001_fields_nested_in_payment_info() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(
        result(&hold(&c, "FTest201508060001", &[(0, 1), (0, 2)]).await),
        0
    );
    let body = r#"{"UserSessionId":"FTest201508060001","PaymentInfo":{"CardNumber":"123456789012","CardType":"CreditCard","PaymentValueCents":10000,"PaymentTenderCategory":"CreditCard","PerformPayment":false,"CustomerPhone":"13800138000","CustomerEmail":"","CustomerName":"","OptionalClientClass":"RSP","OptionalClientId":"111.111.111.111","OptionalClientName":"3rdParty"}}"#;
    let r = c.post_raw(COMPLETE_ORDER, body).await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let refs = Refs::of(&r);
    let v = ok200(&single_booking(&c, &refs.id).await);
    assert_eq!(
        v["Booking"]["Phone"], "13800138000",
        "nested CustomerPhone is kept"
    );
    server.stop().await;
}

#[tokio::test]
async fn complete_order_split_payment_collection_summing_to_the_total() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "SPLIT", &[(0, 1), (0, 2)]).await), 0);
    let body = json!({
        "UserSessionId": "SPLIT",
        "PaymentInfoCollection": [
            {"CardNumber": CARD, "CardType": "CreditCard", "PaymentValueCents": 6000, "PaymentTenderCategory": "CreditCard"},
            {"CardNumber": "9999 9999 9999 9999", "CardType": "ALIPAY", "PaymentValueCents": 4000, "PaymentTenderCategory": "ALIPAY"}
        ],
        "PerformPayment": false,
        "OptionalClientClass": "RSP", "OptionalClientId": "111.111.111.111", "OptionalClientName": "3rdParty"
    });
    let r = c.post(COMPLETE_ORDER, &body).await;
    ok200(&r);
    let refs = Refs::of(&r);
    let expected = complete_reply(
        &refs,
        &[
            payment_line(MASKED, "CreditCard", "CreditCard", 6000),
            payment_line("9999 9.........9999", "ALIPAY", "ALIPAY", 4000),
        ],
    );
    assert_eq!(r.text, expected);
    // A split that does not add up is refused.
    assert_eq!(result(&hold(&c, "SPLIT2", &[(1, 1), (1, 2)]).await), 0);
    let mut short = body.clone();
    short["UserSessionId"] = json!("SPLIT2");
    short["PaymentInfoCollection"][1]["PaymentValueCents"] = json!(3000);
    assert_eq!(result(&c.post(COMPLETE_ORDER, &short).await), 27);
    server.stop().await;
}

#[tokio::test]
async fn complete_order_twice_is_56_and_makes_no_second_booking() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "AGAINPAY").await;
    let r = c
        .post(COMPLETE_ORDER, &complete_body("AGAINPAY", 10000))
        .await;
    assert_eq!(result(&r), 56, "{}", r.text);
    assert_eq!(r.json()["VistaBookingId"], Value::Null, "{}", r.text);
    // Still exactly one booking for the key.
    assert_eq!(
        booking_status(&c, "AGAINPAY").await.text,
        booking_status_found(&refs, "AGAINPAY", 10000)
    );
    let r = c
        .post(
            GET_SINGLE_BOOKING,
            &json!({"BookingNumber": refs.number + 1, "CinemaId": "0200"}),
        )
        .await;
    assert_eq!(code_of(&r, "ResultCode"), 47, "{}", r.text);
    server.stop().await;
}

#[tokio::test]
async fn complete_order_after_the_hold_expired_fails_without_booking() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "EXPIRED", &[(0, 1), (0, 2)]).await), 0);
    server.clock.advance(chrono::Duration::minutes(21));
    let r = c
        .post(COMPLETE_ORDER, &complete_body("EXPIRED", 10000))
        .await;
    let code = result(&r);
    assert_ne!(code, 0, "{}", r.text);
    assert_eq!(r.json()["VistaBookingId"], Value::Null, "{}", r.text);
    assert_eq!(
        booking_status(&c, "EXPIRED").await.text,
        BOOKING_STATUS_NOT_FOUND
    );
    assert_no_order(&c, "EXPIRED").await;
    assert!(all_free(&plan(&c, "29617").await), "expired hold released");
    server.stop().await;
}

#[tokio::test]
async fn complete_order_without_payment_info_is_4() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "NOPAY", &[(0, 1), (0, 2)]).await), 0);
    let mut body = complete_body("NOPAY", 10000);
    body.as_object_mut().unwrap().remove("PaymentInfo");
    let r = c.post(COMPLETE_ORDER, &body).await;
    assert_eq!(result(&r), 4, "{}", r.text);
    let mut body = complete_body("NOPAY", 10000);
    body["PaymentInfo"] = Value::Null;
    let r = c.post(COMPLETE_ORDER, &body).await;
    assert_eq!(result(&r), 4, "{}", r.text);
    // Missing key too.
    let mut body = complete_body("NOPAY", 10000);
    body.as_object_mut().unwrap().remove("UserSessionId");
    assert_eq!(result(&c.post(COMPLETE_ORDER, &body).await), 4);
    assert_eq!(result(&c.post_raw(COMPLETE_ORDER, "").await), 4);
    // The order is untouched and can still be paid.
    assert_eq!(
        ok200(&get_order(&c, "NOPAY").await)["Order"]["CinemaId"],
        "0200"
    );
    assert_eq!(
        result(&c.post(COMPLETE_ORDER, &complete_body("NOPAY", 10000)).await),
        0
    );
    server.stop().await;
}

#[tokio::test]
async fn complete_order_loyal_payment_without_member_is_34() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "LOYAL", &[(0, 1), (0, 2)]).await), 0);
    let body = json!({
        "UserSessionId": "LOYAL",
        "PaymentInfo": {"CardNumber": "0111333399999998", "CardType": "LOYAL", "PaymentValueCents": 10000, "PaymentTenderCategory": "LOYAL", "CardExpiryMonth": "01", "CardExpiryYear": "2017"},
        "PerformPayment": true,
        "OptionalClientClass": "RSP", "OptionalClientId": "111.111.111.111", "OptionalClientName": "3rdParty"
    });
    let r = c.post(COMPLETE_ORDER, &body).await;
    assert_eq!(result(&r), 34, "{}", r.text);
    assert_eq!(
        booking_status(&c, "LOYAL").await.text,
        BOOKING_STATUS_NOT_FOUND
    );
    server.stop().await;
}

// =============================================================================================
// 6. QueryOrderBookingStatus (§5.8)

#[tokio::test]
async fn query_booking_status_finds_a_completed_booking() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "FTTest201509140001").await;
    let r = c
        .post_raw(
            QUERY_BOOKING_STATUS,
            r#"{"UserSessionId":"FTTest201509140001","ClientId":"111.111.111.111"}"#,
        )
        .await;
    ok200(&r);
    assert_eq!(
        r.text,
        booking_status_found(&refs, "FTTest201509140001", 10000)
    );
    // Member names are matched case-insensitively (§1.4).
    let r = c
        .post_raw(
            QUERY_BOOKING_STATUS,
            r#"{"userSessionId":"FTTest201509140001","clientId":"111.111.111.111"}"#,
        )
        .await;
    assert_eq!(
        r.text,
        booking_status_found(&refs, "FTTest201509140001", 10000)
    );
    server.stop().await;
}

#[tokio::test]
async fn query_booking_status_of_an_order_not_completed_is_47() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_eq!(result(&hold(&c, "OPEN", &[(0, 1), (0, 2)]).await), 0);
    let r = booking_status(&c, "OPEN").await;
    ok200(&r);
    assert_eq!(r.text, BOOKING_STATUS_NOT_FOUND);
    assert_eq!(
        booking_status(&c, "NEVER").await.text,
        BOOKING_STATUS_NOT_FOUND
    );
    server.stop().await;
}

#[tokio::test]
async fn query_booking_status_with_another_client_id_is_47() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    book(&c, "CLIENT").await;
    let r = c
        .post(
            QUERY_BOOKING_STATUS,
            &json!({"UserSessionId": "CLIENT", "ClientId": "222.222.222.222"}),
        )
        .await;
    ok200(&r);
    assert_eq!(r.text, BOOKING_STATUS_NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn query_booking_status_without_client_id_is_4() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    book(&c, "NOCLIENT").await;
    let expected = r#"{"OrderSummary":null,"ResponseCode":4,"ResponseDescription":"The UserSessionId and ClientId parameters are required"}"#;
    for body in [
        json!({"UserSessionId": "NOCLIENT"}),
        json!({"UserSessionId": "NOCLIENT", "ClientId": ""}),
        json!({"ClientId": "111.111.111.111"}),
        json!({}),
    ] {
        let r = c.post(QUERY_BOOKING_STATUS, &body).await;
        ok200(&r);
        assert_eq!(r.text, expected, "{body}");
    }
    server.stop().await;
}

#[tokio::test]
async fn query_booking_status_after_refund_is_still_0() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "REFUNDED").await;
    let r = c
        .post(
            REFUND_BOOKING,
            &refund_body(refs.number, true, 10000, true, 10000),
        )
        .await;
    assert_eq!(r.text, OK_REFUND);
    assert_eq!(
        booking_status(&c, "REFUNDED").await.text,
        booking_status_found(&refs, "REFUNDED", 10000)
    );
    server.stop().await;
}

// =============================================================================================
// 7. GetSingleBooking (§6.1)

#[tokio::test]
async fn get_single_booking_d001_request_returns_the_exact_booking() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "FTest201508060001").await;
    let body = format!(
        r#"{{"ReturnTransactionStatusInfoIfSingleBookingMatch":true,"BookingId":"{}","BookingNumber":0,"CinemaId":"0200","OptionalClientId":"111.111.111.111"}}"#,
        refs.id
    );
    let r = c.post_raw(GET_SINGLE_BOOKING, body).await;
    ok200(&r);
    assert_eq!(
        r.text,
        standard_booking_reply(&refs, "FTest201508060001", "paid")
    );
    server.stop().await;
}

#[tokio::test]
async fn get_single_booking_by_booking_number() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "BYNUMBER").await;
    let r = c.post(GET_SINGLE_BOOKING, &json!({"ReturnTransactionStatusInfoIfSingleBookingMatch": true, "BookingNumber": refs.number, "CinemaId": "0200", "OptionalClientId": "111.111.111.111"})).await;
    ok200(&r);
    assert_eq!(r.text, standard_booking_reply(&refs, "BYNUMBER", "paid"));
    // Clients send the number as a string too.
    let r = c
        .post(
            GET_SINGLE_BOOKING,
            &json!({"BookingNumber": refs.number.to_string(), "CinemaId": "0200"}),
        )
        .await;
    assert_eq!(r.text, standard_booking_reply(&refs, "BYNUMBER", "paid"));
    server.stop().await;
}

#[tokio::test]
async fn get_single_booking_not_found_is_47() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "EXISTS").await;
    let expected =
        r#"{"Booking":null,"ErrorDescription":"Booking does not exist","ResultCode":47}"#;
    for body in [
        json!({"ReturnTransactionStatusInfoIfSingleBookingMatch": true, "BookingId": "WAAAAAA", "BookingNumber": 0, "CinemaId": "0200", "OptionalClientId": "111.111.111.111"}),
        json!({"BookingNumber": refs.number + 100, "CinemaId": "0200"}),
        // The booking exists, but at another cinema id.
        json!({"BookingId": refs.id, "BookingNumber": 0, "CinemaId": "0179"}),
    ] {
        let r = c.post(GET_SINGLE_BOOKING, &body).await;
        ok200(&r);
        assert_eq!(r.text, expected, "{body}");
    }
    server.stop().await;
}

#[tokio::test]
async fn get_single_booking_without_cinema_id_is_4() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "NOCINEMA").await;
    let r = c.post(GET_SINGLE_BOOKING, &json!({"ReturnTransactionStatusInfoIfSingleBookingMatch": true, "BookingId": refs.id, "BookingNumber": 0, "OptionalClientId": "111.111.111.111"})).await;
    assert_eq!(code_of(&r, "ResultCode"), 4, "{}", r.text);
    assert_eq!(r.json()["Booking"], Value::Null);
    // Neither BookingId nor BookingNumber.
    let r = c
        .post(
            GET_SINGLE_BOOKING,
            &json!({"BookingNumber": 0, "CinemaId": "0200"}),
        )
        .await;
    assert_eq!(code_of(&r, "ResultCode"), 4, "{}", r.text);
    server.stop().await;
}

// (Another partner's token cannot see a booking: not tested — the demo catalogue has a single
// partner.)

// =============================================================================================
// 8. RefundBooking (§6.2) and MarkBookingAsCollected (§6.3)

#[tokio::test]
async fn refund_booking_mark_only_releases_seats_and_marks_tickets_refunded() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "REFUND").await;
    let r = c
        .post(
            REFUND_BOOKING,
            &refund_body(refs.number, true, 10000, true, 10000),
        )
        .await;
    ok200(&r);
    assert_eq!(r.text, OK_REFUND);
    assert!(all_free(&plan(&c, "29617").await), "seats back on sale");
    let r = single_booking(&c, &refs.id).await;
    assert_eq!(r.text, standard_booking_reply(&refs, "REFUND", "refunded"));
    // The released seats can be sold again.
    assert_eq!(result(&hold(&c, "RESALE", &[(0, 1), (0, 2)]).await), 0);
    server.stop().await;
}

/// D001 lists BookingId as an alternative key of RefundBooking.
#[tokio::test]
async fn refund_booking_by_booking_id() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "BYID").await;
    let mut body = refund_body(0, true, 10000, true, 10000);
    body.as_object_mut().unwrap().remove("BookingNumber");
    body["BookingId"] = json!(refs.id);
    let r = c.post(REFUND_BOOKING, &body).await;
    assert_eq!(r.text, OK_REFUND);
    assert_eq!(
        single_booking(&c, &refs.id).await.text,
        standard_booking_reply(&refs, "BYID", "refunded")
    );
    assert!(all_free(&plan(&c, "29617").await));
    server.stop().await;
}

#[tokio::test]
async fn refund_booking_twice_is_63() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "REFUND2").await;
    assert_eq!(
        c.post(
            REFUND_BOOKING,
            &refund_body(refs.number, true, 10000, true, 10000)
        )
        .await
        .text,
        OK_REFUND
    );
    for _ in 0..2 {
        let r = c
            .post(
                REFUND_BOOKING,
                &refund_body(refs.number, true, 10000, true, 10000),
            )
            .await;
        assert_eq!(code_of(&r, "ResultCode"), 63, "{}", r.text);
    }
    assert_eq!(
        single_booking(&c, &refs.id).await.text,
        standard_booking_reply(&refs, "REFUND2", "refunded")
    );
    server.stop().await;
}

#[tokio::test]
async fn refund_booking_unknown_booking_is_47() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "REAL").await;
    let r = c
        .post(
            REFUND_BOOKING,
            &refund_body(refs.number + 100, true, 10000, true, 10000),
        )
        .await;
    assert_eq!(code_of(&r, "ResultCode"), 47, "{}", r.text);
    let mut other_cinema = refund_body(refs.number, true, 10000, true, 10000);
    other_cinema["CinemaId"] = json!("0179");
    let r = c.post(REFUND_BOOKING, &other_cinema).await;
    assert_eq!(code_of(&r, "ResultCode"), 47, "{}", r.text);
    // No booking key, or no cinema: invalid request.
    let mut no_key = refund_body(refs.number, true, 10000, true, 10000);
    no_key.as_object_mut().unwrap().remove("BookingNumber");
    let r = c.post(REFUND_BOOKING, &no_key).await;
    assert_eq!(code_of(&r, "ResultCode"), 4, "{}", r.text);
    let mut no_cinema = refund_body(refs.number, true, 10000, true, 10000);
    no_cinema.as_object_mut().unwrap().remove("CinemaId");
    let r = c.post(REFUND_BOOKING, &no_cinema).await;
    assert_eq!(code_of(&r, "ResultCode"), 4, "{}", r.text);
    // The real booking is untouched.
    assert_eq!(
        single_booking(&c, &refs.id).await.text,
        standard_booking_reply(&refs, "REAL", "paid")
    );
    server.stop().await;
}

#[tokio::test]
async fn refund_booking_checked_amount_or_payment_mismatch_is_39() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "CHECKED").await;
    // Wrong RefundAmount.
    let r = c
        .post(
            REFUND_BOOKING,
            &refund_body(refs.number, false, 9000, true, 10000),
        )
        .await;
    assert_eq!(code_of(&r, "ResultCode"), 39, "{}", r.text);
    // PaymentInfo not matching the CompleteOrder payment: value, card number, card type.
    let r = c
        .post(
            REFUND_BOOKING,
            &refund_body(refs.number, false, 10000, true, 9000),
        )
        .await;
    assert_eq!(code_of(&r, "ResultCode"), 39, "{}", r.text);
    let mut body = refund_body(refs.number, false, 10000, true, 10000);
    body["PaymentInfo"]["CardNumber"] = json!("999999999999");
    let r = c.post(REFUND_BOOKING, &body).await;
    assert_eq!(code_of(&r, "ResultCode"), 39, "{}", r.text);
    let mut body = refund_body(refs.number, false, 10000, true, 10000);
    body["PaymentInfo"]["CardType"] = json!("ALIPAY");
    body["PaymentInfo"]["PaymentTenderCategory"] = json!("ALIPAY");
    let r = c.post(REFUND_BOOKING, &body).await;
    assert_eq!(code_of(&r, "ResultCode"), 39, "{}", r.text);
    // Nothing changed.
    assert_eq!(
        single_booking(&c, &refs.id).await.text,
        standard_booking_reply(&refs, "CHECKED", "paid")
    );
    // D001's own sample (MarkAsRefundedOnly false, everything matching) succeeds.
    let r = c
        .post(
            REFUND_BOOKING,
            &refund_body(refs.number, false, 10000, true, 10000),
        )
        .await;
    assert_eq!(r.text, OK_REFUND);
    server.stop().await;
}

#[tokio::test]
async fn refund_booking_without_fee_refunds_total_minus_fee() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let mut body = add_tickets_body("WITHFEE", "29617", "0056", 5000, &[(0, 1), (0, 2)]);
    body["BookingFeeOverride"] = json!(500);
    let r = c.post(ADD_TICKETS, &body).await;
    assert_eq!(r.json()["Order"]["TotalValueCents"], 10500, "{}", r.text);
    let r = c
        .post(COMPLETE_ORDER, &complete_body("WITHFEE", 10500))
        .await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let refs = Refs::of(&r);
    // Fee kept: the refund is 10500 − 500.
    let r = c
        .post(
            REFUND_BOOKING,
            &refund_body(refs.number, false, 10500, false, 10500),
        )
        .await;
    assert_eq!(code_of(&r, "ResultCode"), 39, "{}", r.text);
    // Fee refunded: the whole total — but 10000 is not it.
    let r = c
        .post(
            REFUND_BOOKING,
            &refund_body(refs.number, false, 10000, true, 10500),
        )
        .await;
    assert_eq!(code_of(&r, "ResultCode"), 39, "{}", r.text);
    let r = c
        .post(
            REFUND_BOOKING,
            &refund_body(refs.number, false, 10000, false, 10500),
        )
        .await;
    assert_eq!(r.text, OK_REFUND);
    assert!(all_free(&plan(&c, "29617").await));
    server.stop().await;
}

#[tokio::test]
async fn collected_booking_cannot_be_refunded_online() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "PRINTED").await;
    let r = c
        .post(
            COLLECT_BOOKING,
            &json!({"CinemaId": "0200", "BookingNumber": refs.number}),
        )
        .await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let v = r.json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        vec!["ErrorDescription", "PickupNumber", "Result"],
        "{}",
        r.text
    );
    assert_eq!(v["ErrorDescription"], Value::Null);
    // Collecting again is idempotent; an unknown booking is 47.
    let r = c
        .post(
            COLLECT_BOOKING,
            &json!({"CinemaId": "0200", "BookingId": refs.id}),
        )
        .await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let r = c
        .post(
            COLLECT_BOOKING,
            &json!({"CinemaId": "0200", "BookingNumber": refs.number + 100}),
        )
        .await;
    assert_eq!(result(&r), 47, "{}", r.text);
    assert_eq!(
        single_booking(&c, &refs.id).await.text,
        standard_booking_reply(&refs, "PRINTED", "collected")
    );
    let r = c
        .post(
            REFUND_BOOKING,
            &refund_body(refs.number, true, 10000, true, 10000),
        )
        .await;
    assert_eq!(code_of(&r, "ResultCode"), 39, "{}", r.text);
    // Seats stay sold; the booking is unchanged.
    let p = plan(&c, "29617").await;
    assert_eq!((p[&(1, 0, 1)], p[&(1, 0, 2)]), (1, 1));
    assert_eq!(
        single_booking(&c, &refs.id).await.text,
        standard_booking_reply(&refs, "PRINTED", "collected")
    );
    server.stop().await;
}

#[tokio::test]
async fn collect_on_a_refunded_booking_is_63() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "REFUNDFIRST").await;
    assert_eq!(
        c.post(
            REFUND_BOOKING,
            &refund_body(refs.number, true, 10000, true, 10000)
        )
        .await
        .text,
        OK_REFUND
    );
    let r = c
        .post(
            COLLECT_BOOKING,
            &json!({"CinemaId": "0200", "BookingNumber": refs.number}),
        )
        .await;
    assert_eq!(result(&r), 63, "{}", r.text);
    assert_eq!(
        single_booking(&c, &refs.id).await.text,
        standard_booking_reply(&refs, "REFUNDFIRST", "refunded")
    );
    server.stop().await;
}

// =============================================================================================
// 9. The recommended third-party flow (§10, D001 §2.2)

#[tokio::test]
async fn recommended_flow_end_to_end() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let key = "FTTest201508060001";
    // ② AddTickets → ③ Result 0.
    let r = c.post_raw(ADD_TICKETS, D001_ADD_TICKETS).await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let total = r.json()["Order"]["TotalValueCents"].as_i64().unwrap();
    assert_eq!(total, 10000);
    // ⑦ StartExternalPayment.
    assert_eq!(
        start_payment(&c, key).await.text,
        r#"{"ErrorDescription":null,"Result":0,"ExtendedResultCode":0,"PaymentRedirectUrl":null}"#
    );
    // ⑧ CompleteOrder with PaymentValueCents = Order.TotalValueCents.
    let r = c.post(COMPLETE_ORDER, &complete_body(key, total)).await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let refs = Refs::of(&r);
    // ⑩ GetOrder: CinemaId null ⇒ CompleteOrder done.
    assert_eq!(
        get_order(&c, key).await.text,
        get_order_reply(&empty_order(key, NOW_MS))
    );
    // ⑫ QueryOrderBookingStatus: the booking exists.
    assert_eq!(
        booking_status(&c, key).await.text,
        booking_status_found(&refs, key, 10000)
    );
    // GetSingleBooking: paid, not collected, not refunded.
    assert_eq!(
        single_booking(&c, &refs.id).await.text,
        standard_booking_reply(&refs, key, "paid")
    );
    // ⑭ CancelOrder fails on the committed order ⇒ ⑰ RefundBooking.
    assert_eq!(result(&cancel(&c, key).await), 56);
    let r = c
        .post(
            REFUND_BOOKING,
            &refund_body(refs.number, true, 10000, true, 10000),
        )
        .await;
    assert_eq!(r.text, OK_REFUND);
    // Seats are free again; the booking shows the refund.
    assert!(all_free(&plan(&c, "29617").await));
    assert_eq!(
        single_booking(&c, &refs.id).await.text,
        standard_booking_reply(&refs, key, "refunded")
    );
    assert_eq!(
        booking_status(&c, key).await.text,
        booking_status_found(&refs, key, 10000)
    );
    server.stop().await;
}

// =============================================================================================
// 10. Paths and authentication (§1.2, §1.3)

/// D001 prints `RestTicketing.svc` / `RestBooking.svc`; template segments match
/// case-insensitively (§1.2).
#[tokio::test]
async fn rest_paths_match_case_insensitively() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c
        .post_raw(
            "/WSVistaWebClient/RestTicketing.svc/Order/Tickets",
            D001_ADD_TICKETS,
        )
        .await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let r = c
        .post(
            "/WSVistaWebClient/RestTicketing.svc/order",
            &json!({"UserSessionId": D001_KEY}),
        )
        .await;
    assert_eq!(ok200(&r)["Order"]["CinemaId"], "0200", "{}", r.text);
    let r = c
        .post(
            "/WSVistaWebClient/RestTicketing.svc/order/startexternalpayment",
            &json!({"UserSessionId": D001_KEY}),
        )
        .await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let r = c
        .post(
            "/wsvistawebclient/resttickeTing.svc/ORDER/PAYMENT",
            &complete_body(D001_KEY, 10000),
        )
        .await;
    assert_eq!(result(&r), 0, "{}", r.text);
    let refs = Refs::of(&r);
    let r = c
        .post(
            "/WSVistaWebClient/RestTicketing.svc/order/query-booking-status",
            &json!({"UserSessionId": D001_KEY, "ClientId": "111.111.111.111"}),
        )
        .await;
    assert_eq!(code_of(&r, "ResponseCode"), 0, "{}", r.text);
    let r = c
        .post(
            "/WSVistaWebClient/RestBooking.svc/booking",
            &json!({"BookingId": refs.id, "BookingNumber": 0, "CinemaId": "0200"}),
        )
        .await;
    assert_eq!(code_of(&r, "ResultCode"), 0, "{}", r.text);
    let r = c
        .post(
            "/WSVistaWebClient/RestBooking.svc/Booking/Refund",
            &refund_body(refs.number, true, 10000, true, 10000),
        )
        .await;
    assert_eq!(r.text, OK_REFUND);
    let r = c
        .post(
            "/WSVistaWebClient/RestTicketing.svc/order/cancel",
            &json!({"UserSessionId": "X"}),
        )
        .await;
    assert_eq!(r.text, OK_PLAIN);
    server.stop().await;
}

#[tokio::test]
async fn every_post_endpoint_without_token_is_http_401_with_empty_object() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let refs = book(&c, "AUTH").await;
    let endpoints: Vec<(&str, Value)> = vec![
        (
            ADD_TICKETS,
            add_tickets_body("ANON", "29617", "0056", 5000, &[(2, 1), (2, 2)]),
        ),
        (GET_ORDER, json!({"UserSessionId": "AUTH"})),
        (CANCEL_ORDER, json!({"UserSessionId": "AUTH"})),
        (START_EXTERNAL_PAYMENT, json!({"UserSessionId": "AUTH"})),
        (COMPLETE_ORDER, complete_body("AUTH", 10000)),
        (
            QUERY_BOOKING_STATUS,
            json!({"UserSessionId": "AUTH", "ClientId": "111.111.111.111"}),
        ),
        (
            GET_SINGLE_BOOKING,
            json!({"BookingId": refs.id, "BookingNumber": 0, "CinemaId": "0200"}),
        ),
        (
            REFUND_BOOKING,
            refund_body(refs.number, true, 10000, true, 10000),
        ),
        (
            COLLECT_BOOKING,
            json!({"CinemaId": "0200", "BookingNumber": refs.number}),
        ),
    ];
    for (path, body) in &endpoints {
        for client in [c.with_token(None), c.with_token(Some("NOT-A-TOKEN"))] {
            let r = client.post(path, body).await;
            assert_eq!(r.status, 401, "{path} token {:?}: {}", client.token, r.text);
            assert_eq!(r.text, "{}", "{path} token {:?}", client.token);
        }
    }
    // Nothing happened: no order for ANON, the booking is still paid and uncollected.
    assert_eq!(
        get_order(&c, "ANON").await.text,
        get_order_reply(&empty_order("ANON", NOW_MS))
    );
    assert_eq!(
        single_booking(&c, &refs.id).await.text,
        standard_booking_reply(&refs, "AUTH", "paid")
    );
    server.stop().await;
}
