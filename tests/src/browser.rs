/*!
A minimal WebDriver client for the console's browser tests: Debian's `chromium` driven by
`chromedriver` over the W3C WebDriver JSON protocol, with reqwest (already a test dependency)
instead of a WebDriver crate, because the suite needs a dozen commands and no TLS.

Chromium runs headless in a fresh profile directory with networking side-channels off, so a run
is deterministic and touches nothing outside its temp dir. A missing browser is a test FAILURE
with a clear message (CI installs `chromium` and `chromium-driver`), never a skip.
*/

use std::io::{BufRead, BufReader, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The W3C element reference key.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Finds an executable on `PATH` (or the override in `env_var`).
fn find_exe(env_var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env_var)
        && !p.is_empty()
    {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let cand = dir.join(n);
            if cand.is_file() {
                return Some(cand);
            }
        }
    }
    None
}

/// Where screenshots go: `<target>/console-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test> → target/console-screenshots
    let target = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let dir = target.join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("create screenshot dir");
    dir
}

/// The port in chromedriver's "… started successfully on port N." line (within 20 s); the rest
/// of its stdout is drained on the same thread so the driver never blocks on a full pipe.
fn driver_port(stdout: std::process::ChildStdout) -> Option<u16> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if let Some(port) = line
                .split("on port ")
                .nth(1)
                .and_then(|r| r.trim_end_matches('.').trim().parse::<u16>().ok())
                .filter(|p| *p != 0)
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(port);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(20)).ok()
}

