//! One policy decision against a catalogue of 500 host rules (goal: median ≤ 2 µs).
#![allow(missing_docs)] // criterion's macros generate undocumented items

use borne_core::host::HostRule;
use borne_core::policy::{AllowEntry, LoadKind, Policy};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use url::Url;

fn policy_500() -> Policy {
    Policy::new((0..500).map(|i| {
        AllowEntry {
            rule: HostRule::parse(&if i % 2 == 0 {
                format!("*.service{i}.gouv.fr")
            } else {
                format!("www.site{i}.fr")
            })
            .expect("valid rule"),
            http: false,
            needed_by: vec![format!("tile{i}")],
        }
    }))
}

fn bench(c: &mut Criterion) {
    let p = policy_500();
    assert_eq!(p.entries().len(), 500);
    let allowed = Url::parse("https://connexion.espace.service250.gouv.fr/path?q=1").expect("url");
    let blocked = Url::parse("https://www.evil-site.example.com/path").expect("url");
    assert!(p.decide(&allowed, LoadKind::Navigation).is_allowed());
    c.bench_function("decide/allowed-parsed", |b| b.iter(|| p.decide(black_box(&allowed), LoadKind::Navigation)));
    c.bench_function("decide/blocked-parsed", |b| b.iter(|| p.decide(black_box(&blocked), LoadKind::Navigation)));
    c.bench_function("decide/allowed-from-text", |b| {
        b.iter(|| p.decide_str(black_box("https://connexion.espace.service250.gouv.fr/path?q=1"), LoadKind::Navigation))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
