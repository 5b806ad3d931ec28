/*!
The starter's departments and the routing their duties give: the 派单目录 of `m110 init`.

Every default category names the department functions that solve it
([`taxonomy::duties`](super::taxonomy::duties)); every starter department lists its functions.
A category goes to the department holding its duty, and a sub-category gets a rule of its own
only where that department differs from its parent's — 停电 goes to the power company while the
rest of 公共设施 goes to 城管. Categories without a duty are the center's (answered or matched
to providers there) or the township's (disputes and the rest, by scope).
*/

use super::taxonomy::duties;

/// A department every county has, with the functions (职能) it is responsible for.
pub struct Dept {
    pub id: &'static str,
    /// Appended to the region's name: 邵武市 + 城市管理局.
    pub suffix: &'static str,
    pub functions: &'static [&'static str],
    /// A national service number, where there is one.
    pub hotline: Option<&'static str>,
}

pub const DEPARTMENTS: &[Dept] = &[
    Dept {
        id: "urban-management",
        suffix: "城市管理局",
        functions: &["市政设施", "路灯", "市容环境卫生", "占道经营"],
        hotline: None,
    },
    Dept {
        id: "ecology-environment",
        suffix: "生态环境局",
        functions: &["污染防治", "噪声", "油烟", "水质"],
        hotline: None,
    },
    Dept {
        id: "transport",
        suffix: "交通运输局",
        functions: &["公路养护", "客运", "公交", "出租车"],
        hotline: None,
    },
    Dept {
        id: "housing-construction",
        suffix: "住房和城乡建设局",
        functions: &["物业监管", "危房", "保障性住房", "违法建设", "燃气监管"],
        hotline: None,
    },
    Dept {
        id: "civil-affairs",
        suffix: "民政局",
        functions: &["低保", "特困供养", "临时救助", "养老服务", "儿童福利"],
        hotline: None,
    },
    Dept {
        id: "justice",
        suffix: "司法局",
        functions: &["法律援助", "人民调解指导"],
        hotline: Some("12348"),
    },
    Dept {
        id: "human-resources",
        suffix: "人力资源和社会保障局",
        functions: &["社保", "就业", "劳动监察", "欠薪"],
        hotline: Some("12333"),
    },
    Dept {
        id: "market-regulation",
        suffix: "市场监督管理局",
        functions: &["消费投诉", "食品安全", "价格", "特种设备"],
        hotline: Some("12315"),
    },
    Dept {
        id: "health",
        suffix: "卫生健康局",
        functions: &["医疗服务", "公共卫生"],
        hotline: Some("12320"),
    },
    Dept {
        // Every government has an office that supervises its departments (督查室); complaints
        // about government service and escalations go there.
        id: "supervision-office",
        suffix: "人民政府办公室",
        functions: &["政务服务投诉", "督查督办"],
        hotline: None,
    },
    Dept {
        id: "power-supply",
        suffix: "供电公司",
        functions: &["停电", "电力抢修"],
        hotline: Some("95598"),
    },
    Dept {
        id: "water-supply",
        suffix: "自来水公司",
        functions: &["停水", "供水抢修", "水费"],
        hotline: None,
    },
];

/// Categories the center handles itself (answering from the directories, dispatching vetted
/// market providers) rather than sending to a department.
pub const CENTER_CATEGORIES: &[&str] = &["housekeeping", "repairs", "consultation"];

/// Categories routed to the local tier-1 unit (township / district government) by scope:
/// disputes are mediated where people live (人民调解委员会), and what fits nowhere else is the
/// local government's.
pub const LOCAL_CATEGORIES: &[&str] = &["disputes", "other"];

/// The department holding one of `functions`, first in [`DEPARTMENTS`] order.
pub fn department_for(functions: &[&str]) -> Option<&'static Dept> {
    DEPARTMENTS
        .iter()
        .find(|d| d.functions.iter().any(|f| functions.contains(f)))
}

/// Region-wide routing rules the duties give: `(department id, categories)`, in department
/// order, each category listed once — only where its department differs from its parent's.
pub fn duty_rules() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut resolved: std::collections::HashMap<&str, Option<&str>> =
        std::collections::HashMap::new();
    let mut rules: Vec<(&'static str, Vec<&'static str>)> =
        DEPARTMENTS.iter().map(|d| (d.id, Vec::new())).collect();
    for d in duties() {
        let parent = d.code.rsplit_once('.').map(|(p, _)| p);
        let inherited = parent.and_then(|p| resolved.get(p).copied().flatten());
        let own = department_for(d.functions).map(|x| x.id);
        let unit = own.or(inherited);
        if let Some(u) = own
            && Some(u) != inherited
        {
            let slot = rules.iter_mut().find(|(id, _)| *id == u).expect("listed");
            slot.1.push(d.code);
        }
        resolved.insert(d.code, unit);
    }
    rules.retain(|(_, cats)| !cats.is_empty());
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_duty_has_a_department() {
        for d in duties() {
            if !d.functions.is_empty() {
                assert!(department_for(d.functions).is_some(), "{}", d.code);
            }
        }
    }

    #[test]
    fn the_issue_list_goes_where_it_belongs() {
        let rules = duty_rules();
        let unit_of = |cat: &str| {
            rules
                .iter()
                .find(|(_, cats)| cats.contains(&cat))
                .map(|(u, _)| *u)
        };
        assert_eq!(unit_of("disputes.labour.wage_arrears"), None, "inherits");
        assert_eq!(unit_of("disputes.labour"), Some("human-resources"));
        assert_eq!(
            unit_of("public_facilities.utilities.power"),
            Some("power-supply")
        );
        assert_eq!(
            unit_of("public_facilities.utilities.water"),
            Some("water-supply")
        );
        assert_eq!(unit_of("public_facilities"), Some("urban-management"));
        assert_eq!(unit_of("market"), Some("market-regulation"));
        assert_eq!(unit_of("market.food"), None, "inherits 市场监管");
        assert_eq!(unit_of("housing.elevator"), Some("market-regulation"));
        assert_eq!(unit_of("health"), Some("health"));
        assert_eq!(unit_of("disputes.legal_aid"), Some("justice"));
        // Every starter department receives something.
        for d in DEPARTMENTS {
            assert!(
                rules.iter().any(|(u, _)| *u == d.id),
                "{} gets nothing",
                d.id
            );
        }
    }
}
