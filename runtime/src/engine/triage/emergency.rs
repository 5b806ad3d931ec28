/*!
Emergency detection: the first stage of triage, before any category is guessed.

A call about something happening now that one of the linked emergency lines must handle — 110
police, 119 fire and rescue, 120 medical, 122 traffic accidents with injuries — is recognised by
**patterns over the segmented text of the request** (never over the address: a village called
火烧坪 is not a fire). A pattern is one or more groups of phrases:

- `Clause` patterns need their groups in order inside one clause (split at punctuation), at most
  a few characters apart: 拿着 … 菜刀 … 追/砍/打;
- `Request` patterns need each group somewhere in the request: 车祸 (one clause) + 躺在地上
  (another).

Every phrase occurrence must end on a word boundary of the segmentation (打架 is not found in
打架子鼓, 打人 not in 打人家电话) and is discarded when it is **negated** (不是着火, 没人受伤,
防诈骗), **past** (上次被偷过, 以前被骗, 被偷过), **hypothetical** (担心着火, 万一起火) or a
**topic** rather than an event (防诈骗讲座, 消防培训) — cues looked for inside the same clause.
Missing-person and theft patterns ignore pets (狗走丢了 is not a missing person).

Each pattern carries a weight (how sure its evidence is); a line's confidence is
`1 − Π(1 − wᵢ)` over its matched patterns. A request can concern only one line: when several
lines have strong evidence the most dangerous handling wins — fire (119), then traffic injuries
(122), then police (110), then medical (120) — as the labelling guide says
(`docs/triage-labelling.md`). The pattern table is documented in `docs/triage.md`.
*/

use serde::Serialize;

use std::collections::HashMap;

use aho_corasick::AhoCorasick;

use super::cues::{CLAUSE_BREAKS, HYPOTHETICAL, NEGATIONS, PAST, TOPIC};
use crate::model::EmergencyLine;

/// An emergency recognised in a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Emergency {
    pub line: EmergencyLine,
    /// The words that made the decision, as they appear in the text (shown to the call-taker).
    pub evidence: Vec<String>,
    /// How sure the evidence is (0..1).
    pub confidence: f64,
}

/// Below this, evidence is not reported (a single weak word).
pub const MIN_CONFIDENCE: f64 = 0.5;
/// A pattern at least this strong makes its line a contender whatever the others score.
const STRONG: f64 = 0.8;
/// Farthest apart (characters) two groups of a clause pattern may be.
const MAX_GAP: usize = 8;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Clause,
    Request,
}

/// Pets and animals: a missing, stolen or hurt animal is not an emergency of the lines.
const PETS: &[&str] = &[
    "狗", "猫", "宠物", "鹦鹉", "兔子", "仓鼠", "狗狗", "猫咪", "小狗", "小猫", "泰迪", "金毛",
    "柯基", "鸟", "动物", "鸽子", "乌龟",
];
/// Rescue patterns: nobody hurt, an animal, or a person kept in by a broken lift.
const RESCUE_UNLESS: &[&str] = &[
    "人没事",
    "人都没事",
    "车里没人",
    "里面没人",
    "没人被关",
    "没有人被关",
    "狗",
    "猫",
    "宠物",
    "鸟",
    "下不了楼",
    "停了一",
    "停了好",
];
/// Smoke that is not a fire.
const COOKING: &[&str] = &[
    "烧烤",
    "烤肉",
    "做饭",
    "炒菜",
    "油烟",
    "烟囱",
    "烧纸",
    "抽烟",
    "吸烟",
    "烧秸秆",
    "烧垃圾",
    "蒸汽",
    "水蒸气",
];
/// Reported frauds that did not succeed are police matters, not emergencies.
const FRAUD_FAILED: &[&str] = &[
    "没转",
    "挂了",
    "没上当",
    "没有上当",
    "没给",
    "没理",
    "备案",
    "备个案",
    "登记",
    "核实",
    "是假的",
];
/// Medical words in a request for care at home.
const CARE: &[&str] = &["护工", "照顾", "陪护", "康复", "住院", "保姆", "补贴"];
/// Things, not people, hit by a car.
const OBJECTS_HIT: &[&str] = &[
    "撞歪",
    "撞坏",
    "撞断",
    "护栏",
    "站牌",
    "路灯",
    "电线杆",
    "墙",
    "栏杆",
];
/// Gas supply words: 没气了 of a gas tank is not a person who stopped breathing.
const GAS: &[&str] = &[
    "天然气",
    "燃气",
    "煤气",
    "液化气",
    "气罐",
    "灶",
    "送气",
    "气费",
    "轮胎",
    "打气",
];
/// "Nobody is hurt": cancels trapped-person, injury and accident patterns.
const NOBODY_HURT: &[&str] = &[
    "人没事",
    "人都没事",
    "车里没人",
    "里面没人",
    "没有人员受伤",
    "无人员伤亡",
    "没伤到人",
    "没人受伤",
    "没有人受伤",
    "人没受伤",
    "都没受伤",
];
/// Words of costs and complaints: 救护车收费太贵 is not a call for an ambulance.
const COMPLAINT: &[&str] = &["收费", "费用", "太贵", "投诉", "培训", "课程", "报销"];
/// Trees and crops: 砍了树 is a dispute.
const TREES: &[&str] = &["树", "竹", "柴", "草", "庄稼", "苗"];
/// Worries about theft in general (小偷多, 加保安) are a request for security, not a crime now.
const GENERAL_THEFT: &[&str] = &["保安", "监控", "小偷多", "经常", "老是", "总是", "治安"];
const NONE: &[&str] = &[];

