//! Every `retmsg` text this front end sends, verbatim from the document (catalogue §4), plus the
//! few the document lacks (marked "ours", listed in `docs/protocols/youbaoxing.md`).

/// `-1`: missing or wrong user/password.
pub const BAD_CREDENTIALS: &str = "用户名、密码 或 密钥 不正确；";
/// `-1`: unknown or disabled internet account.
pub const NO_ACCOUNT: &str = "没有这个互联网账户或者互联网账户被禁用；";
/// `-1`: wrong signature.
pub const BAD_SIGN: &str = "签名不正确，不能完成操作；";
/// `-1901` (most pages).
pub const PARAM_ERROR_DOT: &str = "参数错误。";
/// `-1901` (GetProviderConfig, GetTimeSegment), `-1501` (OrderProducts).
pub const PARAM_ERROR: &str = "参数错误";
/// `-2201` (most pages).
pub const USER_UNKNOWN_DOT: &str = "当前用户不存在。";
/// `-2201` (GetProviderConfig, GetTimeSegment).
pub const USER_UNKNOWN_COMMA: &str = "当前用户不存在，";
/// `-2202` (most pages).
pub const ACCOUNT_DISABLED_DOT: &str = "当前账户已禁用。";
/// `-2202` (SetAgentParameters).
pub const USER_DISABLED_DOT: &str = "当前用户已禁用。";
/// `-2202` (GetProviderConfig, GetTimeSegment).
pub const ACCOUNT_DISABLED: &str = "当前账户已禁用";
/// `-1` prefix of internal failures.
pub const CALL_FAILED: &str = "调用失败，失败原因：";
/// Ours: what follows [`CALL_FAILED`] when the database failed (no details leave the server).
pub const STORAGE_FAILED: &str = "数据访问失败，请稍后重试；";
/// `-1`: other error.
pub const OTHER_ERROR: &str = "其他错误。";
/// `-1`: a theatre supplier asked a scenic page.
pub const THEATER_MODE: &str = "系统工作模式为 THEATER_MODE，不支持此项操作...";
/// Ours: `-1` for an encrypted field that does not decrypt.
pub const UNDECRYPTABLE: &str = "参数解密失败";
/// Ours: `-1` for a parameter holding a character XML 1.0 cannot carry, on pages whose tables
/// list no parameter error (the documented `调用失败，失败原因：ex；` form).
pub const BAD_CHARACTER: &str = "调用失败，失败原因：参数中含有不允许的字符；";
/// `-1`: the same on GetProductsInventory (its documented `创建访问参数失败。错误:ex。` form).
pub const BAD_CHARACTER_ACCESS: &str = "创建访问参数失败。错误:参数中含有不允许的字符。";
/// `-1`: the same on ActivateTicket (its documented `验证参数失败：……。` form).
pub const BAD_CHARACTER_ACTIVATE: &str = "验证参数失败：参数中含有不允许的字符。";
/// `-1`: QueryPruductStatus.
pub const SUSPENDED: &str = "调用失败，失败原因：此接口已暂停使用。";

/// `-1`: GetProducts / GetProductsInventory / GetServiceItem with nothing to list.
pub const NO_PRODUCTS: &str = "没有获取到相关的产品列表。";
/// `-1`: GetProductsInventory span.
pub const INVENTORY_SPAN: &str = "传入日期参数错误，仅允许一次性查询7天内的库存数据。";
/// `-1`: GetProductsInventory start after end.
pub const INVENTORY_ORDER: &str = "起始日期不能在截止日期之后，请重新选择查询的日期时间。";
/// `-1`: GetProductsInventory date format.
pub const INVENTORY_FORMAT: &str = "传入的日期格式错误，请核查。";
/// `-2` (v3 convention): no permit / empty intersection.
pub const V3_NO_PERMIT: &str = "当前账户没有门票代理许可或没有当前门票代理许可(当前供应商的可售门票列表为空或者可售门票列表与参数中指定的门票类型没有交集)。";
/// `-3` (v3 convention): span.
pub const V3_SPAN: &str = "参数错误，当前参数中起始日期与截止日期相隔超过7个日历日。";
/// `-4` (v3 convention): start after end.
pub const V3_ORDER: &str = "参数错误，当前参数中起始日期 大于 截止日期";
/// `-2341`: GetProviderConfig without supplier settings.
pub const PROVIDER_CONFIG_MISSING: &str =
    "系统内供应商（T_JQ）设置不正确：不存在设置数据或存在多个冲突的设置。";
/// `-2342`: GetProviderConfig with a bad activation setting.
pub const PROVIDER_ACTIVATION_BAD: &str = "系统内有关是否允许激活的参数设置错误。";
/// `-2351`: GetTimeSegment span.
pub const SEGMENT_SPAN: &str = "一次检索的时段数据不能超过7个日历日。";
/// `-2352`: GetTimeSegment with nothing to list.
pub const SEGMENT_NONE: &str = "没有检索到符合条件的时段数据。";

