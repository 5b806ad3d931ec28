/*!
Attachments (附件): photos and documents on cases — at intake, with a unit's reply, with a grid
worker's patrol report (`docs/attachments.md`).

- What is stored is checked by its bytes ([`sniff`]: JPEG, PNG, WebP, PDF) and its size
  ([`Attachments::max_bytes`], 10 MiB by default); photos lose their location metadata before
  anything is stored ([`strip`]: only the stripped copy exists) and get a thumbnail ([`thumb`]).
- The bytes go to a content-addressed [`blob::BlobStore`] (the install directory, or an
  S3-compatible bucket, [`s3`]) under their SHA-256; the row in `attachments` is unique per
  (case, SHA-256), so [`attach`] is idempotent: the same bytes attached twice to a case are one
  attachment.
- Who: whoever may see the case ([`crate::engine::actions::can_see`], the one case-scope rule)
  may read its attachments; the roles that work cases may add them (not analysts, auditors or
  platform tokens). Every upload and every read of the bytes is audited.
- The public: the first photo taken in at intake of a case submitted through Open311 is that
  request's `media_url` ([`public_photo`]); nothing else leaves without a session.
*/

pub mod blob;
pub mod s3;
pub mod sniff;
pub mod strip;
pub mod thumb;

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::actions::can_see;
use super::error::{Error, Result};
use super::region::RegionIndex;
use crate::model::time::now_ms;
use crate::model::{Principal, Role, Status};
use crate::store::attachments::{Attachment, NewAttachment, insert_attachment};
use crate::store::audit::{NewAudit, record_audit};
use crate::store::cases::CaseRow;
use crate::store::{Store, StoreError};
use blob::BlobStore;
use sniff::{FileType, sniff};

/// Largest attachment by default: a phone photo is 2–6 MB, a scanned letter a few hundred KB.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;
/// How much of an oversized upload a front-end reads and drops before it answers 413: a client
/// still sending would otherwise see a reset connection instead of the answer. Past this the
/// connection is given up.
pub const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
/// Longest stored file name, in characters.
const MAX_FILENAME_CHARS: usize = 120;

/// When in a case's life a file was attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Taken in with the request (a citizen's photo, a letter).
    Intake,
    /// With the handling unit's reply (the repaired street light).
    Reply,
    /// A grid worker's patrol report (巡查上报).
    Patrol,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Intake, Stage::Reply, Stage::Patrol];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Intake => "intake",
            Stage::Reply => "reply",
            Stage::Patrol => "patrol",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The stage of an upload that names none: a unit attaches to its reply, a grid worker to
    /// a patrol report, the center at intake.
    pub fn default_for(role: Role) -> Stage {
        match role {
            Role::UnitHandler => Stage::Reply,
            Role::GridWorker => Stage::Patrol,
            _ => Stage::Intake,
        }
    }
}

/// The attachment store of a running server: where the bytes go and how big they may be.
#[derive(Clone)]
pub struct Attachments {
    pub blobs: Arc<dyn BlobStore>,
    pub max_bytes: usize,
    /// Photos decoded at once: one per core, so a burst of uploads queues instead of taking
    /// every core (and up to the decode limit of memory each) from the rest of the server.
    decoding: Arc<tokio::sync::Semaphore>,
}

impl Attachments {
    pub fn new(blobs: Arc<dyn BlobStore>, max_bytes: usize) -> Attachments {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Attachments {
            blobs,
            max_bytes,
            decoding: Arc::new(tokio::sync::Semaphore::new(cores)),
        }
    }

    /// A local directory with the default size limit (tests, tools).
    pub fn local(dir: impl Into<std::path::PathBuf>) -> Attachments {
        Attachments::new(Arc::new(blob::LocalDir::new(dir)), DEFAULT_MAX_BYTES)
    }
}

/// Whether `p` may add attachments to the cases it sees: the roles that take, route, handle
/// and report cases, signed in or with an unscoped token.
pub fn may_attach(p: &Principal) -> bool {
    p.scope.is_none()
        && matches!(
            p.role,
            Role::Admin
                | Role::Supervisor
                | Role::Operator
                | Role::Dispatcher
                | Role::UnitHandler
                | Role::GridWorker
        )
}