struct Pattern {
    line: EmergencyLine,
    weight: f64,
    mode: Mode,
    /// The gap between groups may not contain 的 (孩子的作业本找不到了).
    no_de: bool,
    /// Words that cancel the pattern when they appear anywhere in the request.
    unless: &'static [&'static str],
    /// Which line wins when several have strong evidence: lower first (see [`rank`]).
    rank: u8,
    /// Groups separated by ` > ` (clause) or ` & ` (request); phrases of a group by `|`.
    spec: &'static str,
}

/// Default ranks: fire 0, traffic injuries 1, rescue 2, police 3, medical 4. Rescue (people
/// trapped, in the water) is 119's too, but a person trapped in a crashed car is 122's.
const fn rank(line: EmergencyLine) -> u8 {
    match line {
        EmergencyLine::Fire => 0,
        EmergencyLine::Traffic => 1,
        EmergencyLine::Police => 3,
        EmergencyLine::Medical => 4,
    }
}

const fn p(line: EmergencyLine, weight: f64, spec: &'static str) -> Pattern {
    pu(line, weight, false, NONE, spec)
}

const fn pu(
    line: EmergencyLine,
    weight: f64,
    no_de: bool,
    unless: &'static [&'static str],
    spec: &'static str,
) -> Pattern {
    Pattern {
        line,
        weight,
        mode: Mode::Clause,
        no_de,
        unless,
        rank: rank(line),
        spec,
    }
}

/// A 119 rescue pattern (trapped, in the water): ranks after traffic injuries.
const fn rescue(weight: f64, unless: &'static [&'static str], spec: &'static str) -> Pattern {
    Pattern {
        line: Fire,
        weight,
        mode: Mode::Clause,
        no_de: false,
        unless,
        rank: 2,
        spec,
    }
}

/// A 119 rescue request pattern (groups anywhere in the request).
const fn rescue_r(weight: f64, unless: &'static [&'static str], spec: &'static str) -> Pattern {
    Pattern {
        line: Fire,
        weight,
        mode: Mode::Request,
        no_de: false,
        unless,
        rank: 2,
        spec,
    }
}

const fn r(
    line: EmergencyLine,
    weight: f64,
    unless: &'static [&'static str],
    spec: &'static str,
) -> Pattern {
    Pattern {
        line,
        weight,
        mode: Mode::Request,
        no_de: false,
        unless,
        rank: rank(line),
        spec,
    }
}

use EmergencyLine::{Fire, Medical, Police, Traffic};

