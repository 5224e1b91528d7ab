//! Read aloud (« Écouter », « Lire la sélection »): which offline voice speaks which language, what
//! text is spoken (cleaned, cut to a length a person listens to), at what volume, and the command
//! line of the synthesizer. Pure: the shell (`src-tauri/src/speech.rs`) runs the process, one
//! utterance at a time, and stops it at the end of the session.
//!
//! The voice is espeak-ng's own, from Debian's `espeak-ng` package: offline, in every language the
//! portal offers, never a cloud service. The text reaches it on its standard input (never in its
//! command line, where `ps` would show it, nor in a file); by default it plays on the sound card
//! itself (espeak-ng's audio output: PulseAudio if one runs, else ALSA's default device). For the
//! tests, [`OUT_ENV`] names a WAV file espeak-ng writes instead.
//!
//! Nothing here logs: the text a person has read is theirs.

use std::ffi::OsString;
use std::path::PathBuf;

use serde::Serialize;

/// The synthesizer (Debian's `espeak-ng`).
pub const PROGRAM: &str = "espeak-ng";

/// `BORNE_SPEECH_OUT=/path/file.wav`: speech written to that WAV file instead of the sound card
/// (tests, benchmarks). Each utterance replaces the file.
pub const OUT_ENV: &str = "BORNE_SPEECH_OUT";

/// Most characters read from a kiosk page at once (a portal of twenty tiles with their
/// descriptions is about 3 000); the rest is cut at a word's end.
pub const MAX_PAGE_CHARS: usize = 6000;

/// Most characters read from a person's selection on a site (a few paragraphs, about three
/// minutes of speech).
pub const MAX_SELECTION_CHARS: usize = 3000;

/// Words per minute: slower than espeak-ng's 175, for people learning the language.
pub const RATE_WPM: u32 = 150;

/// The voice of each language the portal offers (espeak-ng's voice names). Portuguese is
/// Portugal's (`pt`), the variant most people at the centres speak; English is British.
const VOICES: [(&str, &str); 6] =
    [("fr", "fr"), ("ar", "ar"), ("en", "en-gb"), ("uk", "uk"), ("pt", "pt"), ("ro", "ro")];

/// The espeak-ng voice for a language tag (`fr`, `ar`, `pt-PT`, `en_GB`…), by its primary subtag;
/// `None` for a language the kiosk has no voice for.
pub fn voice_for(lang: &str) -> Option<&'static str> {
    let primary = lang.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    VOICES.iter().find(|(l, _)| *l == primary).map(|(_, v)| *v)
}

/// The voice for a text in `lang`, else for the language the person chose (`session`), else French.
pub fn voice_or(lang: Option<&str>, session: &str) -> &'static str {
    lang.and_then(voice_for).or_else(|| voice_for(session)).unwrap_or("fr")
}

/// Volume of the voice: five steps, the third by default. It is espeak-ng's amplitude (its own
/// scale, 100 its default), so the sound card's mixer is never touched and nothing outlives the
/// session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Volume(u8);

impl Volume {
    /// The step each session starts at.
    pub const DEFAULT: Volume = Volume(3);
    /// The loudest step.
    pub const MAX: u8 = 5;
    const AMPLITUDE: [u32; 5] = [35, 65, 100, 140, 190];

    /// The step `level` (1 to [`Volume::MAX`]), or `None` outside.
    pub fn from_level(level: u8) -> Option<Volume> {
        (1..=Self::MAX).contains(&level).then_some(Volume(level))
    }

    /// The step, 1 to [`Volume::MAX`].
    pub fn level(self) -> u8 {
        self.0
    }

    /// One step louder or softer (`delta` is clamped to the scale).
    pub fn step(self, delta: i8) -> Volume {
        let l = (i16::from(self.0) + i16::from(delta)).clamp(1, i16::from(Self::MAX));
        Volume(u8::try_from(l).unwrap_or(Self::DEFAULT.0))
    }

    /// espeak-ng's `-a` amplitude for this step.
    pub fn amplitude(self) -> u32 {
        Self::AMPLITUDE[usize::from(self.0.clamp(1, Self::MAX) - 1)]
    }
}

impl Default for Volume {
    fn default() -> Self {
        Volume::DEFAULT
    }
}

/// Where the sound goes (the voice's, and the countdown's chime: `crate::tone`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The sound card (espeak-ng's own audio output; `aplay` for the chime).
    Device,
    /// A WAV file ([`OUT_ENV`]), for tests.
    WavFile(PathBuf),
}

