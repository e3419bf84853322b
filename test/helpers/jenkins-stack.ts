import { createJenkinsSimulator, type JenkinsSimulator, type JenkinsSimulatorOptions } from '../../adapters/jenkins/simulator/index.ts';
import { startGatewayStack, type SimulatorStack } from './gateway-stack.ts';

export const JENKINS_USER = 'switchyard-bot';
export const JENKINS_TOKEN = 'jenkins-test-api-token';
export const NOTIFY_SECRET = 'jenkins-notify-secret';

export type JenkinsStack = SimulatorStack<JenkinsSimulator>;

export interface JenkinsStackOptions {
  readonly sim?: Omit<JenkinsSimulatorOptions, 'user' | 'apiToken'>;
  /** Extra keys for the jenkins backends[] entry. */
  readonly backend?: Record<string, unknown>;
  /** Configure `notifySecret` (default true). */
  readonly notify?: boolean;
  /** Let the core's scheduler poll on its own (default false: tests call pollNow). */
  readonly polling?: boolean;
  /** Gateway-level config keys besides the backend (e.g. `tracing`). */
  readonly config?: Record<string, unknown>;
}

/** A real gateway on an ephemeral loopback port over a real Jenkins simulator (backend name `jk`). */
export async function startJenkinsStack(options: JenkinsStackOptions = {}): Promise<JenkinsStack> {
  const sim = createJenkinsSimulator({ user: JENKINS_USER, apiToken: JENKINS_TOKEN, seed: 11, history: 2, ...options.sim });
  await sim.start();
  const stack = await startGatewayStack(
    {
      ...options.config,
      backends: [
        {
          name: 'jk',
          provider: 'jenkins',
          url: sim.url,
          user: JENKINS_USER,
          apiToken: { value: JENKINS_TOKEN },
          ...(options.notify === false ? {} : { notifySecret: { value: NOTIFY_SECRET } }),
          requestsPerMinute: 10_000,
          ...options.backend,
        },
      ],
    },
    { polling: options.polling ?? false, onClose: () => sim.stop() },
  );
  return { ...stack, sim };
}