/// The pattern table. Phrases are matched on word boundaries; see the module docs for scope.
static PATTERNS: &[Pattern] = &[
    // ---- 110 police: violence, weapons, threats, theft, missing persons, fraud --------------
    p(
        Police,
        0.95,
        "拿着|拿|持|举着|提着|挥着|拎着|掏出|抄起|操起|握着|带着|揣着 > 刀|菜刀|砍刀|尖刀|猎枪|气枪|手枪|土枪|长刀|大刀|剪刀|铁棒|棍棒|弩|匕首|水果刀|西瓜刀|斧头|斧子|铁棍|钢管|木棍|棍子|棒子|锄头|铁锹|榔头|锤子|枪|刀子|刀片|酒瓶|砖头|镰刀",
    ),
    p(
        Police,
        0.95,
        "砍人|砍伤|砍死|捅人|捅伤|捅了|捅死|杀人|杀了人|行凶|持刀|持枪|开枪|枪击|打死|打伤|打人|殴打|围殴|群殴|斗殴|打架|打群架|打起来|打成一团|扭打|暴打|毒打|家暴|家庭暴力|抢劫|抢钱|抢包|抢手机|抢了|抢走|被抢|飞车抢夺|抢夺|绑架|劫持|绑走|强奸|猥亵|非礼|性侵|耍流氓|恐吓|要杀|要砍|弄死|砍死你|杀了你|打砸|砸店|砸车|砸门|砸东西|在砸|乱砸|撬门|撬锁|被撬|撬开|撬了|入室|闯进|闯入|跳楼|要跳楼|要跳河|站在楼顶|站在天台|轻生|自杀|要自杀|割腕|寻死|寻短见|不想活了|想死|上吊|动刀|打老婆|打老公|打孩子|被打|被人砍|被人捅|被人抢|挨打|把我打|把他打|把她打|打了我|打了我们|追着打|追着砍|追砍|打得很凶|打得好凶|往死里打|强行带走|被人带走|拐走|被拐|抱走了|被抱走|不给钱就|勒索|绑了|绑走了|泼硫酸|硫酸|泼我",
    ),
    pu(
        Police,
        0.9,
        false,
        PETS,
        "偷东西|在偷|偷车|偷走|被偷|被盗|失窃|盗窃|扒手|扒窃|摸钱包|掏包|进小偷|有小偷|抓小偷|有贼|进贼|遭贼|抓贼",
    ),
    pu(
        Police,
        0.9,
        false,
        &["电话", "手机", "鸽子", "狗", "猫"],
        "打我|在打我|在打人|被人打",
    ),
    pu(Police, 0.85, false, TREES, "砍了|在砍"),
    pu(Police, 0.8, false, GENERAL_THEFT, "小偷|贼"),
    p(
        Police,
        0.9,
        "吵架|吵|争吵|吵起来 > 动手|打|砍|拿刀|动刀|推搡",
    ),
    p(Police, 0.9, "追着|围着|按着|揪着 > 打|砍|踢"),
    p(
        Police,
        0.85,
        "威胁|扬言|说要|要拿 > 杀|砍|弄死|打死|报复|放火|炸|弄|泼|硫酸|捅",
    ),
    p(Police, 0.85, "偷我|偷了我 > 电动车|电瓶|摩托|车|钱|手机|包"),
    p(
        Police,
        0.85,
        "拉上|拖上|塞进|抱上|绑上 > 车|面包车|小车|轿车|汽车|车里",
    ),
    p(Police, 0.8, "闹事|寻衅滋事|耍酒疯|发酒疯|持械"),
    p(
        Police,
        0.9,
        "我要报警|快报警|帮我报警|帮忙报警|赶紧报警|救命|抓坏人|有坏人",
    ),
    pu(
        Police,
        0.9,
        true,
        PETS,
        "孩子|小孩|小孩子|儿子|女儿|闺女|娃|娃娃|孙子|孙女|外孙|外孙女|老人|老人家|老头|老太太|老母亲|老父亲|父亲|母亲|我妈|我爸|老妈|老爸|妈妈|爸爸|爷爷|奶奶|外公|外婆|姥姥|姥爷|老伴|丈夫|老公|老婆|妻子|媳妇|学生|弟弟|妹妹|家人|家里人|男孩|女孩|小朋友|宝宝|有人|俺娘|俺爹|我娘|我爹 > 走丢|走失|失踪|不见了|丢了|找不到了|找不着了|没回家|一夜没回|没回来|还没回来|冇回来|不知去向|下落不明",
    ),
    pu(
        Police,
        0.9,
        false,
        PETS,
        "走丢了|走失了|失踪了|走丢|走失|失踪|下落不明|不知去向",
    ),
    r(
        Police,
        0.9,
        PETS,
        "老年痴呆|痴呆|阿尔茨海默|智力障碍|精神病|糊涂|孩子|小孩|老人|我爸|我妈|俺娘|俺爹|儿子|女儿 & 走丢|不见|没回来|都没回来|还没回来|冇回来|找遍了|都找不到|到处找不到|一直没回家|一夜没回",
    ),
    pu(
        Police,
        0.9,
        false,
        FRAUD_FAILED,
        "被骗|骗了|骗走|上当受骗|受骗|被诈骗|遭遇诈骗|被坑了钱",
    ),
    pu(
        Police,
        0.85,
        false,
        FRAUD_FAILED,
        "骗子|诈骗|冒充|自称 > 转账|转了|汇了|汇款|打钱|付款|取钱|验证码|安全账户|贷款|公安|警察|民警|检察|法院|客服|领导",
    ),
    r(
        Police,
        0.85,
        FRAUD_FAILED,
        "转了|转账|汇了|打了钱 & 打不通|联系不上|拉黑|骗",
    ),
    pu(
        Police,
        0.85,
        false,
        FRAUD_FAILED,
        "正在|逼我|陌生人让我|有人让我|对方让我 > 转账|汇款|打钱|给验证码",
    ),
    pu(
        Police,
        0.85,
        false,
        &["树", "竹", "柴", "偷排", "偷倒", "偷偷"],
        "有人 > 偷|撬|砸|砍|抢|闯|翻墙进",
    ),
    pu(
        Police,
        0.8,
        false,
        PETS,
        "偷|抢 > 电动车|电瓶车|电瓶|摩托车|自行车|手机|钱包|东西|车",
    ),
    p(
        Police,
        0.85,
        "吸毒|贩毒|卖毒品|赌博 > 打起来|打人|闹事|动刀",
    ),
    // ---- 119 fire ----------------------------------------------------------------------------
    p(
        Fire,
        0.95,
        "着火|起火|失火|火灾|大火|火势|火光|烧起来|烧着了|烧了起来|火烧起来|冒火|窜火|爆燃|自燃|明火|火很大|好大的火|山火|森林火灾|林火|烧山|火烧房|房子烧|着了火|救火|火烧到|烧到房子|火蔓延|烧过来了|火苗子|火窜",
    ),
    pu(
        Fire,
        0.9,
        false,
        COOKING,
        "冒烟了|在冒烟|直冒烟|冒浓烟|冒黑烟|浓烟滚滚|烟很大|好大的烟|全是烟|都是烟|冒火星|冒火花",
    ),
    pu(
        Fire,
        0.85,
        false,
        COOKING,
        "家|房|屋|楼|厨房|店|仓库|车|厂房|山|林子|柴房|草堆|柴堆|牛棚|猪圈|窗户|门缝|电瓶车|电动车|配电箱|电表箱|插座|屋里|楼道|锅|油锅|电线|地下室|车库|阳台|通风口 > 冒烟|浓烟|冒黑烟|起烟|冒火|烧起来|烧着了|着了",
    ),
    p(
        Fire,
        0.95,
        "煤气|燃气|天然气|液化气|煤气罐|液化气罐|气罐|管道气 > 泄漏|泄露|漏气|漏了|味道很大|味很重|味道好大|好大的味|有味道|气味|味儿|漏|爆|挖断|往外喷|喷气|在喷|一股味|冒气|臭鸡蛋味",
    ),
    p(Fire, 0.9, "煤气味|燃气味|天然气味|液化气味"),
    p(Fire, 0.95, "爆炸|炸了|发生爆炸|爆炸了|炸开"),
    // ---- 119 rescue ------------------------------------------------------------------------
    rescue(
        0.9,
        RESCUE_UNLESS,
        "电梯|楼梯间|地下室|井里|坑里|洞里|山上|屋顶|水里 > 困|被困|关在|卡住|出不来|困住",
    ),
    rescue_r(0.9, RESCUE_UNLESS, "电梯 & 出不来|困|关在里面|被关|卡在"),
    rescue(
        0.9,
        RESCUE_UNLESS,
        "被困|困住了|困在|困人|压在下面|压住人|人被压|被压住了|埋在下面|埋住了|压着人|出不来了",
    ),
    rescue_r(
        0.9,
        NOBODY_HURT,
        "塌了|倒塌|坍塌|垮了|塌下来|房子倒了|墙倒了|楼倒了 & 压着人|压住人|压着|人在里面|困|埋了人|人被埋|被埋|下面有人|里面有人|里面还有人|还有人",
    ),
    rescue(
        0.95,
        NONE,
        "落水|掉水里|掉进水里|掉河里|掉进河|掉到河里|掉进河里|掉水塘|掉进水塘|掉池塘|掉进池塘|掉进水库|溺水|被水冲走|冲走了|沉下去|在水里挣扎|掉井里|掉进井|跳河",
    ),
    rescue(
        0.9,
        PETS,
        "掉进|掉到|掉下|落入|跌进|滑进|跌入 > 井|枯井|河|水|塘|池塘|水塘|鱼塘|河里|水里|江里|湖里|水库|坑|洞|江|湖|海|水沟",
    ),
    rescue_r(
        0.85,
        NONE,
        "洪水|大水|水淹|涨水 & 困|出不来|出不去|围住|屋顶|冲走",
    ),
    // ---- 120 medical -----------------------------------------------------------------------
    pu(
        Medical,
        0.95,
        false,
        CARE,
        "晕倒|昏倒|昏迷|不省人事|叫不醒|没意识|失去意识|休克|晕过去|倒地不起|晕厥|抽搐|口吐白沫|翻白眼|没呼吸|没有呼吸|没了呼吸|喘不上气|喘不过气|喘不过来|呼吸困难|心跳停|心脏骤停|没心跳|没有心跳|心跳没了|心梗|心肌梗塞|心肌梗死|中风|脑梗|脑溢血|大出血|流了很多血|流了好多血|流血不止|血流不止|血止不住|血哗哗|满身是血|满脸是血|喝农药|喝了农药|吃了农药|服毒|中毒|一氧化碳|吃错药|吃了很多安眠药|羊水破|破水|要生了|快生了|难产|触电|被电到|电到了|烫伤|烧伤|快不行了|人不行了|没了心跳|倒在地上|倒下了|突然倒地|喊不应|叫不应|敲门不应|不答应|躺着不动|不睁眼|眼睛也不睁|噎住|脸都紫了|嘴唇发紫|浑身抽|抽风|抽起来|按压|人工呼吸|被蛇咬|毒蛇|嘴歪|脸歪|半边脸|口齿不清|说话说不清|半边身子|手抬不起来|一直吐|都在吐|吐个不停|上吐下泻|吐血|喉咙肿|过敏|捂着胸口|四十度|一动不动|倒在地|倒在卫生间|倒在厕所|倒在家|倒在路|倒在床|倒在门口|不喘气|生孩子|头都出来了|临产|宫缩",
    ),
    pu(Medical, 0.9, false, GAS, "没气了"),
    pu(
        Medical,
        0.9,
        true,
        NONE,
        "人|老人|他|她|孩子|爸|妈|奶奶|爷爷|老公|老伴|老婆|小孩|宝宝|老头|老太太 > 没反应|没有反应|叫不醒|不动了|不醒|醒不过来|没动静|不答应",
    ),
    p(
        Medical,
        0.9,
        "心脏病|哮喘|癫痫|羊癫疯|高血压|糖尿病 > 犯了|发作|犯病",
    ),
    p(Medical, 0.85, "胸口|胸 > 疼|痛|闷"),
    p(
        Medical,
        0.9,
        "吃了|喝了|吞了|误喝|误食|误吃|吃下 > 安眠药|农药|老鼠药|消毒液|洗洁精|百草枯|敌敌畏|电池|纽扣电池|毒蘑菇|蘑菇|药",
    ),
    r(
        Medical,
        0.85,
        PETS,
        "摔|摔倒|摔下来|跌倒|跌下来|掉下来|坠楼 & 起不来|不能动|动不了|流血|昏|头破|骨折|爬不起来|不动|不哭|没反应",
    ),
    r(
        Medical,
        0.85,
        NONE,
        "消毒水|消毒液|农药|老鼠药|洗洁精|安眠药|敌敌畏|百草枯 & 喝了|吃了|吞了|喝下",
    ),
    pu(
        Medical,
        0.85,
        false,
        PETS,
        "受伤|受了伤|流血|出血|头破血流|骨折|伤得很重|重伤|磕破|摔破|头破|大口子|腿断",
    ),
    pu(
        Medical,
        0.8,
        false,
        COMPLAINT,
        "急救|救护车|叫120|打120|抢救",
    ),
    p(Medical, 0.85, "发高烧|高烧|烧到 > 抽|不退|昏|迷糊|四十"),
    r(Medical, 0.85, NONE, "预产期|怀孕|孕妇 & 疼|出血|见红|破水"),
    // ---- 122 traffic accidents -------------------------------------------------------------
    pu(
        Traffic,
        0.95,
        false,
        OBJECTS_HIT,
        "被车撞|撞到人|撞人|撞飞|碾压|撞伤|撞死|轧了|轧到|压到人|撞了人|卷到车底",
    ),
    r(
        Traffic,
        0.95,
        NOBODY_HURT,
        "车祸|撞车|追尾|翻车|侧翻|撞了|撞倒|撞翻|撞到|撞一起|相撞|撞上|交通事故|出事故|出事了|翻到沟里|掉沟里|冲进沟|冲进沟里|冲进|冲到|冲出|冲下坡|冲下|翻到|翻进|翻下|翻了|被撞|撞进|连环撞|撞|刮倒|刮到|蹭倒 & 受伤|流血|出血|伤了|倒地|躺在地上|躺着|不能动|动不了|不动了|起不来|昏迷|卡在车里|困在车里|在车里|被困|出不来|压在车下|压在里面|压在下面|压住|死了|重伤|骨折|救护车|120|人躺|伤者|人倒|腿断|腿好像断|骨头断|飞出去|甩出来|甩出去|摔破|头破|撞破|好多血|是血|救命|车底|卡在|被卡|昏过去|晕过去|躺在|压着|在哭",
    ),
    r(
        Traffic,
        0.9,
        NOBODY_HURT,
        "摩托|电动车|自行车|三轮|汽车|小车|货车 & 摔了|摔倒|摔下来|翻了|撞 & 腿|断|伤|血|起不来|不动|昏",
    ),
    r(
        Traffic,
        0.9,
        OBJECTS_HIT,
        "大妈|大爷|老人|孩子|小孩|老太太|行人|学生|小哥|司机|骑车的|人 & 撞了|撞倒|刮倒|撞到|撞飞|撞伤",
    ),
    p(
        Traffic,
        0.85,
        "翻到|翻下|冲下|滚下|掉下 > 山坡|山崖|悬崖|沟|河|坡下|桥下",
    ),
    pu(
        Traffic,
        0.7,
        false,
        NOBODY_HURT,
        "车祸|出车祸|交通事故|翻车|撞车|连环撞",
    ),
];

