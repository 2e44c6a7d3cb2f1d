mod common;

use boxoffice_odata::*;
use common::*;

fn run(ty: &str, set: &str, entities: Vec<Entity>, qs: &str) -> Result<String, ODataError> {
    let m = model();
    let q = Query::parse(qs)?;
    let rows = apply(&m, ty, entities, &q)?;
    render_collection(&m, ty, BASE, set, &rows, &q)
}

fn ids(ty: &str, entities: Vec<Entity>, qs: &str) -> Result<Vec<String>, ODataError> {
    let m = model();
    let q = Query::parse(qs)?;
    let t = m.entity_type(ty).expect("type");
    let idx = t.property_index("ID").expect("ID");
    Ok(apply(&m, ty, entities, &q)?
        .iter()
        .map(|e| match e.value(idx) {
            Value::String(s) => s.clone(),
            other => format!("{other:?}"),
        })
        .collect())
}

fn session_ids(qs: &str) -> Result<Vec<String>, ODataError> {
    ids("Session", sessions(&model()), qs)
}

fn bad_request(r: Result<impl std::fmt::Debug, ODataError>) -> String {
    match r {
        Err(e @ ODataError::BadRequest(_)) => {
            assert_eq!(e.status(), 400);
            e.message().to_string()
        }
        other => panic!("expected BadRequest, got {other:?}"),
    }
}

// ------------------------------------------------------------------ D001 examples

#[test]
fn d001_sessions_by_cinema_and_day() {
    let qs = "&$format=json&$filter=CinemaId%20eq%20%270200%27%20and%20Showtime%20gt%20datetime%272015-08-08%27%20and%20Showtime%20lt%20datetime%272015-08-09%27&$select=SessionId,ScheduledFilmId,Showtime";
    let out = run("Session", "Sessions", sessions(&model()), qs).unwrap();
    assert_eq!(
        out,
        format!(
            "{{\"odata.metadata\":\"{BASE}/$metadata#Sessions&$select=SessionId,ScheduledFilmId,Showtime\",\"value\":[\
             {{\"ScheduledFilmId\":\"HO001\",\"SessionId\":\"2\",\"Showtime\":\"2015-08-08T10:30:00\"}},\
             {{\"ScheduledFilmId\":\"HO002\",\"SessionId\":\"3\",\"Showtime\":\"2015-08-08T18:00:00\"}}]}}"
        )
    );
}

#[test]
fn d001_session_by_id_plus_encoded() {
    let out = run(
        "Session",
        "Sessions",
        sessions(&model()),
        "$select=ID,SeatsAvailable&$filter=ID+eq+'1001-14164'",
    )
    .unwrap();
    assert_eq!(
        out,
        format!(
            "{{\"odata.metadata\":\"{BASE}/$metadata#Sessions&$select=ID,SeatsAvailable\",\"value\":[{{\"ID\":\"1001-14164\",\"SeatsAvailable\":66}}]}}"
        )
    );
}

#[test]
fn d001_get_now_showing_scheduled_films() {
    let m = model();
    let attr = |d: &str| ent(&m, "Attribute", &[("ID", s(d)), ("Description", s(d))]);
    let mut session = ent(
        &m,
        "Session",
        &[
            ("ID", s("0200-34668")),
            ("CinemaId", s("0200")),
            ("SessionId", s("34668")),
            ("Showtime", Value::DateTime(dt(2016, 10, 19, 10, 30))),
            ("ScreenName", s("一号厅")),
            ("ScreenNumber", Value::Int(1)),
        ],
    );
    session
        .nav
        .push(("Attributes", vec![attr("原版"), attr("3D")]));
    let mut film = ent(
        &m,
        "ScheduledFilm",
        &[
            ("ID", s("0200-HO00012501")),
            ("ScheduledFilmId", s("HO00012501")),
            ("CinemaId", s("0200")),
            ("Title", s("一万年以后 ( 数字 3D ) ")),
            ("ShortCode", s("001200472015")),
            ("RunTime", s("97")),
        ],
    );
    film.nav.push(("Sessions", vec![session]));
    let qs = "$format=json&cinemaId=%270200%27&$expand=Sessions/Attributes&$select=ScheduledFilmId,Title,RunTime,ShortCode,Sessions/SessionId,Sessions/Showtime,Sessions/Attributes/Description,Sessions/ScreenNumber,Sessions/ScreenName";
    let q = Query::parse(qs).unwrap();
    assert_eq!(q.param("cinemaId").as_deref(), Some("0200"));
    assert!(q.expands("Sessions"));
    assert!(q.expands("Sessions/Attributes"));
    assert!(!q.expands("PlayThroughFilms"));
    let rows = apply(&m, "ScheduledFilm", vec![film], &q).unwrap();
    let out = render_collection(
        &m,
        "ScheduledFilm",
        "http://host/WSVistaWebClient/OData.svc",
        "ScheduledFilms",
        &rows,
        &q,
    )
    .unwrap();
    let expected = r#"{"odata.metadata":"http://host/WSVistaWebClient/OData.svc/$metadata#ScheduledFilms&$select=ScheduledFilmId,Title,RunTime,ShortCode,Sessions/SessionId,Sessions/Showtime,Sessions/Attributes/Description,Sessions/ScreenNumber,Sessions/ScreenName","value":[{"ScheduledFilmId":"HO00012501","Title":"一万年以后 ( 数字 3D ) ","ShortCode":"001200472015","RunTime":"97","Sessions":[{"SessionId":"34668","Showtime":"2016-10-19T10:30:00","ScreenName":"一号厅","ScreenNumber":1,"Attributes":[{"Description":"原版"},{"Description":"3D"}]}]}]}"#;
    assert_eq!(out, expected);
}

