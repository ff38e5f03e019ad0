//! How a merchant's small records spread over its Durable Objects. One object per record (per
//! idempotency key, per card's velocity history) makes a new object for nearly every request,
//! created (and on Cloudflare placed) before it answers. Instead a merchant's records of one
//! kind go to a fixed few objects, picked by a hash of the record's name: the objects stay
//! warm, a record always finds its object, and each object still serves its records one
//! request at a time, which is what keeps their decisions exact.

/// The object, among `objects` of `merchant_id`'s objects of `kind`, that holds the record
/// named `name` (a hex hash, so names spread evenly).
pub fn object_name(kind: &str, merchant_id: &str, name: &str, objects: u32) -> String {
    let bucket = name
        .get(..8)
        .and_then(|prefix| u32::from_str_radix(prefix, 16).ok())
        .unwrap_or_default()
        % objects.max(1);
    format!("{kind}\n{merchant_id}\n{bucket}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_keys::hash_secret;
    use std::collections::BTreeMap;

    #[test]
    fn names_spread_evenly_and_each_keeps_its_object() {
        let mut per_object = BTreeMap::<String, usize>::new();
        for n in 0..8_000 {
            let name = hash_secret(&format!("record-{n}"));
            let object = object_name("kind", "mer_a", &name, 8);
            assert_eq!(object, object_name("kind", "mer_a", &name, 8));
            *per_object.entry(object).or_default() += 1;
        }
        assert_eq!(per_object.len(), 8);
        assert!(
            per_object.values().all(|&n| (800..1_200).contains(&n)),
            "about 1,000 records each: {per_object:?}"
        );
    }

    #[test]
    fn merchants_and_kinds_share_no_object() {
        let name = hash_secret("record");
        let object = object_name("kind", "mer_a", &name, 8);
        assert_ne!(object, object_name("kind", "mer_b", &name, 8));
        assert_ne!(object, object_name("other", "mer_a", &name, 8));
    }
}
