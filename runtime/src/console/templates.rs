/*!
The console's minijinja environment: every template under `templates/console/` is embedded in
the binary (include_dir) and loaded once; HTML autoescape is on for every `.html` template, so
a value is escaped unless a page deliberately marks it safe (only server-built SVG is).

Template helpers: `t("key")` looks a message up in the request's language (the `lang` context
variable), `time(ms)` renders epoch milliseconds in Asia/Shanghai.
*/

use std::sync::OnceLock;

use include_dir::{Dir, include_dir};
use minijinja::{AutoEscape, Environment, State, UndefinedBehavior, Value};

use super::i18n::{self, Lang};

/// The embedded `templates/console` tree (templates and `static/`).
pub static CONSOLE_DIR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../templates/console");

/// The shared environment, built on first use.
pub fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(build)
}

fn build() -> Environment<'static> {
    let mut env = Environment::new();
    // A typo in a template variable is a bug: fail loudly in tests rather than print nothing.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") || name.ends_with(".svg") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    for file in all_files(&CONSOLE_DIR) {
        let path = file.path().to_string_lossy().replace('\\', "/");
        if !path.ends_with(".html") || path.starts_with("static/") {
            continue;
        }
        let source = file
            .contents_utf8()
            .unwrap_or_else(|| panic!("template {path} is not UTF-8"))
            .to_string();
        env.add_template_owned(path.clone(), source)
            .unwrap_or_else(|e| panic!("template {path}: {e}"));
    }
    env.add_function("t", translate);
    // Stored phone numbers are digits only; people read them with their area code apart.
    env.add_filter("phone", |p: Option<String>| {
        p.map(|p| crate::policy::masking::display_phone(&p))
            .unwrap_or_default()
    });
    env.add_filter("time", |ms: Option<i64>| {
        ms.map(i18n::format_time).unwrap_or_default()
    });
    env
}

fn all_files<'a>(dir: &'a Dir<'a>) -> Vec<&'a include_dir::File<'a>> {
    let mut out: Vec<_> = dir.files().collect();
    for d in dir.dirs() {
        out.extend(all_files(d));
    }
    out
}

fn lang_of(state: &State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or_default()
}

fn translate(state: &State, key: &str) -> String {
    lang_of(state).t(key).to_string()
}

/// Renders `name` with `ctx`; template errors are bugs and come back as an error string.
pub fn render(name: &str, ctx: Value) -> Result<String, minijinja::Error> {
    env().get_template(name)?.render(ctx)
}

/// Marks server-built markup (SVG charts) as safe so autoescape leaves it alone.
pub fn safe(markup: String) -> Value {
    Value::from_safe_string(markup)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `t("…")` in every template names a catalog key, so no page shows a raw key.
    #[test]
    fn every_template_key_is_in_the_catalog() {
        let mut keys = 0;
        for file in all_files(&CONSOLE_DIR) {
            let path = file.path().display().to_string();
            let Some(text) = file.contents_utf8() else {
                continue;
            };
            for quote in ['"', '\''] {
                let needle = format!("t({quote}");
                for (pos, _) in text.match_indices(&needle) {
                    // Skip identifiers that merely end in t (e.g. `select(`).
                    let before = text[..pos].chars().next_back().unwrap_or(' ');
                    if before.is_alphanumeric() || before == '_' || before == '.' {
                        continue;
                    }
                    let rest = &text[pos + 3..];
                    let key = &rest[..rest.find(quote).expect("closing quote")];
                    // `t("status." ~ r.status)` builds the key: the prefix must exist.
                    if key.ends_with('.') {
                        assert!(
                            i18n::has_prefix(key),
                            "{path}: no message key starts with {key:?}"
                        );
                    } else {
                        assert!(i18n::has_key(key), "{path}: unknown message key {key:?}");
                    }
                    keys += 1;
                }
            }
        }
        assert!(
            keys > 50,
            "expected the templates to use the catalog, found {keys} keys"
        );
    }

    #[test]
    fn all_templates_parse() {
        let env = env();
        let names: Vec<_> = env.templates().map(|(n, _)| n.to_string()).collect();
        assert!(names.iter().any(|n| n == "base.html"), "{names:?}");
        assert!(names.iter().any(|n| n == "login.html"), "{names:?}");
    }

    #[test]
    fn autoescape_is_on_and_safe_svg_is_kept() {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        env.add_template("x.html", "{{ v }}|{{ s }}").unwrap();
        let out = env
            .get_template("x.html")
            .unwrap()
            .render(minijinja::context! {
                v => "<script>alert(1)</script>",
                s => safe("<svg></svg>".into()),
            })
            .unwrap();
        assert_eq!(
            out,
            "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;|<svg></svg>"
        );
    }

    #[test]
    fn login_page_renders_in_both_languages_with_escaping() {
        for (lang, word) in [("zh-CN", "登录"), ("en", "Sign in")] {
            let html = render(
                "login.html",
                minijinja::context! {
                    lang => lang,
                    csrf => "tok\"<x>",
                    error => Some("bad <b>"),
                    next => "/console/queue",
                    user => (),
                    other_lang => "en",
                    path => "/login",
                    region_name => "邵武市",
                    version => "0.1.0",
                    flash => (),
                },
            )
            .unwrap();
            assert!(html.contains(word), "{lang}: {html}");
            assert!(html.contains(&format!("<html lang=\"{lang}\"")));
            assert!(html.contains("bad &lt;b&gt;"));
            assert!(!html.contains("tok\"<x>"));
        }
    }
}
