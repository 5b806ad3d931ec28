/*!
The case model: where a case stands ([`Status`]), what a user may ask to do with it ([`Action`],
with the roles and statuses each action needs), follow-up outcomes ([`Satisfaction`]) and intake
channels ([`Channel`]). Plain data: the state machine that combines them is
`engine::lifecycle`.
*/

use serde::{Deserialize, Serialize};

use super::role::Role;

/// The emergency lines the one-number model links to: a call about one of them is handed to that
/// line's dispatch (转警 / 转119 / 转120 / 转122) instead of being handled by the center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EmergencyLine {
    /// 110: police — violence, weapons, threats, theft in progress, missing persons, fraud.
    #[serde(rename = "110")]
    Police,
    /// 119: fire and rescue — fire, gas leak, explosion, people trapped, someone in the water.
    #[serde(rename = "119")]
    Fire,
    /// 120: medical — unconscious, bleeding, not breathing, poisoning.
    #[serde(rename = "120")]
    Medical,
    /// 122: traffic accidents with injuries.
    #[serde(rename = "122")]
    Traffic,
}

impl EmergencyLine {
    pub const ALL: [EmergencyLine; 4] = [
        EmergencyLine::Police,
        EmergencyLine::Fire,
        EmergencyLine::Medical,
        EmergencyLine::Traffic,
    ];

    /// The number dialled: the code stored and sent (`110`, `119`, `120`, `122`).
    pub fn as_str(self) -> &'static str {
        match self {
            EmergencyLine::Police => "110",
            EmergencyLine::Fire => "119",
            EmergencyLine::Medical => "120",
            EmergencyLine::Traffic => "122",
        }
    }

    pub fn parse(s: &str) -> Option<EmergencyLine> {
        EmergencyLine::ALL
            .into_iter()
            .find(|l| l.as_str() == s.trim())
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            EmergencyLine::Police => "110 公安",
            EmergencyLine::Fire => "119 消防",
            EmergencyLine::Medical => "120 急救",
            EmergencyLine::Traffic => "122 交警",
        }
    }

    /// Which existing platform receives this line's hand-offs. 122 is the traffic police, a
    /// part of police dispatch in every county.
    pub fn platform_kind(self) -> super::PlatformKind {
        match self {
            EmergencyLine::Police | EmergencyLine::Traffic => super::PlatformKind::PoliceDispatch,
            EmergencyLine::Fire => super::PlatformKind::FireDispatch,
            EmergencyLine::Medical => super::PlatformKind::MedicalDispatch,
        }
    }
}

/// Where a case stands (code names from the glossary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    Dispatched,
    Signed,
    InProgress,
    Replied,
    FollowedUp,
    Closed,
    Returned,
    TransferredPolice,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Received,
        Status::Dispatched,
        Status::Signed,
        Status::InProgress,
        Status::Replied,
        Status::FollowedUp,
        Status::Closed,
        Status::Returned,
        Status::TransferredPolice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Dispatched => "dispatched",
            Status::Signed => "signed",
            Status::InProgress => "in_progress",
            Status::Replied => "replied",
            Status::FollowedUp => "followed_up",
            Status::Closed => "closed",
            Status::Returned => "returned",
            Status::TransferredPolice => "transferred_police",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Status::Received => "已受理",
            Status::Dispatched => "已派单",
            Status::Signed => "已签收",
            Status::InProgress => "办理中",
            Status::Replied => "已反馈",
            Status::FollowedUp => "已回访",
            Status::Closed => "已办结",
            Status::Returned => "已退单",
            Status::TransferredPolice => "已转警",
        }
    }

    /// True while the center still owes the citizen something (not closed, not with police).
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::TransferredPolice)
    }

    /// True while the 签收 deadline is running (dispatched, not yet signed).
    pub fn awaits_sign(self) -> bool {
        self == Status::Dispatched
    }

    /// True while the 办结 deadline is running (a unit holds the case).
    pub fn awaits_close(self) -> bool {
        matches!(
            self,
            Status::Dispatched | Status::Signed | Status::InProgress
        )
    }
}

