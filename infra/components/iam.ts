import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { Secrets } from './secrets.js';

/**
 * Grants for one runtime's service account, each on the narrowest resource that takes it:
 * a bucket, a dataset, a table, a secret, or the project only where GCP offers nothing smaller
 * (BigQuery jobs; Firestore, narrowed by an IAM condition to one database).
 */
export class Grants {
  readonly member: pulumi.Output<string>;
  /**
   * What the runtime must wait for: Cloud Run checks secret access when it deploys a revision, and
   * the startup probe reads the store, so a revision created alongside its grants fails to deploy.
   */
  readonly resources: pulumi.Resource[] = [];

  constructor(
    private readonly prefix: string,
    account: gcp.serviceaccount.Account,
    private readonly parent: pulumi.Resource,
  ) {
    this.member = pulumi.interpolate`serviceAccount:${account.email}`;
  }

  private opts() {
    return { parent: this.parent };
  }

  bucket(label: string, bucket: gcp.storage.Bucket, role: string): void {
    this.add(
      new gcp.storage.BucketIAMMember(
        `${this.prefix}-${label}`,
        { bucket: bucket.name, role, member: this.member },
        this.opts(),
      ),
    );
  }

  dataset(label: string, datasetId: pulumi.Input<string>, role: string): void {
    this.add(
      new gcp.bigquery.DatasetIamMember(
        `${this.prefix}-${label}`,
        { datasetId, role, member: this.member },
        this.opts(),
      ),
    );
  }

  table(label: string, table: gcp.bigquery.Table, role: string): void {
    this.add(
      new gcp.bigquery.IamMember(
        `${this.prefix}-${label}`,
        { datasetId: table.datasetId, tableId: table.tableId, role, member: this.member },
        this.opts(),
      ),
    );
  }

  project(label: string, project: string, role: string): void {
    this.add(
      new gcp.projects.IAMMember(
        `${this.prefix}-${label}`,
        { project, role, member: this.member },
        this.opts(),
      ),
    );
  }

  /** roles/datastore.user, conditioned on the one Firestore database osusume uses. */
  firestore(project: string, database: string): void {
    this.add(
      new gcp.projects.IAMMember(
        `${this.prefix}-firestore`,
        {
          project,
          role: 'roles/datastore.user',
          member: this.member,
          condition: {
            title: `only ${database}`,
            expression: `resource.name == "projects/${project}/databases/${database}"`,
          },
        },
        this.opts(),
      ),
    );
  }

  /** Read access to one secret, and its value: a revision reads version `latest` when it deploys. */
  secret(secrets: Secrets, key: string): void {
    this.add(...secrets.grantAccess(key, this.member, this.prefix, this.parent));
  }

  private add(...resources: pulumi.Resource[]): void {
    this.resources.push(...resources);
  }
}
