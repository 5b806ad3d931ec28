/*!
Runtime configuration of `m110d`: `DIR/m110d.yaml`, then environment, then flags.

Precedence (last wins): the file written by `m110 provision`, the environment (`M110_LISTEN`,
`M110_DATABASE_URL`, `M110_LOG_FORMAT`), command-line flags. A relative SQLite path in the
database URL resolves against the install directory, so an install can be moved or served from any
working directory.
*/

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// File name of the runtime configuration inside an install directory.
pub const CONFIG_FILE: &str = "m110d.yaml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    pub fn parse(s: &str) -> Option<LogFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

/// `m110d.yaml` as written on disk. Unknown keys are rejected so a typo is not silently ignored.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub region: Option<String>,
    pub listen: Option<String>,
    pub database: Option<String>,
    pub log_format: Option<LogFormat>,
    /// Seconds between deadline scans (default 30).
    pub deadline_scan_seconds: Option<u64>,
    /// Database pool size (default: 8 for PostgreSQL, 4 for SQLite).
    pub pool_size: Option<u32>,
    /// Request body limit in bytes (default 64 KiB).
    pub body_limit_bytes: Option<usize>,
    /// Milliseconds between delivery ticks (default 1000).
    pub delivery_interval_ms: Option<u64>,
    /// First retry delay of a failed delivery, doubling each time (default 5000 ms).
    pub delivery_backoff_ms: Option<u64>,
    /// Attempts before an outbox message is dead (default 12).
    pub delivery_max_attempts: Option<u32>,
    /// Minutes a hand-off to an emergency line may wait for its acknowledgement before it turns
    /// red in the 待确认 queue (default 5).
    pub handoff_ack_minutes: Option<u32>,
    /// Seconds between status pulls of cases forwarded to Open311 platforms (default 60).
    pub status_pull_seconds: Option<u64>,
    /// Seconds between early-warning ticks over the day so far (default 900).
    pub warning_seconds: Option<u64>,
    /// Photos and documents on cases: size limit and where the bytes go.
    pub attachments: Option<AttachmentsFile>,
    // Edge: public URL, metrics token, bounds (H1's block, issue 14).
    /// The URL clients reach this service by (`https://m110.example.gov.cn`, no trailing
    /// slash): Open311 discovery and media links are built from it, never from a request's
    /// `Host` header (default `http://<listen>`).
    pub public_url: Option<String>,
    /// When set, `/metrics` answers only `Authorization: Bearer <this>` (`M110_METRICS_TOKEN`
    /// overrides it, so the secret can stay out of this file).
    pub metrics_token: Option<String>,
    /// Bounds on connections, request reading and live-update streams (`docs/operations.md`).
    pub limits: Option<LimitsFile>,
    // Sessions (lead's block).
    /// Mark the session cookie `Secure` (sent over HTTPS only). Default: on when `public_url`
    /// is https; set it when TLS ends at a proxy in front of m110d.
    pub secure_cookies: Option<bool>,
    /// Minutes without a request after which a console/API session ends (default 60; the
    /// absolute limit stays one 12-hour shift).
    pub session_idle_minutes: Option<u32>,
}

/// `attachments:` in `m110d.yaml`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentsFile {
    /// Largest file accepted, in bytes (default 10 MiB).
    pub max_bytes: Option<usize>,
    /// Local directory of the bytes; relative paths resolve against the install directory
    /// (default `attachments`). Ignored when `s3` is set.
    pub dir: Option<PathBuf>,
    /// An S3-compatible bucket instead of the local directory (several m110d behind a load
    /// balancer). The keys come from `M110_S3_ACCESS_KEY_ID` and `M110_S3_SECRET_ACCESS_KEY`,
    /// never from this file.
    pub s3: Option<S3File>,
}

