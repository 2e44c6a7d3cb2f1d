//! HTTP-level tests of the Vista Connect data endpoints: the OData service (Cinemas, Sessions,
//! GetNowShowingScheduledFilms, errors, service document, `$metadata`), authentication, and the
//! RESTData endpoints GetTicketsForSession and GetSessionSeatPlan
//! (spec `vista-connect.md` §1, §3, §4, §12, §14; original D001 §1, §3.1–3.4).
//!
//! Expected bodies are compared as exact text: member order, null-vs-absent, `\/` escaping and
//! casing are part of the wire contract. Demo dates are relative to the test clock's local date
//! 2026-11-22 (+08:00): today+1 = 2026-11-23, today+2 = 2026-11-24, today+3 = 2026-11-25.

mod common;
use common::*;
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// `odata.metadata` URL as the server must print it for the test server's Host header.
fn metadata_url(server: &TestServer, fragment: &str) -> String {
    format!(
        "{}/WSVistaWebClient/OData.svc/$metadata{fragment}",
        server.url
    )
}

fn assert_odata_json(r: &Reply) {
    assert!(
        r.content_type.starts_with("application/json"),
        "OData content type should be JSON, got {:?}",
        r.content_type
    );
}

fn assert_rest_json(r: &Reply) {
    assert_eq!(
        r.content_type, "application/json; charset=utf-8",
        "{}",
        r.text
    );
}

/// Asserts an OData v3 error body `{"odata.error":{"code":"","message":{"lang":"en-US","value":…}}}`.
fn assert_odata_error(r: &Reply, status: u16) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_odata_json(r);
    let v = r.json();
    let obj = v.as_object().expect("object");
    assert_eq!(
        obj.keys().collect::<Vec<_>>(),
        vec!["odata.error"],
        "{}",
        r.text
    );
    let e = &v["odata.error"];
    assert_eq!(e["code"], "", "{}", r.text);
    assert_eq!(e["message"]["lang"], "en-US", "{}", r.text);
    assert!(
        e["message"]["value"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{}",
        r.text
    );
}

/// A GET over a raw TCP connection, so that header-name casing is sent exactly as written.
async fn raw_get(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = server.url.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&host)
        .await
        .expect("connect");
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8(buf).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("response head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, body.to_string())
}

/// The D001 §3.2 GetNowShowingScheduledFilms request, verbatim.
const NOW_SHOWING_D001: &str = "/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?$format=json&cinemaId=%270200%27&$expand=Sessions/Attributes&$select=ScheduledFilmId,Title,RunTime,ShortCode,Sessions/SessionId,Sessions/Showtime,Sessions/Attributes/Description,Sessions/ScreenNumber,Sessions/ScreenName";
const NOW_SHOWING_SELECT: &str = "ScheduledFilmId,Title,RunTime,ShortCode,Sessions/SessionId,Sessions/Showtime,Sessions/Attributes/Description,Sessions/ScreenNumber,Sessions/ScreenName";

/// The now-showing films of the demo as D001's `$select` renders them.
const FILM_01: &str = r#"{"ScheduledFilmId":"HO00012501","Title":"重返 20 岁","ShortCode":"001200472015","RunTime":"131","Sessions":[{"SessionId":"29617","Showtime":"2026-11-23T10:50:00","ScreenName":"一号厅","ScreenNumber":1,"Attributes":[{"Description":"原版"}]}]}"#;
const FILM_02: &str = r#"{"ScheduledFilmId":"HO00012502","Title":"一万年以后 ( 数字 3D ) ","ShortCode":"001200482015","RunTime":"97","Sessions":[{"SessionId":"34668","Showtime":"2026-11-24T10:30:00","ScreenName":"七号厅","ScreenNumber":7,"Attributes":[{"Description":"原版"},{"Description":"3D"}]},{"SessionId":"34669","Showtime":"2026-11-24T20:00:00","ScreenName":"七号厅","ScreenNumber":7,"Attributes":[{"Description":"原版"},{"Description":"3D"}]}]}"#;
const FILM_03: &str = r#"{"ScheduledFilmId":"HO00012503","Title":"非凡电魔","ShortCode":"001200492016","RunTime":"105","Sessions":[{"SessionId":"33392","Showtime":"2026-11-23T19:30:00","ScreenName":"一号厅","ScreenNumber":1,"Attributes":[{"Description":"原版"}]}]}"#;

fn now_showing_body(server: &TestServer, films: &[&str]) -> String {
    format!(
        r#"{{"odata.metadata":"{}","value":[{}]}}"#,
        metadata_url(
            server,
            &format!("#ScheduledFilms&$select={NOW_SHOWING_SELECT}")
        ),
        films.join(",")
    )
}

/// `SessionId`s of an OData Sessions reply, in order.
fn session_ids(r: &Reply) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|s| s["SessionId"].as_str().expect("SessionId").to_string())
        .collect()
}

/// One GetTicketsForSession entry with every member of §4.1, in ordinal order.
#[allow(clippy::too_many_arguments)]
fn ticket(
    area: &str,
    description: &str,
    hopk: &str,
    grouping: &str,
    member_only: bool,
    price_group: &str,
    price: i64,
    channels: &str,
    code: &str,
) -> String {
    format!(
        concat!(
            r#"{{"AreaCategoryCode":"{area}","CinemaId":"0200","Description":"{description}","DescriptionAlt":"","DescriptionTranslations":[],"DiscountsAvailable":[],"DisplaySequence":0,"#,
            r#""HOPK":"{hopk}","HeadOfficeGroupingCode":"{grouping}","IsAllocatableSeating":true,"IsAvailableAsLoyaltyRecognitionOnly":false,"IsAvailableForLoyaltyMembersOnly":{member_only},"#,
            r#""IsChildOnlyTicket":false,"IsComplimentaryTicket":false,"IsDynamicallyPriced":false,"IsPackageTicket":false,"IsRedemptionTicket":false,"IsThirdPartyMemberTicket":false,"#,
            r#""LongDescription":"","LongDescriptionAlt":"","LongDescriptionTranslations":[],"LoyaltyBalanceTypeId":null,"LoyaltyPointsCost":null,"LoyaltyQuantityAvailable":null,"LoyaltyRecognitionId":null,"#,
            r#""MaxServiceFeeInCents":null,"MinServiceFeeInCents":null,"PackageContent":{{"Concessions":[],"Tickets":[]}},"PriceGroupCode":"{price_group}","PriceInCents":{price},"#,
            r#""ProductCodeForVoucher":"","QuantityAvailablePerOrder":10,"ResalePriceInCents":null,"SalesChannels":{channels},"SurchargeAmount":0,"ThirdPartyMembershipName":"","#,
            r#""TicketTypeCode":"{code}","TotalTicketFeeAmountInCents":0}}"#
        ),
        area = area,
        description = description,
        hopk = hopk,
        grouping = grouping,
        member_only = member_only,
        price_group = price_group,
        price = price,
        channels = channels,
        code = code,
    )
}

