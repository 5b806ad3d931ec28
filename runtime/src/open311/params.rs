/*!
Open311 request parameters: form-urlencoded decoding, the `POST requests` fields and the
`GET requests` / `servicerequestupdates` filters.

Decoding is strict where the standard is strict: bytes that are not UTF-8 after percent-decoding
are a 400 naming the parameter (never silently replaced, which would change what a citizen wrote).
An empty parameter counts as absent (GeoReport v2). `POST requests` rejects parameters it does
not know, so a misspelt field (`descripton=…`) is reported instead of quietly dropped; GET
filters ignore unknown parameters because clients add cache-busters and their own extras.
*/

use std::collections::BTreeMap;

use super::format::{Open311Error, parse_datetime};

/// Longest accepted `description` (GeoReport v2: 4000 characters).
pub const MAX_DESCRIPTION: usize = 4000;
/// Widest `start_date`..`end_date` window, and the default window ending now.
pub const MAX_WINDOW_MS: i64 = 90 * 24 * 3600 * 1000;
/// Most rows one `GET requests` returns.
pub const MAX_ROWS: u32 = 1000;
/// The deepest row a `page` may start at.
pub const MAX_OFFSET: i64 = 10_000;

/// Decoded parameters in arrival order (query string first, then the body).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Decodes `application/x-www-form-urlencoded` bytes.
    pub fn parse(raw: &[u8]) -> Result<Params, Open311Error> {
        let mut pairs = Vec::new();
        for piece in raw.split(|b| *b == b'&') {
            if piece.is_empty() {
                continue;
            }
            let (k, v) = match piece.iter().position(|b| *b == b'=') {
                Some(i) => (&piece[..i], &piece[i + 1..]),
                None => (piece, &b""[..]),
            };
            let key = decode(k).map_err(|_| {
                Open311Error::bad_request(
                    "参数名不是合法的 UTF-8 / parameter name is not valid UTF-8",
                )
            })?;
            let value = decode(v).map_err(|_| {
                Open311Error::bad_request(format!(
                    "参数 {key} 的值不是合法的 UTF-8 / parameter {key} is not valid UTF-8"
                ))
            })?;
            pairs.push((key, value));
        }
        Ok(Params { pairs })
    }

    /// Appends another set (the body after the query string).
    pub fn extend(&mut self, other: Params) {
        self.pairs.extend(other.pairs);
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The value of a single-valued parameter; empty counts as absent. Two different non-empty
    /// values for one name are ambiguous and rejected.
    pub fn get(&self, key: &str) -> Result<Option<&str>, Open311Error> {
        let mut found: Option<&str> = None;
        for (k, v) in &self.pairs {
            if k != key || v.is_empty() {
                continue;
            }
            match found {
                Some(prev) if prev != v => {
                    return Err(Open311Error::bad_request(format!(
                        "参数 {key} 重复且取值不同 / parameter {key} given twice with different values"
                    )));
                }
                _ => found = Some(v),
            }
        }
        Ok(found)
    }

    /// Like [`Params::get`] with surrounding whitespace trimmed (empty after trim is absent).
    pub fn text(&self, key: &str) -> Result<Option<&str>, Open311Error> {
        Ok(self
            .get(key)?
            .map(str::trim)
            .filter(|s: &&str| !s.is_empty()))
    }
}

