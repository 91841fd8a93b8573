//! Client quotas (KIP-546): describe by filter, alter per entity.

use std::collections::BTreeMap;

use kafka_protocol::messages::alter_client_quotas_request::{EntityData, EntryData, OpData};
use kafka_protocol::messages::describe_client_quotas_request::ComponentData;
use kafka_protocol::messages::{AlterClientQuotasRequest, DescribeClientQuotasRequest};

use crate::error::{AdminError, Result};
use crate::router::{self, ItemResults};
use crate::AdminClient;

/// A quota entity: entity types (`user`, `client-id`, `ip`) to names, `None` for the type's
/// default entity.
pub type QuotaEntity = BTreeMap<String, Option<String>>;

/// One component of a [`AdminClient::describe_client_quotas`] filter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuotaFilter {
    /// Entities whose `entity_type` is this name.
    Exact(String, String),
    /// Entities with the default of `entity_type`.
    Default(String),
    /// Entities with any `entity_type` component.
    Any(String),
}

/// The changes to one entity's quotas: key to `Some(value)` to set, `None` to remove.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaAlteration {
    /// The entity.
    pub entity: QuotaEntity,
    /// The changes.
    pub ops: BTreeMap<String, Option<f64>>,
}

impl AdminClient {
    /// The quotas of the entities matching every component of `filter`; with `strict`, only
    /// entities with no other component types.
    pub async fn describe_client_quotas(
        &self,
        filter: &[QuotaFilter],
        strict: bool,
    ) -> Result<Vec<(QuotaEntity, BTreeMap<String, f64>)>> {
        let call = self.call("describe_client_quotas");
        router::retry(&self.client, &call, || async {
            let conn = router::any(&self.client).await?;
            let request = DescribeClientQuotasRequest::default()
                .with_strict(strict)
                .with_components(
                    filter
                        .iter()
                        .map(|f| {
                            let (t, kind, name) = match f {
                                QuotaFilter::Exact(t, n) => (t, 0, Some(n.as_str().into())),
                                QuotaFilter::Default(t) => (t, 1, None),
                                QuotaFilter::Any(t) => (t, 2, None),
                            };
                            ComponentData::default()
                                .with_entity_type(t.as_str())
                                .with_match_type(kind)
                                .with_match(name)
                        })
                        .collect(),
                );
            let response = conn.send(&request).await?;
            if let Some(e) =
                AdminError::from_code(response.error_code, response.error_message.as_deref())
            {
                return Err(e);
            }
            Ok(response
                .entries
                .unwrap_or_default()
                .into_iter()
                .map(|e| {
                    (
                        e.entity
                            .into_iter()
                            .map(|c| {
                                (
                                    c.entity_type.to_string(),
                                    c.entity_name.map(|n| n.to_string()),
                                )
                            })
                            .collect(),
                        e.values
                            .into_iter()
                            .map(|v| (v.key.to_string(), v.value))
                            .collect(),
                    )
                })
                .collect())
        })
        .await
    }

    /// Sets and removes quotas, per entity.
    pub async fn alter_client_quotas(
        &self,
        alterations: Vec<QuotaAlteration>,
    ) -> Result<ItemResults<QuotaEntity, ()>> {
        let call = self.call("alter_client_quotas");
        let validate_only = self.validate_only;
        let by_entity: BTreeMap<QuotaEntity, BTreeMap<String, Option<f64>>> =
            alterations.into_iter().map(|a| (a.entity, a.ops)).collect();
        let by_entity = &by_entity;
        router::retry_items(
            &self.client,
            &call,
            by_entity.keys().cloned().collect(),
            |entities| async move {
                let conn = router::any(&self.client).await?;
                let request = AlterClientQuotasRequest::default()
                    .with_validate_only(validate_only)
                    .with_entries(
                        entities
                            .iter()
                            .filter_map(|e| by_entity.get_key_value(e))
                            .map(|(entity, ops)| {
                                EntryData::default()
                                    .with_entity(
                                        entity
                                            .iter()
                                            .map(|(t, n)| {
                                                EntityData::default()
                                                    .with_entity_type(t.as_str())
                                                    .with_entity_name(n.as_deref().map(Into::into))
                                            })
                                            .collect(),
                                    )
                                    .with_ops(
                                        ops.iter()
                                            .map(|(k, v)| {
                                                OpData::default()
                                                    .with_key(k.as_str())
                                                    .with_value(v.unwrap_or(0.0))
                                                    .with_remove(v.is_none())
                                            })
                                            .collect(),
                                    )
                            })
                            .collect(),
                    );
                let response = conn.send(&request).await?;
                Ok(response
                    .entries
                    .into_iter()
                    .map(|e| {
                        let entity: QuotaEntity = e
                            .entity
                            .into_iter()
                            .map(|c| {
                                (
                                    c.entity_type.to_string(),
                                    c.entity_name.map(|n| n.to_string()),
                                )
                            })
                            .collect();
                        let result = AdminError::check(e.error_code, e.error_message.as_deref());
                        (entity, result)
                    })
                    .collect())
            },
        )
        .await
    }
}