struct Compiled {
    line: EmergencyLine,
    rank: u8,
    weight: f64,
    mode: Mode,
    no_de: bool,
    unless: &'static [&'static str],
    groups: Vec<Vec<&'static str>>,
}

/// The emergency stage, built once.
pub struct Detector {
    patterns: Vec<Compiled>,
    /// Every phrase and exception word of the patterns, found in one pass over a text: most
    /// of the table's hundreds of phrases are absent from a given request, and searching for
    /// each on its own was most of the stage's cost.
    phrases: AhoCorasick,
    phrase_ids: HashMap<&'static str, usize>,
}

impl Default for Detector {
    fn default() -> Self {
        Detector::new()
    }
}

/// A clause of the request: its byte range.
#[derive(Clone, Copy)]
struct Clause {
    start: usize,
    end: usize,
}

impl Detector {
    pub fn new() -> Detector {
        let patterns = PATTERNS
            .iter()
            .map(|p| {
                let sep = if p.mode == Mode::Request {
                    " & "
                } else {
                    " > "
                };
                let groups = p
                    .spec
                    .split(sep)
                    .map(|g| {
                        let mut alts: Vec<&'static str> = g
                            .split('|')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .collect();
                        // Longest first: the reported evidence is the most telling phrase.
                        alts.sort_by_key(|a| std::cmp::Reverse(a.len()));
                        alts
                    })
                    .collect();
                Compiled {
                    line: p.line,
                    rank: p.rank,
                    weight: p.weight,
                    mode: p.mode,
                    no_de: p.no_de,
                    unless: p.unless,
                    groups,
                }
            })
            .collect::<Vec<Compiled>>();
        let mut phrase_ids: HashMap<&'static str, usize> = HashMap::new();
        for pat in &patterns {
            let words = pat.groups.iter().flatten().chain(pat.unless.iter());
            for w in words {
                let next = phrase_ids.len();
                phrase_ids.entry(*w).or_insert(next);
            }
        }
        let mut by_id: Vec<&str> = vec![""; phrase_ids.len()];
        for (w, i) in &phrase_ids {
            by_id[*i] = w;
        }
        let phrases = AhoCorasick::new(&by_id).expect("the emergency phrases build an automaton");
        Detector {
            patterns,
            phrases,
            phrase_ids,
        }
    }

