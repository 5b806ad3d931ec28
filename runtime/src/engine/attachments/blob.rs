/*!
Where attachment bytes live: a [`BlobStore`] keyed by the SHA-256 of the bytes (hex), so a file
is written once however often it is attached, and a key always names the same bytes.

- [`LocalDir`] — the default: `<install>/attachments/ab/cdef…` (the first two hex digits as a
  directory, so no directory grows past a few thousand entries). Written to a temporary file in
  the same directory, synced, then renamed: a crash leaves either the whole file or none.
- [`super::s3::S3`] — an S3-compatible bucket (MinIO, Ceph, OSS, COS, AWS) for several `m110d`
  behind a load balancer, which cannot share a local directory.

The database row is written after the bytes, so a row never names missing bytes; a crash between
the two leaves an unreferenced file, which is harmless (and the retry finds it in place).
*/

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;

/// A boxed future, so that the trait can be used as `dyn BlobStore`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Content-addressed byte storage.
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `key` (the hex SHA-256 of `bytes`); a key already present is kept.
    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: &'a [u8],
        content_type: &'a str,
    ) -> BoxFuture<'a, io::Result<()>>;

    /// The bytes under `key`, `None` when there are none.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<Vec<u8>>>>;

    /// Where the bytes go, for the start-up log (never a secret).
    fn describe(&self) -> String;
}

/// Whether `key` is a hex SHA-256 (the only keys stored: nothing else reaches a path).
pub fn valid_key(key: &str) -> bool {
    key.len() == 64
        && key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The relative path of a key: `ab/cdef…`.
pub fn key_path(key: &str) -> String {
    format!("{}/{}", &key[..2], &key[2..])
}

fn bad_key(key: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a SHA-256 key: {key:?}"),
    )
}

/// The install directory's `attachments/` (or another local directory).
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    pub fn new(root: impl Into<PathBuf>) -> LocalDir {
        LocalDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        if !valid_key(key) {
            return Err(bad_key(key));
        }
        Ok(self.root.join(&key[..2]).join(&key[2..]))
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced, renamed.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("no parent directory"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".tmp-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename itself survives a power cut only once the directory is synced.
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

impl BlobStore for LocalDir {
    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: &'a [u8],
        _content_type: &'a str,
    ) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let path = self.path(key)?;
            if tokio::fs::try_exists(&path).await? {
                return Ok(());
            }
            let bytes = bytes.to_vec();
            tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
                .await
                .map_err(io::Error::other)?
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            match tokio::fs::read(self.path(key)?).await {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn describe(&self) -> String {
        format!("local directory {}", self.root.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[tokio::test]
    async fn local_dir_is_content_addressed_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::new(dir.path().join("attachments"));
        let bytes = b"%PDF-1.4 hello".to_vec();
        let key = hex::encode(Sha256::digest(&bytes));
        store.put(&key, &bytes, "application/pdf").await.unwrap();
        // A second put of the same key is a no-op; the file is where its hash says.
        store.put(&key, &bytes, "application/pdf").await.unwrap();
        let on_disk = dir
            .path()
            .join("attachments")
            .join(&key[..2])
            .join(&key[2..]);
        assert_eq!(std::fs::read(&on_disk).unwrap(), bytes);
        assert_eq!(key_path(&key), format!("{}/{}", &key[..2], &key[2..]));
        assert_eq!(store.get(&key).await.unwrap(), Some(bytes));
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(on_disk.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        let other = hex::encode(Sha256::digest(b"x"));
        assert_eq!(store.get(&other).await.unwrap(), None);
        // Nothing but a hash reaches the file system.
        for bad in ["../../etc/passwd", "", &key[..63], &key.to_uppercase()] {
            assert!(store.get(bad).await.is_err(), "{bad}");
        }
    }
}