/// `attachments.s3:` in `m110d.yaml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct S3File {
    /// `https://oss-cn-hangzhou.aliyuncs.com`, `http://127.0.0.1:9000` …
    pub endpoint: String,
    pub bucket: String,
    /// Signing region (default `us-east-1`).
    pub region: Option<String>,
    /// Prepended to every object key (default none).
    pub prefix: Option<String>,
}

/// Where attachment bytes go, resolved.
#[derive(Debug, Clone)]
pub struct AttachmentsConfig {
    pub max_bytes: usize,
    /// The local directory (absolute; `None`: `<install>/attachments`).
    pub dir: Option<PathBuf>,
    pub s3: Option<S3Settings>,
}

impl Default for AttachmentsConfig {
    fn default() -> Self {
        AttachmentsConfig {
            max_bytes: DEFAULT_ATTACHMENT_MAX_BYTES,
            dir: None,
            s3: None,
        }
    }
}

/// An S3-compatible bucket with its keys.
#[derive(Clone)]
pub struct S3Settings {
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub prefix: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Settings {
    // Never the secret key in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Default largest attachment: a phone photo is 2–6 MB, a scanned letter a few hundred KB.
pub const DEFAULT_ATTACHMENT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// Values given on the command line (each overrides file and environment).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub database: Option<String>,
    pub log_format: Option<LogFormat>,
    pub deadline_scan_seconds: Option<u64>,
    pub delivery_backoff_ms: Option<u64>,
    pub delivery_max_attempts: Option<u32>,
    /// Milliseconds between status pulls (the file's `status_pull_seconds`, finer for tests).
    pub status_pull_ms: Option<u64>,
    /// Milliseconds between early-warning ticks (the file's `warning_seconds`, finer for tests).
    pub warning_ms: Option<u64>,
}

/// The resolved configuration `serve` runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub install_dir: PathBuf,
    /// Region code the database holds (checked against the store at start-up when present).
    pub region: Option<String>,
    pub listen: String,
    /// Database URL with any relative SQLite path made absolute.
    pub database: String,
    pub log_format: LogFormat,
    pub deadline_scan: Duration,
    pub pool_size: Option<u32>,
    pub body_limit: usize,
    pub delivery_interval: Duration,
    pub delivery_backoff_ms: i64,
    pub delivery_max_attempts: i64,
    pub handoff_ack_minutes: i64,
    pub status_pull: Duration,
    pub warning_interval: Duration,
    pub attachments: AttachmentsConfig,
    // Edge: public URL, metrics token, bounds (H1's block, issue 14).
    /// `public_url` without a trailing slash (`None`: not configured).
    pub public_url: Option<String>,
    pub metrics_token: Option<String>,
    pub limits: Limits,
    // Sessions (lead's block).
    /// `secure_cookies` as given (`None`: follow `public_url`; see [`Config::cookie_secure`]).
    pub secure_cookies: Option<bool>,
    pub session_idle: Duration,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8110";
pub const DEFAULT_DATABASE: &str = "sqlite://m110.db";
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
pub const DEFAULT_DEADLINE_SCAN_SECONDS: u64 = 30;

impl Config {
    /// Reads `DIR/m110d.yaml` (missing file = defaults), then the process environment, then
    /// `flags`.
    pub fn load(install_dir: &Path, flags: Overrides) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("M110_"))
            .collect();
        Self::load_with_env(install_dir, flags, &env)
    }

    /// [`Config::load`] with an explicit environment (for tests).
    pub fn load_with_env(
        install_dir: &Path,
        flags: Overrides,
        env: &HashMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let path = install_dir.join(CONFIG_FILE);
        let file = match std::fs::read_to_string(&path) {
            Ok(text) => serde_yaml::from_str::<Option<FileConfig>>(&text)
                .map_err(|e| ConfigError::Parse {
                    path: path.clone(),
                    message: e.to_string(),
                })?
                .unwrap_or_default(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileConfig::default(),
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        let env_get = |k: &str| env.get(k).filter(|v| !v.trim().is_empty()).cloned();
        let env_log = match env_get("M110_LOG_FORMAT") {
            Some(v) => Some(LogFormat::parse(&v).ok_or_else(|| ConfigError::Invalid {
                field: "M110_LOG_FORMAT",
                message: format!("{v:?} is not text or json"),
            })?),
            None => None,
        };
        let listen = flags
            .listen
            .or_else(|| env_get("M110_LISTEN"))
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        if listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid {
                field: "listen",
                message: format!("{listen:?} is not ADDR:PORT (e.g. 127.0.0.1:8110)"),
            });
        }
        let database = flags
            .database
            .or_else(|| env_get("M110_DATABASE_URL"))
            .or(file.database)
            .unwrap_or_else(|| DEFAULT_DATABASE.to_string());
        let database = resolve_database_url(&database, install_dir)?;
        let scan = flags
            .deadline_scan_seconds
            .or(file.deadline_scan_seconds)
            .unwrap_or(DEFAULT_DEADLINE_SCAN_SECONDS);
        if scan == 0 {
            return Err(ConfigError::Invalid {
                field: "deadline_scan_seconds",
                message: "must be at least 1".into(),
            });
        }
        let attachments =
            attachments_config(file.attachments.unwrap_or_default(), install_dir, env)?;
        Ok(Config {
            attachments,
            // Edge (H1's block).
            public_url: public_url(file.public_url)?,
            metrics_token: env_get("M110_METRICS_TOKEN")
                .or(file.metrics_token)
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
            limits: Limits::from_file(file.limits.unwrap_or_default())?,
            install_dir: install_dir.to_path_buf(),
            region: file.region,
            listen,
            database,
            log_format: flags
                .log_format
                .or(env_log)
                .or(file.log_format)
                .unwrap_or_default(),
            deadline_scan: Duration::from_secs(scan),
            pool_size: file.pool_size,
            body_limit: file.body_limit_bytes.unwrap_or(DEFAULT_BODY_LIMIT),
            delivery_interval: Duration::from_millis(
                file.delivery_interval_ms.unwrap_or(1000).max(50),
            ),
            delivery_backoff_ms: flags
                .delivery_backoff_ms
                .or(file.delivery_backoff_ms)
                .unwrap_or(5000)
                .clamp(10, 3_600_000) as i64,
            delivery_max_attempts: i64::from(
                flags
                    .delivery_max_attempts
                    .or(file.delivery_max_attempts)
                    .unwrap_or(12)
                    .max(1),
            ),
            handoff_ack_minutes: i64::from(file.handoff_ack_minutes.unwrap_or(5).max(1)),
            status_pull: Duration::from_millis(
                flags
                    .status_pull_ms
                    .or(file.status_pull_seconds.map(|s| s.saturating_mul(1000)))
                    .unwrap_or(60_000)
                    .max(100),
            ),
            warning_interval: Duration::from_millis(
                flags
                    .warning_ms
                    .or(file.warning_seconds.map(|s| s.saturating_mul(1000)))
                    .unwrap_or(900_000)
                    .max(100),
            ),
            secure_cookies: file.secure_cookies,
            session_idle: Duration::from_secs(
                u64::from(file.session_idle_minutes.unwrap_or(60).clamp(5, 720)) * 60,
            ),
        })
    }
}

