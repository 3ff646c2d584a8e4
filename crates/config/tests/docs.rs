//! The documentation against the code: every `TRIPWRIGHT_*` name the documents and scripts
//! mention must start the binary and do what its name says, and `docs/configuration.md` must
//! list every setting with its environment variable and its default.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use tripwright_config::{Config, ENV_ALIASES, ENV_PREFIX, SCRIPT_ONLY_ENV_VARS, Secrets};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `TRIPWRIGHT_[A-Z0-9_]+` in `text`. A name ending in `_` is a pattern such as
/// `TRIPWRIGHT_<KEY>` or `TRIPWRIGHT_*`, not a variable, and is left out.
fn env_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(ENV_PREFIX) {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        if !tail[..end].ends_with('_') {
            names.insert(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    names
}

/// The files whose `TRIPWRIGHT_*` names users copy: README.md, docs/*.md, `run`,
/// scripts/*.sh and e2e/run.sh.
fn documented_env_names() -> BTreeSet<String> {
    let root = repo_root();
    let mut files = vec![
        root.join("README.md"),
        root.join("run"),
        root.join("e2e/run.sh"),
    ];
    for (dir, ext) in [
        ("docs", "md"),
        ("scripts", "sh"),
        ("deploy/kubernetes", "yaml"),
    ] {
        for entry in std::fs::read_dir(root.join(dir)).expect("list the folder") {
            let path = entry.expect("folder entry").path();
            if path.extension().is_some_and(|e| e == ext) {
                files.push(path);
            }
        }
    }
    files.iter().flat_map(|f| env_names(&read(f))).collect()
}

/// The key an environment name sets, e.g. `["web", "tile_url"]` for `TRIPWRIGHT_WEB_TILE_URL`.
fn key_path(name: &str) -> Vec<String> {
    let canonical = ENV_ALIASES
        .iter()
        .find(|a| a.alias == name)
        .map_or(name, |a| a.canonical);
    canonical[ENV_PREFIX.len()..]
        .split("__")
        .map(str::to_lowercase)
        .collect()
}

/// The value at `path`; keys are matched whatever their case, as an environment name is
/// all capitals (`FX_PER_BASE__USD` is the key `USD`).
fn lookup<'a>(table: &'a toml::Table, path: &[String]) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_first()?;
    let value = table.iter().find(|(k, _)| k.eq_ignore_ascii_case(first))?.1;
    match rest {
        [] => Some(value),
        _ => lookup(value.as_table()?, rest),
    }
}

fn as_table(config: &Config) -> toml::Table {
    toml::Table::try_from(config).expect("serialise the configuration")
}

/// A value a user could plausibly give `name`, different from the default where there is one:
/// by the type of the default, else by what the name suggests.
fn plausible_value(name: &str, default: Option<&toml::Value>) -> String {
    match default {
        Some(toml::Value::Boolean(b)) => return (!b).to_string(),
        Some(toml::Value::Integer(i)) => return (i + 1).to_string(),
        // Rounded, as an `f32` setting reads back as 0.699999988 for 0.7.
        Some(toml::Value::Float(f)) => {
            return toml::Value::Float(((f + 0.5) * 1e6).round() / 1e6).to_string();
        }
        Some(toml::Value::Array(items)) => {
            let changed = items.iter().map(|v| match v {
                toml::Value::Float(f) => toml::Value::Float(f + 1.0),
                _ => toml::Value::String("/srv/tripwright/fonts".into()),
            });
            return toml::Value::Array(changed.collect()).to_string();
        }
        _ => {}
    }
    let ends = |suffixes: &[&str]| suffixes.iter().any(|s| name.ends_with(s));
    if ends(&["TILE_URL"]) {
        "https://tile.example.org/{z}/{x}/{y}.png".into()
    } else if ends(&["_URL"]) {
        "https://service.example.org/v1".into()
    } else if ends(&["ADDR"]) {
        "127.0.0.1:9999".into()
    } else if ends(&["_DIR", "_PATH", "_FILE", "_CACHE", "_BIN"]) {
        format!(
            "/srv/tripwright/{}",
            name[ENV_PREFIX.len()..].to_lowercase()
        )
    } else if ends(&["WEB__ROLE"]) {
        "inference".into()
    } else if ends(&["PROVIDER"]) {
        "off".into()
    } else if ends(&["EMBEDDED_MODEL"]) {
        "qwen-1.5b".into()
    } else if ends(&["LOG_FORMAT"]) {
        "json".into()
    } else if ends(&["_LOG"]) {
        "debug".into()
    } else if ends(&["DAY_START", "DAY_END"]) {
        "10:15".into()
    } else if ends(&["CURRENCY"]) {
        "USD".into()
    } else if ends(&["CONTACT"]) {
        "ops@example.org".into()
    } else {
        "example".into()
    }
}

