//! Return codes of the Yueke partner API (spec §9).
//!
//! Two levels:
//! * [`SysCode`] — the envelope's `retCode`/`retMsg`: outcome of the basic
//!   checks (authentication, signature, timestamp, parameter presence, remote
//!   call). `"0"` does **not** mean the business operation succeeded.
//! * [`BizCode`] — the business object's `bizCode`/`bizMsg`: the business
//!   outcome. Business failures are sent with `retCode = "0"`.
//!
//! Messages are copied exactly as the vendor document prints them (system
//! messages are English, business messages Chinese, including the document's
//! mix of ASCII `,` and full-width `，` and its spaces around Latin letters
//! and digits). Exceptions are noted on the constant concerned.
//!
//! A business code that appears in several of the document's category tables
//! (e.g. `ORDER_NOT_FOUND`, `GOODS_ORDER_CLOSE_ERROR`) has a single constant.
//! `BCARD_MOBILE_INVALID` is printed twice with two meanings: [`BCARD_MOBILE_INVALID`]
//! (format) is the canonical entry, and [`BCARD_MOBILE_NOT_MATCH`] carries the
//! same code with the second message (G-BC-3); only the former is in [`ALL_BIZ`].

/// A system return code (`retCode`) with its documented `retMsg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SysCode {
    /// The `retCode` string, e.g. `"30003"`.
    pub code: &'static str,
    /// The documented `retMsg`, e.g. `"invalid sign"`.
    pub msg: &'static str,
}

/// A business return code (`bizCode`) with its documented `bizMsg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BizCode {
    /// The `bizCode` string, e.g. `"SUCCESS"`.
    pub code: &'static str,
    /// The documented `bizMsg`, e.g. `"操作成功"`.
    pub msg: &'static str,
}

impl SysCode {
    /// Whether this is the system-level success code `"0"`.
    pub fn is_success(&self) -> bool {
        self.code == SYS_SUCCESS.code
    }
}

impl BizCode {
    /// Whether this is the business success code `SUCCESS`.
    pub fn is_success(&self) -> bool {
        self.code == BIZ_SUCCESS.code
    }
}

