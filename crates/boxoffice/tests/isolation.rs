//! Partners are isolated from each other: order keys, bookings and refunds are per partner,
//! while the inventory is shared.

mod common;
use common::*;
use serde_json::json;

const OTHER: &str = "OTHER-CONNECT-TOKEN";

async fn with_second_partner() -> TestServer {
    let server = TestServer::start().await;
    let extra = format!(
        "{}\n[[partner]]\ncode = \"other\"\nname = \"Other OTA\"\nchannel = \"RSP\"\n\n[[partner.credential]]\nprotocol = \"vista\"\nkey = \"{OTHER}\"\n\n[[partner]]\ncode = \"elsewhere\"\nname = \"Restricted\"\nchannel = \"RSP\"\nvenues = [\"58\"]\n\n[[partner.credential]]\nprotocol = \"vista\"\nkey = \"RESTRICTED-TOKEN\"\noptions = {{ allow_refunds = false }}\n\n[[partner]]\ncode = \"flex\"\nname = \"Flexible\"\nchannel = \"RSP\"\n\n[[partner.credential]]\nprotocol = \"vista\"\nkey = \"FLEX-TOKEN\"\noptions = {{ allow_price_override = true, allow_external_payments = false }}\n",
        boxoffice_server::DEMO_CATALOG
    );
    server
        .app
        .apply_catalog(&extra)
        .await
        .expect("catalogue with more partners");
    server
}

#[tokio::test]
async fn the_same_order_key_at_two_partners_is_two_orders_over_one_inventory() {
    let server = with_second_partner().await;
    let demo = Client::new(&server);
    let other = demo.with_token(Some(OTHER));
    assert_eq!(
        demo.post(
            ADD_TICKETS,
            &add_tickets_body("SAME", "29617", "0056", 5000, &[(0, 1)])
        )
        .await
        .json()["Result"],
        0
    );
    // The other partner cannot take the held seat, and its "SAME" order is its own.
    assert_eq!(
        other
            .post(
                ADD_TICKETS,
                &add_tickets_body("SAME", "29617", "0056", 5000, &[(0, 1)])
            )
            .await
            .json()["Result"],
        8
    );
    let r = other
        .post(GET_ORDER, &json!({"UserSessionId": "SAME"}))
        .await;
    let v = r.json();
    assert_eq!(v["Result"], 0, "{}", r.text);
    assert_eq!(v["Order"]["UserSessionId"], "SAME", "{}", r.text);
    assert_eq!(
        v["Order"].get("CinemaId"),
        Some(&serde_json::Value::Null),
        "{}",
        r.text
    );
    // Cancelling "SAME" at the other partner does not touch the demo partner's order.
    assert_eq!(
        other
            .post(CANCEL_ORDER, &json!({"UserSessionId": "SAME"}))
            .await
            .json()["Result"],
        0
    );
    assert_eq!(
        demo.post(GET_ORDER, &json!({"UserSessionId": "SAME"}))
            .await
            .json()["Order"]["CinemaId"],
        "0200"
    );
    let plan = other.get(&seat_plan("29617")).await.json();
    assert_eq!(
        seat_statuses(&plan)[&(1, 0, 1)],
        1,
        "held seats are taken for every partner"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_partner_cannot_see_or_refund_another_partners_booking() {
    let server = with_second_partner().await;
    let demo = Client::new(&server);
    let other = demo.with_token(Some(OTHER));
    assert_eq!(
        demo.post(
            ADD_TICKETS,
            &add_tickets_body("MINE", "29617", "0056", 5000, &[(0, 1)])
        )
        .await
        .json()["Result"],
        0
    );
    let done = demo
        .post(COMPLETE_ORDER, &complete_body("MINE", 5000))
        .await
        .json();
    let number: i64 = done["VistaBookingNumber"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let lookup = json!({"CinemaId": "0200", "BookingNumber": number});
    assert_eq!(
        other.post(GET_SINGLE_BOOKING, &lookup).await.json()["ResultCode"],
        47
    );
    assert_eq!(
        other
            .post(
                QUERY_BOOKING_STATUS,
                &json!({"UserSessionId": "MINE", "ClientId": "111.111.111.111"})
            )
            .await
            .json()["ResponseCode"],
        47
    );
    let refund = json!({"CinemaId": "0200", "BookingNumber": number, "RefundReason": "x", "MarkAsRefundedOnly": true});
    assert_eq!(
        other.post(REFUND_BOOKING, &refund).await.json()["ResultCode"],
        47
    );
    assert_eq!(
        demo.post(GET_SINGLE_BOOKING, &lookup).await.json()["Booking"]["CancelledStatus"],
        "0"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_partner_limited_to_other_venues_and_without_refunds_is_refused() {
    let server = with_second_partner().await;
    let restricted = Client::new(&server).with_token(Some("RESTRICTED-TOKEN"));
    assert_eq!(
        restricted.get(&tickets("29617")).await.text,
        r#"{"ResponseCode":4,"Tickets":null}"#
    );
    assert_eq!(
        restricted.get(&seat_plan("29617")).await.json()["ResponseCode"],
        4
    );
    assert_eq!(
        restricted
            .post(
                ADD_TICKETS,
                &add_tickets_body("R", "29617", "0056", 5000, &[(0, 1)])
            )
            .await
            .json()["Result"],
        4
    );
    let cinemas = restricted
        .get(&format!("{ODATA}/Cinemas?$select=ID"))
        .await
        .json();
    assert_eq!(cinemas["value"], json!([{"ID": "58"}]));
    let refund = json!({"CinemaId": "0200", "BookingNumber": 100001, "RefundReason": "x", "MarkAsRefundedOnly": true});
    assert_eq!(
        restricted.post(REFUND_BOOKING, &refund).await.text,
        r#"{"ErrorDescription":"A refund has been attempted but the Web Service is not configured to allow refunds. Check the value of the 'AllowBookingRefunds' setting.","ResultCode":44}"#
    );
    server.stop().await;
}

#[tokio::test]
async fn security_profile_flags_allow_price_overrides_and_forbid_external_payments() {
    let server = with_second_partner().await;
    let flex = Client::new(&server).with_token(Some("FLEX-TOKEN"));
    let r = flex
        .post(
            ADD_TICKETS,
            &add_tickets_body("F", "29617", "0056", 4200, &[(0, 1)]),
        )
        .await
        .json();
    assert_eq!(r["Result"], 0);
    assert_eq!(r["Order"]["TotalValueCents"], 4200);
    assert_eq!(r["Order"]["Sessions"][0]["Tickets"][0]["PriceCents"], 4200);
    assert_eq!(
        flex.post(START_EXTERNAL_PAYMENT, &json!({"UserSessionId": "F"}))
            .await
            .text,
        r#"{"ErrorDescription":"An external payment has been attempted but the Web Service is not configured to allow external payments. Check the value of the 'AllowExternalPayments' setting.","Result":45,"ExtendedResultCode":0,"PaymentRedirectUrl":null}"#
    );
    assert_eq!(
        flex.post(COMPLETE_ORDER, &complete_body("F", 4200))
            .await
            .json()["Result"],
        45
    );
    server.stop().await;
}
