//! Where the kit will run: the install directory, the system user and the `m110d` binary the
//! systemd unit names. `m110 generate -o DIR` and `m110 provision --install DIR` know the real
//! directory, so the unit is rendered for it (absolute, symlinks resolved) rather than for a
//! guessed `/opt/m110/<code>`.
//!
//! The user is the one who owns the install's files: the database and backups are created
//! owner-only (0600, directories 0700), so the service must run as that owner. When the kit runs
//! as root the unit names the system user `m110` instead (a service never runs as root) and its
//! header says to hand the directory over with `chown`.

use std::path::{Component, Path, PathBuf};

use serde::Serialize;

/// The system user a unit names when nothing better is known (or the kit runs as root).
pub const SYSTEM_USER: &str = "m110";
/// Where `m110d` is looked for when it is not installed beside `m110`.
pub const DEFAULT_M110D: &str = "/usr/local/bin/m110d";

/// The install a unit is rendered for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Install {
    /// Absolute install directory.
    pub dir: String,
    /// System user the service runs as.
    pub user: String,
    /// Absolute path of the `m110d` binary.
    pub m110d: String,
}

impl Install {
    /// The placeholder install of a region whose real directory is not known (rendering for
    /// review, the golden tests): `/opt/m110/<code>`, user `m110`, `/usr/local/bin/m110d`.
    pub fn placeholder(code: &str) -> Install {
        Install {
            dir: format!("/opt/m110/{code}"),
            user: SYSTEM_USER.into(),
            m110d: DEFAULT_M110D.into(),
        }
    }

    /// The install at `dir` (which need not exist yet), run by `user` or else by whoever runs
    /// the kit, with the `m110d` beside this executable when there is one.
    pub fn at(dir: &Path, user: Option<&str>) -> std::io::Result<Install> {
        let user = match user.map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => u.to_string(),
            None => invoking_user(),
        };
        Ok(Install {
            dir: canonical(dir)?.to_string_lossy().into_owned(),
            user,
            m110d: sibling_m110d()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|| DEFAULT_M110D.into()),
        })
    }

    /// True when the service runs as the kit's own system user (created by `useradd`).
    pub fn system_user(&self) -> bool {
        self.user == SYSTEM_USER
    }

    /// True when the directory lies under a home (`/home`, `/root`, `/run/user`), which
    /// `ProtectHome=yes` would hide from the service.
    pub fn under_home(&self) -> bool {
        ["/home", "/root", "/run/user"]
            .iter()
            .any(|h| Path::new(&self.dir).starts_with(h))
    }
}

/// The name of the user running the kit (`USER`, else `LOGNAME`); root and unknown become the
/// system user [`SYSTEM_USER`].
fn invoking_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .map(|u| u.trim().to_string())
        .find(|u| !u.is_empty())
        .filter(|u| u != "root" && is_user_name(u))
        .unwrap_or_else(|| SYSTEM_USER.into())
}

/// A name systemd accepts in `User=` without quoting (POSIX portable user names).
fn is_user_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && !s.starts_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// `m110d` next to the running executable (both come from one release archive or `cargo build`).
fn sibling_m110d() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe
        .parent()?
        .join(format!("m110d{}", std::env::consts::EXE_SUFFIX));
    p.is_file().then(|| p.canonicalize().unwrap_or(p))
}

/// `dir` made absolute with symlinks resolved as far as it exists; the part that does not
/// exist yet is appended as written, `.` dropped and `..` taken as the parent — which is where
/// the directory will be created.
pub fn canonical(dir: &Path) -> std::io::Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in std::path::absolute(dir)?.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => {
                out.push(other);
                // Resolving each existing prefix makes a later `..` leave a symlink's target,
                // as the kernel does.
                if let Ok(real) = out.canonicalize() {
                    out = real;
                }
            }
        }
    }
    Ok(out)
}

/// A unit-file argument (`ExecStart=`, `ReadWritePaths=`): `%` escaped (systemd specifiers),
/// quoted when it holds blanks, quotes or backslashes.
pub fn unit_arg(s: &str) -> String {
    let s = s.replace('%', "%%");
    if s.contains([' ', '\t', '"', '\'', '\\']) {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        s
    }
}

/// A unit-file path setting taken whole (`WorkingDirectory=`): only `%` needs escaping.
pub fn unit_path(s: &str) -> String {
    s.replace('%', "%%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_resolves_what_exists_and_keeps_the_rest() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().canonicalize().unwrap();
        assert_eq!(canonical(tmp.path()).unwrap(), real);
        let missing = tmp.path().join("a/./b");
        assert_eq!(canonical(&missing).unwrap(), real.join("a").join("b"));
        let up = tmp.path().join("a/../c");
        assert_eq!(canonical(&up).unwrap(), real.join("c"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&real, real.join("link")).unwrap();
            assert_eq!(canonical(&real.join("link/x")).unwrap(), real.join("x"));
        }
    }

    #[test]
    fn install_at_a_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let i = Install::at(&tmp.path().join("350781"), Some("county-it")).unwrap();
        assert!(Path::new(&i.dir).is_absolute());
        assert!(i.dir.ends_with("/350781"), "{}", i.dir);
        assert_eq!(i.user, "county-it");
        assert!(!i.system_user());
        assert!(Path::new(&i.m110d).is_absolute());
        assert!(Install::placeholder("350781").system_user());
    }

    #[test]
    fn unit_escaping() {
        assert_eq!(unit_arg("/opt/m110/350781"), "/opt/m110/350781");
        assert_eq!(unit_arg("/srv/m 110/100%"), "\"/srv/m 110/100%%\"");
        assert_eq!(unit_path("/srv/m 110/100%"), "/srv/m 110/100%%");
        assert!(is_user_name("m110") && !is_user_name("-x") && !is_user_name("a b"));
    }

    #[test]
    fn homes() {
        let mut i = Install::placeholder("1");
        assert!(!i.under_home());
        i.dir = "/home/it/installs/1".into();
        assert!(i.under_home());
        i.dir = "/homes/1".into();
        assert!(!i.under_home());
    }
}