impl Config {
    /// Whether the session cookie carries `Secure` (lead's block): `secure_cookies` when given,
    /// else whether the configured public URL is https.
    pub fn cookie_secure(&self) -> bool {
        self.secure_cookies.unwrap_or_else(|| {
            self.public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
        })
    }
}

/// `limits:` in `m110d.yaml` (H1's block): every key optional, defaults in [`Limits`].
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// Seconds a client may take to send a request's line and headers, and the longest a
    /// kept-alive connection may sit idle (default 10).
    pub header_read_timeout_seconds: Option<u64>,
    /// Seconds a request body may take beyond what its size earns at `body_min_rate_bytes`
    /// (default 30).
    pub body_read_timeout_seconds: Option<u64>,
    /// Bytes per second a slow upload must keep up to earn more time (default 1024).
    pub body_min_rate_bytes: Option<u64>,
    /// Seconds a request may take from its last body byte to its answer (default 60); live
    /// update streams are not cut (only their answer's start counts).
    pub request_timeout_seconds: Option<u64>,
    /// Client connections served at once (default 1024, and never more than the open-file
    /// limit allows).
    pub max_connections: Option<usize>,
    /// Live-update streams (`/console/events`) open at once, in total (default 512).
    pub max_streams: Option<usize>,
    /// Live-update streams one user may hold open (default 32: tabs and wall screens of one
    /// account, bounded so that one account cannot take them all).
    pub max_streams_per_user: Option<usize>,
}

