/** Public surface of alerts (rules, destinations, the durable delivery queue). */
export { AlertDeliverer, backoffMs, DELIVERY_DEFAULTS, type DeliveryOptions } from "./deliver.js";
export { AlertEngine, type StepResult } from "./engine.js";
export {
  deliveryStateSchema,
  destinationInputSchema,
  parseDuration,
  ruleInputSchema,
  type DestinationInput,
  type RuleInput,
} from "./input.js";
export { type AlertPayload, slackEscape, slackMessage, truncateTitle } from "./message.js";
export { startAlerts, DEFAULT_ALERT_INTERVAL_MS, type AlertRunner } from "./runner.js";
export { DestinationSecrets, secretEnvName } from "./secrets.js";
export { AlertSendError, sendAlert } from "./send.js";
export {
  AlertConfigError,
  type AlertConfigErrorCode,
  AlertService,
  checkDestinationUrl,
  ROTATION_OVERLAP_MS,
  type PublicDestination,
  type PublicRule,
} from "./service.js";
export { newSigningSecret, signature, verifyWebhook, webhookHeaders } from "./signing.js";
