//! French texts the core writes for people: configuration problems (for `bornectl` and the admin
//! screens), load outcomes, and what the push to Matomo and « Tester la connexion » found. Screens take their own texts from `ui/i18n/*.json`; this module is the
//! one place where the core speaks French. Each message says what is wrong and what to write instead.

use crate::diag::{Diagnostic, Problem};
use crate::host::HostRuleError;
use crate::signature::{SignatureError, SIGNATURE_SUFFIX};

impl Diagnostic {
    /// The message for people, in French, with file, line and column. Written here, not in
    /// [`crate::diag`]: the diagnostics sit below the one module that speaks French.
    pub fn french(&self) -> String {
        diagnostic_fr(self)
    }
}

/// "fichier, ligne L, colonne C : message".
pub fn diagnostic_fr(d: &Diagnostic) -> String {
    let file = d.file.file_name().map_or_else(|| d.file.display().to_string(), |f| f.to_string_lossy().into_owned());
    let place = if d.line == 0 { file } else { format!("{file}, ligne {}, colonne {}", d.line, d.column) };
    format!("{place} : {}", problem_fr(&d.problem))
}

/// The French text of one problem.
pub fn problem_fr(p: &Problem) -> String {
    match p {
        Problem::Unreadable(_) => "le fichier ne peut pas être lu. Vérifiez qu'il existe et qu'il n'est pas protégé.".into(),
        Problem::Syntax(_) => "l'écriture n'est pas correcte à cet endroit (guillemet, crochet ou signe = oublié ?). \
             Comparez avec le fichier d'origine : chaque réglage s'écrit « nom = valeur », le texte entre guillemets."
            .into(),
        Problem::UnknownKey { key, suggestion: Some(s) } => {
            format!("le réglage « {key} » n'existe pas. Vouliez-vous écrire « {s} » ?")
        }
        Problem::UnknownKey { key, suggestion: None } => {
            format!("le réglage « {key} » n'existe pas. Supprimez cette ligne ou vérifiez son orthographe.")
        }
        Problem::Type(m) => format!(
            "la valeur n'a pas la bonne forme ou un réglage obligatoire manque ({}). \
             Un texte s'écrit entre guillemets, un nombre sans guillemets, une liste entre crochets.",
            type_hint_fr(m)
        ),
        Problem::DuplicateId { id, first_line } => format!(
            "l'identifiant « {id} » est déjà utilisé ligne {first_line}. Donnez un identifiant différent à chaque tuile."
        ),
        Problem::BadId(id) => format!(
            "l'identifiant « {id} » ne convient pas. Utilisez seulement des minuscules sans accent, des chiffres et des tirets, \
             par exemple « mairie-lilas »."
        ),
        Problem::UnknownTheme(t) => {
            format!("le thème « {t} » n'existe pas. Choisissez un thème de la liste ou créez-le d'abord.")
        }
        Problem::UnknownGroup(g) => format!("le groupe de sites « {g} » n'existe pas. Vérifiez son nom."),
        Problem::UnknownService(s) => format!("la tuile « {s} » n'existe pas. Vérifiez son identifiant."),
        Problem::UnknownPictogram(p) => {
            format!("le pictogramme « {p} » n'existe pas. Choisissez un pictogramme de la liste fournie.")
        }
        Problem::Host(h) => host_fr(h),
        Problem::BadUrl(u) => {
            format!("« {u} » n'est pas une adresse web. Écrivez l'adresse complète, par exemple « https://www.caf.fr/ ».")
        }
        Problem::NotHttps(u) => format!(
            "l'adresse « {u} » doit commencer par « https:// » (connexion sécurisée). \
             Écrivez par exemple « https://www.caf.fr/ »."
        ),
        Problem::BadUpdateUrl { url, why } => update_url_fr(url, why),
        Problem::BadTimeRange(t) => format!(
            "« {t} » n'est pas une plage horaire. Écrivez l'heure de début et l'heure de fin, \
             par exemple « 02:00-05:00 »."
        ),
        Problem::EntryNotCovered { url, .. } => format!(
            "l'adresse « {url} » ne fait pas partie des sites autorisés de cette tuile. \
             Ajoutez son nom de site dans la liste « hosts » (par exemple « www.exemple.fr »)."
        ),
        Problem::OutOfRange { key, min, max } => {
            format!("« {key} » doit être un nombre entre {min} et {max}.")
        }
        Problem::UnknownLanguage(l) => format!(
            "la langue « {l} » n'est pas disponible. Langues possibles : {}.",
            crate::config::KNOWN_LANGUAGES.join(", ")
        ),
        Problem::UnknownTimeZone(z) => format!(
            "« {z} » n'est pas un fuseau horaire connu. Écrivez-le comme « Europe/Paris », « Indian/Reunion » \
             (La Réunion), « America/Guadeloupe », « Indian/Mayotte » ou « America/Cayenne »."
        ),
        Problem::Empty(k) => format!("« {k} » ne doit pas être vide."),
        Problem::Lines { key, min, max } => {
            format!("« {key} » doit avoir de {min} à {max} lignes : une idée par ligne, l'essentiel seulement.")
        }
        Problem::PublicKey(k) => format!(
            "« {k} » n'est pas une clé publique de la fédération. Recopiez la deuxième ligne de son fichier .pub \
             (elle commence par « RW »), sans la couper."
        ),
        Problem::TooLong { key, max } => {
            format!("une ligne de « {key} » dépasse {max} caractères : coupez-la en deux phrases courtes.")
        }
        Problem::Hours(h) => hours_fr(h),
        Problem::ShorterThan { key, value, other, other_value } => format!(
            "« {key} » ({value} secondes) est plus court que « {other} » ({other_value} secondes) : une session \
             accompagnée garde donc {other_value} secondes. Pour lui laisser plus de temps, écrivez un nombre \
             entre {other_value} et {}, par exemple 1800 (30 minutes).",
            crate::config::MAX_ACCOMPANIED_IDLE_SECS
        ),
        Problem::PlaceWithoutCode(name) => format!(
            "le lieu « {name} » ne peut pas servir de nom de lieu : il lui faut au moins une lettre de l'alphabet \
             latin ou un chiffre (la borne en fait le code des statistiques). Écrivez par exemple « Médiathèque »."
        ),
        Problem::PlaceTwice { name, first, first_line } => format!(
            "le lieu « {name} » est le même que « {first} » (ligne {first_line}), aux majuscules, accents ou signes \
             près. Gardez-en un seul, ou donnez-leur des noms différents."
        ),
    }
}