#[test]
fn session_without_select_matches_spec_sample() {
    let m = model();
    let e = ent(
        &m,
        "Session",
        &[
            ("ID", s("1001-14164")),
            ("CinemaId", s("1001")),
            ("ScheduledFilmId", s("HO00000720")),
            ("SessionId", s("14164")),
            ("Showtime", Value::DateTime(dt(2019, 2, 26, 20, 0))),
            ("AllowChildAdmits", Value::Bool(true)),
            ("SeatsAvailable", Value::Int(66)),
            ("AllowComplimentaryTickets", Value::Bool(true)),
            ("EventId", s("")),
            ("PriceGroupCode", s("0033")),
            ("ScreenName", s("Kino 2")),
            ("ScreenNameAlt", s("433402")),
            ("ScreenNumber", Value::Int(2)),
            ("CinemaOperatorCode", s("1001")),
            ("FormatCode", s("0000000001")),
            (
                "SalesChannels",
                s(";CALL;RSP;GSALE;CELL;KIOSK;PDA;WWW;POSBK;POS;IVR;"),
            ),
            ("SessionAttributesNames", Value::Strings(vec!["OV".into()])),
            ("AllowTicketSales", Value::Bool(true)),
            (
                "SessionBusinessDate",
                Value::DateTime(dt(2019, 2, 26, 0, 0)),
            ),
        ],
    );
    let out = run("Session", "Sessions", vec![e], "$format=json").unwrap();
    let item = r#"{"ID":"1001-14164","CinemaId":"1001","ScheduledFilmId":"HO00000720","SessionId":"14164","AreaCategoryCodes":[],"Showtime":"2019-02-26T20:00:00","IsAllocatedSeating":false,"AllowChildAdmits":true,"SeatsAvailable":66,"AllowComplimentaryTickets":true,"EventId":"","PriceGroupCode":"0033","ScreenName":"Kino 2","ScreenNameAlt":"433402","ScreenNumber":2,"CinemaOperatorCode":"1001","FormatCode":"0000000001","SalesChannels":";CALL;RSP;GSALE;CELL;KIOSK;PDA;WWW;POSBK;POS;IVR;","SessionAttributesNames":["OV"],"ConceptAttributesNames":[],"AllowTicketSales":true,"HasDynamicallyPricedTicketsAvailable":false,"PlayThroughId":null,"SessionBusinessDate":"2019-02-26T00:00:00","SessionDisplayPriority":0,"GroupSessionsByAttribute":false}"#;
    assert_eq!(
        out,
        format!("{{\"odata.metadata\":\"{BASE}/$metadata#Sessions\",\"value\":[{item}]}}")
    );
}

