//! The kit's 中类 and 小类: sub-categories under the 大类 of `roots.rs`, each with the duty
//! (部门职能) that sends it to the department that can solve it. Keywords moved here from the
//! 大类 still count for the 大类 in the classifier (it learns 大类 only); they pick the
//! sub-category once the 大类 is known (`engine::triage`, refinement).

use m110_runtime::model::Priority::{self, High, Normal};

use super::Def;

/// A sub-category with its parent's shape: not police, its own deadlines.
#[allow(clippy::too_many_arguments)]
const fn sub(
    code: &'static str,
    parent: &'static str,
    std: &'static str,
    zh: &'static str,
    en: &'static str,
    (priority, sign_minutes, close_hours): (Priority, u32, u32),
    duty: &'static [&'static str],
    keywords: &'static [&'static str],
) -> Def {
    Def {
        code,
        parent: Some(parent),
        std,
        duty,
        zh,
        en,
        priority,
        police: false,
        sign_minutes,
        close_hours,
        keywords,
    }
}

/// Utility outages: a household without power or water is signed within 15 minutes and put
/// right within a day (供电/供水服务承诺 are stricter; the kit's deadline is the center's).
const OUTAGE: (Priority, u32, u32) = (High, 15, 24);
const NORMAL_72: (Priority, u32, u32) = (Normal, 30, 72);
const NORMAL_120: (Priority, u32, u32) = (Normal, 60, 120);
const HIGH_72: (Priority, u32, u32) = (High, 30, 72);

// One row per category reads as the table it is; rustfmt would spread each over ten lines.
#[rustfmt::skip]
pub(super) const SUBS: &[Def] = &[
    // 02 公共设施
    sub("public_facilities.municipal", "public_facilities", "020100", "市政设施", "Municipal facilities", NORMAL_72, &["市政设施"], &["市政", "排水管"]),
    sub("public_facilities.municipal.streetlight", "public_facilities.municipal", "020101", "路灯照明", "Street lights", NORMAL_72, &["路灯"], &["路灯", "不亮", "照明"]),
    sub("public_facilities.municipal.manhole", "public_facilities.municipal", "020102", "井盖", "Manhole covers", HIGH_72, &["市政设施"], &["井盖", "窨井"]),
    sub("public_facilities.municipal.toilet", "public_facilities.municipal", "020103", "公厕", "Public toilets", NORMAL_72, &["市容环境卫生"], &["公厕", "厕所"]),
    sub("public_facilities.utilities", "public_facilities", "020200", "水电气", "Power, water and gas", OUTAGE, &[], &["水电气", "抄表"]),
    sub("public_facilities.utilities.power", "public_facilities.utilities", "020201", "停电", "Power outage", OUTAGE, &["停电", "电力抢修"], &["停电", "断电", "电线", "电线杆", "变压器", "没电"]),
    sub("public_facilities.utilities.water", "public_facilities.utilities", "020202", "停水", "Water outage", OUTAGE, &["停水", "供水抢修"], &["停水", "水压", "水管爆裂", "没水", "自来水"]),
    sub("public_facilities.utilities.gas", "public_facilities.utilities", "020203", "燃气", "Gas supply", OUTAGE, &["燃气监管"], &["燃气", "煤气", "天然气"]),
    // 03 环境卫生
    sub("environment.sanitation", "environment", "030100", "市容环卫", "Street cleaning and refuse", NORMAL_72, &["市容环境卫生"], &["垃圾", "垃圾桶", "清运", "乱倒", "渣土"]),
    sub("environment.noise", "environment", "030200", "噪声扰民", "Noise", NORMAL_72, &["噪声"], &["噪音", "噪声", "扰民"]),
    sub("environment.air", "environment", "030300", "大气污染", "Air pollution", NORMAL_72, &["油烟"], &["油烟", "烧秸秆", "焚烧", "黑烟"]),
    sub("environment.water", "environment", "030400", "水污染", "Water pollution", HIGH_72, &["水质"], &["污水", "排污", "河道", "水质", "死鱼"]),
    // 04 道路交通
    sub("roads.damage", "roads", "040100", "路面破损", "Damaged roads", NORMAL_72, &["公路养护"], &["路面", "坑洼", "塌陷"]),
    sub("roads.geohazard", "roads", "040200", "落石塌方", "Rock falls and landslides", OUTAGE, &["公路养护"], &["落石", "塌方", "山体滑坡"]),
    sub("roads.transit", "roads", "040300", "公共交通", "Public transport", NORMAL_72, &["客运", "公交"], &["公交", "班车", "客运", "出租车"]),
    // 05 住房物业
    sub("housing.property", "housing", "050100", "物业管理", "Property management", NORMAL_120, &["物业监管"], &["物业", "物业费", "小区", "停车位", "业委会"]),
    sub("housing.elevator", "housing", "050200", "电梯安全", "Lift safety", OUTAGE, &["特种设备"], &["电梯", "困人"]),
    sub("housing.illegal_building", "housing", "050300", "违法建设", "Illegal construction", NORMAL_120, &["违法建设"], &["违建", "违章建筑", "乱搭乱建"]),
    sub("housing.unsafe", "housing", "050400", "危房", "Unsafe buildings", HIGH_72, &["危房"], &["危房", "裂缝"]),
    // 06 邻里纠纷
    sub("disputes.labour", "disputes", "060100", "劳动纠纷", "Labour disputes", NORMAL_120, &["劳动监察"], &["劳动合同", "辞退", "加班费", "工伤", "劳动仲裁"]),
    sub("disputes.labour.wage_arrears", "disputes.labour", "060101", "欠薪", "Unpaid wages", (High, 30, 120), &["欠薪"], &["欠薪", "拖欠工资", "讨薪", "工钱", "农民工工资"]),
    sub("disputes.legal_aid", "disputes", "060200", "法律援助", "Legal aid", NORMAL_120, &["法律援助"], &["法律援助", "请律师", "打官司"]),
    // 07 社会救助
    sub("assistance.subsistence", "assistance", "070100", "低保特困", "Minimum living allowance", (High, 30, 120), &["低保", "特困供养"], &["低保", "特困", "五保"]),
    sub("assistance.temporary", "assistance", "070200", "临时救助", "Emergency relief", (High, 30, 72), &["临时救助"], &["临时救助", "急难"]),
    // 13 市场监管
    sub("market.food", "market", "130100", "食品安全", "Food safety", HIGH_72, &["食品安全"], &["食品安全", "过期食品", "变质", "不卫生", "吃出"]),
    sub("market.consumer", "market", "130200", "消费维权", "Consumer complaints", (Normal, 30, 168), &["消费投诉"], &["消费者", "退款", "退货", "假货", "售后", "缺斤少两"]),
    sub("market.price", "market", "130300", "价格", "Prices", (Normal, 30, 168), &["价格"], &["价格欺诈", "涨价", "哄抬", "明码标价"]),
    // 14 医疗卫生
    sub("health.medical", "health", "140100", "医疗服务", "Medical services", NORMAL_120, &["医疗服务"], &["医院", "医生", "看病", "挂号", "医疗纠纷"]),
    sub("health.public", "health", "140200", "公共卫生", "Public health", NORMAL_120, &["公共卫生"], &["疫苗", "接种", "卫生院", "诊所", "防疫"]),
];