    /// Detects an emergency in `text` (the request content only, never the address).
    /// `tokens` is the segmentation of `text` (slices of it, in order): phrases must start and
    /// end on token boundaries.
    pub fn detect(&self, text: &str, tokens: &[&str]) -> Option<Emergency> {
        if text.trim().is_empty() {
            return None;
        }
        let base = text.as_ptr() as usize;
        let mut bounds: Vec<usize> = tokens
            .iter()
            .map(|t| (t.as_ptr() as usize).saturating_sub(base))
            .collect();
        bounds.push(text.len());
        bounds.sort_unstable();
        bounds.dedup();
        let mut present = vec![false; self.phrase_ids.len()];
        for m in self.phrases.find_overlapping_iter(text) {
            present[m.pattern().as_usize()] = true;
        }
        let ctx = Ctx {
            text,
            bounds,
            clauses: clauses(text),
            present,
            ids: &self.phrase_ids,
        };
        // line → (confidence complement product, strongest weight, best rank among its strong
        // patterns, evidence)
        let mut per_line: Vec<(EmergencyLine, f64, f64, u8, Vec<String>)> = Vec::new();
        for pat in &self.patterns {
            let Some(evidence) = ctx.find(pat) else {
                continue;
            };
            let entry = match per_line.iter_mut().position(|e| e.0 == pat.line) {
                Some(i) => &mut per_line[i],
                None => {
                    per_line.push((pat.line, 1.0, 0.0, u8::MAX, Vec::new()));
                    per_line.last_mut().expect("just pushed")
                }
            };
            entry.1 *= 1.0 - pat.weight;
            entry.2 = f64::max(entry.2, pat.weight);
            if pat.weight >= STRONG {
                entry.3 = entry.3.min(pat.rank);
            }
            for e in evidence {
                if !entry.4.contains(&e) {
                    entry.4.push(e);
                }
            }
        }
        let scored: Vec<(EmergencyLine, f64, f64, u8, Vec<String>)> = per_line
            .into_iter()
            .map(|(l, comp, strongest, rank, ev)| {
                (l, round3((1.0 - comp).min(0.99)), strongest, rank, ev)
            })
            .filter(|e| e.1 >= MIN_CONFIDENCE)
            .collect();
        let best = scored
            .iter()
            .filter(|e| e.2 >= STRONG)
            .min_by_key(|e| e.3)
            .or_else(|| scored.iter().max_by(|a, b| a.1.total_cmp(&b.1)))?;
        Some(Emergency {
            line: best.0,
            evidence: best.4.clone(),
            confidence: best.1,
        })
    }
}
struct Ctx<'a> {
    text: &'a str,
    bounds: Vec<usize>,
    clauses: Vec<Clause>,
    /// Which of the detector's phrases occur anywhere in the text.
    present: Vec<bool>,
    ids: &'a HashMap<&'static str, usize>,
}

