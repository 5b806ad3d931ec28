//! Fuzzing the Open311 parameter parser (issue 14, item 7): `runtime/src/open311/params.rs` and
//! what the handlers run on its output (attribute checks, date windows), on form bodies and query
//! strings that are real requests mutated (byte flips, truncation, inserted fragments, huge
//! numbers, NUL, invalid UTF-8, long runs) and on generated parameter lists.
//!
//! The properties: nothing panics; every refusal is a 400 with a description (never a 500);
//! what is accepted keeps the documented bounds (coordinates in range, lengths, page and window
//! limits, an offset that cannot overflow); percent-encoding round-trips.
//!
//! Corpus: `tests/fuzz-corpus/open311/` (`*.form` POST bodies, `*.query` query strings; saved
//! failures `crash-*.form`). Bounded by `PROPTEST_CASES` (default 256), seeded; see
//! `fuzzkit/mod.rs`.

mod fuzzkit;

use m110_runtime::open311::format::{Format, Open311Error, parse_datetime, roots};
use m110_runtime::open311::params::{
    MAX_DESCRIPTION, MAX_ROWS, MAX_WINDOW_MS, NewRequest, Params, RequestQuery, Selection, window,
};
use m110_runtime::open311::services::{attributes, validate_attributes};
use m110_runtime::open311::xml::escape;
use proptest::prelude::*;

use fuzzkit::Shape;

/// A fixed "now" (2026-11-28 09:30 +08:00) so runs are deterministic.
const NOW: i64 = 1_795_829_400_000;

const SHAPE: Shape = Shape {
    record: b'&',
    value_sep: b"=",
    fragments: &[
        b"%00",
        b"%FF",
        b"%E8%B7",
        b"%ED%A0%80",
        b"%C0%80",
        b"%",
        b"%4",
        b"%zz",
        b"+",
        b"&",
        b"=",
        b"==",
        b"&&",
        b"&service_code=other",
        b"&service_code=",
        b"&lat=91",
        b"&long=-180.0000001",
        b"&lat=1e308&long=1e308",
        b"&lat=NaN&long=inf",
        b"&page=",
        b"&page=0",
        b"&page=4294967296",
        b"&page_size=1000",
        b"&start_date=0000-01-01",
        b"&end_date=9999-12-31T23:59:59.999999999%2B14:00",
        b"&start_date=%2B262143-01-01T00:00:00",
        b"&end_date=2026-11-28T09:30:00+08:00",
        b"&status=open,closed,,",
        b"&extensions=true",
        b"&service_request_id=,,,",
        b"&attribute[]=x",
        b"&attribute[[a]]=x",
        b"&attribute[urgency][]=high",
        b"&attribute[urgency]=high&attribute[urgency]=low",
        b"&attribute[count]=-1",
        b"&attribute[count]=4294967296",
        b"&attribute[reported_at]=2026-02-30",
        b"&email=%40",
        b"&email=a%40b",
        b"&media_url=https://",
        b"&media_url=http://x%0Ay",
        b"&phone=++++",
        b"&phone=%EF%BC%91%EF%BC%93%EF%BC%98", // full-width digits
        b"&description=%E8%B7%AF",
        b"&jurisdiction_id=%20",
        b"2026-11-28T09:30:00 08:00",
        b"2026-11-28T09:30:00+0800",
        b"2026-02-29",
    ],
};

