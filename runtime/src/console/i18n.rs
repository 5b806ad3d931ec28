/*!
Console languages: a zh-CN (default) and English message catalog, the choice of language per
request (`?lang=` beats the `lang` cookie beats the default), and times rendered in
Asia/Shanghai.

Why a static catalog instead of gettext files: the console has a few hundred short strings, both
languages ship in the binary, and a unit test proves every key the templates use exists in both
languages, so a missing translation fails CI instead of showing a raw key to an operator.

Times are stored as UTC epoch milliseconds; China has had no DST since 1991, so Asia/Shanghai is
the fixed offset +08:00 and no tz database is needed.
*/

use crate::model::time::local;

/// A console language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Lang {
    /// 简体中文, the default.
    #[default]
    #[serde(rename = "zh-CN")]
    Zh,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// Parses a tag as sent by a link or cookie ("zh-CN", "zh", "en", "en-US" …).
    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag == "zh" || tag.starts_with("zh-") || tag.starts_with("zh_") {
            Some(Lang::Zh)
        } else if tag == "en" || tag.starts_with("en-") || tag.starts_with("en_") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The BCP 47 tag for `<html lang>` and the cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Picks the language: an explicit `?lang=` first, then the `lang` cookie, then zh-CN.
    pub fn choose(query: Option<&str>, cookie: Option<&str>) -> Lang {
        query
            .and_then(Lang::parse)
            .or_else(|| cookie.and_then(Lang::parse))
            .unwrap_or_default()
    }

    /// Looks a message up; an unknown key returns the key itself (and the catalog test makes
    /// sure templates never use one).
    pub fn t(self, key: &str) -> &str {
        match CATALOG.binary_search_by(|(k, _, _)| k.cmp(&key)) {
            Ok(i) => match self {
                Lang::Zh => CATALOG[i].1,
                Lang::En => CATALOG[i].2,
            },
            Err(_) => key,
        }
    }

    /// Picks the Chinese or English variant of a name stored in both (e.g. categories).
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::En if !en.is_empty() => en,
            _ => zh,
        }
    }
}

/// True when `key` is in the catalog.
pub fn has_key(key: &str) -> bool {
    CATALOG.binary_search_by(|(k, _, _)| k.cmp(&key)).is_ok()
}

/// True when some key starts with `prefix` (for keys templates build, e.g. `"status." ~ s`).
pub fn has_prefix(prefix: &str) -> bool {
    CATALOG.iter().any(|(k, _, _)| k.starts_with(prefix))
}

