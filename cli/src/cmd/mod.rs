//! One module per subcommand: its flags (`Args`) and its `run`.

pub mod alerts;
pub mod analytics;
pub mod backup;
pub mod compare;
pub mod contacts;
pub mod divisions;
pub mod doctor;
pub mod generate;
pub mod import;
pub mod init;
pub mod kpi;
pub mod load;
pub mod plan;
pub mod provision;
pub mod pull;
pub mod report;
pub mod restore;
pub mod schema;
pub mod token;
pub mod triage;
pub mod up;
pub mod upgrade;
pub mod user;
pub mod validate;
