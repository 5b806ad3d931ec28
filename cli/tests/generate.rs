//! `generate`: golden artifacts for the fixture region, determinism, refusal to overwrite foreign
//! directories, atomic writes and the household privacy rule.

mod common;

use std::path::{Path, PathBuf};

use common::fixture;
use m110::generate::{self, GenerateError, KitLock, LOCK_FILE};

const PROFILE_SHA: &str = "0000000000000000000000000000000000000000000000000000000000000110";

fn render() -> generate::Files {
    generate::render_region(&fixture::region(), PROFILE_SHA).unwrap()
}

/// The artifacts as compared with goldens. The schema files are the runtime's migrations (checked
/// by `schema_files_are_the_runtime_migrations`); leaving them and their hashes out keeps these
/// goldens from breaking whenever the store adds a migration.
fn golden_view() -> generate::Files {
    let mut files = render();
    files.retain(|p, _| !p.starts_with("schema"));
    let lock = Path::new(LOCK_FILE);
    let mut parsed: KitLock = serde_json::from_slice(&files[lock]).unwrap();
    for (path, sha) in parsed.artifacts.iter_mut() {
        if path.starts_with("schema/") {
            *sha = "<sha256 of the runtime migrations>".into();
        }
    }
    let mut text = serde_json::to_string_pretty(&parsed).unwrap();
    text.push('\n');
    files.insert(lock.to_path_buf(), text.into_bytes());
    files
}

#[test]
fn artifacts_match_goldens() {
    let files = golden_view();
    let dir = common::golden_dir("generate");
    for (rel, bytes) in &files {
        common::check_golden(&dir, rel, bytes);
    }
    if !common::updating() {
        let expected: Vec<PathBuf> = files.keys().cloned().collect();
        assert_eq!(common::list_files(&dir), expected, "golden set differs");
    }
}

#[test]
fn expected_artifact_set() {
    let files = render();
    for p in [
        "m110d.yaml",
        "m110d.service",
        "routing.csv",
        "routing.md",
        "handbook.md",
        "kit.lock",
        "schema/sqlite.sql",
        "schema/postgres.sql",
        "directories/government_services.csv",
        "directories/welfare_facilities.csv",
        "directories/social_organizations.csv",
        "directories/market_providers.csv",
        "directories/vulnerable_households_summary.csv",
    ] {
        assert!(files.contains_key(Path::new(p)), "{p} missing");
    }
}

#[test]
fn rendering_twice_is_byte_identical() {
    assert_eq!(render(), render());
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    generate::write(&a.path().join("kit"), &render(), false).unwrap();
    generate::write(&b.path().join("kit"), &render(), false).unwrap();
    let fa = common::list_files(&a.path().join("kit"));
    assert_eq!(fa, common::list_files(&b.path().join("kit")));
    for rel in &fa {
        assert_eq!(
            std::fs::read(a.path().join("kit").join(rel)).unwrap(),
            std::fs::read(b.path().join("kit").join(rel)).unwrap(),
            "{}",
            rel.display()
        );
    }
}

#[test]
fn kit_lock_lists_every_artifact_hash() {
    let files = render();
    let lock: KitLock = serde_json::from_slice(&files[Path::new(LOCK_FILE)]).unwrap();
    assert_eq!(lock.profile_sha256, PROFILE_SHA);
    assert_eq!(lock.kit_version, m110_runtime::VERSION);
    assert_eq!(lock.artifacts.len(), files.len() - 1);
    for (path, sha) in &lock.artifacts {
        assert_eq!(
            &generate::sha256_hex(&files[Path::new(path)]),
            sha,
            "{path}"
        );
    }
    let keys: Vec<&String> = lock.artifacts.keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn households_are_exported_as_counts_only() {
    let files = render();
    let all: String = files
        .values()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    for secret in [
        "张三",
        "李四",
        "13700000003",
        "350781195001010011",
        "公太路5号",
    ] {
        assert!(!all.contains(secret), "{secret} leaked into an artifact");
    }
    let summary = String::from_utf8(
        files[Path::new("directories/vulnerable_households_summary.csv")].clone(),
    )
    .unwrap();
    assert!(summary.contains("350781001001-01,公太社区第1网格,dibao,低保户,2,3"));
}

#[test]
fn every_csv_starts_with_a_bom() {
    // Excel and WPS read UTF-8 without a byte-order mark as the local code page.
    let files = render();
    let csvs: Vec<_> = files
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    assert!(csvs.len() >= 6, "routing.csv and the directories");
    for (p, bytes) in csvs {
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{}", p.display());
    }
}

#[test]
fn routing_csv_marks_the_gap() {
    let files = render();
    let csv = String::from_utf8(files[Path::new("routing.csv")].clone()).unwrap();
    let csv = csv.strip_prefix('\u{feff}').unwrap();
    // 2 tier-1 units × 4 categories + header.
    assert_eq!(csv.lines().count(), 9);
    let gaps: Vec<&str> = csv.lines().filter(|l| l.ends_with(",yes")).collect();
    assert_eq!(gaps.len(), 1);
    assert!(gaps[0].starts_with("350781002,通泰街道,dispute,"));
}

#[test]
fn refuses_a_foreign_non_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("install");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let err = generate::write(&dir, &render(), false).unwrap_err();
    assert!(matches!(err, GenerateError::NotEmpty(_)), "{err}");
    // Nothing written, nothing staged left behind.
    assert_eq!(common::list_files(&dir), [PathBuf::from("notes.txt")]);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    // --force writes the artifacts and keeps the foreign file.
    generate::write(&dir, &render(), true).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(dir.join(LOCK_FILE).is_file());
}