/// An upload, checked and made ready to store.
struct Prepared {
    ty: FileType,
    bytes: Vec<u8>,
    sha256: String,
    thumb: Option<(String, Vec<u8>)>,
    width: Option<i64>,
    height: Option<i64>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The error of a file over `max_bytes` (for front-ends that stop reading at the limit).
pub fn too_large(max_bytes: usize) -> Error {
    Error::invalid(
        "file",
        "attachment_too_large",
        format!("the file is larger than {max_bytes} bytes"),
    )
    .arg("max", max_bytes.div_ceil(1024 * 1024))
}

/// Checks an upload's size and type; the errors name the field `file`. `attachment_too_large`
/// and `attachment_type` are the keys the HTTP layer answers with 413 and 415.
pub fn check(bytes: &[u8], max_bytes: usize) -> Result<FileType> {
    if bytes.is_empty() {
        return Err(Error::invalid(
            "file",
            "attachment_empty",
            "the file is empty",
        ));
    }
    if bytes.len() > max_bytes {
        return Err(too_large(max_bytes));
    }
    sniff(bytes).ok_or_else(|| {
        Error::invalid(
            "file",
            "attachment_type",
            "only JPEG, PNG and WebP photos and PDF documents are accepted",
        )
    })
}

/// Strips, hashes and thumbnails an upload (CPU work: run it on the blocking pool).
fn prepare(bytes: &[u8], max_bytes: usize) -> Result<Prepared> {
    let ty = check(bytes, max_bytes)?;
    let unreadable = |why: String| {
        Error::invalid(
            "file",
            "attachment_unreadable",
            format!("the file cannot be read: {why}"),
        )
    };
    let stored = strip::strip_location(ty, bytes).map_err(|why| unreadable(why.into()))?;
    let (thumb, width, height) = if ty.is_image() {
        let t = thumb::thumbnail(ty, &stored).map_err(unreadable)?;
        let key = sha256_hex(&t.jpeg);
        (
            Some((key, t.jpeg)),
            Some(i64::from(t.width)),
            Some(i64::from(t.height)),
        )
    } else {
        (None, None, None)
    };
    Ok(Prepared {
        ty,
        sha256: sha256_hex(&stored),
        bytes: stored,
        thumb,
        width,
        height,
    })
}

/// A file name safe to store and to echo in a header: the last path component, without control
/// characters or quotes, at most [`MAX_FILENAME_CHARS`]; `attachment.<ext>` when nothing is left.
pub fn clean_filename(name: &str, ty: FileType) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\u{202e}' | '\u{202d}'))
        .take(MAX_FILENAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        format!("attachment.{}", ty.extension())
    } else {
        cleaned
    }
}

fn blob_error(e: std::io::Error) -> Error {
    Error::internal(format!("attachment store: {e}"))
}

