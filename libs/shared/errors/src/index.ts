export * from './codes';
export * from './operation-outcome';
export * from './platform-error';
export * from './transient';
