//! Catalog rows from `event.` to the end of e (`event.` … `export.`): the timeline's event names
//! and the export page, apart so no part outgrows the size rule.

/// (key, zh-CN, English), sorted by key.
pub(super) static ENTRIES: &[(&str, &str, &str)] = &[
    ("event.answered", "当场答复并办结", "Answered on the call"),
    ("event.closed", "办结", "Closed"),
    ("event.dispatched", "派单", "Dispatched"),
    ("event.escalated", "逐级督办", "Escalated"),
    ("event.extension_denied", "延期被驳回", "Extension denied"),
    ("event.extension_granted", "延期已批准", "Extension granted"),
    (
        "event.extension_requested",
        "申请延期",
        "Extension requested",
    ),
    ("event.followed_up", "回访", "Followed up"),
    (
        "event.grid_assigned",
        "派网格员核实",
        "Sent to the grid worker",
    ),
    (
        "event.grid_replied",
        "网格员反馈",
        "Grid worker reported back",
    ),
    (
        "event.handoff_overdue",
        "转警超时未确认",
        "Hand-off not acknowledged in time",
    ),
    ("event.merged", "合并至主工单", "Merged into"),
    ("event.merged_in", "并入重复诉求", "Repeat merged in"),
    ("event.offer_accepted", "服务方接单", "Offer accepted"),
    ("event.offer_declined", "服务方拒单", "Offer declined"),
    ("event.offer_expired", "邀约超时", "Offer expired"),
    ("event.offer_made", "发出就近派单邀约", "Offer made"),
    (
        "event.offer_unmatched",
        "无可派服务方，退回中心",
        "No provider left: back to the center",
    ),
    ("event.overdue_close", "办结超时", "Closing overdue"),
    ("event.overdue_sign", "签收超时", "Signing overdue"),
    (
        "event.police_acknowledged",
        "已确认接警",
        "Acknowledged by the line",
    ),
    (
        "event.police_returned",
        "转警退回中心",
        "Handed back by the line",
    ),
    ("event.received", "受理", "Received"),
    ("event.redispatched", "改派", "Re-dispatched"),
    (
        "event.redo",
        "回访不满意，重办",
        "Unsatisfied follow-up: redo",
    ),
    ("event.reopened", "重新打开", "Reopened"),
    ("event.replied", "反馈办理结果", "Replied"),
    (
        "event.rerouted",
        "升级后改由新单位承办",
        "Re-routed by an upgrade",
    ),
    ("event.returned", "退单", "Returned"),
    ("event.signed", "签收", "Signed"),
    ("event.sms_received", "收到短信", "SMS received"),
    (
        "event.solved_on_spot",
        "网格员就地解决",
        "Solved on the spot by the grid worker",
    ),
    ("event.started", "开始办理", "Work started"),
    ("event.supervised", "督办", "Supervised"),
    (
        "event.transferred_police",
        "转警",
        "Handed to the emergency line",
    ),
    ("event.urged", "催办", "Urged"),
    (
        "export.bad_format",
        "导出格式只能是 xlsx 或 csv",
        "The export format is xlsx or csv",
    ),
    ("export.title", "导出当前结果", "Export these results"),
];