fn tickets_body(tickets: &[String]) -> String {
    format!(r#"{{"ResponseCode":0,"Tickets":[{}]}}"#, tickets.join(","))
}

// Seat plans are pinned as insta snapshots of the real wire output (`snapshots/vista_data__*.snap`),
// checked by reading them against D001 §3.4's example and the demo catalogue's layouts; the
// assertions next to them restate the document's facts by hand (member names and order, seat
// statuses 0 free, 1 sold, 2 house, 3 special, 4 reserved to the caller).

/// The pristine plan of session 29617 (screen 1: 7 rows × 12 columns, 77 seats, all free).
fn assert_pristine_29617(text: &str) {
    insta::assert_snapshot!("seat_plan_29617", text);
}

/// The 29617 plan with seats (area 1, row 0, columns 1 and 2) held by an order: as others see
/// it (`own` false: Status 1, OriginalStatus 1) or as its holder sees it (`own` true: Status 4,
/// OriginalStatus 0, listed in `AreaCategories[0].SelectedSeats`).
fn assert_held_29617(text: &str, own: bool) {
    if own {
        insta::assert_snapshot!("seat_plan_29617_held_seen_by_holder", text);
    } else {
        insta::assert_snapshot!("seat_plan_29617_held_seen_by_others", text);
    }
    let plan: serde_json::Value = serde_json::from_str(text).expect("seat plan JSON");
    assert_eq!(plan["ResponseCode"], 0, "{text}");
    let statuses = seat_statuses(&plan);
    assert_eq!(statuses.len(), 77);
    let held = if own { 4 } else { 1 };
    for (position, status) in &statuses {
        let expected = if [(1, 0, 1), (1, 0, 2)].contains(position) {
            held
        } else {
            0
        };
        assert_eq!(*status, expected, "seat {position:?}");
    }
    let selected = &plan["SeatLayoutData"]["AreaCategories"][0];
    let want = if own {
        serde_json::json!([
            {"AreaNumber": 1, "ColumnIndex": 1, "RowIndex": 0},
            {"AreaNumber": 1, "ColumnIndex": 2, "RowIndex": 0}
        ])
    } else {
        serde_json::json!([])
    };
    assert_eq!(selected["SelectedSeats"], want, "{text}");
    assert_eq!(selected["SeatsAllocatedCount"], if own { 2 } else { 0 });
}

fn cancel_body(key: &str) -> serde_json::Value {
    json!({
        "UserSessionId": key,
        "OptionalClientClass": "RSP",
        "OptionalClientId": "111.111.111.111",
        "OptionalClientName": "3rdParty"
    })
}

const SEAT_PLAN_NOT_FOUND: &str = r#"{"ErrorDescription":"The request data passed to the service does not include the correctly formatted data required to process the request","ResponseCode":4,"SeatLayoutData":null}"#;

// ---------------------------------------------------------------------------------------------
// 1. OData Cinemas (D001 §3.1, spec §3.2/§3.3/§3.5)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn odata_cinemas_without_select_returns_every_property_in_edmx_order() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let expected = format!(
        concat!(
            r#"{{"odata.metadata":"{}","value":[{{"ID":"0200","CinemaNationalId":"1721210","Name":"CHTEST01","NameAlt":"","PhoneNumber":"","EmailAddress":null,"#,
            r#""Address1":"上海市黄浦区示例路 1 号","Address2":"","City":"China","Latitude":null,"Longitude":null,"ParkingInfo":"","LoyaltyCode":"","IsGiftStore":false,"#,
            r#""Description":"","DescriptionAlt":"","PublicTransport":"","CurrencyCode":"CNY","AllowPrintAtHomeBookings":false,"AllowOnlineVoucherValidation":false,"#,
            r#""DisplaySofaSeats":true,"TimeZoneId":"China Standard Time","HOPK":"0200","NameTranslations":[],"DescriptionTranslations":[],"ParkingInfoTranslations":[],"#,
            r#""PublicTransportTranslations":[],"TipsCompulsory":false,"TipPercentages":null,"ServerName":"0200"}}]}}"#
        ),
        metadata_url(&server, "#Cinemas")
    );
    let r = c
        .get("/WSVistaWebClient/OData.svc/Cinemas?$format=json")
        .await;
    assert_eq!(r.status, 200);
    assert_odata_json(&r);
    assert_eq!(r.text, expected);
    // Spec §3.2 decision: always JSON, also without $format.
    let r = c.get("/WSVistaWebClient/OData.svc/Cinemas").await;
    assert_eq!(r.status, 200);
    assert_odata_json(&r);
    assert_eq!(r.text, expected);
    server.stop().await;
}

