//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
use super::*;

#[test]
fn at_hash_matches_the_openid_connect_example() {
    // OpenID Connect Core, Appendix A.3/A.4: this access token's RS256 `at_hash`.
    assert_eq!(
        token_hash(
            Algorithm::RS256,
            "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
        ),
        "77QmUPtjPfzWtF2AnpK9RQ"
    );
    // 384/512-bit algorithms hash with the matching SHA-2, giving 24/32-byte halves.
    assert_eq!(token_hash(Algorithm::ES384, "t").len(), 32);
    assert_eq!(token_hash(Algorithm::EdDSA, "t").len(), 43);
}