/// Every check the Open311 front-end runs on parameters, with the properties each must keep.
fn check(raw: &[u8]) -> Result<(), String> {
    let params = match Params::parse(raw) {
        Ok(p) => p,
        Err(e) => return refusal("Params::parse", &e),
    };
    for (k, v) in params.pairs() {
        // Decoding never invents characters: no replacement character unless the input had one.
        if (k.contains('\u{fffd}') || v.contains('\u{fffd}'))
            && !String::from_utf8_lossy(raw).contains('\u{fffd}')
            && !raw.windows(9).any(|w| w.eq_ignore_ascii_case(b"%EF%BF%BD"))
        {
            return Err(format!("decoded a replacement character from {k:?}={v:?}"));
        }
    }

    match NewRequest::from_params(&params) {
        Err(e) => refusal("NewRequest::from_params", &e)?,
        Ok(r) => {
            check_submission(&r)?;
            if let Err(e) = validate_attributes(&attributes(), &r.attributes) {
                refusal("validate_attributes", &e)?;
            }
        }
    }

    match RequestQuery::from_params(&params, NOW) {
        Err(e) => refusal("RequestQuery::from_params", &e)?,
        Ok(q) => match q.selection {
            Selection::Ids(ids) => {
                if ids.is_empty() || ids.len() > MAX_ROWS as usize {
                    return Err(format!("{} ids accepted", ids.len()));
                }
                if ids.iter().any(|i| i.is_empty() || i.trim() != i) {
                    return Err(format!("untrimmed or empty id in {ids:?}"));
                }
            }
            Selection::Filter(f) => {
                if f.page < 1 || f.page_size < 1 || f.page_size > MAX_ROWS {
                    return Err(format!("page {} size {} accepted", f.page, f.page_size));
                }
                if f.offset() < 0 {
                    return Err(format!("negative offset {}", f.offset()));
                }
                if f.end_ms < f.start_ms || f.end_ms - f.start_ms > MAX_WINDOW_MS {
                    return Err(format!("window {}..{} accepted", f.start_ms, f.end_ms));
                }
            }
        },
    }

    match window(&params, NOW) {
        Err(e) => refusal("window", &e)?,
        Ok((s, e)) if e < s || e - s > MAX_WINDOW_MS => {
            return Err(format!("window {s}..{e} accepted"));
        }
        Ok(_) => {}
    }
    // The handlers also read single values and dates directly.
    for key in ["jurisdiction_id", "extensions", "start_date", "end_date"] {
        match params.text(key) {
            Err(e) => refusal("Params::text", &e)?,
            Ok(Some(v)) => {
                let _ = parse_datetime(v);
            }
            Ok(None) => {}
        }
    }
    Ok(())
}

/// A refusal is fine when it is a 400 that says something, and its error document (which
/// quotes what the client sent) renders as well-formed JSON and XML.
fn refusal(what: &str, e: &Open311Error) -> Result<(), String> {
    if e.code != 400 || e.description.trim().is_empty() {
        return Err(format!(
            "{what} refused with {} {:?}",
            e.code, e.description
        ));
    }
    let json = Format::Json.render(roots::ERRORS, &e.to_node());
    let parsed: serde_json::Value =
        serde_json::from_str(&json).map_err(|err| format!("{what}: error JSON {err}: {json}"))?;
    if parsed[0]["description"] != e.description.as_str() || parsed[0]["code"] != 400 {
        return Err(format!("{what}: error JSON {json} for {e:?}"));
    }
    let xml = Format::Xml.render(roots::ERRORS, &e.to_node());
    let text = escape(&e.description);
    let bad_char = xml.chars().find(|c| {
        matches!(*c, '\u{FFFE}' | '\u{FFFF}')
            || ((*c as u32) < 0x20 && !matches!(*c, '\t' | '\n' | '\r'))
    });
    if !xml.contains(&format!("<description>{text}</description>")) || bad_char.is_some() {
        return Err(format!("{what}: error XML {xml:?} for {e:?}"));
    }
    // Escaped text has no markup of its own left: every `&` starts an entity.
    let entities = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"];
    let stray_amp = text
        .match_indices('&')
        .any(|(i, _)| !entities.iter().any(|ent| text[i..].starts_with(ent)));
    if text.contains(['<', '>']) || stray_amp {
        return Err(format!("{what}: unescaped markup in {text:?}"));
    }
    Ok(())
}

fn check_submission(r: &NewRequest) -> Result<(), String> {
    let fail = |why: String| Err(format!("accepted submission {why}: {r:?}"));
    if r.service_code.trim().is_empty() || r.service_code.trim() != r.service_code {
        return fail("with a blank or untrimmed service_code".into());
    }
    let loc = &r.location;
    if loc.lat_long.is_none() && loc.address_string.is_none() && loc.address_id.is_none() {
        return fail("without a location".into());
    }
    if let Some((lat, long)) = loc.lat_long
        && !(lat.is_finite()
            && long.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&long))
    {
        return fail(format!("with lat/long {lat}/{long}"));
    }
    let bounded = [
        (&loc.address_string, 500),
        (&loc.address_id, 64),
        (&r.email, 254),
        (&r.device_id, 128),
        (&r.account_id, 128),
        (&r.first_name, 64),
        (&r.last_name, 64),
        (&r.phone, 32),
        (&r.media_url, 2048),
        (&r.description, MAX_DESCRIPTION),
    ];
    for (v, max) in bounded {
        if let Some(s) = v
            && (s.chars().count() > max || s.is_empty() || s.trim() != s)
        {
            return fail(format!(
                "with a value of {} chars (max {max})",
                s.chars().count()
            ));
        }
    }
    if r.attributes
        .iter()
        .any(|(k, v)| k.is_empty() || v.is_empty())
    {
        return fail("with an empty attribute".into());
    }
    Ok(())
}

