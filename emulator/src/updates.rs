//! Getting updates to the bot: long polling (`getUpdates`) and the webhook settings. Only one of
//! the two may be active, as in Telegram, which answers 409 to `getUpdates` under a webhook.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::{timeout_at, Instant};

use super::{
    delivery::WebhookConfig, error::ApiError, methods::Reply, params::Params, ControlError,
    Emulator,
};

/// Telegram does not hold a long poll longer than this, whatever `timeout` asks for.
const MAX_POLL_SECONDS: i64 = 50;

fn allowed_updates(params: &Params) -> Result<Option<Vec<String>>, ApiError> {
    let Some(value) = params.json("allowed_updates")? else {
        return Ok(None);
    };
    serde_json::from_value(value)
        .map(Some)
        .map_err(|_| ApiError::bad_request("can't parse allowed_updates JSON array"))
}

/// Telegram's answer to a long poll that another getUpdates replaced.
fn poll_conflict() -> ApiError {
    ApiError::Conflict(
        "terminated by other getUpdates request; make sure that only one bot instance is running"
            .into(),
    )
}

fn webhook_conflict() -> ApiError {
    ApiError::Conflict(
        "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
            .into(),
    )
}

impl Emulator {
    pub(super) async fn get_updates(&self, params: &Params) -> Result<Reply, ApiError> {
        let offset = params.i64("offset")?;
        let limit = params.i64("limit")?.unwrap_or(100).clamp(1, 100) as usize;
        let wait = params
            .i64("timeout")?
            .unwrap_or(0)
            .clamp(0, MAX_POLL_SECONDS);
        let allowed = allowed_updates(params)?;
        let deadline = Instant::now() + Duration::from_secs(wait as u64);
        let mut changes = self.inner.changes.subscribe();
        let generation = {
            let mut state = self.state().await;
            if state.webhook.is_some() {
                return Err(webhook_conflict());
            }
            state.poll_generation += 1;
            if let Some(allowed) = allowed {
                state.allowed_updates = Some(allowed);
            }
            if let Some(offset) = offset {
                state.confirm_updates(offset);
            }
            state.poll_generation
        };
        // Wakes a long poll still waiting, which then ends with 409.
        self.notify_changes();
        loop {
            changes.borrow_and_update();
            {
                let mut state = self.state().await;
                if state.webhook.is_some() {
                    return Err(webhook_conflict());
                }
                if state.poll_generation != generation {
                    return Err(poll_conflict());
                }
                state.drop_expired();
                state.discard_disallowed();
                let batch: Vec<Value> = state
                    .updates
                    .iter()
                    .take(limit)
                    .map(|u| u.body.clone())
                    .collect();
                if !batch.is_empty() || Instant::now() >= deadline {
                    return Ok(Reply::new(Value::Array(batch)));
                }
            }
            // The lock is released here: the long poll must not block the producers it awaits.
            match timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return Ok(Reply::new(json!([]))),
                Err(_elapsed) => continue,
            }
        }
    }

    pub(super) async fn set_webhook(&self, params: &Params) -> Result<Reply, ApiError> {
        let url = params.str("url").unwrap_or_default();
        if url.is_empty() {
            return self.delete_webhook(params).await;
        }
        let parsed = url::Url::parse(&url).map_err(|_| {
            ApiError::bad_request("bad webhook: Failed to resolve host: Name or service not known")
        })?;
        // Real Telegram insists on HTTPS; the emulator also accepts HTTP for loopback receivers.
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ApiError::bad_request(
                "bad webhook: An HTTPS URL must be provided for webhook",
            ));
        }
        let secret_token = params.str("secret_token").filter(|s| !s.is_empty());
        if let Some(secret) = &secret_token {
            let valid = secret.len() <= 256
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid {
                return Err(ApiError::bad_request(
                    "bad webhook: secret token contains unallowed characters",
                ));
            }
        }
        let max_connections = params.i64("max_connections")?.unwrap_or(40).clamp(1, 100);
        let allowed = allowed_updates(params)?;
        let drop_pending = params.bool("drop_pending_updates")?.unwrap_or(false);
        let config = WebhookConfig {
            url,
            secret_token,
            max_connections,
        };
        let description = {
            let mut state = self.state().await;
            if let Some(allowed) = allowed {
                state.allowed_updates = Some(allowed);
            }
            if drop_pending {
                state.updates.clear();
            }
            let unchanged = state.webhook.as_ref() == Some(&config);
            state.webhook = Some(config);
            if unchanged {
                "Webhook is already set"
            } else {
                "Webhook was set"
            }
        };
        self.ensure_delivery_worker();
        self.notify_changes();
        Ok(Reply::new(json!(true)).with_description(description))
    }

    pub(super) async fn delete_webhook(&self, params: &Params) -> Result<Reply, ApiError> {
        let drop_pending = params.bool("drop_pending_updates")?.unwrap_or(false);
        let had_webhook = {
            let mut state = self.state().await;
            if drop_pending {
                state.updates.clear();
            }
            state.webhook.take().is_some()
        };
        self.notify_changes();
        Ok(Reply::new(json!(true)).with_description(if had_webhook {
            "Webhook was deleted"
        } else {
            "Webhook is already deleted"
        }))
    }

    pub(super) async fn webhook_info(&self) -> Value {
        let mut state = self.state().await;
        state.drop_expired();
        state.discard_disallowed();
        let mut info = json!({
            "url": state.webhook.as_ref().map(|w| w.url.clone()).unwrap_or_default(),
            "has_custom_certificate": false,
            "pending_update_count": state.updates.len(),
        });
        if let Some(webhook) = &state.webhook {
            info["max_connections"] = json!(webhook.max_connections);
            if let Some(date) = state.delivery.last_error_date {
                info["last_error_date"] = json!(date);
            }
            if let Some(message) = &state.delivery.last_error_message {
                info["last_error_message"] = json!(message);
            }
        }
        if let Some(allowed) = state.allowed_updates.as_ref().filter(|a| !a.is_empty()) {
            info["allowed_updates"] = json!(allowed);
        }
        info
    }

    /// Queues a raw update (e.g. a `callback_query`) under the next `update_id`.
    pub async fn inject_update(&self, update: Value) -> Result<Value, ControlError> {
        let Value::Object(mut fields) = update else {
            return Err(ControlError::Invalid(
                "an update must be a JSON object".into(),
            ));
        };
        fields.remove("update_id");
        let mut fields = fields.into_iter();
        let (Some((kind, payload)), None) = (fields.next(), fields.next()) else {
            return Err(ControlError::Invalid(
                "an update must have exactly one field besides update_id".into(),
            ));
        };
        let update = self.state().await.queue_update(&kind, payload);
        self.notify_changes();
        Ok(update)
    }
}
