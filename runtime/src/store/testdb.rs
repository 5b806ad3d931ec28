/*!
Test support: a fresh, migrated database per test on each engine the run covers.

SQLite always (a file in a private temporary directory); PostgreSQL when the environment
variable [`PG_ENV`] (`M110_TEST_PG_URL`) is set — then each test gets its own
`CREATE DATABASE m110_t_<unique>`, dropped afterwards. Set but unreachable is a test failure,
never a skip. Only tests use this module; it is public so every runtime test crate can.

```no_run
# async fn t() {
use m110_runtime::store::testdb::{TestDb, test_engines};
for engine in test_engines() {
    let db = TestDb::new(engine).await;
    // db.store ...
}
# }
```
*/

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;

use super::{ConnectOptions, Engine, Store};

/// Environment variable carrying the PostgreSQL URL for tests.
pub const PG_ENV: &str = "M110_TEST_PG_URL";

/// The engines this test run covers: SQLite always, PostgreSQL when [`PG_ENV`] is set.
pub fn test_engines() -> Vec<Engine> {
    let mut v = vec![Engine::Sqlite];
    if std::env::var(PG_ENV).is_ok_and(|s| !s.is_empty()) {
        v.push(Engine::Postgres);
    } else {
        eprintln!("note: {PG_ENV} unset, PostgreSQL variants skipped");
    }
    v
}

/// Whether this run covers PostgreSQL ([`PG_ENV`] is set).
pub fn postgres_enabled() -> bool {
    std::env::var(PG_ENV).is_ok_and(|s| !s.is_empty())
}

/// One test per engine: `per_engine!(name)` turns `async fn name(engine: Engine)` into the tests
/// `name::sqlite` and `name::postgres`, so a SQLite failure never hides PostgreSQL and every
/// failure names its engine. The PostgreSQL test returns early with a note when [`PG_ENV`] is
/// unset (set but unreachable is a failure, as everywhere).
#[macro_export]
macro_rules! per_engine {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::store::Engine::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::store::testdb::postgres_enabled() {
                        super::$name($crate::store::Engine::Postgres).await
                    } else {
                        eprintln!("note: {} unset, PostgreSQL variant skipped", $crate::store::testdb::PG_ENV);
                    }
                }
            }
        )*
    };
}

/// A unique name for a test database or file: process id, time and a counter.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A throwaway database (SQLite file or PostgreSQL database), removed on drop.
pub struct TestDb {
    pub store: Store,
    pub engine: Engine,
    /// URL of the database, for opening more connections or handing to a binary.
    pub url: String,
    dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// A fresh database with every migration applied.
    pub async fn new(engine: Engine) -> TestDb {
        TestDb::open(engine, true).await
    }

    /// A fresh, empty database (no migrations), for migration tests.
    pub async fn empty(engine: Engine) -> TestDb {
        TestDb::open(engine, false).await
    }

    async fn open(engine: Engine, migrate: bool) -> TestDb {
        let (url, dir, pg) = match engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir().join(unique_name("m110_t"));
                std::fs::create_dir_all(&dir).expect("create temp dir");
                let url = format!("sqlite://{}", dir.join("m110.db").display());
                (url, Some(dir), None)
            }
            Engine::Postgres => {
                let admin = std::env::var(PG_ENV).expect("M110_TEST_PG_URL set");
                let name = unique_name("m110_t");
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}")
                    });
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let _ = conn.close().await;
                (replace_db_name(&admin, &name), None, Some((admin, name)))
            }
        };
        let store = Store::connect_with(
            &url,
            &ConnectOptions {
                create_if_missing: true,
                migrate,
                ..ConnectOptions::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("open test database {url}: {e}"));
        TestDb {
            store,
            engine,
            url,
            dir,
            pg,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin, name)) = self.pg.take() {
            // Drop may run inside or outside a runtime: use a private one on its own thread.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut c)
                        .await;
                    }
                })
            })
            .join();
        }
    }
}