impl Ctx<'_> {
    /// Whether `phrase` occurs in the text (a phrase outside the table: searched for).
    fn contains(&self, phrase: &str) -> bool {
        match self.ids.get(phrase) {
            Some(i) => self.present[*i],
            None => self.text.contains(phrase),
        }
    }

    /// Evidence for a pattern, or `None` when it does not match.
    fn find(&self, pat: &Compiled) -> Option<Vec<String>> {
        match pat.mode {
            Mode::Clause => self.clauses.iter().find_map(|c| {
                if pat.unless.iter().any(|w| self.contains(w)) {
                    return None;
                }
                self.chain(pat, *c, 0, c.start, None)
                    .map(|(s, e)| vec![self.text[s..e].to_string()])
            }),
            Mode::Request => {
                if pat.unless.iter().any(|w| self.contains(w)) {
                    return None;
                }
                let mut evidence = Vec::new();
                for group in &pat.groups {
                    let hit = self.clauses.iter().find_map(|c| {
                        group.iter().find_map(|phrase| {
                            self.occurrences(*c, c.start, phrase)
                                .next()
                                .map(|(s, e)| self.text[s..e].to_string())
                        })
                    })?;
                    evidence.push(hit);
                }
                Some(evidence)
            }
        }
    }

    /// Matches groups `g..` of a clause pattern from byte `from`; returns the whole span.
    fn chain(
        &self,
        pat: &Compiled,
        c: Clause,
        g: usize,
        from: usize,
        prev_end: Option<usize>,
    ) -> Option<(usize, usize)> {
        let group = pat.groups.get(g)?;
        for phrase in group {
            for (s, e) in self.occurrences(c, from, phrase) {
                if let Some(pe) = prev_end {
                    let gap = &self.text[pe..s];
                    if gap.chars().count() > MAX_GAP {
                        continue;
                    }
                    if pat.no_de && gap.contains('的') {
                        continue;
                    }
                }
                if g + 1 == pat.groups.len() {
                    return Some((s, e));
                }
                if let Some((_, end)) = self.chain(pat, c, g + 1, e, Some(e)) {
                    return Some((s, end));
                }
            }
        }
        None
    }

    /// Valid occurrences of a phrase in a clause at or after `from`: on word boundaries, not
    /// negated, not past, not hypothetical, not a topic.
    fn occurrences<'s>(
        &'s self,
        c: Clause,
        from: usize,
        phrase: &'s str,
    ) -> impl Iterator<Item = (usize, usize)> + 's {
        // Absent from the whole text: nothing to search for.
        let hay = if self.contains(phrase) {
            &self.text[from..c.end]
        } else {
            ""
        };
        hay.match_indices(phrase)
            .map(move |(i, m)| (from + i, from + i + m.len()))
            .filter(move |(s, e)| self.on_bounds(*s, *e) && self.live(c, *s, *e))
    }

    /// The phrase must end where a word ends (打架 is not in 打架子鼓, 着火 not in 接着火车). Its
    /// start may fall inside a word: the dictionary glues odd pairs (一个头|破), and every word
    /// that would hide a phrase's start also ends after it.
    /// A one-character phrase, or one that begins with a negation (不动了 in 爬不动了), must
    /// start on a word boundary as well.
    fn on_bounds(&self, s: usize, e: usize) -> bool {
        let phrase = &self.text[s..e];
        let strict =
            phrase.chars().count() == 1 || phrase.starts_with('不') || phrase.starts_with('没');
        // A verb glued to 了 by the dictionary (抢走了) ends with it.
        let ends = self.bounds.binary_search(&e).is_ok()
            || (self.text[e..].starts_with('了')
                && self.bounds.binary_search(&(e + '了'.len_utf8())).is_ok());
        ends && (!strict || self.bounds.binary_search(&s).is_ok())
    }

    /// The occurrence at `s..e` speaks of something happening now.
    fn live(&self, c: Clause, s: usize, e: usize) -> bool {
        let before = &self.text[c.start..s];
        let clause = &self.text[c.start..c.end];
        for (cue, dist) in NEGATIONS {
            if let Some(i) = before.rfind(cue) {
                let after_cue = &before[i + cue.len()..];
                // 是不是着火了 is a question, not a denial.
                let question = *cue == "不是" && before[..i].ends_with('是');
                if after_cue.chars().count() <= *dist && !question {
                    return false;
                }
            }
        }
        // Aspect 过 right after the verb: 被偷过, 被骗过.
        if self.text[e..].starts_with('过') {
            return false;
        }
        if PAST.iter().any(|cue| before.contains(cue))
            || HYPOTHETICAL.iter().any(|cue| before.contains(cue))
            || worry(before)
            || TOPIC.iter().any(|cue| clause.contains(cue))
        {
            return false;
        }
        true
    }
}

