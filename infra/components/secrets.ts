import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

export interface SecretsArgs {
  environment: string;
  labels: Record<string, string>;
  /** Secret id suffix -> value from `pulumi config set --secret` (absent: add a version with gcloud). */
  values: Record<string, pulumi.Output<string> | undefined>;
}

/**
 * Secret Manager secrets. Values never appear in code: they come from encrypted stack config,
 * or an operator adds them with `gcloud secrets versions add`. Runtimes get access per secret.
 */
export class Secrets extends pulumi.ComponentResource {
  readonly secrets: Record<string, gcp.secretmanager.Secret> = {};
  private readonly versions: Record<string, gcp.secretmanager.SecretVersion> = {};

  constructor(name: string, args: SecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('osusume:security:Secrets', name, {}, opts);
    for (const [key, value] of Object.entries(args.values)) {
      const secret = new gcp.secretmanager.Secret(
        `${name}-${key}`,
        {
          secretId: `osusume-${args.environment}-${key}`,
          replication: { auto: {} },
          labels: args.labels,
        },
        { parent: this },
      );
      if (value)
        this.versions[key] = new gcp.secretmanager.SecretVersion(
          `${name}-${key}-value`,
          { secret: secret.id, secretData: value },
          { parent: this },
        );
      this.secrets[key] = secret;
    }
    this.registerOutputs({});
  }

  /**
   * The one role a runtime needs to read one secret, granted on that secret only; returns the
   * grant and the secret's value (when the stack sets it) for the runtime to depend on.
   */
  grantAccess(
    key: string,
    member: pulumi.Input<string>,
    grantee: string,
    parent: pulumi.Resource,
  ): pulumi.Resource[] {
    const secret = this.secrets[key];
    if (!secret)
      throw new Error(
        `No secret "${key}" in this stack; known: ${Object.keys(this.secrets).join(', ')}`,
      );
    const access = new gcp.secretmanager.SecretIamMember(
      `${grantee}-reads-${key}`,
      { secretId: secret.id, role: 'roles/secretmanager.secretAccessor', member },
      { parent },
    );
    const version = this.versions[key];
    return version ? [access, version] : [access];
  }
}
