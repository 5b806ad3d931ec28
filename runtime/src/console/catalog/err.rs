//! Catalog rows of the errors (`err.`): the sentence each engine error key is shown as, apart
//! so no part outgrows the size rule.

/// (key, zh-CN, English), sorted by key.
pub(super) static ENTRIES: &[(&str, &str, &str)] = &[
    (
        "err.action_forbidden",
        "{role}不能执行“{action}”",
        "This role may not do that",
    ),
    (
        "err.attachment_empty",
        "文件为空，请重新选择",
        "The file is empty",
    ),
    (
        "err.attachment_forbidden",
        "您的角色不能上传附件",
        "Your role may not add attachments",
    ),
    (
        "err.attachment_not_found",
        "未找到附件",
        "Attachment not found",
    ),
    (
        "err.attachment_too_large",
        "文件超过大小上限（{max} MB）",
        "The file is over the size limit ({max} MB)",
    ),
    (
        "err.attachment_type",
        "只接受 JPEG、PNG、WebP 照片和 PDF 文件",
        "Only JPEG, PNG and WebP photos and PDF documents are accepted",
    ),
    (
        "err.attachment_unreadable",
        "文件已损坏或无法读取",
        "The file is damaged or cannot be read",
    ),
    ("err.case_closed", "工单已办结", "The case is closed"),
    ("err.case_not_found", "未找到工单", "Case not found"),
    (
        "err.case_not_your_unit",
        "工单 {case} 未派给您的单位",
        "The case is not assigned to your unit",
    ),
    (
        "err.case_out_of_scope",
        "该工单不在您的权限范围内",
        "The case is outside your scope",
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
        "err.confirm_required",
        "请勾选确认后再提交",
        "Tick the confirmation box first",
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
        "err.coordinate_invalid",
        "{field}不是有效坐标",
        "{field} is not a coordinate",
    ),
    (
        "err.database_busy",
        "系统繁忙，本次未保存，请稍后重试",
        "The database is busy; nothing was saved. Retry shortly",
    ),
    (
        "err.dismiss_merged",
        "{case} 与 {other} 已合并，是同一问题",
        "These cases are merged: they are one problem",
    ),
    (
        "err.dispatch_not_handling_unit",
        "只能派给承办单位，不能派给服务中心或公安",
        "Dispatch goes to a handling unit",
    ),
    (
        "err.duplicate_report",
        "此上报此前已收到",
        "This report was received before",
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
        "err.grid_task_no_cell",
        "案件尚未定位到网格，请先确定地点再派网格员",
        "The case has no cell yet: locate it before sending it to the grid",
    ),
    (
        "err.grid_worker_only",
        "巡查上报仅限网格员",
        "Patrol reports are filed by grid workers",
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
        "err.household_not_found",
        "未找到该户，或不在您的网格内",
        "No such household in your cells",
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
        "err.into_missing",
        "请填写要并入的主工单编号",
        "Name the case this one repeats (into)",
    ),
    (
        "err.into_unknown",
        "没有您可查看的工单 {case}",
        "No case {case} you may see",
    ),
    (
        "err.knowledge_answer_only",
        "知识库条目只用于当场答复",
        "A knowledge entry goes with the answer action only",
    ),
    (
        "err.knowledge_edit_forbidden",
        "只有管理员和值班长可以编辑知识库；{role}可查看并据此答复",
        "Only admins and supervisors edit the knowledge base",
    ),
    (
        "err.knowledge_field_required",
        "请填写{field}",
        "{field} is required",
    ),
    (
        "err.knowledge_not_usable",
        "知识条目 #{id} 已停用、已过期或不存在，不能据此答复",
        "The knowledge entry is retired, expired or missing",
    ),
    (
        "err.knowledge_read_forbidden",
        "{role}不能查看知识库（供服务中心使用）",
        "This role may not read the knowledge base",
    ),
    (
        "err.knowledge_stale",
        "知识条目 #{id} 已被他人修改，请刷新后重试",
        "The entry changed since you loaded it",
    ),
    (
        "err.knowledge_too_long",
        "{field}不超过 {max} 字",
        "{field} is too long",
    ),
    (
        "err.knowledge_valid_until",
        "有效期须为日期（YYYY-MM-DD）：{value}",
        "Valid until must be a date (YYYY-MM-DD)",
    ),
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
        "err.members_invalid",
        "家庭人口应为 1 至 99",
        "Members is a number from 1 to 99",
    ),
    (
        "err.members_range",
        "家庭人口须在 1 到 50 之间",
        "Members must be 1..50",
    ),
    (
        "err.merge_already",
        "工单 {case} 已合并至 {parent}",
        "Case {case} is already merged into {parent}",
    ),
    (
        "err.merge_child_forwarded",
        "工单 {case} 已转至其他平台办理，在该平台办结",
        "Case {case} went to another platform: it is closed there",
    ),
    (
        "err.merge_child_not_followed_up",
        "子工单 {case} 尚未回访：请先回访其来电人，或填写理由后办结",
        "Merged case {case} has not been followed up: follow its caller up first, or close with a reason",
    ),
    (
        "err.merge_child_replied",
        "工单 {case} 已反馈：请单独回访、办结",
        "Case {case} is already replied to: follow it up and close it on its own",
    ),
    (
        "err.merge_closed",
        "工单 {case} 已办结或已转警，不能合并",
        "Case {case} is closed or with an emergency line: only open cases are merged",
    ),
    (
        "err.merge_forbidden",
        "只有服务中心可以合并工单或标记不是重复",
        "Only the service center merges cases or dismisses suggestions",
    ),
    (
        "err.merge_into_child",
        "工单 {case} 本身已合并至 {root}：请并入 {root}",
        "Case {case} is itself merged into {root}: merge into {root}",
    ),
    (
        "err.merge_self",
        "工单不能与自身合并",
        "A case cannot be merged into itself",
    ),
    (
        "err.merged_child",
        "工单 {case} 已合并至 {parent}，随主工单办理",
        "Case {case} is merged into {parent} and handled with it",
    ),
    ("err.missing_field", "请填写{field}", "{field} is required"),
    ("err.name_required", "名称不能为空", "The name is required"),
    (
        "err.not_matchable",
        "工单 {case} 的类别不可就近派单",
        "The case's category is not matchable",
    ),
    (
        "err.offer_case_taken",
        "工单 {case} 已不在中心待办队列",
        "The case is no longer waiting in the center's queue",
    ),
    (
        "err.offer_center_only",
        "只有服务中心可以发布派单邀约或管理准入",
        "Only the center puts out offers and admits providers",
    ),
    (
        "err.offer_closed",
        "该邀约已结束（已被他人接单、已拒绝或已超时）",
        "The offer is no longer open",
    ),
    (
        "err.offer_range",
        "{field} 超出范围（{min}–{max}）",
        "{field} is out of range ({min}–{max})",
    ),
    (
        "err.offers_open",
        "工单 {case} 已有未答复的邀约",
        "The case already has open offers",
    ),
    (
        "err.on_spot_emergency",
        "该上报被识别为 {line} 警情，须转相应紧急线路处置，不能就地办结",
        "The report reads as an emergency for {line}: it goes to that line and is not closed on the spot",
    ),
    (
        "err.on_spot_not_grid",
        "只有网格员的巡查上报可以就地解决",
        "Only a grid worker's patrol report is settled on the spot",
    ),
    (
        "err.on_spot_note_missing",
        "就地解决请填写处理情况",
        "Say what was done on the spot",
    ),
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
        "err.position_incomplete",
        "位置缺少经度或纬度",
        "A position needs both latitude and longitude",
    ),
    (
        "err.price_not_provider",
        "工单未派给市场化服务方，不能登记价格",
        "The case is not with a provider: no price to record",
    ),
    (
        "err.provider_category_required",
        "市场化服务队伍必须注明服务类别",
        "A market provider needs its service category",
    ),
    (
        "err.provider_not_admitted",
        "该服务方尚未准入",
        "The provider is not admitted",
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
        "err.report_key_invalid",
        "上报编号无效，请刷新页面后重试",
        "The report key is invalid: reload the page and try again",
    ),
    (
        "err.report_key_taken",
        "此上报编号已被他人使用，请刷新页面后重新上报",
        "This report key was used by someone else: reload the page and report again",
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
        "err.separation_of_duties",
        "职责分离：管理员不办理案件（签收、反馈等由承办单位进行）",
        "Separation of duties: an admin does not work cases (the unit signs and replies)",
    ),
    (
        "err.separation_of_duties_replier",
        "职责分离：您反馈了此事项，回访和办结须由他人进行",
        "Separation of duties: you replied to this case, someone else follows it up and closes it",
    ),
    (
        "err.situation_invalid",
        "请选择走访结果",
        "Choose the outcome of the visit",
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
        "err.too_many_photos",
        "每次上报最多 {max} 张照片",
        "At most {max} photos a report",
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
        "err.upload_unreadable",
        "上报内容未能完整接收，请重试",
        "The report could not be read: please try again",
    ),
    (
        "err.visit_forbidden",
        "走访记录仅限网格员填写",
        "Household visits are recorded by grid workers",
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
];
