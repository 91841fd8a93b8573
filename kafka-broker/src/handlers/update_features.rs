//! UpdateFeatures (key 57, KIP-584), over [`crate::features`].

use kafka_protocol::messages::update_features_response::UpdatableFeatureResult;
use kafka_protocol::messages::{UpdateFeaturesRequest, UpdateFeaturesResponse};
use kafka_protocol::ErrorCode;

use crate::context::RequestContext;
use crate::features::UpgradeType;
use crate::sync::lock;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &UpdateFeaturesRequest,
    version: i16,
) -> UpdateFeaturesResponse {
    let mut updates = Vec::new();
    for u in &request.feature_updates {
        // Version 0 says "may downgrade" with a flag; later versions name the kind.
        let how = if version == 0 {
            Some(if u.allow_downgrade {
                UpgradeType::SafeDowngrade
            } else {
                UpgradeType::Upgrade
            })
        } else {
            UpgradeType::from_i8(u.upgrade_type)
        };
        let Some(how) = how else {
            return UpdateFeaturesResponse::default()
                .with_error_code(ErrorCode::InvalidUpdateVersion)
                .with_error_message(Some(
                    format!(
                        "Unknown upgrade type {} for feature {}",
                        u.upgrade_type, u.feature
                    )
                    .into(),
                ));
        };
        if updates.iter().any(|(n, _, _)| *n == *u.feature) {
            return UpdateFeaturesResponse::default()
                .with_error_code(ErrorCode::InvalidRequest)
                .with_error_message(Some(
                    format!(
                        "Feature {} appears more than once in the request.",
                        u.feature
                    )
                    .into(),
                ));
        }
        updates.push((u.feature.to_string(), u.max_version_level, how));
    }
    let validate_only = version >= 1 && request.validate_only;
    let verdicts = lock(&ctx.state.features).update(&updates, validate_only);
    let first_error = verdicts.iter().find_map(|v| v.as_ref().err()).cloned();
    let results = updates
        .iter()
        .zip(&verdicts)
        .map(|((name, _, _), v)| {
            let (code, message) = match v {
                Ok(()) => (ErrorCode::None, None),
                Err((c, m)) => (*c, Some(m.clone().into())),
            };
            UpdatableFeatureResult::default()
                .with_feature(kafka_protocol::StrBytes::from(name.clone()))
                .with_error_code(code)
                .with_error_message(message)
        })
        .collect();
    let (code, message) = match first_error {
        Some((c, m)) => (c, Some(m.into())),
        None => (ErrorCode::None, None),
    };
    UpdateFeaturesResponse::default()
        .with_error_code(code)
        .with_error_message(message)
        .with_results(results)
}
