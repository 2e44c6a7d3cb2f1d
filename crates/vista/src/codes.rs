//! The Vista Connect response-code table (D001 §3.13 = D000 §3.10, plus 60–63 and 67).

/// A response code: its number and documented description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code(pub i64);

/// 0 OK.
pub const OK: Code = Code(0);
/// 1 UnexpectedError.
pub const UNEXPECTED_ERROR: Code = Code(1);
/// 2 DBError.
pub const DB_ERROR: Code = Code(2);
/// 4 InvalidRequestData.
pub const INVALID_REQUEST_DATA: Code = Code(4);
/// 8 SeatsUnavailable.
pub const SEATS_UNAVAILABLE: Code = Code(8);
/// 27 PaymentVoidSuccessPaymentTotalMismatch.
pub const PAYMENT_TOTAL_MISMATCH: Code = Code(27);
/// 31 CouldNotAllocateContiguousSeats.
pub const NO_CONTIGUOUS_SEATS: Code = Code(31);
/// 34 NoLoyaltyMember.
pub const NO_LOYALTY_MEMBER: Code = Code(34);
/// 39 RefundBookingFailed.
pub const REFUND_BOOKING_FAILED: Code = Code(39);
/// 44 BookingRefundsDisabled.
pub const BOOKING_REFUNDS_DISABLED: Code = Code(44);
/// 45 ExternalPaymentsDisabled.
pub const EXTERNAL_PAYMENTS_DISABLED: Code = Code(45);
/// 47 BookingDoesNotExist.
pub const BOOKING_DOES_NOT_EXIST: Code = Code(47);
/// 56 PaymentsProcessed.
pub const PAYMENTS_PROCESSED: Code = Code(56);
/// 57 PaymentErrorPreCommit.
pub const PAYMENT_ERROR_PRE_COMMIT: Code = Code(57);
/// 61 OrderCannotBeUniquelyIdentified.
pub const ORDER_NOT_UNIQUE: Code = Code(61);
/// 63 OrderHasBeenRefunded.
pub const ORDER_HAS_BEEN_REFUNDED: Code = Code(63);
/// 67 SeatMapRequestedForSoldOutSession.
pub const SEAT_MAP_SOLD_OUT: Code = Code(67);

