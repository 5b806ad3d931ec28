/*!
The Open311 wire format: response formats, the format-neutral document tree, timestamps and the
documents GeoReport v2 defines (services, service definitions, requests, tokens, errors,
discovery, mySociety request updates).

Every document is built once as a [`Node`] tree and rendered as JSON (serde, field order kept) or
XML ([`super::xml`]), so the two formats cannot drift apart. Nothing here touches HTTP or SQL.
*/

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};

use crate::model::time::{local, shanghai_offset};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::xml;

/// The response format chosen by the resource's extension (`services.xml`, `services.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// Splits `name.ext` into the resource name and its format. The last dot separates them, so
    /// ids containing dots still work.
    pub fn split(file: &str) -> Option<(&str, Format)> {
        let (stem, ext) = file.rsplit_once('.')?;
        let format = match ext {
            "json" => Format::Json,
            "xml" => Format::Xml,
            _ => return None,
        };
        if stem.is_empty() {
            return None;
        }
        Some((stem, format))
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }

    /// Renders `node` as a full document; `root` names the XML root element (JSON has none).
    pub fn render(self, root: &str, node: &Node) -> String {
        match self {
            Format::Json => serde_json::to_string(node).expect("a Node always serialises"),
            Format::Xml => xml::document(root, node),
        }
    }
}

/// A format-neutral document: what both the JSON and the XML renderer walk.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<Node>),
    /// Fields in output order.
    Object(Vec<(String, Node)>),
}

impl Node {
    /// Starts an object; add fields with [`Node::field`].
    pub fn object() -> Node {
        Node::Object(Vec::new())
    }

    /// Appends a field (builder style). Panics if `self` is not an object: a programming error.
    pub fn field(mut self, key: &str, value: impl Into<Node>) -> Node {
        match &mut self {
            Node::Object(fields) => fields.push((key.to_string(), value.into())),
            other => panic!("field() on a non-object node {other:?}"),
        }
        self
    }

    /// Looks a field up (tests and callers that post-process documents).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl From<&str> for Node {
    fn from(s: &str) -> Node {
        Node::Text(s.to_string())
    }
}

impl From<String> for Node {
    fn from(s: String) -> Node {
        Node::Text(s)
    }
}

impl From<bool> for Node {
    fn from(b: bool) -> Node {
        Node::Bool(b)
    }
}

impl From<i64> for Node {
    fn from(n: i64) -> Node {
        Node::Int(n)
    }
}

impl From<u32> for Node {
    fn from(n: u32) -> Node {
        Node::Int(i64::from(n))
    }
}

impl From<f64> for Node {
    fn from(x: f64) -> Node {
        if x.is_finite() {
            Node::Float(x)
        } else {
            Node::Null
        }
    }
}

impl<T: Into<Node>> From<Option<T>> for Node {
    fn from(v: Option<T>) -> Node {
        v.map_or(Node::Null, Into::into)
    }
}

impl<T: Into<Node>> From<Vec<T>> for Node {
    fn from(v: Vec<T>) -> Node {
        Node::List(v.into_iter().map(Into::into).collect())
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_none(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Int(n) => s.serialize_i64(*n),
            Node::Float(x) => s.serialize_f64(*x),
            Node::Text(t) => s.serialize_str(t),
            Node::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Object(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Renders Unix epoch milliseconds as ISO-8601 with the +08:00 offset, second precision.
pub fn datetime(ms: i64) -> String {
    match local(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        None => String::new(),
    }
}

/// Parses an Open311 date filter into Unix epoch milliseconds.
///
/// Accepts RFC 3339 / ISO-8601 with an offset (`2026-11-28T09:30:00+08:00`, `…Z`), a local
/// date-time without offset and a bare date, both read in Asia/Shanghai (the region's clock).
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    // A client that forgets to percent-encode `+08:00` in a query string sends ` 08:00` (a
    // form-decoded `+` is a space); read it as the offset it was meant to be.
    let repaired;
    let s = match s.rsplit_once(' ') {
        Some((head, tail))
            if head.contains('T') && tail.len() == 5 && tail.as_bytes()[2] == b':' =>
        {
            repaired = format!("{head}+{tail}");
            repaired.as_str()
        }
        _ => s,
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    // ISO-8601 basic offsets (+0800) are common in the wild; RFC 3339 rejects them.
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.timestamp_millis());
    }
    let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    shanghai_offset()
        .from_local_datetime(&local)
        .single()
        .map(|t| t.timestamp_millis())
}

/// An Open311 error: HTTP status and a description (zh-CN first, English after a slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Error {
    pub code: u16,
    pub description: String,
}

impl Open311Error {
    pub fn new(code: u16, description: impl Into<String>) -> Open311Error {
        Open311Error {
            code,
            description: description.into(),
        }
    }

