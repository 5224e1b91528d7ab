//! Turning counts not yet in Matomo into hits and batches: pure functions, no I/O.
//!
//! Matomo's reports are right when each session is one visit and each counted unit one event hit
//! (`nb_events` counts hits). The borne never keeps which units belonged to which session (that
//! would be a record of one person's visit), so for each hour the hits are laid out as that hour's
//! sessions: every `session/start` opens a visit (`new_visit=1`), and the other units of the hour are
//! dealt out to those visits in turn, category by category (so each visit gets one end reason and one
//! duration band). Totals per hour, category and action are exact; which tile went with which end
//! reason inside an hour is not kept, and Matomo's per-visit figures (actions per visit) are
//! approximate. Units of an hour whose sessions were delivered earlier (a session that ended after
//! the previous push) are sent without `new_visit` and join that hour's visits in Matomo (same time,
//! same user agent: within Matomo's 30-minute window).

use super::Hit;
use crate::stats::{Category, Hour};

/// Units to send: `n` units of `(cat, action)` counted at `hour`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    /// The hour.
    pub hour: Hour,
    /// Category.
    pub cat: Category,
    /// Action.
    pub action: String,
    /// How many units.
    pub n: u64,
}

/// Lays the units out as hits, hour by hour (see the module documentation).
pub fn plan_hits(delta: &[Delta]) -> Vec<Hit> {
    let mut sorted: Vec<&Delta> = delta.iter().filter(|d| d.n > 0).collect();
    sorted.sort_by(|a, b| (a.hour, a.cat, &a.action).cmp(&(b.hour, b.cat, &b.action)));
    let mut out = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let hour = sorted[i].hour;
        let j = sorted[i..].iter().position(|d| d.hour != hour).map_or(sorted.len(), |p| i + p);
        out.extend(plan_hour(hour, &sorted[i..j]));
        i = j;
    }
    out
}

fn plan_hour(hour: Hour, all: &[&Delta]) -> Vec<Hit> {
    // A health report is no person's session: each one is a visit of its own, after the hour's sessions.
    let (health, units): (Vec<&Delta>, Vec<&Delta>) = all.iter().partition(|d| d.cat == Category::Health);
    let mut out = plan_sessions(hour, &units);
    for d in health {
        out.extend((0..d.n).map(|_| Hit {
            hour,
            cat: d.cat,
            action: d.action.clone(),
            new_visit: true,
            visitor: None,
        }));
    }
    out
}

fn plan_sessions(hour: Hour, units: &[&Delta]) -> Vec<Hit> {
    let starts: u64 = units.iter().filter(|d| d.cat == Category::Session).map(|d| d.n).sum();
    let hit = |cat: Category, action: &str, new_visit: bool| Hit {
        hour,
        cat,
        action: action.to_string(),
        new_visit,
        visitor: None,
    };
    if starts == 0 {
        return units.iter().flat_map(|d| std::iter::repeat_n(hit(d.cat, &d.action, false), d.n as usize)).collect();
    }
    let visits = starts as usize;
    let mut per_visit: Vec<Vec<Hit>> = (0..visits).map(|_| vec![hit(Category::Session, "start", true)]).collect();
    let mut current = None;
    let mut k = 0;
    for d in units.iter().filter(|d| d.cat != Category::Session) {
        if current != Some(d.cat) {
            current = Some(d.cat);
            k = 0;
        }
        for _ in 0..d.n {
            per_visit[k % visits].push(hit(d.cat, &d.action, false));
            k += 1;
        }
    }
    per_visit.into_iter().flatten().collect()
}

/// Gives each visit its own visitor id (`cid`), drawn from `visitor`: a hit that starts a visit draws a new
/// one, and the hits after it in the same hour share it (they are that visit's, [`plan_hits`]). Hits of an
/// hour with no visit start in the plan (late units of a delivered hour) get none: sent without `cid`, they
/// join the visits of their hour by Matomo's IP and user agent rule, as before.
pub fn assign_visitors(hits: &mut [Hit], mut visitor: impl FnMut() -> String) {
    let mut current: Option<(Hour, String)> = None;
    for h in hits.iter_mut() {
        if h.new_visit {
            current = Some((h.hour, visitor()));
        }
        h.visitor = current.as_ref().filter(|(hour, _)| *hour == h.hour).map(|(_, id)| id.clone());
    }
}

