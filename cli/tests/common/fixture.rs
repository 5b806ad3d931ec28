//! A small, hand-built region for the kit's tests: two street offices of Shaowu (real codes),
//! three communities, four grid cells, a handful of handling units, four categories (one police),
//! a routing table with one deliberate gap, and every kind of existing platform integration.
//!
//! Built in code rather than parsed from YAML so the plan/generate/compare goldens change only
//! when those modules change, not when profile defaults do.

#![allow(dead_code)]

use m110_runtime::model::*;

pub fn staffing() -> StaffingInputs {
    StaffingInputs {
        calls_per_1000_per_year: 150.0,
        peak_hour_share: 0.12,
        aht_seconds: 180.0,
        service_level_target: 0.8,
        service_level_seconds: 20.0,
        shrinkage: 0.3,
        max_occupancy: 0.85,
        roster: Default::default(),
    }
}

fn grid(code: &str, name: &str, parent: Option<&str>, tier: u8, pop: Option<u64>) -> GridUnit {
    GridUnit {
        code: code.into(),
        name: name.into(),
        parent: parent.map(Into::into),
        tier,
        population: pop,
        households: pop.map(|p| p / 3),
        centroid: None,
        generated: tier == 3,
    }
}

fn unit(id: &str, kind: UnitKind, name: &str, hotline: Option<&str>) -> HandlingUnit {
    HandlingUnit {
        id: id.into(),
        kind,
        name: name.into(),
        hotline: hotline.map(Into::into),
        contacts: vec![],
        functions: vec![],
        service_categories: vec![],
        qualification: None,
        scope: vec![],
        address: None,
        platform: None,
    }
}

fn category(code: &str, zh: &str, en: &str, priority: Priority, police: bool) -> Category {
    Category {
        code: code.into(),
        name_zh: zh.into(),
        name_en: en.into(),
        parent: None,
        priority,
        police,
        sign_minutes: if police { 5 } else { 30 },
        close_hours: if police { 1 } else { 72 },
        keywords: vec![],
        matchable: false,
    }
}

fn rule(category: &str, scope: Option<&str>, unit: &str) -> RoutingRule {
    RoutingRule {
        category: category.into(),
        scope: scope.map(Into::into),
        unit: unit.into(),
    }
}

