/*!
The region's categories as Open311 services, and the attribute set every service definition
offers.

Police-emergency categories are never services: Open311 is an unattended channel and an
emergency must be a phone call to police dispatch (转警). Every other category is a `realtime`
service whose code is the category code. All services share one optional, channel-agnostic
attribute set (urgency, callback wish, preferred contact times, landmark, time of occurrence,
people affected), so `metadata` is true for every service — exactly when attributes exist.
*/

use std::collections::BTreeMap;

use crate::model::Category;

use super::format::{Attribute, Datatype, Open311Error, Service, parse_datetime};

/// The Open311 service for a category; `parent_name` is the parent category's zh-CN name.
pub fn service(category: &Category, parent_name: Option<&str>) -> Service {
    let attributes = attributes();
    Service {
        service_code: category.code.clone(),
        service_name: category.name_zh.clone(),
        description: format!(
            "{}（{}）：派单后 {} 分钟内签收，{} 小时内办结 / {}: signed within {} min, closed within {} h of dispatch",
            category.name_zh,
            category.name_en,
            category.sign_minutes,
            category.close_hours,
            category.name_en,
            category.sign_minutes,
            category.close_hours,
        ),
        metadata: !attributes.is_empty(),
        keywords: category.keywords.clone(),
        // Top-level categories group under their own name so every service has a group.
        group: Some(parent_name.unwrap_or(&category.name_zh).to_string()),
    }
}

/// The services a region offers: its non-police categories, as the taxonomy's tree (each 大类
/// followed by its sub-categories), grouped under their 大类 — Open311 has one level of
/// groups, and the 大类 is the one a client's menu shows.
pub fn services(categories: &[Category]) -> Vec<Service> {
    let mut top: Option<&str> = None;
    crate::model::region::categories_in_tree_order(categories)
        .into_iter()
        .filter(|(c, _)| !c.police)
        .map(|(c, depth)| {
            if depth == 0 {
                top = Some(c.name_zh.as_str());
                service(c, None)
            } else {
                service(c, top)
            }
        })
        .collect()
}

/// The attribute set of every service definition.
pub fn attributes() -> Vec<Attribute> {
    vec![
        Attribute {
            code: "urgency",
            datatype: Datatype::SingleValueList,
            required: false,
            datatype_description: "选择一项 / choose one",
            order: 1,
            description: "紧急程度 / How urgent is it?",
            values: vec![
                ("low", "不急 / low"),
                ("normal", "一般 / normal"),
                ("high", "较急 / high"),
                ("urgent", "紧急 / urgent"),
            ],
        },
        Attribute {
            code: "callback",
            datatype: Datatype::SingleValueList,
            required: false,
            datatype_description: "选择一项 / choose one",
            order: 2,
            description: "办结后是否需要回访 / Would you like a follow-up call when it is done?",
            values: vec![("yes", "需要回访 / yes"), ("no", "无需回访 / no")],
        },
        Attribute {
            code: "contact_time",
            datatype: Datatype::MultiValueList,
            required: false,
            datatype_description: "可多选 / choose any",
            order: 3,
            description: "方便联系的时段 / When can we reach you?",
            values: vec![
                ("morning", "上午 / morning"),
                ("afternoon", "下午 / afternoon"),
                ("evening", "晚上 / evening"),
            ],
        },
        Attribute {
            code: "landmark",
            datatype: Datatype::String,
            required: false,
            datatype_description: "不超过 200 字 / up to 200 characters",
            order: 4,
            description: "附近的地标 / A landmark nearby",
            values: vec![],
        },
        Attribute {
            code: "occurred_at",
            datatype: Datatype::Datetime,
            required: false,
            datatype_description: "ISO-8601，例如 2026-11-28T09:30:00+08:00",
            order: 5,
            description: "问题发生的时间 / When did it happen?",
            values: vec![],
        },
        Attribute {
            code: "affected_people",
            datatype: Datatype::Number,
            required: false,
            datatype_description: "非负整数 / a whole number ≥ 0",
            order: 6,
            description: "受影响的人数 / How many people are affected?",
            values: vec![],
        },
    ]
}

