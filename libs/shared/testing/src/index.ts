export { dropSchema, freePort, startTestNats, testDatabaseUrl, uniqueName, type TestNats } from './infrastructure';
export { referencePath } from './reference';
export { rejectionOf, type CodedError } from './rejection';
export { startServiceUnderTest, type Closable, type ServiceUnderTest } from './service-under-test';
export { allAtOnce, outcomes, tally } from './concurrency';
export { documentedSubjects } from './messaging-doc';
export { startTestJwks, type TestJwks } from './jwks';
export { skippableClock } from './clock';
