//! Attachments through the engine on both databases: a photo with GPS tags is stored once per
//! case (a retried upload gives back the same attachment), without its location, with a
//! thumbnail; the bytes come back for whoever sees the case and for nobody else; uploads and
//! reads are audited.

use m110_runtime::engine::ErrorKind;
use m110_runtime::engine::attachments::{self, Attachments, Stage, Variant};
use m110_runtime::engine::intake::{CaseInput, create_case};
use m110_runtime::engine::region::RegionIndex;
use m110_runtime::model::Role;
use m110_runtime::per_engine;
use m110_runtime::store::Engine;
use m110_runtime::store::testdb::TestDb;
use m110_runtime::store::testdb::principal;
use serde_json::json;

/// A 40 × 30 JPEG with an EXIF GPS block (latitude 26° 20' 12.34" N) spliced in after SOI.
fn photo_with_gps() -> Vec<u8> {
    let img = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 120]));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    img.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let jpeg = jpeg.into_inner();
    let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
    t.extend_from_slice(&[0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
    // GPS IFD at 26: GPSLatitude, 3 rationals at 44.
    t.extend_from_slice(&[0, 1, 0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 44, 0, 0, 0, 0]);
    for (n, d) in [(26u32, 1u32), (20, 1), (1234, 100)] {
        t.extend_from_slice(&n.to_be_bytes());
        t.extend_from_slice(&d.to_be_bytes());
    }
    let mut seg = b"Exif\0\0".to_vec();
    seg.extend(t);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&(seg.len() as u16 + 2).to_be_bytes());
    out.extend(seg);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn attach_is_idempotent_and_scoped(engine: Engine) {
    let db = TestDb::provisioned(engine).await;
    let store = &db.store;
    let region = RegionIndex::load(store).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = Attachments::local(dir.path().join("attachments"));
    let operator = principal(store, "op", Role::Operator, None).await;
    let housing = principal(store, "housing", Role::UnitHandler, Some("housing-bureau")).await;
    let zhaoyang = principal(
        store,
        "zhaoyang",
        Role::UnitHandler,
        Some("zhaoyang-office"),
    )
    .await;
    let analyst = principal(store, "an", Role::Analyst, None).await;
    let input: CaseInput = serde_json::from_value(json!({
        "channel": "phone", "content": "路面塌陷，有个大坑", "category": "roads",
        "location": {"grid_code": "350781001001"}, "emergency": {"line": null},
    }))
    .unwrap();
    let case = create_case(store, &region, &operator, input)
        .await
        .unwrap()
        .case;
    let photo = photo_with_gps();
    let lat = [0, 0, 0, 26, 0, 0, 0, 1, 0, 0, 0, 20];
    assert!(contains(&photo, &lat));

    let first = attachments::attach(
        store, &region, &files, &operator, case.id, "坑.jpg", &photo, None,
    )
    .await
    .unwrap();
    assert_eq!(
        (first.kind.as_str(), first.stage.as_str()),
        ("photo", "intake")
    );
    assert_eq!((first.width, first.height), (Some(40), Some(30)));
    // A retry (same bytes, even under another name) is the same attachment.
    let again = attachments::attach(
        store,
        &region,
        &files,
        &operator,
        case.id,
        "retry.jpg",
        &photo,
        Some(Stage::Intake),
    )
    .await
    .unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(store.case_attachments(case.id).await.unwrap().len(), 1);
    // Stored once, content-addressed, without the latitude.
    let on_disk = dir
        .path()
        .join("attachments")
        .join(&first.sha256[..2])
        .join(&first.sha256[2..]);
    let stored = std::fs::read(&on_disk).unwrap();
    assert!(!contains(&stored, &lat));
    image::load_from_memory(&stored).unwrap();

    // Reads: the center, the unit the case is routed to, and nobody outside the case's scope.
    let c = attachments::content(store, &region, &files, &operator, first.id, Variant::File)
        .await
        .unwrap();
    assert_eq!((c.content_type.as_str(), c.bytes), ("image/jpeg", stored));
    let t = attachments::content(store, &region, &files, &operator, first.id, Variant::Thumb)
        .await
        .unwrap();
    assert!(t.bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
    assert_eq!(case.unit_id.as_deref(), Some("housing-bureau"));
    attachments::content(store, &region, &files, &housing, first.id, Variant::File)
        .await
        .unwrap();
    let reply = attachments::attach(
        store,
        &region,
        &files,
        &housing,
        case.id,
        "回复函.pdf",
        b"%PDF-1.4\n%%EOF",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (reply.kind.as_str(), reply.stage.as_str()),
        ("document", "reply")
    );
    assert!(reply.thumb_sha256.is_none());
    for who in [&zhaoyang, &analyst] {
        let e = attachments::content(store, &region, &files, who, first.id, Variant::File)
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden, "{:?}", who.role);
        let e = attachments::attach(
            store,
            &region,
            &files,
            who,
            case.id,
            "x.pdf",
            b"%PDF-1.4",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden, "{:?}", who.role);
    }
    // Wrong type and too big name the field.
    let e = attachments::attach(
        store, &region, &files, &operator, case.id, "a.html", b"<html>", None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.key, e.field.as_deref()),
        ("attachment_type", Some("file"))
    );
    let small = Attachments::new(files.blobs.clone(), 100);
    let e = attachments::attach(
        store, &region, &small, &operator, case.id, "b.jpg", &photo, None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.key, e.field.as_deref()),
        ("attachment_too_large", Some("file"))
    );
    // Two uploads and three reads were audited (the refused ones changed nothing).
    let audit: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM audit_log WHERE action LIKE 'attachment.%' ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "attachment.upload",
            "attachment.read",
            "attachment.read",
            "attachment.read",
            "attachment.upload"
        ]
    );
    // Not an Open311 request: nothing is public.
    assert!(
        attachments::public_photo(store, &files, &first.sha256)
            .await
            .unwrap()
            .is_none()
    );
}

per_engine!(attach_is_idempotent_and_scoped);
