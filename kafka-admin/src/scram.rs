//! SCRAM users (KIP-554): describe and alter the SCRAM credentials brokers keep. The password
//! never travels: the client salts it (PBKDF2 with a fresh random salt) and sends the result.

use std::collections::BTreeMap;

use bytes::Bytes;
use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, DescribeUserScramCredentialsRequest,
};
use kafka_protocol::sasl::{salted_password, Mechanism};

use crate::error::{AdminError, Result};
use crate::router::{self, ItemResults};
use crate::AdminClient;

/// One SCRAM credential a user has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScramCredentialInfo {
    /// SCRAM-SHA-256 or SCRAM-SHA-512.
    pub mechanism: Mechanism,
    /// Its PBKDF2 iterations.
    pub iterations: i32,
}

/// A change to a user's SCRAM credentials.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScramAlteration {
    /// Sets the user's credential for a mechanism.
    Upsert {
        /// The user.
        user: String,
        /// SCRAM-SHA-256 or SCRAM-SHA-512.
        mechanism: Mechanism,
        /// The password (salted here; never sent).
        password: kafka_client::Password,
        /// PBKDF2 iterations (4096 to 16384).
        iterations: i32,
    },
    /// Removes the user's credential for a mechanism.
    Delete {
        /// The user.
        user: String,
        /// The mechanism.
        mechanism: Mechanism,
    },
}

impl std::fmt::Debug for ScramAlteration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScramAlteration::Upsert {
                user,
                mechanism,
                iterations,
                ..
            } => f
                .debug_struct("Upsert")
                .field("user", user)
                .field("mechanism", mechanism)
                .field("iterations", iterations)
                .finish_non_exhaustive(),
            ScramAlteration::Delete { user, mechanism } => f
                .debug_struct("Delete")
                .field("user", user)
                .field("mechanism", mechanism)
                .finish(),
        }
    }
}

impl ScramAlteration {
    /// Sets `user`'s `mechanism` credential to `password` with 4096 iterations (the default of
    /// Kafka's tools).
    pub fn upsert(
        user: impl Into<String>,
        mechanism: Mechanism,
        password: &str,
    ) -> ScramAlteration {
        ScramAlteration::Upsert {
            user: user.into(),
            mechanism,
            password: kafka_client::Password::new(password),
            iterations: 4096,
        }
    }

    fn user(&self) -> &str {
        match self {
            ScramAlteration::Upsert { user, .. } | ScramAlteration::Delete { user, .. } => user,
        }
    }
}

fn scram_code(m: Mechanism) -> Result<i8> {
    m.scram_code().ok_or_else(|| {
        AdminError::InvalidArgument(format!("{} is not a SCRAM mechanism", m.name()))
    })
}

impl AdminClient {
    /// The SCRAM credentials of `users`, or of every user that has one.
    pub async fn describe_user_scram_credentials(
        &self,
        users: Option<&[String]>,
    ) -> Result<ItemResults<String, Vec<ScramCredentialInfo>>> {
        let call = self.call("describe_user_scram_credentials");
        let response = router::retry(&self.client, &call, || async {
            let conn = router::any(&self.client).await?;
            let request =
                DescribeUserScramCredentialsRequest::default().with_users(users.map(|u| {
                    u.iter()
                        .map(|n| UserName::default().with_name(n.as_str()))
                        .collect()
                }));
            let response = conn.send(&request).await?;
            AdminError::check(response.error_code, response.error_message.as_deref())?;
            Ok(response)
        })
        .await?;
        Ok(response
            .results
            .into_iter()
            .map(|r| {
                let result =
                    AdminError::check(r.error_code, r.error_message.as_deref()).map(|()| {
                        r.credential_infos
                            .iter()
                            .filter_map(|i| {
                                Some(ScramCredentialInfo {
                                    mechanism: Mechanism::from_scram_code(i.mechanism)?,
                                    iterations: i.iterations,
                                })
                            })
                            .collect()
                    });
                (r.user.to_string(), result)
            })
            .collect())
    }

    /// Sets and deletes SCRAM credentials; one result per user.
    pub async fn alter_user_scram_credentials(
        &self,
        alterations: Vec<ScramAlteration>,
    ) -> Result<ItemResults<String, ()>> {
        let call = self.call("alter_user_scram_credentials");
        let mut by_user: BTreeMap<String, Vec<ScramAlteration>> = BTreeMap::new();
        for a in alterations {
            by_user.entry(a.user().to_string()).or_default().push(a);
        }
        // Salted once, so that a retry sends the same credential.
        let mut upsertions = Vec::new();
        let mut deletions = Vec::new();
        for a in by_user.values().flatten() {
            match a {
                ScramAlteration::Upsert {
                    user,
                    mechanism,
                    password,
                    iterations,
                } => {
                    let mut salt = [0u8; 32];
                    getrandom::fill(&mut salt).map_err(|e| {
                        AdminError::InvalidArgument(format!("no randomness for a salt: {e}"))
                    })?;
                    let rounds = u32::try_from(*iterations).unwrap_or(0);
                    upsertions.push((
                        user.clone(),
                        ScramCredentialUpsertion::default()
                            .with_name(user.as_str())
                            .with_mechanism(scram_code(*mechanism)?)
                            .with_iterations(*iterations)
                            .with_salt(Bytes::copy_from_slice(&salt))
                            .with_salted_password(Bytes::from(salted_password(
                                *mechanism,
                                password.expose(),
                                &salt,
                                rounds.max(1),
                            ))),
                    ));
                }
                ScramAlteration::Delete { user, mechanism } => deletions.push((
                    user.clone(),
                    ScramCredentialDeletion::default()
                        .with_name(user.as_str())
                        .with_mechanism(scram_code(*mechanism)?),
                )),
            }
        }
        let (upsertions, deletions) = (&upsertions, &deletions);
        router::retry_items(
            &self.client,
            &call,
            by_user.keys().cloned().collect(),
            |users| async move {
                let conn = router::any(&self.client).await?;
                let request = AlterUserScramCredentialsRequest::default()
                    .with_upsertions(
                        upsertions
                            .iter()
                            .filter(|(u, _)| users.contains(u))
                            .map(|(_, x)| x.clone())
                            .collect(),
                    )
                    .with_deletions(
                        deletions
                            .iter()
                            .filter(|(u, _)| users.contains(u))
                            .map(|(_, x)| x.clone())
                            .collect(),
                    );
                let response = conn.send(&request).await?;
                Ok(response
                    .results
                    .into_iter()
                    .map(|r| {
                        (
                            r.user.to_string(),
                            AdminError::check(r.error_code, r.error_message.as_deref()),
                        )
                    })
                    .collect())
            },
        )
        .await
    }
}
