//! The key → reduce-bucket hash.
//!
//! Go's lab uses `ihash(key) = fnv32a(key) & 0x7fffffff` and
//! `bucket = ihash % nReduce`. Reproducing it exactly keeps the intermediate
//! file layout identical to the Go lab, so a student can compare against it.

const FNV_OFFSET_BASIS: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// FNV-1a, 32 bits, over the key's UTF-8 bytes (Go's `hash/fnv.New32a`).
pub fn fnv1a_32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(FNV_OFFSET_BASIS, |hash, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(FNV_PRIME)
    })
}

/// Go's `ihash`: FNV-1a with the sign bit cleared.
pub fn ihash(key: &str) -> u32 {
    fnv1a_32(key.as_bytes()) & 0x7fff_ffff
}

/// The reduce task that owns `key`.
pub fn bucket(key: &str, n_reduce: usize) -> usize {
    ihash(key) as usize % n_reduce
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_published_fnv1a_vectors() {
        // Test vectors from the FNV reference (draft-eastlake-fnv).
        assert_eq!(fnv1a_32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a_32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a_32(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn ihash_clears_the_sign_bit() {
        // fnv1a("a") has the top bit set.
        assert_eq!(ihash("a"), 0xe40c_292c & 0x7fff_ffff);
        assert!(bucket("a", 10) < 10);
    }
}