#[tokio::test]
async fn odata_cinemas_with_d001_select_returns_exactly_the_selected_properties() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c
        .get("/WSVistaWebClient/OData.svc/Cinemas?$format=json&$select=ID,CinemaNationalId,Name,PhoneNumber,EmailAddress,City")
        .await;
    assert_eq!(r.status, 200);
    assert_odata_json(&r);
    assert_eq!(
        r.text,
        format!(
            r#"{{"odata.metadata":"{}","value":[{{"ID":"0200","CinemaNationalId":"1721210","Name":"CHTEST01","PhoneNumber":"","EmailAddress":null,"City":"China"}}]}}"#,
            metadata_url(
                &server,
                "#Cinemas&$select=ID,CinemaNationalId,Name,PhoneNumber,EmailAddress,City"
            )
        )
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 2. OData Sessions (D001 §1 example, spec §3.5/§3.6)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn odata_sessions_d001_filter_example_selects_one_days_sessions() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    // D001 §1 verbatim, with the dates moved to today+1 (2026-11-23).
    let r = c
        .get("/WSVistaWebClient/OData.svc/Sessions()?&$format=json&$filter=CinemaId%20eq%20%270200%27%20and%20Showtime%20gt%20datetime%272026-11-23%27%20and%20Showtime%20lt%20datetime%272026-11-24%27&$select=SessionId,ScheduledFilmId,Showtime")
        .await;
    assert_eq!(r.status, 200);
    assert_odata_json(&r);
    assert_eq!(
        r.text,
        format!(
            r#"{{"odata.metadata":"{}","value":[{{"ScheduledFilmId":"HO00012501","SessionId":"29617","Showtime":"2026-11-23T10:50:00"}},{{"ScheduledFilmId":"HO00012503","SessionId":"33392","Showtime":"2026-11-23T19:30:00"}}]}}"#,
            metadata_url(
                &server,
                "#Sessions&$select=SessionId,ScheduledFilmId,Showtime"
            )
        )
    );
    // The next day holds the two screen-7 sessions.
    let r = c
        .get("/WSVistaWebClient/OData.svc/Sessions?$filter=CinemaId%20eq%20%270200%27%20and%20Showtime%20gt%20datetime%272026-11-24%27%20and%20Showtime%20lt%20datetime%272026-11-25%27&$select=SessionId")
        .await;
    assert_eq!(session_ids(&r), vec!["34668", "34669"]);
    server.stop().await;
}

#[tokio::test]
async fn odata_sessions_filter_by_id_with_plus_spaces_returns_seats_available() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.get("/WSVistaWebClient/OData.svc/Sessions?$filter=ID+eq+'0200-29617'&$select=ID,SeatsAvailable").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text,
        format!(
            r#"{{"odata.metadata":"{}","value":[{{"ID":"0200-29617","SeatsAvailable":77}}]}}"#,
            metadata_url(&server, "#Sessions&$select=ID,SeatsAvailable")
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn odata_session_without_select_has_every_property_in_edmx_order() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c
        .get("/WSVistaWebClient/OData.svc/Sessions?$format=json&$filter=ID+eq+'0200-34668'")
        .await;
    assert_eq!(r.status, 200);
    assert_odata_json(&r);
    let expected = format!(
        concat!(
            r#"{{"odata.metadata":"{}","value":[{{"ID":"0200-34668","CinemaId":"0200","ScheduledFilmId":"HO00012502","SessionId":"34668","#,
            r#""AreaCategoryCodes":["0000000001","0000000003"],"Showtime":"2026-11-24T10:30:00","IsAllocatedSeating":true,"AllowChildAdmits":true,"#,
            r#""SeatsAvailable":76,"AllowComplimentaryTickets":false,"EventId":"","PriceGroupCode":"0033","ScreenName":"七号厅","ScreenNameAlt":"","#,
            r#""ScreenNumber":7,"CinemaOperatorCode":"0200","FormatCode":"0000000001","SalesChannels":";RSP;","SessionAttributesNames":["原版","3D"],"#,
            r#""ConceptAttributesNames":[],"AllowTicketSales":true,"HasDynamicallyPricedTicketsAvailable":false,"PlayThroughId":null,"#,
            r#""SessionBusinessDate":"2026-11-24T00:00:00","SessionDisplayPriority":0,"GroupSessionsByAttribute":false}}]}}"#
        ),
        metadata_url(&server, "#Sessions")
    );
    assert_eq!(r.text, expected);
    server.stop().await;
}

#[tokio::test]
async fn odata_sessions_orderby_showtime_desc_and_top_skip_page_the_result() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c
        .get("/WSVistaWebClient/OData.svc/Sessions?$orderby=Showtime%20desc&$select=SessionId")
        .await;
    assert_eq!(
        session_ids(&r),
        vec!["29618", "34669", "34668", "33392", "29617"]
    );
    let r = c
        .get("/WSVistaWebClient/OData.svc/Sessions?$orderby=Showtime&$select=SessionId")
        .await;
    assert_eq!(
        session_ids(&r),
        vec!["29617", "33392", "34668", "34669", "29618"]
    );
    let r = c.get("/WSVistaWebClient/OData.svc/Sessions?$orderby=Showtime+desc&$top=2&$skip=1&$select=SessionId").await;
    assert_eq!(session_ids(&r), vec!["34669", "34668"]);
    let r = c
        .get("/WSVistaWebClient/OData.svc/Sessions?$orderby=Showtime&$top=1&$select=SessionId")
        .await;
    assert_eq!(session_ids(&r), vec!["29617"]);
    let r = c
        .get("/WSVistaWebClient/OData.svc/Sessions?$orderby=Showtime&$skip=4&$select=SessionId")
        .await;
    assert_eq!(session_ids(&r), vec!["29618"]);
    let r = c
        .get("/WSVistaWebClient/OData.svc/Sessions?$orderby=Showtime&$skip=5&$select=SessionId")
        .await;
    assert_eq!(session_ids(&r), Vec::<String>::new());
    server.stop().await;
}

#[tokio::test]
async fn odata_sessions_filter_supports_or_not_parentheses_and_datetime_forms() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let q = |f: &str| {
        format!(
            "/WSVistaWebClient/OData.svc/Sessions?$orderby=Showtime&$select=SessionId&$filter={f}"
        )
    };
    let cases: &[(&str, &[&str])] = &[
        ("(SessionId eq '29617' or SessionId eq '34669') and not (ScreenNumber eq 7)", &["29617"]),
        ("SessionId eq '29617' or SessionId eq '34669'", &["29617", "34669"]),
        ("not (ScreenNumber eq 1)", &["34668", "34669"]),
        ("ScreenNumber eq 7 and (Showtime lt datetime'2026-11-24T12:00' or SessionId eq '34669')", &["34668", "34669"]),
        ("Showtime ge datetime'2026-11-24T10:30:00'", &["34668", "34669", "29618"]),
        ("Showtime gt datetime'2026-11-24T10:30'", &["34669", "29618"]),
        ("Showtime le datetime'2026-11-23T19:30:00'", &["29617", "33392"]),
        ("ScreenNumber ne 7 and ScheduledFilmId eq 'HO00012501'", &["29617", "29618"]),
        ("SessionBusinessDate eq datetime'2026-11-25'", &["29618"]),
        ("CinemaId eq 'it''s'", &[]),
    ];
    for (filter, want) in cases {
        let r = c.get(&q(filter)).await;
        assert_eq!(session_ids(&r), want.to_vec(), "$filter={filter}");
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 3. GetNowShowingScheduledFilms (D001 §3.2, spec §3.4)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn now_showing_d001_request_returns_films_with_expanded_sessions_and_attributes() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.get(NOW_SHOWING_D001).await;
    assert_eq!(r.status, 200);
    assert_odata_json(&r);
    // 29618 (flagged sold out) is not on sale, so it is absent.
    assert_eq!(
        r.text,
        now_showing_body(&server, &[FILM_01, FILM_02, FILM_03])
    );
    server.stop().await;
}

