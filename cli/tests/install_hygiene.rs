//! Install hygiene through the real `m110` binary: the database, its backups and the install
//! directory are owner-only whatever the umask, the systemd unit names the real install, and
//! logs written to a pipe carry no colour codes.

#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `m110 ARGS` under `umask 000` (so only the kit's own modes protect the files), with
/// debug logs on and stderr a pipe, as under systemd or in a log file.
fn m110_lax_umask(args: &[&str]) -> Output {
    let mut script = String::from("umask 000; exec \"$0\"");
    for i in 1..=args.len() {
        script.push_str(&format!(" \"${i}\""));
    }
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_m110"))
        .args(args)
        .env("M110_LOG", "debug")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("spawn m110");
    assert!(
        out.status.success(),
        "m110 {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

fn files_starting(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn provisioned_database_backups_and_directories_are_owner_only() {
    let tmp = tempfile::tempdir().unwrap();
    let install = tmp.path().join("350781");
    let profile = common::small_profile();
    let out = m110_lax_umask(&[
        "provision",
        profile.to_str().unwrap(),
        "--install",
        install.to_str().unwrap(),
    ]);

    // Logs went to a pipe: text, but no ANSI escape codes.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DEBUG"), "debug logs expected:\n{err}");
    assert!(!err.contains("\x1b["), "colour codes in piped logs:\n{err}");

    assert_eq!(mode(&install), 0o700, "install directory");
    for sub in ["schema", "directories"] {
        assert_eq!(mode(&install.join(sub)), 0o700, "{sub}/");
    }
    let db_files = files_starting(&install, "m110.db");
    assert!(db_files.iter().any(|p| p.ends_with("m110.db")));
    for p in &db_files {
        assert_eq!(mode(p), 0o600, "{}", p.display());
    }

    // Open the database again through the kit (WAL files appear) and back it up.
    m110_lax_umask(&["user", "list", "--install", install.to_str().unwrap()]);
    for p in files_starting(&install, "m110.db") {
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    m110_lax_umask(&["backup", "--install", install.to_str().unwrap()]);
    let backups = install.join("backups");
    assert_eq!(mode(&backups), 0o700, "backups/");
    let made = files_starting(&backups, "m110-350781-");
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(mode(&made[0]), 0o600, "{}", made[0].display());

    // A backup written elsewhere (-o) is owner-only too, and so is a database restored from it.
    let elsewhere = tmp.path().join("copy.db");
    m110_lax_umask(&[
        "backup",
        "--install",
        install.to_str().unwrap(),
        "-o",
        elsewhere.to_str().unwrap(),
    ]);
    assert_eq!(mode(&elsewhere), 0o600);
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o644)).unwrap();
    let restored = tmp.path().join("restored");
    m110_lax_umask(&[
        "restore",
        elsewhere.to_str().unwrap(),
        "--install",
        restored.to_str().unwrap(),
    ]);
    assert_eq!(mode(&restored.join("m110.db")), 0o600);
}

#[test]
fn the_unit_of_a_provisioned_install_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let install = tmp.path().join("a").join("..").join("350781");
    let profile = common::small_profile();
    m110_lax_umask(&[
        "provision",
        profile.to_str().unwrap(),
        "--install",
        install.to_str().unwrap(),
    ]);
    let real = tmp.path().canonicalize().unwrap().join("350781");
    let real = real.to_str().unwrap();
    let unit = std::fs::read_to_string(tmp.path().join("350781/m110d.service")).unwrap();
    assert!(!unit.contains("/opt/m110"), "{unit}");
    assert!(!unit.contains(".."), "{unit}");
    assert!(
        unit.lines()
            .any(|l| l == format!("WorkingDirectory={real}"))
    );
    assert!(unit.lines().any(|l| l == format!("ReadWritePaths={real}")));
    assert!(
        unit.lines()
            .any(|l| l.starts_with("ExecStart=") && l.ends_with(&format!("--install {real}"))),
        "{unit}"
    );
    // Whoever provisions owns the owner-only files, so the service runs as them — except root,
    // which hands the install to the system user m110.
    let user = std::env::var("USER").unwrap_or_default();
    let expected = if user.is_empty() || user == "root" {
        "m110"
    } else {
        user.as_str()
    };
    assert!(
        unit.lines().any(|l| l == format!("User={expected}")),
        "{unit}"
    );
}