/// The bounds `serve` applies (H1's block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub body_min_rate_bytes: u64,
    pub request_timeout: Duration,
    pub max_connections: usize,
    pub max_streams: usize,
    pub max_streams_per_user: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            body_min_rate_bytes: 1024,
            request_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_streams: 512,
            max_streams_per_user: 32,
        }
    }
}

impl Limits {
    fn from_file(f: LimitsFile) -> Result<Limits, ConfigError> {
        let d = Limits::default();
        let secs = |v: Option<u64>, field: &'static str, default: Duration| match v {
            None => Ok(default),
            Some(s) if (1..=3600).contains(&s) => Ok(Duration::from_secs(s)),
            Some(_) => Err(ConfigError::Invalid {
                field,
                message: "give seconds between 1 and 3600".into(),
            }),
        };
        let count = |v: Option<usize>, field: &'static str, default: usize| match v {
            None => Ok(default),
            Some(n) if n >= 1 => Ok(n),
            Some(_) => Err(ConfigError::Invalid {
                field,
                message: "must be at least 1".into(),
            }),
        };
        Ok(Limits {
            header_read_timeout: secs(
                f.header_read_timeout_seconds,
                "limits.header_read_timeout_seconds",
                d.header_read_timeout,
            )?,
            body_read_timeout: secs(
                f.body_read_timeout_seconds,
                "limits.body_read_timeout_seconds",
                d.body_read_timeout,
            )?,
            body_min_rate_bytes: f
                .body_min_rate_bytes
                .unwrap_or(d.body_min_rate_bytes)
                .max(1),
            request_timeout: secs(
                f.request_timeout_seconds,
                "limits.request_timeout_seconds",
                d.request_timeout,
            )?,
            max_connections: count(
                f.max_connections,
                "limits.max_connections",
                d.max_connections,
            )?,
            max_streams: count(f.max_streams, "limits.max_streams", d.max_streams)?,
            max_streams_per_user: count(
                f.max_streams_per_user,
                "limits.max_streams_per_user",
                d.max_streams_per_user,
            )?,
        })
    }
}

/// `public_url` checked: http(s), a host, no query; the trailing slash dropped.
fn public_url(v: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(v) = v.map(|v| v.trim().trim_end_matches('/').to_string()) else {
        return Ok(None);
    };
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(r)
            if !r.is_empty()
                && !r.starts_with('/')
                && !r.contains(['?', '#', ' '])
                && r.chars().all(|c| c.is_ascii_graphic()) =>
        {
            Ok(Some(v))
        }
        _ => Err(ConfigError::Invalid {
            field: "public_url",
            message: format!("{v:?} is not an http(s) URL such as https://m110.example.gov.cn"),
        }),
    }
}

