import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

export interface PrivateBucketArgs {
  name: string;
  location: pulumi.Input<string>;
  labels: Record<string, string>;
  protect: boolean;
  /** Delete live objects this many days after creation (artifacts are rebuilt nightly). */
  deleteAfterDays?: number;
  /** Older versions kept per object before they are deleted. */
  keepVersions: number;
}

/** A bucket nobody outside the project can read: uniform IAM, public access prevented, versioned. */
export class PrivateBucket extends pulumi.ComponentResource {
  readonly bucket: gcp.storage.Bucket;

  constructor(name: string, args: PrivateBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super('osusume:storage:PrivateBucket', name, {}, opts);
    const lifecycleRules: gcp.types.input.storage.BucketLifecycleRule[] = [
      {
        action: { type: 'Delete' },
        condition: { numNewerVersions: args.keepVersions, withState: 'ARCHIVED' },
      },
    ];
    if (args.deleteAfterDays)
      lifecycleRules.push({
        action: { type: 'Delete' },
        condition: { age: args.deleteAfterDays, withState: 'LIVE' },
      });
    this.bucket = new gcp.storage.Bucket(
      name,
      {
        name: args.name,
        location: args.location,
        uniformBucketLevelAccess: true,
        publicAccessPrevention: 'enforced',
        versioning: { enabled: true },
        lifecycleRules,
        forceDestroy: !args.protect,
        labels: args.labels,
      },
      { parent: this, protect: args.protect },
    );
    this.registerOutputs({ bucket: this.bucket.name });
  }
}
