//! The idle countdown's tone: when « Êtes-vous toujours là ? » appears, a short, soft two-note
//! chime tells a person who is not looking at the screen (reading a paper, looking for a code in a
//! text message) that the session is about to end. A setting turns it off (`[session]
//! countdown_tone`, on by default).
//!
//! The chime is a WAV made here (no sound file to ship or lose), played by ALSA's `aplay` in a child
//! process with a time limit, off the GTK thread. For tests, [`OUT_ENV`] names a file the WAV is
//! written to instead of the sound card (as `borne_core::speech` does for the voice).

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

/// The player (`alsa-utils`).
pub const PLAYER: &str = "aplay";
/// When set and not empty, the chime is written to this file instead of being played.
pub const OUT_ENV: &str = "BORNE_TONE_OUT";
/// Samples a second.
pub const SAMPLE_RATE: u32 = 22_050;
/// The two notes, in hertz: E5 then A5, a rising fourth (a "ding-dong" read as a call, not an alarm).
pub const NOTES: [f32; 2] = [659.25, 880.0];
/// Each note's length.
pub const NOTE: Duration = Duration::from_millis(180);
/// Silence between the notes.
pub const GAP: Duration = Duration::from_millis(60);
/// Loudness, as a share of full scale: audible across a quiet accueil, never startling.
pub const LEVEL: f32 = 0.30;
/// Longest the player may run before it is killed.
pub const PLAY_LIMIT: Duration = Duration::from_secs(5);

fn samples(d: Duration) -> usize {
    (d.as_secs_f64() * f64::from(SAMPLE_RATE)).round() as usize
}

/// The chime's samples, 16-bit mono: each note with a 15 ms fade in and out (no click).
pub fn chime_samples() -> Vec<i16> {
    let fade = samples(Duration::from_millis(15)) as f32;
    let mut out = Vec::new();
    for (i, f) in NOTES.iter().enumerate() {
        if i > 0 {
            out.extend(std::iter::repeat_n(0, samples(GAP)));
        }
        let n = samples(NOTE);
        for k in 0..n {
            let t = k as f32 / SAMPLE_RATE as f32;
            let env = (k as f32 / fade).min((n - k) as f32 / fade).min(1.0);
            let v = (2.0 * std::f32::consts::PI * f * t).sin() * LEVEL * env;
            out.push((v * f32::from(i16::MAX)) as i16);
        }
    }
    out
}

/// `samples` as a WAV file's bytes (PCM, 16-bit mono, [`SAMPLE_RATE`]).
pub fn wav(samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + data_len as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    b.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

/// The 16-bit mono samples of a WAV file made by [`wav`] (or any PCM 16-bit mono WAV with a plain
/// 44-byte header), for checks; `None` for anything else.
pub fn read_wav(bytes: &[u8]) -> Option<(u32, Vec<i16>)> {
    if bytes.len() < 44 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" || &bytes[36..40] != b"data" {
        return None;
    }
    let channels = u16::from_le_bytes([bytes[22], bytes[23]]);
    let rate = u32::from_le_bytes([bytes[24], bytes[25], bytes[26], bytes[27]]);
    let bits = u16::from_le_bytes([bytes[34], bytes[35]]);
    if channels != 1 || bits != 16 {
        return None;
    }
    Some((rate, bytes[44..].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect()))
}

/// The strength of `freq` in `samples` (Goertzel), relative to the samples' energy: near 1 when
/// the sound is that pure tone, near 0 when it is not there.
pub fn tone_share(samples: &[i16], rate: u32, freq: f32) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let w = 2.0 * std::f32::consts::PI * freq / rate as f32;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    let mut energy = 0.0f32;
    for &x in samples {
        let x = f32::from(x);
        energy += x * x;
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    if energy == 0.0 {
        0.0
    } else {
        (2.0 * power / (samples.len() as f32 * energy)).min(1.0)
    }
}

/// Where the chime goes: the sound card, or (tests, [`OUT_ENV`]) a WAV file, as for the voice.
pub use crate::speech::Output;