macro_rules! sys_codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal, $msg:literal;)*) => {
        $( $(#[$doc])* pub const $name: SysCode = SysCode { code: $code, msg: $msg }; )*
        /// Every system return code of §9.1, in document order.
        pub const ALL_SYS: &[SysCode] = &[$($name),*];
    };
}

macro_rules! biz_codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal, $msg:literal;)*) => {
        $( $(#[$doc])* pub const $name: BizCode = BizCode { code: $code, msg: $msg }; )*
        /// Every distinct business return code of §9.2 (first occurrence, in
        /// document order), followed by the three codes known only from the
        /// changelog.
        pub const ALL_BIZ: &[BizCode] = &[$($name),*];
    };
}

sys_codes! {
    /// `0` success — the system call succeeded; the business result is in `bizCode`.
    SYS_SUCCESS = "0", "success";
    /// `10001` system busy — system exception.
    SYSTEM_BUSY = "10001", "system busy";
    /// `20001` invalid authentication — the API is not granted to the channel.
    INVALID_AUTHENTICATION = "20001", "invalid authentication";
    /// `30001` invalid api — unknown API name (or unknown `(api, v)` pair).
    INVALID_API = "30001", "invalid api";
    /// `30002` invalid channelCode — unknown or unusable channel.
    INVALID_CHANNEL_CODE = "30002", "invalid channelCode";
    /// `30003` invalid sign — the signature does not verify.
    INVALID_SIGN = "30003", "invalid sign";
    /// `30004` time expired — `timestamp` outside the accepted window.
    TIMESTAMP_EXPIRED = "30004", "time expired";
    /// `30005` parameter can not be empty — a mandatory common parameter is missing.
    PARAMETER_EMPTY = "30005", "parameter can not be empty";
    /// `30006` invalid value — a parameter value violates the API's format rules.
    INVALID_VALUE = "30006", "invalid value";
    /// `40001` remote error — system exception in the remote (cinema) call.
    REMOTE_ERROR = "40001", "remote error";
    /// `40002` remote timeout — the call timed out; callers retry first (revised v1.2.3).
    REMOTE_TIMEOUT = "40002", "remote timeout";
    /// `40003` cinema inadequate processing capacity — reduce the call frequency (added v1.2.20).
    CINEMA_CAPACITY_EXCEEDED = "40003", "cinema inadequate processing capacity";
}

biz_codes! {
    // ---- §9.2.1 generic business codes (业务通用返回码) ----
    /// Operation succeeded.
    BIZ_SUCCESS = "SUCCESS", "操作成功";
    /// System exception.
    SYSTEM_ERROR = "SYSTEM_ERROR", "系统异常";
    /// No permission to call this API (granted API not opened for this cinema, G-API-1).
    API_PERMISSION_ERROR = "API_PERMISSION_ERROR", "无接口调用权限";
    /// Request timed out.
    CONNECTION_ERROR = "CONNECTION_ERROR", "请求超时";
    /// Request to the cinema's local system timed out (added 1.2.1).
    CINEMA_CONNECTION_ERROR = "CINEMA_CONNECTION_ERROR", "请求本地系统超时";
    /// The cinema returned nothing (added 1.2.3).
    CINEMA_RETURN_IS_NULL = "CINEMA_RETURN_IS_NULL", "影院返回空";
    /// The cinema's hall list is empty (added 1.2.13).
    HALL_RETURN_NULL = "HALL_RETURN_NULL", "影院影厅列表为空";
    /// Unknown exception.
    UNKNOWN_ERROR = "UNKNOWN_ERROR", "未知异常";
    /// Business parameter format error.
    FORMAT_ERROR = "FORMAT_ERROR", "参数格式错误";
    /// A mandatory business parameter is empty.
    NULL_ARGUMENT = "NULL_ARGUMENT", "参数为空";
    /// Incorrect parameter.
    ILLEGAL_ARGUMENT = "ILLEGAL_ARGUMENT", "参数不正确";
    /// Data does not exist.
    DATA_NOT_EXIST = "DATA_NOT_EXIST", "数据不存在";
    /// Empty result.
    RETURN_IS_NULL = "RETURN_IS_NULL", "返回结果为空";
    /// Cinema unavailable (unknown or disabled `cinemaLinkId`, G-CH-1).
    CINEMA_INVALID = "CINEMA_INVALID", "影院不可用";
    /// Channel does not exist.
    CHANNEL_NOT_FOUND = "CHANNEL_NOT_FOUND", "渠道不存在";
    /// The channel is not bound to this cinema.
    CHANNEL_CINEMA_NOT_FOUND = "CHANNEL_CINEMA_NOT_FOUND", "渠道没有绑定影院";
    /// Order does not exist (also in the goods-refund table, §9.2.8).
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND", "订单不存在";
    /// Exceeds the maximum number of queryable days.
    OVER_MAX_SCHEDULE_DAY = "OVER_MAX_SCHEDULE_DAY", "超过可查询的最大天数";
    /// Seat ID format error (message printed with spaces around `ID`).
    SEATID_ERROR = "SEATID_ERROR", "座位 ID 格式错误";
    /// Cinema system execution error.
    CINEMA_EXECUTOR_ERROR = "CINEMA_EXECUTOR_ERROR", "影院系统执行错误";
    /// Seat information must not be empty (added 1.2.1).
    SEAT_INFO_NOT_NULL = "SEAT_INFO_NOT_NULL", "座位信息不允许为空";
    /// Seat information error (added 1.2.1; also in the order table, §9.2.3).
    SEAT_INFO_ERROR = "SEAT_INFO_ERROR", "座位信息错误";
    /// Goods information must not be empty (added 1.2.1).
    GOODS_INFO_NOT_NULL = "GOODS_INFO_NOT_NULL", "卖品信息不允许为空";
    /// Goods information error (added 1.2.1; also in the order table, §9.2.3).
    GOODS_INFO_ERROR = "GOODS_INFO_ERROR", "卖品信息错误";
    /// Goods query exception (added 1.2.13).
    GOODS_QUERY_ERROR = "GOODS_QUERY_ERROR", "卖品查询异常";
    /// Seat does not exist (added 1.2.3).
    SEAT_NOT_FOUND = "SEAT_NOT_FOUND", "座位信息不存在";
    /// The schedule has no information for this channel (added 1.2.3).
    CINEMA_CHANNEL_NOT_FOUND = "CINEMA_CHANNEL_NOT_FOUND", "场次没有该渠道信息";
    /// Invalid schedule (also the first seat-lock code, §9.2.2).
    SCHEDULE_NOT_FOUND = "SCHEDULE_NOT_FOUND", "场次信息无效";
    /// The schedule has changed (`scheduleKey` stale).
    SCHEDULE_HAS_CHANGED = "SCHEDULE_HAS_CHANGED", "场次信息已经变化";
    /// System busy, try again later.
    REQUEST_BUSY_ERROR = "REQUEST_BUSY_ERROR", "系统繁忙，请稍后再试";
    /// An idempotency key that already succeeded was reused with different parameters.
    REQUEST_PARAM_INCONFORMITY_ERROR = "REQUEST_PARAM_INCONFORMITY_ERROR", "相同请求的参数不一致";
    /// The cinema's business capacity has reached its limit (added 1.2.20).
    CINEMA_RATE_LIMIT_EXCEEDED = "CINEMA_RATE_LIMIT_EXCEEDED", "影院业务处理能力达到上限";

    // ---- §9.2.2 seat-lock codes (锁座返回码) ----
    /// Schedule not sellable: the open-for-sale date has not been reached.
    SCHEDULE_OUT_DATE_ERROR = "SCHEDULE_OUT_DATE_ERROR", "场次禁售（开放售票日期未满足设定）";
    /// Schedule sales stopped.
    SCHEDULE_NOT_OPEN = "SCHEDULE_NOT_OPEN", "场次已禁售";
    /// Lock time beyond the configured date.
    LOCK_SEAT_OUT_DATE = "LOCK_SEAT_OUT_DATE", "锁座时间超出设定日期";
    /// Seat invalid or already locked.
    LOCK_SEAT_ERROR = "LOCK_SEAT_ERROR", "座位无效或已被锁定";
    /// The cinema's show number does not match.
    SHOW_REF_SEQ_NO_UNMATCH = "SHOW_REF_SEQ_NO_UNMATCH", "影院场次号不匹配";
    /// Lock record does not match.
    LOCKSEAT_UNMATCH = "LOCKSEAT_UNMATCH", "锁座记录不符";
    /// Unlocking seats failed (added 1.2.1).
    UN_LOCK_SEAT_UNSUCCESS = "UN_LOCK_SEAT_UNSUCCESS", "解锁座位失败";

    // ---- §9.2.3 order codes (下单返回码) ----
    /// Exceeds the maximum number of bookable days.
    OVER_BOOKING_DAY = "OVER_BOOKING_DAY", "超过可订购的最大天数";
    /// Exceeds the maximum tickets per transaction.
    OVER_MAX_TICKET = "OVER_MAX_TICKET", "超过每笔交易的最大订购票数";
    /// The order's seat count differs from the locked seat count.
    SEAT_COUNT_ERROR = "SEAT_COUNT_ERROR", "座位数量不符";
    /// Incorrect payment amount.
    PAYMENT_AMOUNT_ERROR = "PAYMENT_AMOUNT_ERROR", "支付金额不正确";
    /// Ticket price below the film's lowest price.
    LOW_THAN_LEAST_PRICE_ERROR = "LOW_THAN_LEAST_PRICE_ERROR", "影票价格低于最低票价";
    /// Ticket price below the settle price (the caller may hold a stale schedule).
    LOW_THAN_SETTLE_PRICE_ERROR = "LOW_THAN_SETTLE_PRICE_ERROR", "影票价格低于结算价";
    /// Ticket price must not be zero.
    TICKET_PRICE_ERROR = "TICKET_PRICE_ERROR", "影票价格不能为零";
    /// Ticket fee error.
    TICKET_FEE_ERROR = "TICKET_FEE_ERROR", "影票手续费错误";
    /// Ticket price does not match the cinema market price.
    CHANNEL_PRICE_ERROR = "CHANNEL_PRICE_ERROR", "影票价格与影院市场价不符";
    /// Seat count differs from the order quantity; the lock may have expired.
    ORDER_SEAT_ERROR = "ORDER_SEAT_ERROR", "座位数量与订单数量不一致,可能是超过锁定座位时间,座位已自动释放";
    /// The cinema's dongle is not plugged in; cannot sell.
    NO_USB_ERROR = "NO_USB_ERROR", "影院没插加密狗不能销售";
    /// Lock unsuccessful; retry or lock again (added 1.2.1).
    LOCK_SEAT_UNSUCCESS = "LOCK_SEAT_UNSUCCESS", "锁座不成功";
    /// Sales closed before the show (added 1.2.1).
    ORDER_TICKET_TIME_END = "ORDER_TICKET_TIME_END", "放映前售票时间结束";
    /// Order being processed, retry later.
    ORDER_PROCESSING = "ORDER_PROCESSING", "订单正在处理中,请稍后重试";
    /// Cinema order execution timed out; seats released (added 1.2.1).
    ORDER_PROCESS_TIME_OUT = "ORDER_PROCESS_TIME_OUT", "影院订单执行超时,座位已自动释放";
    /// Incorrect payment method (added 1.2.6).
    PAYMENT_METHOD_ERROR = "PAYMENT_METHOD_ERROR", "支付方式不正确";
    /// Stored-value (settlement) account payment failed (also §9.2.7).
    SETTLEACCOUNT_PAY_FAIL = "SETTLEACCOUNT_PAY_FAIL", "储值账户支付失败";
    /// Ticket order / refund / reversal APIs closed (also §9.2.4, §9.2.10).
    TICKET_ORDER_CLOSE_ERROR = "TICKET_ORDER_CLOSE_ERROR", "影票类订单下单退单冲正单接口关闭,请联系影城管理人员";
    /// Goods order API (and refund/reversal) closed (also §9.2.4, §9.2.7,
    /// §9.2.8, §9.2.10).
    ///
    /// The original prints ASCII `(退单冲正单)` in §9.2.3 and §9.2.4 but
    /// full-width `（退单冲正单）` in §9.2.7, §9.2.8 and §9.2.10; the
    /// full-width form (majority, and the catalogue's) is used.
    GOODS_ORDER_CLOSE_ERROR = "GOODS_ORDER_CLOSE_ERROR", "卖品确认订单接口（退单冲正单）关闭,请联系影城管理人员";

    // ---- §9.2.4 refund codes (退单返回码) ----
    /// No refund policy.
    REFUND_POLICY_NOT_FOUND = "REFUND_POLICY_NOT_FOUND", "退票政策不存在";
    /// Refund policy expired.
    REFUND_POLICY_HAS_EXPIRE = "REFUND_POLICY_HAS_EXPIRE", "退票政策已过期";
    /// Refund conditions not met.
    CANCEL_ORDER_CONDITION_ERROR = "CANCEL_ORDER_CONDITION_ERROR", "退票条件不符合";
    /// Refund time error (also printed in the goods-order table, §9.2.7).
    CANCEL_TIME_ERROR = "CANCEL_TIME_ERROR", "退票时间错误";
    /// Order already refunded.
    TICKET_HAS_REFUND = "TICKET_HAS_REFUND", "该订单已退票完毕,不能再退票";
    /// Tickets already printed; cannot refund.
    TICKET_HAS_PRINT = "TICKET_HAS_PRINT", "该订单已打票完毕,不能再退票";
    /// Refund count limit exceeded (`refundLimitCount`).
    OVER_REFUND_UPPER_LIMIT = "OVER_REFUND_UPPER_LIMIT", "超过退票次数上限";
    /// Not in a refundable state.
    REFUND_TICKET_STATUS_INCORRECT = "REFUND_TICKET_STATUS_INCORRECT", "非可退票状态";
    /// Order type does not match the actual order type (added 1.2.3).
    REFUND_ORDER_TYPE_NOT_MATCH = "REFUND_ORDER_TYPE_NOT_MATCH", "订单类型和实际订单类型无法匹配";

    // ---- §9.2.5 print codes (订票/打票返回码) and §9.2.6 print-status codes ----
    /// Ticket already printed, cannot print again (§9.2.5 and §9.2.6).
    ///
    /// The table message is used; the printTicket response example instead
    /// shows `bizMsg` "影票已经设置打印，无法重复打印".
    PRINT_TICKET_NOT_ALLOW = "PRINT_TICKET_NOT_ALLOW", "影票已打印,无法重复打印";
    /// Wrong ticket-collection number (§9.2.5, §9.2.6, §9.2.11).
    CONFIRMATIONID_WRONG = "CONFIRMATIONID_WRONG", "取票号错误";
    /// Ticket printable (print-status query result, §9.2.6).
    PRINT_TICKET_ALLOW = "PRINT_TICKET_ALLOW", "影票可打印";

    // ---- §9.2.7 goods order codes (卖品下单返回码) ----
    /// Goods order total failed validation.
    GOODS_AMOUNT_ERROR = "GOODS_AMOUNT_ERROR", "卖品订单总价校验失败";
    /// Goods order unsuccessful.
    GOODS_ORDER_FAILED = "GOODS_ORDER_FAILED", "卖品订单不成功";
    /// Goods unit price or quantity empty.
    GOODS_PRICE_ERROR = "GOODS_PRICE_ERROR", "卖品单价或购买数量为空";
    /// Goods price lower than the sale price.
    GOODS_PRICE_LESS = "GOODS_PRICE_LESS", "卖品价钱小于销售价";
    /// Goods do not exist.
    GOODS_NOT_FOUND = "GOODS_NOT_FOUND", "卖品不存在";
    /// The channel may not buy goods.
    CHANNEL_NOT_ALLOW_BUY = "CHANNEL_NOT_ALLOW_BUY", "该渠道不允许购买卖品";
    /// Goods fee below 0 (message printed with a space before `0`).
    GOODS_FEE_ERROR = "GOODS_FEE_ERROR", "卖品手续费小于 0";
    /// Package has no components.
    GOODS_PACKAGE_EMPTY = "GOODS_PACKAGE_EMPTY", "卖品套餐材料为空";
    /// The order contains disabled goods or goods no longer sold to the channel (added 1.2.13).
    GOODS_DISABLED_OR_END_SALE = "GOODS_DISABLED_OR_END_SALE", "所购卖品中包含不可用卖品或已对渠道停售的卖品";

    // ---- §9.2.8 goods refund codes (退卖品返回码) ----
    /// Goods refund failed.
    GOODS_REFUND_FAILED = "GOODS_REFUND_FAILED", "退货失败";

    // ---- §9.2.9 member-card codes (会员卡返回码) ----
    /// A count-card recharge must be an integer multiple of the minimum recharge amount.
    TIME_CARD_CHARGE_ERROR = "TIME_CARD_CHARGE_ERROR", "次数卡的充值金额必须是最少充值金额的整数倍";
    /// Member card does not exist.
    CARD_NOT_EXIST_ERROR = "CARD_NOT_EXIST_ERROR", "会员卡不存在";
    /// Wrong member-card password (also for a failed password decryption, G-AES-2).
    CARD_PASSWORD_ERROR = "CARD_PASSWORD_ERROR", "会员卡密码错误";
    /// Member card unusable.
    CARD_NOT_USE_ERROR = "CARD_NOT_USE_ERROR", "会员卡不可用";
    /// Wrong old password.
    CARD_OLD_PASSWORD_ERROR = "CARD_OLD_PASSWORD_ERROR", "旧密码错误";
    /// Card type cannot be recharged.
    CARD_TYPE_NOADD_ERROR = "CARD_TYPE_NOADD_ERROR", "卡类型不支持充值";
    /// Card grade does not exist.
    CARD_GRADE_NOT_EXIST_ERROR = "CARD_GRADE_NOT_EXIST_ERROR", "卡等级不存在";
    /// No member cards on sale for this cinema or grade.
    CARD_NO_PRECARD_ERROR = "CARD_NO_PRECARD_ERROR", "该影城或等级没有在售会员卡";
    /// Wrong production fee or membership fee at registration.
    CARD_REGISTER_FEE_ERROR = "CARD_REGISTER_FEE_ERROR", "注册会员卡时，传入的工本费、会费不正确";

    // ---- §9.2.10 reversal codes (冲正返回码) ----
    /// Order type mismatch (ticket-only and mixed orders have separate reversal APIs).
    REVERSE_ORDER_TYPE_UNMATCH = "REVERSE_ORDER_TYPE_UNMATCH", "订单类型不匹配";
    /// Not in a reversible state (only orders awaiting response may be reversed).
    REVERSE_TICKET_STATUS_INCORRECT = "REVERSE_TICKET_STATUS_INCORRECT", "非可冲正状态";
    /// Reversal failed; may be retried.
    REVERSE_TICKET_FAILED = "REVERSE_TICKET_FAILED", "冲正失败";
    /// Too early to reverse this order.
    REVERSE_TICKET_NO_TIME_YET = "REVERSE_TICKET_NO_TIME_YET", "当前订单还未到可冲正时间";

    // ---- §9.2.12 co-branded card codes (联名卡返回码) ----
    /// Co-branded card does not exist.
    BCARD_NOT_EXIST = "BCARD_NOT_EXIST", "联名卡不存在";
    /// Co-branded card disabled.
    BCARD_DISABLED = "BCARD_DISABLED", "联名卡已经被停用";
    /// Co-branded card expired.
    BCARD_EXPIRED = "BCARD_EXPIRED", "此联名卡已过期";
    /// Co-branded card policy does not exist.
    BCARD_POLICY_NOT_EXIST = "BCARD_POLICY_NOT_EXIST", "联名卡政策不存在";
    /// Co-branded card order does not exist.
    BCARD_ORDER_NOT_EXIST = "BCARD_ORDER_NOT_EXIST", "联名卡订单不存在";
    /// Co-branded card policy expired.
    BCARD_POLICY_EXPIRED = "BCARD_POLICY_EXPIRED", "此联名卡政策已经过期";
    /// Co-branded card policy disabled.
    BCARD_POLICY_DISABLED = "BCARD_POLICY_DISABLED", "联名卡政策已经被停用";
    /// Invalid mobile format. The same code is printed a second time with
    /// another meaning; see [`BCARD_MOBILE_NOT_MATCH`].
    BCARD_MOBILE_INVALID = "BCARD_MOBILE_INVALID", "手机号码格式不正确";
    /// Mobile number already in use.
    BCARD_MOBILE_EXIST = "BCARD_MOBILE_EXIST", "手机号码已被占用";
    /// Wrong registration fee.
    BCARD_REGISTER_FEE_INVALID = "BCARD_REGISTER_FEE_INVALID", "注册联名卡费用不正确";
    /// The card may not be renewed.
    BCARD_NOT_ALLOW_RENEW = "BCARD_NOT_ALLOW_RENEW", "该卡不允许续费";
    /// Renewal fee validation failed.
    BCARD_RENEW_FEE_INVALID = "BCARD_RENEW_FEE_INVALID", "续费费用验证失败";

    // ---- §9.2.13 co-branded card order codes (联名卡订单返回码) ----
    /// The order must request more than 0 benefit tickets to use this benefit.
    BCARD_TICKET_COUNT_ZERO_ERROR = "BCARD_TICKET_COUNT_ZERO_ERROR", "订单申请权益票数必须大于 0 才能使用此权益";
    /// Requested benefit tickets exceed the allowed limit.
    BCARD_TICKET_OVER_LIMIT = "BCARD_TICKET_OVER_LIMIT", "订单申请权益票数已超过限制使用次数";
    /// This card's benefit does not apply to this schedule.
    BCARD_SCHEDULE_NOT_MATCH = "BCARD_SCHEDULE_NOT_MATCH", "此卡权益优惠不适用于此场次";
    /// Policy not approved; cannot order with this card.
    BCARD_POLICY_NOT_APPROVED = "BCARD_POLICY_NOT_APPROVED", "此政策未审核通过，不能进行联名卡下单操作";

    // ---- codes known only from the changelog (1.2.19) and the 5.3/5.5 notes ----
    // The document prints no message for these three codes; the messages are
    // the catalogue's English descriptions (spec §9.2.3), not vendor text.
    /// Ticket price validation failed (changelog 1.2.19 only; message from the catalogue).
    TICKET_PRICE_VALID_ERROR = "TICKET_PRICE_VALID_ERROR", "Ticket price validation failed";
    /// Area seat priced below the area settle price (changelog 1.2.19 only; message from the catalogue).
    AREA_SEAT_LOW_THAN_AREA_SETTLE_PRICE_ERROR = "AREA_SEAT_LOW_THAN_AREA_SETTLE_PRICE_ERROR", "Area seat priced below the area settle price";
    /// An area-priced seat cannot use the co-branded-card benefit (changelog
    /// 1.2.19 and 5.3/5.5 notes; message from the catalogue).
    AREA_SEAT_NOT_SUPPORT_BENEFIT = "AREA_SEAT_NOT_SUPPORT_BENEFIT", "An area-priced seat cannot use the co-branded-card benefit";
}

/// `BCARD_MOBILE_INVALID` with its second printed meaning: the mobile number
/// does not match the card number (§9.2.12, G-BC-3). Not part of [`ALL_BIZ`];
/// [`biz`] returns [`BCARD_MOBILE_INVALID`] for this code.
pub const BCARD_MOBILE_NOT_MATCH: BizCode = BizCode {
    code: "BCARD_MOBILE_INVALID",
    msg: "手机号码跟卡号不匹配",
};

/// Looks up a system return code by its `retCode` string.
pub fn sys(code: &str) -> Option<SysCode> {
    ALL_SYS.iter().copied().find(|c| c.code == code)
}

/// Looks up a business return code by its `bizCode` string (case-sensitive).
pub fn biz(code: &str) -> Option<BizCode> {
    ALL_BIZ.iter().copied().find(|c| c.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique() {
        let mut seen = HashSet::new();
        for c in ALL_SYS {
            assert!(seen.insert(c.code), "duplicate retCode {}", c.code);
        }
        let mut seen = HashSet::new();
        for c in ALL_BIZ {
            assert!(seen.insert(c.code), "duplicate bizCode {}", c.code);
        }
    }

    #[test]
    fn counts_match_catalogue() {
        // §9.3: 12 system codes; 109 distinct table codes + 3 changelog-only = 112.
        assert_eq!(ALL_SYS.len(), 12);
        assert_eq!(ALL_BIZ.len(), 112);
    }

    #[test]
    fn codes_are_well_formed() {
        for c in ALL_SYS {
            assert!(!c.code.is_empty() && c.code.bytes().all(|b| b.is_ascii_digit()));
            assert!(!c.msg.is_empty());
        }
        for c in ALL_BIZ {
            assert!(c.code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'));
            assert!(!c.msg.is_empty());
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(sys("0"), Some(SYS_SUCCESS));
        assert_eq!(sys("30003"), Some(INVALID_SIGN));
        assert_eq!(sys("30004").map(|c| c.msg), Some("time expired"));
        assert_eq!(sys("40003"), Some(CINEMA_CAPACITY_EXCEEDED));
        assert_eq!(sys("99999"), None);
        assert_eq!(sys(""), None);

        assert_eq!(biz("SUCCESS"), Some(BIZ_SUCCESS));
        assert_eq!(biz("SUCCESS").map(|c| c.msg), Some("操作成功"));
        assert_eq!(
            biz("REQUEST_PARAM_INCONFORMITY_ERROR").map(|c| c.msg),
            Some("相同请求的参数不一致")
        );
        assert_eq!(
            biz("PAYMENT_METHOD_ERROR").map(|c| c.msg),
            Some("支付方式不正确")
        );
        assert_eq!(biz("BCARD_MOBILE_INVALID"), Some(BCARD_MOBILE_INVALID));
        assert_eq!(biz("success"), None);
        assert_eq!(biz("NOPE"), None);
    }

    #[test]
    fn success_predicates() {
        assert!(SYS_SUCCESS.is_success());
        assert!(!INVALID_SIGN.is_success());
        assert!(BIZ_SUCCESS.is_success());
        assert!(!LOCK_SEAT_ERROR.is_success());
    }

    #[test]
    fn duplicate_meaning_shares_code() {
        assert_eq!(BCARD_MOBILE_NOT_MATCH.code, BCARD_MOBILE_INVALID.code);
        assert_ne!(BCARD_MOBILE_NOT_MATCH.msg, BCARD_MOBILE_INVALID.msg);
        assert!(!ALL_BIZ.contains(&BCARD_MOBILE_NOT_MATCH));
    }
}
