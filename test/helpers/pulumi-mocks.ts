/**
 * Runs the Pulumi program against Pulumi's own mocks (no CLI, no cloud): every resource the
 * program registers is recorded with its inputs. Computed outputs that GCP would fill in (emails,
 * URLs, writer identities) are faked in `newResource`, as the SDK's testing guide does.
 */
import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import { parse as parseYaml } from 'yaml';
import { readStackConfig } from '../../infra/config.js';
import { createStack } from '../../infra/stack.js';

/** A resource's inputs: provider-shaped JSON that the tests walk into freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Inputs = Record<string, any>;

export interface Recorded {
  type: string;
  name: string;
  inputs: Inputs;
  /** The names of the resources it waits for: explicit dependsOn and the outputs it reads. */
  dependencies: string[];
}

/** The part of a RegisterResourceRequest that names the resource and what it depends on. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
}

function computedState(type: string, name: string, inputs: Inputs, project: string) {
  switch (type) {
    case 'gcp:serviceaccount/account:Account':
      return { email: `${inputs.accountId}@${project}.iam.gserviceaccount.com` };
    case 'gcp:cloudrunv2/service:Service':
      return { uri: `https://${inputs.name}-abc123-an.a.run.app` };
    case 'gcp:logging/projectSink:ProjectSink':
      return {
        writerIdentity: 'serviceAccount:service-123@gcp-sa-logging.iam.gserviceaccount.com',
      };
    case 'gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig':
      return { uptimeCheckId: `${name}-check-id` };
    case 'gcp:monitoring/notificationChannel:NotificationChannel':
      return { name: `projects/${project}/notificationChannels/${name}` };
    default:
      return {};
  }
}

/** The stack file's `config:` map in the form the Pulumi engine hands to a program (all strings). */
export function stackConfig(stack: string): Record<string, string> {
  const file = parseYaml(readFileSync(`infra/Pulumi.${stack}.yaml`, 'utf8')) as {
    config: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(file.config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

export interface Deployed {
  resources: Recorded[];
  outputs: Record<string, unknown>;
  ofType(type: string): Recorded[];
  one(type: string, name: string): Recorded;
}

/** Runs the stack's functions directly; `program` instead imports the entry point Pulumi runs. */
async function runStack(): Promise<unknown> {
  const { config, secrets } = readStackConfig();
  return createStack(config, secrets);
}

export async function deployWithMocks(
  stack: string,
  config: Record<string, string>,
  secrets: Record<string, string> = {},
  program: () => Promise<unknown> = runStack,
): Promise<Deployed> {
  const resources: Recorded[] = [];
  const dependencies = new Map<string, string[]>();
  const project = config['gcp:project'] ?? 'unset';
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs }) => {
        resources.push({ type, name, inputs, dependencies: dependencies.get(`${type}::${name}`)! });
        return {
          id: `${name}-id`,
          state: { ...inputs, ...computedState(type, name, inputs, project) },
        };
      },
      call: ({ inputs }) => inputs,
    },
    'osusume',
    stack,
    false,
  );
  // The mocks' newResource is not told the dependencies; the request the monitor gets is.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, callback: unknown): void;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const urns = req.getDependenciesList();
    dependencies.set(
      `${req.getType()}::${req.getName()}`,
      urns.map((urn) => urn.slice(urn.lastIndexOf('::') + 2)),
    );
    register(req, callback);
  };
  pulumi.runtime.setAllConfig({ ...config, ...secrets }, Object.keys(secrets));
  try {
    const outputs = await resolve(await program());
    return {
      resources,
      outputs: outputs as Record<string, unknown>,
      ofType: (type) => resources.filter((r) => r.type === type),
      one: (type, name) => {
        const found = resources.filter((r) => r.type === type && r.name === name);
        if (found.length !== 1)
          throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
        return found[0]!;
      },
    };
  } finally {
    // Let every registration reach this run's mock monitor before the next run replaces it.
    await pulumi.runtime.disconnect();
    pulumi.runtime.setAllConfig({});
  }
}

/** Resolves every Output inside a plain structure. */
function resolve(value: unknown): Promise<unknown> {
  return new Promise((done) => (pulumi.output(value) as pulumi.Output<unknown>).apply(done));
}
