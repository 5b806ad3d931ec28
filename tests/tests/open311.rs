//! Open311 GeoReport v2 end to end, with the real `m110` and `m110d`, once per engine:
//! discovery and services in JSON and XML (the XML parsed), service definitions, `POST requests`
//! → `GET requests/{id}` round trips in both formats, filters, tokens, request updates, the error
//! documents and their status codes, and jurisdiction handling. Requests are sent the way a
//! standard client sends them: form-urlencoded bodies, `attribute[code]` and `attribute[code][]`.

use m110_e2e::{Engine, Install, per_engine};
use serde_json::Value;

const REGION: &str = "350781";
const TRANSPORT: &str = "邵武市交通运输局";

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn url(&self, path: &str) -> String {
        format!("{}/open311/v2/{path}", self.base)
    }

    async fn get(&self, path: &str) -> (u16, String, String) {
        let resp = self.http.get(self.url(path)).send().await.unwrap();
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ctype, resp.text().await.unwrap())
    }

    async fn get_json(&self, path: &str) -> (u16, Value) {
        let (status, ctype, body) = self.get(path).await;
        assert!(ctype.starts_with("application/json"), "{path}: {ctype}");
        (
            status,
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")),
        )
    }

    async fn get_xml(&self, path: &str) -> (u16, String) {
        let (status, ctype, body) = self.get(path).await;
        assert!(ctype.starts_with("text/xml"), "{path}: {ctype}");
        assert!(
            body.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#),
            "{body}"
        );
        roxmltree::Document::parse(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
        (status, body)
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let body = encode(form);
        let resp = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    async fn post_raw(&self, path: &str, body: Vec<u8>) -> (u16, String) {
        let resp = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }
}

/// Form-urlencodes pairs (RFC 3986 unreserved characters kept, everything else %XX).
fn encode(form: &[(&str, &str)]) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    form.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Texts of every element named `name` (XML).
fn xml_texts(xml: &str, name: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name(name))
        .map(|n| n.text().unwrap_or("").to_string())
        .collect()
}

fn xml_root(xml: &str) -> String {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.root_element().tag_name().name().to_string()
}

/// Asserts an Open311 JSON error document with `code`.
fn assert_json_error(status: u16, body: &Value, code: u16, what: &str) {
    assert_eq!(status, code, "{what}: {body}");
    let errors = body.as_array().unwrap_or_else(|| panic!("{what}: {body}"));
    assert_eq!(errors.len(), 1, "{what}");
    assert_eq!(errors[0]["code"], u64::from(code), "{what}: {body}");
    assert!(
        errors[0]["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{what}: {body}"
    );
}

fn assert_xml_error(status: u16, body: &str, code: u16, what: &str) {
    assert_eq!(status, code, "{what}: {body}");
    assert_eq!(xml_root(body), "errors", "{what}: {body}");
    assert_eq!(xml_texts(body, "code"), vec![code.to_string()], "{what}");
    assert!(!xml_texts(body, "description")[0].is_empty());
}

per_engine!(open311_round_trips_filters_and_errors);
async fn open311_round_trips_filters_and_errors(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let key = install.token("open311-app", "dispatcher");
    let analyst_key = install.token("open311-analyst", "analyst");
    let server = install.serve(&[]);
    let c = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
    };
    discovery_and_services(&c).await;
    let ids = submit_and_read_back(&c, &key).await;
    filters(&c, &ids).await;
    police_transfer(&c, &key).await;
    errors(&c, &key, &analyst_key).await;
}

