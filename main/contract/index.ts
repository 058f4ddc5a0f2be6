export * from './errors.js';
export * from './geometry.js';
export * from './schemas.js';
export * from './procedures.js';
export * from './validate.js';
export * from './bridge.js';
