// The OST client package: everything callers need, from one import.
export * from './errors';
export * from './signing';
export * from './multipart';
export * from './retry';
export * from './client';
export * from './send';
export type { ByteSource } from './source';