/// The French text of a problem of the opening hours (`[hours]`): what is wrong, what to write.
pub fn hours_fr(h: &crate::diag::HoursError) -> String {
    use crate::diag::HoursError as E;
    let example = "par exemple lundi = \"9:00-12:00, 14:00-17:00\" (ou \"9 h - 12 h\"), \
                   et \"\" si l'accueil est fermé ce jour-là";
    match h {
        E::BadRanges { day, text } => format!(
            "les horaires du {day} « {text} » ne sont pas lisibles. Écrivez l'heure d'ouverture et l'heure de \
             fermeture séparées par un tiret, deux plages au plus séparées par une virgule : {example}."
        ),
        E::EndBeforeStart { day, range } => format!(
            "le {day}, la plage « {range} » finit avant de commencer. Écrivez d'abord l'heure d'ouverture, puis \
             celle de fermeture : {example}."
        ),
        E::Overlap { day, first, second } => format!(
            "le {day}, les plages {first} et {second} se chevauchent. La deuxième doit commencer après la fin de \
             la première, par exemple \"9:00-12:00, 14:00-17:00\", ou n'en écrivez qu'une : \"9:00-17:00\"."
        ),
        E::TooManyRanges { day, count } => format!(
            "le {day} a {count} plages horaires ; la borne en accepte deux au plus (le matin et l'après-midi), \
             {example}."
        ),
        E::UnknownDay(key) => format!(
            "« {key} » n'est ni un jour ni un réglage des horaires. Les jours s'écrivent en français : lundi, \
             mardi, mercredi, jeudi, vendredi, samedi, dimanche."
        ),
        E::DayTwice(day) => {
            format!("le {day} est écrit deux fois dans les horaires. Gardez une seule ligne « {day} = ... ».")
        }
        E::NotText(day) => format!("les horaires du {day} doivent être écrits entre guillemets, {example}."),
        E::NotList => "les fermetures exceptionnelles s'écrivent en liste entre crochets, par exemple \
                       closures = [\"2026-12-24\", \"2026-12-25..2027-01-01\"]."
            .into(),
        E::BadDate(t) => format!(
            "« {t} » n'est pas une date. Écrivez-la année-mois-jour entre guillemets, par exemple \"2026-12-24\" \
             (ou \"24/12/2026\"), ou une période avec deux points entre les deux dates : \"2026-12-25..2027-01-01\"."
        ),
        E::ReversedPeriod(t) => format!(
            "la période « {t} » finit avant de commencer. Écrivez d'abord le premier jour fermé, puis le dernier : \
             \"2026-12-25..2027-01-01\"."
        ),
        E::NotATable => "les horaires s'écrivent dans une partie [hours], un jour par ligne, \
                         par exemple lundi = \"9:00-12:00, 14:00-17:00\"."
            .into(),
        E::TextIgnored => {
            "remarque : les horaires de la partie [hours] sont affichés ; le texte « opening_hours » \
                           de [centre] ne l'est plus. Videz-le (opening_hours = \"\") pour ne plus voir cette remarque."
                .into()
        }
    }
}

fn type_hint_fr(m: &str) -> String {
    if let Some(rest) = m.strip_prefix("missing field ") {
        format!("il manque le réglage « {} »", rest.trim_matches('`'))
    } else if m.starts_with("invalid type") {
        "type de valeur inattendu".into()
    } else {
        "valeur incorrecte".into()
    }
}

fn host_fr(h: &HostRuleError) -> String {
    match h {
        HostRuleError::Empty => "un nom de site est vide. Supprimez la ligne ou écrivez un nom comme « www.caf.fr ».".into(),
        HostRuleError::NotBareHost(s) => format!(
            "« {s} » n'est pas un simple nom de site. Écrivez seulement le nom, sans « https:// », sans chemin ni numéro \
             de port : par exemple « www.caf.fr »."
        ),
        HostRuleError::Invalid(s) => {
            format!("« {s} » n'est pas un nom de site valide. Écrivez un nom comme « www.caf.fr ».")
        }
        HostRuleError::BadWildcard(s) => format!(
            "« {s} » : l'étoile ne peut être qu'au début, suivie d'un point, comme dans « *.caf.fr »."
        ),
        HostRuleError::PublicSuffixWildcard(s, suffix) => format!(
            "« {s} » autoriserait tous les sites en « .{suffix} », ce qui ouvrirait la borne à n'importe qui. \
             Écrivez le nom du site lui-même, par exemple « *.caf.fr » ou « www.caf.fr »."
        ),
        HostRuleError::IpWildcard(s) => {
            format!("« {s} » : une étoile ne peut pas s'appliquer à une adresse IP. Écrivez l'adresse seule.")
        }
    }
}

