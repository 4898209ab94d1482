import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

/**
 * Grants for one runtime's service account, each on the narrowest resource that takes it:
 * a bucket, a dataset, a table, a secret, or the project only where GCP offers nothing smaller
 * (BigQuery jobs; Firestore, narrowed by an IAM condition to one database).
 */
export class Grants {
  readonly member: pulumi.Output<string>;

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
    new gcp.storage.BucketIAMMember(
      `${this.prefix}-${label}`,
      { bucket: bucket.name, role, member: this.member },
      this.opts(),
    );
  }

  dataset(label: string, datasetId: pulumi.Input<string>, role: string): void {
    new gcp.bigquery.DatasetIamMember(
      `${this.prefix}-${label}`,
      { datasetId, role, member: this.member },
      this.opts(),
    );
  }

  table(label: string, table: gcp.bigquery.Table, role: string): void {
    new gcp.bigquery.IamMember(
      `${this.prefix}-${label}`,
      { datasetId: table.datasetId, tableId: table.tableId, role, member: this.member },
      this.opts(),
    );
  }

  project(label: string, project: string, role: string): void {
    new gcp.projects.IAMMember(
      `${this.prefix}-${label}`,
      { project, role, member: this.member },
      this.opts(),
    );
  }

  /** roles/datastore.user, conditioned on the one Firestore database osusume uses. */
  firestore(project: string, database: string): void {
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
    );
  }
}
