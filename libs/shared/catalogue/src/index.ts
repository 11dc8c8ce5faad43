export { healthSubject, serviceNamed, serviceVariables, SERVICES, type ServiceEntry } from './services';
export {
  eventsOf,
  GATEWAY_NATS_USER,
  gatewayNatsPermissions,
  inboxPrefix,
  platformNatsPermissions,
  serviceNatsPermissions,
  type NatsPermissions,
} from './nats-permissions';