/// What kind of référent's choice a catalogue update set aside ([`crate::catalogue`] notes them,
/// in French: the kind is defined here, beside its French, so that this module does not depend on
/// the catalogue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetAside {
    /// `hidden`: the tile was hidden.
    Hidden,
    /// `order`: the tile had a place in the order.
    Order,
    /// An own "Avant de commencer" sheet belonged to the tile.
    Sheet,
    /// An own tile was in a national theme an update removed.
    OwnTile,
}

/// The note shown when an update of the national catalogue removed (or renamed) a tile a choice of
/// the référent pointed at: the choice is set aside, never an error.
pub fn set_aside_fr(kind: SetAside, tile: &str) -> String {
    let what = match kind {
        SetAside::Hidden => "votre choix de la masquer est mis de côté",
        SetAside::Order => "sa place dans votre ordre des tuiles est mise de côté",
        SetAside::Sheet => "votre fiche « Avant de commencer » pour cette tuile est mise de côté",
        SetAside::OwnTile => {
            return format!(
                "Votre tuile « {tile} » était rangée dans un thème que le catalogue national n'a plus \
                 (retiré ou renommé par la fédération) : elle est mise de côté. Choisissez-lui un autre \
                 thème dans l'écran « Tuiles »."
            )
        }
    };
    format!(
        "La tuile « {tile} » n'est plus dans le catalogue national (retirée ou renommée par la fédération) : \
         {what}. Vérifiez l'écran « Tuiles »."
    )
}

/// Why a published version of the federation's signed catalogue is refused ([`crate::channel`]
/// decides; known there as `channel::Refusal`). `Display` is the English cause for the log; the
/// French text for people is [`catalogue_refusal_fr`]. Defined here, beside its French, so that this
/// module does not depend on the channel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueRefusal {
    /// No `.minisig` next to the file.
    #[error("{file} is not signed (no {file}{SIGNATURE_SUFFIX})")]
    Unsigned {
        /// Which file.
        file: String,
    },
    /// A signature that does not verify (broken, another key, tampered).
    #[error("{file}: {cause}")]
    Signature {
        /// Which file.
        file: String,
        /// What is wrong with it.
        cause: SignatureError,
    },
    /// The signed comment names another file or version than the file's own.
    #[error("{file}: the signed comment `{comment}` does not name this file and its version")]
    Comment {
        /// Which file.
        file: String,
        /// The trusted comment.
        comment: String,
    },
    /// A file with no `version`.
    #[error("{file} has no version")]
    NoVersion {
        /// Which file.
        file: String,
    },
    /// The two files carry different versions.
    #[error("catalogue.toml is version {catalogue} but demarches.toml is version {demarches}")]
    Mismatch {
        /// The catalogue's.
        catalogue: u64,
        /// The sheets'.
        demarches: u64,
    },
    /// Not newer than the version in force (an old file served again).
    #[error("version {offered} is not newer than version {in_force} in force (replay)")]
    Replay {
        /// The version offered.
        offered: u64,
        /// The version in force.
        in_force: u64,
    },
    /// The files fail the checks of an ordinary load.
    #[error("invalid files: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// Every problem.
        problems: Vec<Diagnostic>,
    },
    /// The files are good but clash with the référent's layer (not by a removed tile).
    #[error("clashes with the référent's files: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Conflict {
        /// Every problem.
        problems: Vec<Diagnostic>,
    },
}

/// Why a version of the federation's signed catalogue was refused, for the Maintenance screen: what
/// happened, that the borne keeps the catalogue in force, and who can fix it.
pub fn catalogue_refusal_fr(r: &CatalogueRefusal) -> String {
    format!(
        "Mise à jour du catalogue refusée : {} La borne garde le catalogue en place. \
         Prévenez votre fédération si ce message reste.",
        catalogue_what(r)
    )
}

