/**
 * The only place the core imports adapters, and only their index.ts.
 * Adding a provider = one line here plus adapters/<provider>/.
 */
import githubAdapter from '../adapters/github/index.ts';
import gitlabAdapter from '../adapters/gitlab/index.ts';
import jenkinsAdapter from '../adapters/jenkins/index.ts';
import type { AdapterFactory } from './adapter-contract.ts';
import type { AdapterFactories } from './config/load-config.ts';

export const adapterFactories: AdapterFactories = {
  github: githubAdapter as AdapterFactory<unknown>,
  gitlab: gitlabAdapter as AdapterFactory<unknown>,
  jenkins: jenkinsAdapter as AdapterFactory<unknown>,
};
