export { startBuiltService, type BuiltService } from './built-service';
export { testCallerEnvironment, testCallerKeys, testGatewaySigner } from './caller-keys';
export { startFailingBus, stubRpc, type FailingBus, type SeenRequest } from './stub-bus';
export { gatewayAccessToken, startBuiltGateway, TEST_GATEWAY_ISSUER, type BuiltGateway } from './built-gateway';