/// What is wrong with a version of the signed catalogue, in one French sentence (for the
/// federation's `bornectl catalogue sign` and `verify`, and inside [`catalogue_refusal_fr`]).
pub fn catalogue_problem_fr(r: &CatalogueRefusal) -> String {
    let what = catalogue_what(r);
    let mut c = what.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn catalogue_what(r: &CatalogueRefusal) -> String {
    use CatalogueRefusal as Refusal;
    let what = match r {
        Refusal::Unsigned { file } => format!("le fichier {file} publié par la fédération n'est pas signé."),
        Refusal::Signature { file, cause: SignatureError::OtherKey(_) } => format!(
            "le fichier {file} est signé avec une clé qui n'est pas celle de la fédération inscrite sur la borne."
        ),
        Refusal::Signature { file, cause: SignatureError::Tampered } => {
            format!("le fichier {file} a été modifié après sa signature par la fédération.")
        }
        Refusal::Signature { file, .. } => format!("la signature du fichier {file} est illisible ou abîmée."),
        Refusal::Comment { file, .. } => {
            format!("la signature du fichier {file} ne correspond pas à ce fichier ou à son numéro de version.")
        }
        Refusal::NoVersion { file } => format!("le fichier {file} n'indique pas de numéro de version."),
        Refusal::Mismatch { catalogue, demarches } => format!(
            "le catalogue (version {catalogue}) et les fiches « Avant de commencer » (version {demarches}) \
             ne sont pas de la même version."
        ),
        Refusal::Replay { offered, in_force } if offered == in_force => format!(
            "la version {offered} proposée porte le même numéro que celle en place mais son contenu est différent."
        ),
        Refusal::Replay { offered, in_force } => {
            format!("la version {offered} proposée est plus ancienne que la version {in_force} en place.")
        }
        Refusal::Invalid { problems } => format!(
            "les fichiers contiennent {} : {}",
            if problems.len() > 1 { format!("{} erreurs", problems.len()) } else { "une erreur".into() },
            problems.iter().take(3).map(diagnostic_fr).collect::<Vec<_>>().join(" ; ")
        ),
        Refusal::Conflict { problems } => format!(
            "elle ne s'accorde pas avec les réglages du centre : {}",
            problems.iter().take(3).map(|d| problem_fr(&d.problem)).collect::<Vec<_>>().join(" ; ")
        ),
    };
    what
}

/// Description of the centre's own tile.
pub const CENTRE_TILE_FR: &str = "Le site de votre centre social";

/// "the borne keeps running on the last good version" message.
pub fn kept_last_good_fr(count: usize) -> String {
    let errors = if count > 1 { format!("{count} erreurs") } else { "une erreur".into() };
    format!(
        "La configuration contient {errors}. La borne continue de fonctionner avec la dernière version correcte \
         jusqu'à ce que les erreurs soient corrigées."
    )
}

/// A language's name in French ("l'arabe"), for messages.
pub fn language_fr(code: &str) -> String {
    match code {
        "fr" => "le français".into(),
        "ar" => "l'arabe".into(),
        "en" => "l'anglais".into(),
        "uk" => "l'ukrainien".into(),
        "pt" => "le portugais".into(),
        "ro" => "le roumain".into(),
        other => format!("la langue « {other} »"),
    }
}

/// `bornectl kit --lang` names a language the borne does not offer.
pub fn kit_language_not_offered_fr(lang: &str, offered: &[String]) -> String {
    let others: Vec<String> = offered.iter().filter(|l| *l != "fr").map(|l| format!("« {l} »")).collect();
    let choice = if others.is_empty() {
        "La borne ne propose que le français : ajoutez la langue dans « Centre et réglages » de l'espace          référent (ou [languages] offered dans borne.toml), ou faites le kit en français seul (--lang fr)."
            .to_string()
    } else {
        format!("Choisissez une langue proposée : {}, ou « fr » pour le français seul.", others.join(", "))
    };
    format!("La borne ne propose pas {} : l'affiche la promettrait. {choice}", language_fr(lang))
}

/// Why `url` is not the address of the system's updates: what is wrong and what to write instead.
pub fn update_url_fr(url: &str, why: &crate::updates::UpdateUrlError) -> String {
    use crate::updates::UpdateUrlError as E;
    let example = "par exemple « https://maj.federation.fr/borne/borne.raucb »";
    let shown: String = url.trim().chars().take(80).collect();
    match why {
        E::Empty => format!("l'adresse des mises à jour est vide. Écrivez l'adresse donnée par la fédération, {example}."),
        E::NotAUrl => format!(
            "« {shown} » n'est pas une adresse des mises à jour complète. Écrivez l'adresse donnée par la \
             fédération, {example}."
        ),
        E::NotHttps => format!(
            "l'adresse des mises à jour « {shown} » doit commencer par « https:// » (connexion sécurisée), {example}."
        ),
        E::Credentials => format!(
            "l'adresse des mises à jour ne doit pas contenir de nom d'utilisateur ni de mot de passe (« …@ »).              Écrivez l'adresse donnée par la fédération, {example}."
        ),
        E::QueryOrFragment => format!(
            "l'adresse des mises à jour ne doit contenir ni « ? » ni « # ». Écrivez l'adresse du fichier seule, {example}."
        ),
        E::NotABundle => format!(
            "l'adresse des mises à jour « {shown} » doit finir par le nom d'un fichier « .raucb » (la mise à jour \
             signée de la fédération), {example}."
        ),
        E::Character(c) => format!(
            "l'adresse des mises à jour contient un caractère qui n'est pas accepté (« {c} »). Recopiez \
             l'adresse donnée par la fédération, {example}."
        ),
        E::TooLong => format!(
            "l'adresse des mises à jour est trop longue ({} caractères au plus). Recopiez l'adresse donnée par \
             la fédération, {example}.",
            crate::updates::MAX_UPDATE_URL
        ),
    }
}

/// The screens' French strings (`ui/i18n/fr.json`), built in. The Wi-Fi's words are said the same
/// by the admin screen « Réseau » and by `bornectl wifi`: read from there, not written twice.
const SCREEN_STRINGS_FR: &str = include_str!("../../../ui/i18n/fr.json");

/// One of the screens' French strings by its key, `None` when the file has no such key.
fn screen_fr(key: &str) -> Option<&'static str> {
    static STRINGS: std::sync::OnceLock<std::collections::HashMap<String, String>> = std::sync::OnceLock::new();
    let strings = STRINGS.get_or_init(|| match serde_json::from_str(SCREEN_STRINGS_FR) {
        Ok(map) => map,
        Err(e) => {
            // Only if the built-in file were broken (tests/ui_files.rs parses it).
            tracing::error!(error = %e, "ui/i18n/fr.json unreadable; the Wi-Fi's messages fall back to one sentence");
            std::collections::HashMap::new()
        }
    });
    strings.get(key).map(String::as_str)
}

/// What the admin screen says of a Wi-Fi error (`admin.wifi.error.<code>`), for `bornectl wifi`.
pub fn wifi_error_fr(e: &crate::wifi::WifiError) -> &'static str {
    screen_fr(&format!("admin.wifi.error.{}", e.code()))
        .unwrap_or("Le Wi-Fi n'a pas pu être réglé. Recommencez ; si cela continue, contactez la fédération.")
}

