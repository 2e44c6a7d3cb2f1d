//! The OData sets and service operations real Vista Connect clients call beyond the three the
//! documents describe (spec `vista-connect.md` §3.3 "observed in clients"): `Films`,
//! `ScreenAttributes`, `Attributes`, `CinemaEvents`, `SiteGroups`, `Settings`,
//! `GetScheduledFilms`, `GetComingSoonScheduledFilms`, `GetNowShowingSessions` (and the new
//! narrowing parameters of `GetNowShowingScheduledFilms`), their `$metadata`, and the refusal
//! of a client that sends no `connectapitoken` (D001 §1 note 4; spec §1.3, G1).
//!
//! The property lists follow a real Connect install's EDMX; the values are derived from the demo
//! catalogue as `docs/protocols/vista.md` ("OData") decides. The test clock starts at
//! 2026-11-22 10:00 (+08:00): today+1 = 2026-11-23, today+2 = 2026-11-24.

mod common;
use common::*;
use serde_json::{json, Value};

/// A partner that may sell every venue (so that cinemas 56 and 58 in 广州 are visible too; the
/// catalogue lists venues by code).
const WIDE: &str = "WIDE-CONNECT-TOKEN";
/// A partner allowed to override prices and refused external payments.
const FLEX: &str = "FLEX-CONNECT-TOKEN";

/// The demo server plus the WIDE and FLEX partners, with film HO00012502 opening on
/// 2026-11-24 (two days after the test's today: coming soon, sessions sold in advance).
async fn server() -> TestServer {
    let server = TestServer::start().await;
    let film = "short_code = \"001200482015\"\n";
    let catalog = boxoffice_server::DEMO_CATALOG.replacen(
        film,
        &format!("{film}opening_date = \"2026-11-24T00:00:00\"\n"),
        1,
    );
    assert_ne!(
        catalog,
        boxoffice_server::DEMO_CATALOG,
        "the film to change"
    );
    let catalog = format!(
        "{catalog}\n[[partner]]\ncode = \"wide\"\nname = \"Wide OTA\"\nchannel = \"RSP\"\n\n[[partner.credential]]\nprotocol = \"vista\"\nkey = \"{WIDE}\"\n\n[[partner]]\ncode = \"flex\"\nname = \"Flexible\"\nchannel = \"RSP\"\nvenues = [\"0200\"]\n\n[[partner.credential]]\nprotocol = \"vista\"\nkey = \"{FLEX}\"\noptions = {{ allow_price_override = true, allow_external_payments = false }}\n"
    );
    server
        .app
        .apply_catalog(&catalog)
        .await
        .expect("catalogue with more partners");
    server
}