#[test]
fn cinemas_recommended_select_and_value_encodings() {
    let m = model();
    let c = ent(
        &m,
        "Cinema",
        &[
            ("ID", s("0200")),
            ("CinemaNationalId", s("1721210")),
            ("Name", s("CHTEST01")),
            ("PhoneNumber", s("")),
            ("City", s("China")),
            ("Latitude", Value::Decimal("31.2304".into())),
            (
                "NameTranslations",
                Value::Translations(vec![("zh-CN".into(), "测试".into())]),
            ),
        ],
    );
    let out = run(
        "Cinema",
        "Cinemas",
        vec![c.clone()],
        "$format=json&$select=ID,CinemaNationalId,Name,PhoneNumber,EmailAddress,City",
    )
    .unwrap();
    assert_eq!(
        out,
        format!("{{\"odata.metadata\":\"{BASE}/$metadata#Cinemas&$select=ID,CinemaNationalId,Name,PhoneNumber,EmailAddress,City\",\"value\":[{{\"ID\":\"0200\",\"CinemaNationalId\":\"1721210\",\"Name\":\"CHTEST01\",\"PhoneNumber\":\"\",\"EmailAddress\":null,\"City\":\"China\"}}]}}")
    );
    let out = run(
        "Cinema",
        "Cinemas",
        vec![c],
        "$select=Latitude,Longitude,NameTranslations,IsGiftStore",
    )
    .unwrap();
    assert!(out.ends_with(
        r#""value":[{"Latitude":"31.2304","Longitude":null,"IsGiftStore":false,"NameTranslations":[{"LanguageTag":"zh-CN","Text":"测试"}]}]}"#
    ), "{out}");
}

#[test]
fn datetime_fraction_only_when_nonzero() {
    let d = dt(2015, 8, 8, 10, 30);
    assert_eq!(format_datetime(&d), "2015-08-08T10:30:00");
    let f = d + chrono::Duration::milliseconds(120);
    assert_eq!(format_datetime(&f), "2015-08-08T10:30:00.12");
    let f = d + chrono::Duration::nanoseconds(100);
    assert_eq!(format_datetime(&f), "2015-08-08T10:30:00.0000001");
}

// ------------------------------------------------------------------ $select / $expand