async fn discovery_and_services(c: &Client) {
    let (status, d) = c.get_json("discovery.json").await;
    assert_eq!(status, 200);
    let endpoint = &d["endpoints"][0];
    assert!(endpoint["url"].as_str().unwrap().ends_with("/open311/v2"));
    let formats: Vec<&str> = endpoint["formats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(formats, vec!["text/xml", "application/json"]);
    assert!(d["changeset"].as_str().unwrap().ends_with("+08:00"));
    let (status, xml) = c.get_xml("discovery.xml").await;
    assert_eq!(status, 200);
    assert_eq!(xml_root(&xml), "discovery");
    assert_eq!(
        xml_texts(&xml, "format"),
        vec!["text/xml", "application/json"]
    );

    let (status, services) = c.get_json("services.json").await;
    assert_eq!(status, 200);
    let services = services.as_array().unwrap();
    assert!(services.len() > 5, "{services:?}");
    let codes: Vec<&str> = services
        .iter()
        .map(|s| s["service_code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"roads"), "{codes:?}");
    assert!(codes.contains(&"assistance.elderly"), "{codes:?}");
    assert!(
        !codes.contains(&"police"),
        "police is not an Open311 service"
    );
    for s in services {
        assert_eq!(s["type"], "realtime");
        assert_eq!(s["metadata"], true);
        assert!(!s["service_name"].as_str().unwrap().is_empty());
        assert!(s["group"].is_string());
    }
    let (status, xml) = c.get_xml("services.xml").await;
    assert_eq!(status, 200);
    assert_eq!(xml_root(&xml), "services");
    assert_eq!(
        xml_texts(&xml, "service_code"),
        codes,
        "same services in XML and JSON"
    );

    let (status, def) = c.get_json("services/roads.json").await;
    assert_eq!(status, 200);
    assert_eq!(def["service_code"], "roads");
    let attrs = def["attributes"].as_array().unwrap();
    let urgency = attrs.iter().find(|a| a["code"] == "urgency").unwrap();
    assert_eq!(urgency["datatype"], "singlevaluelist");
    assert_eq!(urgency["required"], false);
    assert!(
        urgency["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["key"] == "high")
    );
    let (status, xml) = c.get_xml("services/roads.xml").await;
    assert_eq!(status, 200);
    assert_eq!(xml_root(&xml), "service_definition");
    assert!(xml_texts(&xml, "code").contains(&"urgency".to_string()));
    assert!(xml_texts(&xml, "key").contains(&"high".to_string()));
}

/// Posts two requests (JSON and XML) and reads them back; returns their ids.
async fn submit_and_read_back(c: &Client, key: &str) -> Vec<String> {
    let description = "公太社区门口的路灯不亮，路面有大坑 <危险> & 需要修";
    let (status, body) = c
        .post(
            "requests.json",
            &[
                ("api_key", key),
                ("jurisdiction_id", REGION),
                ("service_code", "roads"),
                ("lat", "27.3403"),
                ("long", "117.4925"),
                ("address_string", "昭阳街道公太社区"),
                ("attribute[urgency]", "high"),
                ("attribute[contact_time][]", "morning"),
                ("attribute[contact_time][]", "evening"),
                ("email", "citizen@example.cn"),
                ("first_name", "小明"),
                ("last_name", "王"),
                ("phone", "13912345678"),
                ("account_id", "acct-42"),
                ("device_id", "device-7"),
                ("description", description),
                ("media_url", "https://example.cn/photo/1.jpg"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let first = &created.as_array().unwrap()[0];
    let id1 = first["service_request_id"].as_str().unwrap().to_string();
    assert!(id1.contains(REGION), "{id1}");
    assert_eq!(first["account_id"], "acct-42");
    assert!(first["service_notice"].as_str().unwrap().len() > 4);
    let token = first["token"].as_str().unwrap().to_string();

    let (status, one) = c.get_json(&format!("requests/{id1}.json")).await;
    assert_eq!(status, 200);
    let list = one.as_array().unwrap();
    assert_eq!(list.len(), 1, "an array of one");
    let r = &list[0];
    assert_eq!(r["service_request_id"], id1.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["service_code"], "roads");
    assert_eq!(r["description"], description);
    assert_eq!(r["agency_responsible"], TRANSPORT, "{r}");
    assert_eq!(r["media_url"], "https://example.cn/photo/1.jpg");
    assert_eq!(r["lat"], 27.3403);
    for field in [
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
    ] {
        let t = r[field].as_str().unwrap_or_else(|| panic!("{field}: {r}"));
        assert!(t.ends_with("+08:00") && t.len() == 25, "{field}: {t}");
    }
    let text = one.to_string();
    for secret in ["13912345678", "citizen@example.cn", "小明", "device-7"] {
        assert!(
            !text.contains(secret),
            "personal data {secret} leaked: {text}"
        );
    }

    // The same submission over XML, with the location as a grid code.
    let (status, xml) = c
        .post(
            "requests.xml",
            &[
                ("api_key", key),
                ("service_code", "assistance.elderly"),
                ("address_id", "350781001002"),
                ("description", "独居老人家里没人照看"),
                ("attribute[callback]", "yes"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{xml}");
    assert_eq!(xml_root(&xml), "service_requests");
    let id2 = xml_texts(&xml, "service_request_id")[0].clone();
    let (status, xml) = c.get_xml(&format!("requests/{id2}.xml")).await;
    assert_eq!(status, 200);
    assert_eq!(xml_texts(&xml, "service_request_id"), vec![id2.clone()]);
    assert_eq!(xml_texts(&xml, "status"), vec!["open"]);
    assert_eq!(xml_texts(&xml, "description"), vec!["独居老人家里没人照看"]);
    assert_eq!(xml_texts(&xml, "address_id"), vec!["350781001002"]);

    let (status, t) = c.get_json(&format!("tokens/{token}.json")).await;
    assert_eq!(status, 200);
    assert_eq!(t[0]["service_request_id"], id1.as_str());
    assert_eq!(t[0]["token"], token.as_str());
    let (status, xml) = c.get_xml(&format!("tokens/{token}.xml")).await;
    assert_eq!(status, 200);
    assert_eq!(xml_texts(&xml, "service_request_id"), vec![id1.clone()]);

    vec![id1, id2]
}

async fn filters(c: &Client, ids: &[String]) {
    let (status, both) = c
        .get_json(&format!(
            "requests.json?service_request_id={},{}&status=closed",
            ids[0], ids[1]
        ))
        .await;
    assert_eq!(status, 200);
    let got: Vec<&str> = both
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        vec![ids[0].as_str(), ids[1].as_str()],
        "ids override status"
    );

    let (_, roads) = c.get_json("requests.json?service_code=roads").await;
    let roads = roads.as_array().unwrap();
    assert!(roads.iter().all(|r| r["service_code"] == "roads"));
    assert!(
        roads
            .iter()
            .any(|r| r["service_request_id"] == ids[0].as_str())
    );
    let (_, two) = c
        .get_json("requests.json?service_code=roads,assistance.elderly&status=open")
        .await;
    assert!(two.as_array().unwrap().len() >= 2);
    let (_, closed) = c.get_json("requests.json?status=closed").await;
    assert!(
        closed
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "closed")
    );
    let (_, page) = c.get_json("requests.json?page_size=1&page=1").await;
    assert_eq!(page.as_array().unwrap().len(), 1);
    let (_, old) = c
        .get_json("requests.json?start_date=2020-01-01T00:00:00%2B08:00&end_date=2020-03-01T00:00:00%2B08:00")
        .await;
    assert!(old.as_array().unwrap().is_empty(), "{old}");

    let (_, ext) = c
        .get_json(&format!("requests/{}.json?extensions=true", ids[0]))
        .await;
    let ea = &ext[0]["extended_attributes"];
    assert_eq!(ea["channel"], "open311");
    let attrs = ea["attributes"].as_array().unwrap();
    assert!(
        attrs
            .iter()
            .any(|a| a["code"] == "urgency" && a["value"] == "high")
    );
    assert_eq!(
        attrs.iter().filter(|a| a["code"] == "contact_time").count(),
        2,
        "{ea}"
    );
    let notes = ea["notes"].as_array().unwrap();
    assert!(!notes.is_empty());
    assert!(notes[0]["datetime"].as_str().unwrap().ends_with("+08:00"));
    let (_, plain) = c.get_json(&format!("requests/{}.json", ids[0])).await;
    assert!(plain[0].get("extended_attributes").is_none());

    let (status, xml) = c
        .get_xml("requests.xml?service_code=assistance.elderly")
        .await;
    assert_eq!(status, 200);
    assert!(xml_texts(&xml, "service_request_id").contains(&ids[1]));

    let (status, updates) = c.get_json("servicerequestupdates.json").await;
    assert_eq!(status, 200);
    let updates = updates.as_array().unwrap();
    assert!(
        updates
            .iter()
            .any(|u| u["service_request_id"] == ids[0].as_str()),
        "{updates:?}"
    );
    for u in updates {
        assert!(u["update_id"].is_string());
        assert!(u["updated_datetime"].as_str().unwrap().ends_with("+08:00"));
        assert!(u["status"] == "open" || u["status"] == "closed");
    }
    let (status, xml) = c.get_xml("servicerequestupdates.xml").await;
    assert_eq!(status, 200);
    assert_eq!(xml_root(&xml), "service_request_updates");
}

/// An emergency sent through Open311 goes to police dispatch and reads as closed.
async fn police_transfer(c: &Client, key: &str) {
    let (status, body) = c
        .post(
            "requests.json",
            &[
                ("api_key", key),
                ("service_code", "roads"),
                ("address_string", "熙春路口"),
                ("description", "路口有人持刀抢劫，快来人"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        created[0]["service_notice"]
            .as_str()
            .unwrap()
            .contains("110"),
        "{created}"
    );
    let (_, r) = c.get_json(&format!("requests/{id}.json")).await;
    assert_eq!(r[0]["status"], "closed", "{r}");
    assert!(
        r[0]["status_notes"].as_str().unwrap().contains("公安110"),
        "{r}"
    );
    // The public feed leaves transferred cases out (the submitter still reads its own by id).
    let (_, closed) = c.get_json("requests.json?status=closed").await;
    assert!(
        !closed
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["service_request_id"] == id.as_str())
    );
    let (_, open) = c.get_json("requests.json?status=open").await;
    assert!(
        !open
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["service_request_id"] == id.as_str())
    );
}

async fn errors(c: &Client, key: &str, analyst_key: &str) {
    fn ok_form(api_key: &str) -> Vec<(&str, &str)> {
        vec![
            ("api_key", api_key),
            ("service_code", "roads"),
            ("address_string", "水北街道"),
            ("description", "路面塌陷"),
        ]
    }
    // 403: bad, missing, or a role that may not submit.
    let (status, body) = c.post("requests.json", &ok_form("m110_nope")).await;
    assert_json_error(
        status,
        &serde_json::from_str(&body).unwrap(),
        403,
        "bad key",
    );
    let (status, body) = c.post("requests.xml", &ok_form("m110_nope")).await;
    assert_xml_error(status, &body, 403, "bad key xml");
    let (status, body) = c.post("requests.json", &ok_form("")).await;
    assert_json_error(status, &serde_json::from_str(&body).unwrap(), 403, "no key");
    let mut form = ok_form("");
    form[0].1 = analyst_key;
    let (status, body) = c.post("requests.json", &form).await;
    assert_json_error(
        status,
        &serde_json::from_str(&body).unwrap(),
        403,
        "analyst",
    );

    // 404: unknown service (police is not a service), request, token, jurisdiction, resource.
    for path in [
        "services/police.json",
        "services/nope.json",
        "requests/MS000000-00000000-000000.json",
        "tokens/nope.json",
        "services.json?jurisdiction_id=999999",
        "requests.json?jurisdiction_id=110000",
        "nothing.json",
    ] {
        let (status, body) = c.get_json(path).await;
        assert_json_error(status, &body, 404, path);
    }
    let (status, body) = c.get_xml("services/nope.xml").await;
    assert_xml_error(status, &body, 404, "unknown service xml");
    let (status, body) = c.get_xml("services.html").await;
    assert_xml_error(status, &body, 404, "unknown format");
    let mut form = ok_form("");
    form[0].1 = key;
    form[1].1 = "police";
    let (status, body) = c.post("requests.json", &form).await;
    assert_json_error(
        status,
        &serde_json::from_str(&body).unwrap(),
        404,
        "police service",
    );
    let mut form = ok_form("");
    form[0].1 = key;
    form.push(("jurisdiction_id", "999999"));
    let (status, body) = c.post("requests.json", &form).await;
    assert_json_error(
        status,
        &serde_json::from_str(&body).unwrap(),
        404,
        "jurisdiction",
    );

    // Jurisdiction: the region code and an empty value are both accepted.
    for path in [
        "services.json?jurisdiction_id=350781",
        "services.json?jurisdiction_id=",
    ] {
        let (status, _) = c.get_json(path).await;
        assert_eq!(status, 200, "{path}");
    }

    // 400: everything else, each naming what is wrong.
    let long = "坑".repeat(4001);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("api_key", key), ("service_code", "roads")],
            "location",
        ),
        (
            vec![("api_key", key), ("service_code", "roads"), ("lat", "27.3")],
            "long",
        ),
        (
            vec![
                ("api_key", key),
                ("service_code", "roads"),
                ("address_id", "999"),
            ],
            "address_id",
        ),
        (
            vec![
                ("api_key", key),
                ("service_code", "roads"),
                ("address_id", "350781001001"),
                ("attribute[urgency]", "whenever"),
            ],
            "urgency",
        ),
        (
            vec![
                ("api_key", key),
                ("service_code", "roads"),
                ("address_id", "350781001001"),
                ("attribute[colour]", "red"),
            ],
            "colour",
        ),
        (
            vec![
                ("api_key", key),
                ("service_code", "roads"),
                ("address_id", "350781001001"),
                ("description", long.as_str()),
            ],
            "4000",
        ),
        (
            vec![
                ("api_key", key),
                ("service_code", "roads"),
                ("address_id", "350781001001"),
                ("descripton", "typo"),
            ],
            "descripton",
        ),
        (
            vec![
                ("api_key", key),
                ("service_code", "roads"),
                ("address_id", "350781001001"),
                ("email", "not-an-address"),
            ],
            "email",
        ),
    ];
    for (form, needle) in cases {
        let (status, body) = c.post("requests.json", &form).await;
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_json_error(status, &v, 400, needle);
        assert!(
            v[0]["description"].as_str().unwrap().contains(needle),
            "{needle}: {body}"
        );
    }
    let (status, body) = c
        .post_raw(
            "requests.json",
            format!("api_key={key}&service_code=roads&address_id=350781001001&description=%FF%FE")
                .into_bytes(),
        )
        .await;
    assert_json_error(status, &serde_json::from_str(&body).unwrap(), 400, "utf-8");
    let (status, body) = c
        .get_json("requests.json?start_date=2026-01-01&end_date=2026-06-01")
        .await;
    assert_json_error(status, &body, 400, "window over 90 days");
    let (status, body) = c.get_json("requests.json?status=pending").await;
    assert_json_error(status, &body, 400, "status");
    let (status, body) = c.get_xml("requests.xml?page_size=5000").await;
    assert_xml_error(status, &body, 400, "page_size");
}

/// The corrected community Swagger description, as JSON.
fn swagger() -> Value {
    let path = m110_e2e::workspace_root().join("tests/data/open311/georeport_v2.swagger.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// Checks `value` against swagger definition `name`: required fields present and non-null,
/// documented fields of the documented type (null allowed for optional ones), enums respected,
/// `$ref` arrays checked item by item. Returns the problems found.
fn conform(sw: &Value, name: &str, value: &Value, at: &str) -> Vec<String> {
    let def = &sw["definitions"][name];
    assert!(def.is_object(), "no definition {name}");
    let mut problems = Vec::new();
    let Some(obj) = value.as_object() else {
        return vec![format!("{at}: {name} is not an object: {value}")];
    };
    for req in def["required"].as_array().into_iter().flatten() {
        let key = req.as_str().unwrap();
        if obj.get(key).is_none_or(Value::is_null) {
            problems.push(format!("{at}.{key}: required by {name}, missing"));
        }
    }
    for (key, schema) in def["properties"].as_object().unwrap() {
        let Some(v) = obj.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let ok = match schema["type"].as_str() {
            Some("string") => v.is_string(),
            Some("boolean") => v.is_boolean(),
            Some("number") => v.is_number(),
            Some("integer") => v.is_i64() || v.is_u64(),
            Some("array") => v.is_array(),
            _ => true,
        };
        if !ok {
            problems.push(format!("{at}.{key}: expected {}, got {v}", schema["type"]));
            continue;
        }
        if let Some(allowed) = schema["enum"].as_array()
            && !allowed.contains(v)
        {
            problems.push(format!("{at}.{key}: {v} not in {allowed:?}"));
        }
        if let Some(r) = schema["items"]["$ref"].as_str() {
            let item = r.trim_start_matches("#/definitions/");
            for (i, x) in v.as_array().unwrap().iter().enumerate() {
                problems.extend(conform(sw, item, x, &format!("{at}.{key}[{i}]")));
            }
        }
    }
    problems
}

fn conform_all(sw: &Value, name: &str, list: &Value, at: &str) {
    let items = list
        .as_array()
        .unwrap_or_else(|| panic!("{at}: not an array: {list}"));
    assert!(!items.is_empty(), "{at}: empty");
    let problems: Vec<String> = items
        .iter()
        .enumerate()
        .flat_map(|(i, x)| conform(sw, name, x, &format!("{at}[{i}]")))
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The corrected swagger describes every endpoint the suite checks, and the checker catches
/// violations (no server needed).
#[test]
fn the_conformance_checker_catches_violations() {
    let sw = swagger();
    // The documented paths.
    let paths: Vec<&String> = sw["paths"].as_object().unwrap().keys().collect();
    for p in [
        "/requests.{response_format}",
        "/requests/{service_request_id}.{response_format}",
        "/services.{response_format}",
        "/services/{service_code}.{response_format}",
        "/tokens/{token_id}.{response_format}",
    ] {
        assert!(
            paths.iter().any(|x| x.as_str() == p),
            "{p} not in {paths:?}"
        );
    }
    // The checker itself catches a wrong type, a missing required field and a bad enum.
    let bad = serde_json::json!({"service_code": 7, "type": "sometimes", "metadata": "yes"});
    assert_eq!(conform(&sw, "Service", &bad, "bad").len(), 4, "{bad}");
}

per_engine!(responses_match_the_corrected_georeport_swagger);
async fn responses_match_the_corrected_georeport_swagger(engine: Engine) {
    let sw = swagger();
    let install = Install::provision(engine, "shaowu").await;
    let key = install.token("swagger-app", "operator");
    let server = install.serve(&[]);
    let c = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
    };
    let (_, services) = c.get_json("services.json").await;
    conform_all(&sw, "Service", &services, "services");
    let (_, def) = c.get_json("services/roads.json").await;
    let problems = conform(&sw, "ServiceDefinition", &def, "services/roads");
    assert!(problems.is_empty(), "{problems:#?}");

    let (status, created) = c
        .post(
            "requests.json",
            &[
                ("api_key", key.as_str()),
                ("service_code", "roads"),
                ("lat", "27.3403"),
                ("long", "117.4925"),
                ("description", "路面坑洼"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let created: Value = serde_json::from_str(&created).unwrap();
    conform_all(&sw, "RequestResponse", &created, "POST requests");
    let id = created[0]["service_request_id"].as_str().unwrap();
    let token = created[0]["token"].as_str().unwrap();

    let (_, list) = c.get_json("requests.json").await;
    conform_all(&sw, "Request", &list, "requests");
    let (_, one) = c.get_json(&format!("requests/{id}.json")).await;
    conform_all(&sw, "Request", &one, "requests/{id}");
    let (_, t) = c.get_json(&format!("tokens/{token}.json")).await;
    conform_all(&sw, "TokenResponse", &t, "tokens/{token}");
}
