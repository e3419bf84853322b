export * from './types.ts';
export * from './scope.ts';
export * from './auth-config.ts';
export * from './api-keys.ts';
export * from './jwt.ts';
export * from './authenticate.ts';
