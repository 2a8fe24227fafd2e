//! `make token ROLE=agent SUB=agent-001`: prints a token the local suite accepts, on the last
//! line of stdout and nothing else there.
//!
//! `token --role agent[,supervisor] --sub agent-001 [--customer-id ID] [--agent-id ID]
//! [--hours N]`. A customer's `customerId` and an agent's `agentId` default to the subject.
//! The key is `APP_AUTH__HS256_SECRET`, else the file `.run/jwt-secret` (written by
//! `scripts/infra-up.sh`); issuer and audience are the services' defaults unless
//! `APP_AUTH__ISSUER` / `APP_AUTH__AUDIENCE` say otherwise.

use shared::{
    auth::{
        mint::{mint, TokenSpec},
        AuthSettings, Role,
    },
    config::Secret,
};
use std::{process::ExitCode, time::Duration};

fn main() -> ExitCode {
    match run() {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("token: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let (mut roles, mut sub, mut customer, mut agent, mut hours) =
        (String::new(), String::new(), None, None, 12u64);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--role" => roles = value()?,
            "--sub" => sub = value()?,
            "--customer-id" => customer = Some(value()?),
            "--agent-id" => agent = Some(value()?),
            "--hours" => hours = value()?.parse().map_err(|_| "--hours: a number")?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let roles: Vec<Role> = roles
        .split(',')
        .filter(|r| !r.trim().is_empty())
        .map(|r| {
            Role::parse(r.trim()).ok_or(format!(
                "unknown role {r:?}; roles: customer, agent, supervisor, auditor, admin"
            ))
        })
        .collect::<Result<_, _>>()?;
    if roles.is_empty() || sub.trim().is_empty() {
        return Err("usage: token --role ROLE[,ROLE] --sub SUBJECT [--customer-id ID] [--agent-id ID] [--hours N]".into());
    }
    let mut spec = TokenSpec::new(sub.clone(), &roles);
    spec.valid_for = Duration::from_secs(hours * 3600);
    if let Some(id) = customer.or_else(|| roles.contains(&Role::Customer).then(|| sub.clone())) {
        spec = spec.customer(id);
    }
    if let Some(id) = agent.or_else(|| roles.contains(&Role::Agent).then(|| sub.clone())) {
        spec = spec.agent(id);
    }
    let mut settings = AuthSettings::hs256(secret()?);
    if let Ok(issuer) = std::env::var("APP_AUTH__ISSUER") {
        settings.issuer = issuer;
    }
    if let Ok(audience) = std::env::var("APP_AUTH__AUDIENCE") {
        settings.audience = audience;
    }
    settings.hs256_secret = settings
        .hs256_secret
        .map(|Secret(s)| Secret(s.trim().to_owned()));
    Ok(mint(&spec, &settings))
}

fn secret() -> Result<String, String> {
    if let Ok(secret) = std::env::var("APP_AUTH__HS256_SECRET") {
        if !secret.is_empty() {
            return Ok(secret);
        }
    }
    let path = std::env::var("JWT_SECRET_FILE").unwrap_or_else(|_| ".run/jwt-secret".to_owned());
    std::fs::read_to_string(&path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| format!("no APP_AUTH__HS256_SECRET and {path}: {e} (run make infra)"))
}
