import { createGitlabSimulator, type GitlabSimulator, type GitlabSimulatorOptions } from '../../adapters/gitlab/simulator/index.ts';
import { createGithubSimulator, type GithubSimulator, type GithubSimulatorOptions } from '../../adapters/github/simulator/index.ts';
import { startGatewayStack, type SimulatorStack } from './gateway-stack.ts';
import { GITHUB_TOKEN, WEBHOOK_SECRET as GITHUB_WEBHOOK_SECRET } from './stack.ts';

export const GITLAB_TOKEN = 'glpat-test-token-0123456789';
export const GITLAB_WEBHOOK_TOKEN = 'gitlab-hook-secret';
export const GITLAB_SIGNING_TOKEN = `whsec_${Buffer.from('switchyard-test-signing-key-32by').toString('base64')}`;

export interface GitlabStack extends SimulatorStack<GitlabSimulator> {
  readonly github: GithubSimulator | null;
  /** POSTs a raw webhook delivery to /webhooks/gl. */
  post(body: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }>;
}

export interface GitlabStackOptions {
  readonly sim?: Omit<GitlabSimulatorOptions, 'webhook' | 'token'>;
  readonly backend?: Record<string, unknown>;
  /** Also run a GitHub simulator as backend `gh` (webhooks on). */
  readonly github?: Omit<GithubSimulatorOptions, 'webhook' | 'token'>;
  readonly signing?: boolean;
  readonly logSink?: (line: string) => void;
  /** More gateway config (e.g. history, auth). */
  readonly config?: Record<string, unknown>;
}

/** A real gateway on loopback with a GitLab simulator as backend `gl` (signed hooks by default). */
export async function startGitlabStack(options: GitlabStackOptions = {}): Promise<GitlabStack> {
  const sim = createGitlabSimulator({ token: GITLAB_TOKEN, seed: 11, ...options.sim });
  await sim.start();
  const github = options.github ? createGithubSimulator({ token: GITHUB_TOKEN, seed: 7, ...options.github }) : null;
  await github?.start();
  const signing = options.signing ?? true;
  const stack = await startGatewayStack(
    {
      ...options.config,
      backends: [
        {
          name: 'gl',
          provider: 'gitlab',
          url: sim.url,
          token: { value: GITLAB_TOKEN },
          webhookToken: { value: GITLAB_WEBHOOK_TOKEN },
          ...(signing ? { webhookSigningToken: { value: GITLAB_SIGNING_TOKEN } } : {}),
          groups: [sim.world.group],
          runners: { scope: 'groups' },
          ...options.backend,
        },
        ...(github
          ? [{
              name: 'gh', provider: 'github', url: github.url, token: { value: GITHUB_TOKEN },
              webhookSecret: { value: GITHUB_WEBHOOK_SECRET }, organizations: ['octo-org'], runners: { organizations: ['octo-org'] },
            }]
          : []),
      ],
    },
    {
      logSink: options.logSink,
      onClose: async () => {
        await sim.stop();
        await github?.stop();
      },
    },
  );
  const { base } = stack;
  sim.setWebhook({ url: `${base}/webhooks/gl`, token: GITLAB_WEBHOOK_TOKEN, ...(signing ? { signingToken: GITLAB_SIGNING_TOKEN } : {}) });
  github?.setWebhook({ url: `${base}/webhooks/gh`, secret: GITHUB_WEBHOOK_SECRET });
  return {
    ...stack,
    sim,
    github,
    async post(body, headers) {
      const res = await fetch(`${base}/webhooks/gl`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed };
    },
  };
}