/// A GET that must answer 200 with an OData JSON collection whose `odata.metadata` names
/// `fragment`; returns the `value` array.
async fn collection(c: &Client, path: &str, fragment: &str) -> Vec<Value> {
    let r = c.get(path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    assert!(
        r.content_type.starts_with("application/json"),
        "{path}: {}",
        r.content_type
    );
    let v = r.json();
    let metadata = v["odata.metadata"].as_str().expect("odata.metadata");
    assert_eq!(
        metadata,
        format!("{}/WSVistaWebClient/OData.svc/$metadata{fragment}", c.base),
        "{path}"
    );
    v["value"].as_array().expect("value array").clone()
}

/// The string values of `key` in a collection, in order.
fn column(values: &[Value], key: &str) -> Vec<String> {
    values
        .iter()
        .map(|v| {
            v[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} missing in {v}"))
                .to_string()
        })
        .collect()
}

/// The member names of an entity, in wire order.
fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .expect("entity object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// The body with the test server's address replaced, for snapshots.
fn portable(c: &Client, text: &str) -> String {
    text.replace(&c.base, "http://HOST")
}

/// Asserts an OData error of the given status naming `needle` in its message.
async fn odata_error(c: &Client, path: &str, status: u16, needle: &str) {
    let r = c.get(path).await;
    assert_eq!(r.status, status, "{path}: {}", r.text);
    let message = r.json()["odata.error"]["message"]["value"]
        .as_str()
        .expect("odata.error message")
        .to_string();
    assert!(message.contains(needle), "{path}: {message}");
}

const ODATA_ROOT: &str = "/WSVistaWebClient/OData.svc";

fn odata(rest: &str) -> String {
    format!("{ODATA_ROOT}/{rest}")
}

// ---------------------------------------------------------------------------------------------
// Films
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn films_lists_the_head_office_films_of_the_callers_cinemas() {
    let server = server().await;
    let c = Client::new(&server);
    let r = c.get(&odata("Films?$format=json")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    insta::assert_snapshot!("films_demo", portable(&c, &r.text));
    let all = collection(&c, &odata("Films"), "#Films").await;
    assert_eq!(
        column(&all, "ID"),
        ["HO00012501", "HO00012502", "HO00012503"]
    );
    assert_eq!(all[1]["RunTime"], 97, "RunTime is an Edm.Int32 here");
    assert_eq!(all[1]["OpeningDate"], "2026-11-24T00:00:00");
    assert_eq!(all[1]["IsComingSoon"], true);
    assert_eq!(all[0]["IsComingSoon"], false);
    // The WIDE partner also sees 051400832015, shown by two cinemas but listed once.
    let wide = c.with_token(Some(WIDE));
    let all = collection(&wide, &odata("Films"), "#Films").await;
    assert_eq!(
        column(&all, "ID"),
        ["HO00012501", "HO00012502", "HO00012503", "051400832015"]
    );
    server.stop().await;
}

#[tokio::test]
async fn films_support_filter_select_and_orderby_and_refuse_expand() {
    let server = server().await;
    let c = Client::new(&server);
    let long = collection(
        &c,
        &odata("Films?$filter=RunTime+gt+100&$select=ID,Title,RunTime"),
        "#Films&$select=ID,Title,RunTime",
    )
    .await;
    assert_eq!(column(&long, "ID"), ["HO00012501", "HO00012503"]);
    assert_eq!(keys(&long[0]), ["ID", "Title", "RunTime"]);
    let soon = collection(&c, &odata("Films?$filter=IsComingSoon eq true"), "#Films").await;
    assert_eq!(column(&soon, "ID"), ["HO00012502"]);
    let ordered = collection(
        &c,
        &odata("Films?$orderby=RunTime desc&$select=ID"),
        "#Films&$select=ID",
    )
    .await;
    assert_eq!(
        column(&ordered, "ID"),
        ["HO00012501", "HO00012503", "HO00012502"]
    );
    // A Film has no navigation properties.
    odata_error(&c, &odata("Films?$expand=Sessions"), 400, "Sessions").await;
    odata_error(&c, &odata("Films?$filter=Nope eq 1"), 400, ".Film'").await;
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// ScreenAttributes and Attributes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn screen_attributes_come_from_the_screens_hall_types() {
    let server = server().await;
    let c = Client::new(&server);
    let r = c.get(&odata("ScreenAttributes?$format=json")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.text,
        format!(
            r#"{{"odata.metadata":"{}/WSVistaWebClient/OData.svc/$metadata#ScreenAttributes","value":[{{"ID":"0200-1-N","CinemaId":"0200","ScreenNumber":1,"ShortName":"N","IsConcept":false,"Description":"普通厅","DescriptionAlt":"Standard"}},{{"ID":"0200-7-Y","CinemaId":"0200","ScreenNumber":7,"ShortName":"Y","IsConcept":false,"Description":"VIP 厅","DescriptionAlt":"VIP"}}]}}"#,
            c.base
        )
    );
    let wide = c.with_token(Some(WIDE));
    let all = collection(&wide, &odata("ScreenAttributes"), "#ScreenAttributes").await;
    assert_eq!(
        column(&all, "ID"),
        ["0200-1-N", "0200-7-Y", "56-8-N", "58-1-N"]
    );
    let one = collection(
        &wide,
        &odata("ScreenAttributes?$filter=CinemaId eq '58'&$select=ShortName,ScreenNumber"),
        "#ScreenAttributes&$select=ShortName,ScreenNumber",
    )
    .await;
    assert_eq!(one, vec![json!({"ScreenNumber": 1, "ShortName": "N"})]);
    // They are the Cinema's ScreenAttributes navigation.
    let cinemas = collection(
        &c,
        &odata("Cinemas?$expand=ScreenAttributes&$select=ID,ScreenAttributes/ID"),
        "#Cinemas&$select=ID,ScreenAttributes/ID",
    )
    .await;
    assert_eq!(
        cinemas,
        vec![json!({"ID": "0200", "ScreenAttributes": [{"ID": "0200-1-N"}, {"ID": "0200-7-Y"}]})]
    );
    server.stop().await;
}

#[tokio::test]
async fn attributes_list_the_session_attributes_with_the_cinemas_using_them() {
    let server = server().await;
    let c = Client::new(&server);
    let select = "$select=ID,Description,SessionAttributeCinemaIDs";
    let demo = collection(
        &c,
        &odata(&format!("Attributes?$format=json&{select}")),
        &format!("#Attributes&{select}"),
    )
    .await;
    assert_eq!(
        demo,
        vec![
            json!({"ID": "原版", "Description": "原版", "SessionAttributeCinemaIDs": ["0200"]}),
            json!({"ID": "3D", "Description": "3D", "SessionAttributeCinemaIDs": ["0200"]}),
        ]
    );
    let wide = c.with_token(Some(WIDE));
    let three_d = collection(
        &wide,
        &odata(&format!("Attributes?$filter=ID eq '3D'&{select}")),
        &format!("#Attributes&{select}"),
    )
    .await;
    assert_eq!(
        three_d,
        vec![json!({"ID": "3D", "Description": "3D", "SessionAttributeCinemaIDs": ["0200", "58"]})]
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// SiteGroups, CinemaEvents, Settings
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn site_groups_are_the_cities_of_the_callers_cinemas() {
    let server = server().await;
    let c = Client::new(&server);
    let r = c.get(&odata("SiteGroups?$format=json")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.text,
        format!(
            r#"{{"odata.metadata":"{}/WSVistaWebClient/OData.svc/$metadata#SiteGroups","value":[{{"ID":"310100","Name":"China","AreaCode":"310100","ClientId":null,"IsOnlyAvailableToClient":false}}]}}"#,
            c.base
        )
    );
    let wide = c.with_token(Some(WIDE));
    let r = wide
        .get(&odata(
            "SiteGroups?$expand=Cinemas&$select=ID,Name,Cinemas/ID,Cinemas/City",
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    insta::assert_snapshot!("site_groups_wide_expanded", portable(&wide, &r.text));
    let guangzhou = collection(
        &wide,
        &odata("SiteGroups?$filter=Name eq '广州'&$select=ID"),
        "#SiteGroups&$select=ID",
    )
    .await;
    assert_eq!(column(&guangzhou, "ID"), ["440100"]);
    server.stop().await;
}

#[tokio::test]
async fn cinema_events_is_an_empty_set_of_the_cinema_event_type() {
    let server = server().await;
    let c = Client::new(&server);
    let r = c.get(&odata("CinemaEvents?$format=json")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.text,
        format!(
            r#"{{"odata.metadata":"{}/WSVistaWebClient/OData.svc/$metadata#CinemaEvents","value":[]}}"#,
            c.base
        )
    );
    // The query options bind to the CinemaEvent type: its properties and navigation are
    // accepted, others refused.
    let none = collection(
        &c,
        &odata("CinemaEvents?$filter=Status eq 1 and StartDate gt datetime'2026-11-22'&$select=ID,Name,LinkedCinemas/ID&$expand=LinkedCinemas"),
        "#CinemaEvents&$select=ID,Name,LinkedCinemas/ID",
    )
    .await;
    assert_eq!(none, Vec::<Value>::new());
    odata_error(
        &c,
        &odata("CinemaEvents?$filter=Nope eq 1"),
        400,
        "WSVistaWebClient.ServiceContracts.OData.CinemaEvent",
    )
    .await;
    odata_error(&c, &odata("CinemaEvents?$expand=Sessions"), 400, "Sessions").await;
    server.stop().await;
}

#[tokio::test]
async fn settings_report_the_callers_security_behaviours() {
    let server = server().await;
    let c = Client::new(&server);
    let r = c.get(&odata("Settings?$format=json")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    insta::assert_snapshot!("settings_demo", portable(&c, &r.text));
    let flex = c.with_token(Some(FLEX));
    let on = collection(
        &flex,
        &odata("Settings?$filter=Value eq 'True'&$select=ID"),
        "#Settings&$select=ID",
    )
    .await;
    assert_eq!(
        column(&on, "ID"),
        ["AllowBookingRefunds", "AllowTicketPriceOverride"]
    );
    let demo_on = collection(
        &c,
        &odata("Settings?$filter=Value eq 'True'&$select=ID"),
        "#Settings&$select=ID",
    )
    .await;
    assert_eq!(
        column(&demo_on, "ID"),
        ["AllowBookingRefunds", "AllowExternalPayments"]
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// GetNowShowingSessions
// ---------------------------------------------------------------------------------------------

fn sessions_path(params: &str) -> String {
    odata(&format!(
        "GetNowShowingSessions?$format=json&$select=ID{params}"
    ))
}

#[tokio::test]
async fn now_showing_sessions_are_the_sessions_on_sale_narrowed_by_cinema_and_site_group() {
    let server = server().await;
    let demo = Client::new(&server);
    let wide = demo.with_token(Some(WIDE));
    let ids = |c: Client, params: &'static str| async move {
        column(
            &collection(&c, &sessions_path(params), "#Sessions&$select=ID").await,
            "ID",
        )
    };
    // 29618 is flagged sold out: never "now showing".
    assert_eq!(
        ids(demo.clone(), "").await,
        ["0200-29617", "0200-33392", "0200-34668", "0200-34669"]
    );
    let all_wide = ids(wide.clone(), "").await;
    assert_eq!(all_wide.len(), 7, "{all_wide:?}");
    assert_eq!(
        ids(wide.clone(), "&cinemaId=%2758%27").await,
        ["58-18406", "58-18407"]
    );
    assert_eq!(
        ids(wide.clone(), "&cinemaid=58").await,
        ["58-18406", "58-18407"]
    );
    assert_eq!(
        ids(wide.clone(), "&siteGroupId='440100'").await,
        ["56-7054", "58-18406", "58-18407"]
    );
    assert_eq!(
        ids(wide.clone(), "&siteGroupId='440100'&cinemaId='56'").await,
        ["56-7054"]
    );
    assert_eq!(
        ids(wide.clone(), "&siteGroupId='999999'").await,
        Vec::<String>::new()
    );
    // A cinema the demo partner may not sell is not narrowed into view.
    assert_eq!(
        ids(demo.clone(), "&cinemaId='58'").await,
        Vec::<String>::new()
    );
    server.stop().await;
}

#[tokio::test]
async fn now_showing_sessions_support_filter_select_expand_and_the_cut_off() {
    let server = server().await;
    let c = Client::new(&server);
    let r = c
        .get(&odata("GetNowShowingSessions?$format=json&cinemaId='0200'&$filter=ScreenNumber eq 7 and Showtime lt datetime'2026-11-24T12:00'"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    insta::assert_snapshot!("now_showing_sessions_34668", portable(&c, &r.text));
    let select = "$select=SessionId,Attributes/Description";
    let expanded = collection(
        &c,
        &odata(&format!(
            "GetNowShowingSessions?$expand=Attributes&{select}&$filter=ScreenNumber eq 7"
        )),
        &format!("#Sessions&{select}"),
    )
    .await;
    let both = json!([{"Description": "原版"}, {"Description": "3D"}]);
    assert_eq!(
        expanded,
        vec![
            json!({"SessionId": "34668", "Attributes": both}),
            json!({"SessionId": "34669", "Attributes": both}),
        ]
    );
    // 29617 starts 2026-11-23 10:50 with a cut-off of 0 minutes.
    server
        .clock
        .advance(chrono::Duration::hours(24) + chrono::Duration::minutes(51));
    let later = collection(&c, &sessions_path(""), "#Sessions&$select=ID").await;
    assert_eq!(
        column(&later, "ID"),
        ["0200-33392", "0200-34668", "0200-34669"]
    );
    odata_error(
        &c,
        &odata("GetNowShowingSessions?$filter=Title eq 'x'"),
        400,
        ".Session'",
    )
    .await;
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// GetScheduledFilms, GetComingSoonScheduledFilms, GetNowShowingScheduledFilms
// ---------------------------------------------------------------------------------------------

/// `ScheduledFilm` IDs of a film function.
async fn film_ids(c: &Client, function: &str, params: &str) -> Vec<String> {
    let path = odata(&format!("{function}?$format=json&$select=ID{params}"));
    column(
        &collection(c, &path, "#ScheduledFilms&$select=ID").await,
        "ID",
    )
}

#[tokio::test]
async fn scheduled_films_keep_films_with_sessions_yet_to_start_unlike_now_showing() {
    let server = server().await;
    let c = Client::new(&server);
    let every = ["0200-HO00012501", "0200-HO00012502", "0200-HO00012503"];
    assert_eq!(film_ids(&c, "GetScheduledFilms", "").await, every);
    assert_eq!(film_ids(&c, "GetNowShowingScheduledFilms", "").await, every);
    // 2026-11-23 20:00: 29617 and 33392 are past; HO00012501 still has the sold-out 29618
    // (2026-11-25), which is scheduled but not on sale.
    server.clock.advance(chrono::Duration::hours(34));
    assert_eq!(
        film_ids(&c, "GetScheduledFilms", "").await,
        ["0200-HO00012501", "0200-HO00012502"]
    );
    assert_eq!(
        film_ids(&c, "GetNowShowingScheduledFilms", "").await,
        ["0200-HO00012502"]
    );
    let select = "$select=ScheduledFilmId,Sessions/SessionId";
    let with_sessions = collection(
        &c,
        &odata(&format!(
            "GetScheduledFilms?cinemaId='0200'&$expand=Sessions&{select}"
        )),
        &format!("#ScheduledFilms&{select}"),
    )
    .await;
    assert_eq!(
        with_sessions,
        vec![
            json!({"ScheduledFilmId": "HO00012501", "Sessions": [{"SessionId": "29618"}]}),
            json!({"ScheduledFilmId": "HO00012502", "Sessions": [{"SessionId": "34668"}, {"SessionId": "34669"}]}),
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn film_functions_narrow_by_cinema_site_group_attribute_and_event() {
    let server = server().await;
    let wide = Client::new(&server).with_token(Some(WIDE));
    let guangzhou = ["56-051400832015", "58-051400832015"];
    for function in ["GetScheduledFilms", "GetNowShowingScheduledFilms"] {
        assert_eq!(
            film_ids(&wide, function, "&siteGroupId='440100'").await,
            guangzhou,
            "{function}"
        );
        assert_eq!(
            film_ids(&wide, function, "&cinemaId='56'").await,
            ["56-051400832015"],
            "{function}"
        );
        assert_eq!(
            film_ids(&wide, function, "&attributeShortName='3D'").await,
            ["0200-HO00012502", "58-051400832015"],
            "{function}"
        );
        assert_eq!(
            film_ids(&wide, function, "&cinemaEventId='1'").await,
            Vec::<String>::new(),
            "{function}: the catalogue has no cinema events"
        );
        assert_eq!(
            film_ids(
                &wide,
                function,
                "&siteGroupId='310100'&$filter=RunTime eq '97'"
            )
            .await,
            ["0200-HO00012502"],
            "{function}"
        );
    }
    assert_eq!(
        film_ids(&wide, "GetNowShowingScheduledFilms", "&cinemaIds='58,56'").await,
        guangzhou
    );
    server.stop().await;
}

#[tokio::test]
async fn coming_soon_lists_films_opening_after_today_with_their_advance_sessions() {
    let server = server().await;
    let c = Client::new(&server);
    let r = c
        .get(&odata("GetComingSoonScheduledFilms?$format=json&$expand=Sessions&$select=ID,Title,OpeningDate,Sessions/SessionId,Sessions/Showtime"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    insta::assert_snapshot!("coming_soon_expanded", portable(&c, &r.text));
    let wide = c.with_token(Some(WIDE));
    assert_eq!(
        film_ids(&wide, "GetComingSoonScheduledFilms", "").await,
        ["0200-HO00012502"]
    );
    assert_eq!(
        film_ids(&wide, "GetComingSoonScheduledFilms", "&cinemaIds='58,56'").await,
        Vec::<String>::new()
    );
    assert_eq!(
        film_ids(&wide, "GetComingSoonScheduledFilms", "&cinemaIds='58,0200'").await,
        ["0200-HO00012502"]
    );
    // On its opening day it is no longer "coming soon".
    server.clock.advance(chrono::Duration::days(2));
    assert_eq!(
        film_ids(&c, "GetComingSoonScheduledFilms", "").await,
        Vec::<String>::new()
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// $metadata
// ---------------------------------------------------------------------------------------------

/// A declared property: (name, type, nullable).
type PropertyDecl = (String, String, String);
/// A declared entity type: (name, properties in declaration order).
type EntityTypeDecl = (String, Vec<PropertyDecl>);
/// A declared function import: (name, return type, entity set, [(parameter, type)]).
type FunctionDecl = (String, String, String, Vec<(String, String)>);

/// What a `$metadata` document declares, read with an XML parser.
#[derive(Debug, Default)]
struct Edmx {
    /// Entity type → (property name, type, nullable) in declaration order.
    types: Vec<EntityTypeDecl>,
    /// Entity type → navigation property names.
    navigations: Vec<(String, String)>,
    /// (entity set, entity type).
    sets: Vec<(String, String)>,
    /// (function, return type, entity set, [(parameter, type)]).
    functions: Vec<FunctionDecl>,
}

fn attr(e: &quick_xml::events::BytesStart, name: &str) -> String {
    e.try_get_attribute(name)
        .expect("well-formed attribute")
        .map(|a| a.unescape_value().expect("attribute value").into_owned())
        .unwrap_or_default()
}

fn parse_edmx(xml: &str) -> Edmx {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut edmx = Edmx::default();
    let mut in_type: Option<String> = None;
    loop {
        match reader.read_event().expect("well-formed $metadata") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                b"EntityType" => {
                    in_type = Some(attr(&e, "Name"));
                    edmx.types.push((attr(&e, "Name"), Vec::new()));
                }
                b"Property" if in_type.is_some() => {
                    let props = &mut edmx.types.last_mut().expect("type").1;
                    props.push((attr(&e, "Name"), attr(&e, "Type"), attr(&e, "Nullable")));
                }
                b"NavigationProperty" => {
                    let ty = in_type.clone().expect("navigation inside a type");
                    edmx.navigations.push((ty, attr(&e, "Name")));
                }
                b"EntitySet" => edmx.sets.push((attr(&e, "Name"), attr(&e, "EntityType"))),
                b"FunctionImport" => edmx.functions.push((
                    attr(&e, "Name"),
                    attr(&e, "ReturnType"),
                    attr(&e, "EntitySet"),
                    Vec::new(),
                )),
                b"Parameter" => {
                    let f = edmx.functions.last_mut().expect("function");
                    f.3.push((attr(&e, "Name"), attr(&e, "Type")));
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == b"EntityType" => in_type = None,
            _ => {}
        }
    }
    edmx
}

const NS: &str = "WSVistaWebClient.ServiceContracts.OData";

#[tokio::test]
async fn metadata_declares_the_new_types_sets_and_function_imports() {
    let server = server().await;
    let c = Client::new(&server);
    let r = c.get(&odata("$metadata")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.content_type.starts_with("application/xml"),
        "{}",
        r.content_type
    );
    let edmx = parse_edmx(&r.text);
    let props = |ty: &str| -> Vec<PropertyDecl> {
        edmx.types
            .iter()
            .find(|(n, _)| n == ty)
            .unwrap_or_else(|| panic!("no EntityType {ty}"))
            .1
            .clone()
    };
    let prop = |ty: &str, name: &str| -> (String, String) {
        props(ty)
            .into_iter()
            .find(|(n, ..)| n == name)
            .map(|(_, t, nullable)| (t, nullable))
            .unwrap_or_else(|| panic!("no {ty}.{name}"))
    };
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    let names = |ty: &str| props(ty).into_iter().map(|p| p.0).collect::<Vec<_>>();
    assert_eq!(names("Setting"), ["ID", "Value", "Name"]);
    assert_eq!(
        names("SiteGroup"),
        [
            "ID",
            "Name",
            "AreaCode",
            "ClientId",
            "IsOnlyAvailableToClient"
        ]
    );
    assert_eq!(
        names("ScreenAttribute"),
        [
            "ID",
            "CinemaId",
            "ScreenNumber",
            "ShortName",
            "IsConcept",
            "Description",
            "DescriptionAlt"
        ]
    );
    assert_eq!(names("Film").len(), 26, "{:?}", names("Film"));
    assert_eq!(names("CinemaEvent").len(), 11, "{:?}", names("CinemaEvent"));
    assert_eq!(prop("Film", "ID"), s("Edm.String", "false"));
    assert_eq!(prop("Film", "RunTime"), s("Edm.Int32", "true"));
    assert_eq!(prop("Film", "OpeningDate"), s("Edm.DateTime", "true"));
    assert_eq!(prop("Film", "IsComingSoon"), s("Edm.Boolean", "false"));
    assert_eq!(
        prop("Film", "TitleTranslations"),
        s(&format!("Collection({NS}.Translation)"), "false")
    );
    assert_eq!(
        prop("ScreenAttribute", "ScreenNumber"),
        s("Edm.Byte", "false")
    );
    assert_eq!(prop("CinemaEvent", "Status"), s("Edm.Int32", "false"));
    assert_eq!(prop("CinemaEvent", "StartDate"), s("Edm.DateTime", "true"));
    assert_eq!(
        prop("CinemaEvent", "CinemaIDs"),
        s("Collection(Edm.String)", "false")
    );
    assert_eq!(
        prop("Attribute", "DisplayPriority"),
        s("Edm.Int32", "false")
    );
    for nav in [
        ("SiteGroup", "Cinemas"),
        ("CinemaEvent", "LinkedCinemas"),
        ("Cinema", "ScreenAttributes"),
    ] {
        assert!(
            edmx.navigations.contains(&s(nav.0, nav.1)),
            "{nav:?} in {:?}",
            edmx.navigations
        );
    }
    for (set, ty) in [
        ("Films", "Film"),
        ("ScreenAttributes", "ScreenAttribute"),
        ("Attributes", "Attribute"),
        ("CinemaEvents", "CinemaEvent"),
        ("SiteGroups", "SiteGroup"),
        ("Settings", "Setting"),
    ] {
        assert!(
            edmx.sets.contains(&s(set, &format!("{NS}.{ty}"))),
            "{set} in {:?}",
            edmx.sets
        );
    }
    let function = |name: &str| {
        edmx.functions
            .iter()
            .find(|f| f.0 == name)
            .unwrap_or_else(|| panic!("no FunctionImport {name}"))
            .clone()
    };
    for name in [
        "GetScheduledFilms",
        "GetNowShowingScheduledFilms",
        "GetComingSoonScheduledFilms",
    ] {
        let f = function(name);
        assert_eq!(f.1, format!("Collection({NS}.ScheduledFilm)"), "{name}");
        assert_eq!(f.2, "ScheduledFilms", "{name}");
    }
    let sessions = function("GetNowShowingSessions");
    assert_eq!(sessions.1, format!("Collection({NS}.Session)"));
    assert_eq!(sessions.2, "Sessions");
    assert_eq!(
        sessions.3,
        [s("siteGroupId", "Edm.String"), s("cinemaId", "Edm.String")]
    );
    let scheduled = function("GetScheduledFilms").3;
    assert!(
        scheduled.contains(&s("siteGroupId", "Edm.String")),
        "{scheduled:?}"
    );
    assert!(
        scheduled.contains(&s("cinemaId", "Edm.String")),
        "{scheduled:?}"
    );
    assert!(
        scheduled.contains(&s("includeAdvanceSales", "Edm.Boolean")),
        "{scheduled:?}"
    );
    assert!(function("GetComingSoonScheduledFilms")
        .3
        .contains(&s("cinemaIds", "Edm.String")));
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// No token: refused on OData and REST alike
// ---------------------------------------------------------------------------------------------

/// Every OData resource, with a query a real client would send.
const ODATA_RESOURCES: &[&str] = &[
    "",
    "/$metadata",
    "/Cinemas?$format=json",
    "/Films?$format=json",
    "/ScreenAttributes?$format=json",
    "/Attributes?$format=json",
    "/CinemaEvents?$format=json",
    "/SiteGroups?$format=json",
    "/Settings?$format=json",
    "/GetScheduledFilms?$format=json&cinemaId='0200'",
    "/GetComingSoonScheduledFilms?$format=json",
    "/GetNowShowingSessions?$format=json&siteGroupId='310100'",
    "/GetNowShowingScheduledFilms?$format=json&cinemaId='0200'",
];

/// Every REST endpoint, GET or POST with a body the endpoint would accept.
fn rest_requests() -> Vec<(&'static str, String, Option<Value>)> {
    let order = json!({"UserSessionId": "NO-TOKEN-1"});
    vec![
        ("GET", tickets("29617"), None),
        ("GET", seat_plan("29617"), None),
        (
            "POST",
            ADD_TICKETS.to_string(),
            Some(add_tickets_body(
                "NO-TOKEN-1",
                "29617",
                "0056",
                5000,
                &[(0, 1)],
            )),
        ),
        ("POST", GET_ORDER.to_string(), Some(order.clone())),
        ("POST", CANCEL_ORDER.to_string(), Some(order.clone())),
        (
            "POST",
            START_EXTERNAL_PAYMENT.to_string(),
            Some(order.clone()),
        ),
        (
            "POST",
            COMPLETE_ORDER.to_string(),
            Some(
                json!({"UserSessionId": "NO-TOKEN-1", "PaymentInfo": {"PaymentValueCents": 5000}}),
            ),
        ),
        (
            "POST",
            QUERY_BOOKING_STATUS.to_string(),
            Some(json!({"UserSessionId": "NO-TOKEN-1", "ClientId": "111.111.111.111"})),
        ),
        (
            "POST",
            GET_SINGLE_BOOKING.to_string(),
            Some(json!({"CinemaId": "0200", "BookingNumber": 100001})),
        ),
        (
            "POST",
            REFUND_BOOKING.to_string(),
            Some(json!({"CinemaId": "0200", "BookingNumber": 100001, "MarkAsRefundedOnly": true})),
        ),
        (
            "POST",
            COLLECT_BOOKING.to_string(),
            Some(json!({"CinemaId": "0200", "BookingNumber": 100001})),
        ),
    ]
}

async fn rest(c: &Client, method: &str, path: &str, body: &Option<Value>) -> Reply {
    match (method, body) {
        ("POST", Some(b)) => c.post(path, b).await,
        _ => c.get(path).await,
    }
}

#[tokio::test]
async fn a_client_without_connectapitoken_is_refused_on_odata_and_rest_alike() {
    let server = server().await;
    let with_token = Client::new(&server);
    // No header, a wrong token, and near misses of the demo token (compared in constant time,
    // never by prefix).
    let near = [
        TOKEN[..TOKEN.len() - 1].to_string(),
        format!("{TOKEN}X"),
        TOKEN.to_lowercase(),
    ];
    let tokens = [
        None,
        Some("WRONG-TOKEN"),
        Some(near[0].as_str()),
        Some(near[1].as_str()),
        Some(near[2].as_str()),
    ];
    for token in tokens {
        let c = with_token.with_token(token);
        for resource in ODATA_RESOURCES {
            let path = format!("{ODATA_ROOT}{resource}");
            // Positive control: the same request with the token is served.
            assert_eq!(with_token.get(&path).await.status, 200, "{path}");
            let r = c.get(&path).await;
            assert_eq!(r.status, 401, "{path} with {token:?}: {}", r.text);
            assert!(
                r.content_type.starts_with("application/json"),
                "{path}: {}",
                r.content_type
            );
            let v = r.json();
            assert_eq!(keys(&v), ["odata.error"], "{path}: {}", r.text);
            assert_eq!(v["odata.error"]["code"], "", "{path}");
            assert_eq!(v["odata.error"]["message"]["lang"], "en-US", "{path}");
            assert!(
                v["odata.error"]["message"]["value"]
                    .as_str()
                    .is_some_and(|m| m.contains("connectapitoken")),
                "{path}: {}",
                r.text
            );
        }
        for (method, path, body) in rest_requests() {
            let r = rest(&c, method, &path, &body).await;
            assert_eq!(r.status, 401, "{method} {path} with {token:?}: {}", r.text);
            assert_eq!(r.content_type, "application/json; charset=utf-8", "{path}");
            assert_eq!(r.text, "{}", "{method} {path}");
        }
    }
    // Positive control for REST: with the token each endpoint answers 200 (a business code).
    for (method, path, body) in rest_requests() {
        let r = rest(&with_token, method, &path, &body).await;
        assert_eq!(r.status, 200, "{method} {path}: {}", r.text);
        assert_ne!(r.text, "{}", "{method} {path}");
    }
    server.stop().await;
}