/// "2026-11-29 17:03" in Asia/Shanghai.
pub fn format_time(ms: i64) -> String {
    local(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// "11-29" in Asia/Shanghai, for chart axes.
pub fn format_day(ms: i64) -> String {
    local(ms)
        .map(|t| t.format("%m-%d").to_string())
        .unwrap_or_default()
}

/// Milliseconds at the start of the Shanghai calendar day containing `ms`.
pub fn day_start(ms: i64) -> i64 {
    const DAY: i64 = 86_400_000;
    const OFFSET: i64 = 8 * 3_600_000;
    (ms + OFFSET).div_euclid(DAY) * DAY - OFFSET
}

/// A deadline as time left ("剩余 2小时5分" / "2 h 5 min left") or overdue ("超时 40分" /
/// "40 min overdue"). Returns the text and whether the deadline has passed.
pub fn time_left(lang: Lang, due_ms: i64, now_ms: i64) -> (String, bool) {
    let overdue = now_ms > due_ms;
    let mins = ((due_ms - now_ms).abs() + 59_999) / 60_000;
    let (d, h, m) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    let span = match lang {
        Lang::Zh => {
            let mut s = String::new();
            if d > 0 {
                s.push_str(&format!("{d}天"));
            }
            if h > 0 {
                s.push_str(&format!("{h}小时"));
            }
            if d == 0 && (m > 0 || s.is_empty()) {
                s.push_str(&format!("{m}分"));
            }
            s
        }
        Lang::En => {
            let mut parts = Vec::new();
            if d > 0 {
                parts.push(format!("{d} d"));
            }
            if h > 0 {
                parts.push(format!("{h} h"));
            }
            if d == 0 && (m > 0 || parts.is_empty()) {
                parts.push(format!("{m} min"));
            }
            parts.join(" ")
        }
    };
    let text = match (lang, overdue) {
        (Lang::Zh, false) => format!("剩余 {span}"),
        (Lang::Zh, true) => format!("超时 {span}"),
        (Lang::En, false) => format!("{span} left"),
        (Lang::En, true) => format!("{span} overdue"),
    };
    (text, overdue)
}

/// (key, zh-CN, English), sorted by key (a test checks the order for binary search).
static CATALOG: &[(&str, &str, &str)] = &[
    (
        "action.answer",
        "当场答复并办结",
        "Answer on the call and close",
    ),
    ("action.answered", "当场答复", "Answered on the call"),
    ("action.close", "办结", "Close"),
    ("action.deny_extension", "驳回延期", "Deny extension"),
    ("action.dispatch", "派单", "Dispatch"),
    ("action.escalated", "逐级督办", "Escalated"),
    ("action.extension_denied", "延期被驳回", "Extension denied"),
    (
        "action.extension_granted",
        "延期已批准",
        "Extension granted",
    ),
    (
        "action.extension_requested",
        "申请延期",
        "Extension requested",
    ),
    ("action.follow_up", "回访", "Follow up"),
    ("action.grant_extension", "批准延期", "Grant extension"),
    (
        "action.handoff_overdue",
        "转警超时未确认",
        "Hand-off not acknowledged in time",
    ),
    ("action.overdue_close", "办结超时", "Closing overdue"),
    ("action.overdue_sign", "签收超时", "Signing overdue"),
    ("action.police_ack", "确认接警", "Acknowledged by the line"),
    (
        "action.police_acknowledged",
        "已确认接警",
        "Acknowledged by the line",
    ),
    (
        "action.police_return",
        "转警退回",
        "Handed back by the line",
    ),
    ("action.redispatch", "改派", "Re-dispatch"),
    ("action.redispatched", "改派", "Re-dispatched"),
    (
        "action.redo",
        "回访不满意，重办",
        "Unsatisfied follow-up: redo",
    ),
    ("action.reopen", "重新打开", "Reopen"),
    ("action.reopened", "重新打开", "Reopened"),
    ("action.reply", "反馈", "Reply"),
    ("action.request_extension", "申请延期", "Request extension"),
    (
        "action.rerouted",
        "改派（单位调整）",
        "Re-routed (unit changed)",
    ),
    ("action.return", "退单", "Return"),
    ("action.sign", "签收", "Sign"),
    (
        "action.sms_received",
        "市民短信补充",
        "Text from the citizen",
    ),
    ("action.start", "开始办理", "Start work"),
    ("action.supervise", "督办", "Supervise"),
    ("action.supervised", "督办", "Supervised"),
    ("action.transfer_police", "转警", "Transfer to police"),
    ("action.urge", "催办", "Urge the unit"),
    ("action.urged", "催办", "Urged"),
    ("app.name", "民生110服务中心", "Minsheng 110 Service Center"),
    ("app.short", "民生110", "Minsheng 110"),
    ("audit.action", "操作", "Action"),
    ("audit.actor", "操作人", "Actor"),
    ("audit.detail", "详情", "Detail"),
    ("audit.more", "更早的记录", "Older entries"),
    ("audit.target", "对象", "Target"),
    ("audit.time", "时间", "Time"),
    ("audit.title", "审计日志", "Audit log"),
    ("call.caller_history", "来电历史", "Caller history"),
    ("call.lookup", "查询来电", "Look up caller"),
    (
        "call.new_caller",
        "新来电人，无历史记录",
        "New caller, no history",
    ),
    ("call.open_cases", "未办结诉求", "Open cases"),
    ("call.phone", "来电号码", "Caller number"),
    ("call.title", "来电受理", "Take a call"),
    ("call.vulnerable", "困难群体", "Vulnerable household"),
    ("case.actions", "可执行操作", "Available actions"),
    ("case.address", "地址", "Address"),
    ("case.caller", "来电人", "Caller"),
    ("case.caller_name", "来电人姓名", "Caller name"),
    ("case.category", "类别", "Category"),
    ("case.channel", "渠道", "Channel"),
    ("case.close_due", "办结时限", "Close by"),
    ("case.content", "诉求内容", "Request"),
    ("case.create", "创建工单", "Create case"),
    ("case.created", "受理时间", "Received"),
    ("case.details", "工单信息", "Case details"),
    ("case.extension_hours", "延期小时数", "Extra hours"),
    ("case.grid", "网格", "Grid unit"),
    ("case.id", "工单号", "Case no."),
    ("case.manual", "请人工选择分类", "Choose the category"),
    ("case.new", "新建工单", "New case"),
    (
        "case.no_actions",
        "当前状态下您无可执行操作",
        "No actions for your role in this state",
    ),
    ("case.note", "说明", "Note"),
    ("case.operator", "责任人", "Responsible"),
    ("case.phone", "联系电话", "Phone"),
    ("case.priority", "优先级", "Priority"),
    ("case.reason", "原因", "Reason"),
    ("case.satisfaction", "满意度", "Satisfaction"),
    ("case.sign_due", "签收时限", "Sign by"),
    ("case.status", "状态", "Status"),
    ("case.suggestions", "分类建议", "Suggested categories"),
    ("case.timeline", "办理过程", "Timeline"),
    ("case.unit", "承办单位", "Handling unit"),
    ("case.unlocated", "未识别地点", "Place not recognised"),
    ("channel.grid", "网格上报", "Grid worker"),
    ("channel.open311", "Open311", "Open311"),
    ("channel.phone", "电话", "Phone"),
    ("channel.sms", "短信", "SMS"),
    ("channel.web", "网站", "Web"),
    ("common.all", "全部", "All"),
    ("common.apply", "筛选", "Apply"),
    ("common.cancel", "取消", "Cancel"),
    ("common.edit", "编辑", "Edit"),
    ("common.empty", "暂无数据", "No data"),
    ("common.none", "无", "None"),
    ("common.save", "保存", "Save"),
    ("common.search", "搜索", "Search"),
    ("common.submit", "提交", "Submit"),
    ("dash.by_category", "按类别", "By category"),
    ("dash.by_township", "按乡镇/街道", "By township"),
    ("dash.closed_today", "今日办结", "Closed today"),
    ("dash.map", "网格诉求密度", "Case density by grid unit"),
    (
        "dash.map_legend",
        "每万人诉求数",
        "Cases per 10,000 residents",
    ),
    (
        "dash.map_legend_count",
        "诉求数（近30天）",
        "Cases (last 30 days)",
    ),
    ("dash.open", "在办", "Open"),
    ("dash.overdue", "超时", "Overdue"),
    ("dash.satisfaction", "满意率", "Satisfaction"),
    ("dash.title", "数据看板", "Dashboard"),
    ("dash.today", "今日受理", "Received today"),
    ("dash.trend", "近30天受理趋势", "Intake, last 30 days"),
    (
        "dash.unacknowledged",
        "{n} 起转警超过 {m} 分钟未获对方确认，请电话核实",
        "{n} hand-offs unacknowledged for over {m} minutes: call the line",
    ),
    ("dir.description", "职能/说明", "Functions / description"),
    ("dir.head_name", "户主", "Head of household"),
    ("dir.household_kind", "类型", "Type"),
    ("dir.households", "困难群体", "Vulnerable households"),
    ("dir.id_number", "身份证号", "ID number"),
    ("dir.name", "名称", "Name"),
    ("dir.providers", "市场化服务队伍", "Market providers"),
    ("dir.qualification", "资质", "Qualification"),
    ("dir.services", "政务服务", "Government services"),
    (
        "dir.social",
        "社会组织/志愿者",
        "Social organizations / volunteers",
    ),
    (
        "dir.status_field",
        "状态（active 在用 / suspended 暂停）",
        "Status (active / suspended)",
    ),
    ("dir.title", "资源目录", "Directories"),
    ("dir.units", "承办单位", "Handling units"),
    (
        "dir.welfare",
        "救助福利机构",
        "Relief and welfare facilities",
    ),
    ("emergency.confidence", "把握", "Confidence"),
    ("emergency.confirm", "确认转接", "Confirm hand-off to"),
    (
        "emergency.decide",
        "检测到疑似紧急情况：请确认转接，或说明不是紧急情况后再受理",
        "Possible emergency detected: confirm the hand-off, or say why it is not an emergency",
    ),
    ("emergency.detected", "疑似紧急情况", "Possible emergency"),
    ("emergency.evidence", "依据", "Evidence"),
    (
        "emergency.incident_number",
        "警情编号（电话转接后填写）",
        "Incident number (after transferring the call by phone)",
    ),
    ("emergency.line.110", "110 公安", "110 police"),
    ("emergency.line.119", "119 消防", "119 fire and rescue"),
    ("emergency.line.120", "120 急救", "120 ambulance"),
    ("emergency.line.122", "122 交警", "122 traffic police"),
    (
        "emergency.override",
        "不是紧急情况，按民生诉求受理",
        "Not an emergency: take it as a civic request",
    ),
    (
        "emergency.phone_hint",
        "该线路未对接系统：请先电话转接，再填写对方给出的警情编号",
        "This line has no integration: transfer the call by phone first, then enter the incident number it gives",
    ),
    (
        "emergency.reason",
        "不是紧急情况的理由（将记入审计日志）",
        "Why it is not an emergency (written to the audit log)",
    ),
    (
        "err.action_forbidden",
        "{role}不能执行“{action}”",
        "This role may not do that",
    ),
    ("err.case_not_found", "未找到工单", "Case not found"),
    (
        "err.case_not_your_unit",
        "工单 {case} 未派给您的单位",
        "The case is not assigned to your unit",
    ),
    (
        "err.category_missing",
        "工单尚无类别：派单时请选择类别",
        "The case has no category yet",
    ),
    (
        "err.channel_reserved",
        "渠道 {channel} 只能由对应入口设置",
        "Channel {channel} is set by its own front-end",
    ),
    (
        "err.conflict",
        "记录冲突：已存在或已被他人修改",
        "Conflict: the record exists or was changed",
    ),
    (
        "err.constraint",
        "数据不符合约束，请检查后重试",
        "The data breaks a constraint",
    ),
    (
        "err.content_empty",
        "诉求内容不能为空",
        "The request text is empty",
    ),
    (
        "err.control_chars",
        "{field}不能包含控制字符",
        "{field} must not contain control characters",
    ),
    (
        "err.dispatch_not_handling_unit",
        "只能派给承办单位，不能派给服务中心或公安",
        "Dispatch goes to a handling unit",
    ),
    (
        "err.emergency_decision_center_only",
        "只有服务中心人员可以确认或否定紧急情况",
        "Only center staff confirm or override the emergency stage",
    ),
    (
        "err.emergency_override_reason",
        "请说明不是紧急情况的理由（将记入审计日志）",
        "Say why this is not an emergency (the override is audited)",
    ),
    (
        "err.entry_status_invalid",
        "状态只能是 active 或 suspended",
        "Status must be active or suspended",
    ),
    (
        "err.gender_invalid",
        "性别只能是男、女或其他",
        "Gender is male, female or other",
    ),
    (
        "err.grid_channel_only",
        "网格员只能通过网格渠道上报",
        "Grid workers report on the grid channel only",
    ),
    (
        "err.grid_outside_scope",
        "网格 {code} 不在您负责的网格内",
        "That grid unit is not one of yours",
    ),
    (
        "err.grid_required",
        "网格员上报时必须注明网格",
        "Grid workers name the grid unit",
    ),
    (
        "err.head_name_required",
        "户主姓名不能为空",
        "The head of household's name is required",
    ),
    (
        "err.hours_invalid",
        "延期小时数须为 1–720 的整数",
        "Hours must be a whole number 1–720",
    ),
    (
        "err.household_kind_invalid",
        "未知的困难群体类别",
        "Unknown household kind",
    ),
    (
        "err.households_counts_only",
        "您的角色只能查看困难群体统计数",
        "Your role may only read household counts",
    ),
    (
        "err.households_denied",
        "您的角色不能访问困难群体记录",
        "Your role may not access household records",
    ),
    (
        "err.id_number_invalid",
        "身份证号码无效（18 位含校验位，或 15 位）",
        "Not a valid resident ID number",
    ),
    (
        "err.illegal_transition",
        "工单当前为“{status}”，不能执行“{action}”",
        "That action is not allowed in this status",
    ),
    (
        "err.incident_number_required",
        "{line} 未对接系统：请先电话转接，并填写对方给出的警情编号",
        "{line} has no integration: transfer the call by phone and enter the incident number it gives",
    ),
    ("err.internal", "系统内部错误", "Internal error"),
    (
        "err.lat_range",
        "纬度须在 -90 到 90 之间",
        "Latitude must be -90..90",
    ),
    (
        "err.lat_without_lon",
        "只有纬度没有经度",
        "Latitude given without longitude",
    ),
    (
        "err.lon_range",
        "经度须在 -180 到 180 之间",
        "Longitude must be -180..180",
    ),
    (
        "err.lon_without_lat",
        "只有经度没有纬度",
        "Longitude given without latitude",
    ),
    (
        "err.members_range",
        "家庭人口须在 1 到 50 之间",
        "Members must be 1..50",
    ),
    ("err.missing_field", "请填写{field}", "{field} is required"),
    ("err.name_required", "名称不能为空", "The name is required"),
    (
        "err.phone_chars",
        "电话号码只能包含数字、空格和 + - ( )",
        "A phone number has digits, spaces and + - ( ) only",
    ),
    (
        "err.phone_invalid",
        "电话号码无效（3–20 位数字，可带 +）",
        "Not a phone number",
    ),
    (
        "err.police_category_dispatch",
        "公安类诉求应转警，不能派单",
        "A police category is transferred, not dispatched",
    ),
    (
        "err.police_category_needs_line",
        "警情类分类须转110：请改选其他分类或确认转警",
        "A police category is handed to 110: choose another category or confirm the transfer",
    ),
    (
        "err.provider_category_required",
        "市场化服务队伍必须注明服务类别",
        "A market provider needs its service category",
    ),
    (
        "err.provider_qualification_required",
        "市场化服务队伍必须注明资质",
        "A market provider needs its qualification",
    ),
    ("err.record_not_found", "未找到记录", "Record not found"),
    (
        "err.reopen_window",
        "已办结超过 {days} 天，不能重新打开",
        "Closed more than {days} days ago: it cannot be reopened",
    ),
    (
        "err.same_unit",
        "改派须选择另一个承办单位",
        "Re-dispatch goes to another unit",
    ),
    (
        "err.satisfaction_invalid",
        "未知的回访结果",
        "Unknown follow-up outcome",
    ),
    (
        "err.stale_version",
        "工单 {case} 已被他人修改，请刷新后重试",
        "The case changed since you loaded it",
    ),
    (
        "err.token_scope",
        "该令牌的权限范围不允许此操作",
        "This token's scope does not allow this",
    ),
    (
        "err.too_long",
        "{field}不超过 {max} 字",
        "{field} is longer than {max} characters",
    ),
    (
        "err.unknown_category",
        "未知类别 {code}",
        "Unknown category",
    ),
    ("err.unknown_grid", "未知网格 {code}", "Unknown grid unit"),
    (
        "err.unknown_unit",
        "未知承办单位 {unit}",
        "Unknown handling unit",
    ),
    (
        "error.csrf",
        "表单已过期，请刷新页面后重试",
        "The form expired; reload the page and try again",
    ),
    (
        "error.forbidden",
        "您无权访问此页面",
        "You may not open this page",
    ),
    ("error.not_found", "未找到", "Not found"),
    ("error.title", "出错了", "Something went wrong"),
    ("field.address", "地址", "Address"),
    ("field.caller.age_band", "年龄段", "Age band"),
    ("field.caller.gender", "性别", "Gender"),
    ("field.caller.name", "来电人姓名", "Caller name"),
    ("field.caller.occupation", "职业", "Occupation"),
    ("field.caller.phone", "来电号码", "Caller phone"),
    ("field.category", "类别", "Category"),
    ("field.content", "诉求内容", "Request text"),
    ("field.description", "说明", "Description"),
    (
        "field.emergency.incident_number",
        "警情编号",
        "Incident number",
    ),
    ("field.emergency.line", "紧急线路", "Emergency line"),
    ("field.emergency.reason", "理由", "Reason"),
    ("field.external_id", "外部编号", "External id"),
    ("field.grid", "网格", "Grid unit"),
    ("field.head_name", "户主姓名", "Head of household"),
    ("field.hours", "延期小时数", "Hours"),
    ("field.location.address", "地址", "Address"),
    ("field.location.grid_code", "网格", "Grid unit"),
    ("field.name", "名称", "Name"),
    ("field.note", "说明", "Note"),
    ("field.notes", "备注", "Notes"),
    ("field.phone", "电话", "Phone"),
    ("field.qualification", "资质", "Qualification"),
    ("field.reason", "原因", "Reason"),
    ("field.reference", "警情编号", "Incident number"),
    ("field.satisfaction", "回访结果", "Follow-up outcome"),
    ("field.unit", "承办单位", "Handling unit"),
    ("household.dibao", "低保户", "Dibao household"),
    ("household.disabled", "残疾人", "Person with disability"),
    (
        "household.elderly_alone",
        "独居老人",
        "Elderly living alone",
    ),
    ("household.entitled", "优抚对象", "Entitled group"),
    (
        "household.extreme_poverty",
        "特困人员",
        "Extreme-poverty support",
    ),
    (
        "household.left_behind_child",
        "留守儿童",
        "Left-behind child",
    ),
    ("household.other", "其他困难群体", "Other vulnerable"),
    ("integrations.attempts", "尝试次数", "Attempts"),
    ("integrations.dead", "失败停推", "Dead"),
    (
        "integrations.dead_messages",
        "失败停推的消息",
        "Dead messages",
    ),
    ("integrations.delivered", "已送达", "Delivered"),
    ("integrations.failing", "推送异常", "Failing"),
    ("integrations.integration", "对接方式", "Integration"),
    ("integrations.last_error", "最近错误", "Last error"),
    ("integrations.manual", "电话转接", "By phone"),
    ("integrations.pending", "待推送", "Pending"),
    ("integrations.platform", "平台", "Platform"),
    (
        "integrations.platforms",
        "各平台推送情况",
        "Delivery by platform",
    ),
    ("integrations.replay", "重新推送", "Replay"),
    ("integrations.title", "对接平台", "Integrations"),
    ("integrations.topic", "类型", "Type"),
    ("lang.switch", "English", "中文"),
    (
        "login.failed",
        "用户名或密码错误",
        "Wrong user name or password",
    ),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Sign in"),
    ("login.title", "登录", "Sign in"),
    ("login.username", "用户名", "User name"),
    ("nav.audit", "审计日志", "Audit log"),
    ("nav.call", "来电受理", "Take a call"),
    ("nav.dashboard", "数据看板", "Dashboard"),
    ("nav.directories", "资源目录", "Directories"),
    ("nav.integrations", "对接平台", "Integrations"),
    ("nav.logout", "退出", "Sign out"),
    ("nav.queues", "工单队列", "Queues"),
    ("nav.skip", "跳到主要内容", "Skip to content"),
    ("priority.high", "紧急", "High"),
    ("priority.low", "低", "Low"),
    ("priority.normal", "一般", "Normal"),
    ("priority.urgent", "特急", "Urgent"),
    ("queue.all", "全部", "All"),
    ("queue.awaiting_police", "待确认转警", "Awaiting the line"),
    ("queue.center", "中心队列", "Center queue"),
    ("queue.closed", "已办结", "Closed"),
    ("queue.done", "已反馈", "Replied"),
    ("queue.in_progress", "办理中", "In progress"),
    ("queue.live", "实时更新", "Live"),
    ("queue.mine", "我的工单", "My cases"),
    ("queue.new", "新受理", "New"),
    ("queue.overdue", "超时", "Overdue"),
    ("queue.returned", "退单", "Returned"),
    ("queue.time_left", "剩余时间", "Time left"),
    ("queue.to_sign", "待签收", "To sign"),
    ("queue.transferred", "已转警", "Transferred"),
    ("queue.unit", "单位队列", "Unit queue"),
    ("role.admin", "管理员", "Administrator"),
    ("role.analyst", "分析员", "Analyst"),
    ("role.auditor", "审计员", "Auditor"),
    ("role.dispatcher", "派单员", "Dispatcher"),
    ("role.grid_worker", "网格员", "Grid worker"),
    ("role.operator", "受理员", "Call-taker"),
    ("role.supervisor", "督办员", "Supervisor"),
    ("role.unit_handler", "承办人员", "Unit handler"),
    (
        "satisfaction.mostly_satisfied",
        "基本满意",
        "Mostly satisfied",
    ),
    ("satisfaction.satisfied", "满意", "Satisfied"),
    ("satisfaction.unsatisfied", "不满意", "Unsatisfied"),
    ("status.closed", "已办结", "Closed"),
    ("status.dispatched", "已派单", "Dispatched"),
    ("status.followed_up", "已回访", "Followed up"),
    ("status.in_progress", "办理中", "In progress"),
    ("status.received", "已受理", "Received"),
    ("status.replied", "已反馈", "Replied"),
    ("status.returned", "已退单", "Returned"),
    ("status.signed", "已签收", "Signed"),
    (
        "status.transferred_police",
        "已转警",
        "Transferred to police",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_sorted_unique_and_complete() {
        for w in CATALOG.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "catalog not sorted at {} / {}",
                w[0].0,
                w[1].0
            );
        }
        for (k, zh, en) in CATALOG {
            assert!(!zh.is_empty() && !en.is_empty(), "{k} lacks a translation");
        }
    }

    #[test]
    fn lookup_by_language_and_unknown_keys() {
        assert_eq!(Lang::Zh.t("login.title"), "登录");
        assert_eq!(Lang::En.t("login.title"), "Sign in");
        assert_eq!(Lang::En.t("no.such.key"), "no.such.key");
        assert!(has_key("status.closed"));
        assert!(!has_key("status.closed "));
    }

    #[test]
    fn language_choice_prefers_query_then_cookie_then_zh() {
        assert_eq!(Lang::choose(None, None), Lang::Zh);
        assert_eq!(Lang::choose(None, Some("en")), Lang::En);
        assert_eq!(Lang::choose(Some("zh-CN"), Some("en")), Lang::Zh);
        assert_eq!(Lang::choose(Some("en-US"), None), Lang::En);
        // Garbage falls through to the next source rather than erroring.
        assert_eq!(Lang::choose(Some("fr"), Some("en")), Lang::En);
        assert_eq!(Lang::choose(Some("<script>"), None), Lang::Zh);
        assert_eq!(Lang::Zh.pick("道路", "Roads"), "道路");
        assert_eq!(Lang::En.pick("道路", ""), "道路");
    }

    #[test]
    fn times_render_in_shanghai_offset() {
        // 2026-11-29T00:30:00Z is 08:30 in Shanghai.
        let ms = 1_795_912_200_000;
        assert_eq!(format_time(ms), "2026-11-29 08:30");
        assert_eq!(format_day(ms), "11-29");
        // 2026-11-28T16:30:00Z is 00:30 on the 29th in Shanghai: the day started at 16:00Z.
        let late = 1_795_883_400_000;
        assert_eq!(format_time(late), "2026-11-29 00:30");
        assert_eq!(day_start(late), 1_795_881_600_000);
        assert_eq!(day_start(ms), 1_795_881_600_000);
    }

    #[test]
    fn time_left_and_overdue() {
        let now = 1_000_000_000_000;
        let h = 3_600_000;
        assert_eq!(
            time_left(Lang::Zh, now + 2 * h + 5 * 60_000, now),
            ("剩余 2小时5分".into(), false)
        );
        assert_eq!(
            time_left(Lang::En, now + 2 * h, now),
            ("2 h left".into(), false)
        );
        assert_eq!(
            time_left(Lang::Zh, now - 40 * 60_000, now),
            ("超时 40分".into(), true)
        );
        assert_eq!(
            time_left(Lang::En, now - 50 * h, now),
            ("2 d 2 h overdue".into(), true)
        );
        assert_eq!(time_left(Lang::Zh, now, now), ("剩余 0分".into(), false));
        // Part of a minute counts as a whole one: 30 s left is "1 min left", not "0".
        assert_eq!(time_left(Lang::En, now + 30_000, now).0, "1 min left");
    }
}