#[tokio::test]
async fn now_showing_without_cinema_id_or_with_unquoted_lowercase_cinemaid_lists_the_same_films() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let expected = now_showing_body(&server, &[FILM_01, FILM_02, FILM_03]);
    let without = format!(
        "/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?$format=json&$expand=Sessions/Attributes&$select={NOW_SHOWING_SELECT}"
    );
    let r = c.get(&without).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text, expected,
        "without cinemaId: every cinema the token may see"
    );
    let unquoted = format!(
        "/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?$format=json&cinemaid=0200&$expand=Sessions/Attributes&$select={NOW_SHOWING_SELECT}"
    );
    let r = c.get(&unquoted).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, expected, "cinemaid=0200 (unquoted, lower case)");
    let raw_quotes = format!(
        "/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?$format=json&cinemaId='0200'&$expand=Sessions/Attributes&$select={NOW_SHOWING_SELECT}"
    );
    let r = c.get(&raw_quotes).await;
    assert_eq!(r.text, expected, "cinemaId='0200'");
    let other = c.get("/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?$format=json&cinemaId=%279999%27&$select=ScheduledFilmId").await;
    assert_eq!(other.status, 200);
    assert_eq!(
        other.text,
        format!(
            r#"{{"odata.metadata":"{}","value":[]}}"#,
            metadata_url(&server, "#ScheduledFilms&$select=ScheduledFilmId")
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn now_showing_drops_a_session_once_past_its_cutoff() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.get(NOW_SHOWING_D001).await;
    assert_eq!(
        r.text,
        now_showing_body(&server, &[FILM_01, FILM_02, FILM_03])
    );
    // 2026-11-23 10:51 local: 29617 (10:50, cut-off 0 minutes) is past its cut-off. Its film has
    // no other session on sale (29618 is flagged sold out), so the film disappears.
    server
        .clock
        .advance(chrono::Duration::minutes(24 * 60 + 51));
    let r = c.get(NOW_SHOWING_D001).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, now_showing_body(&server, &[FILM_02, FILM_03]));
    // 2026-11-23 19:31: 33392 is gone too.
    server.clock.advance(chrono::Duration::minutes(8 * 60 + 40));
    let r = c.get(NOW_SHOWING_D001).await;
    assert_eq!(r.text, now_showing_body(&server, &[FILM_02]));
    server.stop().await;
}

