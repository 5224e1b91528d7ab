//! The outbox in the statistics file: planned batches, their state, and what Matomo confirmed.
//!
//! Every change is one SQLite transaction, so a `kill -9` at any point leaves either the state before
//! or the state after: a batch is planned, or being sent (`sent_at` set), or delivered (its units
//! added to `delivered` and the batch deleted, together).

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::in_vocabulary;
use super::plan::{assign_visitors, plan_hits, split_batches, Delta};
use super::Hit;
use crate::stats::{Category, Hour, Store, StoreError};

/// A batch of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Row id.
    pub id: i64,
    /// Random event name carried by every hit of the batch.
    pub marker: String,
    /// When a send started (Unix seconds), if one did.
    pub sent_at: Option<i64>,
    /// The hits, in order.
    pub hits: Vec<Hit>,
}

/// Delivery status for the référent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PushStatus {
    /// `never`, `ok`, `retrying`, `refused`.
    pub state: String,
    /// The refusal or failure code, if any.
    pub code: Option<String>,
    /// Hour of the last delivery.
    pub last_delivery_hour: Option<i64>,
    /// Failed attempts since the last delivery.
    pub failures: i64,
    /// Units counted and not yet confirmed by Matomo.
    pub backlog: u64,
    /// Batches in the outbox.
    pub batches: u64,
}

impl Store {
    /// Plans batches (at most `max` hits each) for every unit neither delivered nor already in a
    /// batch. Returns how many batches were added.
    pub fn plan_batches(&mut self, max: usize, marker: impl FnMut() -> String) -> Result<usize, StoreError> {
        self.plan_batches_with(max, marker, super::new_visitor_id)
    }