/// The Wi-Fi card's state in words (`admin.wifi.state.<state>`, the network's name filled in).
pub fn wifi_state_fr(state: crate::wifi::WifiState, ssid: Option<&str>) -> String {
    let code = match state {
        crate::wifi::WifiState::NoDevice => "no-device",
        crate::wifi::WifiState::RadioOff => "radio-off",
        crate::wifi::WifiState::Disconnected => "disconnected",
        crate::wifi::WifiState::Connecting => "connecting",
        crate::wifi::WifiState::Connected => "connected",
    };
    let text = screen_fr(&format!("admin.wifi.state.{code}")).unwrap_or(code);
    text.replace("{ssid}", ssid.unwrap_or("?"))
}

/// How a network is protected, in words (`admin.wifi.security.<security>`).
pub fn wifi_security_fr(security: crate::wifi::Security) -> &'static str {
    let code = match security {
        crate::wifi::Security::Open => "open",
        crate::wifi::Security::Owe => "owe",
        crate::wifi::Security::Personal => "personal",
        crate::wifi::Security::Wpa3Personal => "wpa3-personal",
        crate::wifi::Security::Enterprise => "enterprise",
        crate::wifi::Security::Wep => "wep",
    };
    screen_fr(&format!("admin.wifi.security.{code}")).unwrap_or("?")
}

/// Whether the internet answers, in words (`admin.wifi.connectivity.<state>`).
pub fn wifi_connectivity_fr(c: crate::wifi::Connectivity) -> &'static str {
    let code = match c {
        crate::wifi::Connectivity::Full => "full",
        crate::wifi::Connectivity::Portal => "portal",
        crate::wifi::Connectivity::Limited => "limited",
        crate::wifi::Connectivity::None => "none",
        crate::wifi::Connectivity::Unknown => "unknown",
    };
    screen_fr(&format!("admin.wifi.connectivity.{code}")).unwrap_or("?")
}

/// « Câble réseau branché » (`admin.wifi.wired`).
pub fn wifi_wired_fr() -> &'static str {
    screen_fr("admin.wifi.wired").unwrap_or("Câble réseau branché")
}

/// One of the « Réseau » screen's own words (`admin.network.<key>`, placeholders filled in from
/// `values`), for `bornectl wifi`.
pub fn network_screen_fr(key: &str, values: &[(&str, &str)]) -> String {
    let text = screen_fr(&format!("admin.network.{key}")).unwrap_or(key);
    values.iter().fold(text.to_owned(), |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v))
}

/// Why the borne did not power off after closing, for the référent and the federation reading
/// `bornectl power-off`'s answer or the journal (`crate::power_off`).
pub fn power_off_fr(e: &crate::power_off::PowerOffError) -> String {
    use crate::power_off::PowerOffError as E;
    let when = |t: &jiff::Timestamp| date_time_fr(&t.to_zoned_datetime(jiff::tz::TimeZone::system()).datetime());
    match e {
        E::Unreadable(_) | E::Malformed(_) | E::Stale { .. } => {
            "La demande d'extinction de la borne n'est pas lisible ou trop ancienne : la borne reste allumée.".into()
        }
        E::TooSoon { .. } => {
            "L'heure de rallumage demandée est trop proche : la borne reste allumée (écran éteint).".into()
        }
        E::TooFar { .. } => {
            "L'heure de rallumage demandée est à plus de 7 jours : la borne reste allumée (écran éteint).".into()
        }
        E::Settings(_) => "Les réglages de la borne contiennent des erreurs (bornectl check-config) : la borne \
             ne s'éteint pas toute seule tant qu'elles ne sont pas corrigées."
            .into(),
        E::NotEnabled => "L'extinction après la fermeture n'est pas activée (réglage « power_off » de la partie \
             [hours]) : la borne reste allumée."
            .into(),
        E::OpenNow => "Le centre est ouvert d'après les horaires : la borne ne s'éteint pas.".into(),
        E::NoOpening => "Les horaires ne prévoient aucune ouverture : la borne ne s'éteint pas, faute de savoir \
             quand se rallumer."
            .into(),
        E::AfterOpening { opening, .. } => format!(
            "L'heure de rallumage demandée tombe après l'ouverture du {} : la borne reste allumée.",
            when(opening)
        ),
        E::Alarm(_) | E::AlarmNotSet { .. } => "L'horloge de l'ordinateur n'a pas accepté l'heure de rallumage : \
             la borne reste allumée (écran éteint). Vérifiez dans le BIOS/UEFI que le réveil par l'horloge \
             (« Wake on RTC », « Resume by Alarm ») est activé et réglé par le système."
            .into(),
        E::PowerOff(_) => "La borne n'a pas pu s'éteindre : elle reste allumée (écran éteint).".into(),
    }
}

/// The borne powers off now, and when it will come back on.
pub fn power_off_done_fr(wake_at: &jiff::Timestamp) -> String {
    let wake = date_time_fr(&wake_at.to_zoned_datetime(jiff::tz::TimeZone::system()).datetime());
    format!("La borne s'éteint ; elle se rallumera seule le {wake}.")
}

