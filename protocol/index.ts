export * from './config.js';
export * from './search.js';
export * from './lsp-methods.js';
export * from './limits.js';
