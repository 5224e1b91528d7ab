//! The catalogue watch's memory: the hosts each tile's page loaded, run after run, kept in a small
//! JSON file beside the report (`OUT/veille-catalogue.history.json`, [`super::HISTORY_FILE`]), so a
//! rule no recent run has seen can be listed as a candidate to drop.
//!
//! Only runs in which a tile's page answered (ok or moved) count for that tile: a site down for a day
//! says nothing about the hosts it needs.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Finding, TileRule};

/// How many runs the file keeps.
pub const KEEP_RUNS: usize = 20;

/// What is wrong with a history file.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Not the JSON this module writes.
    #[error("history file is not valid: {0}")]
    Invalid(#[from] serde_json::Error),
    /// Written by a newer program.
    #[error("history file has version {0}, this program reads version 1")]
    Version(u32),
}

/// One run: when, and the hosts each answering tile's page loaded or tried.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// When the run started (RFC 3339, UTC).
    pub at: String,
    /// Tile id → hosts seen (only tiles whose page answered).
    pub tiles: BTreeMap<String, BTreeSet<String>>,
}

impl Run {
    /// The run made of these findings.
    pub fn of(at: &str, findings: &[Finding]) -> Run {
        Run {
            at: at.into(),
            tiles: findings.iter().filter(|f| f.status.answered()).map(|f| (f.id.clone(), f.seen.clone())).collect(),
        }
    }
}

/// Every run kept, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Format version (1).
    pub version: u32,
    /// Runs, oldest first.
    pub runs: Vec<Run>,
}

impl Default for History {
    fn default() -> Self {
        History { version: 1, runs: Vec::new() }
    }
}

/// The rules of a tile that no recent run saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unused {
    /// How many runs were looked at (runs in which the page answered, at most `window`).
    pub runs: usize,
    /// The rules no host of those runs matched.
    pub rules: Vec<TileRule>,
}

impl History {
    /// Reads a history file's text.
    pub fn parse(text: &str) -> Result<History, HistoryError> {
        let h: History = serde_json::from_str(text)?;
        if h.version != 1 {
            return Err(HistoryError::Version(h.version));
        }
        Ok(h)
    }

    /// The file's text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a history is plain data") + "\n"
    }

    /// Adds a run, keeping the last [`KEEP_RUNS`].
    pub fn push(&mut self, run: Run) {
        self.runs.push(run);
        let extra = self.runs.len().saturating_sub(KEEP_RUNS);
        self.runs.drain(..extra);
    }

    /// The rules of `tile` that no host matched in its last `window` answering runs; `None` when its
    /// page never answered in the runs kept.
    pub fn unused(&self, tile: &str, rules: &[TileRule], window: usize) -> Option<Unused> {
        let recent: Vec<&BTreeSet<String>> =
            self.runs.iter().rev().filter_map(|r| r.tiles.get(tile)).take(window).collect();
        if recent.is_empty() {
            return None;
        }
        let rules = rules
            .iter()
            .filter(|r| !recent.iter().any(|hosts| hosts.iter().any(|h| r.rule.matches(h))))
            .cloned()
            .collect();
        Some(Unused { runs: recent.len(), rules })
    }
}