/// What a user asks to do with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Dispatch,
    Sign,
    Start,
    Reply,
    Return,
    RequestExtension,
    GrantExtension,
    DenyExtension,
    Supervise,
    FollowUp,
    Close,
    TransferPolice,
    /// The emergency line acknowledged a hand-off (警情编号 received): 已确认.
    PoliceAck,
    /// The emergency line handed the case back (转警退回): it re-enters the center's queue.
    PoliceReturn,
    /// 当场答复 / 直接办结: the center answers on the call (a consultation) and closes it.
    Answer,
    /// 改派: the center moves a case a unit holds (not signed in time, wrong unit) to another.
    Redispatch,
    /// 重新打开: a supervisor reopens a closed case (back to the center's queue).
    Reopen,
    /// 催办: a reminder to the unit holding the case (counted).
    Urge,
    /// 派网格员: the center asks the grid workers of the case's cell to check or settle it on
    /// site (网格任务); the case stays in the center's queue until they answer.
    GridAssign,
    /// 网格反馈: a grid worker of the cell answers the task with what was found or done.
    GridReply,
}

impl Action {
    pub const ALL: [Action; 20] = [
        Action::Dispatch,
        Action::Sign,
        Action::Start,
        Action::Reply,
        Action::Return,
        Action::RequestExtension,
        Action::GrantExtension,
        Action::DenyExtension,
        Action::Supervise,
        Action::FollowUp,
        Action::Close,
        Action::TransferPolice,
        Action::PoliceAck,
        Action::PoliceReturn,
        Action::Answer,
        Action::Redispatch,
        Action::Reopen,
        Action::Urge,
        Action::GridAssign,
        Action::GridReply,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Dispatch => "dispatch",
            Action::Sign => "sign",
            Action::Start => "start",
            Action::Reply => "reply",
            Action::Return => "return",
            Action::RequestExtension => "request_extension",
            Action::GrantExtension => "grant_extension",
            Action::DenyExtension => "deny_extension",
            Action::Supervise => "supervise",
            Action::FollowUp => "follow_up",
            Action::Close => "close",
            Action::TransferPolice => "transfer_police",
            Action::PoliceAck => "police_ack",
            Action::PoliceReturn => "police_return",
            Action::Answer => "answer",
            Action::Redispatch => "redispatch",
            Action::Reopen => "reopen",
            Action::Urge => "urge",
            Action::GridAssign => "grid_assign",
            Action::GridReply => "grid_reply",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Action::Dispatch => "派单",
            Action::Sign => "签收",
            Action::Start => "开始办理",
            Action::Reply => "反馈",
            Action::Return => "退单",
            Action::RequestExtension => "申请延期",
            Action::GrantExtension => "批准延期",
            Action::DenyExtension => "驳回延期",
            Action::Supervise => "督办",
            Action::FollowUp => "回访",
            Action::Close => "办结",
            Action::TransferPolice => "转警",
            Action::PoliceAck => "确认接警",
            Action::PoliceReturn => "转警退回",
            Action::Answer => "当场答复",
            Action::Redispatch => "改派",
            Action::Reopen => "重新打开",
            Action::Urge => "催办",
            Action::GridAssign => "派网格员",
            Action::GridReply => "网格反馈",
        }
    }

    /// Roles that may take this action at all (the status decides the rest).
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::Dispatch | Action::FollowUp | Action::TransferPolice | Action::Close => {
                &[Admin, Supervisor, Operator, Dispatcher]
            }
            Action::Sign
            | Action::Start
            | Action::Reply
            | Action::Return
            | Action::RequestExtension => &[Admin, UnitHandler],
            Action::GrantExtension | Action::DenyExtension | Action::Supervise => {
                &[Admin, Supervisor, Dispatcher]
            }
            // Recorded by the center from the line's phone confirmation (or by the delivery
            // worker from the line's webhook response).
            Action::PoliceAck => &[Admin, Supervisor, Operator, Dispatcher],
            Action::PoliceReturn => &[Admin, Supervisor, Dispatcher],
            Action::Answer | Action::Urge => &[Admin, Supervisor, Operator, Dispatcher],
            Action::Redispatch => &[Admin, Supervisor, Dispatcher],
            Action::Reopen => &[Admin, Supervisor],
            Action::GridAssign => &[Admin, Supervisor, Operator, Dispatcher],
            // The grid worker who walked there answers; nobody answers for them.
            Action::GridReply => &[GridWorker],
        }
    }

    /// Statuses in which this action is possible (before role and flag checks).
    pub fn from_statuses(self) -> &'static [Status] {
        use Status::*;
        match self {
            Action::Dispatch => &[Received, Returned],
            Action::Sign => &[Dispatched],
            Action::Start => &[Signed],
            Action::Reply => &[Signed, InProgress],
            Action::Return => &[Dispatched, Signed, InProgress],
            Action::RequestExtension | Action::GrantExtension | Action::DenyExtension => {
                &[Signed, InProgress]
            }
            Action::Supervise => &[Dispatched, Signed, InProgress],
            Action::FollowUp => &[Replied],
            Action::Close => &[Replied, FollowedUp],
            Action::TransferPolice => &[Received, Returned],
            Action::PoliceAck | Action::PoliceReturn => &[TransferredPolice],
            Action::Answer => &[Received, Returned],
            Action::Redispatch | Action::Urge => &[Dispatched, Signed, InProgress],
            Action::Reopen => &[Closed],
            // While the center holds the case (no unit does).
            Action::GridAssign | Action::GridReply => &[Received, Returned],
        }
    }

    /// The event kind written to the timeline for this action.
    pub fn event_kind(self) -> &'static str {
        match self {
            Action::Dispatch => "dispatched",
            Action::Sign => "signed",
            Action::Start => "started",
            Action::Reply => "replied",
            Action::Return => "returned",
            Action::RequestExtension => "extension_requested",
            Action::GrantExtension => "extension_granted",
            Action::DenyExtension => "extension_denied",
            Action::Supervise => "supervised",
            Action::FollowUp => "followed_up",
            Action::Close => "closed",
            Action::TransferPolice => "transferred_police",
            Action::PoliceAck => "police_acknowledged",
            Action::PoliceReturn => "police_returned",
            Action::Answer => "answered",
            Action::Redispatch => "redispatched",
            Action::Reopen => "reopened",
            Action::Urge => "urged",
            Action::GridAssign => "grid_assigned",
            Action::GridReply => "grid_replied",
        }
    }
}

