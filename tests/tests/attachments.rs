//! Attachments end to end on both engines, over the real `m110d` (limit set to 300,000 bytes in
//! `m110d.yaml`): an operator attaches a phone photo carrying GPS tags to a case; it is listed,
//! its bytes come back as the same picture without the location, a retry is the same
//! attachment, the thumbnail is a small JPEG; a text file is a 415 and an oversized photo a 413,
//! both naming `file`; the handler of the case's unit reads it and adds its reply document, the
//! handler of another unit and the analyst are refused; a request submitted through Open311 gets
//! its photo as `media_url`, which anyone can fetch without a session — and no other photo is
//! reachable that way.

use m110_e2e::app::App;
use m110_e2e::{Engine, Install, PASSWORD, per_engine};
use serde_json::{Value, json};

const BOUNDARY: &str = "m110-e2e-boundary-7f3a";

/// A multipart body with `file` (and `stage` when given).
fn multipart(filename: &str, bytes: &[u8], stage: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(s) = stage {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"stage\"\r\n\r\n{s}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(app: &App, who: &str, case: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
    app.raw(
        who,
        &format!("/api/v1/cases/{case}/attachments"),
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        multipart(name, bytes, None),
    )
    .await
}

/// GET `path` as `who` ("" = no credentials): status, content type, headers, bytes.
async fn fetch(
    app: &App,
    who: &str,
    path: &str,
) -> (u16, String, reqwest::header::HeaderMap, Vec<u8>) {
    let mut rb = app.http.get(app.url(path));
    if let Some(t) = app.tokens.get(who) {
        rb = rb.bearer_auth(t);
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, headers, resp.bytes().await.unwrap().to_vec())
}

/// A `w` × `h` JPEG with an EXIF block holding GPS latitude 26° 20' 12.34".
fn photo_with_gps(w: u32, h: u32, noise: bool) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let n = if noise {
            (x * 7919 + y * 104_729) % 251
        } else {
            0
        } as u8;
        image::Rgb([(x % 256) as u8 ^ n, (y % 256) as u8, 90u8.wrapping_add(n)])
    });
    let mut jpeg = std::io::Cursor::new(Vec::new());
    img.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let jpeg = jpeg.into_inner();
    let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
    t.extend_from_slice(&[0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
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

const LATITUDE: [u8; 12] = [0, 0, 0, 26, 0, 0, 0, 1, 0, 0, 0, 20];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

per_engine!(attachments);

async fn attachments(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let yaml = install.path().join("m110d.yaml");
    let mut config = std::fs::read_to_string(&yaml).unwrap();
    config.push_str("\nattachments:\n  max_bytes: 300000\n");
    std::fs::write(&yaml, config).unwrap();
    let app = App::with_install(install, &[]);

    // A street light case: routed to urban-management.
    let body = json!({"channel": "phone", "content": "东关路口的路灯坏了，晚上一片漆黑",
        "category": "public_facilities", "caller": {"phone": "13800001111"},
        "location": {"grid_code": "350781001001"}, "emergency": {"line": null}});
    let (s, v) = app.call("op", "POST", "/api/v1/cases", Some(&body)).await;
    assert_eq!(s, 201, "{v}");
    let case = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["unit"]["id"], "urban-management", "{v}");

    // Upload, retry, list.
    let photo = photo_with_gps(64, 48, false);
    assert!(contains(&photo, &LATITUDE));
    let (s, a) = upload(&app, "op", &case, "路灯.jpg", &photo).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(
        (a["kind"].as_str(), a["stage"].as_str()),
        (Some("photo"), Some("intake"))
    );
    assert_eq!(
        (a["width"].as_i64(), a["height"].as_i64()),
        (Some(64), Some(48))
    );
    let id = a["id"].as_i64().unwrap();
    let (s, again) = upload(&app, "op", &case, "retry.jpg", &photo).await;
    assert_eq!((s, again["id"].as_i64()), (201, Some(id)), "{again}");
    let (s, list) = app
        .call(
            "op",
            "GET",
            &format!("/api/v1/cases/{case}/attachments"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["filename"], "路灯.jpg");

    // The bytes: the same picture, without the latitude, served safely.
    let (s, ct, headers, bytes) = fetch(&app, "op", &format!("/api/v1/attachments/{id}")).await;
    assert_eq!((s, ct.as_str()), (200, "image/jpeg"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("inline;") && disposition.contains("%E8%B7%AF%E7%81%AF.jpg"),
        "{disposition}"
    );
    assert!(!contains(&bytes, &LATITUDE), "the GPS latitude was served");
    assert_eq!(bytes.len(), photo.len(), "only the location was blanked");
    let (want, got) = (
        image::load_from_memory(&photo).unwrap().to_rgb8(),
        image::load_from_memory(&bytes).unwrap().to_rgb8(),
    );
    assert_eq!(want, got, "the picture itself is unchanged");
    let (s, ct, _, thumb) = fetch(&app, "op", &format!("/api/v1/attachments/{id}/thumb")).await;
    assert_eq!((s, ct.as_str()), (200, "image/jpeg"));
    let t = image::load_from_memory(&thumb).unwrap();
    assert!(t.width() <= 320 && t.height() <= 320);

    // Refusals name the field.
    let (s, e) = upload(&app, "op", &case, "notes.txt", b"just some text").await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (415, Some("file")),
        "{e}"
    );
    let big = photo_with_gps(800, 600, true);
    assert!(big.len() > 300_000, "{}", big.len());
    let (s, e) = upload(&app, "op", &case, "big.jpg", &big).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (413, Some("file")),
        "{e}"
    );
    let (s, e) = app
        .raw(
            "op",
            &format!("/api/v1/cases/{case}/attachments"),
            "application/json",
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (415, Some("file")),
        "{e}"
    );

    // The case's unit reads it and attaches its reply; another unit and the analyst may not.
    let (s, _, _, _) = fetch(&app, "urban", &format!("/api/v1/attachments/{id}")).await;
    assert_eq!(s, 200);
    let (s, doc) = upload(
        &app,
        "urban",
        &case,
        "回复.pdf",
        b"%PDF-1.4\n1 0 obj\n%%EOF\n",
    )
    .await;
    assert_eq!(
        (s, doc["stage"].as_str(), doc["kind"].as_str()),
        (201, Some("reply"), Some("document")),
        "{doc}"
    );
    let (s, _, headers, _) = fetch(&app, "urban", doc["url"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    for (who, status) in [("justice", 403), ("analyst", 403), ("", 401)] {
        let (s, _, _, _) = fetch(&app, who, &format!("/api/v1/attachments/{id}")).await;
        assert_eq!(s, status, "{who} reading");
        let (s, _, _, _) = fetch(&app, who, &format!("/api/v1/attachments/{id}/thumb")).await;
        assert_eq!(s, status, "{who} reading the thumbnail");
        let (s, _) = app
            .call(
                who,
                "GET",
                &format!("/api/v1/cases/{case}/attachments"),
                None,
            )
            .await;
        assert_eq!(s, status, "{who} listing");
    }
    let (s, e) = upload(&app, "justice", &case, "x.pdf", b"%PDF-1.4").await;
    assert_eq!(s, 403, "{e}");

    // Open311: a citizen's request, then its photo; media_url serves it without a session.
    let (s, text) = {
        let resp = app
            .http
            .post(app.url("/open311/v2/requests.json"))
            .form(&[
                ("api_key", app.tokens["disp"].as_str()),
                ("service_code", "public_facilities"),
                ("lat", "27.3403"),
                ("long", "117.4925"),
                ("description", "公园里的长椅坏了"),
            ])
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    };
    assert_eq!(s, 200, "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    let request = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let bench = photo_with_gps(32, 32, false);
    let (s, p) = upload(&app, "disp", &request, "bench.jpg", &bench).await;
    assert_eq!(s, 201, "{p}");
    let (s, ct, _, doc_json) =
        fetch(&app, "", &format!("/open311/v2/requests/{request}.json")).await;
    assert_eq!((s, ct.starts_with("application/json")), (200, true));
    let doc: Value = serde_json::from_slice(&doc_json).unwrap();
    let media = doc[0]["media_url"].as_str().unwrap().to_string();
    let sha = p["sha256"].as_str().unwrap();
    assert!(
        media.ends_with(&format!("/open311/v2/media/{sha}.jpg")),
        "{media}"
    );
    let resp = reqwest::get(&media).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let public = resp.bytes().await.unwrap();
    assert!(!contains(&public, &LATITUDE));
    let (_, _, _, staff_copy) = fetch(&app, "disp", p["url"].as_str().unwrap()).await;
    assert_eq!(public.to_vec(), staff_copy);
    // The phone case's photo is not public, whatever its name.
    let phone_sha = a["sha256"].as_str().unwrap();
    let (s, _, _, _) = fetch(&app, "", &format!("/open311/v2/media/{phone_sha}.jpg")).await;
    assert_eq!(s, 404);
    let (s, _, _, _) = fetch(&app, "", "/open311/v2/media/..%2F..%2Fm110d.yaml").await;
    assert_eq!(s, 404);

    // The console: the case page shows the thumbnail and the form; an upload with a forged
    // token is refused and stores nothing, with the page's token it lands on the page again.
    let console = m110_e2e::login(&app.url(""), "op", PASSWORD).await;
    let page_url = app.url(&format!("/console/cases/{case}"));
    let page = console
        .get(&page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("/api/v1/attachments/{id}/thumb")),
        "{page}"
    );
    assert!(page.contains("id=\"attach-form\""));
    let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = page[at..].split('"').next().unwrap().to_string();
    let png = {
        let img = image::RgbImage::from_pixel(20, 10, image::Rgb([10, 200, 30]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let form = |token: &str| {
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n"
        )
        .into_bytes();
        body.extend(multipart("现场.png", &png, Some("intake")));
        body
    };
    let post = |body: Vec<u8>| {
        console
            .post(app.url(&format!("/console/cases/{case}/attachments")))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .send()
    };
    let resp = post(form("forged")).await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let count = |list: Value| list["items"].as_array().unwrap().len();
    let listed = app
        .call(
            "op",
            "GET",
            &format!("/api/v1/cases/{case}/attachments"),
            None,
        )
        .await
        .1;
    assert_eq!(count(listed), 2, "the forged upload stored nothing");
    let resp = post(form(&csrf)).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.url().as_str().contains("notice=attached"),
        "{}",
        resp.url()
    );
    let page = resp.text().await.unwrap();
    assert!(page.contains("附件已上传"), "{page}");
    let listed = app
        .call(
            "op",
            "GET",
            &format!("/api/v1/cases/{case}/attachments"),
            None,
        )
        .await
        .1;
    assert_eq!(listed["items"][2]["filename"], "现场.png", "{listed}");
    assert_eq!(listed["items"][2]["content_type"], "image/png");
    // A refused file comes back as the page with the reason.
    let mut body =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
            .into_bytes();
    body.extend(multipart("a.exe", b"MZ\x90\0", None));
    let resp = post(body).await.unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    assert!(resp.text().await.unwrap().contains("只接受 JPEG"));

    // Every upload and read was audited.
    let (s, log) = app
        .call(
            "auditor",
            "GET",
            "/api/v1/audit?action=attachment.read&limit=100",
            None,
        )
        .await;
    assert_eq!(s, 200, "{log}");
    assert!(log["items"].as_array().unwrap().len() >= 5, "{log}");
}

per_engine!(attachments_in_the_browser);

/// The case page in Chromium: the operator picks a photo in the form, it appears as a thumbnail
/// that the browser loads with its session, and a click opens the picture; the screenshot is
/// `target/console-screenshots/<engine>/case-attachments.png`.
async fn attachments_in_the_browser(engine: Engine) {
    use m110_e2e::browser::Browser;
    use std::time::Duration;

    let app = App::start(engine, &[]).await;
    let base = app.server.base.clone();
    let body = json!({"channel": "phone", "content": "和平街菜市场门口井盖缺失，很危险",
        "category": "public_facilities", "caller": {"phone": "13800002222"},
        "location": {"grid_code": "350781001001"}, "emergency": {"line": null}});
    let (s, v) = app.call("op", "POST", "/api/v1/cases", Some(&body)).await;
    assert_eq!(s, 201, "{v}");
    let case = v["id"].as_str().unwrap().to_string();
    let (s, doc) = upload(&app, "op", &case, "来电记录.pdf", b"%PDF-1.4\n%%EOF\n").await;
    assert_eq!(s, 201, "{doc}");
    let photo = install_photo(&app);

    let b = Browser::start().await;
    b.set_window(1280, 1400).await;
    b.goto(&format!("{base}/console/login")).await;
    b.fill("#username", "op").await;
    b.fill("#password", PASSWORD).await;
    b.click("#login-submit").await;
    b.wait_for("nav", Duration::from_secs(10)).await;
    b.goto(&format!("{base}/console/cases/{case}")).await;
    b.find("#attach-form").await;
    b.upload("#attach-file", &photo).await;
    b.click("#attach-submit").await;
    b.wait_for("#attachments img", Duration::from_secs(10))
        .await;
    assert!(b.current_url().await.contains("notice=attached"));
    // The thumbnail is fetched by the browser with its session cookie and decodes.
    m110_e2e::eventually("the thumbnail loads", Duration::from_secs(10), || async {
        let w = b
            .exec(
                "const i = document.querySelector('#attachments img'); \
                 i.scrollIntoView(); return i.complete ? i.naturalWidth : 0;",
                vec![],
            )
            .await;
        (w.as_i64().unwrap_or(0) > 0).then_some(())
    })
    .await;
    let text = b.text("#attachments").await;
    assert!(
        text.contains("来电记录.pdf") && text.contains("附件 (2)"),
        "{text}"
    );
    b.screenshot(&format!("{}/case-attachments", engine.as_str()))
        .await;
    // A click opens the picture itself.
    let href = b
        .attr("#attachments a.attachment-photo", "href")
        .await
        .unwrap();
    b.goto(&format!("{base}{href}")).await;
    let w = b
        .exec(
            "return document.images.length ? document.images[0].naturalWidth : 0;",
            vec![],
        )
        .await;
    assert_eq!(w.as_i64(), Some(1200), "the full picture");
}

/// A 1200 × 900 "street" photo with GPS tags, written beside the install for the file picker.
fn install_photo(app: &App) -> std::path::PathBuf {
    let img = image::RgbImage::from_fn(1200, 900, |x, y| {
        let sky = y < 380;
        let road = y > 620 && (x as i32 - 600).abs() < (y as i32 - 560) * 2;
        if sky {
            image::Rgb([120, 170, (230 - y / 4) as u8])
        } else if road {
            image::Rgb([70, 70, 74])
        } else if (x / 40 + y / 40) % 7 == 0 {
            image::Rgb([150, 110, 80])
        } else {
            image::Rgb([90, (140 + (x % 50)) as u8, 70])
        }
    });
    let mut jpeg = std::io::Cursor::new(Vec::new());
    img.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let path = app.install.scratch().join("井盖.jpg");
    std::fs::write(&path, jpeg.into_inner()).unwrap();
    path
}
