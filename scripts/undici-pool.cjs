// What the Lambda bundles take from undici: the Pool and its request() (lib/ost/client.ts uses nothing else).
// undici's index loads every dispatcher, the mock agents, fetch, WebSocket and the cache stores (~525 kB minified);
// this is the same Pool code without them. The CLI and the tests use undici itself. Relative paths: the `undici`
// alias would also remap undici/lib/... .
'use strict';

const Dispatcher = require('../node_modules/undici/lib/dispatcher/dispatcher');
const Pool = require('../node_modules/undici/lib/dispatcher/pool');
const errors = require('../node_modules/undici/lib/core/errors');

// undici's index does the same (Object.assign(Dispatcher.prototype, api)) for every API; only request is used.
if (typeof Dispatcher.prototype.request !== 'function') Dispatcher.prototype.request = require('../node_modules/undici/lib/api/api-request');

module.exports = { Pool, Dispatcher, errors };
