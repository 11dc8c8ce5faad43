export { startBuiltService, type BuiltService } from './built-service';
export { testCallerEnvironment, testCallerKeys, testGatewaySigner } from './caller-keys';