    pub fn bad_request(description: impl Into<String>) -> Open311Error {
        Open311Error::new(400, description)
    }

    pub fn not_found(description: impl Into<String>) -> Open311Error {
        Open311Error::new(404, description)
    }

    pub fn forbidden(description: impl Into<String>) -> Open311Error {
        Open311Error::new(403, description)
    }

    /// The error document: a list of one error.
    pub fn to_node(&self) -> Node {
        Node::List(vec![
            Node::object()
                .field("code", i64::from(self.code))
                .field("description", self.description.as_str()),
        ])
    }
}

impl std::fmt::Display for Open311Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.description)
    }
}

impl std::error::Error for Open311Error {}

/// Root element names of the XML documents.
pub mod roots {
    pub const DISCOVERY: &str = "discovery";
    pub const SERVICES: &str = "services";
    pub const SERVICE_DEFINITION: &str = "service_definition";
    pub const SERVICE_REQUESTS: &str = "service_requests";
    pub const SERVICE_REQUEST_UPDATES: &str = "service_request_updates";
    pub const ERRORS: &str = "errors";
}

/// One entry of `services`.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    pub metadata: bool,
    pub keywords: Vec<String>,
    pub group: Option<String>,
}

impl Service {
    pub fn to_node(&self) -> Node {
        Node::object()
            .field("service_code", self.service_code.as_str())
            .field("service_name", self.service_name.as_str())
            .field("description", self.description.as_str())
            .field("metadata", self.metadata)
            .field("type", "realtime")
            .field("keywords", self.keywords.join(","))
            .field("group", self.group.clone())
    }
}

/// Attribute datatypes of a service definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    SingleValueList,
    MultiValueList,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::SingleValueList => "singlevaluelist",
            Datatype::MultiValueList => "multivaluelist",
        }
    }
}

/// One attribute of a service definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub code: &'static str,
    pub datatype: Datatype,
    pub required: bool,
    pub datatype_description: &'static str,
    pub order: u32,
    pub description: &'static str,
    /// (key, name) for list datatypes.
    pub values: Vec<(&'static str, &'static str)>,
}

impl Attribute {
    pub fn to_node(&self) -> Node {
        let mut node = Node::object()
            .field("variable", true)
            .field("code", self.code)
            .field("datatype", self.datatype.as_str())
            .field("required", self.required)
            .field("datatype_description", self.datatype_description)
            .field("order", self.order)
            .field("description", self.description);
        if !self.values.is_empty() {
            let values: Vec<Node> = self
                .values
                .iter()
                .map(|(k, n)| Node::object().field("key", *k).field("name", *n))
                .collect();
            node = node.field("values", Node::List(values));
        }
        node
    }
}

/// `services/{code}`: the service definition.
pub fn service_definition(service_code: &str, attributes: &[Attribute]) -> Node {
    Node::object().field("service_code", service_code).field(
        "attributes",
        Node::List(attributes.iter().map(Attribute::to_node).collect()),
    )
}

/// One service request as `GET requests` returns it. Never carries personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRequest {
    pub service_request_id: String,
    /// True when the case is closed (办结) or handed to police dispatch.
    pub closed: bool,
    pub status_notes: Option<String>,
    pub service_name: Option<String>,
    pub service_code: Option<String>,
    pub description: Option<String>,
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    pub requested_ms: i64,
    pub updated_ms: Option<i64>,
    pub expected_ms: Option<i64>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
    /// Present when the client asked for `extensions=true`.
    pub extensions: Option<Extensions>,
}

/// The `extensions=true` block: submitted attributes, the intake channel and the notes history.
#[derive(Debug, Clone, PartialEq)]
pub struct Extensions {
    pub channel: String,
    /// (code, value); a multi-value attribute repeats its code.
    pub attributes: Vec<(String, String)>,
    pub notes: Vec<Note>,
}