#[tokio::test]
async fn now_showing_never_lists_the_sold_out_session() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c
        .get("/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?cinemaId='0200'&$expand=Sessions&$select=ScheduledFilmId,Sessions/SessionId")
        .await;
    assert_eq!(r.status, 200);
    let ids: Vec<String> = r.json()["value"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["Sessions"].as_array().unwrap().clone())
        .map(|s| s["SessionId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec!["29617", "34668", "34669", "33392"]);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 4. OData errors, service document, $metadata, path casing (spec §1.2, §3.7, §3.8)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn odata_wrong_casing_entity_set_is_404_resource_not_found() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.get("/WSVistaWebClient/OData.svc/cinemas").await;
    assert_eq!(r.status, 404);
    assert_odata_json(&r);
    assert_eq!(
        r.text,
        r#"{"odata.error":{"code":"","message":{"lang":"en-US","value":"Resource not found for the segment 'cinemas'."}}}"#
    );
    for (path, seg) in [
        (
            "/WSVistaWebClient/OData.svc/CINEMAS?$format=json",
            "CINEMAS",
        ),
        ("/WSVistaWebClient/OData.svc/sessions", "sessions"),
        (
            "/WSVistaWebClient/OData.svc/getNowShowingScheduledFilms",
            "getNowShowingScheduledFilms",
        ),
        ("/WSVistaWebClient/OData.svc/NoSuchSet", "NoSuchSet"),
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(
            r.text,
            format!(
                r#"{{"odata.error":{{"code":"","message":{{"lang":"en-US","value":"Resource not found for the segment '{seg}'."}}}}}}"#
            ),
            "{path}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn odata_unknown_or_wrong_case_property_is_400() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    for path in [
        "/WSVistaWebClient/OData.svc/Sessions?$filter=Foo+eq+1",
        // D001 §1 note 3: City must not be written city.
        "/WSVistaWebClient/OData.svc/Cinemas?$filter=city+eq+'China'",
        "/WSVistaWebClient/OData.svc/Cinemas?$select=name",
        "/WSVistaWebClient/OData.svc/Sessions?$orderby=showtime",
        "/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?$select=title",
    ] {
        let r = c.get(path).await;
        assert_odata_error(&r, 400);
    }
    server.stop().await;
}

#[tokio::test]
async fn odata_bad_filter_syntax_is_400() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    for path in [
        "/WSVistaWebClient/OData.svc/Sessions?$filter=ID+eq",
        "/WSVistaWebClient/OData.svc/Cinemas?$filter=City+eq+'China",
        "/WSVistaWebClient/OData.svc/Cinemas?$filter=City+eq+eq",
        "/WSVistaWebClient/OData.svc/Sessions?$filter=(ScreenNumber+eq+7",
        "/WSVistaWebClient/OData.svc/Sessions?$filter=Showtime+gt+datetime'not-a-date'",
        "/WSVistaWebClient/OData.svc/Sessions?$top=abc",
    ] {
        let r = c.get(path).await;
        assert_odata_error(&r, 400);
    }
    server.stop().await;
}

#[tokio::test]
async fn odata_service_document_lists_the_entity_sets() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.get("/WSVistaWebClient/OData.svc").await;
    assert_eq!(r.status, 200);
    assert_odata_json(&r);
    assert_eq!(
        r.text,
        format!(
            r#"{{"odata.metadata":"{}","value":[{{"name":"Cinemas","url":"Cinemas"}},{{"name":"ScheduledFilms","url":"ScheduledFilms"}},{{"name":"Sessions","url":"Sessions"}},{{"name":"Settings","url":"Settings"}},{{"name":"Films","url":"Films"}},{{"name":"SiteGroups","url":"SiteGroups"}},{{"name":"CinemaEvents","url":"CinemaEvents"}},{{"name":"Attributes","url":"Attributes"}},{{"name":"ScreenAttributes","url":"ScreenAttributes"}}]}}"#,
            metadata_url(&server, "")
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn odata_metadata_is_edmx_xml_describing_the_model() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.get("/WSVistaWebClient/OData.svc/$metadata").await;
    assert_eq!(r.status, 200);
    assert!(
        r.content_type.starts_with("application/xml"),
        "{}",
        r.content_type
    );
    assert!(
        r.text.starts_with("<?xml"),
        "{}",
        &r.text[..100.min(r.text.len())]
    );
    for needle in [
        "<edmx:Edmx",
        r#"Namespace="WSVistaWebClient.ServiceContracts.OData""#,
        r#"<EntityType Name="Cinema""#,
        r#"<EntityType Name="ScheduledFilm""#,
        r#"<EntityType Name="Session""#,
        r#"<EntityType Name="Attribute""#,
        r#"<Property Name="SeatsAvailable" Type="Edm.Int32" Nullable="false" />"#,
        r#"<Property Name="Showtime" Type="Edm.DateTime" Nullable="false" />"#,
        r#"<EntitySet Name="Cinemas""#,
        r#"<EntitySet Name="Sessions""#,
        r#"<FunctionImport Name="GetNowShowingScheduledFilms""#,
    ] {
        assert!(r.text.contains(needle), "$metadata lacks {needle}");
    }
    server.stop().await;
}

#[tokio::test]
async fn odata_service_prefix_is_case_insensitive() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let expected = format!(
        r#"{{"odata.metadata":"{}","value":[{{"ID":"0200","Name":"CHTEST01"}}]}}"#,
        metadata_url(&server, "#Cinemas&$select=ID,Name")
    );
    for path in [
        "/WSVistaWebClient/OData.svc/Cinemas?$select=ID,Name",
        "/WSVistaWebClient/Odata.svc/Cinemas?$select=ID,Name",
        "/wsvistawebclient/ODATA.SVC/Cinemas?$select=ID,Name",
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.text, expected, "{path}");
    }
    let r = c.get("/wsvistawebclient/odata.svc/cinemas").await;
    assert_eq!(r.status, 404, "the entity-set segment stays case-sensitive");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 5. Authentication (D001 §1 note 4, spec §1.3, G1)
// ---------------------------------------------------------------------------------------------

const DATA_ENDPOINTS: &[&str] = &[
    "/WSVistaWebClient/OData.svc",
    "/WSVistaWebClient/OData.svc/$metadata",
    "/WSVistaWebClient/OData.svc/Cinemas?$format=json",
    "/WSVistaWebClient/OData.svc/Sessions()?$format=json",
    "/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?$format=json&cinemaId=%270200%27",
    "/WSVistaWebClient/RESTData.svc/cinemas/0200/sessions/29617/tickets",
    "/WSVistaWebClient/RESTData.svc/cinemas/0200/sessions/29617/seat-plan",
];

#[tokio::test]
async fn every_data_endpoint_refuses_a_missing_token_with_401() {
    let server = TestServer::start().await;
    let anonymous = Client::new(&server).with_token(None);
    for path in DATA_ENDPOINTS {
        let r = anonymous.get(path).await;
        if path.contains("RESTData") {
            assert_eq!(r.status, 401, "{path}");
            assert_eq!(r.text, "{}", "{path}");
        } else {
            assert_odata_error(&r, 401);
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn every_data_endpoint_refuses_a_wrong_token_with_401() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    for bad in ["WRONG-TOKEN", ""] {
        let wrong = c.with_token(Some(bad));
        for path in DATA_ENDPOINTS {
            let r = wrong.get(path).await;
            if path.contains("RESTData") {
                assert_eq!(r.status, 401, "{path} with token {bad:?}");
                assert_eq!(r.text, "{}", "{path}");
            } else {
                assert_odata_error(&r, 401);
            }
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn token_header_name_is_case_insensitive() {
    let server = TestServer::start().await;
    for name in ["ConnectApiToken", "connectApiToken", "CONNECTAPITOKEN"] {
        for path in DATA_ENDPOINTS {
            let (status, body) = raw_get(&server, path, &[(name, TOKEN)]).await;
            assert_eq!(status, 200, "{name} on {path}: {body}");
        }
    }
    let (status, body) = raw_get(&server, &tickets("29617"), &[("ConnectApiToken", "WRONG")]).await;
    assert_eq!((status, body.as_str()), (401, "{}"));
    let (status, _) = raw_get(&server, &tickets("29617"), &[]).await;
    assert_eq!(status, 401);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 6. GetTicketsForSession (D001 §3.3, spec §4.1, G24)
// ---------------------------------------------------------------------------------------------

fn ticket_0010(price_group: &str, price: i64) -> String {
    ticket(
        "0000000001",
        "标准票",
        "0010",
        "HOTK000012",
        false,
        price_group,
        price,
        r#"["POS","POSBK","RSP"]"#,
        "0010",
    )
}

fn ticket_0056() -> String {
    ticket(
        "0000000001",
        "web ticket",
        "0056",
        "HOTK000012",
        false,
        "0029",
        5000,
        r#"["RSP"]"#,
        "0056",
    )
}

#[tokio::test]
async fn tickets_for_session_29617_lists_the_rsp_channel_and_standard_tickets_in_full() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.get(&tickets("29617")).await;
    assert_eq!(r.status, 200);
    assert_rest_json(&r);
    assert_eq!(
        r.text,
        tickets_body(&[ticket_0010("0029", 10000), ticket_0056()])
    );
    // Every ticket carries all 38 members of §4.1.
    for t in r.json()["Tickets"].as_array().unwrap() {
        assert_eq!(t.as_object().unwrap().len(), 38, "{t}");
    }
    // salesChannelFilter is accepted and ignored (G23).
    let r = c
        .get(&format!("{}?salesChannelFilter=POS", tickets("29617")))
        .await;
    assert_eq!(
        r.text,
        tickets_body(&[ticket_0010("0029", 10000), ticket_0056()])
    );
    server.stop().await;
}

#[tokio::test]
async fn tickets_for_session_34668_cover_both_area_categories() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.get(&tickets("34668")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text,
        tickets_body(&[
            ticket_0010("0033", 8000),
            ticket(
                "0000000003",
                "VIP 区第三方票",
                "0043",
                "HOTK000016",
                false,
                "0033",
                2000,
                r#"["RSP"]"#,
                "0043"
            ),
        ])
    );
    server.stop().await;
}

#[tokio::test]
async fn member_only_ticket_type_is_shown_only_with_include_loyalty_tickets_for_non_members() {
    let server = TestServer::start().await;
    // The demo prices the member-only type 0029 on no session; price it on 29617 (D000's
    // member example shows 0029 at 12000).
    let line = r#"  { ticket = "0056", area = "0000000001", price = 5000 },"#;
    let variant = boxoffice_server::DEMO_CATALOG.replacen(
        line,
        &format!("{line}\n  {{ ticket = \"0029\", area = \"0000000001\", price = 12000 }},"),
        1,
    );
    assert_ne!(variant, boxoffice_server::DEMO_CATALOG);
    server
        .app
        .apply_catalog(&variant)
        .await
        .expect("catalogue with a member price");
    let c = Client::new(&server);
    let without = tickets_body(&[ticket_0010("0029", 10000), ticket_0056()]);
    let member = ticket(
        "0000000001",
        "会员价(钻石卡)",
        "0029",
        "HOTK000020",
        true,
        "0029",
        12000,
        r#"["POS","POSBK","WWW","RSP"]"#,
        "0029",
    );
    let with = tickets_body(&[ticket_0010("0029", 10000), member, ticket_0056()]);

    let r = c.get(&tickets("29617")).await;
    assert_eq!(r.text, without, "no member validated, no flag");
    let r = c
        .get(&format!(
            "{}?includeLoyaltyTicketsForNonMembers=false",
            tickets("29617")
        ))
        .await;
    assert_eq!(r.text, without, "flag false");
    let r = c
        .get(&format!("{}?userSessionId=NOBODY", tickets("29617")))
        .await;
    assert_eq!(r.text, without, "no member validated on that userSessionId");
    let r = c
        .get(&format!(
            "{}?includeLoyaltyTicketsForNonMembers=true",
            tickets("29617")
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, with, "flag true");
    // Query-parameter names are case-insensitive (§1.2 decision).
    let r = c
        .get(&format!(
            "{}?includeloyaltyticketsfornonmembers=true",
            tickets("29617")
        ))
        .await;
    assert_eq!(r.text, with, "flag name in lower case");
    server.stop().await;
}

#[tokio::test]
async fn tickets_for_unknown_cinema_or_session_answer_response_code_4_with_http_200() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    for path in [
        "/WSVistaWebClient/RESTData.svc/cinemas/9999/sessions/29617/tickets",
        "/WSVistaWebClient/RESTData.svc/cinemas/0200/sessions/99999/tickets",
        "/WSVistaWebClient/RESTData.svc/cinemas/0200/sessions/abc/tickets",
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_rest_json(&r);
        assert_eq!(r.text, r#"{"ResponseCode":4,"Tickets":null}"#, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn restdata_path_is_case_insensitive() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let expected = tickets_body(&[ticket_0010("0029", 10000), ticket_0056()]);
    for path in [
        "/WSVistaWebClient/RestData.svc/Cinemas/0200/Sessions/29617/Tickets",
        "/wsvistawebclient/restdata.svc/cinemas/0200/sessions/29617/tickets",
        "/WSVISTAWEBCLIENT/RESTDATA.SVC/CINEMAS/0200/SESSIONS/29617/TICKETS",
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.text, expected, "{path}");
    }
    let r = c
        .get("/WSVistaWebClient/RestData.svc/Cinemas/0200/Sessions/29617/Seat-Plan")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, c.get(&seat_plan("29617")).await.text);
    assert_pristine_29617(&r.text);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 7. GetSessionSeatPlan (D001 §3.4, spec §4.2, §13.3, G19/G20)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn seat_plan_29617_is_the_full_d001_layout() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.get(&seat_plan("29617")).await;
    assert_eq!(r.status, 200);
    assert_rest_json(&r);
    // D001's compact example, up to the first seat.
    assert!(
        r.text.starts_with(concat!(
            r#"{"ErrorDescription":null,"ResponseCode":0,"SeatLayoutData":{"AreaCategories":[{"AreaCategoryCode":"0000000001","IsInSeatDeliveryEnabled":false,"SeatsAllocatedCount":0,"SeatsNotAllocatedCount":0,"SeatsToAllocate":0,"SelectedSeats":[]}],"#,
            r#""Areas":[{"AreaCategoryCode":"0000000001","ColumnCount":12,"Description":"一号厅","DescriptionAlt":"","HasSofaSeatingEnabled":false,"Height":7,"IsAllocatedSeating":true,"Left":0,"Number":1,"NumberOfSeats":84,"RowCount":7,"#,
            r#""Rows":[{"PhysicalName":"7","Seats":[{"Id":"10","OriginalStatus":0,"Position":{"AreaNumber":1,"ColumnIndex":1,"RowIndex":0},"Priority":0,"SeatStyle":0,"SeatsInGroup":null,"Status":0},"#
        )),
        "{}",
        r.text
    );
    assert!(r.text.ends_with(r#"],"Top":0,"Width":12}],"BoundaryLeft":0,"BoundaryRight":12,"BoundaryTop":0,"ScreenStart":0,"ScreenWidth":12}}"#));
    assert_pristine_29617(&r.text);
    let plan = r.json();
    // D001's member names, in its order, at every level.
    let names = |v: &serde_json::Value| -> Vec<String> {
        v.as_object().expect("object").keys().cloned().collect()
    };
    let layout = &plan["SeatLayoutData"];
    assert_eq!(
        names(layout),
        [
            "AreaCategories",
            "Areas",
            "BoundaryLeft",
            "BoundaryRight",
            "BoundaryTop",
            "ScreenStart",
            "ScreenWidth"
        ]
    );
    assert_eq!(
        names(&layout["AreaCategories"][0]),
        [
            "AreaCategoryCode",
            "IsInSeatDeliveryEnabled",
            "SeatsAllocatedCount",
            "SeatsNotAllocatedCount",
            "SeatsToAllocate",
            "SelectedSeats"
        ]
    );
    assert_eq!(
        names(&layout["Areas"][0]),
        [
            "AreaCategoryCode",
            "ColumnCount",
            "Description",
            "DescriptionAlt",
            "HasSofaSeatingEnabled",
            "Height",
            "IsAllocatedSeating",
            "Left",
            "Number",
            "NumberOfSeats",
            "RowCount",
            "Rows",
            "Top",
            "Width"
        ]
    );
    assert_eq!(
        names(&layout["Areas"][0]["Rows"][0]["Seats"][0]),
        [
            "Id",
            "OriginalStatus",
            "Position",
            "Priority",
            "SeatStyle",
            "SeatsInGroup",
            "Status"
        ]
    );
    assert_eq!(
        names(&layout["Areas"][0]["Rows"][0]["Seats"][0]["Position"]),
        ["AreaNumber", "ColumnIndex", "RowIndex"]
    );
    let rows = plan["SeatLayoutData"]["Areas"][0]["Rows"]
        .as_array()
        .unwrap();
    assert_eq!(rows.len(), 7);
    let first: Vec<(String, i64)> = rows[0]["Seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["Id"].as_str().unwrap().to_string(),
                s["Position"]["ColumnIndex"].as_i64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, i64)> = (1..=10).map(|col| ((11 - col).to_string(), col)).collect();
    assert_eq!(
        first, want,
        "row index 0 is physical row 7, seats 10..1 at columns 1..10"
    );
    let statuses = seat_statuses(&plan);
    assert_eq!(statuses.len(), 77);
    assert!(statuses.values().all(|s| *s == 0));
    server.stop().await;
}

#[tokio::test]
async fn seat_plan_34668_has_two_areas_sofas_a_wheelchair_and_a_house_seat() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.get(&seat_plan("34668")).await;
    assert_eq!(r.status, 200);
    assert_rest_json(&r);
    insta::assert_snapshot!("seat_plan_34668", &r.text);
    // Spot checks of the VIP area, written by hand from the demo layout.
    assert!(r.text.contains(r#"{"AreaCategoryCode":"0000000003","ColumnCount":10,"Description":"七号厅 VIP","DescriptionAlt":"","HasSofaSeatingEnabled":true,"Height":2,"#));
    assert!(r.text.contains(r#"{"Id":"9","OriginalStatus":0,"Position":{"AreaNumber":2,"ColumnIndex":1,"RowIndex":0},"Priority":0,"SeatStyle":1,"SeatsInGroup":[{"AreaNumber":2,"ColumnIndex":1,"RowIndex":0},{"AreaNumber":2,"ColumnIndex":2,"RowIndex":0}],"Status":0}"#));
    assert!(r.text.contains(r#"{"Id":"8","OriginalStatus":0,"Position":{"AreaNumber":2,"ColumnIndex":2,"RowIndex":0},"Priority":0,"SeatStyle":3,"SeatsInGroup":[{"AreaNumber":2,"ColumnIndex":1,"RowIndex":0},{"AreaNumber":2,"ColumnIndex":2,"RowIndex":0}],"Status":0}"#));
    assert!(r.text.contains(r#"{"Id":"7","OriginalStatus":3,"Position":{"AreaNumber":2,"ColumnIndex":3,"RowIndex":1},"Priority":0,"SeatStyle":0,"SeatsInGroup":null,"Status":3}"#));
    assert!(r.text.contains(r#"{"Id":"4","OriginalStatus":2,"Position":{"AreaNumber":2,"ColumnIndex":6,"RowIndex":1},"Priority":0,"SeatStyle":0,"SeatsInGroup":null,"Status":2}"#));
    let statuses = seat_statuses(&r.json());
    assert_eq!(statuses.len(), 60 + 18);
    let count = |status: i64| statuses.values().filter(|s| **s == status).count();
    assert_eq!(
        (count(0), count(2), count(3)),
        (76, 1, 1),
        "all free but one house seat (2) and one wheelchair seat (3)"
    );
    server.stop().await;
}

#[tokio::test]
async fn seat_plan_of_a_session_flagged_sold_out_is_code_67() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.get(&seat_plan("29618")).await;
    assert_eq!(r.status, 200);
    assert_rest_json(&r);
    assert_eq!(
        r.text,
        r#"{"ErrorDescription":"The session requested is marked as sold out","ResponseCode":67,"SeatLayoutData":null}"#
    );
    server.stop().await;
}

#[tokio::test]
async fn seat_plan_of_unknown_session_or_cinema_is_code_4() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    for path in [
        "/WSVistaWebClient/RESTData.svc/cinemas/0200/sessions/99999/seat-plan",
        "/WSVistaWebClient/RESTData.svc/cinemas/9999/sessions/29617/seat-plan",
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_rest_json(&r);
        assert_eq!(r.text, SEAT_PLAN_NOT_FOUND, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn held_seats_are_sold_to_others_and_reserved_to_their_holder() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    assert_pristine_29617(&c.get(&seat_plan("29617")).await.text);
    let r = c
        .post(
            ADD_TICKETS,
            &add_tickets_body("HOLD-1", "29617", "0056", 5000, &[(0, 1), (0, 2)]),
        )
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);

    let r = c.get(&seat_plan("29617")).await;
    assert_eq!(r.status, 200);
    assert_held_29617(&r.text, false);
    let r = c
        .get(&format!(
            "{}?userSessionId=SOMEONE-ELSE",
            seat_plan("29617")
        ))
        .await;
    assert_held_29617(&r.text, false); // another order's view: Status 1
    let r = c
        .get(&format!("{}?userSessionId=HOLD-1", seat_plan("29617")))
        .await;
    assert_held_29617(&r.text, true); // holder's view: Status 4, OriginalStatus 0, SelectedSeats
    let r = c
        .get(&format!("{}?usersessionid=HOLD-1", seat_plan("29617")))
        .await;
    assert_held_29617(&r.text, true); // query-parameter name is case-insensitive
                                      // The anonymous view is unchanged after the holder's view was rendered.
    assert_held_29617(&c.get(&seat_plan("29617")).await.text, false);

    let r = c.get("/WSVistaWebClient/OData.svc/Sessions?$filter=ID+eq+'0200-29617'&$select=ID,SeatsAvailable").await;
    assert_eq!(r.json()["value"][0]["SeatsAvailable"], 75);
    server.stop().await;
}

#[tokio::test]
async fn cancelled_order_releases_its_seats_in_the_seat_plan() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c
        .post(
            ADD_TICKETS,
            &add_tickets_body("HOLD-2", "29617", "0056", 5000, &[(0, 1), (0, 2)]),
        )
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    assert_held_29617(&c.get(&seat_plan("29617")).await.text, false);
    let r = c.post(CANCEL_ORDER, &cancel_body("HOLD-2")).await;
    assert_eq!(r.text, r#"{"ErrorDescription":null,"Result":0}"#);
    assert_pristine_29617(&c.get(&seat_plan("29617")).await.text);
    let r = c
        .get(&format!("{}?userSessionId=HOLD-2", seat_plan("29617")))
        .await;
    assert_pristine_29617(&r.text); // a cancelled order has no selected seats
    server.stop().await;
}

#[tokio::test]
async fn expired_hold_releases_its_seats_in_the_seat_plan() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c
        .post(
            ADD_TICKETS,
            &add_tickets_body("HOLD-3", "29617", "0056", 5000, &[(0, 1), (0, 2)]),
        )
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    server.clock.advance(chrono::Duration::minutes(19));
    assert_held_29617(&c.get(&seat_plan("29617")).await.text, false); // still held after 19 minutes
    server.clock.advance(chrono::Duration::minutes(2));
    assert_pristine_29617(&c.get(&seat_plan("29617")).await.text); // released after 21 minutes
    let r = c
        .get(&format!("{}?userSessionId=HOLD-3", seat_plan("29617")))
        .await;
    assert_pristine_29617(&r.text); // the expired order no longer owns seats
    let r = c.get("/WSVistaWebClient/OData.svc/Sessions?$filter=ID+eq+'0200-29617'&$select=ID,SeatsAvailable").await;
    assert_eq!(r.json()["value"][0]["SeatsAvailable"], 77);
    server.stop().await;
}

#[tokio::test]
async fn held_vip_seat_shows_in_its_area_category_only() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let body = json!({
        "UserSessionId": "HOLD-VIP",
        "CinemaId": "0200",
        "SessionId": "34668",
        "TicketTypes": [{"TicketTypeCode": "0043", "Qty": 1, "PriceInCents": 2000, "BookingFeeOverride": null}],
        "ReturnOrder": true,
        "BookingFeeOverride": null,
        "SelectedSeats": [{"AreaCategoryCode": "0000000003", "AreaNumber": 2, "RowIndex": 1, "ColumnIndex": 4}],
        "OptionalClientClass": "RSP",
        "OptionalClientId": "111.111.111.111",
        "OptionalClientName": "3rdParty"
    });
    let r = c.post(ADD_TICKETS, &body).await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    let others = c.get(&seat_plan("34668")).await;
    assert_eq!(others.status, 200);
    insta::assert_snapshot!("seat_plan_34668_vip_held_seen_by_others", &others.text);
    let own = c
        .get(&format!("{}?userSessionId=HOLD-VIP", seat_plan("34668")))
        .await;
    assert_eq!(own.status, 200);
    insta::assert_snapshot!("seat_plan_34668_vip_held_seen_by_holder", &own.text);
    // Only the held VIP seat changed; it is listed under its own area category only.
    for (view, held) in [(&others, 1), (&own, 4)] {
        let plan = view.json();
        let statuses = seat_statuses(&plan);
        assert_eq!(statuses[&(2, 1, 4)], held, "{}", view.text);
        let changed = statuses
            .iter()
            .filter(|(_, s)| **s == 1 || **s == 4)
            .count();
        assert_eq!(changed, 1, "{}", view.text);
        let categories = &plan["SeatLayoutData"]["AreaCategories"];
        assert_eq!(categories[0]["AreaCategoryCode"], "0000000001");
        assert_eq!(categories[0]["SelectedSeats"], json!([]));
        assert_eq!(categories[1]["AreaCategoryCode"], "0000000003");
        let selected = if held == 4 {
            json!([{"AreaNumber": 2, "ColumnIndex": 4, "RowIndex": 1}])
        } else {
            json!([])
        };
        assert_eq!(categories[1]["SelectedSeats"], selected);
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Query-string leniency and further query options (spec §1.2, §3.6, G40)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn odata_accepts_raw_unescaped_quotes_and_dollars() {
    let server = TestServer::start().await;
    let (status, body) = raw_get(
        &server,
        "/WSVistaWebClient/OData.svc/Sessions?$filter=ID+eq+'0200-29617'&$select=ID,SeatsAvailable",
        &[("connectapitoken", TOKEN)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        format!(
            r#"{{"odata.metadata":"{}","value":[{{"ID":"0200-29617","SeatsAvailable":77}}]}}"#,
            metadata_url(&server, "#Sessions&$select=ID,SeatsAvailable")
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn odata_select_star_returns_all_structural_properties() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let all = c.get("/WSVistaWebClient/OData.svc/Cinemas").await.json();
    let r = c.get("/WSVistaWebClient/OData.svc/Cinemas?$select=*").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["value"], all["value"]);
    assert_eq!(
        r.json()["odata.metadata"],
        metadata_url(&server, "#Cinemas&$select=*")
    );
    server.stop().await;
}

#[tokio::test]
async fn now_showing_nested_select_without_expand_expands_implicitly() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c
        .get("/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?cinemaId=%270200%27&$select=ScheduledFilmId,Sessions/SessionId")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.text,
        format!(
            r#"{{"odata.metadata":"{}","value":[{{"ScheduledFilmId":"HO00012501","Sessions":[{{"SessionId":"29617"}}]}},{{"ScheduledFilmId":"HO00012502","Sessions":[{{"SessionId":"34668"}},{{"SessionId":"34669"}}]}},{{"ScheduledFilmId":"HO00012503","Sessions":[{{"SessionId":"33392"}}]}}]}}"#,
            metadata_url(
                &server,
                "#ScheduledFilms&$select=ScheduledFilmId,Sessions/SessionId"
            )
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn now_showing_supports_orderby_and_filter() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let ids = |r: &Reply| -> Vec<String> {
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["ScheduledFilmId"].as_str().unwrap().to_string())
            .collect()
    };
    let r = c.get("/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?cinemaId=%270200%27&$orderby=ShortCode%20desc&$select=ScheduledFilmId").await;
    assert_eq!(ids(&r), vec!["HO00012503", "HO00012502", "HO00012501"]);
    let r = c.get("/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?cinemaId=%270200%27&$filter=Rating%20eq%20%27G%27&$select=ScheduledFilmId").await;
    assert_eq!(ids(&r), vec!["HO00012501", "HO00012503"]);
    server.stop().await;
}