/// Timeline event kinds written by something other than an action ([`Action::event_kind`]):
/// intake, the redo after an unsatisfied follow-up, re-routing on an upgrade, the deadline
/// job's flags and escalations, an emergency hand-off left unacknowledged, an inbound SMS, and
/// 一事多诉's merge (`merged` on the child, `merged_in` on the parent), and a grid worker's patrol
/// report settled on the spot (`solved_on_spot`, 就地解决: received and closed at once), and
/// nearest-resource dispatch's offers (`offer_*`: made, accepted, declined, expired, and
/// unmatched — nobody left, the case stays with the center).
pub const OTHER_EVENT_KINDS: [&str; 16] = [
    "received",
    "redo",
    "rerouted",
    "overdue_sign",
    "overdue_close",
    "escalated",
    "handoff_overdue",
    "sms_received",
    "merged",
    "merged_in",
    "solved_on_spot",
    "offer_made",
    "offer_accepted",
    "offer_declined",
    "offer_expired",
    "offer_unmatched",
];

/// Every event kind a case timeline can hold (each has a name in the console's catalogue).
pub fn event_kinds() -> Vec<&'static str> {
    let mut v: Vec<&str> = Action::ALL.iter().map(|a| a.event_kind()).collect();
    v.extend(OTHER_EVENT_KINDS);
    v.sort_unstable();
    v.dedup();
    v
}

/// Follow-up outcome (满意 / 基本满意 / 不满意).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    Satisfied,
    MostlySatisfied,
    Unsatisfied,
}

impl Satisfaction {
    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::MostlySatisfied => "mostly_satisfied",
            Satisfaction::Unsatisfied => "unsatisfied",
        }
    }

    pub fn parse(s: &str) -> Option<Satisfaction> {
        [
            Satisfaction::Satisfied,
            Satisfaction::MostlySatisfied,
            Satisfaction::Unsatisfied,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "满意",
            Satisfaction::MostlySatisfied => "基本满意",
            Satisfaction::Unsatisfied => "不满意",
        }
    }
}

/// Intake channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Phone,
    Web,
    Grid,
    Sms,
    Open311,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Phone,
        Channel::Web,
        Channel::Grid,
        Channel::Sms,
        Channel::Open311,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Web => "web",
            Channel::Grid => "grid",
            Channel::Sms => "sms",
            Channel::Open311 => "open311",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}