#[test]
fn regenerates_over_its_own_output_and_keeps_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("install");
    generate::write(&dir, &render(), false).unwrap();
    // The install also holds the database and a stale artifact from an older kit.
    std::fs::write(dir.join("m110.db"), "db").unwrap();
    let mut lock = KitLock::read(&dir).unwrap();
    lock.artifacts.insert("old-artifact.txt".into(), "x".into());
    std::fs::write(dir.join("old-artifact.txt"), "stale").unwrap();
    std::fs::write(dir.join(LOCK_FILE), serde_json::to_string(&lock).unwrap()).unwrap();
    std::fs::write(dir.join("handbook.md"), "edited by hand").unwrap();

    generate::write(&dir, &render(), false).unwrap();
    assert_eq!(std::fs::read_to_string(dir.join("m110.db")).unwrap(), "db");
    assert!(!dir.join("old-artifact.txt").exists());
    let files = render();
    assert_eq!(
        std::fs::read(dir.join("handbook.md")).unwrap(),
        files[Path::new("handbook.md")]
    );
    assert_eq!(
        std::fs::read(dir.join(LOCK_FILE)).unwrap(),
        files[Path::new(LOCK_FILE)]
    );
}

#[test]
fn target_that_is_a_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("x");
    std::fs::write(&file, "x").unwrap();
    let err = generate::write(&file, &render(), true).unwrap_err();
    assert!(matches!(err, GenerateError::NotADirectory(_)), "{err}");
}

#[test]
fn failure_while_staging_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("install");
    let mut files = render();
    // A file and a directory of the same name cannot both be staged.
    files.insert(PathBuf::from("routing.csv/inner"), b"x".to_vec());
    assert!(generate::write(&dir, &files, false).is_err());
    assert!(!dir.exists());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn unsafe_paths_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = generate::Files::new();
    files.insert(PathBuf::from("../escape"), b"x".to_vec());
    let err = generate::write(&tmp.path().join("k"), &files, false).unwrap_err();
    assert!(matches!(err, GenerateError::UnsafePath(_)), "{err}");
}

#[test]
fn yaml_config_quotes_region_names() {
    let mut r = fixture::region();
    r.info.name = "a: \"b\" # c".into();
    let files = generate::render_region(&r, PROFILE_SHA).unwrap();
    let yaml = String::from_utf8(files[Path::new("m110d.yaml")].clone()).unwrap();
    assert!(yaml.contains("region: \"350781\""));
    assert!(yaml.contains("listen: \"127.0.0.1:8110\""));
    assert!(yaml.contains("database: \"sqlite://m110.db\""));
    assert!(yaml.contains("log_format: text"));
}

#[test]
fn schema_files_are_the_runtime_migrations() {
    let files = render();
    for (name, engine) in [
        ("schema/sqlite.sql", m110_runtime::store::Engine::Sqlite),
        ("schema/postgres.sql", m110_runtime::store::Engine::Postgres),
    ] {
        let sql = String::from_utf8(files[Path::new(name)].clone()).unwrap();
        assert_eq!(sql, m110_runtime::store::schema_sql(engine));
        assert!(sql.contains("CREATE TABLE"), "{name} has no tables");
    }
}

#[test]
fn cli_generate_writes_and_regenerates_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("kit");
    let profile = common::small_profile();
    let out = common::m110(args!["generate", profile, "-o", out_dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = common::list_files(&out_dir);
    let first: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(out_dir.join(f)).unwrap())
        .collect();
    let lock = KitLock::read(&out_dir).unwrap();
    let profile_bytes = std::fs::read(&profile).unwrap();
    assert_eq!(lock.profile_sha256, generate::sha256_hex(&profile_bytes));
    // Again into the same directory (it has kit.lock now): same bytes.
    let out = common::m110(args!["generate", profile, "-o", out_dir]);
    assert!(out.status.success());
    assert_eq!(common::list_files(&out_dir), files);
    for (f, bytes) in files.iter().zip(&first) {
        assert_eq!(
            &std::fs::read(out_dir.join(f)).unwrap(),
            bytes,
            "{}",
            f.display()
        );
    }
}