/// Cuts hits into batches of at most `max`, at a visit's start when one is close enough (so a
/// session's hits travel together), else at `max`.
pub fn split_batches(hits: Vec<Hit>, max: usize) -> Vec<Vec<Hit>> {
    let max = max.max(1);
    let mut out = Vec::new();
    let mut rest = hits;
    while rest.len() > max {
        // The last visit start within the window, if it leaves a batch at least half full.
        let cut = ((max / 2).max(1)..=max).rev().find(|&c| rest.get(c).is_some_and(|h| h.new_visit)).unwrap_or(max);
        let tail = rest.split_off(cut);
        out.push(rest);
        rest = tail;
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(hour: i64, cat: Category, action: &str, n: u64) -> Delta {
        Delta { hour: Hour(hour), cat, action: action.into(), n }
    }

    #[test]
    fn each_session_is_a_visit_with_one_end_and_one_band() {
        let hits = plan_hits(&[
            d(10, Category::Session, "start", 2),
            d(10, Category::End, "button", 1),
            d(10, Category::End, "idle", 1),
            d(10, Category::Duration, "lt5", 2),
            d(10, Category::Tile, "caf", 3),
        ]);
        assert_eq!(hits.len(), 2 + 2 + 2 + 3);
        let visits: Vec<&[Hit]> = {
            let starts: Vec<usize> = hits.iter().enumerate().filter(|(_, h)| h.new_visit).map(|(i, _)| i).collect();
            assert_eq!(starts, vec![0, 5]);
            vec![&hits[..5], &hits[5..]]
        };
        for v in visits {
            assert_eq!(v.iter().filter(|h| h.cat == Category::End).count(), 1);
            assert_eq!(v.iter().filter(|h| h.cat == Category::Duration).count(), 1);
        }
    }

    #[test]
    fn late_units_of_a_delivered_hour_join_its_visits() {
        let hits = plan_hits(&[d(7, Category::End, "idle", 1), d(8, Category::Session, "start", 1)]);
        assert_eq!(hits.len(), 2);
        assert!(!hits[0].new_visit);
        assert_eq!(hits[0].hour, Hour(7));
        assert!(hits[1].new_visit);
    }

    #[test]
    fn batches_cut_at_visit_starts() {
        let mut delta = Vec::new();
        for h in 0..30 {
            delta.push(d(h, Category::Session, "start", 7));
            delta.push(d(h, Category::Tile, "caf", 20));
            delta.push(d(h, Category::End, "button", 7));
        }
        let hits = plan_hits(&delta);
        let n = hits.len();
        let batches = split_batches(hits, 100);
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), n);
        assert!(batches.iter().all(|b| b.len() <= 100 && !b.is_empty()));
        assert!(batches.iter().all(|b| b[0].new_visit), "every batch starts a visit here");
    }

    #[test]
    fn a_health_report_is_a_visit_of_its_own() {
        let mut hits = plan_hits(&[
            d(8, Category::Session, "start", 2),
            d(8, Category::Tile, "caf", 3),
            d(8, Category::Health, "report-a", 1),
            d(9, Category::Health, "report-b", 1),
            d(9, Category::End, "idle", 1),
        ]);
        let mut n = 0;
        assign_visitors(&mut hits, || {
            n += 1;
            format!("{n:016x}")
        });
        let health: Vec<&Hit> = hits.iter().filter(|h| h.cat == Category::Health).collect();
        assert_eq!(health.len(), 2);
        assert!(health.iter().all(|h| h.new_visit && h.visitor.is_some()));
        let ids: std::collections::BTreeSet<_> = hits.iter().filter_map(|h| h.visitor.clone()).collect();
        assert_eq!(ids.len(), 4, "two sessions and two reports, each its own visitor");
        // The late unit of hour 9 does not join the report's visit.
        let late = hits.iter().find(|h| h.cat == Category::End).unwrap();
        assert!(!late.new_visit);
        assert_eq!(late.visitor, None);
    }

    #[test]
    fn each_visit_gets_its_own_visitor_id_and_late_units_none() {
        let mut hits = plan_hits(&[
            d(7, Category::End, "idle", 1),
            d(8, Category::Session, "start", 2),
            d(8, Category::Tile, "caf", 3),
            d(9, Category::Tile, "ants", 1),
        ]);
        let mut n = 0;
        assign_visitors(&mut hits, || {
            n += 1;
            format!("{n:016x}")
        });
        let ids: Vec<Option<&str>> = hits.iter().map(|h| h.visitor.as_deref()).collect();
        let one = Some("0000000000000001");
        let two = Some("0000000000000002");
        assert_eq!(ids, vec![None, one, one, one, two, two, None]);
    }

    proptest! {
        #[test]
        fn plans_keep_every_unit_exactly_once(
            units in proptest::collection::vec((0i64..5, 0usize..4, 0u64..30), 0..40),
            max in 1usize..200,
        ) {
            let cats = [Category::Session, Category::End, Category::Tile, Category::Print];
            let delta: Vec<Delta> = units.iter().map(|(h, c, n)| d(*h, cats[*c], "x", *n)).collect();
            let mut want = std::collections::BTreeMap::new();
            for u in &delta {
                *want.entry((u.hour, u.cat)).or_insert(0u64) += u.n;
            }
            want.retain(|_, n| *n > 0);
            let batches = split_batches(plan_hits(&delta), max);
            let mut got = std::collections::BTreeMap::new();
            for b in &batches {
                prop_assert!(b.len() <= max && !b.is_empty());
                for h in b {
                    *got.entry((h.hour, h.cat)).or_insert(0u64) += 1;
                    prop_assert_eq!(h.new_visit, h.cat == Category::Session);
                }
            }
            prop_assert_eq!(got, want);
        }
    }
}