/// The `attachments:` section resolved: the directory made absolute, the S3 keys from the
/// environment.
fn attachments_config(
    file: AttachmentsFile,
    install_dir: &Path,
    env: &HashMap<String, String>,
) -> Result<AttachmentsConfig, ConfigError> {
    let max_bytes = file.max_bytes.unwrap_or(DEFAULT_ATTACHMENT_MAX_BYTES);
    if max_bytes == 0 {
        return Err(ConfigError::Invalid {
            field: "attachments.max_bytes",
            message: "must be at least 1".into(),
        });
    }
    let dir = file.dir.map(|d| {
        if d.is_absolute() {
            d
        } else {
            install_dir.join(d)
        }
    });
    let s3 = match file.s3 {
        None => None,
        Some(s3) => {
            let key = |name: &'static str| {
                env.get(name)
                    .filter(|v| !v.trim().is_empty())
                    .cloned()
                    .ok_or_else(|| ConfigError::Invalid {
                        field: name,
                        message: "attachments.s3 is set: export the bucket's key in this variable"
                            .into(),
                    })
            };
            if !(s3.endpoint.starts_with("http://") || s3.endpoint.starts_with("https://")) {
                return Err(ConfigError::Invalid {
                    field: "attachments.s3.endpoint",
                    message: format!("{:?} is not an http(s) URL", s3.endpoint),
                });
            }
            if s3.bucket.trim().is_empty() {
                return Err(ConfigError::Invalid {
                    field: "attachments.s3.bucket",
                    message: "must not be empty".into(),
                });
            }
            Some(S3Settings {
                endpoint: s3.endpoint,
                bucket: s3.bucket,
                region: s3.region.unwrap_or_else(|| "us-east-1".into()),
                prefix: s3.prefix.unwrap_or_default(),
                access_key_id: key("M110_S3_ACCESS_KEY_ID")?,
                secret_access_key: key("M110_S3_SECRET_ACCESS_KEY")?,
            })
        }
    };
    Ok(AttachmentsConfig { max_bytes, dir, s3 })
}

