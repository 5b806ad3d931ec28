/*!
A small XML writer for the Open311 documents.

Open311 responses are shallow, element-only documents (no attributes, no mixed content), so the
writer renders a format-neutral [`Node`] tree: objects become child elements named by their keys,
lists become a wrapper element whose items are named by [`item_name`] (`services` → `service`,
`attributes` → `attribute` …), null becomes an empty element. The JSON response is serialised
from the same tree, which keeps the two formats in step by construction.

Text is escaped for element content, and characters XML 1.0 cannot represent at all (C0 controls
other than tab, newline and carriage return) are replaced with U+FFFD rather than emitted, so a
hostile description can never produce a document a client fails to parse.
*/

use super::format::Node;

/// The XML declaration every document starts with.
pub const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Escapes text for element content (and attribute values): `& < > " '`, and replaces characters
/// XML 1.0 forbids.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            // Non-characters U+FFFE/U+FFFF are outside the XML Char production too.
            '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The element name of one item of an array held under `key`.
///
/// Open311 names list items by the singular of their container; unknown containers fall back to
/// `item` so the document stays well-formed.
pub fn item_name(key: &str) -> &'static str {
    match key {
        "services" => "service",
        "service_requests" => "request",
        "service_request_updates" => "request_update",
        "errors" => "error",
        "endpoints" => "endpoint",
        "formats" => "format",
        "attributes" => "attribute",
        "values" => "value",
        "notes" => "note",
        _ => "item",
    }
}

/// Renders a whole document: the declaration, then `value` as the element `root`.
pub fn document(root: &str, value: &Node) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(DECLARATION);
    out.push('\n');
    write_element(&mut out, root, value);
    out.push('\n');
    out
}

fn write_element(out: &mut String, name: &str, value: &Node) {
    match value {
        Node::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Node::Object(fields) => {
            open(out, name);
            for (key, child) in fields {
                write_element(out, key, child);
            }
            close(out, name);
        }
        Node::List(items) => {
            open(out, name);
            let item = item_name(name);
            for child in items {
                write_element(out, item, child);
            }
            close(out, name);
        }
        Node::Text(s) => {
            open(out, name);
            out.push_str(&escape(s));
            close(out, name);
        }
        Node::Bool(b) => {
            open(out, name);
            out.push_str(if *b { "true" } else { "false" });
            close(out, name);
        }
        Node::Int(n) => {
            open(out, name);
            out.push_str(&n.to_string());
            close(out, name);
        }
        Node::Float(x) => {
            open(out, name);
            out.push_str(&x.to_string());
            close(out, name);
        }
    }
}

fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"a<b>&"c"'d'"#),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;"
        );
    }

    #[test]
    fn replaces_characters_xml_cannot_carry() {
        assert_eq!(escape("a\u{0}b\u{1b}c\td\n"), "a\u{FFFD}b\u{FFFD}c\td\n");
        assert_eq!(escape("路灯\u{FFFF}"), "路灯\u{FFFD}");
    }

    #[test]
    fn renders_lists_with_singular_items_and_empty_nulls() {
        let v = Node::List(vec![
            Node::object()
                .field("service_code", "roads")
                .field("service_name", "道路<破损>")
                .field("metadata", true)
                .field("group", Node::Null),
            Node::object()
                .field("service_code", "water")
                .field("lat", 27.5)
                .field("order", 2u32),
        ]);
        assert_eq!(
            document("services", &v),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<services>\
             <service><service_code>roads</service_code><service_name>道路&lt;破损&gt;</service_name>\
             <metadata>true</metadata><group/></service>\
             <service><service_code>water</service_code><lat>27.5</lat><order>2</order></service>\
             </services>\n"
        );
    }

    #[test]
    fn nested_lists_use_their_own_item_names() {
        let v = Node::object().field("service_code", "x").field(
            "attributes",
            Node::List(vec![Node::object().field("code", "urgency").field(
                "values",
                Node::List(vec![
                    Node::object().field("key", "high").field("name", "紧急"),
                ]),
            )]),
        );
        let doc = document("service_definition", &v);
        assert!(doc.contains(
            "<attributes><attribute><code>urgency</code><values><value><key>high</key>\
             <name>紧急</name></value></values></attribute></attributes>"
        ));
        let unknown = document("things", &Node::List(vec![Node::from("a")]));
        assert!(unknown.contains("<things><item>a</item></things>"));
    }
}