/// The player's arguments for the chime's file.
pub fn player_args(file: &Path) -> Vec<OsString> {
    vec!["-q".into(), "--".into(), file.as_os_str().to_owned()]
}

/// Sounds the chime (slow: up to [`PLAY_LIMIT`]; run it off the GTK thread). `file` is where the
/// chime's WAV is kept for the player (written when missing). Failures are logged, never raised: a
/// borne without a sound card still shows and announces the countdown.
pub fn sound(out: &Output, file: &Path) {
    let bytes = wav(&chime_samples());
    match out {
        Output::WavFile(path) => {
            if let Err(e) = crate::fsutil::write_atomic(path, &bytes) {
                tracing::warn!(error = %e, "cannot write the countdown's tone to its test file");
            }
        }
        Output::Device => {
            let fresh = std::fs::read(file).is_ok_and(|b| b == bytes);
            if !fresh {
                if let Err(e) = crate::fsutil::write_atomic(file, &bytes) {
                    tracing::warn!(error = %e, "cannot write the countdown's tone");
                    return;
                }
            }
            let mut cmd = std::process::Command::new(PLAYER);
            cmd.args(player_args(file));
            match crate::process::run_with_timeout(cmd, PLAY_LIMIT) {
                Ok(o) if o.status.success() => tracing::debug!("countdown tone played"),
                Ok(o) => tracing::warn!(
                    code = ?o.status.code(),
                    stderr = %String::from_utf8_lossy(&o.stderr).chars().take(200).collect::<String>(),
                    "the countdown's tone did not play (no sound card?)"
                ),
                Err(e) => tracing::warn!(error = %e, "the countdown's tone did not play"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chime_is_two_short_soft_notes_rising() {
        let s = chime_samples();
        let total = 2 * samples(NOTE) + samples(GAP);
        assert_eq!(s.len(), total);
        assert!(s.len() as f32 / (SAMPLE_RATE as f32) < 0.5, "short");
        let peak = s.iter().map(|v| v.unsigned_abs()).max().unwrap();
        assert!(f32::from(peak) <= LEVEL * f32::from(i16::MAX) + 1.0, "soft: peak {peak}");
        assert!(f32::from(peak) > 0.9 * LEVEL * f32::from(i16::MAX), "audible: peak {peak}");
        // No click: both ends start and stop near silence.
        assert!(s[0].unsigned_abs() < 200 && s[s.len() - 1].unsigned_abs() < 200);
        let first = &s[..samples(NOTE)];
        let second = &s[samples(NOTE) + samples(GAP)..];
        assert!(tone_share(first, SAMPLE_RATE, NOTES[0]) > 0.8);
        assert!(tone_share(first, SAMPLE_RATE, NOTES[1]) < 0.1);
        assert!(tone_share(second, SAMPLE_RATE, NOTES[1]) > 0.8);
        assert!(tone_share(second, SAMPLE_RATE, NOTES[0]) < 0.1);
    }

    #[test]
    fn the_wav_round_trips_and_anything_else_is_refused() {
        let s = chime_samples();
        let bytes = wav(&s);
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(read_wav(&bytes), Some((SAMPLE_RATE, s)));
        assert_eq!(read_wav(b"not a wav"), None);
        let mut stereo = bytes.clone();
        stereo[22] = 2;
        assert_eq!(read_wav(&stereo), None);
    }

    #[test]
    fn the_test_output_gets_the_chime_and_a_missing_player_is_only_logged() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("tone.wav");
        sound(&Output::WavFile(out.clone()), &dir.path().join("unused.wav"));
        let (rate, got) = read_wav(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!((rate, got), (SAMPLE_RATE, chime_samples()));
        assert_eq!(Output::from_env_value(Some("".into())), Output::Device);
        assert_eq!(Output::from_env_value(None), Output::Device);
        assert_eq!(
            player_args(Path::new("/x/tone.wav")),
            vec![OsString::from("-q"), "--".into(), "/x/tone.wav".into()]
        );
    }
}