/// Percent-encodes `s` the way different clients do: some bytes raw, some `%XX`, spaces as `+`.
fn encode(s: &str, style: &[bool]) -> String {
    let mut out = String::new();
    for (i, b) in s.bytes().enumerate() {
        let raw_ok = b.is_ascii_alphanumeric() || b"-._~[]".contains(&b) || b >= 0x80;
        let encode_anyway = style.get(i % style.len().max(1)).copied().unwrap_or(false);
        match b {
            b' ' if !encode_anyway => out.push('+'),
            _ if raw_ok && !encode_anyway && b < 0x80 => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Generated parameter lists: known names and free ones, any Unicode values.
fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        prop::sample::select(vec![
            "service_code",
            "lat",
            "long",
            "address_string",
            "address_id",
            "description",
            "email",
            "phone",
            "media_url",
            "page",
            "page_size",
            "status",
            "start_date",
            "end_date",
            "service_request_id",
            "attribute[urgency]",
            "attribute[contact_time][]",
            "attribute[count]",
            "extensions",
        ])
        .prop_map(str::to_string),
        "\\PC{0,12}",
    ];
    let value = prop_oneof![
        "\\PC{0,40}",
        "[0-9.eE+-]{0,30}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,12})?)?([+-][0-9]{2}:?[0-9]{2}|Z)?)?",
        prop::sample::select(vec![
            "high", "morning", "open", "closed", "roads", "1", "1000"
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec((name, value), 0..12)
}

#[test]
fn corpus_replays_clean() {
    let n = fuzzkit::replay("open311", &check);
    eprintln!("fuzz open311: {n} corpus files replayed");
}

#[test]
fn mutated_requests_never_fail_badly() {
    let seeds = fuzzkit::corpus("open311")
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    fuzzkit::run(
        "open311",
        "form",
        fuzzkit::DEFAULT_CASES * 4,
        fuzzkit::mutated(seeds, SHAPE),
        &check,
    );
}

#[test]
fn generated_parameters_round_trip() {
    let strategy =
        (pairs(), prop::collection::vec(any::<bool>(), 1..8)).prop_map(|(pairs, style)| {
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k, &style), encode(v, &style)))
                .collect();
            body.join("&").into_bytes()
        });
    let round_trip = |raw: &[u8]| -> Result<(), String> {
        check(raw)?;
        // Every generated pair is valid UTF-8, so decoding must succeed and give back the
        // pairs (a pair with an empty name and value is an empty piece, which is skipped).
        let p = Params::parse(raw).map_err(|e| format!("valid encoding refused: {e:?}"))?;
        let expected: Vec<(String, String)> = std::str::from_utf8(raw)
            .expect("ascii")
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|piece| {
                let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
                (decode_reference(k), decode_reference(v))
            })
            .collect();
        if p.pairs() != expected.as_slice() {
            return Err(format!("decoded {:?}, expected {expected:?}", p.pairs()));
        }
        Ok(())
    };
    fuzzkit::run(
        "open311",
        "form",
        fuzzkit::DEFAULT_CASES * 4,
        strategy,
        &round_trip,
    );
}

/// A second, obviously correct percent-decoder to compare against.
fn decode_reference(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'+' {
            out.push(b' ');
        } else if b[i] == b'%'
            && i + 3 <= b.len()
            && let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16)
            && s[i + 1..i + 3].bytes().all(|c| c.is_ascii_hexdigit())
        {
            out.push(x);
            i += 2;
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    String::from_utf8(out).expect("generated values are UTF-8")
}
