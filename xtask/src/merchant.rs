//! `cargo xtask merchant create --name … [--origin …]… [--remote]`: onboards a merchant without
//! writing SQL. It writes the merchant, its origins and a secret and a publishable key to D1
//! through wrangler (the local dev database, or with `--remote` the deployed one) and prints the
//! keys once; only their hashes are stored. A running edge offers the same through
//! `POST /v1/platform/merchants`.

use crate::stack::wrangler;
use crate::{root, run};
use till_core::api_keys::{hash_secret, new_key, redact, KeyKind};
use till_core::ids::{new_id, IdKind};
use till_core::merchant::{CreateMerchant, NewMerchant};
use till_core::urls::DevHosts;

const USAGE: &str =
    "usage: cargo xtask merchant create --name <name> [--origin <origin>]... [--remote]";

struct Options {
    request: CreateMerchant,
    remote: bool,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut args = args.iter();
    if args.next().map(String::as_str) != Some("create") {
        return Err(USAGE.into());
    }
    let mut name = None;
    let mut origins = Vec::new();
    let mut remote = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--name" => name = Some(args.next().ok_or(USAGE)?.clone()),
            "--origin" => origins.push(args.next().ok_or(USAGE)?.clone()),
            "--remote" => remote = true,
            _ => return Err(USAGE.into()),
        }
    }
    Ok(Options {
        request: CreateMerchant {
            name: name.ok_or(USAGE)?,
            origins,
        },
        remote,
    })
}

fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).map_err(|e| format!("random: {e}"))?;
    Ok(out)
}

/// A merchant's rows, ready to write, and its keys to print.
struct Onboarding {
    merchant_id: String,
    keys: Vec<(String, KeyKind, String)>,
    sql: String,
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn onboarding(merchant: &NewMerchant, now: i64) -> Result<Onboarding, String> {
    let merchant_id = new_id(IdKind::Merchant, random()?);
    let mut sql = format!(
        "INSERT INTO merchants (id, name, created) VALUES ({}, {}, {now});\n",
        quoted(&merchant_id),
        quoted(&merchant.name)
    );
    let mut keys = Vec::new();
    for kind in [KeyKind::Secret, KeyKind::Publishable] {
        let key = new_key(kind, random()?);
        let id = new_id(IdKind::ApiKey, random()?);
        sql += &format!(
            "INSERT INTO api_keys (id, key_hash, merchant_id, kind, redacted, created) \
             VALUES ({}, {}, {}, {}, {}, {now});\n",
            quoted(&id),
            quoted(&hash_secret(&key)),
            quoted(&merchant_id),
            quoted(kind.as_str()),
            quoted(&redact(&key)),
        );
        keys.push((id, kind, key));
    }
    for origin in &merchant.origins {
        sql += &format!(
            "INSERT INTO merchant_origins (merchant_id, origin) VALUES ({}, {});\n",
            quoted(&merchant_id),
            quoted(origin)
        );
    }
    sql += &format!(
        "INSERT INTO audit_log (id, merchant_id, actor, action, target, created) \
         VALUES ({}, {}, 'platform', 'merchant.created', {}, {now});\n",
        quoted(&new_id(IdKind::AuditEntry, random()?)),
        quoted(&merchant_id),
        quoted(&merchant_id),
    );
    Ok(Onboarding {
        merchant_id,
        keys,
        sql,
    })
}

pub fn run_command(args: &[String]) -> Result<(), String> {
    let Options { request, remote } = options(args)?;
    // Locally the demo shop and test pages are on loopback over http; deployed, only https.
    let loopback = ["127.0.0.1".to_string(), "localhost".to_string()];
    let dev = if remote {
        DevHosts::default()
    } else {
        DevHosts(&loopback)
    };
    let merchant = request
        .validate(dev)
        .map_err(|e| format!("{}: {}", e.error.code.as_str(), e.error.message))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs() as i64;
    let made = onboarding(&merchant, now)?;
    let file = root().join("target/till/merchant-create.sql");
    std::fs::create_dir_all(root().join("target/till")).map_err(|e| e.to_string())?;
    std::fs::write(&file, &made.sql).map_err(|e| format!("{}: {e}", file.display()))?;
    let artifacts = root().join("target/till/dev");
    let state = artifacts.join("state");
    let state = state.to_string_lossy().to_string();
    let file_arg = file.to_string_lossy().to_string();
    let mut args = vec!["d1", "execute", "DB", "-c", "edge/wrangler.toml"];
    if remote {
        args.push("--remote");
    } else {
        // The tables exist once `cargo xtask dev` ran; applying is a no-op then.
        crate::stack::apply_migrations(&artifacts, &state)?;
        args.extend(["--local", "--persist-to", &state]);
    }
    args.extend(["--file", &file_arg]);
    let written = run(wrangler(&artifacts).args(args));
    // The file holds only hashes, but it has no use once applied.
    let _ = std::fs::remove_file(&file);
    written?;
    println!("Merchant {} ({})", made.merchant_id, merchant.name);
    for origin in &merchant.origins {
        println!("  origin       {origin}");
    }
    for (id, kind, key) in &made.keys {
        println!("  {:<12} {key}   ({id})", kind.as_str());
    }
    println!(
        "Keep the keys now: Till stores only their hashes and cannot show them again.{}",
        if remote {
            ""
        } else {
            "\nThe local database lives until the next `cargo xtask dev` starts a fresh one."
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_need_a_name_and_take_origins() {
        let parsed = options(&strings(&[
            "create",
            "--name",
            "Seoul Books",
            "--origin",
            "https://books.example",
            "--remote",
        ]))
        .unwrap();
        assert_eq!(parsed.request.name, "Seoul Books");
        assert_eq!(parsed.request.origins, ["https://books.example"]);
        assert!(parsed.remote);
        assert!(options(&strings(&["create"])).is_err());
        assert!(options(&strings(&["create", "--name"])).is_err());
        assert!(options(&strings(&["delete", "--name", "x"])).is_err());
    }

    #[test]
    fn sql_quotes_the_name_and_stores_only_key_hashes() {
        let merchant = NewMerchant {
            name: "O'Brien's; DROP TABLE merchants; --".into(),
            origins: vec!["https://obriens.example".into()],
        };
        let made = onboarding(&merchant, 1_764_000_000).unwrap();
        assert!(made.sql.contains("'O''Brien''s; DROP TABLE merchants; --'"));
        assert_eq!(made.keys.len(), 2);
        for (_, _, key) in &made.keys {
            assert!(!made.sql.contains(key.as_str()), "a key in clear");
            assert!(made.sql.contains(&hash_secret(key)));
        }
        assert_eq!(made.sql.lines().count(), 5);
    }
}
