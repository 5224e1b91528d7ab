//! Realistic usage for benchmarks: sessions over a centre's opening hours, tiles drawn with
//! Zipf-like weights, prints, help, languages, refused domains, outages and end reasons, written
//! through `borne_core::stats::Store` from a deterministic generator (every run writes the same data).

use borne_core::session::EndReason;
use borne_core::stats::{Category, DurationBand, Hour, Op, Outcome, Store};

/// A small deterministic generator (xorshift64*), so every run writes the same data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True `per_mille` times out of 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// An index drawn with these weights.
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let mut x = self.below(weights.iter().sum());
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// Thirty tile ids, the most used first (drawn with Zipf-like weights 1/rank).
pub const TILES: [&str; 30] = [
    "caf",
    "ameli",
    "impots",
    "france-travail",
    "ants",
    "service-public",
    "la-poste",
    "info-retraite",
    "msa",
    "doctolib",
    "sncf-connect",
    "edf",
    "mairie",
    "prefecture",
    "mon-compte-formation",
    "mes-droits-sociaux",
    "franceconnect",
    "la-banque-postale",
    "credit-agricole",
    "orange",
    "free",
    "sfr",
    "bouygues",
    "leboncoin",
    "indeed",
    "wikipedia",
    "traducteur",
    "modele-cv",
    "agenda-asso",
    "meteo",
];

/// Registrable domains a person tries to reach and the kiosk refuses.
pub const BLOCKED: [&str; 8] =
    ["facebook.com", "youtube.com", "tiktok.com", "instagram.com", "x.com", "amazon.fr", "netflix.com", "ip"];

/// Languages other than French.
pub const LANGUAGES: [&str; 8] = ["en", "ar", "es", "uk", "ru", "ro", "tr", "pt"];

pub fn zipf() -> Vec<u64> {
    (1..=TILES.len() as u64).map(|rank| 10_000 / rank).collect()
}

/// How a session ends: button 60 %, idle 35 %, crash 5 %.
pub fn end_reason(rng: &mut Rng) -> EndReason {
    [EndReason::Button, EndReason::Idle, EndReason::Crash][rng.weighted(&[60, 35, 5])]
}

/// The ops of one realistic session starting at `hour`.
pub fn session(rng: &mut Rng, zipf: &[u64], hour: Hour, ops: &mut Vec<Op>) {
    let band = DurationBand::ALL[rng.weighted(&[30, 35, 20, 10, 5])];
    let count = |cat: Category, action: &str, n: u32| Op::Count { hour, cat, action: action.into(), n, band };
    ops.push(Op::Start(hour));
    for _ in 0..1 + rng.weighted(&[50, 35, 15]) {
        ops.push(count(Category::Tile, TILES[rng.weighted(zipf)], 1));
    }
    if rng.chance(250) {
        ops.push(count(Category::Print, "page", 1 + rng.below(4) as u32));
    }
    if rng.chance(20) {
        ops.push(count(Category::Print, "failure", 1));
    }
    if rng.chance(150) {
        ops.push(count(Category::Download, "file", 1));
    }
    if rng.chance(80) {
        ops.push(count(Category::Help, "request", 1));
    }
    if rng.chance(120) {
        ops.push(count(Category::Language, LANGUAGES[rng.weighted(&[40, 20, 10, 10, 8, 5, 4, 3])], 1));
    }
    if rng.chance(70) {
        ops.push(count(Category::Blocked, BLOCKED[rng.below(BLOCKED.len() as u64) as usize], 1));
    }
    if rng.chance(10) {
        ops.push(count(Category::Outage, TILES[rng.below(5) as usize], 1));
    }
    let reason = end_reason(rng);
    if reason == EndReason::Button {
        // The end-of-session question is asked when the person ends the session.
        let outcome = [Outcome::Yes, Outcome::Partly, Outcome::No, Outcome::Skipped][rng.weighted(&[55, 20, 10, 15])];
        ops.push(count(Category::Outcome, outcome.code(), 1));
    }
    ops.push(Op::End { hour, reason, band });
}

/// The hours of a day's opening hours (9 h–18 h in Paris: sessions start 9:00–17:59) and how busy each is.
pub const OPENING: [(i8, u64); 9] =
    [(9, 6), (10, 10), (11, 12), (12, 7), (13, 6), (14, 10), (15, 12), (16, 11), (17, 8)];

/// Writes one day of `per_day` sessions, one transaction per hour. Returns the sessions written.
pub fn write_day(store: &mut Store, rng: &mut Rng, zipf: &[u64], date: jiff::civil::Date, per_day: u32) -> u64 {
    let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    let weights: Vec<u64> = OPENING.iter().map(|(_, w)| *w).collect();
    let mut per_hour = [0u32; OPENING.len()];
    for _ in 0..per_day {
        per_hour[rng.weighted(&weights)] += 1;
    }
    let mut ops = Vec::new();
    for ((h, _), n) in OPENING.iter().zip(per_hour) {
        let start = date.at(*h, 0, 0, 0).to_zoned_datetime(tz.clone()).expect("a Paris opening hour").timestamp();
        let hour = Hour::from_unix(start.as_second());
        ops.clear();
        for _ in 0..n {
            session(rng, zipf, hour, &mut ops);
        }
        store.apply(&ops).expect("apply an hour of sessions");
    }
    u64::from(per_day)
}
