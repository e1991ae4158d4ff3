//! A tiny WAV writer: the demo "sample pack" ships real, playable audio.

/// 16-bit mono PCM of a sequence of (frequency Hz, milliseconds) tones with short fades.
pub fn tones(sample_rate: u32, notes: &[(f32, u32)]) -> Vec<u8> {
    let mut samples: Vec<i16> = Vec::new();
    for &(freq, ms) in notes {
        let n = (sample_rate as u64 * ms as u64 / 1000) as usize;
        let fade = (sample_rate as usize / 100).min(n / 2).max(1);
        for i in 0..n {
            let t = i as f32 / sample_rate as f32;
            let envelope = (i.min(n - 1 - i) as f32 / fade as f32).min(1.0);
            let value = (2.0 * std::f32::consts::PI * freq * t).sin() * envelope * 0.4;
            samples.push((value * i16::MAX as f32) as i16);
        }
    }
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * 2).to_le_bytes()); // byte rate
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_sizes_match_the_samples() {
        let wav = tones(8000, &[(440.0, 250), (660.0, 250)]);
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        let data_len = u32::from_le_bytes(wav[40..44].try_into().unwrap());
        assert_eq!(data_len, 2 * 4000);
        assert_eq!(wav.len(), 44 + data_len as usize);
        let riff_len = u32::from_le_bytes(wav[4..8].try_into().unwrap());
        assert_eq!(riff_len as usize, wav.len() - 8);
    }
}
