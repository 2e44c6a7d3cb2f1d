mod common;
use common::*;

fn show(label: &str, r: &Reply) {
    let t: String = r.text.chars().take(1500).collect();
    println!("=== {label}\n{} {}\n{}\n", r.status, r.content_type, t);
}

#[tokio::test]
async fn probe() {
    let server = TestServer::start().await;
    let c = Client::new(&server);
    let r = c.post(ADD_TICKETS, &add_tickets_body("K1", "29617", "0056", 5000, &[(0, 1), (0, 2)])).await;
    show("add", &r);
    let p = c.get(&seat_plan("29617")).await;
    let j = p.json();
    println!("{:?}", seat_statuses(&j).iter().filter(|(_, v)| **v != 0).collect::<Vec<_>>());
    println!("{}", serde_json::to_string(&j["SeatLayoutData"]["AreaCategories"]).unwrap());
    let p = c.get(&format!("{}?userSessionId=K1", seat_plan("29617"))).await;
    let j = p.json();
    println!("{:?}", seat_statuses(&j).iter().filter(|(_, v)| **v != 0).collect::<Vec<_>>());
    println!("{}", serde_json::to_string(&j["SeatLayoutData"]["AreaCategories"]).unwrap());
    println!("{}", serde_json::to_string(&j["SeatLayoutData"]["Areas"][0]["Rows"][0]["Seats"][0]).unwrap());
    let r = c.get("/WSVistaWebClient/OData.svc/Sessions?$filter=ID+eq+'0200-29617'&$select=ID,SeatsAvailable").await;
    show("avail", &r);
    let r = c.post(CANCEL_ORDER, &serde_json::json!({"UserSessionId":"K1"})).await;
    show("cancel", &r);
    let p = c.get(&seat_plan("29617")).await;
    println!("{:?}", seat_statuses(&p.json()).iter().filter(|(_, v)| **v != 0).collect::<Vec<_>>());
    let r = c.post(ADD_TICKETS, &add_tickets_body("K2", "29617", "0056", 5000, &[(1, 1)])).await;
    show("add2", &r);
    let p = c.get(&seat_plan("29617")).await;
    println!("{:?}", seat_statuses(&p.json()).iter().filter(|(_, v)| **v != 0).collect::<Vec<_>>());
    server.clock.advance(chrono::Duration::minutes(21));
    let p = c.get(&seat_plan("29617")).await;
    println!("after expiry {:?}", seat_statuses(&p.json()).iter().filter(|(_, v)| **v != 0).collect::<Vec<_>>());
    let p = c.get(&format!("{}?userSessionId=K2", seat_plan("29617"))).await;
    println!("after expiry own {:?}", seat_statuses(&p.json()).iter().filter(|(_, v)| **v != 0).collect::<Vec<_>>());
    for path in ["/WSVistaWebClient/RESTData.svc/cinemas/9999/sessions/29617/tickets",
                 "/WSVistaWebClient/RESTData.svc/cinemas/0200/sessions/99999/tickets",
                 "/WSVistaWebClient/RestData.svc/Cinemas/0200/Sessions/29617/Tickets",
                 "/WSVistaWebClient/RESTData.svc/cinemas/9999/sessions/29617/seat-plan",
                 "/WSVistaWebClient/RESTData.svc/cinemas/0200/sessions/29618/tickets",
                 "/WSVistaWebClient/OData.svc/Sessions?$filter=ID+eq+'0200-29618'&$select=ID,SeatsAvailable,AllowTicketSales",
                 "/WSVistaWebClient/OData.svc/Sessions?$top=2&$skip=1&$select=SessionId",
                 "/WSVistaWebClient/OData.svc/Sessions?$filter=(SessionId eq '29617' or SessionId eq '34669') and not (ScreenNumber eq 7)&$select=SessionId",
                 "/WSVistaWebClient/OData.svc/Sessions?$filter=city eq 'x'",
                 "/WSVistaWebClient/OData.svc/Cinemas?$filter=city eq 'China'",
                 "/WSVistaWebClient/OData.svc/Cinemas?$select=name",
                 "/WSVistaWebClient/OData.svc/Cinemas?$filter=City eq 'China",
                 "/WSVistaWebClient/OData.svc/Cinemas?$filter=City eq eq",
                 "/WSVistaWebClient/OData.svc/CINEMAS",
                 "/WSVistaWebClient/Odata.svc/Cinemas?$select=ID",
                 "/wsvistawebclient/ODATA.SVC/Cinemas?$select=ID",
                 "/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?$select=ScheduledFilmId",
                 "/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?cinemaid=0200&$select=ScheduledFilmId",
                 "/WSVistaWebClient/OData.svc/GetNowShowingScheduledFilms?cinemaId='9999'&$select=ScheduledFilmId",
                 "/WSVistaWebClient/OData.svc/Cinemas?$format=json&$select=ID,CinemaNationalId,Name,PhoneNumber,EmailAddress,City&$top=1",
    ] {
        let r = c.get(path).await;
        show(path, &r);
    }
    server.stop().await;
}