/// Makes a relative SQLite path absolute against `dir`; PostgreSQL URLs pass unchanged.
pub fn resolve_database_url(url: &str, dir: &Path) -> Result<String, ConfigError> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_string());
    }
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| ConfigError::Invalid {
            field: "database",
            message: format!("{url:?} is neither sqlite://PATH nor postgres://…"),
        })?;
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_string());
    }
    let p = Path::new(path);
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        let dir = if dir.is_absolute() {
            dir.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|cwd| cwd.join(dir))
                .unwrap_or_else(|_| dir.to_path_buf())
        };
        dir.join(p)
    };
    let mut out = format!("sqlite://{}", abs.display());
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn file_then_env_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "region: \"350781\"\nlisten: \"127.0.0.1:9000\"\ndatabase: \"sqlite://m110.db\"\nlog_format: json\n",
        )
        .unwrap();
        let c = Config::load_with_env(dir.path(), Overrides::default(), &env(&[])).unwrap();
        assert_eq!(c.listen, "127.0.0.1:9000");
        assert_eq!(c.region.as_deref(), Some("350781"));
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(
            c.database,
            format!("sqlite://{}", dir.path().join("m110.db").display())
        );
        let e = env(&[
            ("M110_LISTEN", "127.0.0.1:9001"),
            ("M110_LOG_FORMAT", "text"),
            ("M110_DATABASE_URL", "postgres://u@h/db"),
        ]);
        let c = Config::load_with_env(dir.path(), Overrides::default(), &e).unwrap();
        assert_eq!(c.listen, "127.0.0.1:9001");
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.database, "postgres://u@h/db");
        let flags = Overrides {
            listen: Some("127.0.0.1:9002".into()),
            log_format: Some(LogFormat::Json),
            ..Default::default()
        };
        let c = Config::load_with_env(dir.path(), flags, &e).unwrap();
        assert_eq!(c.listen, "127.0.0.1:9002");
        assert_eq!(c.log_format, LogFormat::Json);
    }

    #[test]
    fn bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "lissten: x\n").unwrap();
        let e = Config::load_with_env(dir.path(), Overrides::default(), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("lissten"), "{e}");
        std::fs::remove_file(dir.path().join(CONFIG_FILE)).unwrap();
        let e = Config::load_with_env(
            dir.path(),
            Overrides {
                listen: Some("nope".into()),
                ..Default::default()
            },
            &env(&[]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("listen:"), "{e}");
        let e = Config::load_with_env(
            dir.path(),
            Overrides::default(),
            &env(&[("M110_LOG_FORMAT", "xml")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("M110_LOG_FORMAT"), "{e}");
        assert!(resolve_database_url("mysql://x", dir.path()).is_err());
    }

    #[test]
    fn attachments_default_to_the_install_and_s3_needs_its_keys() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load_with_env(dir.path(), Overrides::default(), &env(&[])).unwrap();
        assert_eq!(c.attachments.max_bytes, 10 * 1024 * 1024);
        assert!(c.attachments.dir.is_none() && c.attachments.s3.is_none());
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "attachments:\n  max_bytes: 1000\n  dir: files\n  s3:\n    endpoint: http://127.0.0.1:9000\n    bucket: m110\n",
        )
        .unwrap();
        let e = Config::load_with_env(dir.path(), Overrides::default(), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("M110_S3_ACCESS_KEY_ID:"), "{e}");
        let keys = env(&[
            ("M110_S3_ACCESS_KEY_ID", "ak"),
            ("M110_S3_SECRET_ACCESS_KEY", "sk-secret"),
        ]);
        let c = Config::load_with_env(dir.path(), Overrides::default(), &keys).unwrap();
        assert_eq!(c.attachments.max_bytes, 1000);
        assert_eq!(c.attachments.dir, Some(dir.path().join("files")));
        let s3 = c.attachments.s3.unwrap();
        assert_eq!(
            (s3.region.as_str(), s3.secret_access_key.as_str()),
            ("us-east-1", "sk-secret")
        );
        assert!(!format!("{s3:?}").contains("sk-secret"));
    }

    #[test]
    fn limits_public_url_and_metrics_token() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load_with_env(dir.path(), Overrides::default(), &env(&[])).unwrap();
        assert_eq!(c.limits, Limits::default());
        assert_eq!((c.public_url, c.metrics_token), (None, None));
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "public_url: https://m110.example.gov.cn/\nmetrics_token: from-file\nlimits:\n  header_read_timeout_seconds: 2\n  max_streams_per_user: 1\n",
        )
        .unwrap();
        let c = Config::load_with_env(
            dir.path(),
            Overrides::default(),
            &env(&[("M110_METRICS_TOKEN", "from-env")]),
        )
        .unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://m110.example.gov.cn"));
        assert_eq!(c.metrics_token.as_deref(), Some("from-env"));
        assert_eq!(c.limits.header_read_timeout, Duration::from_secs(2));
        assert_eq!(c.limits.max_streams_per_user, 1);
        assert_eq!(c.limits.max_connections, 1024);
        for (yaml, field) in [
            ("public_url: ftp://x\n", "public_url"),
            ("limits:\n  max_streams: 0\n", "limits.max_streams"),
            (
                "limits:\n  request_timeout_seconds: 0\n",
                "limits.request_timeout_seconds",
            ),
        ] {
            std::fs::write(dir.path().join(CONFIG_FILE), yaml).unwrap();
            let e = Config::load_with_env(dir.path(), Overrides::default(), &env(&[]))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(field), "{yaml}: {e}");
        }
    }

    #[test]
    fn sqlite_urls_resolve_against_the_install() {
        let d = Path::new("/srv/m110");
        assert_eq!(
            resolve_database_url("sqlite://m110.db?mode=rwc", d).unwrap(),
            "sqlite:///srv/m110/m110.db?mode=rwc"
        );
        assert_eq!(
            resolve_database_url("sqlite:///abs/x.db", d).unwrap(),
            "sqlite:///abs/x.db"
        );
        assert_eq!(
            resolve_database_url("sqlite:m110.db", d).unwrap(),
            "sqlite:///srv/m110/m110.db"
        );
    }
}