/// The fixture region (a county).
pub fn region() -> Region {
    let mut center = unit(
        "center",
        UnitKind::Center,
        "邵武市民生服务中心",
        Some("110"),
    );
    center.contacts = vec![Contact {
        name: "值班长".into(),
        role: Some("shift lead".into()),
        phone: Some("0599-6300110".into()),
    }];
    let mut housing = unit(
        "housing",
        UnitKind::Department,
        "住房和城乡建设局",
        Some("0599-6322001"),
    );
    housing.functions = vec!["物业监管".into(), "危房改造".into()];
    housing.contacts = vec![Contact {
        name: "李明".into(),
        role: Some("科长".into()),
        phone: Some("13800000001".into()),
    }];
    let mut zhaoyang = unit("zhaoyang", UnitKind::Township, "昭阳街道办事处", None);
    zhaoyang.scope = vec!["350781001".into()];
    let mut gongtai = unit(
        "gongtai-center",
        UnitKind::CommunityCenter,
        "公太社区服务中心",
        None,
    );
    gongtai.scope = vec!["350781001001".into()];
    gongtai.address = Some("公太路1号".into());
    let redcross = unit(
        "redcross",
        UnitKind::SocialOrganization,
        "邵武市红十字会",
        Some("0599-6333120"),
    );
    let volunteers = unit(
        "volunteers",
        UnitKind::VolunteerTeam,
        "青年志愿者服务队",
        None,
    );
    let mut repairs = unit("repairs-co", UnitKind::MarketProvider, "便民维修公司", None);
    repairs.service_categories = vec!["repairs".into()];
    repairs.qualification = Some("营业执照 91350781XXXX".into());
    let police = unit(
        "police",
        UnitKind::Police,
        "邵武市公安局110指挥中心",
        Some("110"),
    );

    Region {
        info: RegionInfo {
            code: "350781".into(),
            name: "邵武市".into(),
            parents: vec!["福建省".into(), "南平市".into()],
            population: 300_000,
            area_km2: 2852.0,
            archetype: Archetype::County,
            division_edition: "2023".into(),
        },
        service_center: ServiceCenter {
            number: "110".into(),
            hours: "24/7".into(),
            languages: vec!["zh-CN".into(), "en".into()],
            staffing: staffing(),
            rules: Default::default(),
        },
        tiers: vec![
            Tier {
                level: 1,
                key: "township".into(),
                name: "乡镇/街道".into(),
            },
            Tier {
                level: 2,
                key: "village".into(),
                name: "村/社区".into(),
            },
            Tier {
                level: 3,
                key: "cell".into(),
                name: "网格".into(),
            },
        ],
        grid_units: vec![
            grid("350781001", "昭阳街道", None, 1, None),
            grid("350781002", "通泰街道", None, 1, None),
            grid("350781001001", "公太社区", Some("350781001"), 2, Some(3000)),
            grid(
                "350781001002",
                "五一九社区",
                Some("350781001"),
                2,
                Some(2400),
            ),
            grid("350781002001", "通泰社区", Some("350781002"), 2, Some(1800)),
            grid(
                "350781001001-01",
                "公太社区第1网格",
                Some("350781001001"),
                3,
                None,
            ),
            grid(
                "350781001001-02",
                "公太社区第2网格",
                Some("350781001001"),
                3,
                None,
            ),
            grid(
                "350781001002-01",
                "五一九社区第1网格",
                Some("350781001002"),
                3,
                None,
            ),
            grid(
                "350781002001-01",
                "通泰社区第1网格",
                Some("350781002001"),
                3,
                None,
            ),
        ],
        units: vec![
            center, housing, zhaoyang, gongtai, redcross, volunteers, repairs, police,
        ],
        categories: vec![
            category(
                "police",
                "警情转警",
                "Police emergency",
                Priority::Urgent,
                true,
            ),
            category(
                "housing",
                "房屋物业",
                "Housing and property",
                Priority::Normal,
                false,
            ),
            category("repairs", "维修服务", "Repairs", Priority::Low, false),
            category(
                "dispute",
                "邻里纠纷",
                "Neighbour disputes",
                Priority::High,
                false,
            ),
        ],
        routing: Routing {
            rules: vec![
                rule("police", None, "police"),
                rule("housing", None, "housing"),
                rule("repairs", None, "repairs-co"),
                rule("dispute", Some("350781001"), "zhaoyang"),
                rule("dispute", Some("350781001001"), "gongtai-center"),
            ],
            fallback_unit: "center".into(),
            escalation: vec![EscalationChain {
                category: None,
                steps: vec![
                    EscalationStep {
                        unit: "center".into(),
                        after_minutes: 0,
                    },
                    EscalationStep {
                        unit: "housing".into(),
                        after_minutes: 120,
                    },
                ],
            }],
        },
        platforms: vec![
            Platform {
                id: "police-110".into(),
                kind: PlatformKind::PoliceDispatch,
                name: "公安110接处警系统".into(),
                integration: Integration::Webhook {
                    url: "https://110.example.gov.cn/hook".into(),
                    secret_env: None,
                },
                cameras: None,
            },
            Platform {
                id: "wangtong".into(),
                kind: PlatformKind::GridApp,
                name: "网通e格".into(),
                integration: Integration::CsvImport {
                    path: "data/wangtong.csv".into(),
                },
                cameras: None,
            },
            Platform {
                id: "cameras".into(),
                kind: PlatformKind::CameraNetwork,
                name: "天网视频监控".into(),
                integration: Integration::None,
                cameras: Some(735),
            },
            Platform {
                id: "portal".into(),
                kind: PlatformKind::GovPortal,
                name: "邵武市政府门户".into(),
                integration: Integration::Open311 {
                    endpoint: "https://www.shaowu.gov.cn/open311/v2".into(),
                    secret_env: None,
                },
                cameras: None,
            },
        ],
        directory: vec![
            DirectoryEntry {
                system: DirectorySystem::WelfareFacilities,
                name: "邵武市社会福利中心".into(),
                category: Some("养老".into()),
                phone: Some("0599-6310001".into()),
                address: Some("熙春路8号".into()),
                grid: Some("350781001".into()),
                description: Some("集中供养, 日间照料".into()),
                qualification: None,
                unit: None,
            },
            DirectoryEntry {
                system: DirectorySystem::MarketProviders,
                name: "好帮手家政".into(),
                category: Some("housekeeping".into()),
                phone: Some("13900000002".into()),
                address: None,
                grid: Some("350781002".into()),
                description: Some("保洁, \"钟点工\"".into()),
                qualification: Some("家政服务资质 A".into()),
                unit: None,
            },
        ],
        households: vec![
            Household {
                head_name: "张三".into(),
                kind: HouseholdKind::Dibao,
                grid: Some("350781001001-01".into()),
                phone: Some("13700000003".into()),
                id_number: Some("350781195001010011".into()),
                members: Some(2),
                address: Some("公太路5号".into()),
                notes: None,
            },
            Household {
                head_name: "李四".into(),
                kind: HouseholdKind::Dibao,
                grid: Some("350781001001-01".into()),
                phone: None,
                id_number: None,
                members: Some(1),
                address: None,
                notes: None,
            },
            Household {
                head_name: "王五".into(),
                kind: HouseholdKind::ElderlyAlone,
                grid: Some("350781002001-01".into()),
                phone: None,
                id_number: None,
                members: Some(1),
                address: None,
                notes: None,
            },
        ],
        appraisal: Appraisal::default(),
        early_warning: EarlyWarning::default(),
        cameras: Vec::new(),
    }
}

/// An urban district variant: no centroids and no integrated grid app or cameras, so regional
/// adaptation fails; a 12345 platform not integrated, so integration fails too.
pub fn district() -> Region {
    let mut r = region();
    r.info.code = "350102".into();
    r.info.name = "鼓楼区".into();
    r.info.parents = vec!["福建省".into(), "福州市".into()];
    r.info.population = 700_000;
    r.info.area_km2 = 35.7;
    r.info.archetype = Archetype::CityDistrict;
    r.service_center.number = "12345".into();
    r.platforms = vec![
        Platform {
            id: "hotline-12345".into(),
            kind: PlatformKind::Hotline12345,
            name: "福州12345便民服务平台".into(),
            integration: Integration::None,
            cameras: None,
        },
        Platform {
            id: "grid".into(),
            kind: PlatformKind::GridApp,
            name: "鼓楼网格通".into(),
            integration: Integration::None,
            cameras: None,
        },
    ];
    r
}
