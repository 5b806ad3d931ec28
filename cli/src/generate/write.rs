//! Writing rendered artifacts atomically: stage everything in a temporary directory next to the
//! target, then move it into place, so a failure leaves the target as it was. A non-empty
//! directory without `kit.lock` is refused unless forced; files the kit did not write (the
//! database of an install, local notes) are never touched. Directories the kit creates are
//! its owner's only (0700 on Unix): an install directory holds the database.

use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use super::{Files, GenerateError, KitLock, LOCK_FILE, io_err};

/// True when every component is a plain name: no root, no `..`, no prefix.
fn is_safe_relative(p: &Path) -> bool {
    !p.as_os_str().is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)))
}

/// Writes rendered files into `dir` atomically (see the module docs).
pub fn write(dir: &Path, files: &Files, force: bool) -> Result<(), GenerateError> {
    for p in files.keys() {
        if !is_safe_relative(p) {
            return Err(GenerateError::UnsafePath(p.clone()));
        }
    }
    let exists = match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => true,
        Ok(_) => return Err(GenerateError::NotADirectory(dir.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_err(dir)(e)),
    };
    let old_lock = if exists {
        let has_lock = dir.join(LOCK_FILE).is_file();
        let empty = std::fs::read_dir(dir)
            .map_err(io_err(dir))?
            .next()
            .is_none();
        if !empty && !has_lock && !force {
            return Err(GenerateError::NotEmpty(dir.to_path_buf()));
        }
        if has_lock {
            KitLock::read(dir).ok()
        } else {
            None
        }
    } else {
        None
    };

    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kit".into());
    let staging = parent.join(format!(".{base}.m110-tmp-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
    }
    let result = stage(&staging, files).and_then(|()| {
        if exists {
            move_into(&staging, dir, files, old_lock.as_ref())
        } else {
            std::fs::rename(&staging, dir).map_err(io_err(dir))
        }
    });
    if staging.exists() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Creates `dir` and its missing parents below an existing ancestor, each new one 0700 on Unix
/// (set explicitly after creation, whatever the umask).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    for d in &missing {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes every file under `staging` and flushes it to disk.
fn stage(staging: &Path, files: &Files) -> Result<(), GenerateError> {
    create_private_dir(staging).map_err(io_err(staging))?;
    for (rel, bytes) in files {
        let path = staging.join(rel);
        if let Some(p) = path.parent() {
            create_private_dir(p).map_err(io_err(p))?;
        }
        let mut f = std::fs::File::create(&path).map_err(io_err(&path))?;
        f.write_all(bytes).map_err(io_err(&path))?;
        f.sync_all().map_err(io_err(&path))?;
    }
    Ok(())
}

/// Moves staged files over an existing directory one rename at a time, `kit.lock` last, then
/// removes artifacts the previous lock listed that are no longer generated. Files the kit did
/// not write (the database, local notes) are left alone.
fn move_into(
    staging: &Path,
    dir: &Path,
    files: &Files,
    old_lock: Option<&KitLock>,
) -> Result<(), GenerateError> {
    let lock = Path::new(LOCK_FILE);
    for rel in files.keys().filter(|p| p.as_path() != lock) {
        let to = dir.join(rel);
        if let Some(p) = to.parent() {
            create_private_dir(p).map_err(io_err(p))?;
        }
        std::fs::rename(staging.join(rel), &to).map_err(io_err(&to))?;
    }
    if let Some(old) = old_lock {
        for rel in old.artifacts.keys().map(PathBuf::from) {
            if is_safe_relative(&rel) && !files.contains_key(&rel) {
                let _ = std::fs::remove_file(dir.join(&rel));
            }
        }
    }
    if files.contains_key(lock) {
        let to = dir.join(lock);
        std::fs::rename(staging.join(lock), &to).map_err(io_err(&to))?;
    }
    Ok(())
}
