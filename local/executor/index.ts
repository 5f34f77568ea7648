// The local Step Functions executor: definition loading (definition.ts), Lambda-like invocation (lambda.ts),
// history estimates (history.ts), its records and options (types.ts) and the run loop (run.ts).
export * from './definition';
export * from './history';
export * from './lambda';
export * from './run';
export * from './types';