/// The case `public_id` if `p` sees it (the case API's answers: 404 unknown, 403 outside scope).
async fn visible_case(
    store: &Store,
    region: &RegionIndex,
    p: &Principal,
    public_id: &str,
) -> Result<CaseRow> {
    let row = match store.case_by_public_id(public_id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => {
            return Err(Error::not_found(
                "case_not_found",
                format!("case {public_id}"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if !can_see(p, region, &row) {
        return Err(Error::forbidden(
            "case_out_of_scope",
            format!("case {public_id} is outside your scope"),
        ));
    }
    Ok(row)
}

/// Attaches `bytes` (named `filename` by the uploader) to the case with internal id `case_id`,
/// as `principal`, at `stage` (`None`: [`Stage::default_for`] the role). Idempotent: the same
/// bytes on the same case give back the attachment stored the first time.
#[allow(clippy::too_many_arguments)] // the one call the console, the API and the patrol form share
pub async fn attach(
    store: &Store,
    region: &RegionIndex,
    files: &Attachments,
    principal: &Principal,
    case_id: i64,
    filename: &str,
    bytes: &[u8],
    stage: Option<Stage>,
) -> Result<Attachment> {
    let public_id = match store.case_public_id(case_id).await {
        Ok(id) => id,
        Err(StoreError::NotFound) => {
            return Err(Error::not_found(
                "case_not_found",
                format!("case #{case_id}"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    attach_to(
        store, region, files, principal, &public_id, filename, bytes, stage,
    )
    .await
}

/// [`attach`] by the case's public id (`MS350781-…`), as the API and the console name it.
#[allow(clippy::too_many_arguments)] // as `attach`
pub async fn attach_to(
    store: &Store,
    region: &RegionIndex,
    files: &Attachments,
    principal: &Principal,
    public_id: &str,
    filename: &str,
    bytes: &[u8],
    stage: Option<Stage>,
) -> Result<Attachment> {
    let row = visible_case(store, region, principal, public_id).await?;
    if !may_attach(principal) {
        return Err(Error::forbidden(
            "attachment_forbidden",
            "your role may not add attachments",
        ));
    }
    // A patrol report settled on the spot (就地解决) is closed the moment it is made: its photos
    // come with it, from the grid worker who made it.
    let on_spot_photos =
        stage == Some(Stage::Patrol) && principal.role == Role::GridWorker && row.channel == "grid";
    if Status::parse(&row.status) == Some(Status::Closed) && !on_spot_photos {
        return Err(Error::conflict(
            "case_closed",
            format!("case {public_id} is closed"),
        ));
    }
    let stage = stage.unwrap_or_else(|| Stage::default_for(principal.role));
    let max = files.max_bytes;
    // Size and type first, cheaply, before a copy goes to the blocking pool.
    check(bytes, max)?;
    let owned = bytes.to_vec();
    let permit = files
        .decoding
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| Error::internal(format!("attachment preparation: {e}")))?;
    let prepared = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        prepare(&owned, max)
    })
    .await
    .map_err(|e| Error::internal(format!("attachment preparation: {e}")))??;
    let content_type = prepared.ty.content_type();
    files
        .blobs
        .put(&prepared.sha256, &prepared.bytes, content_type)
        .await
        .map_err(blob_error)?;
    if let Some((key, jpeg)) = &prepared.thumb {
        files
            .blobs
            .put(key, jpeg, "image/jpeg")
            .await
            .map_err(blob_error)?;
    }
    let name = clean_filename(filename, prepared.ty);
    let mut tx = store.write().await?;
    let (attachment, fresh) = insert_attachment(
        &mut tx,
        &NewAttachment {
            case_id: row.id,
            sha256: &prepared.sha256,
            content_type,
            size: prepared.bytes.len() as i64,
            filename: &name,
            kind: if prepared.ty.is_image() {
                "photo"
            } else {
                "document"
            },
            stage: stage.as_str(),
            thumb_sha256: prepared.thumb.as_ref().map(|t| t.0.as_str()),
            width: prepared.width,
            height: prepared.height,
            uploaded_by: Some(principal.user_id),
            created_at: now_ms(),
        },
    )
    .await?;
    if fresh {
        let target = format!("case:{}", row.public_id);
        record_audit(
            &mut tx,
            &NewAudit::by(principal, "attachment.upload", Some(&target)).with_detail(json!({
                "attachment": attachment.id,
                "sha256": attachment.sha256,
                "filename": attachment.filename,
                "stage": attachment.stage,
            })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(attachment)
}

/// The attachments of case `public_id`, for whoever sees the case.
pub async fn list(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    public_id: &str,
) -> Result<Vec<Attachment>> {
    let row = visible_case(store, region, principal, public_id).await?;
    Ok(store.case_attachments(row.id).await?)
}

/// Which bytes of an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The stored file (location metadata already stripped).
    File,
    /// The JPEG thumbnail of a photo.
    Thumb,
}

/// An attachment's bytes as served.
#[derive(Debug, Clone)]
pub struct Content {
    pub attachment: Attachment,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The bytes of attachment `id` for `principal`, who must see its case; audited
/// (`attachment.read`), as photos may show people and their homes.
pub async fn content(
    store: &Store,
    region: &RegionIndex,
    files: &Attachments,
    principal: &Principal,
    id: i64,
    variant: Variant,
) -> Result<Content> {
    let not_found = || Error::not_found("attachment_not_found", format!("attachment {id}"));
    let a = store.attachment(id).await?.ok_or_else(not_found)?;
    visible_case(store, region, principal, &a.case_public_id).await?;
    let (key, content_type) = match variant {
        Variant::File => (a.sha256.clone(), a.content_type.clone()),
        Variant::Thumb => (
            a.thumb_sha256.clone().ok_or_else(not_found)?,
            "image/jpeg".to_string(),
        ),
    };
    let target = format!("attachment:{id}");
    store
        .audit(
            &NewAudit::by(principal, "attachment.read", Some(&target)).with_detail(json!({
                "case": a.case_public_id,
                "variant": if variant == Variant::Thumb { "thumb" } else { "file" },
            })),
        )
        .await?;
    let bytes = files
        .blobs
        .get(&key)
        .await
        .map_err(blob_error)?
        .ok_or_else(|| Error::internal(format!("attachment {id}: bytes {key} missing")))?;
    Ok(Content {
        attachment: a,
        content_type,
        bytes,
    })
}

/// The public copy under `sha256`, if those bytes are a public photo: taken in at intake of a
/// case submitted through Open311 that the public feed shows. `None` for anything else, so a
/// guessed or leaked hash of another photo finds nothing.
pub async fn public_photo(
    store: &Store,
    files: &Attachments,
    sha256: &str,
) -> Result<Option<(String, Vec<u8>)>> {
    if !blob::valid_key(sha256) {
        return Ok(None);
    }
    let Some(content_type) = store.public_photo_type(sha256).await? else {
        return Ok(None);
    };
    let bytes = files.blobs.get(sha256).await.map_err(blob_error)?;
    Ok(bytes.map(|b| (content_type, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_checked_by_size_and_bytes() {
        let e = check(b"", 10).unwrap_err();
        assert_eq!(
            (e.key, e.field.as_deref()),
            ("attachment_empty", Some("file"))
        );
        let e = check(&[0xFF, 0xD8, 0xFF, 0, 0], 4).unwrap_err();
        assert_eq!(
            (e.key, e.field.as_deref()),
            ("attachment_too_large", Some("file"))
        );
        let e = check(b"<svg onload=alert(1)>", 100).unwrap_err();
        assert_eq!(
            (e.key, e.field.as_deref()),
            ("attachment_type", Some("file"))
        );
        assert_eq!(check(b"%PDF-1.7", 100).unwrap(), FileType::Pdf);
    }

    #[test]
    fn the_same_photo_has_the_same_address_with_or_without_its_location() {
        let plain = strip::tests::small_jpeg();
        let tagged = strip::tests::with_gps(&plain);
        let a = prepare(&tagged, DEFAULT_MAX_BYTES).unwrap();
        let b = prepare(&tagged, DEFAULT_MAX_BYTES).unwrap();
        // Deterministic: a retried upload has the same key.
        assert_eq!(a.sha256, b.sha256);
        assert_eq!(a.sha256, sha256_hex(&a.bytes));
        assert_ne!(a.sha256, sha256_hex(&tagged));
        // Its size as shown: the EXIF orientation (6, a quarter turn) is applied.
        assert_eq!((a.width, a.height), (Some(12), Some(16)));
        let (thumb_key, thumb) = a.thumb.unwrap();
        assert_eq!(thumb_key, sha256_hex(&thumb));
        // A PDF is stored as it is, without a thumbnail.
        let pdf = prepare(b"%PDF-1.4\n%%EOF", DEFAULT_MAX_BYTES).unwrap();
        assert!(pdf.thumb.is_none());
        assert_eq!(pdf.bytes, b"%PDF-1.4\n%%EOF");
        // A file that only starts like a JPEG is refused, naming the field.
        let e = prepare(&plain[..20], DEFAULT_MAX_BYTES).err().unwrap();
        assert_eq!(e.field.as_deref(), Some("file"));
    }

    #[test]
    fn file_names_are_made_safe() {
        let t = FileType::Jpeg;
        assert_eq!(clean_filename("C:\\Users\\x\\路灯.jpg", t), "路灯.jpg");
        assert_eq!(clean_filename("../../etc/passwd", t), "passwd");
        assert_eq!(clean_filename("a\"b\r\nc.jpg", t), "abc.jpg");
        assert_eq!(clean_filename("", t), "attachment.jpg");
        assert_eq!(clean_filename(".hidden", FileType::Pdf), "hidden");
        assert_eq!(clean_filename(&"长".repeat(500), t).chars().count(), 120);
    }

    #[test]
    fn stages_and_roles() {
        assert_eq!(Stage::parse("patrol"), Some(Stage::Patrol));
        assert_eq!(Stage::parse("x"), None);
        assert_eq!(Stage::default_for(Role::UnitHandler), Stage::Reply);
        assert_eq!(Stage::default_for(Role::Operator), Stage::Intake);
    }
}