/// Percent-decodes one component (`+` is a space) into UTF-8.
fn decode(raw: &[u8]) -> Result<String, std::string::FromUtf8Error> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < raw.len() => {
                match (hex(raw[i + 1]), hex(raw[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 2;
                    }
                    // A stray '%' is kept literally, as browsers and form_urlencoded do.
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Where the citizen says the problem is. At least one of the three is present.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Location {
    pub lat_long: Option<(f64, f64)>,
    pub address_string: Option<String>,
    /// The region's address ids are its grid unit codes.
    pub address_id: Option<String>,
}

/// A validated `POST requests` submission (attributes are checked against the service
/// definition separately, once the service is known).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewRequest {
    pub jurisdiction_id: Option<String>,
    pub api_key: Option<String>,
    pub service_code: String,
    pub location: Location,
    /// attribute code → values (one for `attribute[code]`, any number for `attribute[code][]`).
    pub attributes: BTreeMap<String, Vec<String>>,
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub media_url: Option<String>,
}

const POST_FIELDS: &[&str] = &[
    "jurisdiction_id",
    "api_key",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
];

impl NewRequest {
    pub fn from_params(p: &Params) -> Result<NewRequest, Open311Error> {
        let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in p.pairs() {
            if let Some(code) = attribute_code(k)? {
                let values = attributes.entry(code.to_string()).or_default();
                if !v.trim().is_empty() {
                    values.push(v.trim().to_string());
                }
                continue;
            }
            if !POST_FIELDS.contains(&k.as_str()) {
                return Err(Open311Error::bad_request(format!(
                    "未知参数 {k} / unknown parameter {k}"
                )));
            }
        }
        attributes.retain(|_, v| !v.is_empty());

        let service_code = p
            .text("service_code")?
            .ok_or_else(|| {
                Open311Error::bad_request("缺少 service_code / service_code is required")
            })?
            .to_string();

        let lat = number(p, "lat")?;
        let long = number(p, "long")?;
        let lat_long = match (lat, long) {
            (Some(lat), Some(long)) => {
                if !(-90.0..=90.0).contains(&lat) {
                    return Err(Open311Error::bad_request(
                        "lat 超出范围 -90..90 / lat out of range -90..90",
                    ));
                }
                if !(-180.0..=180.0).contains(&long) {
                    return Err(Open311Error::bad_request(
                        "long 超出范围 -180..180 / long out of range -180..180",
                    ));
                }
                Some((lat, long))
            }
            (None, None) => None,
            (Some(_), None) => {
                return Err(Open311Error::bad_request(
                    "给出 lat 时必须同时给出 long / long is required with lat",
                ));
            }
            (None, Some(_)) => {
                return Err(Open311Error::bad_request(
                    "给出 long 时必须同时给出 lat / lat is required with long",
                ));
            }
        };
        let location = Location {
            lat_long,
            address_string: bounded(p, "address_string", 500)?,
            address_id: bounded(p, "address_id", 64)?,
        };
        if location.lat_long.is_none()
            && location.address_string.is_none()
            && location.address_id.is_none()
        {
            return Err(Open311Error::bad_request(
                "需要位置：lat+long、address_string 或 address_id / a location is required: lat+long, address_string or address_id",
            ));
        }

        let email = bounded(p, "email", 254)?;
        if let Some(e) = &email {
            let ok = e.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.contains('@')
            }) && !e.chars().any(char::is_whitespace);
            if !ok {
                return Err(Open311Error::bad_request(
                    "email 格式不正确 / email is not a valid address",
                ));
            }
        }
        let phone = bounded(p, "phone", 32)?;
        if let Some(ph) = &phone {
            let digits = ph.chars().filter(char::is_ascii_digit).count();
            let ok = digits >= 3
                && ph
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
            if !ok {
                return Err(Open311Error::bad_request(
                    "phone 只能包含数字、空格和 + - ( ) / phone may contain digits, spaces and + - ( ) only",
                ));
            }
        }
        let media_url = bounded(p, "media_url", 2048)?;
        if let Some(u) = &media_url {
            let ok = (u.starts_with("http://") || u.starts_with("https://"))
                && u.len() > "https://".len()
                && !u.chars().any(|c| c.is_whitespace() || c.is_control());
            if !ok {
                return Err(Open311Error::bad_request(
                    "media_url 必须是 http(s) 地址 / media_url must be an http(s) URL",
                ));
            }
        }
        let description = p.text("description")?.map(str::to_string);
        if let Some(d) = &description
            && d.chars().count() > MAX_DESCRIPTION
        {
            return Err(Open311Error::bad_request(format!(
                "description 超过 {MAX_DESCRIPTION} 字 / description is longer than {MAX_DESCRIPTION} characters"
            )));
        }

        Ok(NewRequest {
            jurisdiction_id: p.text("jurisdiction_id")?.map(str::to_string),
            api_key: p.text("api_key")?.map(str::to_string),
            service_code,
            location,
            attributes,
            email,
            device_id: bounded(p, "device_id", 128)?,
            account_id: bounded(p, "account_id", 128)?,
            first_name: bounded(p, "first_name", 64)?,
            last_name: bounded(p, "last_name", 64)?,
            phone,
            description,
            media_url,
        })
    }

    /// The submitter's name as one string (Chinese order: family name first).
    pub fn full_name(&self) -> Option<String> {
        match (&self.last_name, &self.first_name) {
            (Some(l), Some(f)) => Some(format!("{l}{f}")),
            (Some(n), None) | (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        }
    }
}

/// `attribute[code]` → `Some(code)`, `attribute[code][]` → `Some(code)`, other names → `None`.
fn attribute_code(key: &str) -> Result<Option<&str>, Open311Error> {
    let Some(rest) = key.strip_prefix("attribute[") else {
        return Ok(None);
    };
    let inner = rest
        .strip_suffix("][]")
        .or_else(|| rest.strip_suffix(']'))
        .filter(|c| !c.is_empty() && !c.contains(['[', ']']));
    match inner {
        Some(code) => Ok(Some(code)),
        None => Err(Open311Error::bad_request(format!(
            "参数名 {key} 不是 attribute[code] 或 attribute[code][] / malformed attribute parameter {key}"
        ))),
    }
}

fn number(p: &Params, key: &str) -> Result<Option<f64>, Open311Error> {
    match p.text(key)? {
        None => Ok(None),
        Some(s) => match s.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(Open311Error::bad_request(format!(
                "{key} 必须是数字 / {key} must be a number"
            ))),
        },
    }
}