/// « Tester la connexion » went well.
pub const MATOMO_TEST_OK: &str = "Connexion réussie : Matomo accepte les statistiques de cette borne.";
/// « Tester la connexion » with no token saved.
pub const MATOMO_TEST_NO_TOKEN: &str = "La clé d'accès manque : indiquez-la puis enregistrez.";
/// Saving the Matomo settings: the address is not https.
pub const MATOMO_SAVE_BAD_URL: &str = "L'adresse doit commencer par https://";
/// Saving the Matomo settings: no site number.
pub const MATOMO_SAVE_NO_SITE: &str = "Indiquez le numéro du site (donné par la fédération).";
/// Saving the Matomo settings: no token given and none saved.
pub const MATOMO_SAVE_NO_TOKEN: &str = "Indiquez la clé d'accès (donnée par la fédération).";
/// Saving the Matomo settings: the files could not be written.
pub const MATOMO_SAVE_FAILED: &str = "Les réglages n'ont pas pu être enregistrés.";
/// A USB stick gave no answer in time (export, logo).
pub const USB_STICK_SLOW: &str = "La clé USB ne répond pas. Retirez-la, rebranchez-la, puis recommencez.";

/// The codes of the push status and of the connection test that have their own message (see
/// [`matomo_code_fr`]).
pub const MATOMO_CODES: [&str; 11] = [
    "ok",
    "unreachable",
    "not-matomo",
    "bad-token",
    "wrong-site",
    "no-access",
    "no-answer",
    "server-error",
    "refused",
    "lookup-unclear",
    "not-configured",
];

/// French text for a status code of the push or of « Tester la connexion » (`ApiError::code`,
/// `PushError::code`). Each problem the référent can fix names what to check; a problem that goes away
/// by itself says so, once, with « rien n'est perdu ».
pub fn matomo_code_fr(code: &str) -> &'static str {
    match code {
        "ok" => "Connexion réussie : Matomo accepte les statistiques de cette borne.",
        "unreachable" => {
            "Le serveur Matomo est injoignable pour le moment (réseau coupé ou serveur arrêté) : \
             la borne réessaiera toute seule, rien n'est perdu."
        }
        "not-matomo" => {
            "L'adresse indiquée répond, mais pas comme un serveur Matomo : vérifiez l'adresse avec votre fédération."
        }
        "bad-token" => "Matomo refuse la clé d'accès : demandez une nouvelle clé à votre fédération.",
        // "unknown-site": the code of earlier versions, still in the status of a borne not pushed since.
        "wrong-site" | "unknown-site" => {
            "La clé d'accès est bonne, mais le numéro de site est faux ou appartient à une autre borne : \
             vérifiez le numéro de site avec votre fédération."
        }
        "no-access" => {
            "La clé d'accès est bonne, mais elle n'a pas le droit d'écrire sur ce site Matomo : \
             demandez à votre fédération de donner ce droit."
        }
        "no-answer" | "server-error" | "refused" => {
            "Le serveur Matomo n'a pas répondu correctement : la borne réessaiera toute seule, rien n'est perdu."
        }
        "lookup-unclear" => {
            "Matomo ne permet pas encore de savoir si un envoi interrompu est arrivé : la borne n'envoie rien \
             qui pourrait être compté deux fois et vérifiera de nouveau, rien n'est perdu. \
             Si ce message reste plusieurs jours, prévenez votre fédération."
        }
        "not-configured" => "Les statistiques ne sont pas encore reliées à Matomo (adresse, numéro de site ou clé).",
        _ => "Problème d'envoi des statistiques : la borne réessaiera toute seule, rien n'est perdu.",
    }
}

/// An alert on a borne of the federation's fleet ([`crate::health::fleet`] raises it; known
/// there as `fleet::Alert`). Defined here, beside its French ([`fleet_alert_fr`]), so that this
/// module does not depend on the fleet's table, which is written in French.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum FleetAlert {
    /// No report for more than 48 h.
    Silent,
    /// The backlog keeps growing.
    BacklogGrowing,
    /// The printer has been down for a day.
    PrinterDown,
    /// The last update was rolled back.
    Rollback,
    /// Older than the newest version in the fleet (which is given).
    OldVersion(String),
}

/// French text of a fleet alert (`bornectl fleet`).
pub fn fleet_alert_fr(a: &FleetAlert) -> String {
    use FleetAlert as Alert;
    match a {
        Alert::Silent => "Muette depuis plus de 48 h".into(),
        Alert::BacklogGrowing => "Envois en retard qui s'accumulent".into(),
        Alert::PrinterDown => "Imprimante en panne depuis plus d'un jour".into(),
        Alert::Rollback => "Mise à jour annulée : retour à la version précédente".into(),
        Alert::OldVersion(newest) => format!("Version ancienne (la plus récente du parc : {newest})"),
    }
}

/// French text of a band of a health report, as the fleet report shows it.
pub fn fleet_band_fr(band: &str) -> String {
    match band {
        "never" => "jamais".into(),
        "lt1h" => "moins d'1 h".into(),
        "1-6h" => "1 à 6 h".into(),
        "6-24h" => "6 à 24 h".into(),
        "1-2d" => "1 à 2 jours".into(),
        "2-7d" => "2 à 7 jours".into(),
        "gt7d" => "plus de 7 jours".into(),
        "0" => "rien".into(),
        "lt100" => "moins de 100".into(),
        "lt1000" => "100 à 999".into(),
        "lt10000" => "1 000 à 9 999".into(),
        "gt10000" => "10 000 ou plus".into(),
        "lt1g" => "moins de 1 Go".into(),
        "1-5g" => "1 à 5 Go".into(),
        "5-20g" => "5 à 20 Go".into(),
        "gt20g" => "plus de 20 Go".into(),
        "unknown" => "inconnu".into(),
        other => other.into(),
    }
}

/// French text of the printer's state in a health report.
pub fn fleet_printer_fr(code: &str) -> &'static str {
    match code {
        "ok" => "prête",
        "down" => "en panne",
        "none" => "aucune",
        _ => "inconnue",
    }
}