/// A headless Chromium session.
pub struct Browser {
    driver: Child,
    driver_port: u16,
    http: reqwest::Client,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session (window 1440×1000).
    pub async fn start() -> Browser {
        let chromium = find_exe(
            "M110_CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome", "chrome"],
        )
        .unwrap_or_else(|| {
            panic!(
                "browser tests need Chromium: install Debian's `chromium` and `chromium-driver` \
                 (apt-get install -y chromium chromium-driver) or set M110_CHROMIUM"
            )
        });
        let chromedriver = find_exe("M110_CHROMEDRIVER", &["chromedriver"]).unwrap_or_else(|| {
            panic!(
                "browser tests need chromedriver: install Debian's `chromium-driver` \
                 (apt-get install -y chromium-driver) or set M110_CHROMEDRIVER"
            )
        });
        // Port 0: chromedriver binds a free port itself and names it on stdout.
        let mut driver = Command::new(&chromedriver)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let port = driver_port(driver.stdout.take().expect("piped stdout")).unwrap_or_else(|| {
            let _ = driver.kill();
            panic!("chromedriver did not say which port it listens on")
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client");
        let base = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not answer on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-quic".to_string(),
            "--no-first-run".to_string(),
            "--disable-background-networking".to_string(),
            "--disable-component-update".to_string(),
            "--disable-sync".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--window-size=1440,1000".to_string(),
            "--lang=zh-CN".to_string(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({
            "capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": chromium.display().to_string(), "args": args}
            }}
        });
        let resp: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session request")
            .json()
            .await
            .expect("new session json");
        let session = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver refused a session: {resp}"))
            .to_string();
        Browser {
            driver,
            driver_port: port,
            http,
            session,
            _profile: profile,
        }
    }

    fn url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}/session/{}{path}",
            self.driver_port, self.session
        )
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method.clone(), self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        } else if method == reqwest::Method::POST {
            req = req.json(&json!({}));
        }
        let resp = req.send().await.expect("webdriver request");
        let status = resp.status();
        let v: Value = resp.json().await.expect("webdriver json");
        assert!(
            status.is_success(),
            "webdriver {method} {path} failed ({status}): {}",
            v["value"]
        );
        v["value"].clone()
    }

    async fn try_find(&self, css: &str) -> Option<String> {
        let resp = self
            .http
            .post(self.url("/element"))
            .json(&json!({"using": "css selector", "value": css}))
            .send()
            .await
            .expect("webdriver request");
        if !resp.status().is_success() {
            return None;
        }
        let v: Value = resp.json().await.ok()?;
        v["value"][ELEMENT_KEY].as_str().map(str::to_string)
    }

    /// Opens a URL and waits for the document to load.
    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// The current URL.
    pub async fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits (up to 10 s) for an element and returns its id; panics with the page title if not.
    pub async fn find(&self, css: &str) -> String {
        self.wait_for(css, Duration::from_secs(10)).await
    }

    /// Waits for an element to appear.
    pub async fn wait_for(&self, css: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            if let Some(id) = self.try_find(css).await {
                return id;
            }
            if start.elapsed() > limit {
                let url = self.current_url().await;
                let text = self.text("body").await;
                panic!("no element {css:?} on {url} within {limit:?}; page text:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// True when an element matching `css` exists right now.
    pub async fn exists(&self, css: &str) -> bool {
        self.try_find(css).await.is_some()
    }

    /// Clicks an element (looked up again if a refresh replaced it meanwhile).
    pub async fn click(&self, css: &str) {
        for _ in 0..20 {
            let id = self.find(css).await;
            let resp = self
                .http
                .post(self.url(&format!("/element/{id}/click")))
                .json(&json!({}))
                .send()
                .await
                .expect("webdriver request");
            if resp.status().is_success() {
                return;
            }
            let v: Value = resp.json().await.expect("webdriver json");
            assert_eq!(
                v["value"]["error"], "stale element reference",
                "click {css}: {}",
                v["value"]
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css:?} kept going stale");
    }

    /// Clears an input and types `text` into it (as keystrokes, like a user).
    pub async fn fill(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{id}/clear"), None)
            .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Chooses the option with `value` in a `<select>`.
    pub async fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value=\"{value}\"]"))
            .await;
    }

    /// A command that may hit an element replaced by a navigation or a live refresh: `None`
    /// on a stale reference so the caller can look the element up again.
    async fn element_cmd(&self, method: reqwest::Method, path: &str) -> Option<Value> {
        let resp = self
            .http
            .request(method, self.url(path))
            .send()
            .await
            .expect("webdriver request");
        let ok = resp.status().is_success();
        let v: Value = resp.json().await.expect("webdriver json");
        if ok {
            return Some(v["value"].clone());
        }
        let err = v["value"]["error"].as_str().unwrap_or_default();
        // ChromeDriver sometimes reports a node replaced mid-command as an "unknown error"
        // ("Node with given id does not belong to the document"): stale all the same.
        let detached = v["value"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not belong to the document"));
        assert!(
            err == "stale element reference" || err == "no such element" || detached,
            "webdriver {path} failed: {}",
            v["value"]
        );
        None
    }

    /// The rendered text of the first element matching `css` (empty when absent).
    pub async fn text(&self, css: &str) -> String {
        for _ in 0..20 {
            let Some(id) = self.try_find(css).await else {
                return String::new();
            };
            if let Some(v) = self
                .element_cmd(reqwest::Method::GET, &format!("/element/{id}/text"))
                .await
            {
                return v.as_str().unwrap_or_default().to_string();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css:?} kept going stale");
    }

    /// An attribute of the first element matching `css`.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        for _ in 0..20 {
            let id = self.find(css).await;
            if let Some(v) = self
                .element_cmd(
                    reqwest::Method::GET,
                    &format!("/element/{id}/attribute/{name}"),
                )
                .await
            {
                return v.as_str().map(str::to_string);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css:?} kept going stale");
    }

    /// The page's HTML.
    pub async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Runs a script in the page and returns its result.
    pub async fn exec(&self, script: &str, args: Vec<Value>) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Writes a PNG of the viewport to `<target>/console-screenshots/<name>.png` (`name` may
    /// hold a subdirectory, e.g. `sqlite/01-login`) and returns the path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().expect("base64 screenshot"))
            .expect("decode screenshot");
        let path = screenshot_dir().join(format!("{name}.png"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create screenshot dir");
        }
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Prints the page to PDF as Chromium's print dialog would (A4, the page's print CSS) and
    /// writes it to `<target>/console-screenshots/<name>.pdf`; returns the path.
    pub async fn print_pdf(&self, name: &str) -> PathBuf {
        let b64 = self
            .cmd(
                reqwest::Method::POST,
                "/print",
                Some(json!({"page": {"width": 21.0, "height": 29.7}, "background": true})),
            )
            .await;
        let pdf = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().expect("base64 pdf"))
            .expect("decode pdf");
        let path = screenshot_dir().join(format!("{name}.pdf"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create screenshot dir");
        }
        std::fs::write(&path, pdf).expect("write pdf");
        path
    }

    /// Resizes the window (e.g. for full-page screenshots).
    pub async fn set_window(&self, width: u32, height: u32) {
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Runs a Chrome DevTools Protocol command through chromedriver (network emulation,
    /// geolocation, permissions).
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        )
        .await
    }

    /// Takes the page off the network (`true`) or back on, as DevTools' "Offline" does: the
    /// page's `navigator.onLine` follows, and requests fail.
    pub async fn set_offline(&self, offline: bool) {
        self.cdp("Network.enable", json!({})).await;
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        )
        .await;
    }

    /// Puts the phone at `lat`, `lon` and lets pages ask for it.
    pub async fn set_position(&self, origin: &str, lat: f64, lon: f64) {
        self.cdp(
            "Browser.grantPermissions",
            json!({"origin": origin, "permissions": ["geolocation"]}),
        )
        .await;
        self.cdp(
            "Emulation.setGeolocationOverride",
            json!({"latitude": lat, "longitude": lon, "accuracy": 12}),
        )
        .await;
    }

    /// Chooses a local file in a file input.
    pub async fn upload(&self, css: &str, path: &std::path::Path) {
        let id = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": path.display().to_string()})),
        )
        .await;
    }

    /// Deletes every cookie (log out without a form).
    pub async fn clear_cookies(&self) {
        self.cmd(reqwest::Method::DELETE, "/cookie", None).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // End the session so chromedriver closes Chromium, then stop the driver. A raw request
        // because Drop cannot await.
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.driver_port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = write!(
                s,
                "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                self.session
            );
            let mut buf = [0u8; 256];
            let _ = std::io::Read::read(&mut s, &mut buf);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