/// One entry of the notes history: a case event as the public may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub datetime_ms: i64,
    /// The case status after the event (code name, e.g. `dispatched`).
    pub status: String,
    pub summary: String,
}

impl ServiceRequest {
    pub fn status_str(&self) -> &'static str {
        if self.closed { "closed" } else { "open" }
    }

    pub fn to_node(&self) -> Node {
        let mut node = Node::object()
            .field("service_request_id", self.service_request_id.as_str())
            .field("status", self.status_str())
            .field("status_notes", self.status_notes.clone())
            .field("service_name", self.service_name.clone())
            .field("service_code", self.service_code.clone())
            .field("description", self.description.clone())
            .field("agency_responsible", self.agency_responsible.clone())
            .field("service_notice", self.service_notice.clone())
            .field("requested_datetime", datetime(self.requested_ms))
            .field("updated_datetime", self.updated_ms.map(datetime))
            .field("expected_datetime", self.expected_ms.map(datetime))
            .field("address", self.address.clone())
            .field("address_id", self.address_id.clone())
            .field("zipcode", self.zipcode.clone())
            .field("lat", self.lat)
            .field("long", self.long)
            .field("media_url", self.media_url.clone());
        if let Some(ext) = &self.extensions {
            let attributes: Vec<Node> = ext
                .attributes
                .iter()
                .map(|(c, v)| {
                    Node::object()
                        .field("code", c.as_str())
                        .field("value", v.as_str())
                })
                .collect();
            let notes: Vec<Node> = ext
                .notes
                .iter()
                .map(|n| {
                    Node::object()
                        .field("datetime", datetime(n.datetime_ms))
                        .field("status", n.status.as_str())
                        .field("summary", n.summary.as_str())
                })
                .collect();
            node = node.field(
                "extended_attributes",
                Node::object()
                    .field("channel", ext.channel.as_str())
                    .field("attributes", Node::List(attributes))
                    .field("notes", Node::List(notes)),
            );
        }
        node
    }
}

/// The `POST requests` answer (one element of the array).
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub service_request_id: String,
    pub service_notice: Option<String>,
    pub account_id: Option<String>,
    /// Also handed out so `GET tokens/{token}` works for clients that track tokens.
    pub token: Option<String>,
}

impl Created {
    pub fn to_node(&self) -> Node {
        Node::object()
            .field("service_request_id", self.service_request_id.as_str())
            .field("service_notice", self.service_notice.clone())
            .field("account_id", self.account_id.clone())
            .field("token", self.token.clone())
    }
}

/// `GET tokens/{token}`: the request a token stands for.
pub fn token_response(service_request_id: &str, token: &str) -> Node {
    Node::List(vec![
        Node::object()
            .field("service_request_id", service_request_id)
            .field("token", token),
    ])
}

/// One mySociety `servicerequestupdates` item.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestUpdate {
    pub update_id: String,
    pub service_request_id: String,
    pub closed: bool,
    pub updated_ms: i64,
    pub description: String,
    pub media_url: Option<String>,
}

impl RequestUpdate {
    pub fn to_node(&self) -> Node {
        Node::object()
            .field("update_id", self.update_id.as_str())
            .field("service_request_id", self.service_request_id.as_str())
            .field("status", if self.closed { "closed" } else { "open" })
            .field("updated_datetime", datetime(self.updated_ms))
            .field("description", self.description.as_str())
            .field("media_url", self.media_url.clone())
    }
}