/// Every documented code: (number, name, description). 64–66 are not listed.
pub const TABLE: &[(i64, &str, &str)] = &[
    (0, "OK", "No issues encountered"),
    (1, "UnexpectedError", "An unexpected error was encountered. Service log files should be consulted to identify the location and cause of the issue."),
    (2, "DBError", "An unexpected error occurred connecting to, reading or writing to the Web Client database"),
    (3, "MembershipError", "The membership system returned an error. The Membership service may not be available."),
    (4, "InvalidRequestData", "The request data passed to the service does not include the correctly formatted data required to process the request"),
    (5, "CinemaConnectError", "The service could not access the requested Cinema server system. The Cinema may be unavailable for ticketing."),
    (6, "LoyaltyConnectError", "The service could not connect to the membership system. The Membership service may not be available."),
    (7, "InsufficientPoints", "A ticket or membership reward was requested but the Member does not have sufficient points to add the item. This error can also be returned if the reward has time limitations and the current Session does not fall into those boundaries."),
    (8, "SeatsUnavailable", "The cinema refused the requested seats because the Session is sold out or selling out and the tickets requested could not be added"),
    (9, "FailedSeatDataRetrieve", "When calling AddTickets if the ReturnSeatData flag is set and this process fails, but the seats were successfully booked FailedSeatDataRetrieve will be returned. The client application has the option of retrying to retrieve seat data directly or cancelling the order."),
    (10, "FailedOrderValueProcess", "When calling AddTickets if the ProcessOrderValue flag is set and this process fails, but the seats were successfully booked FailedOrderValueProcess will be returned. The client application has the option of retrying to process order value directly, or cancelling the order"),
    (11, "PrepareOrderForCompleteError", "Before performing payment the Order is prepared for commit. This process includes calculation of Taxes and Booking Fees and validating the order content. If an unexpected error occurs during this process the PrepareOrderForCompleteError is returned. In these cases a retry of the OrderComplete method may be possible."),
    (12, "PaymentDeclined", "If the Vista is processing payments and Payment is declined by the authorisation service the PaymentDeclined result is returned"),
    (13, "PaymentSystemError", "If the Vista is processing payments and the Payment system encounters an unexpected error PaymentSystemError result is returned"),
    (14, "PostChargeCommitError", "AFTER payment has been authorised it is possible that final commit of the Order into the Cinema system may fail with an unexpected error. In these cases the PostChargeCommitError is returned. It is important that the customer is notified that they have been charged, and that they should contact the Cinema directly to confirm the status of the booking using any references that might identify the order. These references may include the Vista Booking Number, Customer Name, Card Number, Phone, Email etc. This also results if payments could not be voided."),
    (15, "UnpaidBookingsDisallowed", "An Unpaid Booking may be disallowed at the Cinema due to configurable constraints in the Vista system"),
    (16, "VouchersDisallowed", "A Booking containing Voucher ticket types may be disallowed at the Cinema due to configurable constraints in the Vista system"),
    (17, "MemberNotFound", "The Membership system could not locate an account using the supplied MemberLogin, or the UserSessionId has no Loyalty Member associated with it"),
    (18, "MemberPasswordIncorrect", "The membership system reported an incorrect password was supplied"),
    (19, "LoyaltyTimeout", "The configured timeout period elapsed while communicating with the Loyalty/Membership system"),
    (20, "LoyaltyUserNameAlreadyExists", "The Members selected UserName is not unique in the loyalty system"),
    (21, "LoyaltyNotSupportedAtCinema", "The selected cinema does not support Loyalty integration"),
    (22, "MemberEmailIncorrect", "The Members Email does not match the system value"),
    (23, "MemberLoginResetDisallowed", "The Members Online Login credentials have already been set - and updates to these details have been disallowed via the Service"),
    (24, "PaymentSuccessWithErrors", "Multiple payment lines have been included in an order and some have failed, although the transaction overall has been paid in full"),
    (25, "PaymentVoidSuccessPostCommit", "At least one payment method succeeded, but circumstances have forced the order to be voided. In this case, the order has already been committed to history and will not accept any further attempts."),
    (26, "PaymentVoidSuccessPreCommit", "At least one payment method succeeded, but circumstances have forced the order to be voided. In this case, the order has not been committed to history and retries are allowed."),
    (27, "PaymentVoidSuccessPaymentTotalMismatch", "All payments have succeeded but the payment total does not match the order total. Payments have been voided to allow a retry."),
    (28, "FailedToAllocateCard", "All payments have succeeded but the payment total does not match the order total. Payments have been voided to allow a retry."),
    (29, "VoucherPinRequired", "A pin number is required for the barcode"),
    (30, "VoucherNotValid", "The barcode specified is not valid for the ticket type"),
    (31, "CouldNotAllocateContiguousSeats", "The selected seats could not be automatically allocated in a single row"),
    (32, "VoucherPinIncorrect", "The pin number provided is not correct for the barcode"),
    (33, "DuplicateVoucher", "Request contains a duplicate voucher code"),
    (34, "NoLoyaltyMember", "A loyalty member must be logged in through a call to LoyaltyService.ValidateMember."),
    (35, "InvalidTicketRecognitionPair", "Cannot find a ticket valid for the specified recognition"),
    (36, "OrderInitFailed", "Could not initialise the order"),
    (37, "CardWalletAccessTokenInvalid", "The access token was invalid so the card token could not be retrieved"),
    (38, "InsecureCardWalletAccess", "To use the wallet a loyalty member must be validated by their username and password"),
    (39, "RefundBookingFailed", "Refunding of booking failed"),
    (40, "IncorrectBookingMode", "The booking mode of the order is incorrectly set"),
    (41, "AddressNotFound", "The address could not be found by the address validation service"),
    (42, "InvalidAddressModuleConfiguration", "An error occurred while configuring/creating the address module. Ensure the values in tblAddressModuleConfig are valid for the module."),
    (43, "OfflinePaymentsDisabled", "An offline payment was attempted but the Web Service is not configured to allow offline payments. Check the value of the 'AllowOfflinePayments' setting."),
    (44, "BookingRefundsDisabled", "A refund has been attempted but the Web Service is not configured to allow refunds. Check the value of the 'AllowBookingRefunds' setting."),
    (45, "ExternalPaymentsDisabled", "An external payment has been attempted but the Web Service is not configured to allow external payments. Check the value of the 'AllowExternalPayments' setting."),
    (46, "EmailChangeAlreadyVerified", "This email change has already been verified and carried out"),
    (47, "BookingDoesNotExist", "Booking does not exist"),
    (48, "BookingIsNotUnpaid", "Booking is not an unpaid booking"),
    (49, "BookingAlreadyCancelled", "Booking is already cancelled"),
    (50, "SessionUnavailable", "Session is unavailable"),
    (51, "TicketsNotOnSale", "Tickets not currently on sale"),
    (52, "LoyaltyMemberIsBannedFromMakingUnpaidBookings", "The Loyalty Member associated with the Order is currently banned from making unpaid bookings"),
    (53, "UnableToRetrieveBookingPrintStream", "Failed to retrieve booking print stream from Cinema Sales Server"),
    (54, "IncompatibleOrderPurchaseType", ""),
    (55, "ActiveTabUsingIdentifierAlreadyExists", "A Tab already exists with this Id"),
    (56, "PaymentsProcessed", "Unable to edit the order as payments for the order have already been made"),
    (57, "PaymentErrorPreCommit", "An error occurred prior to payments being processed. In this case, the order has not been committed to history and retries are allowed."),
    (58, "LoyaltyPaymentDetailsDontMatchLoggedInMember", "Cannot process a Loyalty points balance payment with a card or member id that doesn't belong to that member"),
    (59, "ThirdPartyMemberTicketNotApproved", "Third party member ticket was not approved"),
    (60, "NumberOfVoucherRedemptionsExceeded", "The voucher cannot be redeemed the requested number of times"),
    (61, "OrderCannotBeUniquelyIdentified", "Order cannot be uniquely identified"),
    (62, "OrderDoesNotExist", "Order does not exist matching the search criteria"),
    (63, "OrderHasBeenRefunded", "The order has been refunded"),
    (67, "SeatMapRequestedForSoldOutSession", "The session requested is marked as sold out"),
];

impl Code {
    /// `ErrorDescription` for this code: `null` on success, else the documented description.
    pub fn error_description(self) -> serde_json::Value {
        if self == OK {
            serde_json::Value::Null
        } else {
            serde_json::Value::String(self.description().to_string())
        }
    }
    /// The documented description (empty for an unknown code).
    pub fn description(self) -> &'static str {
        TABLE
            .iter()
            .find(|(n, _, _)| *n == self.0)
            .map(|(_, _, d)| *d)
            .unwrap_or("")
    }
    /// The documented name.
    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(n, _, _)| *n == self.0)
            .map(|(_, n, _)| *n)
            .unwrap_or("")
    }
}