fn bounded(p: &Params, key: &str, max_chars: usize) -> Result<Option<String>, Open311Error> {
    match p.text(key)? {
        None => Ok(None),
        Some(s) if s.chars().count() > max_chars => Err(Open311Error::bad_request(format!(
            "{key} 超过 {max_chars} 字 / {key} is longer than {max_chars} characters"
        ))),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// Which requests `GET requests` returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// `service_request_id` given: exactly these, every other filter ignored.
    Ids(Vec<String>),
    Filter(RequestFilter),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestFilter {
    /// Empty means every service.
    pub service_codes: Vec<String>,
    /// Inclusive lower bound on requested time, Unix ms.
    pub start_ms: i64,
    /// Inclusive upper bound on requested time, Unix ms.
    pub end_ms: i64,
    /// `Some(true)` closed only, `Some(false)` open only, `None` both.
    pub closed: Option<bool>,
    /// 1-based page.
    pub page: u32,
    pub page_size: u32,
}

impl RequestFilter {
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.page_size)
    }
}

/// Parsed `GET requests` query.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestQuery {
    pub jurisdiction_id: Option<String>,
    pub selection: Selection,
    pub extensions: bool,
}

impl RequestQuery {
    pub fn from_params(p: &Params, now_ms: i64) -> Result<RequestQuery, Open311Error> {
        let extensions = match p.text("extensions")? {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                return Err(Open311Error::bad_request(
                    "extensions 只能是 true 或 false / extensions must be true or false",
                ));
            }
        };
        let jurisdiction_id = p.text("jurisdiction_id")?.map(str::to_string);
        if let Some(ids) = p.text("service_request_id")? {
            let ids = comma_list(ids);
            if ids.len() > MAX_ROWS as usize {
                return Err(Open311Error::bad_request(format!(
                    "service_request_id 最多 {MAX_ROWS} 个 / at most {MAX_ROWS} service_request_id values"
                )));
            }
            if !ids.is_empty() {
                return Ok(RequestQuery {
                    jurisdiction_id,
                    selection: Selection::Ids(ids),
                    extensions,
                });
            }
        }
        let service_codes = p.text("service_code")?.map(comma_list).unwrap_or_default();
        let (start_ms, end_ms) = window(p, now_ms)?;
        let closed = match p.text("status")? {
            None => None,
            Some(s) => {
                let mut open = false;
                let mut closed = false;
                for part in comma_list(s) {
                    match part.as_str() {
                        "open" => open = true,
                        "closed" => closed = true,
                        _ => {
                            return Err(Open311Error::bad_request(format!(
                                "status 只能是 open 或 closed / status must be open or closed, got {part}"
                            )));
                        }
                    }
                }
                match (open, closed) {
                    (true, false) => Some(false),
                    (false, true) => Some(true),
                    _ => None,
                }
            }
        };
        let page = positive(p, "page", 1, u32::MAX)?;
        let page_size = positive(p, "page_size", MAX_ROWS, MAX_ROWS)?;
        // An offset makes the database walk every row before it: pages reach so far (the 90-day
        // window narrows deeper lists), as the JSON API's do.
        if i64::from(page - 1) * i64::from(page_size) > MAX_OFFSET {
            return Err(Open311Error::bad_request(format!(
                "page 太深：最多到第 {MAX_OFFSET} 条，请缩小时间范围 / page reaches past row \
                 {MAX_OFFSET}: narrow start_date/end_date instead"
            )));
        }
        Ok(RequestQuery {
            jurisdiction_id,
            selection: Selection::Filter(RequestFilter {
                service_codes,
                start_ms,
                end_ms,
                closed,
                page,
                page_size,
            }),
            extensions,
        })
    }
}

