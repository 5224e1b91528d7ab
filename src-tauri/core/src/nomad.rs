//! A nomad borne (a laptop the centre takes to the médiathèque on Monday and the market on
//! Saturday): the places it goes to, each place's code, and today's place.
//!
//! The places are a list of names in `borne.toml` (`[nomad] places`, checked by [`crate::config`]).
//! Each gets a code made from its name ([`place_code`]: `Marché couvert` → `marche-couvert`): the
//! code is what the statistics keep and send, a closed vocabulary like the tiles' ids, and it never
//! changes unless the name does. The référent picks today's place (admin screen, `bornectl place`);
//! the choice is kept in `<state>/place.toml` with its date, so a restart the same day keeps it and
//! the next day starts without a place until someone picks one.
//!
//! Sits low in the core: it knows neither the settings nor the statistics, which both read it.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Most places a nomad borne may list.
pub const MAX_PLACES: usize = 30;
/// Longest place name, in characters.
pub const MAX_PLACE_NAME: usize = 60;
/// Longest place code, in bytes (the statistics' vocabulary allows 40).
pub const MAX_PLACE_CODE: usize = 40;
/// The file of today's place in the state directory.
pub const STATE_FILE: &str = "place.toml";

/// One place of a nomad borne.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// The name as the référent wrote it (`Médiathèque`), shown on the screens.
    pub name: String,
    /// Its code (`mediatheque`), what the statistics keep and send.
    pub code: String,
}

impl Place {
    /// The place of a name, if the name makes a code (see [`place_code`]).
    pub fn of(name: &str) -> Option<Place> {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        place_code(&name).map(|code| Place { name, code })
    }
}

/// The code of a place name: lower-case ASCII letters and digits, accents taken off, every other run
/// of characters one `-` (`Marché couvert` → `marche-couvert`, `Salle n°2` → `salle-n-2`), at most
/// [`MAX_PLACE_CODE`] bytes. `None` when nothing is left (a name without a Latin letter or digit).
pub fn place_code(name: &str) -> Option<String> {
    let mut out = String::new();
    let mut dash = false;
    for c in name.chars().flat_map(fold) {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
    }
    if out.len() > MAX_PLACE_CODE {
        out.truncate(MAX_PLACE_CODE);
        while out.ends_with('-') {
            out.pop();
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A Latin letter without its accent (`é` → `e`, `œ` → `oe`); any other character as it is.
fn fold(c: char) -> Vec<char> {
    let s: &str = match c {
        'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' | 'ă' | 'À' | 'Â' | 'Ä' | 'Á' | 'Ã' | 'Å' | 'Ă' => "a",
        'ç' | 'Ç' => "c",
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => "e",
        'î' | 'ï' | 'í' | 'ì' | 'Î' | 'Ï' | 'Í' | 'Ì' => "i",
        'ô' | 'ö' | 'ó' | 'ò' | 'õ' | 'Ô' | 'Ö' | 'Ó' | 'Ò' | 'Õ' => "o",
        'ù' | 'û' | 'ü' | 'ú' | 'Ù' | 'Û' | 'Ü' | 'Ú' => "u",
        'ÿ' | 'ý' | 'Ÿ' | 'Ý' => "y",
        'ñ' | 'Ñ' => "n",
        'ș' | 'ş' | 'Ș' | 'Ş' => "s",
        'ț' | 'ţ' | 'Ț' | 'Ţ' => "t",
        'œ' | 'Œ' => "oe",
        'æ' | 'Æ' => "ae",
        'ß' => "ss",
        _ => return vec![c],
    };
    s.chars().collect()
}

/// Why today's place cannot be set.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    /// The borne lists no places (`[nomad] places` is empty): it is not a nomad borne.
    #[error("no places are listed in [nomad] places")]
    NotNomad,
    /// The name or code given is not one of the listed places.
    #[error("not one of the listed places")]
    Unknown,
    /// The state file could not be written.
    #[error("cannot store today's place: {0}")]
    Store(#[from] std::io::Error),
}

impl PlaceError {
    /// Stable code for the pages.
    pub fn code(&self) -> &'static str {
        match self {
            PlaceError::NotNomad => "not-nomad",
            PlaceError::Unknown => "place-unknown",
            PlaceError::Store(_) => "place-store",
        }
    }

    /// The French text for the référent.
    pub fn french(&self) -> &'static str {
        match self {
            PlaceError::NotNomad => {
                "Cette borne n'a pas de lieux : ajoutez-les dans borne.toml, partie [nomad], réglage « places »."
            }
            PlaceError::Unknown => {
                "Ce lieu n'est pas dans la liste des lieux de la borne. Choisissez-en un de la liste."
            }
            PlaceError::Store(_) => {
                "Le lieu n'a pas pu être enregistré. Réessayez ; si cela recommence, prévenez la fédération."
            }
        }
    }
}

/// What `<state>/place.toml` holds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Chosen {
    day: String,
    place: String,
}

