//! `--set key=value` overrides of config keys, applied to the TOML table before it is checked,
//! so an override is validated exactly like the file (unknown keys and bad values are errors).

use anyhow::{bail, Context, Result};

/// Sets a dotted `key` (for example `optimizer.lr`) to `value`, parsed as a TOML value (a bare
/// word that is not valid TOML is taken as a string).
pub fn apply(table: &mut toml::Table, key: &str, value: &str) -> Result<()> {
    let parsed: toml::Value = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));

    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        bail!("invalid override key {key:?}: expected dotted names such as optimizer.lr");
    }
    let (last, parents) = parts.split_last().expect("split yields at least one part");
    let mut node = table;
    for part in parents {
        node = node
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(Default::default()))
            .as_table_mut()
            .with_context(|| format!("invalid override key {key:?}: {part} is not a table"))?;
    }
    node.insert(last.to_string(), parsed);
    Ok(())
}

/// Splits `key=value`.
pub fn split(arg: &str) -> Result<(&str, &str)> {
    arg.split_once('=').with_context(|| format!("invalid --set {arg:?}: expected key=value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_nest_and_parse_values() {
        let mut t: toml::Table = toml::from_str("[optimizer]\nkind = \"sgd\"\nlr = 0.1").unwrap();
        apply(&mut t, "optimizer.lr", "0.5").unwrap();
        apply(&mut t, "training.batch_size", "64").unwrap();
        apply(&mut t, "data.kind", "mnist").unwrap();
        assert_eq!(t["optimizer"]["lr"].as_float(), Some(0.5));
        assert_eq!(t["training"]["batch_size"].as_integer(), Some(64));
        assert_eq!(t["data"]["kind"].as_str(), Some("mnist"));
        assert!(apply(&mut t, "optimizer.lr.x", "1").is_err());
        assert!(split("lr").is_err());
    }
}