/// The `start_date`/`end_date` window: at most 90 days; missing ends are filled so the window
/// is 90 days long, and with neither given it is the last 90 days.
pub fn window(p: &Params, now_ms: i64) -> Result<(i64, i64), Open311Error> {
    let start = date(p, "start_date")?;
    let end = date(p, "end_date")?;
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s.saturating_add(MAX_WINDOW_MS)),
        (None, Some(e)) => (e.saturating_sub(MAX_WINDOW_MS), e),
        (None, None) => (now_ms - MAX_WINDOW_MS, now_ms),
    };
    if end < start {
        return Err(Open311Error::bad_request(
            "end_date 早于 start_date / end_date is before start_date",
        ));
    }
    if end - start > MAX_WINDOW_MS {
        return Err(Open311Error::bad_request(
            "start_date 与 end_date 相隔不能超过 90 天 / start_date and end_date may be at most 90 days apart",
        ));
    }
    Ok((start, end))
}

fn date(p: &Params, key: &str) -> Result<Option<i64>, Open311Error> {
    match p.text(key)? {
        None => Ok(None),
        Some(s) => parse_datetime(s).map(Some).ok_or_else(|| {
            Open311Error::bad_request(format!(
                "{key} 不是 ISO-8601 时间 / {key} is not an ISO-8601 date-time: {s}"
            ))
        }),
    }
}

fn positive(p: &Params, key: &str, default: u32, max: u32) -> Result<u32, Open311Error> {
    match p.text(key)? {
        None => Ok(default),
        Some(s) => match s.parse::<u32>() {
            Ok(n) if n >= 1 && n <= max => Ok(n),
            _ => Err(Open311Error::bad_request(format!(
                "{key} 必须是 1..{max} 的整数 / {key} must be an integer in 1..{max}"
            ))),
        },
    }
}

