//! DescribeUserScramCredentials (key 50) and AlterUserScramCredentials (key 51), KIP-554: the
//! SCRAM credentials the broker keeps per user and mechanism. A credential arrives as a salted
//! password (the password itself never travels) and is stored as the keys SCRAM checks.

use std::collections::BTreeMap;

use kafka_protocol::messages::alter_user_scram_credentials_response::AlterUserScramCredentialsResult;
use kafka_protocol::messages::describe_user_scram_credentials_response::{
    CredentialInfo, DescribeUserScramCredentialsResult,
};
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse,
    DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse,
};
use kafka_protocol::sasl::{Mechanism, ScramCredential, MAX_ITERATIONS, MIN_ITERATIONS};
use kafka_protocol::ErrorCode;

use crate::context::RequestContext;
use crate::sync::lock;

pub(crate) fn handle_describe(
    ctx: &RequestContext,
    request: &DescribeUserScramCredentialsRequest,
    _version: i16,
) -> DescribeUserScramCredentialsResponse {
    let store = lock(&ctx.state.scram);
    let mut by_user: BTreeMap<String, Vec<CredentialInfo>> = BTreeMap::new();
    for ((m, user), c) in store.iter() {
        if let Some(code) = m.scram_code() {
            by_user.entry(user.clone()).or_default().push(
                CredentialInfo::default()
                    .with_mechanism(code)
                    .with_iterations(i32::try_from(c.iterations).unwrap_or(i32::MAX)),
            );
        }
    }
    for infos in by_user.values_mut() {
        infos.sort_by_key(|i| i.mechanism);
    }
    let result = |user: &str, infos: Vec<CredentialInfo>| {
        DescribeUserScramCredentialsResult::default()
            .with_user(user.to_string())
            .with_error_code(ErrorCode::None)
            // Kafka sends an empty message, not null, with success.
            .with_error_message(Some("".into()))
            .with_credential_infos(infos)
    };
    let results = match request.users.as_deref().filter(|u| !u.is_empty()) {
        None => by_user.into_iter().map(|(u, i)| result(&u, i)).collect(),
        Some(users) => {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for u in users {
                *counts.entry(u.name.as_str()).or_default() += 1;
            }
            counts
                .into_iter()
                .map(|(user, n)| {
                    if n > 1 {
                        return DescribeUserScramCredentialsResult::default()
                            .with_user(user.to_string())
                            .with_error_code(ErrorCode::DuplicateResource)
                            .with_error_message(Some(format!("Cannot describe SCRAM credentials for the same user twice in a single request: {user}").into()));
                    }
                    match by_user.get(user) {
                        Some(infos) => result(user, infos.clone()),
                        None => DescribeUserScramCredentialsResult::default()
                            .with_user(user.to_string())
                            .with_error_code(ErrorCode::ResourceNotFound)
                            .with_error_message(Some(format!("Attempt to describe a user credential that does not exist: {user}").into())),
                    }
                })
                .collect()
        }
    };
    DescribeUserScramCredentialsResponse::default()
        .with_error_code(ErrorCode::None)
        .with_error_message(Some("".into()))
        .with_results(results)
}

pub(crate) fn handle_alter(
    ctx: &RequestContext,
    request: &AlterUserScramCredentialsRequest,
    _version: i16,
) -> AlterUserScramCredentialsResponse {
    let mut store = lock(&ctx.state.scram);
    // A user named in more than one operation fails as a whole, as in Kafka.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for name in request
        .deletions
        .iter()
        .map(|d| d.name.to_string())
        .chain(request.upsertions.iter().map(|u| u.name.to_string()))
    {
        *counts.entry(name).or_default() += 1;
    }
    let mut outcome: BTreeMap<String, Result<(), (ErrorCode, String)>> = BTreeMap::new();
    // Every user fails without ALTER on the cluster.
    let allowed = ctx.allowed_cluster(kafka_protocol::acl::AclOperation::Alter);
    for (user, n) in &counts {
        if !allowed {
            outcome.insert(
                user.clone(),
                Err((ErrorCode::ClusterAuthorizationFailed, String::new())),
            );
        } else if *n > 1 {
            outcome.insert(
                user.clone(),
                Err((
                    ErrorCode::DuplicateResource,
                    format!(
                        "A user credential cannot be altered twice in the same request: {user}"
                    ),
                )),
            );
        }
    }
    for d in &request.deletions {
        let user = d.name.to_string();
        if outcome.contains_key(&user) {
            continue;
        }
        let r = match Mechanism::from_scram_code(d.mechanism) {
            _ if user.is_empty() => Err((
                ErrorCode::UnacceptableCredential,
                "Username must not be empty".to_string(),
            )),
            None => Err((
                ErrorCode::UnsupportedSaslMechanism,
                format!("Unknown SCRAM mechanism {}", d.mechanism),
            )),
            Some(m) => match store.remove(&(m, user.clone())) {
                Some(_) => Ok(()),
                None => Err((
                    ErrorCode::ResourceNotFound,
                    format!("Attempt to delete a user credential that does not exist: {user}"),
                )),
            },
        };
        outcome.insert(user, r);
    }
    for u in &request.upsertions {
        let user = u.name.to_string();
        if outcome.contains_key(&user) {
            continue;
        }
        let iterations = u32::try_from(u.iterations).unwrap_or(0);
        let r = match Mechanism::from_scram_code(u.mechanism) {
            _ if user.is_empty() => Err((
                ErrorCode::UnacceptableCredential,
                "Username must not be empty".to_string(),
            )),
            None => Err((
                ErrorCode::UnsupportedSaslMechanism,
                format!("Unknown SCRAM mechanism {}", u.mechanism),
            )),
            Some(_) if iterations < MIN_ITERATIONS => Err((
                ErrorCode::UnacceptableCredential,
                format!("Too few iterations: {}", u.iterations),
            )),
            Some(_) if iterations > MAX_ITERATIONS => Err((
                ErrorCode::UnacceptableCredential,
                format!("Too many iterations: {}", u.iterations),
            )),
            Some(m) => {
                store.insert(
                    (m, user.clone()),
                    ScramCredential::from_salted(m, &u.salted_password, &u.salt, iterations),
                );
                Ok(())
            }
        };
        outcome.insert(user, r);
    }
    let results = outcome
        .into_iter()
        .map(|(user, r)| {
            let (code, message) = match r {
                Ok(()) => (ErrorCode::None, None),
                Err((c, m)) => (c, Some(m.into())),
            };
            AlterUserScramCredentialsResult::default()
                .with_user(user)
                .with_error_code(code)
                .with_error_message(message)
        })
        .collect();
    AlterUserScramCredentialsResponse::default().with_results(results)
}
