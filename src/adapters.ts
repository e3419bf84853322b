/**
 * The only place the core imports adapters, and only their index.ts.
 * Adding a provider = its folder adapters/<provider>/ plus its line here.
 */
import buildkiteAdapter from '../adapters/buildkite/index.ts';
import githubAdapter from '../adapters/github/index.ts';
import gitlabAdapter from '../adapters/gitlab/index.ts';
import jenkinsAdapter from '../adapters/jenkins/index.ts';
import { registerProviders } from './providers.ts';

export const adapterFactories = registerProviders(
  githubAdapter,
  gitlabAdapter,
  jenkinsAdapter,
  buildkiteAdapter,
);