/// 怕 (afraid that …) makes a worry, but 怕是 is "probably" (怕是燃气漏了).
fn worry(before: &str) -> bool {
    before
        .match_indices('怕')
        .any(|(i, _)| !before[i + '怕'.len_utf8()..].starts_with('是'))
}

fn clauses(text: &str) -> Vec<Clause> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, ch) in text.char_indices() {
        if CLAUSE_BREAKS.contains(&ch) || ch.is_whitespace() {
            if i > start {
                out.push(Clause { start, end: i });
            }
            start = i + ch.len_utf8();
        }
    }
    if start < text.len() {
        out.push(Clause {
            start,
            end: text.len(),
        });
    }
    out
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use jieba_rs::Jieba;
    use std::sync::LazyLock;

    static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

    fn detect(text: &str) -> Option<Emergency> {
        let tokens = JIEBA.cut(text, false);
        Detector::new().detect(text, &tokens)
    }

    fn line(text: &str) -> Option<&'static str> {
        detect(text).map(|e| e.line.as_str())
    }

    #[test]
    fn the_calls_quoted_in_the_triage_issue() {
        assert_eq!(line("邻居两口子吵架，男的拿着菜刀追着打人"), Some("110"));
        assert_eq!(line("河里有人落水"), Some("119"));
        assert_eq!(line("孩子走丢了"), Some("110"));
        assert_eq!(line("有人偷我电动车"), Some("110"));
        assert_eq!(line("煤气泄漏"), Some("119"));
        let e = detect("邻居两口子吵架，男的拿着菜刀追着打人").unwrap();
        assert!(e.evidence.iter().any(|w| w.contains("菜刀")), "{e:?}");
        assert!(e.confidence >= 0.9);
    }

    #[test]
    fn negation_and_scope() {
        for text in [
            "不是着火，是邻居在楼下烧烤",
            "上次被偷过，想在楼道装个监控",
            "想咨询防诈骗讲座什么时候办",
            "我家的狗走丢了",
            "车子刮蹭了一下，没人受伤",
            "没有人受伤，就是车灯撞坏了",
            "电线老化，担心着火",
            "楼道堆满杂物，万一起火怎么办",
            "以前被骗过，现在不敢网购",
            "消防培训怎么报名",
            "防溺水宣传牌被人拆了",
            "孩子的作业本找不到了",
            "我们楼下的火锅店油烟太大",
            "楼上天天打架子鼓，吵死了",
            "煤气费在哪里交",
            "猫被偷了",
        ] {
            assert_eq!(detect(text), None, "{text}");
        }
        // A question is not a denial.
        assert_eq!(line("楼下是不是着火了，好大的烟"), Some("119"));
    }

    #[test]
    fn one_line_by_danger() {
        // Fire beats injuries; a traffic accident with injuries is 122, not 120.
        assert_eq!(line("厨房着火了，我老公手烧伤了"), Some("119"));
        assert_eq!(line("路口出车祸了，有个人躺在地上流血"), Some("122"));
        assert_eq!(line("他被人用刀砍伤了，流了很多血"), Some("110"));
        assert_eq!(line("我爸突然晕倒了，叫不醒"), Some("120"));
    }

    #[test]
    fn words_only_on_word_boundaries() {
        let tokens = JIEBA.cut("火烧坪村的路灯坏了", false);
        assert_eq!(Detector::new().detect("火烧坪村的路灯坏了", &tokens), None);
    }
}