    /// [`Store::plan_batches`] with the visitor ids drawn from `visitor` (tests).
    pub fn plan_batches_with(
        &mut self,
        max: usize,
        mut marker: impl FnMut() -> String,
        visitor: impl FnMut() -> String,
    ) -> Result<usize, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut pending: BTreeMap<(i64, String, String), u64> = BTreeMap::new();
        {
            let mut st = tx.prepare("SELECT hour, cat, action, count(*) FROM batch_hit GROUP BY hour, cat, action")?;
            let rows = st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get::<_, i64>(3)?)))?;
            for row in rows {
                let (k, n) = row?;
                pending.insert(k, n.max(0) as u64);
            }
        }
        let mut delta = Vec::new();
        {
            let mut st = tx.prepare("SELECT hour, cat, action, n - delivered FROM counts WHERE n > delivered")?;
            let rows = st.query_map([], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
            })?;
            for row in rows {
                let (hour, cat, action, left) = row?;
                let in_batches = pending.get(&(hour, cat.clone(), action.clone())).copied().unwrap_or(0);
                let n = (left.max(0) as u64).saturating_sub(in_batches);
                match Category::from_code(&cat) {
                    Some(c) if in_vocabulary(c, &action) => {
                        if n > 0 {
                            delta.push(Delta { hour: Hour(hour), cat: c, action, n });
                        }
                    }
                    _ => tracing::error!("a stored count is outside the vocabulary; it is not sent"),
                }
            }
        }
        let mut hits = plan_hits(&delta);
        assign_visitors(&mut hits, visitor);
        let batches = split_batches(hits, max);
        for b in &batches {
            tx.execute("INSERT INTO batch (marker) VALUES (?1)", params![marker()])?;
            let id = tx.last_insert_rowid();
            insert_hits(&tx, id, b)?;
        }
        tx.commit()?;
        Ok(batches.len())
    }

    /// A copy of the store in memory, to plan on without changing the file (dry runs).
    pub fn snapshot(&self) -> Result<Store, StoreError> {
        let mut mem = rusqlite::Connection::open_in_memory()?;
        {
            let b = rusqlite::backup::Backup::new(&self.conn, &mut mem)?;
            b.run_to_completion(256, std::time::Duration::ZERO, None)?;
        }
        Ok(Store { conn: mem })
    }

    /// The oldest batch of the outbox.
    pub fn next_batch(&self) -> Result<Option<Batch>, StoreError> {
        let head: Option<(i64, String, Option<i64>)> = self
            .conn
            .query_row("SELECT id, marker, sent_at FROM batch ORDER BY id LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((id, marker, sent_at)) = head else { return Ok(None) };
        Ok(Some(Batch { id, marker, sent_at, hits: self.hits_of(id)? }))
    }

    /// Every batch, oldest first (dry runs, status).
    pub fn batches(&self) -> Result<Vec<Batch>, StoreError> {
        let ids: Vec<(i64, String, Option<i64>)> = {
            let mut st = self.conn.prepare("SELECT id, marker, sent_at FROM batch ORDER BY id")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        ids.into_iter()
            .map(|(id, marker, sent_at)| Ok(Batch { id, marker, sent_at, hits: self.hits_of(id)? }))
            .collect()
    }

    fn hits_of(&self, id: i64) -> Result<Vec<Hit>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT hour, cat, action, new_visit, visitor FROM batch_hit WHERE batch = ?1 ORDER BY seq")?;
        let rows = st.query_map(params![id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut hits = Vec::new();
        for row in rows {
            let (hour, cat, action, new_visit, visitor) = row?;
            let cat = Category::from_code(&cat).ok_or(StoreError::Sqlite(rusqlite::Error::InvalidQuery))?;
            // A visitor id is sent only in its exact shape: anything else stored there goes as no id.
            let visitor = visitor.filter(|v| v.len() == 16 && v.bytes().all(|b| b.is_ascii_hexdigit()));
            hits.push(Hit { hour: Hour(hour), cat, action, new_visit, visitor });
        }
        Ok(hits)
    }

    /// A send of the batch starts now: from here its outcome is unknown until confirmed.
    pub fn mark_sending(&mut self, id: i64, now: i64) -> Result<(), StoreError> {
        self.conn.execute("UPDATE batch SET sent_at = ?2 WHERE id = ?1", params![id, now])?;
        Ok(())
    }

    /// The send never reached the server (no connection): the batch is as if never sent.
    pub fn mark_unsent(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn.execute("UPDATE batch SET sent_at = NULL WHERE id = ?1", params![id])?;
        Ok(())
    }

    /// Matomo confirmed the whole batch: its units become delivered and the batch goes, together.
    pub fn deliver_all(&mut self, id: i64, now: Hour) -> Result<u64, StoreError> {
        let all: Vec<usize> = (0..self.hits_of(id)?.len()).collect();
        self.settle(id, &all, now, String::new)
    }

    /// After an interrupted send: `found` are the positions in the batch (in the order of
    /// [`Store::next_batch`]'s hits) of the hits Matomo holds (`push::landed::decide`). Those units
    /// become delivered; the rest stays in the batch under a new marker, to be sent again. Returns the
    /// units delivered. The caller holds the push lock, so the batch cannot change in between.
    pub fn settle(
        &mut self,
        id: i64,
        found: &[usize],
        now: Hour,
        new_marker: impl FnOnce() -> String,
    ) -> Result<u64, StoreError> {
        let hits = self.hits_of(id)?;
        let found: std::collections::BTreeSet<usize> = found.iter().copied().filter(|i| *i < hits.len()).collect();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut remaining = Vec::new();
        let mut delivered = 0;
        for (i, h) in hits.into_iter().enumerate() {
            if found.contains(&i) {
                delivered += 1;
                tx.execute(
                    "UPDATE counts SET delivered = min(n, delivered + 1) WHERE hour = ?1 AND cat = ?2 AND action = ?3",
                    params![h.hour.0, h.cat.code(), h.action],
                )?;
            } else {
                remaining.push(h);
            }
        }
        tx.execute("DELETE FROM batch_hit WHERE batch = ?1", params![id])?;
        if remaining.is_empty() {
            tx.execute("DELETE FROM batch WHERE id = ?1", params![id])?;
        } else {
            tx.execute("UPDATE batch SET marker = ?2, sent_at = NULL WHERE id = ?1", params![id, new_marker()])?;
            insert_hits(&tx, id, &remaining)?;
        }
        if delivered > 0 {
            tx.execute(
                "UPDATE push_status SET state = 'ok', code = NULL, last_delivery_hour = ?1, failures = 0 WHERE id = 1",
                params![now.0],
            )?;
        }
        tx.commit()?;
        Ok(delivered)
    }

    /// Records the outcome of an attempt for the référent.
    pub fn set_push_status(&mut self, state: &str, code: Option<&str>) -> Result<(), StoreError> {
        let failures = if state == "ok" { "0" } else { "failures + 1" };
        self.conn.execute(
            &format!("UPDATE push_status SET state = ?1, code = ?2, failures = {failures} WHERE id = 1"),
            params![state, code],
        )?;
        Ok(())
    }

    /// Delivery status and backlog.
    pub fn push_status(&self) -> Result<PushStatus, StoreError> {
        let (state, code, last_delivery_hour, failures) = self.conn.query_row(
            "SELECT state, code, last_delivery_hour, failures FROM push_status WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let backlog: i64 =
            self.conn.query_row("SELECT coalesce(sum(n - delivered), 0) FROM counts", [], |r| r.get(0))?;
        let batches: i64 = self.conn.query_row("SELECT count(*) FROM batch", [], |r| r.get(0))?;
        Ok(PushStatus {
            state,
            code,
            last_delivery_hour,
            failures,
            backlog: backlog.max(0) as u64,
            batches: batches as u64,
        })
    }
}

fn insert_hits(tx: &rusqlite::Transaction<'_>, id: i64, hits: &[Hit]) -> rusqlite::Result<()> {
    let mut st = tx.prepare(
        "INSERT INTO batch_hit (batch, seq, hour, cat, action, new_visit, visitor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (seq, h) in hits.iter().enumerate() {
        st.execute(params![id, seq as i64, h.hour.0, h.cat.code(), h.action, h.new_visit, h.visitor])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{DurationBand, Op};

    fn store_with(sessions: u32) -> Store {
        let mut s = Store::open_in_memory().unwrap();
        for i in 0..sessions {
            let h = Hour(1000 + i64::from(i % 3));
            s.apply(&[
                Op::Start(h),
                Op::Count { hour: h, cat: Category::Tile, action: "caf".into(), n: 1, band: DurationBand::Under5 },
                Op::End { hour: h, reason: crate::session::EndReason::Button, band: DurationBand::Under5 },
            ])
            .unwrap();
        }
        s
    }

    fn counter() -> impl FnMut() -> String {
        let mut i = 0;
        move || {
            i += 1;
            format!("m{i}")
        }
    }

    #[test]
    fn planning_twice_plans_nothing_new_and_delivery_empties_the_backlog() {
        let mut s = store_with(10);
        assert_eq!(s.push_status().unwrap().backlog, 40);
        let n = s.plan_batches(7, counter()).unwrap();
        assert!(n >= 6, "{n}");
        assert_eq!(s.plan_batches(7, counter()).unwrap(), 0, "units already in batches are not planned again");
        while let Some(b) = s.next_batch().unwrap() {
            s.mark_sending(b.id, 1).unwrap();
            s.deliver_all(b.id, Hour(2000)).unwrap();
        }
        let st = s.push_status().unwrap();
        assert_eq!((st.backlog, st.batches, st.state.as_str()), (0, 0, "ok"));
        assert_eq!(st.last_delivery_hour, Some(2000));
        assert_eq!(s.plan_batches(7, counter()).unwrap(), 0);
    }

    #[test]
    fn settling_a_partly_landed_batch_keeps_the_rest_under_a_new_marker() {
        let mut s = store_with(3);
        s.plan_batches(1000, counter()).unwrap();
        let b = s.next_batch().unwrap().unwrap();
        assert_eq!(b.hits.len(), 12);
        s.mark_sending(b.id, 5).unwrap();
        let start = b.hits.iter().position(|h| h.cat == Category::Session).unwrap();
        let tile = b.hits.iter().position(|h| h.cat == Category::Tile).unwrap();
        assert_eq!(s.settle(b.id, &[start, tile, 99], Hour(1), || "again".into()).unwrap(), 2);
        let b2 = s.next_batch().unwrap().unwrap();
        assert_eq!((b2.id, b2.marker.as_str(), b2.sent_at, b2.hits.len()), (b.id, "again", None, 10));
        assert_eq!(s.push_status().unwrap().backlog, 10);
        // Nothing landed: the batch stays whole.
        s.settle(b2.id, &[], Hour(1), || "third".into()).unwrap();
        assert_eq!(s.next_batch().unwrap().unwrap().hits.len(), 10);
    }

    #[test]
    fn new_counts_after_a_delivery_are_planned_as_late_units() {
        let mut s = store_with(1);
        s.plan_batches(1000, counter()).unwrap();
        let b = s.next_batch().unwrap().unwrap();
        s.deliver_all(b.id, Hour(3)).unwrap();
        s.apply(&[Op::Start(Hour(1000))]).unwrap();
        s.apply(&[Op::End { hour: Hour(1000), reason: crate::session::EndReason::Idle, band: DurationBand::To15 }])
            .unwrap();
        s.plan_batches(1000, counter()).unwrap();
        let b = s.next_batch().unwrap().unwrap();
        let codes: Vec<(&str, &str, bool)> =
            b.hits.iter().map(|h| (h.cat.code(), h.action.as_str(), h.new_visit)).collect();
        assert_eq!(codes, vec![("session", "start", true), ("end", "idle", false), ("duration", "5-15", false)]);
    }
}