/// Checks submitted attributes against the definition and returns them as (code, value) pairs
/// in definition order (a multi-value attribute repeats its code).
pub fn validate_attributes(
    definition: &[Attribute],
    submitted: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<(String, String)>, Open311Error> {
    for code in submitted.keys() {
        if !definition.iter().any(|a| a.code == code) {
            return Err(Open311Error::bad_request(format!(
                "未知属性 attribute[{code}] / unknown attribute {code}"
            )));
        }
    }
    let mut out = Vec::new();
    for attr in definition {
        let values = submitted.get(attr.code).map(Vec::as_slice).unwrap_or(&[]);
        if values.is_empty() {
            if attr.required {
                return Err(Open311Error::bad_request(format!(
                    "缺少必填属性 attribute[{0}] / attribute {0} is required",
                    attr.code
                )));
            }
            continue;
        }
        let bad = |why: &str| {
            Open311Error::bad_request(format!(
                "属性 attribute[{0}] 取值无效 / attribute {0}: {why}",
                attr.code
            ))
        };
        if attr.datatype != Datatype::MultiValueList && values.len() > 1 {
            return Err(bad("only one value is allowed"));
        }
        for v in values {
            match attr.datatype {
                Datatype::SingleValueList | Datatype::MultiValueList => {
                    if !attr.values.iter().any(|(k, _)| k == v) {
                        let keys: Vec<&str> = attr.values.iter().map(|(k, _)| *k).collect();
                        return Err(bad(&format!("expected one of {}", keys.join(", "))));
                    }
                }
                Datatype::Number => {
                    if v.parse::<u32>().is_err() {
                        return Err(bad("expected a whole number ≥ 0"));
                    }
                }
                Datatype::Datetime => {
                    if parse_datetime(v).is_none() {
                        return Err(bad("expected an ISO-8601 date-time"));
                    }
                }
                Datatype::String => {
                    if v.chars().count() > 200 {
                        return Err(bad("longer than 200 characters"));
                    }
                }
                Datatype::Text => {
                    if v.chars().count() > 4000 {
                        return Err(bad("longer than 4000 characters"));
                    }
                }
            }
            if out
                .iter()
                .any(|(c, x): &(String, String)| c == attr.code && x == v)
            {
                continue;
            }
            out.push((attr.code.to_string(), v.clone()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Priority;

    fn category(code: &str, parent: Option<&str>, police: bool) -> Category {
        Category {
            code: code.into(),
            name_zh: format!("{code}中文"),
            name_en: code.into(),
            parent: parent.map(Into::into),
            priority: Priority::Normal,
            police,
            sign_minutes: 30,
            close_hours: 72,
            keywords: vec!["路灯".into(), "不亮".into()],
            matchable: false,
        }
    }

    #[test]
    fn police_categories_are_not_services() {
        let cats = vec![
            category("roads", None, false),
            category("roads.streetlight", Some("roads"), false),
            category("police", None, true),
        ];
        let s = services(&cats);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].group.as_deref(), Some("roads中文"));
        assert_eq!(s[1].group.as_deref(), Some("roads中文"));
        assert_eq!(s[1].keywords.join(","), "路灯,不亮");
        assert!(s.iter().all(|x| x.metadata));
        assert!(s[1].description.contains("30 分钟"));
    }

    fn submitted(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn valid_attributes_come_back_in_definition_order() {
        let defs = attributes();
        let got = validate_attributes(
            &defs,
            &submitted(&[
                ("contact_time", &["evening", "morning", "evening"]),
                ("urgency", &["high"]),
                ("affected_people", &["12"]),
                ("occurred_at", &["2026-11-28T09:00:00+08:00"]),
            ]),
        )
        .unwrap();
        let codes: Vec<&str> = got.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            codes,
            vec![
                "urgency",
                "contact_time",
                "contact_time",
                "occurred_at",
                "affected_people"
            ]
        );
    }

    #[test]
    fn invalid_attributes_are_400_naming_the_code() {
        let defs = attributes();
        for (code, values) in [
            ("colour", &["red"][..]),
            ("urgency", &["whenever"][..]),
            ("urgency", &["high", "low"][..]),
            ("affected_people", &["-3"][..]),
            ("occurred_at", &["last week"][..]),
        ] {
            let err = validate_attributes(&defs, &submitted(&[(code, values)])).unwrap_err();
            assert_eq!(err.code, 400);
            assert!(err.description.contains(code), "{}", err.description);
        }
        let mut required = attributes();
        required[0].required = true;
        let err = validate_attributes(&required, &BTreeMap::new()).unwrap_err();
        assert!(err.description.contains("urgency"));
    }
}