/// What the environment value `raw` means as configuration: a TOML number, boolean or array
/// when it reads as one, else the text itself.
fn env_value(raw: &str) -> toml::Value {
    match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => match t.remove("v") {
            Some(
                v @ (toml::Value::Integer(_)
                | toml::Value::Float(_)
                | toml::Value::Boolean(_)
                | toml::Value::Array(_)),
            ) => v,
            _ => toml::Value::String(raw.to_owned()),
        },
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

/// Equal values, floats up to the precision of an `f32` setting (`llm.temperature`).
fn same(a: &toml::Value, b: &toml::Value) -> bool {
    use toml::Value::{Array, Float, Table};
    match (a, b) {
        (Float(x), Float(y)) => (x - y).abs() <= 1e-6 * x.abs().max(1.0),
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Table(x), Table(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn exposed(secret: &Option<SecretString>) -> Option<&str> {
    secret.as_ref().map(ExposeSecret::expose_secret)
}

/// Each `TRIPWRIGHT_*` name in the README, the docs and the scripts, set alone, lets
/// `Config::load` and `Secrets::load` succeed, and a name that stands for a setting or a
/// secret sets it.
#[test]
fn every_documented_env_var_starts_up_and_takes_effect() {
    let names = documented_env_names();
    for expected in ENV_ALIASES
        .iter()
        .map(|a| a.alias)
        .chain(["TRIPWRIGHT_SESSION_KEY"])
    {
        assert!(names.contains(expected), "{expected} is not documented");
    }
    let defaults = as_table(&Config::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let config_file = dir.path().join("tripwright.toml");
    std::fs::write(&config_file, "log = \"debug\"\n").expect("write");
    let secrets_file = dir.path().join("secrets.toml");
    std::fs::write(
        &secrets_file,
        "[general]\nopenai_api_key = \"sk-from-file\"\nsession_key = \"session-from-file\"\n",
    )
    .expect("write");

    let mut failures = Vec::new();
    for name in &names {
        let path = key_path(name);
        let value = match name.as_str() {
            "TRIPWRIGHT_CONFIG" => config_file.display().to_string(),
            "TRIPWRIGHT_SECRETS_FILE" => secrets_file.display().to_string(),
            "TRIPWRIGHT_OPENAI_API_KEY" => "sk-from-env".to_owned(),
            "TRIPWRIGHT_SESSION_KEY" => "session-from-env".to_owned(),
            _ => plausible_value(name, lookup(&defaults, &path)),
        };
        let env = vec![(name.clone(), value.clone())];
        let (config, secrets) = match (Config::load(None, env.clone()), Secrets::load(env)) {
            (Ok(c), Ok(s)) => (c, s),
            (c, s) => {
                for e in [c.err(), s.err()].into_iter().flatten() {
                    failures.push(format!("{name}={value}: start-up fails: {e}"));
                }
                continue;
            }
        };
        let loaded = as_table(&config);
        let effect = match name.as_str() {
            "TRIPWRIGHT_CONFIG" => (config.log == "debug").then_some(()),
            "TRIPWRIGHT_SECRETS_FILE" => (exposed(&secrets.openai_api_key) == Some("sk-from-file")
                && exposed(&secrets.session_key) == Some("session-from-file"))
            .then_some(()),
            "TRIPWRIGHT_OPENAI_API_KEY" => {
                (exposed(&secrets.openai_api_key) == Some(value.as_str())).then_some(())
            }
            "TRIPWRIGHT_SESSION_KEY" => {
                (exposed(&secrets.session_key) == Some(value.as_str())).then_some(())
            }
            // Ignored: the configuration stays the default.
            n if SCRIPT_ONLY_ENV_VARS.contains(&n) => (loaded == defaults).then_some(()),
            _ => lookup(&loaded, &path)
                .is_some_and(|v| same(v, &env_value(&value)))
                .then_some(()),
        };
        if effect.is_none() {
            failures.push(format!(
                "{name}={value}: no effect (key {} is {:?})",
                path.join("."),
                lookup(&loaded, &path)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One row of the settings table of `docs/configuration.md`.
struct Row {
    key: String,
    env: BTreeSet<String>,
    /// `None` when the cell says "unset".
    default: Option<toml::Value>,
}

/// The lines of the section that starts with the heading `## {title}`.
fn section<'a>(doc: &'a str, title: &str) -> Vec<&'a str> {
    let heading = format!("## {title}");
    doc.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .collect()
}

fn settings_rows(doc: &str) -> Vec<Row> {
    section(doc, "Settings")
        .into_iter()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_, key, env, default, _what, _] = cells[..] else {
                panic!("a settings row has four cells: {line}");
            };
            let default = (!default.starts_with("unset")).then(|| {
                let literal = default.split('`').nth(1).unwrap_or_else(|| {
                    panic!("the default of {key} is not `quoted` nor unset: {line}")
                });
                format!("v = {literal}")
                    .parse::<toml::Table>()
                    .unwrap_or_else(|e| panic!("the default of {key} is not TOML: {e}"))
                    .remove("v")
                    .expect("the value just parsed")
            });
            Row {
                key: key.trim_matches('`').to_owned(),
                env: env_names(env),
                default,
            }
        })
        .collect()
}

/// Every leaf key of the defaults, dotted, with its value.
fn leaves(table: &toml::Table, prefix: &str, out: &mut BTreeMap<String, toml::Value>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => leaves(t, &key, out),
            v => {
                out.insert(key, v.clone());
            }
        }
    }
}

fn canonical_env(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "__").to_uppercase())
}

/// `docs/configuration.md` lists every setting of the code with its environment variable, its
/// alias and its default, lists nothing that is not a setting, and names exactly the
/// script-only variables that the binary ignores.
#[test]
fn configuration_md_lists_every_setting() {
    let doc = read(&repo_root().join("docs/configuration.md"));
    let rows = settings_rows(&doc);
    let defaults = as_table(&Config::default());
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for row in &rows {
        let key = row.key.as_str();
        if !seen.insert(key) {
            failures.push(format!("{key}: listed twice"));
        }
        let path: Vec<String> = key.split('.').map(str::to_owned).collect();
        let canonical = canonical_env(key);
        match (lookup(&defaults, &path), &row.default) {
            (Some(code), Some(doc)) if same(code, doc) => {}
            (Some(code), doc) => {
                failures.push(format!(
                    "{key}: the default is {code}, the page says {doc:?}"
                ));
            }
            (None, Some(doc)) => failures.push(format!("{key}: no such key (page default {doc})")),
            // Documented as unset: a real key only if the file can set it.
            (None, None) => {
                let dir = tempfile::tempdir().expect("tempdir");
                let file = dir.path().join("c.toml");
                let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key));
                let header = if table.is_empty() {
                    String::new()
                } else {
                    format!("[{table}]\n")
                };
                let value = plausible_value(&canonical, None);
                std::fs::write(&file, format!("{header}{leaf} = \"{value}\"\n")).expect("write");
                match Config::load(Some(&file), Vec::new()) {
                    Ok(c) if lookup(&as_table(&c), &path).is_some() => {}
                    Ok(_) => failures.push(format!("{key}: setting it has no effect")),
                    Err(e) => failures.push(format!("{key}: not an optional key: {e}")),
                }
            }
        }
        let is_map = matches!(lookup(&defaults, &path), Some(toml::Value::Table(_)));
        let names_it = row
            .env
            .iter()
            .any(|n| *n == canonical || (is_map && n.starts_with(&format!("{canonical}__"))));
        if !names_it {
            failures.push(format!("{key}: the environment cell lacks {canonical}"));
        }
        for name in &row.env {
            let alias = ENV_ALIASES.iter().find(|a| a.alias == *name);
            let ok = *name == canonical
                || (is_map && name.starts_with(&format!("{canonical}__")))
                || alias.is_some_and(|a| a.canonical == canonical);
            if !ok {
                failures.push(format!(
                    "{key}: {name} is neither its variable nor its alias"
                ));
            }
        }
        for alias in ENV_ALIASES.iter().filter(|a| a.canonical == canonical) {
            if !row.env.contains(alias.alias) {
                failures.push(format!("{key}: the alias {} is not listed", alias.alias));
            }
        }
    }
    let mut code = BTreeMap::new();
    leaves(&defaults, "", &mut code);
    for key in code.keys() {
        // A map such as `costs.fx_per_base` is one row; its entries are leaves of that row.
        let documented = rows
            .iter()
            .any(|r| *key == r.key || key.starts_with(&format!("{}.", r.key)));
        if !documented {
            failures.push(format!("{key}: missing from docs/configuration.md"));
        }
    }
    for alias in ENV_ALIASES {
        if !rows.iter().any(|r| r.env.contains(alias.alias)) {
            failures.push(format!("the alias {} has no row", alias.alias));
        }
    }
    let script_only: BTreeSet<String> = section(&doc, "Script-only variables")
        .into_iter()
        .flat_map(env_names)
        .collect();
    let in_code: BTreeSet<String> = SCRIPT_ONLY_ENV_VARS
        .iter()
        .map(|n| (*n).to_owned())
        .collect();
    if script_only != in_code {
        failures.push(format!(
            "script-only variables: the page lists {script_only:?}, the code {in_code:?}"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
