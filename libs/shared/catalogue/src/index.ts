export {
  healthSubject,
  serviceNamed,
  serviceVariables,
  SERVICES,
  streamingEnvironment,
  type ServiceEntry,
} from './services';
export {
  eventsOf,
  GATEWAY_NATS_USER,
  gatewayNatsPermissions,
  inboxPrefix,
  platformNatsPermissions,
  serviceNatsPermissions,
  type NatsPermissions,
} from './nats-permissions';