/// The discovery document for this endpoint.
pub fn discovery(base_url: &str, contact: &str, changeset_ms: i64) -> Node {
    let changeset = datetime(changeset_ms);
    Node::object()
        .field("changeset", changeset.as_str())
        .field("contact", contact)
        .field(
            "key_service",
            "API 密钥由服务中心管理员签发（m110 token add）/ API keys are issued by the service center administrator (m110 token add)",
        )
        .field(
            "endpoints",
            Node::List(vec![
                Node::object()
                    .field("specification", "http://wiki.open311.org/GeoReport_v2")
                    .field("url", base_url)
                    .field("changeset", changeset.as_str())
                    .field("type", "production")
                    .field("formats", vec!["text/xml", "application/json"]),
            ]),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_resource_and_format() {
        assert_eq!(
            Format::split("services.json"),
            Some(("services", Format::Json))
        );
        assert_eq!(
            Format::split("350781-1.2.xml"),
            Some(("350781-1.2", Format::Xml))
        );
        assert_eq!(Format::split("services.html"), None);
        assert_eq!(Format::split("services"), None);
        assert_eq!(Format::split(".json"), None);
    }

    #[test]
    fn json_keeps_field_order_and_nulls() {
        let n = Node::object()
            .field("b", 1i64)
            .field("a", Option::<String>::None)
            .field("c", vec!["x", "y"]);
        assert_eq!(
            Format::Json.render("x", &n),
            r#"{"b":1,"a":null,"c":["x","y"]}"#
        );
        assert_eq!(Node::from(f64::NAN), Node::Null);
    }

    #[test]
    fn datetimes_carry_the_shanghai_offset() {
        // 2026-11-28T01:30:00Z
        let ms = 1_795_829_400_000;
        assert_eq!(datetime(ms), "2026-11-28T09:30:00+08:00");
        assert_eq!(parse_datetime("2026-11-28T09:30:00+08:00"), Some(ms));
        assert_eq!(parse_datetime("2026-11-28T01:30:00Z"), Some(ms));
        assert_eq!(parse_datetime("2026-11-28T09:30:00+0800"), Some(ms));
        assert_eq!(parse_datetime("2026-11-28T09:30:00"), Some(ms));
        assert_eq!(parse_datetime("2026-11-28T09:30:00 08:00"), Some(ms));
        assert_eq!(
            parse_datetime("2026-11-28"),
            Some(ms - 9 * 3_600_000 - 30 * 60_000)
        );
        assert_eq!(parse_datetime("yesterday"), None);
        assert_eq!(parse_datetime("2026-13-01"), None);
    }

    #[test]
    fn errors_render_in_both_formats() {
        let e = Open311Error::not_found("未知服务 / unknown service_code: x");
        assert_eq!(
            Format::Json.render(roots::ERRORS, &e.to_node()),
            r#"[{"code":404,"description":"未知服务 / unknown service_code: x"}]"#
        );
        let xml = Format::Xml.render(roots::ERRORS, &e.to_node());
        assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#));
        assert!(xml.contains("<errors><error><code>404</code><description>"));
    }

    #[test]
    fn request_collapses_status_and_adds_extensions_on_demand() {
        let mut r = ServiceRequest {
            service_request_id: "42".into(),
            closed: false,
            status_notes: None,
            service_name: Some("路灯".into()),
            service_code: Some("roads.streetlight".into()),
            description: Some("路灯不亮".into()),
            agency_responsible: Some("住建局".into()),
            service_notice: None,
            requested_ms: 1_795_829_400_000,
            updated_ms: Some(1_795_829_400_000),
            expected_ms: None,
            address: None,
            address_id: None,
            zipcode: None,
            lat: Some(27.34),
            long: Some(117.48),
            media_url: None,
            extensions: None,
        };
        let json = Format::Json.render(roots::SERVICE_REQUESTS, &r.to_node());
        assert!(json.contains(r#""status":"open""#));
        assert!(json.contains(r#""requested_datetime":"2026-11-28T09:30:00+08:00""#));
        assert!(!json.contains("extended_attributes"));
        r.closed = true;
        r.extensions = Some(Extensions {
            channel: "open311".into(),
            attributes: vec![("urgency".into(), "high".into())],
            notes: vec![Note {
                datetime_ms: 1_795_829_400_000,
                status: "closed".into(),
                summary: "已办结".into(),
            }],
        });
        let xml = Format::Xml.render(roots::SERVICE_REQUESTS, &Node::List(vec![r.to_node()]));
        assert!(xml.contains("<service_requests><request><service_request_id>42</service_request_id><status>closed</status>"));
        assert!(xml.contains("<extended_attributes><channel>open311</channel><attributes><attribute><code>urgency</code>"));
        assert!(xml.contains("<notes><note><datetime>2026-11-28T09:30:00+08:00</datetime>"));
    }

    #[test]
    fn discovery_lists_both_formats() {
        let d = discovery("http://127.0.0.1:8110/open311/v2", "民生110", 0);
        let xml = Format::Xml.render(roots::DISCOVERY, &d);
        assert!(xml.contains(
            "<formats><format>text/xml</format><format>application/json</format></formats>"
        ));
        assert!(xml.contains("<type>production</type>"));
    }
}