impl Output {
    /// From the value of [`OUT_ENV`]: a file when it is set and not empty.
    pub fn from_env_value(value: Option<OsString>) -> Output {
        match value {
            Some(v) if !v.is_empty() => Output::WavFile(PathBuf::from(v)),
            _ => Output::Device,
        }
    }
}

/// Why nothing is spoken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpeechError {
    /// The page or selection holds nothing to read (no letter, no digit).
    #[error("nothing to read")]
    Nothing,
}

impl SpeechError {
    /// The code the toolbar turns into text (`speech.error.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            SpeechError::Nothing => "nothing",
        }
    }
}

/// One thing to say: the voice, the cleaned text, the volume.
#[derive(Clone, PartialEq, Eq)]
pub struct Utterance {
    /// espeak-ng's voice name.
    pub voice: &'static str,
    /// The text, cleaned by [`prepare`] (written to espeak-ng's standard input).
    pub text: String,
    /// The session's volume.
    pub volume: Volume,
}

impl std::fmt::Debug for Utterance {
    // The text stays out of any debug output: a person's selection may be anything.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Utterance")
            .field("voice", &self.voice)
            .field("chars", &self.text.chars().count())
            .field("volume", &self.volume)
            .finish()
    }
}

impl Utterance {
    /// What to say for `raw` (page text or selection), cut at `max_chars`, in `voice`.
    pub fn new(raw: &str, max_chars: usize, voice: &'static str, volume: Volume) -> Result<Utterance, SpeechError> {
        let text = prepare(raw, max_chars).ok_or(SpeechError::Nothing)?;
        Ok(Utterance { voice, text, volume })
    }

    /// espeak-ng's arguments (the text is not among them: it goes to the standard input).
    pub fn args(&self, out: &Output) -> Vec<OsString> {
        let mut a: Vec<OsString> = vec![
            "-v".into(),
            self.voice.into(),
            "-a".into(),
            self.volume.amplitude().to_string().into(),
            "-s".into(),
            RATE_WPM.to_string().into(),
            // The input is UTF-8.
            "-b".into(),
            "1".into(),
        ];
        if let Output::WavFile(path) = out {
            a.push("-w".into());
            a.push(path.clone().into_os_string());
        }
        a.push("--stdin".into());
        a
    }
}

/// Characters that end a spoken clause: a line that ends with none gets a full stop, so a tile's
/// name and its description are two sentences, not one run-on line.
const CLAUSE_END: &[char] = &['.', '!', '?', ':', ';', '…', '؟', '؛', '。'];

/// The text as espeak-ng should get it, or `None` when there is nothing to read: control and
/// invisible formatting characters dropped, spaces collapsed, empty lines dropped, each line
/// ended as a sentence, and cut at `max_chars` on a word's end.
pub fn prepare(raw: &str, max_chars: usize) -> Option<String> {
    let mut lines: Vec<String> = Vec::new();
    for line in raw.lines() {
        let kept: String = line
            .chars()
            .filter_map(|c| if c.is_whitespace() { Some(' ') } else { (!is_dropped(c)).then_some(c) })
            .collect();
        let words: Vec<&str> = kept.split(' ').filter(|w| !w.is_empty()).collect();
        if words.is_empty() {
            continue;
        }
        let mut l = words.join(" ");
        if !l.ends_with(CLAUSE_END) {
            l.push('.');
        }
        lines.push(l);
    }
    let text = lines.join("\n");
    if !text.chars().any(char::is_alphanumeric) {
        return None;
    }
    Some(cut(&text, max_chars))
}

