//! What of an interrupted batch is in Matomo: reading the lookup's answer and deciding, hit by hit, what
//! landed and what must go again. Pure functions, no I/O; `push::run` calls [`lookup`](super::lookup)
//! and then acts on [`decide`]'s answer.
//!
//! A hit is recognised only by what Matomo echoes back as it was sent, never by a time: its event name
//! ([`event_name`]: the batch's marker, a dot and the hit's hour as a count of hours since 1970 in UTC),
//! its category and its action. `Live.getLastVisitsDetails` gives action times shifted into the site's
//! time zone (an hour later for Paris in winter, two in summer, four for La Réunion, the same value for
//! two different hours the night clocks go back), so a time read back would misplace the hits; the name
//! does not move.
//!
//! The rule: a hit of the batch is delivered when Matomo holds one more hit of its name, category and
//! action than the hits already matched. What is not found is sent again only when the answer is
//! complete and fully understood; otherwise ([`Decision::Unclear`]) nothing is sent and the batch is
//! looked up again later, since what cannot be read may be what landed.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Hit;
use crate::matomo::{number, ApiError};
use crate::stats::{Category, Hour};

/// The event name (`e_n`) of a hit of the batch `marker` counted at `hour`: `b0123456789abcdef.494302`.
/// Nothing finer than the hour, which `cdt` sends anyway.
pub fn event_name(marker: &str, hour: Hour) -> String {
    format!("{marker}.{}", hour.0)
}

/// What a `Live.getLastVisitsDetails` answer holds of one batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Landed {
    /// Hits found per (hour from the event name, category, action).
    pub by_key: BTreeMap<(Hour, Category, String), u64>,
    /// Hits named by the marker alone (sent by an earlier version of the borne), per (category, action).
    pub unhoured: BTreeMap<(Category, String), u64>,
    /// Hits whose name starts with the marker but that cannot be read (name, category or action).
    pub unreadable: u64,
    /// Visits whose actions Matomo did not all list (`actions` higher than the actions given: Matomo
    /// shows at most `visitor_log_maximum_actions_per_visit` of them).
    pub truncated: u64,
}

/// Reads the hits of the batch `marker` in a `Live.getLastVisitsDetails` answer. Other actions of the
/// same visits are skipped; times are not read at all.
pub fn parse_landed(v: &Value, marker: &str) -> Result<Landed, ApiError> {
    let visits = v.as_array().ok_or_else(|| ApiError::NotMatomo("Live answer is not a list".into()))?;
    let mut out = Landed::default();
    for visit in visits {
        let Some(actions) = visit.get("actionDetails").and_then(Value::as_array) else {
            return Err(ApiError::NotMatomo("Live visit without actionDetails".into()));
        };
        if number(visit.get("actions")).is_some_and(|n| n > actions.len() as u64) {
            out.truncated += 1;
        }
        for a in actions {
            let Some(name) = a.get("eventName").and_then(Value::as_str) else { continue };
            let Some(rest) = name.strip_prefix(marker) else { continue };
            let cat = a.get("eventCategory").and_then(Value::as_str).and_then(Category::from_code);
            let action = a.get("eventAction").and_then(Value::as_str);
            let (Some(cat), Some(action)) = (cat, action) else {
                out.unreadable += 1;
                continue;
            };
            if rest.is_empty() {
                *out.unhoured.entry((cat, action.to_string())).or_insert(0) += 1;
                continue;
            }
            let hour = rest
                .strip_prefix('.')
                .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|h| h.parse::<i64>().ok());
            match hour {
                Some(h) => *out.by_key.entry((Hour(h), cat, action.to_string())).or_insert(0) += 1,
                None => out.unreadable += 1,
            }
        }
    }
    Ok(out)
}

/// What to do with an interrupted batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The answer says, hit by hit, what landed.
    Settle {
        /// Positions in the batch of the hits Matomo holds: they become delivered.
        found: Vec<usize>,
        /// Positions of the hits Matomo does not hold: they go again, under a new marker.
        missing: Vec<usize>,
        /// Hits Matomo holds beyond the batch's own (counted twice already; logged, nothing to send).
        extra: u64,
    },
    /// The answer cannot prove what is missing: nothing is delivered or sent; look again later.
    Unclear(&'static str),
}