/// The printer's test page ([`crate::printers::test_page`]), in French: its title, the borne's name,
/// what to check, and its footer. Drawn with the PDF standard fonts (Latin characters only); each
/// line fits an A4 page's width at 12 pt.
pub const TEST_PAGE_TITLE: &str = "Page de test de l'imprimante";
/// The borne's name under the title.
pub const TEST_PAGE_BORNE: &str = "Borne « Le numérique à mon service »";
/// What the page says under the facts.
pub const TEST_PAGE_BODY: [&str; 5] = [
    "Si vous lisez cette page, l'imprimante fonctionne avec la borne.",
    "",
    "Vérifiez que les quatre côtés du cadre sont imprimés, que les gris ci-dessous",
    "vont régulièrement du plus clair au plus foncé, et que les lettres accentuées",
    "sont lisibles :",
];
/// The accented letters the page prints (every one in the standard fonts' encoding).
pub const TEST_PAGE_ACCENTS: &str = "à â ç é è ê ë î ï ô ù û ü ÿ œ æ À Ç É È Ê Ô Œ « » €";
/// The page's last line.
pub const TEST_PAGE_FOOTER: &str = "Cette page ne contient aucune donnée personnelle : vous pouvez la jeter.";

/// The test page's facts: the centre, the printer, when it was printed.
pub fn test_page_facts_fr(centre: &str, printer: &str, when: &str) -> [String; 3] {
    [format!("Centre : {centre}"), format!("Imprimante : {printer}"), format!("Imprimée le {when}")]
}

/// A date and time in French, as a person reads it: « 7 décembre 2026 à 14 h 03 ».
pub fn date_time_fr(t: &jiff::civil::DateTime) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let month = MONTHS[usize::try_from(t.month() - 1).unwrap_or(0).min(11)];
    let day = if t.day() == 1 { "1er".to_owned() } else { t.day().to_string() };
    format!("{day} {month} {} à {} h {:02}", t.year(), t.hour(), t.minute())
}

/// Why `borne --audit-catalogue` cannot run, in French (the English log line says the cause).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditStop {
    /// Neither the current files nor a last good copy load.
    Config,
    /// The output folder cannot be made or written.
    Output,
    /// The history file beside the report is not one this program wrote.
    History,
    /// No display to open pages on.
    Display,
    /// The recording gate could not start.
    Gate,
}