#[test]
fn cli_generate_refuses_foreign_directory_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kit");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("data.txt"), "keep").unwrap();
    let profile = common::small_profile();
    let out = common::m110(args!["generate", profile, "-o", dir]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(common::list_files(&dir), [PathBuf::from("data.txt")]);
    let out = common::m110(args!["generate", profile, "-o", dir, "--force"]);
    assert!(out.status.success());
    assert!(dir.join("handbook.md").is_file());
    assert_eq!(
        std::fs::read_to_string(dir.join("data.txt")).unwrap(),
        "keep"
    );
}

#[test]
fn cli_generate_of_an_invalid_profile_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let broken = common::broken_profile(tmp.path());
    let dir = tmp.path().join("kit");
    let out = common::m110(args!["generate", broken, "-o", dir]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.exists());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn a_directory_entry_linked_to_a_unit_is_one_row() {
    let mut r = fixture::region();
    r.directory[1].unit = Some("repairs-co".into());
    r.directory[1].address = None;
    let files = generate::render_region(&r, PROFILE_SHA).unwrap();
    let csv =
        String::from_utf8(files[Path::new("directories/market_providers.csv")].clone()).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    // The entry's fields win; blanks come from the unit.
    assert!(rows[0].starts_with(
        "directory+unit,repairs-co,好帮手家政,market_provider,housekeeping,13900000002,,350781002,"
    ));
    assert!(rows[0].contains("家政服务资质 A"));
}

/// The example profiles shipped in `profiles/` all plan, generate and compare.
#[test]
fn cli_handles_every_example_profile() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles");
    let mut profiles: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    profiles.sort();
    assert!(
        !profiles.is_empty(),
        "no example profiles in {}",
        dir.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    for (i, p) in profiles.iter().enumerate() {
        let out_dir = tmp.path().join(i.to_string());
        let out = common::m110(args!["generate", p, "-o", out_dir]);
        assert!(
            out.status.success(),
            "{}: {}",
            p.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out_dir.join("handbook.md").is_file());
        let out = common::m110(args!["plan", p, "--format", "json"]);
        assert!(out.status.success(), "{}", p.display());
    }
    let mut cmd: Vec<&std::ffi::OsStr> = vec!["compare".as_ref()];
    cmd.extend(profiles.iter().map(|p| p.as_os_str()));
    let out = common::m110(&cmd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The generated `m110d.yaml` is read by the runtime's own config loader (which rejects unknown
/// keys): the kit and m110d agree on the file.
#[test]
fn runtime_reads_the_generated_config() {
    use m110_runtime::config::{Config, LogFormat, Overrides};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("install");
    generate::write(&dir, &render(), false).unwrap();
    let c = Config::load_with_env(&dir, Overrides::default(), &Default::default()).unwrap();
    assert_eq!(c.region.as_deref(), Some("350781"));
    assert_eq!(c.listen, "127.0.0.1:8110");
    assert_eq!(c.log_format, LogFormat::Text);
    // The relative SQLite URL resolves inside the install directory.
    assert!(c.database.starts_with("sqlite://"), "{}", c.database);
    assert!(c.database.contains("install"), "{}", c.database);
    assert!(c.database.ends_with("m110.db"), "{}", c.database);
}

#[test]
fn cli_generate_renders_the_unit_for_its_directory_and_user() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("installs").join("350781");
    let profile = common::small_profile();
    let out = common::m110(args![
        "generate",
        profile,
        "-o",
        out_dir,
        "--user",
        "county-it"
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let real = out_dir.canonicalize().unwrap();
    let real = real.to_str().unwrap();
    let unit = std::fs::read_to_string(out_dir.join("m110d.service")).unwrap();
    assert!(!unit.contains("/opt/m110"), "{unit}");
    for line in [
        format!("WorkingDirectory={real}"),
        format!("ReadWritePaths={real}"),
        "User=county-it".to_string(),
        "NoNewPrivileges=yes".to_string(),
        "ProtectSystem=strict".to_string(),
        "UMask=0077".to_string(),
    ] {
        assert!(unit.lines().any(|l| l == line), "no `{line}` in\n{unit}");
    }
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    assert!(
        exec.ends_with(&format!("m110d serve --install {real}")),
        "{exec}"
    );
    // A login user's group is its own primary group: no `Group=m110` for it.
    assert!(!unit.lines().any(|l| l.starts_with("Group=")), "{unit}");
    // The temporary directory is under /tmp, which a private /tmp would hide.
    if real.starts_with("/tmp/") {
        assert!(unit.lines().any(|l| l == "PrivateTmp=no"), "{unit}");
    }
    // The unit and kit.lock agree, so doctor sees an unedited file.
    let lock = KitLock::read(&out_dir).unwrap();
    assert_eq!(
        lock.artifacts["m110d.service"],
        generate::sha256_hex(unit.as_bytes())
    );
}
