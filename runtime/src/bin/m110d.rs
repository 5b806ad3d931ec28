use clap::Parser;

/// m110d: serves a provisioned Minsheng 110 region.
#[derive(Parser)]
#[command(name = "m110d", version, about)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
}