/// Replaces the database name (path) of a PostgreSQL URL, keeping any query string.
pub fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A small but complete region for storage and server tests: 邵武市 (350781) with two street
/// offices, three communities and three grid cells; every kind of handling unit with contacts
/// and scopes; categories including a police category and a sub-category listed before its
/// parent; scoped routing rules; escalation chains (one empty); every integration kind;
/// directory entries of every system; two vulnerable households.
pub fn fixture_region() -> crate::model::Region {
    use crate::model::*;

    fn grid(
        code: &str,
        name: &str,
        parent: Option<&str>,
        tier: u8,
        pop: Option<u64>,
        centroid: Option<(f64, f64)>,
    ) -> GridUnit {
        GridUnit {
            code: code.into(),
            name: name.into(),
            parent: parent.map(Into::into),
            tier,
            population: pop,
            households: pop.map(|p| p / 3),
            centroid: centroid.map(|(lat, lon)| LatLon { lat, lon }),
            generated: tier == 3,
        }
    }
    fn unit(id: &str, kind: UnitKind, name: &str, scope: &[&str]) -> HandlingUnit {
        HandlingUnit {
            id: id.into(),
            kind,
            name: name.into(),
            hotline: None,
            contacts: vec![],
            functions: vec![],
            service_categories: vec![],
            qualification: None,
            scope: scope.iter().map(|s| s.to_string()).collect(),
            address: None,
            platform: None,
        }
    }
    fn category(
        code: &str,
        zh: &str,
        en: &str,
        parent: Option<&str>,
        priority: Priority,
        police: bool,
        keywords: &[&str],
    ) -> Category {
        Category {
            code: code.into(),
            name_zh: zh.into(),
            name_en: en.into(),
            parent: parent.map(Into::into),
            priority,
            police,
            sign_minutes: if police { 5 } else { 120 },
            close_hours: if police { 1 } else { 72 },
            keywords: keywords.iter().map(|s| s.to_string()).collect(),
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

    let mut center = unit("center", UnitKind::Center, "邵武市民生110服务中心", &[]);
    center.hotline = Some("110".into());
    center.contacts = vec![
        Contact {
            name: "陈主任".into(),
            role: Some("主任".into()),
            phone: Some("13905990001".into()),
        },
        Contact {
            name: "值班室".into(),
            role: None,
            phone: Some("0599-6300110".into()),
        },
    ];
    center.address = Some("邵武市五一九路1号".into());
    let mut housing = unit("housing-bureau", UnitKind::Department, "市住建局", &[]);
    housing.hotline = Some("0599-6332345".into());
    housing.functions = vec!["道路维修".into(), "路灯管理".into()];
    let zhaoyang = unit(
        "zhaoyang-office",
        UnitKind::Township,
        "昭阳街道办事处",
        &["350781001"],
    );
    let tongtai = unit(
        "tongtai-office",
        UnitKind::Township,
        "通泰街道办事处",
        &["350781002"],
    );
    let community = unit(
        "dongguan-community-center",
        UnitKind::CommunityCenter,
        "东关社区服务中心",
        &["350781001001", "350781001002"],
    );
    let social = unit(
        "red-cross",
        UnitKind::SocialOrganization,
        "邵武市红十字会",
        &[],
    );
    let volunteers = unit(
        "youth-volunteers",
        UnitKind::VolunteerTeam,
        "青年志愿者服务队",
        &["350781002"],
    );
    let mut provider = unit(
        "anju-housekeeping",
        UnitKind::MarketProvider,
        "安居家政服务有限公司",
        &[],
    );
    provider.service_categories = vec!["housekeeping".into()];
    provider.qualification = Some("家政服务资质 A 级".into());
    let police = unit(
        "police-110",
        UnitKind::Police,
        "邵武市公安局110指挥中心",
        &[],
    );

    Region {
        info: RegionInfo {
            code: "350781".into(),
            name: "邵武市".into(),
            parents: vec!["福建省".into(), "南平市".into()],
            population: 300_000,
            area_km2: 2_850.5,
            archetype: Archetype::County,
            division_edition: "2023".into(),
        },
        service_center: ServiceCenter {
            number: "110".into(),
            hours: "24/7".into(),
            languages: vec!["zh-CN".into(), "en".into()],
            staffing: StaffingInputs {
                calls_per_1000_per_year: 150.0,
                peak_hour_share: 0.12,
                aht_seconds: 180.0,
                service_level_target: 0.8,
                service_level_seconds: 20.0,
                shrinkage: 0.3,
                max_occupancy: 0.85,
                roster: Default::default(),
            },
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
            grid(
                "350781001",
                "昭阳街道",
                None,
                1,
                Some(60_000),
                Some((27.34, 117.48)),
            ),
            grid(
                "350781002",
                "通泰街道",
                None,
                1,
                Some(50_000),
                Some((27.33, 117.50)),
            ),
            grid(
                "350781001001",
                "东关社区",
                Some("350781001"),
                2,
                Some(8_000),
                Some((27.341, 117.481)),
            ),
            grid(
                "350781001002",
                "西门社区",
                Some("350781001"),
                2,
                Some(7_000),
                None,
            ),
            grid(
                "350781002001",
                "水北社区",
                Some("350781002"),
                2,
                None,
                Some((27.331, 117.502)),
            ),
            grid(
                "350781001001-01",
                "东关社区第一网格",
                Some("350781001001"),
                3,
                Some(1_000),
                None,
            ),
            grid(
                "350781001001-02",
                "东关社区第二网格",
                Some("350781001001"),
                3,
                Some(1_200),
                None,
            ),
            grid(
                "350781002001-01",
                "水北社区第一网格",
                Some("350781002001"),
                3,
                None,
                None,
            ),
        ],
        units: vec![
            center, housing, zhaoyang, tongtai, community, social, volunteers, provider, police,
        ],
        categories: vec![
            category(
                "roads.streetlight",
                "路灯",
                "Street lights",
                Some("roads"),
                Priority::Normal,
                false,
                &["路灯", "不亮"],
            ),
            category(
                "roads",
                "道路",
                "Roads",
                None,
                Priority::Normal,
                false,
                &["道路", "坑洼"],
            ),
            category(
                "water",
                "供水",
                "Water supply",
                None,
                Priority::High,
                false,
                &["停水", "水管"],
            ),
            category(
                "housekeeping",
                "家政服务",
                "Housekeeping",
                None,
                Priority::Low,
                false,
                &["保洁", "家政"],
            ),
            category(
                "police.emergency",
                "治安警情",
                "Police emergency",
                None,
                Priority::Urgent,
                true,
                &["打架", "抢劫", "报警"],
            ),
        ],
        routing: Routing {
            rules: vec![
                rule("roads", None, "housing-bureau"),
                rule("roads.streetlight", Some("350781001"), "zhaoyang-office"),
                rule(
                    "roads.streetlight",
                    Some("350781001001"),
                    "dongguan-community-center",
                ),
                rule("water", None, "housing-bureau"),
                rule("housekeeping", None, "anju-housekeeping"),
                rule("police.emergency", None, "police-110"),
            ],
            fallback_unit: "center".into(),
            escalation: vec![
                EscalationChain {
                    category: None,
                    steps: vec![
                        EscalationStep {
                            unit: "center".into(),
                            after_minutes: 0,
                        },
                        EscalationStep {
                            unit: "housing-bureau".into(),
                            after_minutes: 120,
                        },
                    ],
                },
                EscalationChain {
                    category: Some("housekeeping".into()),
                    steps: vec![],
                },
                EscalationChain {
                    category: Some("water".into()),
                    steps: vec![EscalationStep {
                        unit: "housing-bureau".into(),
                        after_minutes: 30,
                    }],
                },
            ],
        },
        platforms: vec![
            Platform {
                id: "police-dispatch".into(),
                kind: PlatformKind::PoliceDispatch,
                name: "警务110接处警系统".into(),
                integration: Integration::Webhook {
                    url: "http://127.0.0.1:9/police".into(),
                    secret_env: None,
                },
                cameras: None,
            },
            Platform {
                id: "hotline-12345".into(),
                kind: PlatformKind::Hotline12345,
                name: "12345政务服务便民热线".into(),
                integration: Integration::Open311 {
                    endpoint: "http://127.0.0.1:9/open311/v2".into(),
                    secret_env: None,
                },
                cameras: None,
            },
            Platform {
                id: "grid-app".into(),
                kind: PlatformKind::GridApp,
                name: "网格通".into(),
                integration: Integration::CsvImport {
                    path: "imports/grid.csv".into(),
                },
                cameras: None,
            },
            Platform {
                id: "xueliang".into(),
                kind: PlatformKind::CameraNetwork,
                name: "雪亮工程".into(),
                integration: Integration::None,
                cameras: Some(1_200),
            },
        ],
        directory: vec![
            DirectoryEntry {
                system: DirectorySystem::GovernmentServices,
                name: "市住建局服务窗口".into(),
                category: Some("housing".into()),
                phone: Some("0599-6332345".into()),
                address: Some("邵武市熙春路8号".into()),
                grid: Some("350781001".into()),
                description: Some("房屋、道路".into()),
                qualification: None,
                unit: Some("housing-bureau".into()),
            },
            DirectoryEntry {
                system: DirectorySystem::WelfareFacilities,
                name: "邵武市社会福利中心".into(),
                category: Some("elderly care".into()),
                phone: None,
                address: None,
                grid: Some("350781002".into()),
                description: None,
                qualification: None,
                unit: None,
            },
            DirectoryEntry {
                system: DirectorySystem::SocialOrganizations,
                name: "青年志愿者服务队".into(),
                category: Some("volunteer".into()),
                phone: Some("13800000002".into()),
                address: None,
                grid: None,
                description: Some("助老、助残".into()),
                qualification: None,
                unit: Some("youth-volunteers".into()),
            },
            DirectoryEntry {
                system: DirectorySystem::MarketProviders,
                name: "安居家政服务有限公司".into(),
                category: Some("housekeeping".into()),
                phone: Some("13800000003".into()),
                address: Some("邵武市中山路10号".into()),
                grid: Some("350781001001".into()),
                description: None,
                qualification: Some("家政服务资质 A 级".into()),
                unit: Some("anju-housekeeping".into()),
            },
        ],
        households: vec![
            Household {
                head_name: "张大爷".into(),
                kind: HouseholdKind::ElderlyAlone,
                grid: Some("350781001001-01".into()),
                phone: Some("13812345678".into()),
                id_number: Some("350781194501011234".into()),
                members: Some(1),
                address: Some("东关社区3栋".into()),
                notes: Some("行动不便".into()),
            },
            Household {
                head_name: "李某".into(),
                kind: HouseholdKind::Dibao,
                grid: None,
                phone: None,
                id_number: None,
                members: None,
                address: None,
                notes: None,
            },
        ],
        appraisal: Appraisal::default(),
        early_warning: EarlyWarning::default(),
        cameras: vec![
            Camera {
                id: "35078100001310000001".into(),
                name: "五一九路与中山路口".into(),
                kind: String::from("public_security"),
                grid: Some("350781001001".into()),
                location: Some(LatLon {
                    lat: 27.3405,
                    lon: 117.4832,
                }),
                platform: Some("xueliang".into()),
                link: Some("https://vms.example/live?camera=35078100001310000001".into()),
            },
            Camera {
                id: "35078100001310000002".into(),
                name: "通泰街道办门口".into(),
                kind: String::from("community"),
                grid: Some("350781002".into()),
                location: None,
                platform: Some("xueliang".into()),
                link: None,
            },
        ],
    }
}

impl TestDb {
    /// A fresh database with [`fixture_region`] provisioned (no users).
    pub async fn provisioned(engine: Engine) -> TestDb {
        let db = TestDb::new(engine).await;
        crate::engine::provision::provision(
            &db.store,
            &fixture_region(),
            &crate::engine::provision::ProvisionMeta {
                profile_sha256: "fixture".into(),
                kit_version: crate::VERSION.into(),
                bootstrap_admin: None,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("provision fixture on {engine:?}: {e}"));
        db
    }
}

/// A user of `role` (bound to `unit`) created in `store`, as the principal that acts for it.
pub async fn principal(
    store: &Store,
    name: &str,
    role: crate::model::Role,
    unit: Option<&str>,
) -> crate::model::Principal {
    let id = store
        .create_user(
            &super::users::NewUser {
                name: name.into(),
                role,
                unit_id: unit.map(Into::into),
                grid_codes: vec![],
                password_hash: None,
            },
            &super::audit::NewAudit::system("test", "user.create", None),
        )
        .await
        .unwrap_or_else(|e| panic!("create user {name}: {e}"));
    crate::model::Principal {
        user_id: id,
        name: name.into(),
        role,
        unit_id: unit.map(Into::into),
        grid_codes: vec![],
        scope: None,
    }
}