fn comma_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(s: &str) -> Params {
        Params::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn decodes_percent_plus_and_utf8() {
        let p = params("description=%E8%B7%AF%E7%81%AF+%E4%B8%8D%E4%BA%AE&x=50%25&bad=%zz&empty=");
        assert_eq!(p.get("description").unwrap(), Some("路灯 不亮"));
        assert_eq!(p.get("x").unwrap(), Some("50%"));
        assert_eq!(p.get("bad").unwrap(), Some("%zz"));
        assert_eq!(p.get("empty").unwrap(), None);
        assert_eq!(params("a=%4").get("a").unwrap(), Some("%4"));
    }

    #[test]
    fn invalid_utf8_names_the_parameter() {
        let err = Params::parse(b"description=%FF%FE").unwrap_err();
        assert_eq!(err.code, 400);
        assert!(err.description.contains("description"));
    }

    #[test]
    fn conflicting_repeats_are_rejected() {
        let p = params("service_code=a&service_code=b");
        assert!(p.get("service_code").is_err());
        assert_eq!(params("a=1&a=1").get("a").unwrap(), Some("1"));
    }

    #[test]
    fn parses_a_full_submission_with_attributes() {
        let p = params(
            "api_key=k&service_code=roads&lat=27.3&long=117.5&attribute%5Burgency%5D=high\
             &attribute[contact_time][]=morning&attribute[contact_time][]=evening\
             &attribute[landmark]=&email=a%40b.cn&first_name=%E4%B8%89&last_name=%E5%BC%A0\
             &phone=138-0000-1234&description=hole&media_url=https%3A%2F%2Fx.cn%2F1.jpg",
        );
        let r = NewRequest::from_params(&p).unwrap();
        assert_eq!(r.service_code, "roads");
        assert_eq!(r.location.lat_long, Some((27.3, 117.5)));
        assert_eq!(r.attributes["urgency"], vec!["high"]);
        assert_eq!(r.attributes["contact_time"], vec!["morning", "evening"]);
        assert!(!r.attributes.contains_key("landmark"));
        assert_eq!(r.full_name().as_deref(), Some("张三"));
        assert_eq!(r.api_key.as_deref(), Some("k"));
    }

    #[test]
    fn submission_errors_name_the_field() {
        let cases = [
            ("lat=1&long=2", "service_code"),
            ("service_code=a", "location"),
            ("service_code=a&lat=1", "long"),
            ("service_code=a&lat=91&long=1", "lat"),
            ("service_code=a&lat=x&long=1", "lat"),
            ("service_code=a&address_id=1&email=nope", "email"),
            ("service_code=a&address_id=1&phone=call+me", "phone"),
            ("service_code=a&address_id=1&media_url=ftp://x", "media_url"),
            ("service_code=a&address_id=1&descripton=x", "descripton"),
            ("service_code=a&address_id=1&attribute[]=x", "attribute[]"),
            (
                "service_code=a&address_id=1&attribute[a]b=x",
                "attribute[a]b",
            ),
        ];
        for (body, field) in cases {
            let err = NewRequest::from_params(&params(body)).unwrap_err();
            assert_eq!(err.code, 400, "{body}");
            assert!(
                err.description.contains(field),
                "{body}: {}",
                err.description
            );
        }
        let long = format!(
            "service_code=a&address_id=1&description={}",
            "路".repeat(4001)
        );
        let err = NewRequest::from_params(&params(&long)).unwrap_err();
        assert!(err.description.contains("4000"));
        let ok = format!(
            "service_code=a&address_id=1&description={}",
            "路".repeat(4000)
        );
        assert!(NewRequest::from_params(&params(&ok)).is_ok());
    }

    const DAY: i64 = 24 * 3600 * 1000;
    const NOW: i64 = 1_795_829_400_000;

    #[test]
    fn ids_override_every_other_filter() {
        let q =
            RequestQuery::from_params(&params("service_request_id=1,%202,,3&status=bogus"), NOW)
                .unwrap();
        assert_eq!(
            q.selection,
            Selection::Ids(vec!["1".into(), "2".into(), "3".into()])
        );
    }

    #[test]
    fn default_window_is_the_last_90_days() {
        let q = RequestQuery::from_params(&params(""), NOW).unwrap();
        let Selection::Filter(f) = q.selection else {
            panic!()
        };
        assert_eq!((f.start_ms, f.end_ms), (NOW - 90 * DAY, NOW));
        assert_eq!((f.page, f.page_size, f.closed), (1, 1000, None));
        assert!(f.service_codes.is_empty());
    }

    #[test]
    fn pages_are_bounded() {
        let now = 1_764_000_000_000;
        assert!(RequestQuery::from_params(&params("page=11&page_size=1000"), now).is_ok());
        for q in [
            "page=12&page_size=1000",
            "page=4294967295",
            "page=10002&page_size=1",
        ] {
            let e = RequestQuery::from_params(&params(q), now).unwrap_err();
            assert_eq!(e.code, 400, "{q}");
            assert!(e.description.contains("page"), "{q}: {}", e.description);
        }
    }

    #[test]
    fn filters_parse_and_validate() {
        let q = RequestQuery::from_params(
            &params("service_code=a,b&status=closed&start_date=2026-09-01&page=2&page_size=10&extensions=true"),
            NOW,
        )
        .unwrap();
        assert!(q.extensions);
        let Selection::Filter(f) = q.selection else {
            panic!()
        };
        assert_eq!(f.service_codes, vec!["a", "b"]);
        assert_eq!(f.closed, Some(true));
        assert_eq!(f.end_ms - f.start_ms, 90 * DAY);
        assert_eq!(f.offset(), 10);
        for bad in [
            "start_date=2026-01-01&end_date=2026-06-01",
            "start_date=2026-06-01&end_date=2026-01-01",
            "start_date=soon",
            "status=pending",
            "page=0",
            "page_size=1001",
            "extensions=yes",
        ] {
            let err = RequestQuery::from_params(&params(bad), NOW).unwrap_err();
            assert_eq!(err.code, 400, "{bad}");
        }
        let both = RequestQuery::from_params(&params("status=open,closed"), NOW).unwrap();
        let Selection::Filter(f) = both.selection else {
            panic!()
        };
        assert_eq!(f.closed, None);
    }
}
