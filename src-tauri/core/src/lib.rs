//! `borne-core`: everything the borne decides, in plain Rust with no webview.
//!
//! The kiosk shell (`borne`), the command line (`bornectl`) and the tests all call this crate:
//! - [`host`] and [`policy`]: which URLs a person may reach, and the WebKit content-blocker rules;
//! - [`config`] and [`catalogue`]: `borne.toml`, the national catalogue and the référent's overrides,
//!   validated with French messages for people and English causes for logs;
//! - [`messages`]: the French texts the core writes for people, and the small vocabularies they
//!   are written for (set-aside choices, catalogue refusals, fleet alerts), so that it sits below
//!   the modules that speak French;
//! - [`process`] and [`signature`]: running a program within a time limit, and the federation's
//!   minisign signatures, at the bottom of the core.
//!
//! The modules import in one direction: `tests/module_graph.rs` fails on any cycle between them.
//! - [`documents`]: the session's files as pages see them (opaque ids, clean names, no path);
//! - [`scan`]: « Numériser un document »: scanners through SANE (`scanimage`), pages, the PDF or JPEG;
//! - [`speech`]: « Écouter »: the voice for each language, the text spoken, espeak-ng's command line;
//! - [`nomad`]: a nomad borne's places and today's place, counted with every session;
//! - [`printers`]: « Imprimante » in the admin screens: the printers CUPS finds, adding one, its
//!   state in words, a test page, through CUPS's own clients;
//! - [`wifi`]: « Réseau » in the admin screens: Wi-Fi networks in range, join, forget, the link,
//!   through NetworkManager's `nmcli`;
//! - [`hours`]: opening hours that act (closed screen, dark screen, power-off), said in each language;
//! - [`kit`]: what the centre's poster, flyer and booklet say (drawn by `borne-kit`);
//! - [`keys`], [`frames`] and [`toolbar`]: the shell's input and page decisions (which keys are
//!   swallowed, what a refused frame shows, the events the pages receive), without GTK.

pub mod admin;
pub mod audit;
pub mod catalogue;
pub mod channel;
pub mod config;
pub mod csv_export;
pub mod diag;
pub mod documents;
pub mod federation;
pub mod frames;
pub mod fsutil;
pub mod health;
pub mod host;
pub mod hours;
pub mod keys;
pub mod kit;
pub mod load;
pub mod matomo;
pub mod messages;
pub mod netfail;
pub mod nomad;
pub mod person;
pub mod policy;
pub mod power;
pub mod power_off;
pub mod print;
pub mod printers;
pub mod process;
pub mod proxy;
pub mod push;
pub mod scan;
pub mod session;
pub mod setup;
pub mod signature;
pub mod speech;
pub mod stats;
pub mod tone;
pub mod toolbar;
pub mod updates;
pub mod wifi;
