/** What the gateway wires up: the sinks, demo mode's page, and the pieces another sink type (CDEvents) reuses. */
export { createSinks, type SinkBuildContext, type SinkBuilder, type SinkBuilders } from './create-sinks.ts';
export { createDemoNotificationsRoute } from './demo-notifications-route.ts';
export { isLogSink, type LoggedNotification, type LogSink } from './log-sink.ts';
export { outcomeFromError, outcomeFromStatus, parseRetryAfter } from './http-outcome.ts';
export { attemptSignal, postJson } from './post-json.ts';
export { isLoopbackHost, resolveSinkUrl, SinkConfigProblem, type SinkUrl } from './url-policy.ts';
export { webhookPayload, type NotificationWebhookPayload } from './webhook-payload.ts';
