export * from './config.js';
export * from './search.js';
