//! Native cost of a Public Suffix List check (`psl::is_public_suffix`, what an rpId check runs),
//! for comparing automaton formats (core/README.md, "Public Suffix List automaton"):
//!
//! ```sh
//! cargo run --release -p latchkey-core --example psl_lookup
//! ```
//!
//! Prints the mean over six typical hosts, best of five runs of 200,000 rounds.
#![allow(clippy::print_stdout)]

use latchkey_core::psl::is_public_suffix;
use std::hint::black_box;
use std::time::Instant;

const HOSTS: [&str; 6] = [
    "example.com",
    "login.example.co.uk",
    "foo.github.io",
    "accounts.google.com",
    "a.b.kawasaki.jp",
    "localhost",
];

fn main() {
    let rounds = 200_000u32;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        let mut hits = 0u32;
        for _ in 0..rounds {
            for host in HOSTS {
                hits += u32::from(is_public_suffix(black_box(host)));
            }
        }
        let ns = start.elapsed().as_secs_f64() * 1e9 / f64::from(rounds) / HOSTS.len() as f64;
        best = best.min(ns);
        black_box(hits);
    }
    println!("is_public_suffix: {best:.0} ns per host (best of 5, {rounds} rounds of six hosts)");
}