/// Control characters (the line structure is already taken) and the invisible formatting
/// characters a page may hold (zero-width spaces, soft hyphens). Direction marks stay out of
/// espeak-ng too; the letters carry their direction.
fn is_dropped(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// `text` cut to `max` characters at the last space (or line end) before the limit.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some_and(|c| c == ' ' || c == '\n') {
        return head.trim_end().to_string();
    }
    match head.rfind([' ', '\n']) {
        Some(i) if i > 0 => head[..i].trim_end().to_string(),
        _ => head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_portal_language_has_a_voice() {
        for lang in ["fr", "ar", "en", "uk", "pt", "ro"] {
            assert!(voice_for(lang).is_some(), "{lang}");
        }
        assert_eq!(voice_for("fr-FR"), Some("fr"));
        assert_eq!(voice_for("pt_PT"), Some("pt"));
        assert_eq!(voice_for("AR"), Some("ar"));
        assert_eq!(voice_for("en"), Some("en-gb"));
        assert_eq!(voice_for("de"), None);
        assert_eq!(voice_for(""), None);
    }

    #[test]
    fn a_text_of_unknown_language_takes_the_persons_then_french() {
        assert_eq!(voice_or(Some("de"), "ar"), "ar");
        assert_eq!(voice_or(None, "uk"), "uk");
        assert_eq!(voice_or(Some("fr"), "ar"), "fr");
        assert_eq!(voice_or(Some(""), "xx"), "fr");
    }

    #[test]
    fn lines_become_sentences_and_spaces_collapse() {
        let raw = "  CAF  \n\n Vos aides,\tvos attestations \n Impôts : \nÊtes-vous là ?\n";
        assert_eq!(prepare(raw, 1000).unwrap(), "CAF.\nVos aides, vos attestations.\nImpôts :\nÊtes-vous là ?");
    }

    #[test]
    fn arabic_keeps_its_letters_and_question_mark() {
        let raw = "\u{200F}هل أنت هنا؟\nالمساعدة";
        assert_eq!(prepare(raw, 1000).unwrap(), "هل أنت هنا؟\nالمساعدة.");
    }

    #[test]
    fn invisible_and_control_characters_are_dropped() {
        let raw = "em\u{00AD}ploi\u{200B} \u{0007}Pôle\u{FEFF}";
        assert_eq!(prepare(raw, 1000).unwrap(), "emploi Pôle.");
    }

    #[test]
    fn nothing_to_read_is_an_error() {
        assert_eq!(prepare("  \n\t \u{200B}", 100), None);
        assert_eq!(prepare("— … ·", 100), None);
        assert_eq!(Utterance::new(" ", 100, "fr", Volume::DEFAULT).unwrap_err(), SpeechError::Nothing);
        assert_eq!(SpeechError::Nothing.code(), "nothing");
    }

    #[test]
    fn long_text_is_cut_at_a_word_end() {
        let raw = "un deux trois quatre cinq";
        assert_eq!(prepare(raw, 11).unwrap(), "un deux");
        assert_eq!(prepare(raw, 13).unwrap(), "un deux trois");
        let long = "mot ".repeat(5000);
        let p = prepare(&long, MAX_SELECTION_CHARS).unwrap();
        assert!(p.chars().count() <= MAX_SELECTION_CHARS);
        assert!(p.ends_with("mot"));
        // One word longer than the limit is cut inside it rather than dropped.
        assert_eq!(prepare(&"a".repeat(50), 10).unwrap(), "a".repeat(10));
        // Multi-byte letters are counted as characters, never split.
        assert_eq!(prepare(&"é".repeat(20), 5).unwrap(), "ééééé");
    }

    #[test]
    fn volume_steps_stay_on_the_scale() {
        let v = Volume::DEFAULT;
        assert_eq!(v.level(), 3);
        assert_eq!(v.amplitude(), 100);
        assert_eq!(v.step(1).level(), 4);
        assert_eq!(v.step(-1).step(-1).step(-1).level(), 1);
        assert_eq!(v.step(100).level(), Volume::MAX);
        assert_eq!(v.step(-100).amplitude(), 35);
        assert_eq!(Volume::from_level(0), None);
        assert_eq!(Volume::from_level(6), None);
        assert_eq!(Volume::from_level(5).map(Volume::amplitude), Some(190));
        let amps: Vec<u32> = (1..=Volume::MAX).map(|l| Volume::from_level(l).unwrap().amplitude()).collect();
        assert!(amps.windows(2).all(|w| w[0] < w[1]), "louder at each step: {amps:?}");
    }

    #[test]
    fn command_line_never_holds_the_text() {
        let u = Utterance::new("Bonjour secret", 100, "fr", Volume::DEFAULT.step(1)).unwrap();
        let args = u.args(&Output::Device);
        let s: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(s, ["-v", "fr", "-a", "140", "-s", "150", "-b", "1", "--stdin"]);
        assert!(!s.iter().any(|a| a.contains("Bonjour")));
        let w = u.args(&Output::WavFile("/tmp/x.wav".into()));
        let s: Vec<String> = w.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(&s[8..], ["-w", "/tmp/x.wav", "--stdin"]);
    }

    #[test]
    fn output_from_the_environment() {
        assert_eq!(Output::from_env_value(None), Output::Device);
        assert_eq!(Output::from_env_value(Some("".into())), Output::Device);
        assert_eq!(Output::from_env_value(Some("/tmp/a.wav".into())), Output::WavFile("/tmp/a.wav".into()));
    }

    #[test]
    fn debug_output_hides_the_text() {
        let u = Utterance::new("mon numéro fiscal 123", 100, "fr", Volume::DEFAULT).unwrap();
        let d = format!("{u:?}");
        assert!(!d.contains("fiscal") && !d.contains("123"), "{d}");
        assert!(d.contains("chars"));
    }
}
