//! Randomness from the operating system's CSPRNG, for temporary passwords, database keys and
//! one-time tokens. Nothing in Kagiya uses a seeded or thread-local generator for secrets.

use argon2::password_hash::rand_core::{OsRng, RngCore};

/// Fills `buf` with random bytes.
pub fn fill(buf: &mut [u8]) {
    OsRng.fill_bytes(buf);
}

/// A uniform number in `0..n` (rejection sampling, no modulo bias). `n` must be ≥ 1.
pub fn below(n: u32) -> u32 {
    assert!(n > 0);
    let zone = u32::MAX - (u32::MAX % n);
    loop {
        let v = OsRng.next_u32();
        if v < zone {
            return v % n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut seen = [false; 7];
        for _ in 0..2000 {
            let v = below(7) as usize;
            seen[v] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn fill_is_not_constant() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        fill(&mut a);
        fill(&mut b);
        assert_ne!(a, b);
    }
}