/// `-1`: empty Order_list.
pub const ORDER_LIST_EMPTY: &str = "没有设置产品列表项，请先设置......";
/// `-1`: Order_list not in id|qty pairs (or a product twice).
pub const ORDER_LIST_PAIRS: &str = "产品ID应与数量一一对应，请检查......";
/// `-1`: unknown product.
pub const PRODUCT_UNKNOWN: &str = "没有获取到产品信息，不能完成订单的提交。";
/// `-1`: product not authorized for the agent.
pub const PRODUCT_NOT_ALLOWED: &str = "该门票类型ID不在预定范围内，预定单明细数据创建失败，请检查您的产品ID是否正确或联系景区并重试！";
/// `-1`: one product per order.
pub const SINGLE_PRODUCT: &str = "暂时一个订单只支持一个门票种类，请检查......";
/// `-1`: visit date before today.
pub const DATE_PAST: &str = "解析实名用户数据失败。门票预售的日期在生效日期之后。";
/// `-1`: visit date inside the lead days.
pub const DATE_TOO_SOON: &str = "解析实名用户数据失败。已超过当前门票预售时间。";
/// `-1`: visit date outside the product's window.
pub const DATE_OUTSIDE: &str = "解析实名用户数据失败。门票预售的日期不在指定时间范围内。";
/// `-1`: Memo count ≠ IDCount.
pub const MEMO_COUNT: &str = "解析实名用户数据失败。登记的实名票中票数与人数不一致。";
/// `-1`: more Memo entries than units of a product.
pub const MEMO_TOO_MANY: &str =
    "解析实名用户数据失败。存在登记的实名票中票数超过了对应的票数的票种。";
/// `-1`: real-name product without entries.
pub const MEMO_MISSING: &str = "解析实名用户数据失败。要求实名制的票，没有给出相应的实名信息。";
/// `-1`: duplicate ID numbers in Memo.
pub const MEMO_DUPLICATE: &str = "身份证号码出现了重复，请检查输入的用户信息。";
/// Ours: `-1` for a missing or unusable time segment.
pub const SEGMENT_MISSING: &str = "时段不存在或不可用，预定失败。";
/// Ours: `-1` for a full time segment.
pub const SEGMENT_FULL: &str = "时段余量不足，预定失败。";
/// `-1502`.
pub const DAILY_MAX_UNSET: &str = "门票类型中单日最大许可未设置";
/// `-10361`.
pub const DAILY_LIMIT: &str = "已达到或接近最大单日预定限制，";
/// `-10362` (OrderProducts).
pub const AGENT_DAILY_LIMIT: &str = "已达到或接近当前客户单位最大单日预定限制，预定失败";
/// `-10362` (OrderAndPayWithYDJ / FK).
pub const AGENT_DAILY_LIMIT_PAY: &str =
    "已达到或接近最大单日预定限制，预定失败；已达到或接近当前客户单位最大单日预定限制，预定失败。";
/// `-1` prefix of save failures.
pub const SAVE_FAILED: &str = "保存预定单信息失败，失败原因：";

/// `-1901` of the payment part of OrderAndPayWithYDJ / FK.
pub const PAY_PARAM: &str = "参数错误。";
/// `-2094`.
pub const DEPOSIT_NOT_ALLOWED: &str = "当前客户不能使用预定金支付.";
/// `-2194`.
pub const REBATE_NOT_ALLOWED: &str = "当前客户不能使用返款余额支付授权。";
/// `-2096` / `-2196`.
pub const WRONG_AMOUNT: &str = "指定的订单金额不正确。";
/// `-2097`.
pub const DEPOSIT_SHORT: &str = "预订金余额不足以完成授权。";
/// `-2197`.
pub const REBATE_SHORT: &str = "返款余额不足以完成授权。";
/// `-2098`.
pub const PAY_PASSWORD_WRONG: &str = "支付密码错误。";
/// `-2099`.
pub const PAY_PASSWORD_UNSET: &str = "当前用户尚未设置支付密码。";

/// `0` of CancelOrder.
pub const CANCELLED: &str = "操作成功";
/// `-1`: CancelOrder without an order number.
pub const CANCEL_NO_ORDER: &str = "订单号不能为空，请检查输入";
/// `-2361`.
pub const CANCEL_UNKNOWN: &str = "核算互联网订单违约手续费错误：订单不存在。";
/// `-2362`.
pub const CANCEL_STATE_CHANGED: &str = "核算互联网订单违约手续费错误：订单状态错误。";
/// `-2364` (deposit).
pub const CANCEL_FEE_DEPOSIT: &str = "从客户预订金账户扣除互联网违约手续费失败。";
/// `-2364` (rebate).
pub const CANCEL_FEE_REBATE: &str = "从客户返款账户扣除互联网违约手续费失败。";

/// `-2002`: QueryOrder.
pub const ORDER_NOT_FOUND: &str = "没有找到对应的订单或订单不属于当前用户。";
/// `-1`: QueryOrdersList with an empty page.
pub const LIST_EMPTY: &str = "没有获取到相关产品的定单信息。";
/// `-1`: QueryOrderPageListCount with no records.
pub const COUNT_EMPTY: &str = "没有获取到相关产品的定单列表页数信息。";
/// `-1`: V3 14-digit dates.
pub const OLD_VERSION: &str = "调用失败，失败原因：此版本已暂停使用，请使用新版本进行门票预订操作!";
/// `-1`: GetProductsIdentity without an order number.
pub const IDENTITY_NO_ORDER: &str = "单号不能为空......";
/// `-1`: GetProductsIdentity for an unknown order.
pub const IDENTITY_UNKNOWN: &str = "指定的预约单不存在。";

/// `-1`: `取票证件号码:"<id>"有错误:<reason>`.
pub fn bad_pickup_id(id: &str, reason: &str) -> String {
    format!("取票证件号码:\"{id}\"有错误:{reason}")
}

/// `-1`: an identity number already on a live order.
pub fn id_taken(id: &str) -> String {
    format!("该证件号码 \"{id} \" 在有效预订单中只允许预定一次。")
}

/// `-2381`: the order's state does not allow cancelling.
pub fn cancel_state(code: &str) -> String {
    format!("当前订单状态为{code}，不支持直接撤消订单。")
}