fn state_file(state_dir: &Path) -> PathBuf {
    state_dir.join(STATE_FILE)
}

/// The place named `choice` (its name, in any case, with or without accents, or its code).
pub fn find<'a>(places: &'a [Place], choice: &str) -> Option<&'a Place> {
    let code = place_code(choice)?;
    places.iter().find(|p| p.code == code)
}

/// Sets today's place (`day`: today in the centre's time zone, [`today`]) and keeps it for the day.
pub fn set_today(state_dir: &Path, places: &[Place], choice: &str, day: Date) -> Result<Place, PlaceError> {
    if places.is_empty() {
        return Err(PlaceError::NotNomad);
    }
    let place = find(places, choice).ok_or(PlaceError::Unknown)?.clone();
    let body = toml::to_string(&Chosen { day: day.to_string(), place: place.code.clone() })
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let text =
        format!("# Written by the borne (espace référent, bornectl place): today's place of a nomad borne.\n{body}");
    std::fs::create_dir_all(state_dir)?;
    crate::fsutil::write_atomic(&state_file(state_dir), text.as_bytes())?;
    tracing::info!(place = %place.code, "today's place chosen");
    Ok(place)
}

/// Forgets today's place (the borne counts without a place until one is chosen).
pub fn clear_today(state_dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(state_file(state_dir)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Today's place: the one chosen on `day`, if it is still listed. A choice of another day, a broken
/// file or a place no longer listed give `None` (logged, without the place).
pub fn chosen_on(state_dir: &Path, places: &[Place], day: Date) -> Option<Place> {
    let text = std::fs::read_to_string(state_file(state_dir)).ok()?;
    let Ok(c) = toml::from_str::<Chosen>(&text) else {
        tracing::warn!("today's place file is broken; no place");
        return None;
    };
    if c.day != day.to_string() {
        return None;
    }
    let found = places.iter().find(|p| p.code == c.place).cloned();
    if found.is_none() {
        tracing::warn!("today's place is no longer listed in [nomad] places; no place");
    }
    found
}

/// The civil date now in a time zone.
pub fn today(tz: &TimeZone, now: Timestamp) -> Date {
    now.to_zoned_datetime(tz.clone()).date()
}

/// The place the statistics count sessions in: its code and until when it holds (the start of the
/// next day in the centre's time zone, Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceOfDay {
    /// The place's code.
    pub code: String,
    /// Sessions opened from this Unix time on are no longer counted in it.
    pub until_unix: i64,
}

/// Today's place for the statistics (`Recorder::set_place`), from the state file.
pub fn place_of_day(state_dir: &Path, places: &[Place], tz: &TimeZone, now: Timestamp) -> Option<PlaceOfDay> {
    let day = today(tz, now);
    let place = chosen_on(state_dir, places, day)?;
    let until_unix = day
        .tomorrow()
        .ok()
        .and_then(|d| d.to_zoned_datetime(tz.clone()).ok())
        .map_or(now.as_second() + 86_400, |z| z.timestamp().as_second());
    Some(PlaceOfDay { code: place.code, until_unix })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places() -> Vec<Place> {
        ["Médiathèque", "Marché couvert", "Salle n°2"].iter().map(|n| Place::of(n).unwrap()).collect()
    }

    #[test]
    fn codes_are_lower_case_ascii_with_dashes() {
        let codes: Vec<String> = places().into_iter().map(|p| p.code).collect();
        assert_eq!(codes, ["mediatheque", "marche-couvert", "salle-n-2"]);
        assert_eq!(place_code("  L'Œuvre — Ștefan  ").as_deref(), Some("l-oeuvre-stefan"));
        assert_eq!(place_code("مكتبة"), None);
        assert_eq!(place_code("--"), None);
        let long = place_code(&"a b".repeat(40)).unwrap();
        assert!(long.len() <= MAX_PLACE_CODE && !long.ends_with('-'), "{long}");
        assert_eq!(Place::of("  Marché   couvert ").unwrap().name, "Marché couvert");
    }

    #[test]
    fn a_place_is_found_by_name_in_any_case_or_by_code() {
        let p = places();
        assert_eq!(find(&p, "marché couvert").unwrap().code, "marche-couvert");
        assert_eq!(find(&p, "MARCHE-COUVERT").unwrap().name, "Marché couvert");
        assert!(find(&p, "Piscine").is_none());
    }

    #[test]
    fn todays_place_survives_a_restart_that_day_only() {
        let d = tempfile::tempdir().unwrap();
        let p = places();
        let monday: Date = "2026-12-07".parse().unwrap();
        let tuesday: Date = "2026-12-08".parse().unwrap();
        assert!(chosen_on(d.path(), &p, monday).is_none());
        assert!(matches!(set_today(d.path(), &[], "Médiathèque", monday), Err(PlaceError::NotNomad)));
        assert!(matches!(set_today(d.path(), &p, "Piscine", monday), Err(PlaceError::Unknown)));
        assert_eq!(set_today(d.path(), &p, "médiathèque", monday).unwrap().code, "mediatheque");
        // A new process the same day reads it back; the next day there is none.
        assert_eq!(chosen_on(d.path(), &p, monday).unwrap().name, "Médiathèque");
        assert!(chosen_on(d.path(), &p, tuesday).is_none());
        // A place taken off the list is no longer today's.
        assert!(chosen_on(d.path(), &p[1..], monday).is_none());
        clear_today(d.path()).unwrap();
        clear_today(d.path()).unwrap();
        assert!(chosen_on(d.path(), &p, monday).is_none());
        std::fs::write(d.path().join(STATE_FILE), "day = 3\n").unwrap();
        assert!(chosen_on(d.path(), &p, monday).is_none());
    }

    #[test]
    fn the_place_of_the_day_holds_until_local_midnight() {
        let d = tempfile::tempdir().unwrap();
        let p = places();
        let tz = TimeZone::get("Europe/Paris").unwrap();
        // 22:30 UTC on the 7th is 23:30 in Paris: still the 7th there.
        let now: Timestamp = "2026-12-07T22:30:00Z".parse().unwrap();
        assert_eq!(today(&tz, now).to_string(), "2026-12-07");
        set_today(d.path(), &p, "Marché couvert", today(&tz, now)).unwrap();
        let pod = place_of_day(d.path(), &p, &tz, now).unwrap();
        assert_eq!(pod.code, "marche-couvert");
        let midnight: Timestamp = "2026-12-07T23:00:00Z".parse().unwrap();
        assert_eq!(pod.until_unix, midnight.as_second());
        // After midnight in Paris, no place.
        let after: Timestamp = "2026-12-07T23:00:01Z".parse().unwrap();
        assert!(place_of_day(d.path(), &p, &tz, after).is_none());
        assert!(PlaceError::Unknown.french().contains("liste"));
    }
}