/// The French message for an [`AuditStop`], with what to do; `path` is the folder or file concerned.
pub fn audit_stop_fr(stop: AuditStop, path: &str) -> String {
    match stop {
        AuditStop::Config => format!(
            "Veille impossible : la configuration de {path} ne se charge pas et aucune version correcte n'a été \
             gardée. Corrigez-la (bornectl check-config dit quoi) puis relancez la veille."
        ),
        AuditStop::Output => format!(
            "Veille impossible : le dossier {path} ne peut pas être créé ou écrit. Choisissez un dossier où vous \
             avez le droit d'écrire."
        ),
        AuditStop::History => format!(
            "Veille impossible : l'historique {path} n'est pas lisible. Déplacez-le (la veille repartira sans \
             historique) ou remettez la version précédente."
        ),
        AuditStop::Display => format!(
            "Veille impossible : pas d'écran pour ouvrir les pages. Lancez-la sous un affichage, par exemple \
             « xvfb-run borne --audit-catalogue {path} »."
        ),
        AuditStop::Gate => "Veille impossible : le relais réseau local n'a pas pu démarrer. Réessayez.".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn each_matomo_problem_has_its_own_message_and_says_nothing_is_lost_once_at_most() {
        let texts: Vec<&str> = MATOMO_CODES.iter().map(|c| matomo_code_fr(c)).collect();
        for (i, code) in MATOMO_CODES.iter().enumerate() {
            let t = texts[i];
            assert!(t.len() > 30, "{code}: {t}");
            assert!(t.matches("perdu").count() <= 1, "{code}: {t}");
            if ["no-answer", "server-error", "refused"].contains(code) {
                continue;
            }
            let same: Vec<&&str> = MATOMO_CODES.iter().filter(|c| matomo_code_fr(c) == t).collect();
            assert_eq!(same.len(), 1, "{code} shares its message with {same:?}");
        }
        // A wrong site is not reported as a wrong key.
        assert!(matomo_code_fr("wrong-site").contains("numéro de site"));
        assert!(!matomo_code_fr("wrong-site").contains("nouvelle clé"));
        assert_eq!(matomo_code_fr("unknown-site"), matomo_code_fr("wrong-site"));
    }

    #[test]
    fn the_wifi_words_are_the_admin_screens_own_for_every_code_state_and_security() {
        use crate::wifi::{Connectivity, Security, WifiError, WifiState};
        let errors = [
            WifiError::NoDevice(String::new()),
            WifiError::NotRunning(String::new()),
            WifiError::WrongPassword(String::new()),
            WifiError::NotInRange(String::new()),
            WifiError::NoAddress(String::new()),
            WifiError::Timeout(String::new()),
            WifiError::BadPassword,
            WifiError::BadSsid,
            WifiError::Unsupported(Security::Wep),
            WifiError::NotAllowed(String::new()),
            WifiError::RadioOff,
            WifiError::NotSaved(String::new()),
            WifiError::Failed(String::new()),
        ];
        assert_eq!(errors.len(), WifiError::CODES.len());
        let strings: std::collections::HashMap<String, String> = serde_json::from_str(SCREEN_STRINGS_FR).unwrap();
        for e in &errors {
            assert_eq!(
                Some(wifi_error_fr(e)),
                strings.get(&format!("admin.wifi.error.{}", e.code())).map(String::as_str)
            );
        }
        assert_eq!(
            wifi_error_fr(&WifiError::WrongPassword("x".into())),
            "Le mot de passe du Wi-Fi n'est pas le bon. Vérifiez-le (majuscules, chiffres, signes) et recommencez."
        );
        assert_eq!(wifi_state_fr(WifiState::Connected, Some("Tilleuls")), "Connectée au Wi-Fi « Tilleuls »");
        for s in [WifiState::NoDevice, WifiState::RadioOff, WifiState::Disconnected, WifiState::Connecting] {
            let t = wifi_state_fr(s, Some("x"));
            assert!(t.len() > 8 && !t.contains('{'), "{s:?}: {t}");
        }
        for s in [
            Security::Open,
            Security::Owe,
            Security::Personal,
            Security::Wpa3Personal,
            Security::Enterprise,
            Security::Wep,
        ] {
            assert_ne!(wifi_security_fr(s), "?", "{s:?}");
        }
        for c in
            [Connectivity::Full, Connectivity::Portal, Connectivity::Limited, Connectivity::None, Connectivity::Unknown]
        {
            assert_ne!(wifi_connectivity_fr(c), "?", "{c:?}");
        }
        assert_eq!(network_screen_fr("signal", &[("signal", "72")]), "signal 72 %");
    }

    #[test]
    fn every_power_off_refusal_says_the_borne_stays_on_and_the_opening_is_dated() {
        use crate::power_off::PowerOffError as E;
        let t = jiff::Timestamp::from_second(1_796_716_800).unwrap();
        let all = [
            E::Unreadable("x".into()),
            E::Malformed("x".into()),
            E::Stale { age_secs: 400 },
            E::TooSoon { wake_at: t },
            E::TooFar { wake_at: t },
            E::Settings("x".into()),
            E::NotEnabled,
            E::OpenNow,
            E::NoOpening,
            E::AfterOpening { wake_at: t, opening: t },
            E::Alarm("x".into()),
            E::AlarmNotSet { expected: 1, found: String::new() },
            E::PowerOff("x".into()),
        ];
        for e in &all {
            let fr = power_off_fr(e);
            assert!(fr.contains("allumée") || fr.contains("ne s'éteint pas"), "{e:?}: {fr}");
        }
        assert!(power_off_fr(&all[9]).contains(" 2026 à "), "{}", power_off_fr(&all[9]));
        assert!(power_off_fr(&all[10]).contains("Wake on RTC"));
        assert!(power_off_done_fr(&t).starts_with("La borne s'éteint ; elle se rallumera seule le "));
    }

    #[test]
    fn french_message_names_file_line_and_fix() {
        let d = Diagnostic {
            file: PathBuf::from("/etc/borne/catalogue.toml"),
            line: 12,
            column: 7,
            problem: Problem::NotHttps("http://www.caf.fr/".into()),
        };
        let fr = d.french();
        assert!(fr.starts_with("catalogue.toml, ligne 12, colonne 7 : "), "{fr}");
        assert!(fr.contains("https://"), "{fr}");
    }

    #[test]
    fn every_problem_has_french_text() {
        let all = [
            Problem::Unreadable("x".into()),
            Problem::Syntax("x".into()),
            Problem::UnknownKey { key: "nmae".into(), suggestion: Some("name".into()) },
            Problem::Type("missing field `url`".into()),
            Problem::DuplicateId { id: "caf".into(), first_line: 3 },
            Problem::BadId("Caf!".into()),
            Problem::UnknownTheme("x".into()),
            Problem::UnknownGroup("x".into()),
            Problem::UnknownService("x".into()),
            Problem::UnknownPictogram("x".into()),
            Problem::Host(HostRuleError::PublicSuffixWildcard("*.fr".into(), "fr".into())),
            Problem::BadUrl("x".into()),
            Problem::EntryNotCovered { url: "https://a.fr/".into(), reason: "r".into() },
            Problem::OutOfRange { key: "k".into(), min: 1, max: 2 },
            Problem::UnknownLanguage("xx".into()),
            Problem::Empty("name".into()),
            Problem::UnknownTimeZone("Paris".into()),
            Problem::Lines { key: "steps".into(), min: 3, max: 7 },
            Problem::TooLong { key: "steps".into(), max: 110 },
            Problem::PublicKey("RWx".into()),
            Problem::Hours(crate::diag::HoursError::BadDate("2026-13-01".into())),
            Problem::Hours(crate::diag::HoursError::TextIgnored),
            Problem::ShorterThan {
                key: "session.accompanied_idle_secs".into(),
                value: 60,
                other: "session.idle_timeout_secs".into(),
                other_value: 300,
            },
            Problem::PlaceWithoutCode("مكتبة".into()),
            Problem::PlaceTwice { name: "marche couvert".into(), first: "Marché couvert".into(), first_line: 4 },
        ];
        for p in all {
            let fr = problem_fr(&p);
            assert!(fr.len() > 20, "{p:?}: {fr}");
            assert!(!fr.contains("TOML"), "no jargon for people: {fr}");
        }
    }

    #[test]
    fn dates_are_said_as_a_person_reads_them() {
        let t: jiff::civil::DateTime = "2026-12-07T14:03".parse().unwrap();
        assert_eq!(date_time_fr(&t), "7 décembre 2026 à 14 h 03");
        let t: jiff::civil::DateTime = "2027-08-01T09:00".parse().unwrap();
        assert_eq!(date_time_fr(&t), "1er août 2027 à 9 h 00");
    }
}