/// The three outcomes the référent's log speaks of, and the fourth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every hit is in Matomo.
    Landed,
    /// No hit is in Matomo.
    NotLanded,
    /// Some hits are.
    PartlyLanded,
    /// Cannot tell.
    Unclear,
}

impl Decision {
    /// Which of the outcomes this is.
    pub fn outcome(&self) -> Outcome {
        match self {
            Decision::Unclear(_) => Outcome::Unclear,
            Decision::Settle { missing, .. } if missing.is_empty() => Outcome::Landed,
            Decision::Settle { found, .. } if found.is_empty() => Outcome::NotLanded,
            Decision::Settle { .. } => Outcome::PartlyLanded,
        }
    }
}

/// Decides, for each hit of the batch, whether Matomo holds it (see the module documentation).
pub fn decide(hits: &[Hit], landed: &Landed) -> Decision {
    if landed.truncated > 0 {
        return Decision::Unclear("Matomo did not list every action of a visit holding this batch's hits");
    }
    if landed.unreadable > 0 {
        return Decision::Unclear("hits carrying this batch's marker could not be read");
    }
    if landed.by_key.keys().any(|(h, c, a)| !hits.iter().any(|x| x.hour == *h && x.cat == *c && x.action == *a)) {
        return Decision::Unclear("Matomo holds hits with this batch's marker that the batch does not have");
    }
    // Hits named by the marker alone tell their category and action, not their hour: usable only where
    // the batch has one hour for that category and action.
    for (cat, action) in landed.unhoured.keys() {
        let mut hours = hits.iter().filter(|h| h.cat == *cat && h.action == *action).map(|h| h.hour);
        let first = hours.next();
        if first.is_none() || hours.any(|h| Some(h) != first) {
            return Decision::Unclear("hits of an earlier version cannot be placed in their hour");
        }
    }
    let mut by_key = landed.by_key.clone();
    let mut unhoured = landed.unhoured.clone();
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for (i, h) in hits.iter().enumerate() {
        let named = by_key.get_mut(&(h.hour, h.cat, h.action.clone())).filter(|n| **n > 0);
        let left = match named {
            Some(n) => Some(n),
            None => unhoured.get_mut(&(h.cat, h.action.clone())).filter(|n| **n > 0),
        };
        match left {
            Some(n) => {
                *n -= 1;
                found.push(i);
            }
            None => missing.push(i),
        }
    }
    let extra = by_key.values().sum::<u64>() + unhoured.values().sum::<u64>();
    Decision::Settle { found, missing, extra }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hit(hour: i64, cat: Category, action: &str) -> Hit {
        Hit { hour: Hour(hour), cat, action: action.into(), new_visit: cat == Category::Session, visitor: None }
    }

    fn action(name: &str, cat: &str, act: &str, timestamp: i64) -> Value {
        json!({"type": "event", "eventCategory": cat, "eventAction": act, "eventName": name, "timestamp": timestamp})
    }

    #[test]
    fn hits_are_read_by_name_category_and_action_never_by_time() {
        let v = json!([
            {"idVisit": 1, "actions": "3", "actionDetails": [
                action("bX.10", "session", "start", 1),
                action("bX.10", "tile", "caf", 999_999),
                action("bOTHER.10", "tile", "caf", 36_000),
            ]},
            {"idVisit": 2, "actions": 2, "actionDetails": [
                action("bX.11", "tile", "caf", 0),
                {"type": "action", "url": "", "timestamp": 0},
            ]}
        ]);
        let got = parse_landed(&v, "bX").unwrap();
        assert_eq!(got.by_key.get(&(Hour(10), Category::Session, "start".into())), Some(&1));
        assert_eq!(got.by_key.get(&(Hour(10), Category::Tile, "caf".into())), Some(&1));
        assert_eq!(got.by_key.get(&(Hour(11), Category::Tile, "caf".into())), Some(&1));
        assert_eq!(got.by_key.values().sum::<u64>(), 3);
        assert_eq!((got.unreadable, got.truncated), (0, 0));
        assert!(parse_landed(&json!({"result": "error"}), "bX").is_err());
    }

    #[test]
    fn unreadable_names_and_truncated_visits_are_noted() {
        let v = json!([
            {"actions": "9", "actionDetails": [action("bX.1x", "tile", "caf", 0), action("bX.2", "nope", "caf", 0)]},
            {"actions": "1", "actionDetails": [action("bX", "tile", "caf", 0)]},
        ]);
        let got = parse_landed(&v, "bX").unwrap();
        assert_eq!((got.unreadable, got.truncated), (2, 1));
        assert_eq!(got.unhoured.get(&(Category::Tile, "caf".into())), Some(&1));
    }

    #[test]
    fn the_three_outcomes_and_the_unclear_one() {
        let batch =
            [hit(10, Category::Session, "start"), hit(10, Category::Tile, "caf"), hit(11, Category::Tile, "caf")];
        let mut all = Landed::default();
        for h in &batch {
            *all.by_key.entry((h.hour, h.cat, h.action.clone())).or_insert(0) += 1;
        }
        assert_eq!(decide(&batch, &all), Decision::Settle { found: vec![0, 1, 2], missing: vec![], extra: 0 });
        assert_eq!(decide(&batch, &Landed::default()).outcome(), Outcome::NotLanded);
        let mut part = Landed::default();
        part.by_key.insert((Hour(11), Category::Tile, "caf".into()), 1);
        assert_eq!(decide(&batch, &part), Decision::Settle { found: vec![2], missing: vec![0, 1], extra: 0 });
        // More than the batch had: all of it landed, the excess is only logged.
        let mut more = all.clone();
        more.by_key.insert((Hour(10), Category::Tile, "caf".into()), 3);
        assert_eq!(decide(&batch, &more), Decision::Settle { found: vec![0, 1, 2], missing: vec![], extra: 2 });
        // Anything not understood: nothing is sent again.
        let foreign = Landed { by_key: BTreeMap::from([((Hour(12), Category::Tile, "caf".into()), 1)]), ..all.clone() };
        assert_eq!(decide(&batch, &foreign).outcome(), Outcome::Unclear);
        assert_eq!(decide(&batch, &Landed { unreadable: 1, ..Landed::default() }).outcome(), Outcome::Unclear);
        assert_eq!(decide(&batch, &Landed { truncated: 1, ..all }).outcome(), Outcome::Unclear);
    }

    #[test]
    fn hits_of_an_earlier_version_count_only_where_their_hour_is_certain() {
        let batch =
            [hit(10, Category::Session, "start"), hit(10, Category::Tile, "caf"), hit(11, Category::Tile, "caf")];
        let mut old = Landed::default();
        old.unhoured.insert((Category::Session, "start".into()), 1);
        assert_eq!(decide(&batch, &old), Decision::Settle { found: vec![0], missing: vec![1, 2], extra: 0 });
        old.unhoured.insert((Category::Tile, "caf".into()), 1);
        assert_eq!(decide(&batch, &old).outcome(), Outcome::Unclear, "tile/caf is in two hours");
    }

    /// A table of time zones and of the days clocks change, with what Matomo's Live gives as `timestamp`
    /// (the stored UTC time plus the zone's offset at that instant): whatever the shift, the decision is
    /// the same as for a server answering in UTC, for a batch landed whole, not at all, or in part.
    #[test]
    fn the_decision_does_not_depend_on_the_site_time_zone_or_summer_time() {
        use jiff::tz::TimeZone;
        let zones = ["UTC", "Europe/Paris", "Indian/Reunion", "America/Guadeloupe", "Pacific/Chatham"];
        // 2026-03-29 and 2026-10-25 are the days Paris changes its clocks (at 01:00 UTC); 2026-01-15 is winter,
        // 2026-07-15 summer.
        let days = ["2026-03-29T00:00:00Z", "2026-10-25T00:00:00Z", "2026-01-15T00:00:00Z", "2026-07-15T00:00:00Z"];
        let cats = [(Category::Session, "start"), (Category::Tile, "caf"), (Category::End, "idle")];
        for zone in zones {
            let tz = TimeZone::get(zone).unwrap();
            for day in days {
                let start: jiff::Timestamp = day.parse().unwrap();
                let h0 = Hour::from_unix(start.as_second()).0 - 1;
                // Six hours around the change, each with the three keys, twice.
                let batch: Vec<Hit> = (0..6)
                    .flat_map(|k| cats.iter().flat_map(move |(c, a)| [hit(h0 + k, *c, a), hit(h0 + k, *c, a)]))
                    .collect();
                let shown = |h: &Hit| {
                    let t = jiff::Timestamp::from_second(h.hour.start_unix()).unwrap();
                    h.hour.start_unix() + i64::from(tz.to_offset(t).seconds())
                };
                // Landed whole, not at all, every other hit, the first hours only.
                let subsets: [&dyn Fn(usize) -> bool; 4] =
                    [&|_| true, &|_| false, &|i| i % 2 == 0, &|i| i < batch.len() / 3];
                for keep in subsets {
                    let visits: Vec<Value> = batch
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| keep(*i))
                        .map(|(_, h)| {
                            let a = action(&event_name("bZ", h.hour), h.cat.code(), &h.action, shown(h));
                            json!({"actions": "1", "actionDetails": [a]})
                        })
                        .collect();
                    let landed = parse_landed(&Value::Array(visits), "bZ").unwrap();
                    let Decision::Settle { found, missing, extra } = decide(&batch, &landed) else {
                        panic!("{zone} {day}: unclear");
                    };
                    assert_eq!(extra, 0, "{zone} {day}");
                    assert_eq!(found.len() + missing.len(), batch.len());
                    // Found hits are exactly as many as landed per (hour, category, action): nothing is sent
                    // twice, nothing is lost.
                    let mut want: BTreeMap<(Hour, Category, String), u64> = BTreeMap::new();
                    for (_, h) in batch.iter().enumerate().filter(|(i, _)| keep(*i)) {
                        *want.entry((h.hour, h.cat, h.action.clone())).or_insert(0) += 1;
                    }
                    let mut got: BTreeMap<(Hour, Category, String), u64> = BTreeMap::new();
                    for i in &found {
                        let h = &batch[*i];
                        *got.entry((h.hour, h.cat, h.action.clone())).or_insert(0) += 1;
                    }
                    assert_eq!(got, want, "{zone} {day}");
                }
            }
        }
    }

    proptest::proptest! {
        /// Any batch, any subset of it landed, any zone offset added to the times: the hits found are
        /// exactly the landed ones per key, and the rest is missing.
        #[test]
        fn found_plus_missing_is_the_batch_and_found_is_what_landed(
            keys in proptest::collection::vec((0i64..6, 0usize..3), 1..60),
            landed_mask in proptest::collection::vec(proptest::bool::ANY, 60),
            offset in -12i64 * 3600..14 * 3600,
        ) {
            let cats = [(Category::Session, "start"), (Category::Tile, "ants"), (Category::Print, "page")];
            let batch: Vec<Hit> = keys.iter().map(|(h, c)| hit(494_000 + h, cats[*c].0, cats[*c].1)).collect();
            let visits: Vec<Value> = batch.iter().enumerate().filter(|(i, _)| landed_mask[*i]).map(|(_, h)| {
                let a = action(&event_name("bP", h.hour), h.cat.code(), &h.action, h.hour.start_unix() + offset);
                json!({"actions": 1, "actionDetails": [a]})
            }).collect();
            let landed = parse_landed(&Value::Array(visits), "bP").unwrap();
            let Decision::Settle { found, missing, extra } = decide(&batch, &landed) else {
                return Err(proptest::test_runner::TestCaseError::fail("unclear"));
            };
            proptest::prop_assert_eq!(extra, 0);
            proptest::prop_assert_eq!(found.len() + missing.len(), batch.len());
            let landed_n = landed_mask.iter().take(batch.len()).filter(|b| **b).count();
            proptest::prop_assert_eq!(found.len(), landed_n);
            let count = |idx: &[usize]| {
                let mut m: BTreeMap<(Hour, Category, String), usize> = BTreeMap::new();
                for i in idx {
                    let h = &batch[*i];
                    *m.entry((h.hour, h.cat, h.action.clone())).or_insert(0) += 1;
                }
                m
            };
            let want: Vec<usize> = (0..batch.len()).filter(|i| landed_mask[*i]).collect();
            proptest::prop_assert_eq!(count(&found), count(&want));
        }
    }
}