#[test]
fn select_star_and_expand_without_select() {
    let m = model();
    let mut film = ent(&m, "ScheduledFilm", &[("ID", s("F1")), ("Title", s("T"))]);
    let mut sess = ent(&m, "Session", &[("ID", s("S1"))]);
    sess.nav
        .push(("Attributes", vec![ent(&m, "Attribute", &[("ID", s("A"))])]));
    film.nav.push(("Sessions", vec![sess]));
    // Expanded without $select: all structural + Sessions (Attributes not expanded).
    let out = run(
        "ScheduledFilm",
        "ScheduledFilms",
        vec![film.clone()],
        "$expand=Sessions",
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = &v["value"][0];
    let keys: Vec<&String> = f.as_object().unwrap().keys().collect();
    assert_eq!(keys.first().map(|k| k.as_str()), Some("ID"));
    assert_eq!(keys.last().map(|k| k.as_str()), Some("Sessions"));
    assert_eq!(keys.len(), 31);
    assert!(f["Sessions"][0].get("Attributes").is_none());
    assert_eq!(f["Sessions"][0]["ID"], "S1");

    // No expand: navigations omitted.
    let out = run("ScheduledFilm", "ScheduledFilms", vec![film.clone()], "").unwrap();
    assert!(!out.contains("\"Sessions\""));

    // `*` = all structural, no navigations unless selected.
    let out = run(
        "ScheduledFilm",
        "ScheduledFilms",
        vec![film.clone()],
        "$select=*&$expand=Sessions",
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["value"][0].as_object().unwrap().len(), 30);
    assert!(v["odata.metadata"]
        .as_str()
        .unwrap()
        .ends_with("#ScheduledFilms&$select=*"));

    // Selecting a navigation as a whole.
    let out = run(
        "ScheduledFilm",
        "ScheduledFilms",
        vec![film.clone()],
        "$select=Title,Sessions&$expand=Sessions/Attributes",
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = v["value"][0].as_object().unwrap();
    assert_eq!(f.keys().collect::<Vec<_>>(), ["Title", "Sessions"]);
    assert_eq!(f["Sessions"][0]["Attributes"][0]["ID"], "A");

    // Nested select implies expansion; missing navigation data renders as [].
    let bare = ent(&m, "ScheduledFilm", &[("ID", s("F2"))]);
    let out = run(
        "ScheduledFilm",
        "ScheduledFilms",
        vec![bare],
        "$select=ID,Sessions/*",
    )
    .unwrap();
    assert!(
        out.ends_with(r#""value":[{"ID":"F2","Sessions":[]}]}"#),
        "{out}"
    );
    let q = Query::parse("$select=ID,Sessions/Attributes/Description").unwrap();
    assert!(q.expands("Sessions"));
    assert!(q.expands("Sessions/Attributes"));
    assert!(!q.expands("ID"));
}

#[test]
fn select_errors() {
    let msg = bad_request(run("Session", "Sessions", vec![], "$select=ID,Foo"));
    assert_eq!(
        msg,
        "No property 'Foo' exists in type 'WSVistaWebClient.ServiceContracts.OData.Session' at position 3."
    );
    // Case-sensitive.
    bad_request(run("Session", "Sessions", vec![], "$select=id"));
    bad_request(run("Session", "Sessions", vec![], "$select=ID,"));
    bad_request(run("Session", "Sessions", vec![], "$select=Showtime/Foo"));
    bad_request(run(
        "ScheduledFilm",
        "ScheduledFilms",
        vec![],
        "$select=Sessions/Nope",
    ));
    bad_request(run(
        "ScheduledFilm",
        "ScheduledFilms",
        vec![],
        "$expand=Title",
    ));
    bad_request(run(
        "ScheduledFilm",
        "ScheduledFilms",
        vec![],
        "$expand=Sessions/Foo",
    ));
    bad_request(run(
        "ScheduledFilm",
        "ScheduledFilms",
        vec![],
        "$expand=sessions",
    ));
}

// ------------------------------------------------------------------ $filter

#[test]
fn filter_operators() {
    assert_eq!(
        session_ids("$filter=SeatsAvailable gt 40").unwrap(),
        ["0300-5", "1001-14164"]
    );
    assert_eq!(
        session_ids("$filter=SeatsAvailable ge 40 and SeatsAvailable le 50").unwrap(),
        ["0200-4", "0300-5"]
    );
    assert_eq!(
        session_ids("$filter=SeatsAvailable lt 20").unwrap(),
        ["0200-1"]
    );
    assert_eq!(
        session_ids("$filter=CinemaId ne '0200'").unwrap(),
        ["0300-5", "1001-14164"]
    );
    assert_eq!(
        session_ids("$filter=SeatsAvailable gt -1 and SeatsAvailable eq 10").unwrap(),
        ["0200-1"]
    );
    // Strings compare ordinally.
    assert_eq!(
        session_ids("$filter=CinemaId gt '0300'").unwrap(),
        ["1001-14164"]
    );
}

#[test]
fn filter_or_not_parentheses_precedence() {
    assert_eq!(
        session_ids("$filter=SessionId eq '1' or SessionId eq '5'").unwrap(),
        ["0200-1", "0300-5"]
    );
    // and binds tighter than or.
    assert_eq!(
        session_ids("$filter=SessionId eq '1' or CinemaId eq '0200' and SeatsAvailable gt 35")
            .unwrap(),
        ["0200-1", "0200-4"]
    );
    assert_eq!(
        session_ids("$filter=(SessionId eq '1' or CinemaId eq '0200') and SeatsAvailable gt 15")
            .unwrap(),
        ["0200-2", "0200-3", "0200-4"]
    );
    assert_eq!(
        session_ids("$filter=not (CinemaId eq '0200')").unwrap(),
        ["0300-5", "1001-14164"]
    );
    assert_eq!(
        session_ids("$filter=not(CinemaId eq '0200' or CinemaId eq '0300')").unwrap(),
        ["1001-14164"]
    );
    assert_eq!(
        session_ids("$filter=((CinemaId eq '0300'))").unwrap(),
        ["0300-5"]
    );
    // not > comparison: `not CinemaId eq '0200'` is `(not CinemaId) eq ...` → type error.
    bad_request(session_ids("$filter=not CinemaId eq '0200'"));
    // Boolean properties and literals as predicates.
    assert_eq!(session_ids("$filter=IsAllocatedSeating").unwrap().len(), 0);
    assert_eq!(
        session_ids("$filter=not IsAllocatedSeating and SessionId eq '2'").unwrap(),
        ["0200-2"]
    );
    assert_eq!(
        session_ids("$filter=IsAllocatedSeating eq false and SeatsAvailable eq 66").unwrap(),
        ["1001-14164"]
    );
    assert_eq!(session_ids("$filter=true").unwrap().len(), 6);
}

#[test]
fn filter_datetime_literals() {
    assert_eq!(
        session_ids("$filter=Showtime ge datetime'2015-08-08T10:30' and Showtime lt datetime'2015-08-08T12:00:00'").unwrap(),
        ["0200-2"]
    );
    assert_eq!(
        session_ids("$filter=Showtime eq datetime'2015-08-09'").unwrap(),
        ["0200-4"]
    );
    assert_eq!(
        session_ids("$filter=Showtime eq datetime'2015-08-08T18:00:00.000'").unwrap(),
        ["0200-3"]
    );
    let msg = bad_request(session_ids("$filter=Showtime gt '2015-08-08'"));
    assert!(
        msg.contains("incompatible")
            && msg.contains("System.DateTime")
            && msg.contains("System.String"),
        "{msg}"
    );
    bad_request(session_ids("$filter=Showtime gt datetime'2015-02-30'"));
    bad_request(session_ids("$filter=SeatsAvailable eq '66'"));
    bad_request(session_ids("$filter=CinemaId eq 200"));
    bad_request(session_ids("$filter=IsAllocatedSeating gt false"));
    bad_request(session_ids("$filter=AreaCategoryCodes eq 'x'"));
    bad_request(session_ids("$filter=CinemaId"));
    bad_request(session_ids("$filter=SeatsAvailable eq 1 and 'x'"));
}

#[test]
fn filter_null_semantics() {
    // Session 3 has ScreenNumber null.
    assert_eq!(
        session_ids("$filter=ScreenNumber eq null").unwrap(),
        ["0200-3"]
    );
    assert_eq!(
        session_ids("$filter=ScreenNumber ne null").unwrap().len(),
        5
    );
    assert_eq!(
        session_ids("$filter=null eq ScreenNumber").unwrap(),
        ["0200-3"]
    );
    assert_eq!(session_ids("$filter=null eq null").unwrap().len(), 6);
    assert_eq!(
        session_ids("$filter=ScreenNumber ne 1").unwrap(),
        ["0200-2", "0200-3", "0300-5", "1001-14164"]
    );
    // Ordering comparisons with null are false.
    assert_eq!(session_ids("$filter=ScreenNumber lt 100").unwrap().len(), 5);
    assert!(session_ids("$filter=ScreenNumber gt null")
        .unwrap()
        .is_empty());
    assert_eq!(
        session_ids("$filter=not (ScreenNumber gt 1)").unwrap(),
        ["0200-1", "0200-3", "0200-4"]
    );
    assert_eq!(
        session_ids("$filter=ScreenName eq null or ScreenName eq 'Screen 3'").unwrap(),
        ["0200-3", "0300-5"]
    );
    assert_eq!(
        session_ids("$filter=PlayThroughId eq null").unwrap().len(),
        6
    );
}

#[test]
fn filter_string_escapes_and_whitespace() {
    let m = model();
    let c = ent(&m, "Cinema", &[("ID", s("1")), ("Name", s("O'Brien's"))]);
    let d = ent(&m, "Cinema", &[("ID", s("2")), ("Name", s("Other"))]);
    assert_eq!(
        ids(
            "Cinema",
            vec![c.clone(), d.clone()],
            "$filter=Name%20eq%20%27O%27%27Brien%27%27s%27"
        )
        .unwrap(),
        ["1"]
    );
    assert_eq!(
        ids(
            "Cinema",
            vec![c.clone(), d.clone()],
            "$filter=++Name++eq+'Other'+"
        )
        .unwrap(),
        ["2"]
    );
    assert_eq!(
        ids(
            "Cinema",
            vec![c.clone(), d.clone()],
            "$filter=Name\teq 'Other'"
        )
        .unwrap(),
        ["2"]
    );
    // Decimal comparisons.
    let mut e = ent(
        &m,
        "Cinema",
        &[
            ("ID", s("3")),
            ("Latitude", Value::Decimal("31.2304".into())),
        ],
    );
    e.values.truncate(12);
    assert_eq!(
        ids(
            "Cinema",
            vec![c, d, e],
            "$filter=Latitude gt 31 and Latitude lt 31.5"
        )
        .unwrap(),
        ["3"]
    );
}

#[test]
fn filter_errors() {
    let msg = bad_request(session_ids("$filter=Foo eq 1"));
    assert_eq!(
        msg,
        "No property 'Foo' exists in type 'WSVistaWebClient.ServiceContracts.OData.Session' at position 0."
    );
    let msg = bad_request(session_ids("$filter=CinemaId eq '1' and cinemaId eq '2'"));
    assert!(
        msg.contains("No property 'cinemaId'") && msg.ends_with("at position 20."),
        "{msg}"
    );
    for bad in [
        "$filter=CinemaId eq",
        "$filter=CinemaId eq '0200",
        "$filter=(CinemaId eq '0200'",
        "$filter=CinemaId eq '0200')",
        "$filter=CinemaId == '0200'",
        "$filter=CinemaId Eq '0200'",
        "$filter=CinemaId eq '0200' and",
        "$filter=startswith(CinemaId,'02')",
        "$filter=CinemaId eq guid'x'",
    ] {
        bad_request(session_ids(bad));
    }
}

// ------------------------------------------------------------------ $orderby / $top / $skip

#[test]
fn orderby_top_skip() {
    assert_eq!(
        session_ids("$orderby=Showtime desc").unwrap(),
        [
            "1001-14164",
            "0200-4",
            "0200-3",
            "0300-5",
            "0200-2",
            "0200-1"
        ]
    );
    assert_eq!(
        session_ids("$orderby=Showtime").unwrap(),
        [
            "0200-1",
            "0200-2",
            "0300-5",
            "0200-3",
            "0200-4",
            "1001-14164"
        ]
    );
    assert_eq!(
        session_ids("$orderby=CinemaId desc, SeatsAvailable asc").unwrap(),
        [
            "1001-14164",
            "0300-5",
            "0200-1",
            "0200-2",
            "0200-3",
            "0200-4"
        ]
    );
    // Nulls first ascending, last descending.
    assert_eq!(session_ids("$orderby=ScreenNumber").unwrap()[0], "0200-3");
    assert_eq!(
        session_ids("$orderby=ScreenNumber desc").unwrap()[5],
        "0200-3"
    );
    assert_eq!(
        session_ids("$orderby=SeatsAvailable&$top=2").unwrap(),
        ["0200-1", "0200-2"]
    );
    assert_eq!(
        session_ids("$orderby=SeatsAvailable&$skip=4").unwrap(),
        ["0300-5", "1001-14164"]
    );
    assert_eq!(
        session_ids("$orderby=SeatsAvailable&$skip=1&$top=2").unwrap(),
        ["0200-2", "0200-3"]
    );
    assert_eq!(session_ids("$top=0").unwrap().len(), 0);
    assert_eq!(session_ids("$skip=100").unwrap().len(), 0);
    assert_eq!(
        session_ids("$filter=CinemaId eq '0200'&$orderby=SeatsAvailable desc&$top=1").unwrap(),
        ["0200-4"]
    );
}

#[test]
fn orderby_and_paging_errors() {
    let msg = bad_request(session_ids("$orderby=Foo"));
    assert!(msg.starts_with("No property 'Foo' exists in type"), "{msg}");
    bad_request(session_ids("$orderby=Showtime descending"));
    bad_request(session_ids("$orderby=Showtime,"));
    bad_request(session_ids("$orderby=AreaCategoryCodes"));
    assert_eq!(
        bad_request(Query::parse("$top=abc")),
        "Incorrect format for $top argument 'abc'."
    );
    bad_request(Query::parse("$top=-1"));
    bad_request(Query::parse("$skip=1.5"));
    bad_request(Query::parse("$top=99999999999999"));
}

// ------------------------------------------------------------------ query parsing

#[test]
fn query_parsing() {
    assert_eq!(
        bad_request(Query::parse("$xyz=1")),
        "The query parameter '$xyz' begins with a system-reserved '$' character but is not recognized."
    );
    // $-options are case-sensitive.
    bad_request(Query::parse("$Filter=ID eq '1'"));
    bad_request(Query::parse("$top=1&$top=2"));
    let q = Query::parse("?&&$format=json&cinemaid=0200&&").unwrap();
    assert_eq!(q.format(), Some("json"));
    assert_eq!(q.param("cinemaId").as_deref(), Some("0200"));
    assert_eq!(q.param("CINEMAID").as_deref(), Some("0200"));
    assert_eq!(q.param("siteGroupId"), None);
    let q = Query::parse("cinemaId='0200'&x=%27it%27%27s%27&y=a+b").unwrap();
    assert_eq!(q.param("cinemaid").as_deref(), Some("0200"));
    assert_eq!(q.param("x").as_deref(), Some("it's"));
    assert_eq!(q.param("y").as_deref(), Some("a b"));
    // Any $format value, encoded `$`, empty values.
    let q = Query::parse("%24format=atom&$filter=&$top=").unwrap();
    assert_eq!(q.format(), Some("atom"));
    assert_eq!(q.top(), None);
    assert!(q.filter_text().is_none());
    assert!(Query::parse("$inlinecount=allpages").is_ok());
    bad_request(Query::parse("$inlinecount=some"));
    assert_eq!(percent_decode("a%2Cb%zz%"), "a,b%zz%");
    assert_eq!(percent_decode("%E4%B8%80"), "一");
}

#[test]
fn unknown_type_is_an_error() {
    let m = model();
    let q = Query::default();
    assert!(apply(&m, "Nope", vec![], &q).is_err());
    assert!(apply(
        &m,
        "WSVistaWebClient.ServiceContracts.OData.Session",
        vec![],
        &q
    )
    .is_ok());
}

// ------------------------------------------------------------------ documents and errors

#[test]
fn service_document_lists_sets() {
    assert_eq!(
        service_document(&model(), BASE),
        format!(
            "{{\"odata.metadata\":\"{BASE}/$metadata\",\"value\":[{{\"name\":\"Cinemas\",\"url\":\"Cinemas\"}},{{\"name\":\"ScheduledFilms\",\"url\":\"ScheduledFilms\"}},{{\"name\":\"Sessions\",\"url\":\"Sessions\"}},{{\"name\":\"Attributes\",\"url\":\"Attributes\"}}]}}"
        )
    );
}

#[test]
fn errors_render_like_wcf() {
    let e = resource_not_found("cinemas");
    assert_eq!(e.status(), 404);
    assert_eq!(e.message(), "Resource not found for the segment 'cinemas'.");
    assert_eq!(
        error_json(e.message()),
        r#"{"odata.error":{"code":"","message":{"lang":"en-US","value":"Resource not found for the segment 'cinemas'."}}}"#
    );
    assert_eq!(e.to_json(), error_json(e.message()));
    assert_eq!(ODataError::BadRequest("x".into()).status(), 400);
}

#[test]
fn single_entity_rendering() {
    let m = model();
    let q = Query::parse("$select=ID,City").unwrap();
    let c = ent(&m, "Cinema", &[("ID", s("0200")), ("City", s("China"))]);
    assert_eq!(
        render_entity(&m, "Cinema", BASE, "Cinemas", &c, &q).unwrap(),
        format!("{{\"odata.metadata\":\"{BASE}/$metadata#Cinemas/@Element&$select=ID,City\",\"ID\":\"0200\",\"City\":\"China\"}}")
    );
}

#[test]
fn pathological_filters_are_rejected_not_crashing() {
    let deep = format!(
        "$filter={}SeatsAvailable eq 1{}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    bad_request(Query::parse(&deep));
    let nots = format!("$filter={}IsAllocatedSeating", "not ".repeat(5000));
    bad_request(Query::parse(&nots));
    let chain = format!(
        "$filter=SessionId eq '0'{}",
        " or SessionId eq '1'".repeat(5000)
    );
    bad_request(Query::parse(&chain));
    // A realistic list of alternatives is fine.
    let ok = format!(
        "$filter=SessionId eq '0'{}",
        " or SessionId eq '1'".repeat(100)
    );
    assert_eq!(session_ids(&ok).unwrap(), ["0200-1"]);
}

#[test]
fn largest_accepted_filter_fits_in_a_small_stack() {
    let worker = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(|| {
            let nested = format!(
                "$filter={}SeatsAvailable eq 10{}",
                "(".repeat(60),
                ")".repeat(60)
            );
            assert_eq!(session_ids(&nested).unwrap(), ["0200-1"]);
            let nots = format!("$filter={}(SeatsAvailable eq 10)", "not ".repeat(60));
            assert_eq!(session_ids(&nots).unwrap(), ["0200-1"]);
            let chain = format!(
                "$filter=(SessionId eq '0'{})",
                " or SessionId eq '1'".repeat(190)
            );
            assert_eq!(session_ids(&chain).unwrap(), ["0200-1"]);
        })
        .unwrap();
    worker.join().unwrap();
}
